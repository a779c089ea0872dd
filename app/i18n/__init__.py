"""Language variants and gettext catalogs.

German is the source language: message ids are the German texts. Each other variant
(Leichte Sprache ``ls``, English ``en``) has a PO catalog beside this file. We read
the PO files directly with Babel at start-up, so there is no compile step and no
binary file in the repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG_DIR = Path(__file__).parent


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it (used in definitions)."""
    return message


@dataclass(frozen=True)
class Variant:
    code: str  # short code in URLs and cookies
    html_lang: str  # BCP 47 tag for <html lang>
    babel_locale: str  # for dates and numbers
    name: str  # own name, shown in the language switch


VARIANTS: dict[str, Variant] = {
    "de": Variant("de", "de", "de_DE", "Deutsch"),
    "ls": Variant("ls", "de-x-ls", "de_DE", "Leichte Sprache"),
    "en": Variant("en", "en", "en_GB", "English"),
}
DEFAULT = "de"


class Catalog:
    """One variant's messages; an untranslated id falls back to the German source."""

    def __init__(self, code: str, messages: dict[str, str]):
        self.code = code
        self.messages = messages

    def gettext(self, message: str, **params: object) -> str:
        text = self.messages.get(message) or message
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self.messages.get(singular if n == 1 else plural) or (singular if n == 1 else plural)
        return text.format(n=n, **params)


def load_po(path: Path) -> dict[str, str]:
    """Read one PO file into {msgid: msgstr}; fuzzy and empty entries do not count."""
    with path.open("rb") as fh:
        catalog = read_po(fh)
    out: dict[str, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            strings = message.string if isinstance(message.string, tuple) else ()
            if len(strings) >= 2 and all(strings):
                out[singular], out[plural] = strings[0], strings[1]
        elif message.string:
            out[message.id] = message.string
    return out


def po_files(code: str) -> list[Path]:
    """A variant's catalog files: ``messages.po`` (kept by the extractor) and one file per
    area (``konto.po``, ``widerspruch.po`` …) written by hand, so areas can be translated
    side by side."""
    folder = CATALOG_DIR / code
    return sorted(folder.glob("*.po")) if folder.is_dir() else []


def load_variant(code: str) -> dict[str, str]:
    """All messages of one variant, every catalog file merged."""
    merged: dict[str, str] = {}
    for path in po_files(code):
        merged.update(load_po(path))
    return merged


def load_catalogs() -> dict[str, Catalog]:
    catalogs = {DEFAULT: Catalog(DEFAULT, {})}
    for code in VARIANTS:
        if code != DEFAULT:
            catalogs[code] = Catalog(code, load_variant(code))
        catalogs.setdefault(code, Catalog(code, {}))
    return catalogs


def negotiate(accept_language: str | None) -> str:
    """Pick de or en from Accept-Language (ls is chosen explicitly, it has no public tag)."""
    if not accept_language:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, index, tag.strip().lower()))
    for _weight, _index, tag in sorted(ranked):
        if tag == "de-x-ls":
            return "ls"
        primary = tag.split("-")[0]
        if primary in ("de", "en"):
            return primary
    return DEFAULT


def variant_codes() -> Iterable[str]:
    return VARIANTS.keys()
