"""Named-rule registries: a forum chooses each of its rules by name.

A rule is a small pure function. ``@register("voice", "equal")`` files it
under its kind; :data:`RULES` maps each kind to its ``{name: function}``
table, which config validation reads, so a new rule is valid as soon as it is
registered and a wrong name lists the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable

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

RULES: dict[str, dict[str, Callable]] = {kind: {} for kind in RULE_KINDS}


def register(kind: str, name: str) -> Callable[[Callable], Callable]:
    """Decorator: file ``fn`` as rule ``name`` of ``kind``."""
    if kind not in RULES:
        raise KeyError(f"unknown rule kind {kind!r}; kinds: {', '.join(RULE_KINDS)}")

    def wrap(fn: Callable) -> Callable:
        RULES[kind][name] = fn
        return fn

    return wrap


def rule(kind: str, name: str) -> Callable:
    """The function registered as ``name`` under ``kind`` (KeyError lists the valid names)."""
    try:
        return RULES[kind][name]
    except KeyError:
        valid = ", ".join(sorted(RULES.get(kind, {})))
        raise KeyError(f"no {kind} rule named {name!r}; valid: {valid}") from None
