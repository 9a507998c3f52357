"""Forums as compositions of named rules.

A forum is data (a :class:`sim.model.config.ForumConfig`), not a class: each of its
rules — membership, scope, attendance, support, voice, deliberation, decision,
ratification — is a small pure function looked up by name in :data:`RULES`.
Importing this package registers every built-in rule.
"""

from sim.model.forums import (  # noqa: F401
    agenda,
    attendance,
    board,  # issue 15: the board by its bylaws
    decision,
    deliberation,
    membership,
    oversight,  # issue 15: the IANA chain
    voice,
)
from sim.model.forums.links import LINK_KINDS, LINKS, ForumLinks, meeting_order, resolve_links
from sim.model.forums.meeting import MeetingResult, adapt, agenda_of, enact, hold_meeting
from sim.model.forums.registry import (
    RULE_INFO,
    RULE_KINDS,
    RULES,
    RuleInfo,
    VotingGame,
    describe,
    register,
    rule,
    rule_table,
    unregister,
)

__all__ = [
    "LINKS",
    "LINK_KINDS",
    "RULES",
    "RULE_INFO",
    "RULE_KINDS",
    "ForumLinks",
    "MeetingResult",
    "RuleInfo",
    "VotingGame",
    "adapt",
    "agenda_of",
    "describe",
    "enact",
    "hold_meeting",
    "meeting_order",
    "register",
    "resolve_links",
    "rule",
    "rule_table",
    "unregister",
]
