"""Links between forums: feeds, reporting duties and mandates — every effect of a link, here.

A link kind is defined once, in :data:`LINKS`: what it does to the target forum's
:class:`ForumLinks` (``resolve_links``), with its source. The meeting and the model
use the resulting :class:`ForumLinks` only through its methods, so each effect is
written in this module and nowhere else:

- ``feeds`` (source -> target, weight w): the target's starting proposal on each
  shared agenda issue is ``(1 - w) p + w m``, where m is the source's latest
  outcome or message (IGF messages -> CSTD, the dual track):
  :meth:`ForumLinks.pull_toward_feeds`; and the source meets first within a
  month (:func:`meeting_order`).
- ``reports_to`` (-> target, weight w): reporting duties (UN agencies and
  regional bodies reporting to the CSTD) give the target's members an
  information subsidy (summed over links, capped at 0.9): their preparation and
  travel costs fall by that share (:meth:`ForumLinks.cost_factor`) and attending
  members gain that share of the usual expertise gain on top
  (:meth:`ForumLinks.expertise_bonus`).
- ``mandate`` (-> target, weight w): a formal UNGA/ECOSOC resolution raises the
  target's authority by w (capped at 1). It never makes outcomes binding: binding
  force comes only from the chain of decisions (:mod:`sim.model.forums.chain`).
  With ``decided_by`` the mandate (or a ``reports_to`` duty) is an agenda item of
  that forum and takes effect only once adopted (:func:`apply_link`).
- ``recommends`` (source -> parent): the source's adopted texts are recommendations
  its parent decides (:mod:`sim.model.forums.chain`); no effect here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.model.config import ForumConfig, LinkConfig


@dataclass
class ForumLinks:
    """What the links make of one forum: effective authority, binding force, feeds in, subsidy."""

    authority: float
    binding: bool
    feeds: list[tuple[int, float]] = field(default_factory=list)
    subsidy: float = 0.0

    def pull_toward_feeds(
        self, proposal: np.ndarray, messages: np.ndarray, agenda: np.ndarray
    ) -> np.ndarray:
        """``feeds``: each fed source pulls the proposal, ``p <- (1 - w) p + w m`` where known."""
        for source, w in self.feeds:
            fed = messages[source, agenda]
            proposal = np.where(
                np.isfinite(fed) & np.isfinite(proposal), (1 - w) * proposal + w * fed, proposal
            )
        return proposal

    def cost_factor(self, is_member: np.ndarray) -> np.ndarray:
        """``reports_to``: share of preparation and travel cost each actor still pays."""
        return 1.0 - self.subsidy * is_member

    def expertise_bonus(self, gain_rate: float, is_member: np.ndarray) -> np.ndarray:
        """``reports_to``: extra expertise gain of attending members, ``γ × subsidy``."""
        return gain_rate * self.subsidy * is_member

    def policy_weight(self, soft_law_weight: float) -> float:
        """``mandate``/binding: how far an adopted outcome moves policy (authority × 1 or
        × the soft-law share)."""
        return self.authority * (1.0 if self.binding else soft_law_weight)


@dataclass(frozen=True)
class LinkKind:
    """One kind of link: what it does to its target, whether it needs a source forum."""

    description: str
    source: str
    apply: Callable[[ForumLinks, int | None, float], None]
    needs_source: bool = False


def _feed(target: ForumLinks, source: int | None, weight: float) -> None:
    target.feeds.append((source, weight))


def _report(target: ForumLinks, source: int | None, weight: float) -> None:
    target.subsidy = min(0.9, target.subsidy + weight)


def _mandate(target: ForumLinks, source: int | None, weight: float) -> None:
    target.authority = min(1.0, target.authority + weight)


def _recommend(target: ForumLinks, source: int | None, weight: float) -> None:
    """No effect on the parent's links: the chain (:mod:`sim.model.forums.chain`) routes
    the source's adopted texts onto the parent's agenda as drafts."""


LINKS: dict[str, LinkKind] = {
    "feeds": LinkKind(
        "the source's latest outcome or message pulls the target's proposal by w",
        "WSIS+20 dual track: IGF messages to the CSTD",
        _feed,
        needs_source=True,
    ),
    "reports_to": LinkKind(
        "members of the target save a share w of their costs and learn w × more",
        "WSIS+20 review: UN agencies reporting to the CSTD",
        _report,
    ),
    "mandate": LinkKind(
        "the target's authority rises by w (never binding force by itself; with decided_by "
        "only once that forum adopts it)",
        "a UNGA/ECOSOC resolution (e.g. ECOSOC res. 2006/46 for the CSTD)",
        _mandate,
    ),
    "recommends": LinkKind(
        "the source's adopted texts go to the target (its parent) as drafts, not policy",
        "WGEC mandates: reports to the CSTD (GA res. 70/125 ¶65; E/RES/2006/46)",
        _recommend,
        needs_source=True,
    ),
}

"""Every link kind and its effect."""

LINK_KINDS = tuple(LINKS)
"""The link kinds a scenario may use."""


def resolve_links(forums: dict[str, ForumConfig], links: dict[str, LinkConfig]) -> list[ForumLinks]:
    """One :class:`ForumLinks` per forum, in the order of ``forums``."""
    names = list(forums)
    out = [ForumLinks(authority=f.authority, binding=f.binding) for f in forums.values()]
    for link in links.values():
        if not link.decided_by:  # a decided link waits for its forum's adoption
            apply_link(link, out[names.index(link.target)], names)
    return out


def apply_link(link: LinkConfig, t: ForumLinks, names: list[str]) -> None:
    """Add what one link makes of its target ``t`` (in place), as :data:`LINKS` defines it."""
    kind = LINKS[link.kind]
    source = names.index(link.source) if kind.needs_source else None
    kind.apply(t, source, link.weight)


def meeting_order(forums: dict[str, ForumConfig], links: dict[str, LinkConfig]) -> list[int]:
    """Forum indices ordered so that, within a month, a link's source meets before its target."""
    names = list(forums)
    after = {i: set() for i in range(len(names))}
    for link in links.values():
        if LINKS[link.kind].needs_source:
            after[names.index(link.target)].add(names.index(link.source))
    order: list[int] = []
    pending = list(range(len(names)))
    while pending:
        ready = [i for i in pending if after[i] <= set(order)] or pending[:1]  # cycles: keep order
        order.append(ready[0])
        pending.remove(ready[0])
    return order
