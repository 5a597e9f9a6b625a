"""Decoding that does not trust the declared charset blindly.

Pages lie about their encoding: UTF-8 bytes declared ``gb2312``/``gbk`` (a template copied
from an older site), GBK bytes declared UTF-8, UTF-8 declared ``iso-8859-1``. Decoded as
declared, each gives *mojibake* — text that looks Chinese but is not (``寰峰浗涔嬪０``) or
replacement characters — and an archive must never keep it.

:func:`decoded` checks the bytes against the declaration and answers a response whose text
is right, re-decoded when the bytes clearly say otherwise, or raises :class:`Undecodable`
when no reading of the bytes is clean.
"""

from __future__ import annotations

import codecs
import re

from scrapy.http import HtmlResponse, TextResponse

#: Encodings whose decoder accepts almost any byte sequence: a clean decode proves nothing.
_PERMISSIVE = {"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp1252", "latin-1", "iso8859-1", "cp950",
               "cp936", "euc-kr", "cp949", "shift_jis", "cp932", "euc-jp", "ascii"}
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


def decoded(response: TextResponse) -> TextResponse:
    """The response with a text that matches its bytes.

    * Bytes that are valid UTF-8 with multi-byte sequences are UTF-8, whatever was declared
      (real GBK, Big5 or Latin-1 text with many high bytes almost never forms valid UTF-8).
    * Bytes that are UTF-8 but for a damaged byte or two (under 1 % replacement characters)
      are UTF-8 too.
    * Bytes declared UTF-8 (or nothing known) that are not UTF-8 but decode cleanly as
      GB18030 (a superset of GB2312 and GBK) are read as GB18030.
    * A text that still holds more than 1 % replacement characters (among its non-ASCII
      characters) is refused with :class:`Undecodable`.
    """
    body = response.body
    declared = _name(response.encoding)
    if _HIGH_BYTES.search(body) is None:
        return response  # pure ASCII: every declaration reads it the same
    if declared == "utf-8" and not body.startswith(_UTF16_32_BOMS) and _REPLACEMENT not in response.text:
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
    text = response.text
    if declared == "utf-8" or declared not in _PERMISSIVE:
        as_gb = _strict(body, "gb18030")
        if as_gb is not None:
            return _redecoded(response, "gb18030")
    if replacement_share(text) > MAX_REPLACEMENT_SHARE:
        raise Undecodable(f"the text has {text.count(_REPLACEMENT)} replacement characters"
                          f" (declared {response.encoding or 'nothing'}; neither UTF-8 nor GB18030 reads it)")
    return response
