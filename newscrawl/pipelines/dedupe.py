"""Deduplication on the site's stable article id, within a run and across runs.

* the same id twice in one run → the second is dropped (``newscrawl/dropped/duplicate``);
* an id the state knows with the same content (what a reader sees — text, which pictures,
  where links lead — normalised: see :mod:`newscrawl.versions`) → no new version:
  unchanged (``newscrawl/items/unchanged``), or a trivial change — other whitespace,
  punctuation width, tracking parameters, a picture kept now that failed before — that
  refreshes the post in place (``newscrawl/items/trivial``); either way the re-check
  schedule moves on. The content hash is computed here, after the pictures pipeline: which
  picture is shown is known only then. When it differs from the stored one, the stored
  version's JSON line is hashed again with it (:func:`newscrawl.versions.same_content`):
  a hash of an older scheme, or a picture kept in one version only, is no change;
* a known id whose content changed → ``updated`` is set and the item goes on to become a new
  version (``newscrawl/items/updated``); an unknown id → ``newscrawl/items/new``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from newscrawl.archive import Archive
from newscrawl.items import adapt
from newscrawl.pipelines.validate import count_drop
from newscrawl.state import Known
from newscrawl.versions import content_hash, exact_hash, same_content

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
        a = adapt(item)
        key = (a["site"], a["id"])
        if key in self.seen:
            count_drop(self.stats, "duplicate", a["url"], f"id {a['id']} already in this run")
            raise DropItem(f"duplicate id {a['id']}", log_level="DEBUG")
        self.seen.add(key)
        a["content_hash"] = content_hash(item)  # with the pictures the PicturesPipeline kept
        known = self.archive.known(a["id"])
        if known is None or not known.complete:
            self.stats.inc_value("newscrawl/items/new")
            return item
        if known.content_hash == a["content_hash"] or self._same_as_stored(known, item):
            trivial = known.exact_hash is not None and known.exact_hash != exact_hash(item)
            self.archive.checked(item, trivial=trivial)
            self.stats.inc_value("newscrawl/items/trivial" if trivial else "newscrawl/items/unchanged")
            raise UnchangedItem(f"{'trivially changed' if trivial else 'unchanged'} {a['id']}",
                                log_level="DEBUG")
        if not a.get("updated"):
            a["updated"] = a["crawled_at"]
        self.stats.inc_value("newscrawl/items/updated")
        logger.info("Changed since last crawl: %s %s", a["id"], a["url"])
        return item

    def _same_as_stored(self, known: Known, item: Any) -> bool:
        """Whether the stored version (its JSON line), hashed again now, shows the same."""
        previous = self.archive.previous_item(known)
        if previous is None or not same_content(previous, item):
            return False
        self.stats.inc_value("newscrawl/versions/same_when_rehashed")
        return True
