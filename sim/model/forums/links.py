"""Links between forums: feeds, reporting duties and mandates.

- ``feeds`` (source -> target, weight w): the target's starting proposal on each
  shared agenda issue is ``(1 - w) p + w m``, where m is the source's latest
  outcome or message (IGF messages -> CSTD, the dual track).
- ``reports_to`` (-> target, weight w): reporting duties (UN agencies and
  regional bodies reporting to the CSTD) give the target's members an
  information subsidy: their preparation and travel costs fall by a share w and
  attending members gain ``w`` times the usual expertise gain.
- ``mandate`` (-> target, weight w): a formal UNGA/ECOSOC resolution raises the
  target's authority by w (capped at 1). It never makes outcomes binding: binding
  force comes only from the chain of decisions (:mod:`sim.model.forums.chain`).
  With ``decided_by`` the mandate (or a ``reports_to`` duty) is an agenda item of
  that forum and takes effect only once adopted (:func:`apply_link`).
- ``recommends`` (source -> parent): the source's adopted texts are recommendations
  its parent decides (:mod:`sim.model.forums.chain`); no effect here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.model.config import ForumConfig, LinkConfig

LINK_KINDS = ("feeds", "reports_to", "mandate", "recommends")


@dataclass
class ForumLinks:
    """What the links make of one forum: effective authority, feeds in, information subsidy."""

    authority: float
    binding: bool
    feeds: list[tuple[int, float]] = field(default_factory=list)
    subsidy: float = 0.0


def resolve_links(forums: dict[str, ForumConfig], links: dict[str, LinkConfig]) -> list[ForumLinks]:
    """One :class:`ForumLinks` per forum, in the order of ``forums``."""
    names = list(forums)
    out = [ForumLinks(authority=f.authority, binding=f.binding) for f in forums.values()]
    for link in links.values():
        if not link.decided_by:  # a decided link waits for its forum's adoption
            apply_link(link, out[names.index(link.target)], names)
    return out


def apply_link(link: LinkConfig, t: ForumLinks, names: list[str]) -> None:
    """Add what one link makes of its target ``t`` (in place)."""
    if link.kind == "feeds":
        t.feeds.append((names.index(link.source), link.weight))
    elif link.kind == "reports_to":
        t.subsidy = min(0.9, t.subsidy + link.weight)
    elif link.kind == "mandate":
        t.authority = min(1.0, t.authority + link.weight)


def meeting_order(forums: dict[str, ForumConfig], links: dict[str, LinkConfig]) -> list[int]:
    """Forum indices ordered so that, within a month, a feed's source meets before its target."""
    names = list(forums)
    after = {i: set() for i in range(len(names))}
    for link in links.values():
        if link.kind == "feeds":
            after[names.index(link.target)].add(names.index(link.source))
    order: list[int] = []
    pending = list(range(len(names)))
    while pending:
        ready = [i for i in pending if after[i] <= set(order)] or pending[:1]  # cycles: keep order
        order.append(ready[0])
        pending.remove(ready[0])
    return order
