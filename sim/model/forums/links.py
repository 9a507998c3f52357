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
  target's authority by w (capped at 1; it scales the expected influence that
  draws actors to attend) and makes its outcomes binding: adopted outcomes move
  policy by the full authority instead of the soft-law share
  (:meth:`ForumLinks.policy_weight`) and count for policy coverage.
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
    target.binding = True


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
        "the target's authority rises by w and its outcomes become binding",
        "a UNGA/ECOSOC resolution (e.g. ECOSOC res. 2006/46 for the CSTD)",
        _mandate,
    ),
}
"""Every link kind and its effect."""

LINK_KINDS = tuple(LINKS)


def resolve_links(forums: dict[str, ForumConfig], links: dict[str, LinkConfig]) -> list[ForumLinks]:
    """One :class:`ForumLinks` per forum, in the order of ``forums``."""
    names = list(forums)
    out = [ForumLinks(authority=f.authority, binding=f.binding) for f in forums.values()]
    for link in links.values():
        kind = LINKS[link.kind]
        source = names.index(link.source) if kind.needs_source else None
        kind.apply(out[names.index(link.target)], source, link.weight)
    return out


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
