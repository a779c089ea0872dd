"""View models: what the step templates need, already translated. No HTML here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quart import current_app

from app.flows import engine
from app.flows.fields import REGISTRY
from app.flows.model import Field, Flow, Issue, Scope
from app.i18n import N_
from app.media import video
from app.web.language import gettext
from app.web.templating import format_day, format_money

OPTIONAL = N_("freiwillig")


class WebFormatter:
    """The engine's Formatter, bound to the current request's language."""

    def gettext(self, message: str, **params: object) -> str:
        return gettext(message, **params)

    def money(self, cents: int) -> str:
        return format_money(cents)

    def day(self, iso: str) -> str:
        return format_day(iso)


@dataclass
class OptionView:
    value: str
    label: str
    hint: str | None
    checked: bool
    id: str


@dataclass
class FieldView:
    id: str
    type: str
    label: str
    hint: str | None
    optional: bool
    error: str | None
    raw: Any
    options: list[OptionView] = field(default_factory=list)
    autocomplete: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] | None = None  # a file already uploaded

    @property
    def anchor(self) -> str:
        if self.type == "date":
            return f"f-{self.id}-day"
        if self.type in ("radios", "yesno", "checkboxes", "person", "radios_from"):
            return f"f-{self.id}-0"
        return f"f-{self.id}"

    @property
    def describedby(self) -> str:
        ids = []
        if self.hint:
            ids.append(f"f-{self.id}-hint")
        if self.error:
            ids.append(f"f-{self.id}-error")
        return " ".join(ids)


def _issue_text(issue: Issue) -> str:
    return gettext(issue.message, **dict(issue.params))


def field_views(
    step: engine.Step,
    raw: dict[str, Any] | None,
    issues: list[Issue],
    values: dict[str, Any] | None = None,
) -> list[FieldView]:
    """``values``: the page's parsed input on a 422, so a field revealed by it is shown."""
    by_field = {i.field: _issue_text(i) for i in issues}
    views = []
    for f in step.visible_fields(values):
        kind = REGISTRY[f.type]
        value = step.scope.data.get(f.id)
        shown = raw[f.id] if raw is not None and f.id in raw else kind.raw_from_value(f, value)
        views.append(
            FieldView(
                id=f.id,
                type=f.type,
                label=gettext(f.label, **step.params),
                hint=gettext(f.hint, **step.params) if f.hint else None,
                optional=f.optional,
                error=by_field.get(f.id),
                raw=shown,
                options=_options(f, step.scope, shown),
                autocomplete=f.autocomplete,
                params=dict(f.params),
                current=value
                if f.type == "file" and value and value.get("status") == "uploaded"
                else None,
            )
        )
    return views


def _options(f: Field, scope: Scope, shown: Any) -> list[OptionView]:
    if f.type == "yesno":
        pairs = [("ja", gettext(N_("Ja")), None), ("nein", gettext(N_("Nein")), None)]
    elif f.type == "person":
        pairs = [(p.id, p.name, None) for p in scope.people(f.params.get("people", "household"))]
    elif f.type == "radios_from":
        pairs = [
            (o.value, o.label, o.hint) for o in scope.choices(f.params["choices"], WebFormatter())
        ]
    else:
        pairs = [
            (o.value, gettext(o.label), gettext(o.hint) if o.hint else None) for o in f.options
        ]
    chosen = shown if isinstance(shown, list) else [shown]
    return [
        OptionView(v, label, hint, v in chosen, f"f-{f.id}-{i}")
        for i, (v, label, hint) in enumerate(pairs)
    ]


def error_list(views: list[FieldView], issues: list[Issue]) -> list[tuple[str, str]]:
    """(anchor, text) pairs for the error summary, in the order of the fields."""
    out = [(f"#{v.anchor}", f"{v.label}: {v.error}") for v in views if v.error]
    known = {v.id for v in views}
    out.extend(("#step-title", _issue_text(i)) for i in issues if i.field not in known)
    return out


@dataclass
class SectionProgress:
    title: str
    state: str  # done | current | todo


def progress(
    flow: Flow, sequence: list[engine.Step], index: int, seen: set[str]
) -> list[SectionProgress]:
    current_top = sequence[index].top
    out = []
    for section in flow.sections:
        keys = [s.key for s in sequence if s.top is section]
        if not keys:
            continue
        if section is current_top:
            state = "current"
        elif all(k in seen for k in keys):
            state = "done"
        else:
            state = "todo"
        out.append(SectionProgress(gettext(section.title), state))
    review_state = "current" if sequence[index].kind == "review" else "todo"
    out.append(SectionProgress(gettext(N_("Daten überprüfen")), review_state))
    out.extend(SectionProgress(gettext(title), "todo") for title in flow.after_review)
    return out


def step_count(
    flow: Flow, sections: list[SectionProgress], number: int, pages: int
) -> tuple[int, int]:
    """(n, m) of "Schritt n von m": pages, or sections where the flow counts those."""
    if flow.steps_are_sections:
        current = [n for n, s in enumerate(sections, start=1) if s.state == "current"]
        return (current[0] if current else len(sections)), len(sections)
    return number, pages + len(flow.after_review)


def help_view(help_def: Any) -> dict[str, Any] | None:
    if help_def is None:
        return None
    return {"text": gettext(help_def.text), "video": video_view(help_def.video)}


def video_view(video_id: str | None) -> dict[str, Any] | None:
    entry = video(video_id) if video_id else None
    if entry is None:
        return None
    static = current_app.config["STATIC"]
    return {
        "id": entry["id"],
        # the texts are message ids from the media index (extracted by app.i18n.extract)
        "title": gettext(str(entry.get("title", ""))),
        "transcript": gettext(str(entry.get("transcript", ""))),
        "duration_s": entry["duration_s"],
        "sample": entry.get("sample", False),
        "poster": static.url(entry["poster"]),
        "renditions": [dict(r, url=static.url(r["src"])) for r in entry["renditions"]],
        "captions": {code: static.url(path) for code, path in entry["captions"].items()},
    }
