"""Reparse mode (``scrapy reparse``): every response comes from the WARC captures
(:mod:`newscrawl.replay`).

The captures of each article's page (``-a urls=`` selects some) are replayed in the order
they were written (:func:`newscrawl.replay.reparse_plan`), in rounds: the first capture of
every article, then — once the crawl is idle, every item of the round archived — the second,
and so on, so that an article's versions are archived in the order of its captures. The
replay answers every request; the callbacks and pipelines run as live.

The plan is kept in a temporary SQLite database on disk, and a round's requests are handed
to the engine :data:`CHUNK` at a time (the next once the crawl is idle again), so neither
grows in memory with the archive.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import scrapy
from scrapy.statscollectors import StatsCollector

from newscrawl.replay import REPLAY_PIN, REPLAY_RUN, CaptureReader, reparse_plan
from newscrawl.sites import Site
from newscrawl.warc import Capture

#: requests of a round handed to the engine at a time
CHUNK = 1000


class ReparseRounds:
    """The rounds of captures a reparse replays, and their requests."""

    def __init__(self, site: Site, *, callback: Callable[..., Any], errback: Callable[..., Any],
                 render: dict[str, Any], stats: StatsCollector | None,
                 logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self.site = site
        #: the article pages' callback and errback, and the meta of a rendered capture
        self.callback, self.errback, self.render = callback, errback, render
        self.stats = stats
        self.logger = logger
        #: the plan: each round's captures, by article order (a private temporary database on
        #: disk, gone when closed)
        self.db = sqlite3.connect("")
        self.db.execute("CREATE TABLE rounds (round INTEGER NOT NULL, ord INTEGER NOT NULL,"
                        " capture TEXT NOT NULL, PRIMARY KEY (round, ord))")
        self.rounds = 0
        #: the next requests: of this round, after this article
        self._round, self._after = 0, -1

    def plan(self, folder: Path, urls: list[str], held: Callable[[str], str | None]) -> None:
        """Plan the rounds from the capture index in ``folder`` (which the ReplayMiddleware
        brought up to date as the spider opened); ``held`` is what the archive holds of an
        article (:func:`~newscrawl.replay.reparse_plan`)."""
        try:
            reader = CaptureReader(folder, rebuild=False)
        except FileNotFoundError as exc:
            self._stat("newscrawl/reparse/no_captures")
            self.logger.error("Nothing to reparse: %s", exc)
            return
        try:
            plan, missing = reparse_plan(reader.index, self.site, urls, held, self.db)
        finally:
            reader.close()
        for url in missing:
            self._stat("newscrawl/reparse/selected_missing")
            self.logger.error("No capture of an article page at %s: not reparsed", url)
        articles = captures = 0
        with self.db:
            for order, kept in enumerate(plan):
                self.db.executemany("INSERT INTO rounds VALUES (?, ?, ?)",
                                    [(n, order, json.dumps(asdict(c))) for n, c in enumerate(kept)])
                articles, captures = articles + 1, captures + len(kept)
                self.rounds = max(self.rounds, len(kept))
        self.logger.info("Reparsing %d articles from %d of their captures in %s (%d rounds)", articles,
                         captures, folder, self.rounds)

    def next_round(self) -> Iterator[scrapy.Request]:
        """The next requests: up to :data:`CHUNK` of the round under way, or of the next one
        once it is done (none once every round was replayed)."""
        while self._round < self.rounds:
            rows = self.db.execute("SELECT ord, capture FROM rounds WHERE round = ? AND ord > ? ORDER BY ord"
                                   " LIMIT ?", (self._round, self._after, CHUNK)).fetchall()
            if rows:
                self._after = rows[-1][0]
                break
            self._round, self._after = self._round + 1, -1
        else:
            return
        for _, row in rows:
            capture = Capture(**json.loads(row))
            meta = {"article_id": self.site.article_id(self.site.canonical_url(capture.request_url)),
                    "listed_title": None, REPLAY_PIN: (capture.file, capture.offset), REPLAY_RUN: capture.seq}
            if capture.rendered:
                meta.update(self.render)
            yield scrapy.Request(capture.request_url, callback=self.callback, errback=self.errback,
                                 meta=meta, dont_filter=True)

    def _stat(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
