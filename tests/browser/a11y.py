"""Checks every browser test can run on the page it is looking at.

- ``assert_accessible(page)``: axe-core (from the npm registry, ``npm ci`` installs it under node_modules/;
  .ci/run does that before the browser tests) injected into the page, WCAG 2 A and AA rules; any violation
  fails with the rule, the help text and the first offending elements.
- ``assert_no_sideways_scroll(page)``: nothing is wider than the window (phones at 390 px).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    if not AXE.exists():
        raise AssertionError(f"缺少 {AXE}：请在项目根目录运行 npm ci（.ci/run 会运行）。")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as a <script> tag, so the page's CSP does not refuse it.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return result["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(n["target"]) for n in v["nodes"][:4])
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {v['help']} — {targets}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core: {page.url}\n" + describe(violations)


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], f"{page.url} 横向溢出：{widths}"
