"""Decoding that does not trust the declared charset blindly.

Pages lie about their encoding: UTF-8 bytes declared ``gb2312``/``gbk`` (a template copied
from an older site), GBK bytes declared UTF-8, UTF-8 declared ``iso-8859-1``. Decoded as
declared, each gives *mojibake* — text that looks Chinese but is not (``寰峰浗涔嬪０``) or
replacement characters — and an archive must never keep it.

:func:`decoded` checks the bytes against the declaration and answers a response whose text
is right, re-decoded when the bytes clearly say otherwise, or raises :class:`Undecodable`
when no reading of the bytes is clean. It tries, in order: a byte-order mark, UTF-8, the
declared charset (the Content-Type header's, then the page's ``<meta>``), and a detector
(charset-normalizer); a declaration whose decoder accepts almost any byte (GBK, Big5…) is
believed only when the detector does not read the bytes otherwise.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer
from scrapy.http import HtmlResponse, TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

#: Encodings whose decoder accepts almost any byte sequence: a clean decode proves nothing.
_PERMISSIVE = {codecs.lookup(name).name for name in (
    "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp1252", "latin-1", "cp950", "cp936", "euc-kr",
    "cp949", "shift_jis", "cp932", "euc-jp", "ascii")}
_REPLACEMENT = "\ufffd"
#: Share of replacement characters (among non-ASCII characters) above which a text is damaged.
MAX_REPLACEMENT_SHARE = 0.01
_HIGH_BYTES = re.compile(rb"[\x80-\xff]")
#: byte-order marks by which Scrapy (w3lib) reads a page as UTF-16 or UTF-32, whatever it declares
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class Undecodable(ValueError):
    """No decoding of the page's bytes gives clean text."""


def _name(encoding: str | None) -> str:
    if not encoding:
        return ""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def replacement_share(text: str) -> float:
    """Replacement characters among the non-ASCII characters of ``text``."""
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return text.count(_REPLACEMENT) / non_ascii if non_ascii else 0.0


def _redecoded(response: TextResponse, encoding: str) -> TextResponse:
    cls = type(response) if isinstance(response, TextResponse) else HtmlResponse
    # the bytes stay as they are; only the reading changes (a given encoding wins over the
    # declaration in Scrapy's TextResponse)
    return cls(url=response.url, status=response.status, headers=response.headers, body=response.body,
               encoding=encoding, request=response.request, flags=[*response.flags, f"redecoded:{encoding}"],
               certificate=response.certificate, ip_address=response.ip_address, protocol=response.protocol)


def _detected(body: bytes) -> tuple[str, str] | None:
    """The encoding a detector (charset-normalizer) finds for ``body`` and its text, or
    ``None`` when it finds none that reads the bytes without chaos. Only asked about bytes
    that are not UTF-8 (rare: both sites serve UTF-8), so its cost (a few ms) is seldom paid."""
    best = charset_normalizer.from_bytes(body).best()
    if best is None or best.encoding is None:
        return None
    text = _strict(body, best.encoding)
    return (best.encoding, text) if text is not None else None


def _declarations(response: TextResponse) -> list[str]:
    """The encodings the page declares: its Content-Type header's, then its own ``<meta>``'s."""
    header = response.headers.get(b"Content-Type") or b""
    found = [http_content_type_encoding(header.decode("latin-1")),
             html_body_declared_encoding(response.body)]
    return list(dict.fromkeys(_name(name) for name in found if name))


def decoded(response: TextResponse) -> TextResponse:
    """The response with a text that matches its bytes.

    * Bytes that begin with a UTF-16/32 byte-order mark are read by it.
    * Bytes that are valid UTF-8 with multi-byte sequences are UTF-8, whatever was declared
      (real GBK, Big5 or Latin-1 text with many high bytes almost never forms valid UTF-8).
    * Bytes that are UTF-8 but for a damaged byte or two (under 1 % replacement characters)
      are UTF-8 too.
    * Other bytes are read by the first of the declared charset (header, then the page's
      ``<meta>``) and the detector's (charset-normalizer) that reads them without an error —
      but a declaration whose decoder takes almost any byte (GBK, Big5, Latin-1…) counts
      only when the detector agrees or finds nothing: Big5 bytes "read" as GBK are mojibake.
    * Bytes nothing reads (or a text that still holds more than 1 % replacement characters
      among its non-ASCII characters) are refused with :class:`Undecodable`.
    """
    body = response.body
    declared = _name(response.encoding)
    if body.startswith(_UTF16_32_BOMS):
        bom = _name(read_bom(body)[0])
        if bom and _strict(body, bom) is not None:
            return response if declared == bom else _redecoded(response, bom)
        raise Undecodable(f"the bytes after its {bom or 'UTF-16/32'} byte-order mark are not {bom or 'that'}")
    if _HIGH_BYTES.search(body) is None:
        return response  # pure ASCII: every declaration reads it the same
    if declared == "utf-8" and _REPLACEMENT not in response.text:
        # read as UTF-8 without a replacement: valid UTF-8 (the text, needed anyway, is the
        # one decoding of the page; a page that holds U+FFFD itself takes the long way)
        return response
    as_utf8 = _strict(body, "utf-8")
    if as_utf8 is not None:
        return response if declared == "utf-8" else _redecoded(response, "utf-8")
    lenient = body.decode("utf-8", "replace")
    if replacement_share(lenient) <= MAX_REPLACEMENT_SHARE:
        # UTF-8 with a damaged byte or two (never read that as GB18030: it would "decode")
        return response if declared == "utf-8" else _redecoded(response, "utf-8")
    detected = _detected(body)
    for name in _declarations(response):
        if name == "utf-8":
            continue  # (not UTF-8: seen above)
        text = _strict(body, name)
        if text is not None and (name not in _PERMISSIVE or detected is None or text == detected[1]):
            return response if declared == name else _redecoded(response, name)
    if detected is not None:
        return _redecoded(response, detected[0])
    raise Undecodable(f"neither UTF-8, its declared charset ({', '.join(_declarations(response)) or 'none'})"
                      " nor a detector reads its bytes")
