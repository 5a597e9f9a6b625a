"""Run reports, layout-drift alarms, the progress line, the heap trim, the GC tuning and the
stats collector.

Every crawl leaves ``<NEWSCRAWL_OUTPUT_DIR>/<spider>/runs/<UTC time>.json``: duration,
requests, responses by status, items new/updated/unchanged, drops by reason, re-checks of
archived articles by why (``rechecks``: schedule, feed_text, new_title, sitemap_lastmod,
listed_date, audit), rendered pages, the WARC written (bytes, records, files), and the field coverage
of the articles it parsed — new, updated and unchanged alike, as coverage measures the parser, not the news
(share with authors, lead, images, gallery, tags; median body length in characters) — plus
the crawl stats.

A run whose coverage or median body length falls clearly below the recent runs' (the
median of the last ``NEWSCRAWL_DRIFT_RUNS`` reports with enough items) logs a warning
naming the spider and the field, and its report lists the alarm: this is how a layout
change on a site is noticed the same day. ``scrapy crawlall`` counts such a run as failed.
"""

from __future__ import annotations

import gc
import json
import logging
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import MemoryStatsCollector
from twisted.internet import task

from newscrawl.crawling.incremental import rechecks
from newscrawl.files import write_atomic
from newscrawl.pipelines.dedupe import UnchangedItem

logger = logging.getLogger(__name__)

#: Fields whose share of parsed articles is watched, and how an item "has" them.
COVERAGE_FIELDS = ("authors", "lead", "images", "gallery", "tags")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def find_drift(current: dict[str, Any], history: list[dict[str, Any]], *, min_items: int,
               drop: float, min_share: float) -> list[dict[str, Any]]:
    """Alarms for the fields of ``current`` that fell clearly below the recent runs.

    A field alarms when its value is below ``(1 - drop)`` × the median of the same field
    over ``history`` (earlier reports with at least ``min_items`` parsed articles). Shares
    whose usual value is under ``min_share`` are too rare to judge (a gallery now and then).
    """
    if current.get("parsed_articles", 0) < min_items:
        return []
    usable = [r for r in history if r.get("parsed_articles", 0) >= min_items]
    if not usable:
        return []
    alarms = []
    for field in (*COVERAGE_FIELDS, "median_body_chars"):
        past = [r["coverage"][field] for r in usable if r.get("coverage", {}).get(field) is not None]
        value = current["coverage"].get(field)
        if not past or value is None:
            continue
        baseline = statistics.median(past)
        if field != "median_body_chars" and baseline < min_share:
            continue
        if value < baseline * (1 - drop):
            alarms.append({"field": field, "value": value, "baseline": baseline})
    return alarms


