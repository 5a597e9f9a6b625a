"""Text and date helpers shared by every site: one implementation each."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Control characters except tab and newline (C0, DEL, C1), plus zero-width and BOM marks.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def repair_surrogates(value: str) -> str:
    """Join surrogate pairs and replace lone surrogates with U+FFFD.

    A JSON string on a page (``"\\ud800"``) decodes to a lone surrogate, which no UTF-8 file
    can hold: writing it would crash.
    """
    if not _SURROGATE.search(value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", repair_surrogates(value))


def clean_text(value: str | None) -> str | None:
    """NFC, control characters dropped, every whitespace run (NBSP included) folded to one space.

    Returns ``None`` for ``None`` and for strings that end up empty.
    """
    if value is None:
        return None
    value = _SPACES.sub(" ", _CONTROL.sub("", nfc(value))).strip()
    return value or None


def clean_multiline(value: str | None) -> str | None:
    """Like :func:`clean_text` but keeps paragraph breaks (for Markdown bodies)."""
    if value is None:
        return None
    value = _CONTROL.sub("", nfc(value)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in value.replace("\xa0", " ").split("\n")]
    value = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return value or None


def unique(values: list[str]) -> list[str]:
    """Drop empties and duplicates, keep the first occurrence's order."""
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out


def parse_datetime(value: str | datetime | None) -> datetime | None:
    """Parse ISO 8601 (``Z``, offsets, fractions) or RFC 822 into an aware UTC datetime.

    A naive value is taken as UTC. Returns ``None`` for anything unparseable.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if not text:
            return None
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                dt = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_utc_iso(value: str | datetime | None) -> str | None:
    """``2022-10-31T16:39:58Z``: UTC to the second, or ``None`` when unparseable."""
    dt = parse_datetime(value)
    return None if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
