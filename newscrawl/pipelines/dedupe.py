"""Deduplication on the site's stable article id, within a run and across runs.

* the same id twice in one run → the second is dropped (``newscrawl/dropped/duplicate``);
* an id the state knows with the same content hash and title → unchanged, not written again
  (``newscrawl/items/unchanged``);
* a known id whose text or title changed → ``updated`` is set and the item goes on to rewrite
  its post in place (``newscrawl/items/updated``); an unknown id → ``newscrawl/items/new``.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from newscrawl.archive import Archive
from newscrawl.pipelines.validate import count_drop

logger = logging.getLogger(__name__)


class UnchangedItem(DropItem):
    """An archived article that has not changed: nothing to write (it was parsed fine)."""


class DedupePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    @property
    def archive(self) -> Archive:
        return self.crawler.get_extension(Archive)

    def process_item(self, item: Any) -> Any:
        a = ItemAdapter(item)
        key = (a["site"], a["id"])
        if key in self.seen:
            count_drop(self.stats, "duplicate", a["url"], f"id {a['id']} already in this run")
            raise DropItem(f"duplicate id {a['id']}", log_level="DEBUG")
        self.seen.add(key)
        known = self.archive.known(a["id"])
        if known is None or known.content_hash is None:
            self.stats.inc_value("newscrawl/items/new")
            return item
        if known.content_hash == a["content_hash"] and known.title == a["title"]:
            self.archive.frontier_done(a["id"])
            self.stats.inc_value("newscrawl/items/unchanged")
            raise UnchangedItem(f"unchanged {a['id']}", log_level="DEBUG")
        if not a.get("updated"):
            a["updated"] = a["crawled_at"]
        self.stats.inc_value("newscrawl/items/updated")
        logger.info("Changed since last crawl: %s %s", a["id"], a["url"])
        return item
