"""A hung test fails instead of eating CI's time: the suite runs under pytest-timeout, and a
browser test never waits on a page without a bound of its own.

Playwright bounds its actions and waits (``PAGE_TIMEOUT_MS`` in tests/browser/conftest.py) but not
``evaluate``: an expression that returns a promise (a clipboard read, an event, a fetch) waits for
ever. Such expressions go through ``settle()``, which races them against a timer.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROMISE_LIKE = re.compile(
    r"clipboard|Promise|await|\.then\(|fetch\(|new Promise|requestAnimationFrame"
)


def unbounded_evaluations(source: str) -> list[int]:
    """Lines where ``<something>.evaluate(...)`` is given an expression that may be a promise."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"evaluate", "evaluate_handle"}
            and node.args
        ):
            text = ast.get_source_segment(source, node.args[0]) or ""
            raced = "Promise.race" in text and "setTimeout" in text  # bounded in the page
            if PROMISE_LIKE.search(text) and not raced:
                lines.append(node.lineno)
    return lines


def test_the_scan_finds_an_unbounded_clipboard_read() -> None:
    read = '"navigator.clipboard.readText()"'
    raced = '"Promise.race([navigator.clipboard.readText(), new Promise(r => setTimeout(r, 9))])"'
    bad = f"page.evaluate({read})\nsettle(page, {read})\npage.evaluate({raced})\n"
    assert unbounded_evaluations(bad) == [1]


def test_browser_tests_bound_every_wait_on_a_promise() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "tests" / "browser").glob("*.py"))
        if path.name != "conftest.py"
        for line in unbounded_evaluations(path.read_text(encoding="utf-8"))
    }
    assert found == set(), "use tests.browser.conftest.settle() for these"


def unbounded_closes(source: str) -> list[int]:
    """Lines where a page is closed waiting for Chromium (``.close()`` of a page object)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "close"
            and not node.args
            and not node.keywords
            and isinstance(node.func.value, ast.Name)
            and "context" not in node.func.value.id
        ):
            lines.append(node.lineno)
    return lines


def test_second_pages_are_let_go_not_awaited() -> None:
    assert unbounded_closes("payer.close()\nlet_go(payer)\nphone_context.close()\n") == [1]
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "tests" / "browser").glob("*.py"))
        if path.name != "conftest.py"
        for line in unbounded_closes(path.read_text(encoding="utf-8"))
    }
    assert found == set(), "use tests.browser.conftest.let_go() for these"


def test_every_test_runs_under_a_timeout() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    timeout = options["tool"]["pytest"]["ini_options"]["timeout"]
    assert 0 < int(timeout) <= 600
