"""Shared fixtures: configs composed with Hydra's compose API; outputs only under tmp_path."""

from __future__ import annotations

import pytest

from sim.model.compose import load_config


@pytest.fixture(scope="session")
def status_quo():
    """The status-quo config (compose once per session; copy before changing)."""
    return load_config("status_quo")


def small(scenario: str = "status_quo", years: int = 2, overrides=()):
    """A shrunken config: short horizon, fewer non-state actors."""
    return load_config(
        scenario,
        [
            f"years={years}",
            "population.counts.business=30",
            "population.counts.civil_society=40",
            "population.counts.technical=15",
            "population.counts.igo=5",
            *overrides,
        ],
    )
