"""Named-rule registries: a forum chooses each of its rules by name, and each rule describes itself.

A rule is a small pure function. ``@register("voice", "equal", source=..., params=...)``
files it under its kind together with a :class:`RuleInfo`: a one-line description,
the paper or document it comes from, the :class:`~sim.model.config.ForumConfig`
fields it reads and, for decision and ratification rules, whether it decides at all
and the a priori voting game it implies (:class:`VotingGame`).

:data:`RULES` maps each kind to its ``{name: function}`` table, which config
validation reads, so a new rule is valid as soon as it is registered and a wrong
name lists the valid ones. Everything outside the rule modules that needs to know
what a rule does — the run summary's power indices, whether a meeting is
decisional, the dashboard's levers, the reference implementation, the rule table
in ``docs/ODD.md`` (:func:`rule_table`) — asks :func:`describe` instead of matching
rule names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from sim.model.config import ForumConfig

RULE_KINDS = (
    "membership",
    "scope",
    "attendance",
    "support",
    "voice",
    "deliberation",
    "decision",
    "ratification",
)

VOTERS = ("members", "board")
"""Who plays a rule's voting game: the forum's members, or its ratifying board's directors."""

FORUM_FIELDS = frozenset(f.name for f in dataclasses.fields(ForumConfig))


@dataclass(frozen=True)
class VotingGame:
    """The a priori voting game a rule implies, for power indices (:mod:`sim.model.power`).

    One vote per voter; a coalition of ``n`` voters' worth wins with
    ``quota(n, forum)`` votes (a symmetric simple game, so each voter's index is
    ``1/n`` and a group's power is its share of the voters, whatever the quota;
    the quota matters once voters differ or a rule weights votes).

    Attributes
    ----------
    voters : str
        ``"members"`` (the forum's members in the final year) or ``"board"`` (the
        ratifying board's directors, ``forum.board_seats``). Board games report
        their indices as ``board_*`` metrics: the power to decline.
    quota : callable
        ``quota(n, forum) -> int``: votes needed to win among ``n`` voters (<= 0: the
        proposal passes whatever anyone votes, e.g. fewer members than it takes to block).
    formula : str
        The quota as a formula, for the docs (``"max(⌊n/2⌋+1, ⌈threshold·n⌉)"``).
    share : str or None
        The ForumConfig field holding the share of votes the quota asks for, when
        there is one (the dashboard's supermajority lever sets it).
    """

    voters: str
    quota: Callable[[int, ForumConfig], int]
    formula: str
    share: str | None = None

    def __post_init__(self) -> None:
        if self.voters not in VOTERS:
            raise ValueError(f"voters={self.voters!r}; choose one of: {', '.join(VOTERS)}")
        if self.share is not None and self.share not in FORUM_FIELDS:
            raise ValueError(f"share={self.share!r} is not a ForumConfig field")


@dataclass(frozen=True)
class RuleInfo:
    """What a registered rule is and does.

    Attributes
    ----------
    kind, name : str
        Where it is filed: ``RULES[kind][name]``.
    function : callable
        The rule itself.
    description : str
        One line: what it does.
    source : str
        The paper or document it comes from ("ASSUMPTION" or "benchmark" where none).
    params : tuple of str
        The ForumConfig fields it reads (checked at registration).
    decides : bool
        Decision rules: False for a chair's summary (the forum adopts nothing, its
        meetings are not decisional). True for every other rule.
    game : VotingGame or None
        The voting game it implies, for power indices (None: no game, e.g. a
        chair's summary, or not a collective choice).
    """

    kind: str
    name: str
    function: Callable
    description: str
    source: str
    params: tuple[str, ...] = ()
    decides: bool = True
    game: VotingGame | None = None


RULES: dict[str, dict[str, Callable]] = {kind: {} for kind in RULE_KINDS}
RULE_INFO: dict[str, dict[str, RuleInfo]] = {kind: {} for kind in RULE_KINDS}


def _first_line(fn: Callable) -> str:
    doc = (fn.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def register(
    kind: str,
    name: str,
    *,
    source: str,
    params: tuple[str, ...] = (),
    description: str | None = None,
    decides: bool = True,
    game: VotingGame | None = None,
) -> Callable[[Callable], Callable]:
    """Decorator: file ``fn`` as rule ``name`` of ``kind``, with what it is (:class:`RuleInfo`).

    ``description`` defaults to the first line of the function's docstring.
    Raises KeyError on an unknown kind and ValueError on a parameter that is not a
    ForumConfig field, on a name already taken, or on a rule that declares no
    decision but a voting game.
    """
    if kind not in RULES:
        raise KeyError(f"unknown rule kind {kind!r}; kinds: {', '.join(RULE_KINDS)}")
    unknown = [p for p in params if p not in FORUM_FIELDS]
    if unknown:
        raise ValueError(f"{kind} rule {name!r} reads unknown ForumConfig fields {unknown}")
    if not decides and game is not None:
        raise ValueError(f"{kind} rule {name!r} decides nothing, so it implies no voting game")

    def wrap(fn: Callable) -> Callable:
        if name in RULES[kind] and RULES[kind][name] is not fn:
            raise ValueError(f"a {kind} rule named {name!r} is already registered")
        text = description if description is not None else _first_line(fn)
        RULES[kind][name] = fn
        RULE_INFO[kind][name] = RuleInfo(kind, name, fn, text, source, tuple(params), decides, game)
        return fn

    return wrap


def unregister(kind: str, name: str) -> None:
    """Remove rule ``name`` of ``kind`` (for tests and notebooks that register their own)."""
    RULES[kind].pop(name, None)
    RULE_INFO[kind].pop(name, None)


def rule(kind: str, name: str) -> Callable:
    """The function registered as ``name`` under ``kind`` (KeyError lists the valid names)."""
    return describe(kind, name).function


def describe(kind: str, name: str) -> RuleInfo:
    """The :class:`RuleInfo` of rule ``name`` under ``kind`` (KeyError lists the valid names)."""
    try:
        return RULE_INFO[kind][name]
    except KeyError:
        valid = ", ".join(sorted(RULES.get(kind, {})))
        raise KeyError(f"no {kind} rule named {name!r}; valid: {valid}") from None


def rule_table() -> str:
    """Every registered rule as a Markdown table (kind, name, what it does, source, parameters,
    decides, voting game): the rule table of ``docs/ODD.md``, kept in step by a test."""
    lines = [
        "| kind | name | what it does | source | reads | decides | voting game (quota) |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in RULE_KINDS:
        for info in RULE_INFO[kind].values():
            params = ", ".join(f"`{p}`" for p in info.params) or "–"
            decides = ("yes" if info.decides else "no") if kind == "decision" else ""
            game = f"{info.game.voters}: {info.game.formula}" if info.game else ""
            lines.append(
                f"| {kind} | `{info.name}` | {info.description} | {info.source} | {params} "
                f"| {decides} | {game} |"
            )
    return "\n".join(lines)
