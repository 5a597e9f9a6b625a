"""``JOBDIR`` that survives a hard kill: a job is resumed only if it was stopped cleanly.

Scrapy keeps a paused job in ``JOBDIR``: the requests it has seen (``requests.seen``) and
its request queue (``requests.queue/``). The queue's bookkeeping is written when the crawl
closes, so a crawl killed hard (SIGKILL, a second Ctrl-C, a power cut) leaves a queue that
cannot be read back, next to a ``requests.seen`` that holds whatever the run had flushed of
it: a run resumed from there treats its own start requests as duplicates, fetches nothing
and says "finished" — every time.

:class:`JobDirGuard` marks the job directory as open for the length of a crawl
(``newscrawl.job``: the PID and start time, held with ``flock``) and clears the mark when
the crawl closes, after Scrapy has saved the queue. A run that finds the mark of a process
that is gone stops at once: finish reason ``jobdir_crashed``, an error saying to remove the
directory, exit status 1 (``scrapy crawl`` and ``scrapy crawlall``). A run that finds the
mark held by a live process stops like a locked spider (``locked``, exit status 75).

A job that finished (finish reason ``finished``) has nothing left to resume: the guard
removes its ``requests.seen`` and ``requests.queue`` so that the same command, run again,
starts a new job instead of filtering every request as seen.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)

MARK = "newscrawl.job"
#: The finish reason of a run refused because the job directory's last run never closed.
JOBDIR_CRASHED = "jobdir_crashed"
#: What Scrapy keeps of a job in JOBDIR (removed when the job has finished).
JOB_STATE = ("requests.seen", "requests.queue")


class JobDirGuard:
    """Refuses to resume a job directory whose last crawl did not close (see the module)."""

    def __init__(self, crawler: Crawler, jobdir: Path):
        self.crawler = crawler
        self.jobdir = jobdir
        self._mark: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobDirGuard:
        jobdir = job_dir(crawler.settings)
        if not jobdir:
            raise NotConfigured
        guard = cls(crawler, Path(jobdir))
        crawler.signals.connect(guard.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def spider_opened(self, spider: Spider) -> None:
        if self.crawler.stats.get_value("newscrawl/locked"):
            return  # another run of this spider is going on: its own lock said so
        mark = open(self.jobdir / MARK, "a+", encoding="utf-8")  # noqa: SIM115 - held for the crawl
        try:
            fcntl.flock(mark, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            mark.seek(0)
            holder = mark.read().strip() or "?"
            mark.close()
            logger.error("The job directory %s is in use by another running crawl (%s): this run stops now",
                         self.jobdir, holder)
            raise CloseSpider("locked") from None
        mark.seek(0)
        previous = mark.read().strip()
        if previous:
            mark.close()
            self.crawler.stats.set_value("newscrawl/jobdir/crashed", 1)
            logger.error(
                "The job directory %(dir)s is from a crawl that did not stop cleanly (%(previous)s; "
                "killed, or a second Ctrl-C): its request queue is lost, and resuming it would fetch "
                "nothing. Remove it (rm -r %(dir)s) and run again: articles already archived are not "
                "fetched again, the pages it had decided to fetch and its unfinished listings are. "
                "This run stops now.", {"dir": self.jobdir, "previous": previous})
            raise CloseSpider(JOBDIR_CRASHED)
        mark.write(f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        mark.flush()
        os.fsync(mark.fileno())
        self._mark = mark

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Scrapy has saved the queue by now (the scheduler closes before this signal)."""
        if self._mark is None:
            return
        if reason == "finished":
            for name in JOB_STATE:
                path = self.jobdir / name
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
            logger.info("The job in %s finished: the next run with this JOBDIR starts a new one", self.jobdir)
        self._mark.seek(0)
        self._mark.truncate()
        self._mark.flush()
        os.fsync(self._mark.fileno())
        fcntl.flock(self._mark, fcntl.LOCK_UN)
        self._mark.close()
        self._mark = None
