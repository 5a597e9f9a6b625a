"""Text and date helpers shared by every site: one implementation each."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

# Control characters except tab and newline (C0, DEL, C1), zero-width and BOM marks, and lone
# surrogates (JSON may carry "\ud800"; no UTF-8 writer accepts them).
#: Control and format characters no text of an article needs: C0/C1 controls, zero-width
#: space, line/paragraph separators, BOM, lone surrogates, and the bidirectional marks,
#: embeddings, overrides and isolates (U+061C, U+200E/F, U+202A–E, U+2066–9), which can make
#: a title read other than it is written (RLO: "txt.exe" shown as "exe.txt").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e"
                      r"\u2066-\u2069\ufeff\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


#: What no XML tree may hold: control characters, lone surrogates, U+FFFE/U+FFFF.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """Lone surrogates repaired (U+FFFD), then what no XML tree may hold dropped: text an lxml
    tree can take (editing a tree fails on control characters)."""
    return NOT_XML.sub("", repair_surrogates(value))


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


def clean_text(value: Any) -> str | None:
    """NFC, control characters dropped, every whitespace run (NBSP included) folded to one space.

    Returns ``None`` for ``None``, for anything that is not a string (a list or number where
    a page's JSON should have had text) and for strings that end up empty.
    """
    if not isinstance(value, str):
        return None
    # already clean, as most are: printable (no control, format or surrogate character, no
    # whitespace but the space), single spaces between words, NFC
    if (value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " "
            and unicodedata.is_normalized("NFC", value)):
        return value or None
    value = _SPACES.sub(" ", _CONTROL.sub("", nfc(value))).strip()
    return value or None


def clean_multiline(value: Any) -> str | None:
    """Like :func:`clean_text` but keeps paragraph breaks (for Markdown bodies)."""
    if not isinstance(value, str):
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


def parse_datetime(value: Any) -> datetime | None:
    """Parse ISO 8601 (``Z``, offsets, fractions) or RFC 822 into an aware UTC datetime.

    A naive value is taken as UTC. Returns ``None`` for anything unparseable: impossible
    dates (February 30, minute 61, year 0), times that leave the calendar once converted to
    UTC, and values that are no string at all (a JSON-LD date given as a list or object).
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            return None
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                dt = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
    else:
        return None
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def to_utc_iso(value: Any) -> str | None:
    """``2022-10-31T16:39:58Z``: UTC to the second, or ``None`` when unparseable."""
    dt = parse_datetime(value)
    return None if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


#: How exactly a page gives a time: to the second, to the minute, or only the day.
PRECISIONS = ("second", "minute", "day")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_published(value: Any, precision: str | None = None) -> str | None:
    """A publication time as the item carries it: ``2022-10-31T16:39:58Z`` when the page gave
    a time of day, ``2019-05-03`` (the calendar day as the page shows it, no invented
    midnight) when it gave only a day."""
    if isinstance(value, str) and _DAY.match(value.strip()):
        try:
            datetime.strptime(value.strip(), "%Y-%m-%d")
        except ValueError:
            return None
        return value.strip()
    if precision == "day":
        dt = parse_datetime(value)
        return None if dt is None else dt.strftime("%Y-%m-%d")
    return to_utc_iso(value)


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.cache
def _t2s() -> Any:
    import opencc  # the maintained OpenCC binding (dictionaries in the wheel); loaded on first use

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified script (OpenCC ``t2s``), e.g. to compare a /b5/ title."""
    return _t2s().convert(text)
