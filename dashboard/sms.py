"""Text for an SMS: only characters of the GSM 7-bit alphabet (3GPP TS 23.038).

One character outside it (a narrow no-break space in "20 000 FBu", an em dash, curly quotes,
"ç" or "ê") makes the phone send the whole message as UCS-2: 70 characters a part instead of
160, so a bill's message costs two or three parts instead of one. WhatsApp and e-mail keep
proper typography; only the SMS body goes through ``sms_text``.
"""

from __future__ import annotations

import unicodedata

# The default alphabet, in code order (0x1B, the escape to the extension table, left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through the escape: each costs two of the 160 places.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# What a character outside the alphabet becomes: spaces and dashes of typography, quotes,
# and letters whose accent GSM lacks (the others lose their accent through NFKD below).
_REPLACEMENTS = {
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French thousands, before : ; ! ?)
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u2002": " ",
    "\u2003": " ",
    "\t": " ",
    "\u2010": "-",
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",
    "\u2212": "-",  # minus sign
    "\u2018": "'",
    "\u2019": "'",  # apostrophe as French typography writes it
    "\u201a": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',  # « guillemets »
    "\u00bb": '"',
    "\u2039": "'",
    "\u203a": "'",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\u00d7": "x",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",  # GSM has only the capital
    "\u2713": "",  # a tick in a label
}


def sms_text(text: str) -> str:
    """``text`` with every character the GSM 7-bit alphabet lacks replaced by its nearest
    equivalent there (or "?" when there is none, as a phone would show it)."""
    said = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            said.append(char)
            continue
        if char in _REPLACEMENTS:
            said.append(_REPLACEMENTS[char])
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if plain and all(c in GSM7_BASIC for c in plain):
            said.append(plain)
        else:
            said.append("?")
    return "".join(said)
