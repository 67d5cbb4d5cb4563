"""Small generated SVG logos, so the sandbox never points at an image it does not serve."""

from __future__ import annotations

from xml.sax.saxutils import escape


def initials(name: str) -> str:
    words = [word for word in name.replace("-", " ").split() if word[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[1][0]).upper()


def logo_svg(name: str, colour: str) -> str:
    """A 160x64 badge: rounded rectangle in the bank's colour with its initials and name."""
    label = escape(name if len(name) <= 18 else name[:17] + "…")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="64" viewBox="0 0 160 64"'
        f' role="img" aria-label="{escape(name)}">'
        f'<rect x="1" y="1" width="158" height="62" rx="12" fill="{escape(colour)}"/>'
        '<text x="16" y="41" font-family="sans-serif" font-size="24" font-weight="bold"'
        f' fill="#fff">{escape(initials(name))}</text>'
        '<text x="62" y="38" font-family="sans-serif" font-size="13" fill="#fff">'
        f"{label}</text></svg>"
    )


def icon_svg(name: str, colour: str) -> str:
    """A 64x64 square icon with the initials only."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"'
        f' role="img" aria-label="{escape(name)}">'
        f'<rect width="64" height="64" rx="14" fill="{escape(colour)}"/>'
        '<text x="32" y="41" text-anchor="middle" font-family="sans-serif" font-size="24"'
        f' font-weight="bold" fill="#fff">{escape(initials(name))}</text></svg>'
    )
