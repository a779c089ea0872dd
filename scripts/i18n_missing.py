"""List message ids used in the given files that lack an ls or en translation.

Usage: ``python scripts/i18n_missing.py app/konto.py app/partials/konto`` — prints a PO
skeleton of what is missing, so an area's translations go into its own catalog files
(``app/i18n/ls/<area>.po``, ``app/i18n/en/<area>.po``).
"""

from __future__ import annotations

import sys

from babel.messages.pofile import escape

from app.i18n import load_variant
from app.i18n.extract import template_catalog


def main(prefixes: list[str]) -> int:
    catalogs = {code: load_variant(code) for code in ("ls", "en")}
    for message in template_catalog():
        if not message.id or isinstance(message.id, tuple):
            continue
        if prefixes and not any(
            path.startswith(p) for path, _line in message.locations for p in prefixes
        ):
            continue
        missing = [code for code, cat in catalogs.items() if not cat.get(message.id)]
        if missing:
            where = " ".join(f"{p}:{n}" for p, n in message.locations)
            print(f"#: {where}\n# missing: {' '.join(missing)}\nmsgid {escape(message.id)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
