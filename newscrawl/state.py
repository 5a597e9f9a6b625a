"""The persistent crawl state: every article id a site has given us, across runs.

One SQLite database (``NEWSCRAWL_STATE_DIR/newscrawl.sqlite3``) shared by all spiders,
keyed on ``(site, id)``. It remembers the content hash and title (to tell new, changed and
unchanged articles apart) and the path of the article's post (so a retitled article keeps
its file for ever). WAL mode lets several spiders of a scheduled run share it.

The store is one component per crawler: :meth:`ArticleStore.from_crawler` returns the same
instance to every pipeline of a crawl, and it records an item only once every pipeline has
passed it (``item_scraped``), so a post that failed to be written is retried next run.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler

from newscrawl.text import utc_now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    site TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT,
    title TEXT,
    published TEXT,
    content_hash TEXT,
    post_path TEXT,
    listed_title TEXT,
    first_seen TEXT NOT NULL,
    last_changed TEXT NOT NULL,
    PRIMARY KEY (site, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS articles_post_path ON articles (post_path);
CREATE TABLE IF NOT EXISTS failures (
    site TEXT NOT NULL,
    id TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_tried TEXT NOT NULL,
    PRIMARY KEY (site, id)
);
"""
#: Columns added after the first release, added to older databases on open.
MIGRATIONS = {"listed_title": "ALTER TABLE articles ADD COLUMN listed_title TEXT"}


@dataclass(frozen=True)
class Known:
    """What the state knows of one article."""

    @property
    def complete(self) -> bool:
        """Archived: its text went through every pipeline at least once."""
        return self.content_hash is not None

    url: str | None
    title: str | None
    content_hash: str | None
    post_path: str | None
    published: str | None
    listed_title: str | None = None


class ArticleStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        for column, statement in MIGRATIONS.items():
            if column not in columns:
                self.db.execute(statement)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleStore:
        store = getattr(crawler, "_newscrawl_store", None)
        if store is None:
            directory = Path(crawler.settings.get("NEWSCRAWL_STATE_DIR"))
            store = cls(directory / "newscrawl.sqlite3")
            crawler._newscrawl_store = store  # one store per crawl, shared by its components
            crawler.signals.connect(store._item_scraped, signal=signals.item_scraped)
            crawler.signals.connect(store.close, signal=signals.spider_closed)
        return store

    # ---- reads ---------------------------------------------------------------------
    def get(self, site: str, article_id: str) -> Known | None:
        row = self.db.execute(
            "SELECT url, title, content_hash, post_path, published, listed_title FROM articles"
            " WHERE site = ? AND id = ?", (site, article_id)).fetchone()
        return Known(*row) if row else None

    def path_owner(self, post_path: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT site, id FROM articles WHERE post_path = ?",
                              (post_path,)).fetchone()
        return tuple(row) if row else None

    def last_failure(self, site: str, article_id: str) -> tuple[str, int, str] | None:
        """``(reason, attempts, last_tried)`` of an id whose page could not be archived."""
        row = self.db.execute("SELECT reason, attempts, last_tried FROM failures"
                              " WHERE site = ? AND id = ?", (site, article_id)).fetchone()
        return tuple(row) if row else None

    def count(self, site: str | None = None) -> int:
        if site is None:
            return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM articles WHERE site = ?", (site,)).fetchone()[0]

    # ---- writes --------------------------------------------------------------------
    def record(self, item: Any) -> None:
        """Remember an item that went through every pipeline (hash, title, url)."""
        a = ItemAdapter(item)
        now = utc_now_iso()
        self.db.execute(
            "INSERT INTO articles (site, id, url, title, published, content_hash, first_seen,"
            " last_changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (site, id) DO UPDATE SET url = excluded.url, title = excluded.title,"
            " published = excluded.published, content_hash = excluded.content_hash,"
            " last_changed = excluded.last_changed",
            (a["site"], a["id"], a["url"], a["title"], a["published"], a["content_hash"], now, now))

    def record_failure(self, site: str, article_id: str, reason: str) -> None:
        """An id whose page was dropped (HTTP error, no layout, invalid item)."""
        self.db.execute(
            "INSERT INTO failures (site, id, reason, attempts, last_tried) VALUES (?, ?, ?, 1, ?)"
            " ON CONFLICT (site, id) DO UPDATE SET reason = excluded.reason,"
            " attempts = attempts + 1, last_tried = excluded.last_tried",
            (site, article_id, reason, utc_now_iso()))

    def set_post_path(self, site: str, article_id: str, post_path: str) -> None:
        now = utc_now_iso()
        self.db.execute(
            "INSERT INTO articles (site, id, post_path, first_seen, last_changed)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (site, id) DO UPDATE SET post_path = excluded.post_path",
            (site, article_id, post_path, now, now))

    def set_listed_title(self, site: str, article_id: str, title: str) -> None:
        """The title a listing or feed showed when the article was last fetched."""
        now = utc_now_iso()
        self.db.execute(
            "INSERT INTO articles (site, id, listed_title, first_seen, last_changed)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (site, id) DO UPDATE SET listed_title = excluded.listed_title",
            (site, article_id, title, now, now))

    def _item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        self.record(item)
        a = ItemAdapter(item)
        self.db.execute("DELETE FROM failures WHERE site = ? AND id = ?", (a["site"], a["id"]))

    def close(self, *args: Any, **kwargs: Any) -> None:
        self.db.close()
