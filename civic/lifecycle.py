"""Lifecycles as tables: what each state allows, where it leads, and who may do it.

Reports (spec 02), consultation topics (spec 03) and ballots (spec 04) each
state their lifecycle as one table, ``TRANSITIONS[state][action] = Rule(to,
by)``, and never change a state any other way. This module holds what the
three share: the cell of the table and the one way of reading it, so a stale
button, a closed record or the wrong person is refused the same way everywhere.

No Telegram, no SQL, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

__all__ = ["ActionVerdict", "Rule", "decide"]

State = TypeVar("State", bound=StrEnum)
Action = TypeVar("Action", bound=StrEnum)
Actor = TypeVar("Actor", bound=StrEnum)


@dataclass(frozen=True)
class Rule(Generic[State, Actor]):
    """One cell of a lifecycle table: the state an action leads to, and who may take it."""

    to: State | None
    """``None``: the action is recorded as an event but changes no state."""
    by: frozenset[Actor]


class ActionVerdict(StrEnum):
    """What a lifecycle table says about one action on one record."""

    ALLOWED = "allowed"
    NOT_NOW = "not_now"
    """The record's state does not allow it (a stale button, a closed record)."""
    NOT_YOURS = "not_yours"
    """Allowed now, but not to this person (a resident acting on another's record)."""


def decide(
    table: Mapping[State, Mapping[Action, Rule[State, Actor]]],
    state: State,
    action: Action,
    actors: Collection[Actor],
) -> tuple[ActionVerdict, State | None]:
    """Whether someone acting as any of ``actors`` may take ``action`` in ``state``, and
    the state it leads to (``None`` when refused, or when the action changes no state).

    "Not now" wins over "not yours": a stale button says the record moved on,
    whoever pressed it, so the refusal says what is true of the record.
    """
    rule = table[state].get(action)
    if rule is None:
        return ActionVerdict.NOT_NOW, None
    if rule.by.isdisjoint(actors):
        return ActionVerdict.NOT_YOURS, None
    return ActionVerdict.ALLOWED, rule.to
