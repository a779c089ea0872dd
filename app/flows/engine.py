"""The form-flow engine: which steps a draft has, what a step saves, what gets sent.

A draft's answers are one JSON document. Plain sections are dicts, "add another"
sections are lists of items with a stable ``_id``, per-person sections are dicts
keyed by person id. Step keys are URL-safe paths such as ``wer/person``,
``aenderungen/k3j2a9/art``, ``aenderungen/_liste``. Completed step keys are kept in
``_seen``; the first step not yet seen is where a user resumes.
"""

from __future__ import annotations

import copy
import secrets
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .conditions import holds
from .fields import REGISTRY, Form, Formatter, ParseContext
from .model import Field, Flow, Issue, Page, Scope, Section

LIST = "_liste"
REVIEW = "_pruefen"
SEEN = "_seen"


@dataclass
class Step:
    key: str
    kind: str  # page | list | review
    section: Section | None  # the innermost section
    top: Section | None  # the top-level section (for progress)
    page: Page | None
    path: tuple[str | int, ...]  # where the scope dict sits in the answers
    scope: Scope
    params: dict[str, Any] = field(default_factory=dict)  # n, name … for titles

    def visible_fields(self, values: Mapping[str, Any] | None = None) -> list[Field]:
        """The page's fields whose condition holds.

        ``values``: this page's newly parsed input, not stored yet (see ``fields_given``).
        """
        assert self.page is not None
        if values is None:
            return [f for f in self.page.fields if holds(f.when, self.scope)]
        return list(self.fields_given(values))

    def fields_given(self, values: Mapping[str, Any]) -> Iterator[Field]:
        """The visible fields, each condition tested when its field comes up.

        A condition sees ``values`` (the new input, as filled so far) before the stored
        answers, and a field hidden above it as unanswered, so a field may depend on one
        above it on the same page exactly as it will once the page is stored.
        """
        assert self.page is not None
        hidden: dict[str, Any] = {}
        scope = Scope(
            ChainMap(values, hidden, self.scope.data),
            self.scope.parent,
            flow=self.scope.flow,
            params=self.scope.params,
        )
        for f in self.page.fields:
            if holds(f.when, scope):
                yield f
            else:
                hidden[f.id] = None


def new_item_id() -> str:
    return secrets.token_hex(4)


def _walk_section(
    flow: Flow,
    section: Section,
    container: Mapping[str, Any],
    parent: Scope,
    prefix: tuple[str, ...],
    path: tuple[str | int, ...],
    top: Section,
) -> Iterator[Step]:
    if not holds(section.when, parent):
        return
    if section.repeat:
        items = container.get(section.id) or []
        for index, item in enumerate(items):
            scope = Scope(item, parent, params={"n": index + 1})
            yield from _walk_pages(
                flow,
                section,
                scope,
                (*prefix, section.id, item["_id"]),
                (*path, section.id, index),
                top,
            )
        list_scope = Scope({"items": items}, parent)
        yield Step(
            key="/".join((*prefix, section.id, LIST)),
            kind="list",
            section=section,
            top=top,
            page=None,
            path=(*path, section.id),
            scope=list_scope,
            params=dict(parent.params),  # e.g. {name} of a repeat inside a per-person loop
        )
    elif section.for_each:
        store = container.get(section.id) or {}
        for person in parent.people(section.for_each):
            scope = Scope(store.get(person.id) or {}, parent, params={"name": person.name})
            yield from _walk_pages(
                flow,
                section,
                scope,
                (*prefix, section.id, person.id),
                (*path, section.id, person.id),
                top,
            )
    else:
        scope = Scope(container.get(section.id) or {}, parent)
        yield from _walk_pages(
            flow, section, scope, (*prefix, section.id), (*path, section.id), top
        )


def _walk_pages(
    flow: Flow,
    section: Section,
    scope: Scope,
    prefix: tuple[str, ...],
    path: tuple[str | int, ...],
    top: Section,
) -> Iterator[Step]:
    for page in section.pages:
        if holds(page.when, scope):
            yield Step(
                key="/".join((*prefix, page.id)),
                kind="page",
                section=section,
                top=top,
                page=page,
                path=path,
                scope=scope,
                params=dict(scope.params),
            )
    for sub in section.sections:
        yield from _walk_section(flow, sub, scope.data, scope, prefix, path, top)


def steps(flow: Flow, answers: Mapping[str, Any]) -> list[Step]:
    """The visible steps of this draft, in order, ending with the review."""
    root = Scope(answers, flow=flow)
    out: list[Step] = []
    for section in flow.sections:
        out.extend(_walk_section(flow, section, answers, root, (), (), section))
    out.append(
        Step(key=REVIEW, kind="review", section=None, top=None, page=None, path=(), scope=root)
    )
    return out


