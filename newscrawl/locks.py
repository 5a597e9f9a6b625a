"""One run per spider at a time: an advisory file lock with the holder's PID in it.

``<NEWSCRAWL_STATE_DIR>/locks/<spider>.lock`` is held with ``flock`` for the whole crawl.
The kernel releases it when the process dies, so a lock file left by a dead process is
simply taken over (and said so); a live holder makes the new run stop at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

logger = logging.getLogger(__name__)


class Locked(Exception):
    """Another live process is running this spider."""


class SpiderLock:
    def __init__(self, path: Path):
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the crawl
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise Locked(f"{self.path.stem} is already running (pid {holder}; lock {self.path})") from None
        fh.seek(0)
        previous = fh.read().strip()
        if previous and previous != str(os.getpid()):
            logger.warning("Taking over the stale lock %s of pid %s (no longer running)", self.path, previous)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._file = fh

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class SpiderLockExtension:
    """Holds the spider's lock for the crawl; a second run closes at once (reason ``locked``)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.lock: SpiderLock | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpiderLockExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        path = Path(self.crawler.settings.get("NEWSCRAWL_STATE_DIR")) / "locks" / f"{spider.name}.lock"
        lock = SpiderLock(path)
        try:
            lock.acquire()
        except Locked as exc:
            logger.error("%s: this run stops now", exc)
            self.crawler.stats.set_value("newscrawl/locked", 1)
            raise CloseSpider("locked") from None
        self.lock = lock

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.lock is not None:
            self.lock.release()
