"""Predict who takes part in a named meeting: the model checked against a new meeting.

:func:`predict_meeting` simulates one meeting of a forum held in a given host
country under a behaviour config (default: the calibrated one) and returns the
people-weighted shares by stakeholder group, by UN regional group and by mode
(onsite vs registered remote), with the mean and an interval over replicates.

It uses exactly the machinery of the calibration (:mod:`sim.analysis.calibration`):
the scenario's year 1 with the forum held in ``host_country``; replicate ``r``
runs on the stream ``SeedSequence(root_seed, spawn_key=(stream, r))``. So with the
calibration's root seed and stream it reproduces the fit table's simulated shares.

``year`` is the meeting's calendar year: it is the run's ``first_year``, which
moves the remote cost along its calendar trend (``behaviour.remote_cost_trend``; 0 in
the shipped behaviours, so then the year changes nothing; no pandemic shock), and, when
``host_country`` is omitted, it picks the host from the forum's host calendar.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.calibration import (
    STAKEHOLDERS,
    IGFObservedModel,
    attendance_weights,
    simulated_shares,
)
from sim.model import venue
from sim.model.compose import load_config
from sim.model.config import REGIONS, ForumConfig
from sim.resources import DATA_DIR

MODES = ("onsite", "remote")


def prediction_targets(basis: str = "all") -> pd.DataFrame:
    """The shares a prediction reports: every stakeholder group, region and mode."""
    rows = [("stakeholder", basis, c) for c in STAKEHOLDERS]
    rows += [("region", basis, c) for c in REGIONS]
    rows += [("mode", "all", c) for c in MODES]
    return pd.DataFrame(rows, columns=["dimension", "basis", "category"])


def _host_of(forum: str, year: int, calendar_name: str) -> str:
    cal = venue.calendar(calendar_name)
    row = cal[cal["year"] == year]
    if row.empty:
        raise ValueError(
            f"no {forum} meeting in {year} in the host calendar; pass host_country (ISO3)"
        )
    return str(row.iloc[0]["host_iso3"])


def predict_meeting(
    forum: str = "igf",
    host_country: str | None = None,
    year: int | None = None,
    behaviour: str = "calibrated",
    replicates: int = 8,
    scenario: str = "status_quo",
    overrides: Sequence[str] = (),
    basis: str = "all",
    root_seed: int = 0,
    stream: int = 0,
    level: float = 0.9,
) -> pd.DataFrame:
    """Simulate one meeting and return its participation shares with intervals.

    Parameters
    ----------
    forum
        Forum name in the scenario (``igf``, ``gac``, ``cstd``...).
    host_country
        ISO3 code of the host (None: the forum's calendar host in ``year``).
    year
        Calendar year of the meeting: ``first_year`` of the run, which sets the remote
        cost's calendar trend (``behaviour.remote_cost_trend``); None: the scenario's.
    behaviour
        Behaviour config group (``calibrated``, ``default``).
    replicates
        Independent runs; the interval is their central ``level`` quantile range.
    scenario, overrides
        The world the meeting sits in (default: the status quo).
    basis
        ``all`` (onsite + registered remote) or ``onsite`` for the group and region
        shares; the mode shares are always of all participants.
    root_seed, stream
        Replicate r uses ``SeedSequence(root_seed, spawn_key=(stream, r))``.

    Returns
    -------
    DataFrame with dimension, basis, category, mean, sd, low, high (shares in [0, 1]),
    and attrs ``host_country``, ``year``, ``forum``.
    """
    cfg0 = load_config(scenario, [f"behaviour={behaviour}", *overrides])
    if forum not in cfg0.forum:
        raise ValueError(f"forum={forum!r} is not in scenario {scenario}; choose one of: "
                         f"{', '.join(cfg0.forum)}")  # fmt: skip
    if host_country is None:
        cal = cfg0.forum[forum].host_calendar
        if not cal or year is None:
            raise ValueError(f"{forum} has no host calendar; pass host_country (ISO3)")
        host_country = _host_of(forum, year, cal)
    venue.country_index(host_country)  # ValueError naming the code if unknown
    cfg = load_config(
        scenario,
        [
            f"behaviour={behaviour}",
            *overrides,
            "years=1",
            f"forum.{forum}.host_country={host_country}",
            *([f"first_year={year}"] if year is not None else []),
        ],
    )
    targets = prediction_targets(basis)
    sims = np.full((replicates, len(targets)), np.nan)
    for r in range(replicates):
        seed = np.random.SeedSequence(root_seed, spawn_key=(stream, r))
        model = IGFObservedModel(config=cfg, rng=seed, observed_forum=forum).run()
        sims[r] = simulated_shares(attendance_weights(model), targets)
    q = (1 - level) / 2
    out = targets.copy()
    out["mean"] = sims.mean(axis=0)
    out["sd"] = sims.std(axis=0, ddof=1) if replicates > 1 else np.nan
    out["low"] = np.quantile(sims, q, axis=0)
    out["high"] = np.quantile(sims, 1 - q, axis=0)
    out.attrs.update(forum=forum, host_country=host_country, year=year, replicates=replicates)
    return out


def host_calendar_shares(
    behaviour: str = "calibrated",
    replicates: int = 3,
    overrides: Sequence[str] = (),
    scenario: str = "status_quo",
    root_seed: int = 0,
) -> pd.DataFrame:
    """Simulated region shares at every in-person IGF of the host calendar 2006-2025.

    One row per (meeting, basis, region): meeting, year, host_country, host_region,
    basis (``onsite`` or ``all``), region, hosting (the region is the host's), and the
    mean share over ``replicates`` runs (streams ``(year, r)``).
    """
    cal = venue.calendar("igf")
    both = pd.concat([prediction_targets("onsite"), prediction_targets("all")])
    both = both[both["dimension"] == "region"].reset_index(drop=True)
    rows = []
    for _, m in cal.iterrows():
        cfg = load_config(scenario, [f"behaviour={behaviour}", *overrides, "years=1",
                                     f"forum.igf.host_country={m['host_iso3']}",
                                     f"first_year={int(m['year'])}"])  # fmt: skip
        sims = np.zeros((replicates, len(both)))
        for r in range(replicates):
            seed = np.random.SeedSequence(root_seed, spawn_key=(int(m["year"]), r))
            model = IGFObservedModel(config=cfg, rng=seed).run()
            sims[r] = simulated_shares(attendance_weights(model), both)
        for i, row in both.iterrows():
            rows.append({
                "meeting": m["meeting"], "year": int(m["year"]), "host_country": m["host_iso3"],
                "host_region": _group_of(m["host_iso3"]),
                "basis": row["basis"], "region": row["category"],
                "hosting": _group_of(m["host_iso3"]) == row["category"],
                "share": sims[:, i].mean(),
            })  # fmt: skip
    return pd.DataFrame(rows)


def _group_of(iso3: str) -> str:
    return REGIONS[venue.meeting_venue(ForumConfig(host_country=iso3), 0).region]


def meeting_attendance(
    forum: str = "gac",
    behaviour: str = "calibrated",
    replicates: int = 5,
    years: int = 3,
    scenario: str = "status_quo",
    overrides: Sequence[str] = (),
    root_seed: int = 0,
) -> pd.DataFrame:
    """Members attending each meeting of ``forum``, onsite and remote, over replicates.

    One row per meeting (``meeting`` 1, 2, ...; ``host_country``): eligible members
    and, for members onsite, members remote, observers onsite, grants taken up and
    people onsite, the mean, min and max over ``replicates`` runs of ``years`` years.
    """
    cfg = load_config(scenario, [f"behaviour={behaviour}", *overrides, f"years={years}"])
    if forum not in cfg.forum:
        raise ValueError(f"forum={forum!r} is not in scenario {scenario}")
    rows = []
    for r in range(replicates):
        model = _AllMeetings(config=cfg, rng=np.random.SeedSequence(root_seed, spawn_key=(r,)),
                             observed_forum=forum).run()  # fmt: skip
        for k, (res, iso3) in enumerate(model.kept, start=1):
            member = res.roles == 3
            rows.append({
                "replicate": r, "meeting": k, "host_country": iso3,
                "members": int(member.sum()),
                "members_onsite": int((member & (res.modes == 2)).sum()),
                "members_remote": int((member & (res.modes == 1)).sum()),
                "observers_onsite": int((~member & (res.modes == 2)).sum()),
                "grants_taken": int(res.funded.sum()),
                "people_onsite": float(res.delegates[res.modes == 2].sum()),
            })  # fmt: skip
    df = pd.DataFrame(rows)
    value = [c for c in df.columns if c not in ("replicate", "meeting", "host_country")]
    out = df.groupby(["meeting", "host_country"])[value].agg(["mean", "min", "max"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    return out.reset_index()


class _AllMeetings(IGFObservedModel):
    """Keeps every meeting result of the observed forum (with its host country)."""

    def __init__(self, *args, **kwargs):
        self.kept = []
        super().__init__(*args, **kwargs)

    def _meeting(self, fi, year):
        res = super()._meeting(fi, year)
        if res is not None and self.forum_names[fi] == self.observed_forum:
            self.kept.append((res, res.host_country))
        return res


def ga_highest_vote() -> int:
    """The most states voting in a recorded GA plenary vote (``sim/data/unga_votes.csv``)."""
    return int(pd.read_csv(DATA_DIR / "unga_votes.csv", comment="#")["voting"].max())


def ga_mean_present(
    behaviour: str = "default", overrides: Sequence[str] = (), replicates: int = 4, years: int = 3
) -> float:
    """Mean member states present per General Assembly plenary (status quo; the runs of
    :func:`least_mission_duty`)."""
    t = meeting_attendance("unga", behaviour, replicates, years, "status_quo", overrides)
    return float(t["members_onsite_mean"].mean())


def least_mission_duty(
    behaviour: str = "default",
    overrides: Sequence[str] = (),
    step: float = 0.05,
    stop: float = 5.0,
    replicates: int = 4,
    years: int = 3,
) -> float:
    """The least ``behaviour.mission_duty`` on a ``step`` grid at which the General Assembly's
    mean attendance reaches its highest recorded vote.

    Recorded votes count the states voting, a lower bound on those present at that plenary
    (``sim/data/unga_votes.csv``, 166-182); the model's attendance barely varies between
    plenaries, so its mean must reach the highest. Status quo, ``replicates`` runs of
    ``years`` years, the same streams at every value; bisection over the grid (attendance
    rises with the duty). ECOSOC's recorded votes are not used: they check the value.
    """
    target = ga_highest_vote()

    def present(i: int) -> float:
        duty = f"behaviour.mission_duty={round(i * step, 10)}"
        return ga_mean_present(behaviour, [*overrides, duty], replicates, years)

    lo, hi = 0, int(round(stop / step))
    if present(hi) < target:
        raise ValueError(f"mission_duty {stop} does not bring the GA to {target:.0f} states")
    while lo < hi:  # invariant: present(hi) >= target
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if present(mid) >= target else (mid + 1, hi)
    return round(hi * step, 10)


def attendance_profile(
    key: str,
    values: Sequence[float],
    forum: str = "gac",
    behaviour: str = "calibrated",
    replicates: int = 3,
    years: int = 2,
    scenario: str = "status_quo",
    overrides: Sequence[str] = (),
) -> pd.DataFrame:
    """Members onsite and remote per meeting of ``forum`` at each value of config ``key``.

    One row per value (column ``value``): the mean over meetings and replicates of members
    onsite and members remote, with the lowest and highest meeting mean. The same streams at
    every value (:func:`meeting_attendance`), so the rows differ by the value only. This is
    how the GAC's ``forum.gac.remote_fixed_cost`` was chosen against its pre-2020
    communiques (docs/participation.md §3) and each behaviour's ``behaviour.mission_duty``
    against the General Assembly's recorded votes (§3b).
    """
    rows = []
    for v in values:
        t = meeting_attendance(forum, behaviour, replicates, years, scenario,
                               [*overrides, f"{key}={v}"])  # fmt: skip
        row = {"value": float(v)}
        for what in ("members_onsite", "members_remote"):
            mean = t[f"{what}_mean"]
            row |= {what: mean.mean(), f"{what}_low": mean.min(), f"{what}_high": mean.max()}
        rows.append(row)
    return pd.DataFrame(rows)
