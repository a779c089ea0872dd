"""The form-flow engine. Definitions live in ``definitions/``; nothing here knows HTTP."""

from .model import Field, Flow, Help, Issue, Option, Page, Panel, Person, Repeat, Section

__all__ = [
    "Field",
    "Flow",
    "Help",
    "Issue",
    "Option",
    "Page",
    "Panel",
    "Person",
    "Repeat",
    "Section",
]