class RunReport:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        s = crawler.settings
        self.output_dir = Path(s.get("NEWSCRAWL_OUTPUT_DIR"))
        self.history_size = s.getint("NEWSCRAWL_DRIFT_RUNS")
        self.min_items = s.getint("NEWSCRAWL_DRIFT_MIN_ITEMS")
        self.drop = s.getfloat("NEWSCRAWL_DRIFT_DROP")
        self.min_share = s.getfloat("NEWSCRAWL_DRIFT_MIN_SHARE")
        self.counts = dict.fromkeys(COVERAGE_FIELDS, 0)
        self.body_lengths: list[int] = []
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReport:
        if not crawler.settings.getbool("NEWSCRAWL_RUN_REPORTS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_dropped(self, item: Any, exception: BaseException, **kwargs: Any) -> None:
        """An unchanged article was parsed as well as a new one: it counts for coverage."""
        if isinstance(exception, UnchangedItem):
            self.item_scraped(item)

    def item_scraped(self, item: Any, **kwargs: Any) -> None:
        a = ItemAdapter(item)
        for field in COVERAGE_FIELDS:
            if a.get(field):
                self.counts[field] += 1
        self.body_lengths.append(len(a.get("body_markdown") or ""))

    def coverage(self) -> dict[str, Any]:
        n = len(self.body_lengths)
        cover: dict[str, Any] = {f: (round(c / n, 3) if n else None) for f, c in self.counts.items()}
        cover["median_body_chars"] = int(statistics.median(self.body_lengths)) if n else None
        return cover

    def runs_dir(self, spider: Spider) -> Path:
        return self.output_dir / spider.name / "runs"

    def history(self, spider: Spider) -> list[dict[str, Any]]:
        reports = []
        for path in sorted(self.runs_dir(spider).glob("*.json"))[-self.history_size:]:
            try:
                reports.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                logger.warning("Unreadable run report %s: left out of the drift baseline", path)
        return reports

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = {k: _plain(v) for k, v in sorted(self.crawler.stats.get_stats().items())}
        report: dict[str, Any] = {
            "spider": spider.name,
            "finish_reason": reason,
            "started": stats.get("start_time"),
            "finished": datetime.now(UTC).isoformat(),
            "duration_s": round(time.monotonic() - self.started, 3),
            "requests": stats.get("downloader/request_count", 0),
            "responses_by_status": _prefixed(stats, "downloader/response_status_count/"),
            "items": _prefixed(stats, "newscrawl/items/"),
            "parsed_articles": len(self.body_lengths),
            "dropped": _prefixed(stats, "newscrawl/dropped/"),
            # re-checks of archived articles by why: the schedule, a source's signal, the audit
            "rechecks": rechecks(stats),
            "rendered_pages": stats.get("newscrawl/rendered/pages", 0),
            # the WARC capture of every response (warc.py): bytes written (gzip), records, files
            "warc": {"bytes": stats.get("newscrawl/warc/bytes", 0),
                     "records": stats.get("newscrawl/warc/records", 0),
                     "revisits": stats.get("newscrawl/warc/revisits", 0),
                     "files": stats.get("newscrawl/warc/file_names", [])},
            "coverage": self.coverage(),
            # feeds and listings that failed, answered empty or linked no article
            "failed_sources": list(getattr(spider, "failed_sources", [])),
        }
        report["alarms"] = find_drift(report, self.history(spider), min_items=self.min_items,
                                      drop=self.drop, min_share=self.min_share)
        derived = stats.get("newscrawl/drift/derived", 0)
        if derived and not self.crawler.settings.getbool("NEWSCRAWL_REPARSE"):
            # a live crawl found the parser reading archived captures differently (provenance.py)
            report["alarms"].append({"field": "parser_derived_versions", "value": derived, "baseline": 0})
        for alarm in report["alarms"]:
            self.crawler.stats.inc_value("newscrawl/drift/alarms")
            logger.warning("Layout drift? spider %s: %s is %s, the recent runs had %s",
                           spider.name, alarm["field"], alarm["value"], alarm["baseline"])
        report["stats"] = stats
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S-%fZ")
        path = self.runs_dir(spider) / f"{stamp}.json"
        try:
            write_atomic(path, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        except OSError as exc:  # a failure to write is a failure of the run (exit status 1)
            self.crawler.stats.inc_value("newscrawl/failed/run_report")
            logger.error("Cannot write the run report %s: %s", path, exc)
            return
        self.crawler.stats.set_value("newscrawl/run_report", str(path))
        spider.logger.info("Run report: %s", path)


class Progress:
    """The progress line, in articles: pages and archived articles per minute."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.task: task.LoopingCall | None = None
        self.last = (0, 0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("LOGSTATS_INTERVAL")
        if not interval:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.task = task.LoopingCall(self.log, spider)
        self.task.start(self.interval)

    def log(self, spider: Spider) -> None:
        stats = self.crawler.stats
        pages = stats.get_value("response_received_count", 0)
        articles = stats.get_value("item_scraped_count", 0)
        per_minute = 60.0 / self.interval
        logger.info(
            "%s: crawled %d pages (at %d pages/min), archived %d articles (at %d articles/min), "
            "%d unchanged, %d dropped", spider.name, pages, (pages - self.last[0]) * per_minute, articles,
            (articles - self.last[1]) * per_minute,
            stats.get_value("newscrawl/items/unchanged", 0),
            sum(v for k, v in stats.get_stats().items() if k.startswith("newscrawl/dropped/")),
            extra={"spider": spider})
        self.last = (pages, articles)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task and self.task.running:
            self.task.stop()


class HeapTrim:
    """Gives the free pages of the C heap back to the system every
    ``NEWSCRAWL_HEAP_TRIM_INTERVAL`` seconds (glibc's ``malloc_trim``; elsewhere it is off),
    and keeps large blocks out of the heap.

    lxml builds each page's tree from many small ``malloc`` blocks; once the page is done
    they are free but scattered between blocks that live on (the crawl's requests, the
    state's pages), and glibc keeps them: a crawl's resident memory would keep what its
    busiest moment (a burst of listing pages parsed at once) took, not what it holds.

    A block of :data:`LARGE_BLOCK` bytes or more (a response body, a picture: 85-400 KB,
    held for a moment) gets a mapping of its own, unmapped when it is freed: glibc's
    starting rule, which it drops by default at the first such block freed, raising the
    threshold to that block's size (up to 32 MB), so that later bodies come from the heap
    and leave holes there that a trim can give back only where whole pages are free
    (``mallopt(M_MMAP_THRESHOLD)`` keeps the rule; measured on the bench mirror, 520
    articles: peak RSS −2 to −3 MiB)."""

    #: glibc's M_MMAP_THRESHOLD (malloc.h), and the size from which a block is mapped on its
    #: own (glibc's default start)
    M_MMAP_THRESHOLD = -3
    LARGE_BLOCK = 128 * 1024

    def __init__(self, trim: Any, interval: float):
        self.trim, self.interval = trim, interval
        self.task: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HeapTrim:
        interval = crawler.settings.getfloat("NEWSCRAWL_HEAP_TRIM_INTERVAL")
        if not interval:
            raise NotConfigured
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            trim, mallopt = libc.malloc_trim, libc.mallopt
        except (OSError, AttributeError):  # not glibc
            raise NotConfigured from None
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        mallopt(cls.M_MMAP_THRESHOLD, cls.LARGE_BLOCK)
        ext = cls(trim, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.task = task.LoopingCall(self.trim, 0)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task and self.task.running:
            self.task.stop()


class GcTuning:
    """Python's cyclic garbage collector set for a long crawl, once the engine has started.

    Everything alive then (modules, classes, settings, the parsers: ~100,000 objects) lives
    as long as the process, yet each full collection walked it again: it is frozen out of
    the collections (``gc.freeze``). Young collections run every ``NEWSCRAWL_GC_THRESHOLD``
    allocations instead of CPython's 700 (a page's parse allocates tens of thousands of
    objects; the reference counts free almost all of them, the collector finds few cycles).
    Measured on the bench mirror (520 articles, median of 3): 4.05 → 3.86 s of CPU for the
    crawl and 0.64 → 0.54 s for the re-crawl with nothing new, the same peak memory. 0 leaves
    the collector as it is.
    """

    def __init__(self, threshold: int):
        self.threshold = threshold

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GcTuning:
        threshold = crawler.settings.getint("NEWSCRAWL_GC_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured
        ext = cls(threshold)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self) -> None:
        gc.freeze()
        _, *older = gc.get_threshold()
        gc.set_threshold(self.threshold, *older)


class StatsCollector(MemoryStatsCollector):
    """Scrapy's in-memory stats (``STATS_CLASS``) without its per-access wrapper.

    Scrapy 2.19's collector defines ``__getattribute__`` so that the first use of each stats
    method wraps it in a check that warns about a deprecated ``spider`` argument: every
    attribute read then runs Python code, and a read of a plain attribute (``_stats``, on
    each increment) raises and catches an ``AttributeError``. An increment costs ~6 µs instead
    of ~0.15 µs, and a crawl makes ~20 for each response (Scrapy's downloader stats and
    scheduler, the core stats, the WARC recorder's and the spider's counts). The methods are
    Scrapy's own, unchanged; only the warning for a caller passing ``spider`` goes (the
    project passes none)."""

    __getattribute__ = object.__getattribute__
