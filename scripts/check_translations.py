"""Fail when a translation catalog is out of date with the code and templates.

Extracts the messages afresh (like `pybabel extract -F babel.cfg -k _l`) into a temporary .pot and
compares every catalog in dashboard/translations with it: a message missing from a catalog, left
untranslated or fuzzy, a translation whose %(placeholders)s differ, or an entry the code no longer
uses is an error. Fix with `make translations`, then translate the new entries.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "dashboard" / "translations"
# pybabel skips directories whose name starts with "_" (templates/_macros): text there is lost.
GETTEXT_CALL = re.compile(r"\b(_|gettext|ngettext|pgettext|npgettext)\(|\{%-?\s*trans\b")


def extract() -> Catalog:
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        args = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l"]
        CommandLineInterface().run([*args, "-o", str(pot), str(ROOT)])
        with pot.open("rb") as f:
            return read_po(f)


def key(message: object) -> tuple[str | None, str]:
    context = getattr(message, "context", None)
    msgid = getattr(message, "id", "")
    return context, msgid[0] if isinstance(msgid, tuple) else msgid


def label(k: tuple[str | None, str]) -> str:
    context, msgid = k
    return (f"[{context}] " if context else "") + repr(msgid)


def check_catalog(path: Path, template: Catalog) -> list[str]:
    with path.open("rb") as f:
        catalog = read_po(f)
    name = path.relative_to(ROOT)
    wanted = {key(m) for m in template if m.id}
    problems = [f"{name}: the whole catalog is marked fuzzy"] if catalog.fuzzy else []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        if found is None:
            problems.append(f"{name}: missing {label(key(message))}")
            continue
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if not all(strings):
            problems.append(f"{name}: untranslated {label(key(message))}")
        if found.fuzzy:
            problems.append(f"{name}: fuzzy {label(key(message))}")
    for message in catalog:
        if message.id and key(message) not in wanted:
            problems.append(f"{name}: no longer used {label(key(message))}")
    for message, errors in catalog.check():
        problems.extend(f"{name}: {label(key(message))}: {error}" for error in errors)
    return problems


def check_skipped_templates() -> list[str]:
    problems = []
    for path in sorted((ROOT / "templates").glob("_*/**/*.html")):
        if GETTEXT_CALL.search(path.read_text(encoding="utf-8")):
            problems.append(
                f"{path.relative_to(ROOT)}: pybabel does not extract from '_' folders; "
                "move the text to a template outside them"
            )
    return problems


def main() -> int:
    template = extract()
    catalogs = sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    problems = check_skipped_templates()
    if not catalogs:
        problems.append(f"no catalog under {CATALOGS.relative_to(ROOT)}")
    for path in catalogs:
        problems.extend(check_catalog(path, template))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(
            f"{len(problems)} translation problem(s): run `make translations`, translate the "
            "new entries (no fuzzy, no empty msgstr), then `make test` again.",
            file=sys.stderr,
        )
        return 1
    count = sum(1 for m in template if m.id)
    languages = ", ".join(p.parent.parent.name for p in catalogs)
    print(f"translations: {count} messages, complete in {languages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