def normalise(flow: Flow, answers: dict[str, Any]) -> bool:
    """Give every reachable repeat its minimum number of items. True if anything changed."""
    changed = False
    for _ in range(20):  # new items can reveal nested repeats; a bound keeps this finite
        added = False
        for step in steps(flow, answers):
            if step.kind == "list" and step.section and step.section.repeat:
                items = _container(answers, step.path, create=list)
                while len(items) < step.section.repeat.min:
                    items.append({"_id": new_item_id()})
                    added = True
        if not added:
            break
        changed = True
    return changed


def _container(answers: dict[str, Any], path: tuple[str | int, ...], create: type) -> Any:
    """The dict (or list) at ``path``, created on the way where missing."""
    node: Any = answers
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(node, list):
            node = node[part]  # type: ignore[index]
            continue
        if part not in node:
            node[part] = create() if last else ({} if not isinstance(path[depth + 1], int) else [])
        node = node[part]
    return node


def find(flow: Flow, answers: Mapping[str, Any], key: str) -> tuple[list[Step], int] | None:
    sequence = steps(flow, answers)
    for index, step in enumerate(sequence):
        if step.key == key:
            return sequence, index
    return None


def first_open(flow: Flow, answers: Mapping[str, Any]) -> Step:
    """Where to resume: the first visible step not completed yet (else the review)."""
    seen = set(answers.get(SEEN, []))
    for step in steps(flow, answers):
        if step.kind == "review" or step.key not in seen:
            return step
    raise AssertionError("unreachable: the review step is always last")


def reachable(flow: Flow, answers: Mapping[str, Any], key: str) -> bool:
    """A step may be opened once every step before it is complete (no skipping ahead).

    A repeat's list step stays reachable while its own items are unfinished, so that an
    item added by mistake can be removed again instead of trapping the user in it.
    """
    seen = set(answers.get(SEEN, []))
    items = key.removesuffix(LIST) if key.endswith(f"/{LIST}") else None
    for step in steps(flow, answers):
        if step.key == key:
            return True
        if step.key not in seen and not (items and step.key.startswith(items)):
            return False
    return False


@dataclass
class Outcome:
    values: dict[str, Any]
    issues: list[Issue]
    raw: dict[str, Any]


def parse_page(step: Step, form: Form, ctx: ParseContext) -> Outcome:
    """Parse and validate one page's input; nothing is stored here."""
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    raw: dict[str, Any] = {}
    # lazily: a field's condition sees the input of the fields above it, not stale answers
    for f in step.fields_given(values):
        kind = REGISTRY[f.type]
        raw[f.id] = kind.raw_from_form(f, form)
        value, issue = kind.parse(f, form, ctx)
        if issue:
            issues.append(issue)
        else:
            values[f.id] = value
    if not issues and step.page:
        for validator in step.page.validators:
            issues.extend(validator(values, step.scope))
    return Outcome(values, issues, raw)


def apply_page(flow: Flow, answers: dict[str, Any], step: Step, values: Mapping[str, Any]) -> None:
    """Store a valid page's values in its scope and mark the step complete."""
    scope = _container(answers, step.path, create=dict)
    assert step.page is not None
    for f in step.page.fields:
        scope.pop(f.id, None)  # fields hidden now must not keep stale values
    scope.update(values)
    mark_seen(answers, step.key)
    normalise(flow, answers)


def store_partial(answers: dict[str, Any], step: Step, values: Mapping[str, Any]) -> None:
    """Keep some values of a page that is not complete yet (e.g. a good upload)."""
    _container(answers, step.path, create=dict).update(values)


def mark_seen(answers: dict[str, Any], key: str) -> None:
    seen = answers.setdefault(SEEN, [])
    if key not in seen:
        seen.append(key)


def add_item(flow: Flow, answers: dict[str, Any], list_step: Step) -> str | None:
    """Add an item to a repeat (if under its maximum); return the key of its first page."""
    assert list_step.section and list_step.section.repeat
    items = _container(answers, list_step.path, create=list)
    if len(items) >= list_step.section.repeat.max:
        return None
    item_id = new_item_id()
    items.append({"_id": item_id})
    normalise(flow, answers)
    prefix = list_step.key.rsplit("/", 1)[0]
    for step in steps(flow, answers):
        if step.key.startswith(f"{prefix}/{item_id}/"):
            return step.key
    return None


def remove_item(flow: Flow, answers: dict[str, Any], list_step: Step, item_id: str) -> bool:
    assert list_step.section and list_step.section.repeat
    items = _container(answers, list_step.path, create=list)
    if len(items) <= list_step.section.repeat.min:
        return False
    kept = [item for item in items if item.get("_id") != item_id]
    if len(kept) == len(items):
        return False
    items[:] = kept
    _forget_references(flow, answers, item_id)
    return True


def _forget_references(flow: Flow, answers: dict[str, Any], item_id: str) -> None:
    """A person picker that chose a removed household member must be answered again."""
    seen = answers.get(SEEN, [])
    for step in steps(flow, answers):
        if step.kind != "page":
            continue
        for f in step.visible_fields():
            if f.type == "person" and step.scope.data.get(f.id) == item_id:
                _container(answers, step.path, create=dict).pop(f.id, None)
                if step.key in seen:
                    seen.remove(step.key)


