"""Scope rules: which issues a forum may take up.

``rule(kinds, names, forum) -> mask`` where ``kinds`` is an array of issue kinds
("public_policy" or "technical") and ``names`` the issue names. The Tunis
Agenda (¶35, ¶69) separates
international public-policy issues from the day-to-day technical and
operational matters of the Internet; enhanced cooperation is about the former.
"""

from __future__ import annotations

import numpy as np

from sim.model.forums.registry import register


@register("scope", "all", source="–")
def all_issues(kinds: np.ndarray, names=None, forum=None) -> np.ndarray:
    """Every issue."""
    return np.ones(len(kinds), bool)


@register("scope", "public_policy", source="Tunis Agenda ¶35, ¶69")
def public_policy_only(kinds: np.ndarray, names=None, forum=None) -> np.ndarray:
    """International public-policy issues only (the Tunis Agenda's enhanced cooperation)."""
    return np.asarray(kinds) == "public_policy"


@register(
    "scope", "technical", source="Tunis Agenda ¶69 (day-to-day technical and operational matters)"
)
def technical_only(kinds: np.ndarray, names=None, forum=None) -> np.ndarray:
    """Technical and operational issues only (with their public-policy aspects, as at the GAC)."""
    return np.asarray(kinds) == "technical"


@register("scope", "listed", source="ASSUMPTION (emerging-issues forum)", params=("scope_issues",))
def listed_issues(kinds: np.ndarray, names, forum) -> np.ndarray:
    """Only the issues named in ``forum.scope_issues`` (e.g. emerging issues: AI, cybersecurity)."""
    return np.isin(np.asarray(names), list(forum.scope_issues))
