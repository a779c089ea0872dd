"""Every user-visible message exists in every variant, and Leichte Sprache follows its rules."""

from __future__ import annotations

import re
import string

import pytest

from app.i18n import load_po, load_variant, po_files
from app.i18n.extract import template_catalog

TEMPLATE = template_catalog()
IDS = [m.id for m in TEMPLATE if m.id]


def _singulars() -> list[str]:
    out = []
    for message_id in IDS:
        out.extend(message_id if isinstance(message_id, tuple) else [message_id])
    return out


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("code", ["ls", "en"])
def test_every_message_is_translated(code: str) -> None:
    catalog = load_variant(code)
    missing = [m for m in _singulars() if not catalog.get(m)]
    assert not missing, f"{len(missing)} message(s) without {code} translation:\n" + "\n".join(
        missing[:40]
    )


@pytest.mark.parametrize("code", ["ls", "en"])
def test_placeholders_match(code: str) -> None:
    catalog = load_variant(code)
    wrong = [
        (msgid, text)
        for msgid, text in catalog.items()
        if msgid in set(_singulars()) and _fields(text) - _fields(msgid) - {"n"}
    ]
    assert not wrong, f"placeholders in {code} that the German text does not have: {wrong[:10]}"


ABBREVIATIONS = re.compile(
    r"\b(z\.\s?B\.|bzw\.|ggf\.|usw\.|etc\.|d\.\s?h\.|u\.\s?a\.|ca\.|Nr\.|inkl\.|evtl\.|SGB)",
)
TWO_SENTENCES = re.compile(r"[.!?:] +[A-ZÄÖÜ0-9„]")


def test_leichte_sprache_rules() -> None:
    """Cheap checks of the LS rules: no abbreviations, one sentence per line, short lines.

    They do not replace review by readers from the target group (see docs/leichte-sprache.md).
    """
    catalog = load_variant("ls")
    problems = []
    for msgid, text in catalog.items():
        if msgid not in set(_singulars()):
            continue
        for line in text.splitlines():
            if ABBREVIATIONS.search(line):
                problems.append(("abbreviation", line))
            if TWO_SENTENCES.search(line):
                problems.append(("two sentences on one line", line))
            if len(line.split()) > 16:
                problems.append(("sentence longer than 16 words", line))
            if ";" in line:
                problems.append(("semicolon", line))
    assert not problems, "\n".join(f"{kind}: {line}" for kind, line in problems[:40])


@pytest.mark.parametrize("code", ["ls", "en"])
def test_each_message_lives_in_one_catalog_file(code: str) -> None:
    """Area catalogs are merged: an id in two files would make one translation win by the
    order of file names, and the two could drift apart."""
    where: dict[str, list[str]] = {}
    for path in po_files(code):
        for msgid in load_po(path):
            where.setdefault(msgid, []).append(path.name)
    twice = {msgid: files for msgid, files in where.items() if len(files) > 1}
    assert not twice, f"ids in more than one {code} catalog file: {twice}"
