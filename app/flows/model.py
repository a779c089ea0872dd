"""The vocabulary of a flow definition: plain, frozen Python objects.

A definition is data. Labels, hints and help texts are German message ids (marked
with ``N_`` so the extractor finds them); the web layer translates them. Nothing
here knows about HTTP or about any one e-service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.i18n import N_

from .conditions import Condition


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    hint: str | None = None


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    label: str
    hint: str | None = None
    optional: bool = False
    options: Sequence[Option] = ()
    when: Condition | None = None
    #: type-specific settings, e.g. {"max_length": 200}, {"past": True}, {"pattern": "kundennummer"}
    params: Mapping[str, Any] = field(default_factory=dict)
    #: HTML autocomplete token (WCAG 1.3.5 identify input purpose)
    autocomplete: str | None = None


@dataclass(frozen=True)
class Help:
    text: str
    video: str | None = None  # id in the media index


@dataclass(frozen=True)
class Issue:
    """A validation problem found by a page validator: which field, which message."""

    field: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


#: A page validator sees the page's parsed values and the whole answers document.
PageValidator = Callable[[Mapping[str, Any], "Scope"], list[Issue]]
#: A panel computes figures to show beside a page (e.g. absence days used this year).
PanelCompute = Callable[["Scope", Any], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Panel:
    template: str
    compute: PanelCompute


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    fields: Sequence[Field]
    intro: str | None = None
    when: Condition | None = None
    help: Help | None = None
    validators: Sequence[PageValidator] = ()
    panel: Panel | None = None


@dataclass(frozen=True)
class Repeat:
    """An "add another" group (changes, income entries)."""

    item_title: str  # "Änderung {n}"
    add_label: str  # "Weitere Änderung hinzufügen"
    list_title: str  # heading of the list step
    min: int = 1
    max: int = 10
    summary_field: str | None = None  # field shown as the item's name in the list


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    pages: Sequence[Page] = ()
    sections: Sequence[Section] = ()  # nested sections, walked after this section's pages
    when: Condition | None = None
    repeat: Repeat | None = None
    #: per-person loop: the name of a people provider of the flow (see Flow.people)
    for_each: str | None = None


@dataclass(frozen=True)
class Person:
    id: str
    name: str


@dataclass(frozen=True)
class Flow:
    id: str
    slug: str  # URL path segment
    title: str
    description: str
    reference_prefix: str
    sections: Sequence[Section]
    #: named people providers for person pickers and per-person loops
    people: Mapping[str, Callable[[Mapping[str, Any]], list[Person]]] = field(default_factory=dict)
    declaration: str | None = None  # the confirmation the user ticks before sending
    #: optional: a value from the answers to index submissions by (e.g. the Kundennummer)
    index_key: Callable[[Mapping[str, Any]], str | None] | None = None
    intro_points: Sequence[str] = ()
    help: Help | None = None
    #: heading of the receipt page
    receipt_title: str = N_("Ihre Mitteilung ist angekommen")
    #: security level needed to start and continue (SECURITY.md), e.g. "pin_brief"
    min_level: str | None = None
    #: first answers from what the account knows (WCAG 3.3.7): known facts → answers
    #: (may be async, e.g. to read the account's decisions from the database)
    prefill: Callable[[Mapping[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]] | None = None
    #: named option providers for radios whose options are data of the draft ("radios_from"):
    #: (answers, formatter) → options with final, already translated labels
    choices: Mapping[str, Callable[[Mapping[str, Any], Any], list[Option]]] = field(
        default_factory=dict
    )
    #: shown on the review page above the answers (e.g. the whole declaration's wording)
    review_panel: Panel | None = None
    #: the review's intro and button when confirming does not send yet (e.g. identity next)
    review_intro: str | None = None
    submit_label: str | None = None
    #: titles of steps that follow the review outside the engine (shown in the progress)
    after_review: Sequence[str] = ()
    #: "Schritt n von m" counts the sections of the progress list, not the pages (for a
    #: service that the law or the paper form describes in a fixed number of steps)
    steps_are_sections: bool = False


class Scope:
    """Where a page's values live and what its conditions can see.

    ``data`` is the dict for the current section instance; ``parent`` the scope around it;
    ``root`` the whole answers document. Names resolve innermost first; ``section.field``
    resolves from the root.
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        parent: Scope | None = None,
        *,
        flow: Flow | None = None,
        params: Mapping[str, Any] | None = None,
    ):
        self.data = data
        self.parent = parent
        self.flow = flow or (parent.flow if parent else None)
        self.params = dict(parent.params if parent else {}) | dict(params or {})

    @property
    def root(self) -> Mapping[str, Any]:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope.data

    def lookup(self, name: str) -> Any:
        if "." in name:
            value: Any = self.root
            for part in name.split("."):
                if not isinstance(value, Mapping):
                    return None
                value = value.get(part)
            return value
        scope: Scope | None = self
        while scope is not None:
            if name in scope.data:
                return scope.data[name]
            scope = scope.parent
        return None

    def people(self, provider: str) -> list[Person]:
        if self.flow is None or provider not in self.flow.people:
            return []
        return self.flow.people[provider](self.root)

    def choices(self, provider: str, fmt: Any) -> list[Option]:
        if self.flow is None or provider not in self.flow.choices:
            return []
        return self.flow.choices[provider](self.root, fmt)
