"""The a11y report: report.json (machine) and report.md (people), one row per page state.

Rows are recorded in the process that runs the test. Under pytest-xdist each worker
writes its rows to ``parts/<worker>.json`` at the end of its session; the controller
(the process without ``workerinput``) merges the parts into the report. Without xdist
the single process writes the report directly. Hooks live in the root conftest.py
because the xdist controller never collects (so never loads) a11y/conftest.py.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROWS: list[dict[str, Any]] = []
PARTS = "parts"
VARIANT_ORDER = {"de": 0, "ls": 1, "en": 2}
VARIANT_NAMES = {"de": "Deutsch", "ls": "Leichte Sprache", "en": "English"}


def record(row: dict[str, Any]) -> None:
    ROWS.append(row)


def write_part(directory: Path, run: str, worker: str) -> None:
    """A worker's rows, in a file named by the run (so concurrent runs never mix)."""
    if not ROWS:
        return
    parts = directory / PARTS
    parts.mkdir(parents=True, exist_ok=True)
    tmp = parts / f".{run}.{worker}.tmp"
    tmp.write_text(json.dumps(ROWS, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, parts / f"{run}.{worker}.json")


def merge(directory: Path, run: str) -> list[dict[str, Any]]:
    """This process's rows plus the parts the workers of this run wrote (then removed)."""
    rows = list(ROWS)
    parts = directory / PARTS
    if parts.is_dir():
        for part in sorted(parts.glob(f"{run}.*.json")):
            rows.extend(json.loads(part.read_text(encoding="utf-8")))
            part.unlink()
        with contextlib.suppress(OSError):
            parts.rmdir()  # only when empty
    return rows


def _viewport_rank(label: str) -> int:
    try:
        return int(label.split("×")[0])
    except ValueError:
        return 0


def _sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    group, seq = row.get("sort", [0, 0])
    return (
        group,
        seq,
        row.get("route", ""),
        VARIANT_ORDER.get(row.get("variant", ""), 9),
        _viewport_rank(row.get("viewport", "")),
        row.get("mode", ""),
    )


def write(directory: Path, rows: list[dict[str, Any]], meta: dict[str, Any]) -> Path:
    """Write report.json and report.md; returns the path of report.md."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=_sort_key)
    failed = [r for r in rows if not r["passed"]]
    meta = dict(
        meta,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        rows=len(rows),
        failed=len(failed),
    )
    (directory / "report.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    path = directory / "report.md"
    path.write_text(render_markdown(rows, meta), encoding="utf-8")
    return path


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _check_cell(row: dict[str, Any], prefix: str) -> str:
    found = [c for c in row["checks"] if c["name"].startswith(prefix)]
    if not found:
        return "–"
    return "pass" if all(c["passed"] for c in found) else "**FAIL**"


def render_markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Accessibility report: jobcenter.digital",
        "",
        f"- Server: {meta.get('base_url', '?')}",
        f"- Generated: {meta['generated']} (pytest exit status {meta.get('exitstatus', '?')})",
        f"- Checks: axe-core {meta.get('axe_version', '')} with tags "
        f"{', '.join(meta.get('tags', []))}; reflow (no horizontal scroll, nothing sticking "
        "out or cut off); text at 200 % on desktop; `<html lang>` of the variant.",
        f"- Page states checked: {meta['rows']}, failed: **{meta['failed']}**",
        "",
        "Automated checks find only part of the problems (ACCESSIBILITY.md): keyboard, "
        "screen reader and content reviews are still needed.",
        "",
        "## Results",
        "",
        "| Route | State | Variant | Viewport | Result | axe | Reflow | Text 200 % | Problems |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        problems = []
        for c in row["checks"]:
            if c["passed"]:
                continue
            if c["violations"]:
                problems.extend(f"`{v['id']}` ({v['impact']})" for v in c["violations"])
            else:
                problems.append(c["name"])
        viewport = row["viewport"] + (f" {row['mode']}" if row.get("mode") else "")
        lines.append(
            f"| {_cell(row['route'])} | {_cell(row.get('state') or '')} | "
            f"{VARIANT_NAMES.get(row['variant'], row['variant'])} | {_cell(viewport)} | "
            f"{'pass' if row['passed'] else '**FAIL**'} | {_check_cell(row, 'axe')} | "
            f"{_check_cell(row, 'reflow')} | {_check_cell(row, 'text')} | "
            f"{_cell(', '.join(problems)) or '–'} |"
        )
    failed = [r for r in rows if not r["passed"]]
    if failed:
        lines += ["", "## Details of the failures", ""]
        by_rule: OrderedDict[str, list[str]] = OrderedDict()
        for row in failed:
            where = " · ".join(
                x
                for x in (
                    row["route"],
                    row.get("state"),
                    VARIANT_NAMES.get(row["variant"], row["variant"]),
                    row["viewport"],
                    row.get("mode"),
                )
                if x
            )
            lines += [f"### {where}", "", f"URL: `{row['url']}`  ", f"Test: `{row['test']}`", ""]
            for c in row["checks"]:
                if c["passed"]:
                    continue
                if c["violations"]:
                    for v in c["violations"]:
                        targets = [n["target"] for n in v["nodes"]]
                        lines.append(
                            f"- **{v['id']}** ({v['impact']}): {v['help']} ([rule]({v['helpUrl']}))"
                        )
                        for node in v["nodes"][:8]:
                            lines.append(f"  - `{node['target']}`: {node['summary']}")
                        if len(targets) > 8:
                            lines.append(f"  - … and {len(targets) - 8} more")
                        by_rule.setdefault(f"{v['id']} ({v['impact']}): {v['help']}", []).append(
                            where
                        )
                else:
                    lines.append(f"- **{c['name']}**: {c['detail']}")
            lines.append("")
        if by_rule:
            lines += ["## Failures by axe rule", ""]
            for rule, places in by_rule.items():
                lines.append(f"- {rule}: {len(places)} page state(s)")
    return "\n".join(lines) + "\n"
