"""Extract every user-visible message and merge it into the ls and en catalogs.

Run ``python -m app.i18n.extract``. Sources: Python (``_``, ``N_``, ``gettext``,
``ngettext``), Jinja templates, and the titles and transcripts of the media index.
Existing translations are kept; new ids arrive empty so the completeness test
names them; ids no longer used are dropped.
"""

from __future__ import annotations

import json
import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from . import CATALOG_DIR, DEFAULT, VARIANTS, po_files

APP_DIR = CATALOG_DIR.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [
    ("**/static/**", "ignore"),
    ("**.py", "python"),
    ("**/pages/**.html", "jinja2"),
    ("**/partials/**.html", "jinja2"),
]
#: Pages written in Leichte Sprache for every variant (BITV § 4): their ids are the LS text.
LS_PAGES = {"app/partials/start/leichte_sprache.html"}
OPTIONS = {
    "**/pages/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"},
    "**/partials/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"},
}


def template_catalog() -> Catalog:
    """All message ids in use now."""
    catalog = Catalog(project="jobcenter.digital", fuzzy=False)
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(APP_DIR),
        METHODS,
        keywords=KEYWORDS,
        options_map=OPTIONS,
    ):
        if not message or (isinstance(message, tuple) and not all(message)):
            continue
        catalog.add(message, locations=[(f"app/{filename}", lineno)])
    media = json.loads((CATALOG_DIR / "media.json").read_text(encoding="utf-8"))
    for entry in media:
        for key in ("title", "transcript"):
            catalog.add(entry[key], locations=[("app/i18n/media.json", 0)])
    return catalog


def merge(code: str, template: Catalog) -> tuple[int, int]:
    """Merge into one variant's ``messages.po``; return (total, untranslated).

    Ids that an area file (``konto.po`` …) of the variant already has stay there and are
    left out of ``messages.po``.
    """
    path = CATALOG_DIR / code / "messages.po"
    in_area_files: set[object] = set()
    for other in po_files(code):
        if other.name != "messages.po":
            with other.open("rb") as fh:
                in_area_files.update(m.id for m in read_po(fh) if m.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    old: dict[object, object] = {}
    notes: dict[object, list[str]] = {}  # translator comments, e.g. "geprüft: <date>"
    if path.exists():
        with path.open("rb") as fh:
            for message in read_po(fh):
                if message.id:
                    old[message.id] = message.string
                    notes[message.id] = list(message.user_comments)
    catalog = Catalog(project="jobcenter.digital", fuzzy=False)
    missing = 0
    for message in template:
        if not message.id or message.id in in_area_files:
            continue
        string = old.get(message.id) or (("", "") if isinstance(message.id, tuple) else "")
        ls_only = all(path in LS_PAGES for path, _line in message.locations)
        if ls_only and not string:
            string = message.id  # shown in Leichte Sprache in every variant, on purpose
        catalog.add(
            message.id,
            string,
            locations=message.locations,
            user_comments=notes.get(message.id, []),
            auto_comments=["Leichte-Sprache page: same text in every variant"] if ls_only else [],
        )
        if not string or (isinstance(string, tuple) and not all(string)):
            missing += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
    return len(catalog), missing


def main() -> int:
    template = template_catalog()
    with (CATALOG_DIR / "messages.pot").open("wb") as fh:
        write_po(fh, template, width=100)
    for code in VARIANTS:
        if code == DEFAULT:
            continue
        total, missing = merge(code, template)
        print(f"{code}: {total} messages, {missing} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
