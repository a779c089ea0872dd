"""Declarative conditions, evaluated on the server. No eval, no expressions in strings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Scope

_UNSET: Any = object()


@dataclass(frozen=True)
class When:
    """True when the named field (resolved in the scope chain) matches."""

    field: str
    equals: Any = _UNSET
    in_: Sequence[Any] | None = None
    answered: bool | None = None
    contains: Any = _UNSET  # for checkbox lists

    def test(self, scope: Scope) -> bool:
        value = scope.lookup(self.field)
        if self.answered is not None:
            return (value not in (None, "", [])) is self.answered
        if self.equals is not _UNSET:
            return value == self.equals
        if self.in_ is not None:
            return value in self.in_
        if self.contains is not _UNSET:
            return isinstance(value, list) and self.contains in value
        raise ValueError(f"condition on {self.field!r} tests nothing")


@dataclass(frozen=True)
class All:
    conditions: Sequence[Condition]

    def test(self, scope: Scope) -> bool:
        return all(c.test(scope) for c in self.conditions)


@dataclass(frozen=True)
class AnyOf:
    conditions: Sequence[Condition]

    def test(self, scope: Scope) -> bool:
        return any(c.test(scope) for c in self.conditions)


@dataclass(frozen=True)
class Not:
    condition: Condition

    def test(self, scope: Scope) -> bool:
        return not self.condition.test(scope)


Condition = When | All | AnyOf | Not


def holds(condition: Condition | None, scope: Scope) -> bool:
    return condition is None or condition.test(scope)
