"""A log you can read: Chinese URLs as text, the stats dump at DEBUG.

* Every log message shows percent-encoded non-ASCII text decoded (``/zh/中美关系/a-1``
  instead of ``/zh/%E4%B8%AD%E7%BE%8E…``), for display only: requests, files and reports keep
  the real URLs. ASCII escapes (``%20``, ``%2F``), and controls, invisible (bidi,
  zero-width) and separator characters stay encoded, so a hostile URL cannot break or
  disguise a log line.
* Scrapy's end-of-crawl stats dump (``STATS_DUMP``, ~60 lines) is off; the same stats are
  logged at DEBUG, and are in the run report. ``-s STATS_DUMP=1`` brings Scrapy's dump back.
"""

from __future__ import annotations

import logging
import pprint
import re
import unicodedata

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.log import get_scrapy_root_handler

logger = logging.getLogger(__name__)

_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _utf8_length(lead: int) -> int:
    return 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 0


def _decode_run(match: re.Match[str]) -> str:
    raw = match.group()
    escapes = [raw[i:i + 3] for i in range(0, len(raw), 3)]
    values = [int(e[1:], 16) for e in escapes]
    out, i = [], 0
    while i < len(values):
        n = _utf8_length(values[i])
        if n and i + n <= len(values):
            try:
                char = bytes(values[i:i + n]).decode("utf-8")
            except UnicodeDecodeError:
                char = ""
            if char and unicodedata.category(char)[0] not in "CZ":
                out.append(char)
                i += n
                continue
        out.append(escapes[i])
        i += 1
    return "".join(out)


def readable(text: str) -> str:
    """Percent-encoded UTF-8 letters, digits and punctuation beyond ASCII decoded, the rest as it is."""
    return _ESCAPES.sub(_decode_run, text) if "%" in text else text


class ReadableLogRecord(logging.LogRecord):
    def getMessage(self) -> str:
        return readable(super().getMessage())


def install_readable_log() -> None:
    """Make every log record show readable URLs (unless someone else owns the record factory)."""
    if logging.getLogRecordFactory() is logging.LogRecord:
        logging.setLogRecordFactory(ReadableLogRecord)


def skip_unshown_records(log_level: str | int | None) -> None:
    """Records below ``LOG_LEVEL`` are not built at all. Scrapy sets its own loggers to
    ``DEBUG`` (the ``scrapy`` logger) and the root to ``NOTSET``, and lets its handler drop
    what is below ``LOG_LEVEL``: every response's and every item's DEBUG line ("Crawled
    (200)", "Scraped from") was made — a record, the caller's frame looked up — to be thrown
    away (7 µs each). Both loggers take ``LOG_LEVEL`` when Scrapy's root handler is installed
    and no handler anywhere would show a record below it (a test's or a user's handler
    keeps what it asked for)."""
    level = log_level if isinstance(log_level, int) else logging.getLevelName(str(log_level or "").upper())
    if not isinstance(level, int) or get_scrapy_root_handler() is None:
        return
    named = logging.root.manager.loggerDict.values()
    loggers = [logging.root, *(each for each in named if isinstance(each, logging.Logger))]
    if not all(handler.level >= level or isinstance(handler, logging.NullHandler)  # shows nothing
               for each in loggers for handler in each.handlers):
        return
    for logger_ in (logging.root, logging.getLogger("scrapy")):
        if logger_.level < level:
            logger_.setLevel(level)


class RunLog:
    """The extension: readable URLs in the log, and the stats at DEBUG when the spider closes."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLog:
        install_readable_log()
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        # not before: Scrapy puts its root handler back (the root at NOTSET) once the
        # extensions are made
        skip_unshown_records(self.crawler.settings.get("LOG_LEVEL"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not self.crawler.settings.getbool("STATS_DUMP"):
            logger.debug("Stats of %s:\n%s", spider.name, pprint.pformat(self.crawler.stats.get_stats()),
                         extra={"spider": spider})
