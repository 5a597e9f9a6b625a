"""Test-only: count what a crawl asks of the state database (SQLite), exactly.

A crawl run with ``SCRAPY_SETTINGS_MODULE=tests.statetrace`` (see :func:`trace_env`) has the
project's settings plus :class:`StateTrace`, an extension that sets SQLite's trace callback
on the state's connection (:class:`newscrawl.state.ArticleStore`) and, as the spider closes,
writes ``NEWSCRAWL_STATE_TRACE`` (a JSON file): per *phase* of the crawl (the spider callback
or pipeline that asked, e.g. ``_listing_page``, ``parse_article``, ``ArchivePipeline``), how many
write transactions (an explicit ``BEGIN``, or a write statement outside one: SQLite wraps it
in a transaction of its own), writes and reads it made.

Production code is not touched: the callback is set from here.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl import settings as _project
from newscrawl import state
from newscrawl.settings import *  # noqa: F403  (this module is a crawl's settings module too)

EXTENSIONS = {**_project.EXTENSIONS, "tests.statetrace.StateTrace": 1}

TRACE_ENV = "NEWSCRAWL_STATE_TRACE"
#: the frames a statement is charged to: the innermost one of these functions on the stack
PHASES = ("frontier_requests", "sources_done", "start", "_listing_page", "_backfill_page", "_feed",
          "parse_sitemap", "_unchanged_article", "parse_article", "drop", "process_item",
          "spider_opened", "spider_closed")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def trace_env(path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a crawl whose state is traced into ``path``."""
    return {**(env or os.environ), "SCRAPY_SETTINGS_MODULE": "tests.statetrace", TRACE_ENV: str(path)}


def _phase() -> str:
    frame: Any = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_name
        if name in PHASES:
            if name == "process_item":
                owner = frame.f_locals.get("self")
                return type(owner).__name__ if owner is not None else name
            return name
        frame = frame.f_back
    return "other"


class StateTrace:
    """Counts the state's statements per phase (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self.counts: dict[str, Counter] = {}
        self.inside = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StateTrace:
        path = os.environ.get(TRACE_ENV)
        if not path:
            raise NotConfigured
        trace = cls(Path(path))
        init = state.ArticleStore.__init__

        def traced_init(store: state.ArticleStore, *args: Any, **kwargs: Any) -> None:
            init(store, *args, **kwargs)
            store.db.set_trace_callback(trace.statement)

        state.ArticleStore.__init__ = traced_init  # type: ignore[method-assign]
        crawler.signals.connect(trace.write, signal=signals.engine_stopped)
        return trace

    def statement(self, sql: str) -> None:
        counts = self.counts.setdefault(_phase(), Counter())
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        counts["statements"] += 1
        if verb == "BEGIN":
            self.inside = True
            counts["transactions"] += 1
        elif verb in ("COMMIT", "ROLLBACK", "END"):
            self.inside = False
        elif verb in _WRITES or (verb == "WITH" and any(w in sql.upper() for w in _WRITES)):
            counts["writes"] += 1
            if not self.inside:
                counts["transactions"] += 1
        elif verb == "SELECT":
            counts["reads"] += 1

    def write(self) -> None:
        self.path.write_text(json.dumps({phase: dict(c) for phase, c in sorted(self.counts.items())},
                                        indent=1), encoding="utf-8")


def read_trace(path: Path) -> dict[str, dict[str, int]]:
    """The counts a traced crawl wrote (phase → {transactions, writes, reads, statements})."""
    return json.loads(path.read_text(encoding="utf-8"))


def total(trace: dict[str, dict[str, int]], key: str = "transactions") -> int:
    return sum(c.get(key, 0) for c in trace.values())
