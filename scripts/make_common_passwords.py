"""Write dashboard/data/common-passwords.txt from the `zxcvbn` package's frequency list.

Run at development time only (the dashboard reads the file, it does not depend on zxcvbn):

    python3 -m venv /tmp/pw && /tmp/pw/bin/pip install zxcvbn==4.5.0
    /tmp/pw/bin/python scripts/make_common_passwords.py

The file holds the 10 000 most common passwords, plus every longer-than-9-character one of the
30 000 the package lists (the only ones the length rule lets through), lower-cased, most common
first.
"""

from __future__ import annotations

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

TOP = 10_000
MIN_LENGTH = 10
TARGET = Path(__file__).resolve().parent.parent / "dashboard" / "data" / "common-passwords.txt"


def main() -> None:
    ranked = [p.strip().lower() for p in FREQUENCY_LISTS["passwords"] if p.strip()]
    chosen = dict.fromkeys(p for n, p in enumerate(ranked) if n < TOP or len(p) >= MIN_LENGTH)
    TARGET.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    print(f"{len(chosen)} passwords written to {TARGET}")


if __name__ == "__main__":
    main()
