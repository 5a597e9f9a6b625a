"""Validation: an item missing what an archive needs is dropped, logged and counted."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from newscrawl.archive import WriteFailed, archive_of, stop_crawl
from newscrawl.drops import count_drop
from newscrawl.items import adapt
from newscrawl.sites.base import REQUIRED
from newscrawl.text import parse_datetime

#: Clock skew tolerated before a publication date counts as "in the future".
FUTURE_TOLERANCE = timedelta(days=1)
#: ``NEWSCRAWL_MAX_TITLE_CHARS``' default: a longer "title" is not a headline.
MAX_TITLE_CHARS = 1000


def visible(text: str) -> bool:
    """Whether the text has a character a reader sees: a letter, digit, punctuation mark or
    symbol other than U+FFFD (what undecodable bytes became)."""
    return any(ch != "\ufffd" and unicodedata.category(ch)[0] in "LNPS" for ch in text)


def validate_article(item: Any, now: datetime | None = None,
                     max_title_chars: int = MAX_TITLE_CHARS) -> str | None:
    """The reason to drop the item (a short stats key), or ``None`` when it is fit to archive."""
    a = adapt(item)
    for name in REQUIRED:
        if not a.get(name):
            return f"missing_{'body' if name == 'body_markdown' else name}"
    if not visible(a["title"]):
        return "invisible_title"
    if len(a["title"]) > max_title_chars:
        return "title_too_long"
    published = parse_datetime(a["published"])
    if published is None:
        return "invalid_published"
    if published > (now or datetime.now(UTC)) + FUTURE_TOLERANCE:
        return "published_in_future"
    return None


class ValidatePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.max_title_chars = crawler.settings.getint("NEWSCRAWL_MAX_TITLE_CHARS", MAX_TITLE_CHARS)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        reason = validate_article(item, max_title_chars=self.max_title_chars)
        if reason:
            a = adapt(item)
            count_drop(self.stats, reason, a.get("url"))
            if a.get("id"):  # re-crawls try it again only after a while
                try:
                    archive_of(self.crawler).state.record_failure(a["id"], reason)
                except WriteFailed as exc:
                    stop_crawl(self.crawler, exc)
            # Already logged with its reason: keep Scrapy's own drop message quiet.
            raise DropItem(f"invalid item: {reason}", log_level="DEBUG")
        return item