def next_step(flow: Flow, answers: Mapping[str, Any], after_key: str) -> Step:
    """The step after ``after_key``; if an earlier step is still open, that one."""
    resume = first_open(flow, answers)
    located = find(flow, answers, after_key)
    if located is None:
        return resume
    sequence, index = located
    following = sequence[min(index + 1, len(sequence) - 1)]
    resume_index = next(i for i, s in enumerate(sequence) if s.key == resume.key)
    return resume if resume_index < index + 1 else following


@dataclass
class Difference:
    field: Field
    device: Any
    saved: Any

    def display(self, value: Any, fmt: Formatter, scope: Scope) -> str:
        if value is None:
            return ""
        return REGISTRY[self.field.type].display(self.field, value, fmt, scope)

    def device_text(self, fmt: Formatter, scope: Scope) -> str:
        """What the device sent: the value if it was valid, else the text as typed."""
        if not isinstance(self.device, RawInput):
            return self.display(self.device, fmt, scope)
        raw = self.device.raw
        if isinstance(raw, dict):
            return " ".join(str(v) for v in raw.values() if v and not isinstance(v, bool))
        if isinstance(raw, list):
            return ", ".join(map(str, raw))
        return str(raw)


@dataclass(frozen=True)
class RawInput:
    """Input that did not parse (half-typed on a device): shown as typed, never stored."""

    raw: Any


def differences(step: Step, outcome: Outcome) -> list[Difference]:
    """Fields whose new input differs from what is stored (an empty store is no conflict).

    Valid fields compare by value (``08`` and ``8`` are the same month); invalid ones by
    what was typed, so a half-typed offline step still shows both versions.
    """
    stored = step.scope.data
    fields = [f for f in step.visible_fields(outcome.values) if f.type != "file"]
    if not any(stored.get(f.id) is not None for f in fields):
        return []
    invalid = {issue.field for issue in outcome.issues}
    out = []
    for f in fields:
        if f.id in invalid:
            raw = outcome.raw.get(f.id)
            if raw != REGISTRY[f.type].raw_from_value(f, stored.get(f.id)):
                out.append(Difference(f, RawInput(raw), stored.get(f.id)))
        elif outcome.values.get(f.id) != stored.get(f.id):
            out.append(Difference(f, outcome.values.get(f.id), stored.get(f.id)))
    return out


# -- review and submission ---------------------------------------------------------------


@dataclass
class ReviewRow:
    label: str
    value: str
    change_key: str
    field_id: str


@dataclass
class ReviewGroup:
    title: str
    params: dict[str, Any]
    rows: list[ReviewRow]
    level: int  # 2 for a section, 3 for an item or person within it


def review(flow: Flow, answers: Mapping[str, Any], fmt: Formatter) -> list[ReviewGroup]:
    """The "Daten überprüfen" page, generated from the definition and the answers."""
    groups: list[ReviewGroup] = []
    last_top: str | None = None
    last_path: tuple[Any, ...] | None = None
    for step in steps(flow, answers):
        if step.kind != "page" or step.section is None or step.top is None:
            continue
        if step.top.id != last_top:
            groups.append(ReviewGroup(step.top.title, {}, [], 2))
            last_top, last_path = step.top.id, None
        if step.path != last_path:
            last_path = step.path
            section = step.section
            if section is not step.top or section.repeat or section.for_each:
                # a per-person group is headed by the person's name
                title = (
                    section.repeat.item_title
                    if section.repeat
                    else "{name}"
                    if section.for_each
                    else section.title
                )
                groups.append(ReviewGroup(title, dict(step.params), [], 3))
        for f in step.visible_fields():
            value = step.scope.data.get(f.id)
            shown = REGISTRY[f.type].display(f, value, fmt, step.scope) if value is not None else ""
            groups[-1].rows.append(ReviewRow(f.label, shown, step.key, f.id))
    return groups


def collect(flow: Flow, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical submission: only what is visible now, keyed by section path."""
    out: dict[str, Any] = {}
    for step in steps(flow, answers):
        if step.kind != "page":
            continue
        target: Any = out
        for depth, part in enumerate(step.path):
            nxt = step.path[depth + 1] if depth + 1 < len(step.path) else None
            if isinstance(target, list):
                while len(target) <= part:  # type: ignore[operator]
                    target.append({})
                target = target[part]  # type: ignore[index]
            else:
                target = target.setdefault(part, [] if isinstance(nxt, int) else {})
        if "_id" in step.scope.data:
            target["_id"] = step.scope.data["_id"]
        for f in step.visible_fields():
            if step.scope.data.get(f.id) is not None:
                target[f.id] = copy.deepcopy(step.scope.data[f.id])
    return out


def complete(flow: Flow, answers: Mapping[str, Any]) -> bool:
    return first_open(flow, answers).kind == "review"
