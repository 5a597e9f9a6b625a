"""Reparse mode (``scrapy reparse``): every response comes from the WARC captures
(:mod:`newscrawl.replay`).

The captures of each article's page (``-a urls=`` selects some) are replayed in the order
they were written (:func:`newscrawl.replay.reparse_plan`), in rounds: the first capture of
every article, then — once the crawl is idle, every item of the round archived — the second,
and so on, so that an article's versions are archived in the order of its captures. The
replay answers every request; the callbacks and pipelines run as live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.statscollectors import StatsCollector

from newscrawl.replay import REPLAY_PIN, REPLAY_RUN, CaptureReader, reparse_plan
from newscrawl.sites import Site
from newscrawl.warc import Capture


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
        self.rounds: list[list[Capture]] = []

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
            plan, missing = reparse_plan(reader.index, self.site, urls, held)
        finally:
            reader.close()
        for url in missing:
            self._stat("newscrawl/reparse/selected_missing")
            self.logger.error("No capture of an article page at %s: not reparsed", url)
        rounds = max(map(len, plan), default=0)
        self.rounds = [[captures[n] for captures in plan if n < len(captures)] for n in range(rounds)]
        self.logger.info("Reparsing %d articles from %d of their captures in %s (%d rounds)", len(plan),
                         sum(map(len, plan)), folder, rounds)

    def next_round(self) -> Iterator[scrapy.Request]:
        """The requests of the next round (none once every round was replayed)."""
        if not self.rounds:
            return
        for capture in self.rounds.pop(0):
            meta = {"article_id": self.site.article_id(self.site.canonical_url(capture.request_url)),
                    "listed_title": None, REPLAY_PIN: (capture.file, capture.offset), REPLAY_RUN: capture.seq}
            if capture.rendered:
                meta.update(self.render)
            yield scrapy.Request(capture.request_url, callback=self.callback, errback=self.errback,
                                 meta=meta, dont_filter=True)

    def _stat(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
