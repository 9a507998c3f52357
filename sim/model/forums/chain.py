"""The chain of authority: recommendations go up, mandates are decided, policy moves at the top.

- A ``recommends`` link (source -> parent) makes the source's adopted text a
  *recommendation*: it changes no policy; it waits on the parent's next agenda as a draft
  text, which the parent decides under its own rules (WGEC -> CSTD; CSTD -> ECOSOC ->
  General Assembly: the CSTD drafts ECOSOC resolutions, ECOSOC res. 2006/46; GA res.
  60/252 and 70/125 act on its reports).
- A forum with ``takes_up: referred`` (ECOSOC, the GA) has on its agenda only the texts
  referred to it since its last meeting; other forums add referred texts to their own agenda.
- Only an adoption by a forum with no parent moves policy (by its authority, at full
  weight if binding, else ``behaviour.soft_law_weight``). It counts for policy coverage
  when that forum is binding or sits at the top of a chain (it received recommendations):
  coverage counts what the chain adopts, not what a scenario file declares.
- A ``mandate`` (or ``reports_to``) link with ``decided_by`` is itself an agenda item of
  that forum: until the forum adopts it, the link has no effect. The deciding forum's
  members judge it on the link's ``issue`` axis: adopting it moves that issue from the
  status quo to the link's ``stance`` (the decision changes no policy itself; it switches
  the link on — authority and reporting duties, never binding force).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.config import ROLES, ForumConfig, LinkConfig
from sim.model.forums import blocs as bloc_rules
from sim.model.forums.registry import rule

TAKES_UP = ("own", "referred")


@dataclass
class Referral:
    """What a forum's meeting receives from the chain: draft texts and the items a text must cover.

    ``text`` (k,) is nan where nothing was referred; ``required`` (k,) marks the issues the
    forum's mandate requires a text to address (``forum.package_required``).
    """

    text: np.ndarray
    required: np.ndarray


@dataclass
class PendingMandate:
    """Links a forum must adopt before they take effect, judged on one issue axis."""

    decided_by: int
    target: int
    links: list[LinkConfig]
    issue: int
    stance: float
    decided: bool = False
    adopted: bool = False
    step: int = -1


@dataclass
class Chain:
    """Per forum: its parent (recommends), whether its adoptions are final for coverage,
    texts referred to it, and the mandates it must decide."""

    parent: list[int | None]
    final: np.ndarray
    referred: np.ndarray
    required: np.ndarray
    takes_referred_only: np.ndarray
    mandates: list[PendingMandate] = field(default_factory=list)

    def agenda(self, fi: int, own: np.ndarray) -> np.ndarray:
        """This meeting's agenda: referred texts only, or the forum's own scope plus them."""
        waiting = np.flatnonzero(np.isfinite(self.referred[fi]))
        if self.takes_referred_only[fi]:
            return waiting
        return np.union1d(own, waiting) if len(waiting) else own

    def referral(self, fi: int) -> Referral:
        return Referral(self.referred[fi].copy(), self.required[fi])

    def taken_up(self, fi: int) -> None:
        """The forum took up what was referred to it (adopted or not)."""
        self.referred[fi] = np.nan

    def recommend(self, fi: int, issues: np.ndarray, text: np.ndarray) -> None:
        """Refer an adopted text up to the forum's parent."""
        self.referred[self.parent[fi], issues] = text

    def pending(self, fi: int) -> list[PendingMandate]:
        return [m for m in self.mandates if m.decided_by == fi and not m.decided]


def build_chain(
    forums: dict[str, ForumConfig], links: dict[str, LinkConfig], issue_names: list[str]
) -> Chain:
    """The chain for a scenario's forums and links (validation has checked the names)."""
    names = list(forums)
    n, k = len(names), len(issue_names)
    parent: list[int | None] = [None] * n
    has_children = np.zeros(n, bool)
    for link in links.values():
        if link.kind == "recommends":
            s, t = names.index(link.source), names.index(link.target)
            parent[s] = t
            has_children[t] = True
    binding = np.array([f.binding for f in forums.values()], bool)
    top = np.array([p is None for p in parent])
    required = np.zeros((n, k), bool)
    for i, f in enumerate(forums.values()):
        required[i] = np.isin(issue_names, list(f.package_required))
    groups: dict[tuple[int, int], list[LinkConfig]] = {}
    for link in links.values():
        if link.decided_by:
            key = (names.index(link.decided_by), names.index(link.target))
            groups.setdefault(key, []).append(link)
    mandates = [
        PendingMandate(by, target, ls, issue_names.index(ls[0].issue), ls[0].stance)
        for (by, target), ls in groups.items()
    ]
    return Chain(
        parent=parent,
        final=top & (binding | has_children),
        referred=np.full((n, k), np.nan),
        required=required,
        takes_referred_only=np.array([f.takes_up == "referred" for f in forums.values()]),
        mandates=mandates,
    )


def decide_mandate(pop, roles, forum: ForumConfig, mandate: PendingMandate, policy, behaviour,
                   rng) -> bool:  # fmt: skip
    """Whether the deciding forum's members adopt a mandate (one item, the forum's own rule).

    The item: move ``mandate.issue`` from the current policy to ``mandate.stance``. Every
    member takes part (a plenary: one delegation, one voice), coordinated by the forum's
    blocs as at a meeting. Positions are the members' current ones.
    """
    members = np.flatnonzero(roles == ROLES.index("member"))
    if len(members) == 0:
        return False
    j = mandate.issue
    pos = pop.position[members, j : j + 1]
    sal = pop.salience[members, j : j + 1]
    weight = np.full(len(members), 1.0 / len(members))
    context: dict = {"rng": rng, "required": np.ones(1, bool)}
    if forum.blocs:
        bloc = bloc_rules.bloc_of(pop.iso3[members], forum.blocs)
        pos, weight, sal, context["votes"], _, _ = bloc_rules.coordinate(
            pos, weight, sal, bloc, len(forum.blocs), behaviour.bloc_cohesion,
            forum.bloc_objection,
        )  # fmt: skip
    decision = rule("decision", forum.decision)(
        pos, weight, sal, np.array([mandate.stance]), policy[j : j + 1], forum, behaviour,
        **context,
    )  # fmt: skip
    return bool(decision.adopted[0])
