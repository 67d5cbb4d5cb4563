"""axe-core (the engine Lighthouse's accessibility score uses) run inside the page under test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_SECONDS = 20


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every violation of axe's default rules (all impact levels) on the page as it is now."""
    assert AXE.exists(), f"{AXE} is missing: run npm ci"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the browser's devtools protocol, not as a <script> tag: the page's own
        # Content-Security-Policy (script-src 'self') stays on, so the page is audited as served.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    # The audit is a promise: bounded here, so a hung audit fails instead of waiting forever.
    found: list[dict[str, Any]] = page.evaluate(
        """seconds => Promise.race([
             axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary,
                                         html: n.html.slice(0, 200)}))}))),
             new Promise((_, fail) => setTimeout(
               () => fail(new Error("axe did not finish in " + seconds + " s")), seconds * 1000)),
           ])""",
        AXE_SECONDS,
    )
    return found


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:3]:
            lines.append(f"    {node['target']}: {node['html']}\n      {node['summary']}")
    return "\n".join(lines)
