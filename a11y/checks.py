"""The checks run on every page state: axe-core, reflow, text at 200 %.

``Audit`` runs them, records one report row per page state (route × variant ×
viewport) and collects the problems; the test asserts at the end so that one test
reports every failing state of a journey, not only the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from axe_playwright_python.sync_playwright import Axe

from . import report

#: WCAG 2.2 AA as axe-core tags it (``target-size`` runs only when wcag22aa is asked for).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
VARIANTS = {"de": "de", "ls": "de-x-ls", "en": "en"}  # ?lang= code → <html lang>
VIEWPORTS = [(320, 640), (1280, 800)]
MAX_NODES_SHOWN = 8


class CachedAxe(Axe):
    """axe-playwright-python's Axe, injecting axe-core once per document (not per run)."""

    def run(self, page: Any, context: Any = None, options: dict | None = None) -> Any:
        from axe_playwright_python.base import AxeResults

        if not page.evaluate("() => typeof window.axe === 'object' && !!window.axe.run"):
            page.evaluate(self.axe_script)
        response = page.evaluate(
            "([context, options]) => axe.run(context || document, options)",
            [context, options or AXE_OPTIONS],
        )
        return AxeResults(response)


AXE = CachedAxe()


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations, trimmed to what a report needs."""
    results = AXE.run(page, options=AXE_OPTIONS).response
    out = []
    for v in results["violations"]:
        out.append(
            {
                "id": v["id"],
                "impact": v.get("impact"),
                "help": v.get("help"),
                "helpUrl": v.get("helpUrl"),
                "nodes": [
                    {
                        "target": n["target"][0] if n.get("target") else "?",
                        "summary": (n.get("failureSummary") or "").replace("\n", " ").strip(),
                    }
                    for n in v.get("nodes", [])
                ],
            }
        )
    return out


def format_violations(found: list[dict[str, Any]]) -> str:
    """One line per rule: id (impact): help — the first target selector of each node."""
    lines = []
    for v in found:
        targets = [str(n["target"]) for n in v["nodes"]]
        shown = ", ".join(targets[:MAX_NODES_SHOWN])
        more = (
            f" (+{len(targets) - MAX_NODES_SHOWN} more)" if len(targets) > MAX_NODES_SHOWN else ""
        )
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {shown}{more}")
    return "\n".join(lines)


#: Horizontal overflow and clipped content. Elements smaller than 2×2 px are the
#: visually-hidden pattern and do not count; an element left of the viewport (an
#: off-screen skip link) does not count either.
OVERFLOW_JS = """
() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const inScroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (/auto|scroll|hidden|clip/.test(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const more = (list) => list.slice(0, 6).join(', ') +
    (list.length > 6 ? ` (+${list.length - 6} more)` : '');
  if (root.scrollWidth > width) {
    problems.push(`horizontal scroll: scrollWidth ${root.scrollWidth} > ${width}`);
  }
  const sticking = [], clipped = [];
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 2 || box.height <= 2) continue;
    if (box.right > width + 1 && box.left < width && !inScroller(el)) {
      sticking.push(name(el) + ` (right edge ${Math.round(box.right)})`);
    }
    const hides = /hidden|clip/.test(style.overflowX) || /hidden|clip/.test(style.overflowY);
    const media = ['VIDEO', 'IMG', 'SVG', 'CANVAS'].includes(el.tagName);
    if (hides && !media &&
        (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
      clipped.push(name(el) +
        ` (${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight})`);
    }
  }
  if (sticking.length) problems.push('sticks out to the right: ' + more(sticking));
  if (clipped.length) problems.push('content cut off: ' + more(clipped));
  return problems;
}
"""


def overflow(page: Any) -> list[str]:
    return page.evaluate(OVERFLOW_JS)


def overflow_at_200_percent(page: Any) -> list[str]:
    """Text at 200 % (root font size) must not cause horizontal scroll or clip content."""
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    try:
        return overflow(page)
    finally:
        page.evaluate("() => { document.documentElement.style.fontSize = ''; }")


@dataclass
class Audit:
    """Runs the checks for one test and records its rows for the report."""

    test: str
    variant: str
    viewport: tuple[int, int]
    mode: str = ""
    group: int = 0
    problems: list[str] = field(default_factory=list)
    seq: int = 0

    @property
    def viewport_label(self) -> str:
        return f"{self.viewport[0]}×{self.viewport[1]}"

    def fail(self, route: str, state: str, check: str, detail: str, page: Any = None) -> None:
        """Record a failure that is not a page check (e.g. a wrong HTTP status)."""
        self._row(
            route,
            state,
            page,
            [{"name": check, "passed": False, "detail": detail, "violations": []}],
        )

    def result(self, page: Any, route: str, state: str, check: str, problems: list[str]) -> bool:
        """Record the outcome of a check done by the test itself (keyboard, rendering)."""
        return self._row(
            route,
            state,
            page,
            [
                {
                    "name": check,
                    "passed": not problems,
                    "detail": "; ".join(problems),
                    "violations": [],
                }
            ],
        )

    def page(
        self,
        page: Any,
        route: str,
        state: str = "",
        *,
        axe: bool = True,
        reflow: bool = True,
        text200: bool | None = None,
        german_h1: str | None = None,
    ) -> bool:
        """Check the page as it is now; returns True if everything passed.

        ``german_h1``: the page's German heading; in the English variant the h1 must differ
        (German text under ``lang="en"`` fails WCAG 3.1.1, which axe cannot see).
        """
        checks: list[dict[str, Any]] = []
        expected_lang = VARIANTS.get(self.variant)
        actual_lang = page.evaluate("() => document.documentElement.lang")
        problems = []
        if expected_lang and actual_lang != expected_lang:
            problems.append(f'<html lang="{actual_lang}">, expected "{expected_lang}"')
        if german_h1 and self.variant == "en":
            h1 = " ".join(page.locator("main h1").first.inner_text().split())
            if h1 == german_h1:
                problems.append(f"h1 not translated: {h1!r}")
        if problems:
            checks.append(
                {
                    "name": "language",
                    "passed": False,
                    "violations": [],
                    "detail": "; ".join(problems),
                }
            )
        if axe:
            found = violations(page)
            checks.append(
                {
                    "name": "axe",
                    "passed": not found,
                    "violations": found,
                    "detail": format_violations(found),
                }
            )
        if reflow:
            issues = overflow(page)
            checks.append(
                {
                    "name": f"reflow {self.viewport[0]}px",
                    "passed": not issues,
                    "violations": [],
                    "detail": "; ".join(issues),
                }
            )
        if text200 is None:
            text200 = self.viewport[0] >= 1024
        if text200:
            issues = overflow_at_200_percent(page)
            checks.append(
                {
                    "name": "text 200%",
                    "passed": not issues,
                    "violations": [],
                    "detail": "; ".join(issues),
                }
            )
        return self._row(route, state, page, checks)

    def _row(self, route: str, state: str, page: Any, checks: list[dict[str, Any]]) -> bool:
        self.seq += 1
        url = page.url if page is not None else ""
        passed = all(c["passed"] for c in checks)
        report.record(
            {
                "test": self.test,
                "route": route,
                "state": state,
                "url": url,
                "variant": self.variant,
                "viewport": self.viewport_label,
                "mode": self.mode,
                "passed": passed,
                "checks": checks,
                "sort": [self.group, self.seq],
            }
        )
        for c in checks:
            if not c["passed"]:
                where = " · ".join(
                    x for x in (route, state, self.variant, self.viewport_label, self.mode) if x
                )
                self.problems.append(
                    f"[{where}] {c['name']}:\n  " + c["detail"].replace("\n", "\n  ")
                )
        return passed

    def assert_clean(self) -> None:
        assert not self.problems, f"{len(self.problems)} accessibility problem(s):\n" + "\n".join(
            self.problems
        )


def axe_version() -> str:
    """The axe-core version bundled with axe-playwright-python (from the file's banner)."""
    first = AXE.axe_script[:200].splitlines()[0] if AXE.axe_script else ""
    return first.removeprefix("/*! axe ").strip() if first.startswith("/*! axe") else ""
