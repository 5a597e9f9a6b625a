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
  a hash of an older scheme, or a picture kept in one version only, is no change
  (``newscrawl/versions/same_when_rehashed``);
* a known id whose content changed → the item goes on to become a new version
  (``newscrawl/items/updated``), marked with its ``origin`` (:mod:`newscrawl.provenance`):
  the site's, or derived by a changed parser from a page that did not change — then the
  drift is logged and counted (``newscrawl/drift/parser``, ``newscrawl/drift/derived``), and
  in a live crawl it is an alarm of the run report; an unknown id → ``newscrawl/items/new``.
  ``updated`` is only ever the time the site gives, never invented.

In a reparse each capture replayed is a run of its own: the same id twice is a duplicate
only when it comes from the same capture.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from newscrawl.archive import Archive, WriteFailed, archive_of, stop_crawl
from newscrawl.drops import count_drop
from newscrawl.items import adapt
from newscrawl.provenance import PARSER, SITE, ChangeOrigin
from newscrawl.versions import content_hash, exact_hash, same_content
from newscrawl.warc import warc_dir

logger = logging.getLogger(__name__)


class UnchangedItem(DropItem):
    """An archived article that has not changed: nothing to write (it was parsed fine)."""


class DedupePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.seen: set[tuple[str, ...]] = set()
        self.reparsing = crawler.settings.getbool("NEWSCRAWL_REPARSE")
        self._origin: ChangeOrigin | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    @property
    def archive(self) -> Archive:
        return archive_of(self.crawler)

    def close_spider(self) -> None:
        if self._origin is not None:
            self._origin.close()

    def change_origin(self) -> ChangeOrigin:
        if self._origin is None:
            from newscrawl.spiders.base import NewsSpider

            spider = self.crawler.spider
            if not isinstance(spider, NewsSpider):
                raise TypeError("the DedupePipeline reads the captures of the project's spiders")
            self._origin = ChangeOrigin(warc_dir(self.crawler.settings, spider.name), spider.site,
                                        self.crawler.settings, getattr(spider, "parse_context", None))
        return self._origin

    def process_item(self, item: Any) -> Any:
        a = adapt(item)
        key: tuple[str, ...] = (a["site"], a["id"])
        if self.reparsing:
            key += ((a.get("capture") or {}).get("record") or "",)
        if key in self.seen:
            count_drop(self.stats, "duplicate", a["url"], f"id {a['id']} already in this run")
            raise DropItem(f"duplicate id {a['id']}", log_level="DEBUG")
        self.seen.add(key)
        a["content_hash"] = content_hash(item)  # with the pictures the PicturesPipeline kept
        known = self.archive.state.known(a["id"])
        if known is None or not known.complete:
            a["origin"] = SITE
            self.stats.inc_value("newscrawl/items/new")
            return item
        stored = self.archive.stored_item(known) if known.content_hash != a["content_hash"] else None
        if known.content_hash == a["content_hash"] or self._same_as_stored(stored, item):
            trivial = known.exact_hash is not None and known.exact_hash != exact_hash(item)
            try:
                self.archive.checked(item, trivial=trivial, known=known)
            except WriteFailed as exc:
                stop_crawl(self.crawler, exc)
            self.stats.inc_value("newscrawl/items/trivial" if trivial else "newscrawl/items/unchanged")
            raise UnchangedItem(f"{'trivially changed' if trivial else 'unchanged'} {a['id']}",
                                log_level="DEBUG")
        origin, drift = SITE, False
        if stored and stored.get("capture"):  # parsed from a capture: parse it again to tell
            origin, drift = self.change_origin().origin(item, stored)
        a["origin"] = origin
        if drift:
            self.stats.inc_value("newscrawl/drift/parser")
            if origin == PARSER:
                self.stats.inc_value("newscrawl/drift/derived")
            logger.warning("The parser changed: %s parses the capture of version %d of %s differently "
                           "now; this %s", a.get("parser"), known.version, a["id"],
                           "version is derived from the same page, not an edit of the site"
                           if origin == PARSER else "version holds an edit of the site as well")
        self.stats.inc_value("newscrawl/items/updated")
        logger.info("Changed since last crawl: %s %s (%s)", a["id"], a["url"], origin)
        return item

    def _same_as_stored(self, stored: dict[str, Any] | None, item: Any) -> bool:
        """Whether the stored version (its JSON line), hashed again now, shows the same."""
        if stored is None or not same_content(stored, item):
            return False
        self.stats.inc_value("newscrawl/versions/same_when_rehashed")
        return True
