"""The audit trail and a cash-in's journal say what happened in words, in the reader's
language; the action codes stay in the database and in the filter's values."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask import Flask
from flask_babel import force_locale

from dashboard.admin.audit_filter import KNOWN_ACTIONS
from dashboard.labels import AUDIT_ACTIONS, audit_action_label
from dashboard.models import User
from dashboard.sandbox.server import RunningSandbox
from tests.conftest import WebClient
from tests.http import test_cashins as cashins
from tests.http.test_one_language import readable_text, staff_in_french

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
# Codes built at run time, by the expression that builds them: the values it can take.
BUILT = {
    "f'cashin.{outcome.value}'": ["cashin.succeeded", "cashin.failed", "cashin.unknown"],
}
ACTION_CODE = re.compile(r"\b(auth|bill|cashin|display|setting|settings|user)\.[a-z_]+\b")


def _is_audit_record(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "record"
        and (isinstance(func.value, ast.Name) and func.value.id == "audit")
    )


def _constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _codes(node: ast.expr, constants: dict[str, str], passed: set[str]) -> list[str] | None:
    """The action codes an argument can hold; [] for a recorder's own parameter passed on."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _codes(node.body, constants, passed), _codes(node.orelse, constants, passed)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.Name) and node.id in passed:
        return []
    if isinstance(node, ast.JoinedStr):
        return BUILT.get(ast.unparse(node))
    return None


def recorded_actions() -> dict[str, str]:
    """Every action code the dashboard writes to the audit trail, with where it is written:
    the first argument of ``audit.record`` and of the helpers that pass theirs on to it."""
    found: dict[str, str] = {}
    for path in sorted(DASHBOARD.rglob("*.py")):
        if "sandbox" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        # Helpers such as cashins' _trail(action, ...) that hand their first parameter on.
        recorders: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.args.args:
                first = node.args.args[0].arg
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and _is_audit_record(call)
                        and call.args
                        and isinstance(call.args[0], ast.Name)
                        and call.args[0].id == first
                    ):
                        recorders[node.name] = first
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            is_helper = isinstance(node.func, ast.Name) and node.func.id in recorders
            if not (_is_audit_record(node) or is_helper):
                continue
            codes = _codes(node.args[0], constants, set(recorders.values()))
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert codes is not None, f"{where}: cannot tell which action code is recorded"
            for code in codes:
                found.setdefault(code, where)
    return found


def test_the_collector_finds_the_actions_recorded_across_the_dashboard() -> None:
    found = recorded_actions()
    for code in [
        "auth.login",
        "auth.login_failed",
        "bill.created",
        "bill.callback_refused",  # a module constant
        "cashin.drafted",  # through cashins' _trail
        "cashin.submitted_for_approval",  # one side of a conditional
        "cashin.confirmed",
        "display.pairing_failed",
        "user.deactivated",
    ]:
        assert code in found, code
    assert len(found) >= 30


def test_every_recorded_action_is_said_in_words_in_both_languages(app: Flask) -> None:
    found = recorded_actions()
    unlabelled = {code: where for code, where in found.items() if code not in AUDIT_ACTIONS}
    assert not unlabelled, f"actions recorded without words: {unlabelled}"
    assert set(found) <= set(KNOWN_ACTIONS), "the filter offers every action"
    with app.test_request_context():
        for code in found:
            with force_locale("en"):
                english = audit_action_label(code)
            with force_locale("fr"):
                french = audit_action_label(code)
            assert english != code and not ACTION_CODE.search(english), code
            assert french != english, f"{code}: no French ({english!r})"


def test_an_unknown_action_is_shown_as_stored(app: Flask) -> None:
    with app.test_request_context():
        assert audit_action_label("test.something") == "test.something"


def _prepare_awaiting_approval(app: Flask) -> tuple[WebClient, str]:
    accountant = staff_in_french(app, "accountant@example.com")
    url = cashins.prepare(accountant, amount="150 000").headers["Location"]
    cashins.confirm(accountant, url)
    [cashin] = cashins.cashins(app)
    assert cashin.status == "awaiting_approval"
    return accountant, url


def test_the_cashin_journal_says_what_happened_in_french(
    app: Flask, staff: dict[str, User], sandbox: RunningSandbox
) -> None:
    accountant, url = _prepare_awaiting_approval(app)
    page = accountant.get(url).get_data(as_text=True)
    journal = page[page.index('data-testid="cashin-trail"') :]
    journal = journal[: journal.index("</ol>")]
    text = readable_text(journal)
    assert "Versement préparé" in text and "Versement soumis à approbation" in text
    assert not ACTION_CODE.search(text), text
    assert 'data-action="cashin.drafted"' in journal  # the code is still there for tools


def test_the_audit_trail_says_what_happened_and_filters_by_code(
    app: Flask, staff: dict[str, User], sandbox: RunningSandbox
) -> None:
    _prepare_awaiting_approval(app)
    admin = staff_in_french(app, "admin@example.com")
    page = admin.get("/admin/audit").get_data(as_text=True)
    table = page[page.index('data-testid="audit"') :]
    text = readable_text(table)
    for words in ["Connexion", "Versement préparé", "Versement soumis à approbation"]:
        assert words in text, words
    assert not ACTION_CODE.search(text), ACTION_CODE.search(text)

    # The filter's values are the codes; its list shows the words next to them.
    assert '<option value="cashin.drafted" label="Versement préparé">' in page
    filtered = admin.get("/admin/audit?action=cashin.drafted").get_data(as_text=True)
    assert set(re.findall(r'data-action="([a-z_.]+)"', filtered)) == {"cashin.drafted"}

    admin.post("/lang", {"lang": "en", "next": "/"})
    english = readable_text(admin.get("/admin/audit").get_data(as_text=True))
    assert "Signed in" in english and "Cash-in submitted for approval" in english


def test_the_audit_trails_date_filters_say_from_and_to_as_dates_in_french(
    app: Flask, staff: dict[str, User]
) -> None:
    """The date fields are "Du" / "Au" (as on the bills and cash-ins lists), not the table's
    "Origine" (where a request came from) nor a cash-in's "Bénéficiaire"."""
    admin = staff_in_french(app, "admin@example.com")
    page = admin.get("/admin/audit").get_data(as_text=True)
    labels = dict(re.findall(r'<label[^>]*for="f-(from|to)"[^>]*>([^<]+)</label>', page))
    assert labels == {"from": "Du", "to": "Au"}, labels
