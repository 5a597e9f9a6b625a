"""The persistent crawl state: every article id a site has given us, across runs.

One SQLite database (``NEWSCRAWL_STATE_DIR/newscrawl.sqlite3``) shared by all spiders, keyed
on ``(site, id)``. It remembers each article's content hash, title, version and the path of
its post (so a retitled article keeps its file for ever), the pages that failed, and a
*journal* of archive writes that have begun but not finished (see :mod:`newscrawl.archive`,
the only component that writes here during a crawl). WAL mode lets the spiders of a
scheduled run share it.

The schema is versioned (``PRAGMA user_version``) and migrated forward on open; a database
from a newer newscrawl, or one SQLite finds damaged, raises :class:`StateError` with what to
do instead of being used. Opening (creation and migration) is serialised between processes
by a file lock, so two spiders started at once on a fresh state both work.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from newscrawl import related
from newscrawl.schedule import iso, iso_or_none
from newscrawl.text import utc_now_iso

#: The schema this code writes. Version 1 was the first release (no user_version set,
#: no ``listed_title`` at first); 2 adds ``version``, the write journal, the frontier and
#: unfinished listings; 3 adds the re-check schedule, exact hashes, revision history and
#: the validators of conditional requests; 4 adds the pictures kept (or not) per fetched URL;
#: 5 adds the clean-close marker of each site's archive.
#: 6 adds the audits of the whole archive (``-a recheck=all``) under way.
#: 7 adds the backfills (``-a since=``) under way.
#: 8 adds the near-duplicate index (newscrawl.related).
SCHEMA_VERSION = 9

_TABLES = """
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

#: ``MIGRATIONS[n]`` takes a database from version ``n - 1`` to ``n``.
MIGRATIONS: dict[int, list[str]] = {
    2: [
        "ALTER TABLE articles ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
        "UPDATE articles SET version = 1 WHERE content_hash IS NOT NULL",
        # each spider has its own _posts/: a file name is unique within a site
        "DROP INDEX IF EXISTS articles_post_path",
        "CREATE UNIQUE INDEX articles_site_post_path ON articles (site, post_path)",
        """CREATE TABLE journal (
            site TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            post_path TEXT NOT NULL,
            post_text TEXT NOT NULL,
            line TEXT NOT NULL,
            jsonl_offset INTEGER NOT NULL,
            url TEXT, title TEXT, published TEXT, content_hash TEXT NOT NULL,
            started TEXT NOT NULL,
            PRIMARY KEY (site, id)
        )""",
        # article pages a run decided to fetch and has not yet archived or dropped: a run
        # that is killed or stopped leaves them here, and the next run fetches them first
        """CREATE TABLE frontier (
            site TEXT NOT NULL, id TEXT NOT NULL, url TEXT NOT NULL, listed_title TEXT,
            added TEXT NOT NULL, PRIMARY KEY (site, id)
        )""",
        # listings whose last walk did not end (killed, stopped, a page failed): walked in full
        "CREATE TABLE unfinished_listings (site TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (site, url))",
    ],
    3: [
        # hash of the item exactly as published (a change of it alone is trivial)
        "ALTER TABLE articles ADD COLUMN exact_hash TEXT",
        # where the article's latest JSON line starts in articles.jsonl (the previous version)
        "ALTER TABLE articles ADD COLUMN line_offset INTEGER",
        # the re-check schedule: when the page was last fetched, when to fetch it next
        "ALTER TABLE articles ADD COLUMN last_checked TEXT",
        "ALTER TABLE articles ADD COLUMN next_check TEXT",
        # [{version, crawled, changed: [fields]}] of every archived version
        "ALTER TABLE articles ADD COLUMN history TEXT",
        # the digest of the article's full text in the site's feed, when the feed has it
        "ALTER TABLE articles ADD COLUMN feed_digest TEXT",
        "ALTER TABLE journal ADD COLUMN extra TEXT",
        # every title (folded) sources have shown the article under, newest last (at most 8)
        "ALTER TABLE articles ADD COLUMN listed_titles TEXT",
        "CREATE INDEX articles_next_check ON articles (site, next_check)",
        # where a failed page is, to try it again when no listing links to it any more
        "ALTER TABLE failures ADD COLUMN url TEXT",
        # archived before schedules existed: re-checked 30 days after their last change
        "UPDATE articles SET next_check = strftime('%Y-%m-%dT%H:%M:%SZ', last_changed, '+30 days')"
        " WHERE content_hash IS NOT NULL",
        """CREATE TABLE validators (
            site TEXT NOT NULL, url TEXT NOT NULL, etag TEXT, last_modified TEXT, body_hash TEXT,
            PRIMARY KEY (site, url)
        )""",
    ],
    4: [
        # every picture URL the pipeline fetched: the kept copy (sha256, path under the site's
        # folder, size, media type), or why it could not be kept and how often it was tried
        """CREATE TABLE pictures (
            site TEXT NOT NULL, url TEXT NOT NULL,
            sha256 TEXT, path TEXT, bytes INTEGER, media_type TEXT,
            reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_tried TEXT,
            PRIMARY KEY (site, url)
        )""",
        # how many pictures of the archived version are not kept (re-checks then fetch the
        # page whole, not conditionally, so that the pipeline tries them again)
        "ALTER TABLE articles ADD COLUMN pictures_missing INTEGER",
    ],
    5: [
        # what a site's archive files looked like when its last run closed cleanly (JSON:
        # the stat of _posts/ and articles.jsonl); taken away as a run opens the archive, so
        # a killed run leaves none (see newscrawl.archive: the opening checks)
        "CREATE TABLE clean_close (site TEXT NOT NULL PRIMARY KEY, facts TEXT NOT NULL)",
    ],
    6: [
        # an audit of the whole archive (-a recheck=all) under way: it re-checks every article
        # last checked before it started; a run stopped part-way leaves it, the next continues
        "CREATE TABLE audits (site TEXT NOT NULL PRIMARY KEY, started TEXT NOT NULL)",
        "CREATE INDEX articles_last_checked ON articles (site, last_checked, id)",
    ],
    7: [
        # a backfill of a listing or the sitemaps back to a date (-a since=): how far its walk
        # got (the next page to read), what it has done, and when it finished; a stopped or
        # killed run leaves it, and the next run with since= goes on from there
        """CREATE TABLE backfills (
            site TEXT NOT NULL, source TEXT NOT NULL, since TEXT NOT NULL,
            next_url TEXT, page INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0,
            requested INTEGER NOT NULL DEFAULT 0, archived INTEGER NOT NULL DEFAULT 0,
            newest TEXT, oldest TEXT, started TEXT NOT NULL, finished TEXT,
            PRIMARY KEY (site, source)
        )""",
    ],
    # the near-duplicate index: each article's MinHash signature and its bands
    8: related.SCHEMA,
    # the near-duplicates' signatures from vectorised 5-gram hashes: made again at the next open
    9: related.RESIGN,
}


class StateError(Exception):
    """The state database cannot be used as it is (damaged, newer, unreadable)."""


class StateWriteError(StateError):
    """A write of the state failed (disk full, read-only, I/O error): nothing of it was kept."""


@dataclass(frozen=True)
class Known:
    """What the state knows of one article."""

    url: str | None
    title: str | None
    content_hash: str | None
    post_path: str | None
    published: str | None
    listed_title: str | None = None
    version: int = 0
    exact_hash: str | None = None
    line_offset: int | None = None
    last_checked: str | None = None
    next_check: str | None = None
    history: str | None = None
    feed_digest: str | None = None
    listed_titles: str | None = None
    pictures_missing: int | None = None

    @property
    def shown_titles(self) -> list[str]:
        """The (folded) titles feeds and listings have shown the article under."""
        return json.loads(self.listed_titles) if self.listed_titles else []

    @property
    def revisions(self) -> list[dict]:
        """``[{version, crawled, changed}]`` of the archived versions, oldest first."""
        return json.loads(self.history) if self.history else []

    @property
    def complete(self) -> bool:
        """Archived: at least one version of it was written completely."""
        return self.content_hash is not None


@dataclass(frozen=True)
class PendingWrite:
    """A journal entry: an archive write that began; everything needed to finish it."""

    site: str
    id: str
    version: int
    post_path: str
    post_text: str
    line: str
    jsonl_offset: int
    url: str | None
    title: str | None
    published: str | None
    content_hash: str
    #: what else the commit records: exact_hash, last_checked, next_check, history,
    #: feed_digest, validators ({url, etag, last_modified, body_hash}), and the revision
    #: files to write first ([[path, text], ...])
    extra: dict = field(default_factory=dict)


_KNOWN_COLUMNS = ("url, title, content_hash, post_path, published, listed_title, version, exact_hash,"
                  " line_offset, last_checked, next_check, history, feed_digest, listed_titles,"
                  " pictures_missing")
_PENDING_COLUMNS = ("site, id, version, post_path, post_text, line, jsonl_offset, url, title, published,"
                    " content_hash, extra")


#: how many (folded) titles the state keeps of an article's sources (the newest)
SHOWN_TITLES = 8

#: Unchanged re-checks (a 304, the same bytes, a source vouching; no trivial change) are
#: written in batches: one transaction for this many at most, or for those of this many
#: seconds, and always before any other statement on the state (:attr:`ArticleStore.db`), so
#: every read sees them and every write comes after them. A killed run loses the open batch:
#: those articles are still due, as they were before, and the next run re-checks them.
CHECKS_BATCH = 100
CHECKS_SECONDS = 2.0

_CHECKED = ("UPDATE articles SET last_checked = ?, next_check = ?, exact_hash = coalesce(?, exact_hash),"
            " feed_digest = coalesce(?, feed_digest), pictures_missing = coalesce(?, pictures_missing),"
            " listed_title = coalesce(?, listed_title), listed_titles = coalesce(?, listed_titles)"
            " WHERE site = ? AND id = ?")


def shown_titles(earlier: str | None, folded: Iterable[str] | None) -> str:
    """The ``listed_titles`` column: the folded titles sources showed an article under before
    (``earlier``, the column as it is) with ``folded`` (this run's) added, newest last."""
    new = list(folded or [])
    titles = [t for t in (json.loads(earlier) if earlier else []) if t not in new] + new
    return json.dumps(titles[-SHOWN_TITLES:], ensure_ascii=False)


def _batches(rows: Iterable[Any], size: int = 1000) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (the last shorter)."""
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class ArticleStore:
    """The SQLite state. Raises :class:`StateError` when the database cannot be used.

    ``check``: run SQLite's ``PRAGMA quick_check`` (which reads the whole database) as it
    opens: ``True`` always, ``False`` never; a site name: unless the state holds that site's
    clean-close marker (:meth:`take_clean_close`; the archive then compares it with its files
    and calls :meth:`quick_check` when they differ). :attr:`quick_checked` says whether it ran.
    """

    def __init__(self, path: Path | str, *, check: bool | str = True, durable: bool = False,
                 readonly: bool = False):
        self.path = Path(path)
        self.quick_checked = False
        #: how deep in :meth:`transaction` the code is (0: outside any)
        self._depth = 0
        #: unchanged re-checks not written yet (:data:`CHECKS_BATCH`): the ``UPDATE``'s
        #: parameters and the validators of each, and when the first of them came
        self._checks: list[tuple[tuple, dict | None]] = []
        self._checks_began = 0.0
        if readonly:  # ``scrapy verify``: nothing created, migrated or written
            try:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                result = self.db.execute("PRAGMA quick_check").fetchone()[0] if check else "ok"
            except sqlite3.Error as exc:
                raise StateError(f"the state database {self.path} cannot be read ({exc})") from exc
            if result != "ok" or version != SCHEMA_VERSION:
                self.db.close()
                raise StateError(f"the state database {self.path} is damaged ({result})" if result != "ok"
                                 else f"the state database {self.path} has schema version {version}, "
                                      f"not {SCHEMA_VERSION}: a crawl migrates it")
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _file_lock(self.path.with_name(self.path.name + ".open-lock")):
                self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                try:
                    self._prepare(check, durable)
                except BaseException:
                    self.db.close()
                    raise
        except sqlite3.DatabaseError as exc:
            raise StateError(f"the state database {self.path} is damaged or not a database ({exc})") from exc
        except OSError as exc:
            raise StateError(f"cannot open the state database {self.path}: {exc}") from exc

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, with the unchanged re-checks still pending written first: no
        statement on the state ever misses one or comes before it."""
        if self._checks:
            self.write_checks()
        return self._db

    def _prepare(self, check: bool | str, durable: bool) -> None:
        db = self.db
        db.execute("PRAGMA busy_timeout = 30000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if check is True or (isinstance(check, str) and check
                             and not (version == SCHEMA_VERSION and self.clean_close(check) is not None)):
            self._quick_check()
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the state database {self.path} has schema version {version}, written by a newer "
                f"newscrawl (this one knows up to {SCHEMA_VERSION}): upgrade newscrawl, or rebuild a "
                "state of this version with 'scrapy rebuild-state'")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        with self.transaction():
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version == 0:  # new, or from the first release, which set no version
                for statement in filter(str.strip, _TABLES.split(";")):
                    db.execute(statement)
                version = 1
            if "articles" in tables:
                columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
                if "listed_title" not in columns:  # added within version 1
                    db.execute("ALTER TABLE articles ADD COLUMN listed_title TEXT")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _quick_check(self) -> None:
        result = self.db.execute("PRAGMA quick_check").fetchone()[0]
        self.quick_checked = True
        if result != "ok":
            raise StateError(f"the state database {self.path} is damaged ({result})")

    def quick_check(self) -> None:
        """SQLite's ``PRAGMA quick_check`` over the whole database; :class:`StateError` when
        it finds damage (or cannot read it)."""
        try:
            self._quick_check()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"the state database {self.path} is damaged ({exc})") from exc

    # ---- the clean-close marker (newscrawl.archive: the opening checks) ---------------
    def clean_close(self, site: str) -> dict[str, Any] | None:
        """The facts a site's last clean close recorded, if the state holds them."""
        row = self.db.execute("SELECT facts FROM clean_close WHERE site = ?", (site,)).fetchone()
        return json.loads(row[0]) if row else None

    def take_clean_close(self, site: str) -> dict[str, Any] | None:
        """The site's clean-close facts, removed in the same transaction (a run that is
        killed from now on leaves none). :class:`StateError` when the state is damaged."""
        try:
            with self.transaction():
                facts = self.clean_close(site)
                self.db.execute("DELETE FROM clean_close WHERE site = ?", (site,))
        except sqlite3.DatabaseError as exc:
            raise StateError(f"the state database {self.path} is damaged ({exc})") from exc
        return facts

    def set_clean_close(self, site: str, facts: dict[str, Any]) -> None:
        """Record what the site's archive files look like as its run closes cleanly."""
        self.db.execute("INSERT OR REPLACE INTO clean_close (site, facts) VALUES (?, ?)",
                        (site, json.dumps(facts, sort_keys=True)))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken at once, so concurrent writers wait their turn).

        Opened inside another one (:meth:`SiteState.together`), it is part of that one: its
        writes are committed with the outer transaction's, or rolled back with them. Never
        held across a yield to the reactor: the spiders of a ``crawlall`` share the thread."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            # a COMMIT that failed (a full disk) may leave the transaction open: never joined
            if self.db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    # ---- reads ---------------------------------------------------------------------
    def get(self, site: str, article_id: str) -> Known | None:
        row = self.db.execute(f"SELECT {_KNOWN_COLUMNS} FROM articles WHERE site = ? AND id = ?",
                              (site, article_id)).fetchone()
        return Known(*row) if row else None

    def path_taken(self, post_path: str, site: str, article_id: str) -> bool:
        """Whether another article of the site owns (or is being written to) this post path."""
        row = self.db.execute(
            "SELECT 1 FROM articles WHERE site = ? AND post_path = ? AND id != ?"
            " UNION ALL SELECT 1 FROM journal WHERE site = ? AND post_path = ? AND id != ?",
            (site, post_path, article_id, site, post_path, article_id)).fetchone()
        return row is not None

    def post_paths(self, site: str) -> tuple[set[str], set[str]]:
        """Every post path the state knows for a site (archived or being written), and those
        of them that must be on disk (archived, no write pending), in one read."""
        rows = self.db.execute(
            "SELECT post_path, content_hash IS NOT NULL FROM articles"
            " WHERE site = ? AND post_path IS NOT NULL"
            " UNION ALL SELECT post_path, NULL FROM journal WHERE site = ?", (site, site)).fetchall()
        pending = {row[0] for row in rows if row[1] is None}
        return {row[0] for row in rows}, {row[0] for row in rows if row[1]} - pending

    def archived(self, site: str) -> dict[str, Known]:
        """Every archived article of a site (at least one version complete) with no write
        pending in the journal: what its post, JSON lines and revisions must show."""
        rows = self.db.execute(
            f"SELECT id, {_KNOWN_COLUMNS} FROM articles WHERE site = ? AND content_hash IS NOT NULL"
            " AND id NOT IN (SELECT id FROM journal WHERE site = ?)", (site, site))
        return {row[0]: Known(*row[1:]) for row in rows}

    def last_line(self, site: str) -> tuple[str, int, str] | None:
        """``(id, offset, content_hash)`` of the archived article whose latest JSON line comes
        last in ``articles.jsonl``: where the file the state knows ends."""
        row = self.db.execute(
            "SELECT id, line_offset, content_hash FROM articles WHERE site = ? AND content_hash IS NOT NULL"
            " AND line_offset IS NOT NULL ORDER BY line_offset DESC LIMIT 1", (site,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def has_pending(self, site: str) -> bool:
        return self.db.execute("SELECT 1 FROM journal WHERE site = ? LIMIT 1", (site,)).fetchone() is not None

    def kept_pictures(self, site: str) -> list[tuple[str, str, str, int]]:
        """``(url, sha256, path, bytes)`` of every picture of the site the state has kept."""
        return [tuple(row) for row in self.db.execute(
            "SELECT url, sha256, path, bytes FROM pictures WHERE site = ? AND sha256 IS NOT NULL", (site,))]

    def set_line_offsets(self, site: str, offsets: dict[str, int]) -> None:
        """Where each article's latest JSON line now starts (``scrapy verify --repair`` rewrote
        ``articles.jsonl``)."""
        with self.transaction() as db:
            db.executemany("UPDATE articles SET line_offset = ? WHERE site = ? AND id = ?",
                           [(offset, site, article_id) for article_id, offset in offsets.items()])

    def last_failure(self, site: str, article_id: str) -> tuple[str, int, str] | None:
        """``(reason, attempts, last_tried)`` of an id whose page could not be archived."""
        row = self.db.execute("SELECT reason, attempts, last_tried FROM failures"
                              " WHERE site = ? AND id = ?", (site, article_id)).fetchone()
        return tuple(row) if row else None

    def count(self, site: str | None = None, *, complete: bool = False) -> int:
        where = " AND content_hash IS NOT NULL" if complete else ""
        if site is None:
            return self.db.execute(f"SELECT COUNT(*) FROM articles WHERE 1{where}").fetchone()[0]
        return self.db.execute(f"SELECT COUNT(*) FROM articles WHERE site = ?{where}", (site,)).fetchone()[0]

    def pending(self, site: str) -> list[PendingWrite]:
        rows = self.db.execute(f"SELECT {_PENDING_COLUMNS} FROM journal WHERE site = ? ORDER BY started",
                               (site,))
        return [PendingWrite(site=r[0], id=r[1], version=r[2], post_path=r[3], post_text=r[4], line=r[5],
                             jsonl_offset=r[6], url=r[7], title=r[8], published=r[9], content_hash=r[10],
                             extra=json.loads(r[11] or "{}")) for r in rows]

    # ---- writes (the archive's; see newscrawl.archive) -----------------------------
    def begin_write(self, pending: PendingWrite) -> None:
        """Journal a write and reserve its post path, in one transaction."""
        p = pending
        now = utc_now_iso()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO articles (site, id, post_path, first_seen, last_changed) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (site, id) DO UPDATE SET post_path = excluded.post_path",
                (p.site, p.id, p.post_path, now, now))
            db.execute(f"INSERT OR REPLACE INTO journal ({_PENDING_COLUMNS}, started)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (p.site, p.id, p.version, p.post_path, p.post_text, p.line, p.jsonl_offset,
                        p.url, p.title, p.published, p.content_hash, json.dumps(p.extra, ensure_ascii=False),
                        now))

    def finish_write(self, pending: PendingWrite) -> None:
        """The post and the JSON line are written: the version is archived, the journal entry
        and any failure record go, in one transaction."""
        p, x = pending, pending.extra
        with self.transaction() as db:
            db.execute(
                "UPDATE articles SET url = ?, title = ?, published = ?, content_hash = ?, version = ?,"
                " post_path = ?, last_changed = ?, exact_hash = ?, line_offset = ?, last_checked = ?,"
                " next_check = ?, history = ?, feed_digest = coalesce(?, feed_digest), pictures_missing = ?,"
                " listed_title = coalesce(?, listed_title), listed_titles = coalesce(?, listed_titles)"
                " WHERE site = ? AND id = ?",
                (p.url, p.title, p.published, p.content_hash, p.version, p.post_path, utc_now_iso(),
                 x.get("exact_hash"), p.jsonl_offset, x.get("last_checked"), x.get("next_check"),
                 json.dumps(x.get("history") or [], ensure_ascii=False), x.get("feed_digest"),
                 x.get("pictures_missing"), x.get("listed_title"), x.get("listed_titles"), p.site, p.id))
            if x.get("validators"):
                self._set_validators(p.site, x["validators"])
            if x.get("near"):
                related.record(db, p.site, p.id, x["near"])
            for table in ("journal", "failures", "frontier"):
                db.execute(f"DELETE FROM {table} WHERE site = ? AND id = ?", (p.site, p.id))

    def checked(self, site: str, article_id: str, *, last_checked: str, next_check: str | None,
                exact_hash: str | None = None, validators: dict | None = None,
                feed_digest: str | None = None, pictures_missing: int | None = None,
                listed_title: str | None = None, listed_titles: str | None = None) -> None:
        """A re-check found no new version: the schedule moves on (and a trivial change
        updates the exact hash, a parsed page the count of pictures not kept and the titles
        its sources showed it under); the response's validators are remembered; the article
        leaves the frontier. A trivial change is written at once (its post was refreshed);
        an unchanged article with the next batch (:data:`CHECKS_BATCH`)."""
        if not self._checks:
            self._checks_began = time.monotonic()
        self._checks.append(((last_checked, next_check, exact_hash, feed_digest, pictures_missing,
                              listed_title, listed_titles, site, article_id), validators))
        if (exact_hash is not None or len(self._checks) >= CHECKS_BATCH
                or time.monotonic() - self._checks_began >= CHECKS_SECONDS):
            self.write_checks()

    def write_checks(self) -> None:
        """Write the pending re-checks (:meth:`checked`) in one transaction; those that could
        not be written stay pending, and the error is raised."""
        checks, self._checks = self._checks, []
        if not checks:
            return
        try:
            with self.transaction() as db:
                db.executemany(_CHECKED, [params for params, _ in checks])
                db.executemany("DELETE FROM frontier WHERE site = ? AND id = ?",
                               [params[-2:] for params, _ in checks])
                for params, validators in checks:
                    if validators:
                        self._set_validators(params[-2], validators)
        except BaseException:
            self._checks[:0] = checks
            raise

    # ---- validators of conditional requests --------------------------------------------
    def validators(self, site: str, url: str) -> tuple[str | None, str | None, str | None] | None:
        """``(etag, last_modified, body_hash)`` remembered for a URL."""
        row = self.db.execute("SELECT etag, last_modified, body_hash FROM validators"
                              " WHERE site = ? AND url = ?", (site, url)).fetchone()
        return tuple(row) if row else None

    def set_validators(self, site: str, validators: dict) -> None:
        self._set_validators(site, validators)

    def _set_validators(self, site: str, v: dict) -> None:
        """``v``: ``{urls: [...], etag, last_modified, body_hash}`` of one response."""
        self.db.executemany(
            "INSERT OR REPLACE INTO validators (site, url, etag, last_modified, body_hash)"
            " VALUES (?, ?, ?, ?, ?)",
            [(site, url, v.get("etag"), v.get("last_modified"), v.get("body_hash")) for url in v["urls"]])

    def move_line(self, pending: PendingWrite) -> None:
        """The journaled write's JSON line goes at another offset (recovery after a failure)."""
        self.db.execute("UPDATE journal SET jsonl_offset = ? WHERE site = ? AND id = ?",
                        (pending.jsonl_offset, pending.site, pending.id))

    def record_failure(self, site: str, article_id: str, reason: str, url: str | None = None,
                       when: str | None = None) -> None:
        """An id whose page was dropped (HTTP error, no layout, invalid item)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO failures (site, id, reason, attempts, last_tried, url) VALUES (?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (site, id) DO UPDATE SET reason = excluded.reason,"
                " attempts = attempts + 1, last_tried = excluded.last_tried,"
                " url = coalesce(excluded.url, url)",
                (site, article_id, reason, when or utc_now_iso(), url))
            db.execute("DELETE FROM frontier WHERE site = ? AND id = ?", (site, article_id))

    # ---- pictures ----------------------------------------------------------------------
    def picture(self, site: str, url: str) -> tuple | None:
        """``(sha256, path, bytes, media_type, reason, attempts, last_tried)`` of a picture URL."""
        row = self.db.execute("SELECT sha256, path, bytes, media_type, reason, attempts, last_tried"
                              " FROM pictures WHERE site = ? AND url = ?", (site, url)).fetchone()
        return tuple(row) if row else None

    def picture_kept(self, site: str, url: str, sha256: str, path: str, size: int, media_type: str,
                     when: str) -> None:
        self.db.execute(
            "INSERT INTO pictures (site, url, sha256, path, bytes, media_type, reason, attempts, last_tried)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL, 1, ?) ON CONFLICT (site, url) DO UPDATE SET"
            " sha256 = excluded.sha256, path = excluded.path, bytes = excluded.bytes,"
            " media_type = excluded.media_type, reason = NULL, attempts = attempts + 1,"
            " last_tried = excluded.last_tried", (site, url, sha256, path, size, media_type, when))

    def picture_failed(self, site: str, url: str, reason: str, when: str) -> None:
        self.db.execute(
            "INSERT INTO pictures (site, url, reason, attempts, last_tried) VALUES (?, ?, ?, 1, ?)"
            " ON CONFLICT (site, url) DO UPDATE SET reason = excluded.reason, attempts = attempts + 1,"
            " last_tried = excluded.last_tried WHERE sha256 IS NULL", (site, url, reason, when))

    def replace_pictures(self, site: str, rows: Iterable[tuple[str, str, str, int, str]]) -> int:
        """Forget the site's pictures and store ``(url, sha256, path, bytes, media_type)`` of
        the kept ones instead (``scrapy rebuild-state``, from the JSON lines); how many."""
        now = utc_now_iso()
        stored = 0
        with self.transaction() as db:
            db.execute("DELETE FROM pictures WHERE site = ?", (site,))
            for batch in _batches(rows):
                db.executemany(
                    "INSERT OR REPLACE INTO pictures (site, url, sha256, path, bytes, media_type, attempts,"
                    " last_tried) VALUES (?, ?, ?, ?, ?, ?, 1, ?)", [(site, *row, now) for row in batch])
                stored += len(batch)
        return stored

    # ---- the frontier and unfinished listings ----------------------------------------
    def frontier_add(self, site: str, article_id: str, url: str, listed_title: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO frontier (site, id, url, listed_title, added)"
                        " VALUES (?, ?, ?, ?, ?)", (site, article_id, url, listed_title, utc_now_iso()))

    def frontier_done(self, site: str, article_id: str) -> None:
        self.db.execute("DELETE FROM frontier WHERE site = ? AND id = ?", (site, article_id))

    def frontier(self, site: str) -> list[tuple[str, str, str | None]]:
        """``(id, url, listed_title)`` of the article pages earlier runs left unfinished."""
        return [tuple(row) for row in self.db.execute(
            "SELECT id, url, listed_title FROM frontier WHERE site = ? ORDER BY added", (site,))]

    def due(self, site: str, now: str, limit: int) -> list[tuple[str, Known]]:
        """``(id, what the state knows of it)`` of archived articles whose scheduled re-check
        is due, most overdue first (settled articles, ``next_check`` NULL, never are): the
        whole record, which the re-check's request and its answer use (one read for all)."""
        return [(row[0], Known(*row[1:])) for row in self.db.execute(
            f"SELECT id, {_KNOWN_COLUMNS} FROM articles WHERE site = ? AND content_hash IS NOT NULL"
            " AND url IS NOT NULL AND next_check IS NOT NULL AND next_check <= ? ORDER BY next_check LIMIT ?",
            (site, now, limit))]

    def settled_unchecked(self, site: str, before: str, limit: int) -> list[tuple[str, str, str | None]]:
        """``(id, url, listed_title)`` of settled articles (archived, no scheduled re-check)
        last checked at ``before`` or earlier, the oldest-checked first: the per-run audit."""
        # never checked first, then a range of the (site, last_checked, id) index: the query reads
        # what it returns, not the archive
        rows: list[tuple[str, str, str | None]] = []
        for where, args in (("last_checked IS NULL", ()), ("last_checked <= ?", (before,))):
            rows += self.db.execute(
                "SELECT id, url, listed_title FROM articles INDEXED BY articles_last_checked WHERE site = ?"
                f" AND content_hash IS NOT NULL AND url IS NOT NULL AND next_check IS NULL AND {where}"
                " ORDER BY last_checked, id LIMIT ?",
                (site, *args, limit - len(rows))).fetchall()
        return rows

    def backfill(self, site: str, source: str) -> dict[str, Any] | None:
        """The backfill of ``source`` (a listing's URL, or ``sitemaps``), as a dict of its
        columns, or ``None``."""
        cursor = self.db.execute("SELECT * FROM backfills WHERE site = ? AND source = ?", (site, source))
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def backfill_begun(self, site: str, source: str, since: str, first_url: str, now: str) -> dict[str, Any]:
        """The backfill of ``source`` back to ``since``: begun now at ``first_url`` if there
        was none; one that went less far (a later ``since``) goes on further from where it
        got to, unfinished again. Returns its row."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO backfills (site, source, since, next_url, started)"
                       " VALUES (?, ?, ?, ?, ?)", (site, source, since, first_url, now))
            db.execute("UPDATE backfills SET finished = NULL, since = ? WHERE site = ? AND source = ?"
                       " AND since > ? AND next_url IS NOT NULL", (since, site, source, since))
            db.execute("UPDATE backfills SET since = ? WHERE site = ? AND source = ?", (since, site, source))
        row = self.backfill(site, source)
        assert row is not None
        return row

    def backfill_walked(self, site: str, source: str, *, page: int, next_url: str | None,
                        requested: int, newest: str | None, oldest: str | None, finished: str | None) -> None:
        """One more page of a backfill read: its articles are in the frontier (asked for),
        ``next_url`` is where the walk goes on (``None``: nowhere), ``finished`` when it ended."""
        self.db.execute(
            "UPDATE backfills SET page = ?, next_url = ?, pages = pages + 1, requested = requested + ?,"
            " newest = max(coalesce(newest, ?), coalesce(?, newest)),"
            " oldest = min(coalesce(oldest, ?), coalesce(?, oldest)), finished = ?"
            " WHERE site = ? AND source = ?",
            (page, next_url, requested, newest, newest, oldest, oldest, finished, site, source))

    def backfill_archived(self, site: str, source: str) -> None:
        """An article a backfill asked for is archived."""
        self.db.execute("UPDATE backfills SET archived = archived + 1 WHERE site = ? AND source = ?",
                        (site, source))

    def audit_started(self, site: str, now: str) -> str:
        """When the audit of the whole archive under way began (now, if none was)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO audits (site, started) VALUES (?, ?)", (site, now))
            return db.execute("SELECT started FROM audits WHERE site = ?", (site,)).fetchone()[0]

    def audit_finished(self, site: str) -> None:
        self.db.execute("DELETE FROM audits WHERE site = ?", (site,))

    def audit_left(self, site: str, started: str, after: tuple[str, str] = ("", ""),
                   limit: int = 100) -> list[tuple[str, str, str | None, str]]:
        """``(id, url, listed_title, last_checked)`` of archived articles the audit that began
        at ``started`` has still to re-check (last checked before it), oldest-checked first,
        from after the key ``(last_checked, id)`` on (``""``: from the start)."""
        return [tuple(row) for row in self.db.execute(
            "SELECT id, url, listed_title, coalesce(last_checked, '') FROM articles WHERE site = ?"
            " AND content_hash IS NOT NULL AND url IS NOT NULL AND coalesce(last_checked, '') < ?"
            " AND (coalesce(last_checked, ''), id) > (?, ?) ORDER BY coalesce(last_checked, ''), id LIMIT ?",
            (site, started, *after, limit))]

    def audit_count(self, site: str, started: str) -> int:
        """How many archived articles the audit that began at ``started`` has still to re-check."""
        return self.db.execute(
            "SELECT COUNT(*) FROM articles WHERE site = ? AND content_hash IS NOT NULL AND url IS NOT NULL"
            " AND coalesce(last_checked, '') < ?", (site, started)).fetchone()[0]

    def failed_due(self, site: str, before: str, max_attempts: int, limit: int) -> list[tuple[str, str]]:
        """``(id, url)`` of pages that failed, last tried before ``before``, fewer than
        ``max_attempts`` times, and never archived."""
        return [tuple(row) for row in self.db.execute(
            "SELECT f.id, f.url FROM failures f LEFT JOIN articles a ON a.site = f.site AND a.id = f.id"
            " WHERE f.site = ? AND f.url IS NOT NULL AND f.last_tried < ? AND f.attempts < ?"
            " AND a.content_hash IS NULL ORDER BY f.last_tried LIMIT ?", (site, before, max_attempts, limit))]

    def listing_started(self, site: str, url: str) -> bool:
        """Mark a listing walk as begun; whether the previous walk of it did not end."""
        with self.transaction() as db:
            unfinished = db.execute("SELECT 1 FROM unfinished_listings WHERE site = ? AND url = ?",
                                    (site, url)).fetchone() is not None
            db.execute("INSERT OR IGNORE INTO unfinished_listings (site, url) VALUES (?, ?)", (site, url))
        return unfinished

    def listing_finished(self, site: str, url: str) -> None:
        self.db.execute("DELETE FROM unfinished_listings WHERE site = ? AND url = ?", (site, url))

    def set_listed_title(self, site: str, article_id: str, title: str,
                         folded: list[str] | None = None) -> None:
        """The title a listing or feed showed when the article was last fetched, and the
        folded titles all sources of the run showed it under (kept with the earlier ones)."""
        now = utc_now_iso()
        with self.transaction() as db:
            row = db.execute("SELECT listed_titles FROM articles WHERE site = ? AND id = ?",
                             (site, article_id)).fetchone()
            db.execute(
                "INSERT INTO articles (site, id, listed_title, listed_titles, first_seen, last_changed)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO UPDATE SET"
                " listed_title = excluded.listed_title, listed_titles = excluded.listed_titles",
                (site, article_id, title, shown_titles(row[0] if row else None, folded), now, now))

    def replace_site(self, site: str, rows: Iterable[dict]) -> int:
        """Forget everything of a site and store ``rows`` instead (``scrapy rebuild-state``),
        taken a thousand at a time (they may come from a stream); how many."""
        now = utc_now_iso()
        stored = 0
        with self.transaction() as db:
            for table in ("articles", "failures", "journal", "frontier", "unfinished_listings", "validators",
                          "clean_close", "audits"):
                db.execute(f"DELETE FROM {table} WHERE site = ?", (site,))
            related.forget_site(db, site)
            for batch in _batches(rows):
                db.executemany(
                    "INSERT INTO articles (site, id, url, title, published, content_hash, post_path, version,"
                    " exact_hash, line_offset, history, first_seen, last_changed, next_check)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+30 days'))",
                    [(site, r["id"], r.get("url"), r.get("title"), r.get("published"), r.get("content_hash"),
                      r.get("post_path"), r.get("version", 0), r.get("exact_hash"), r.get("line_offset"),
                      json.dumps(r.get("history") or [], ensure_ascii=False), now, now) for r in batch])
                for r in batch:  # the near-duplicate index, from the last lines
                    if r.get("near"):
                        related.record(db, site, r["id"], r["near"])
                stored += len(batch)
        return stored

    def close(self) -> None:
        """Write the pending re-checks and close."""
        self.db.close()


class SiteState:
    """The state of one site, as a crawl of it reads and writes it: the spider and the
    pipelines reach it as ``archive.state`` (:class:`newscrawl.archive.Archive` opens it with
    the spider's lock held, so it is never there unopened).

    A write that fails (disk full, read-only, I/O) raises :class:`StateWriteError`, through
    ``on_write_error`` when one is given (the archive's: one logged line, and the crawl stops).
    """

    def __init__(self, store: ArticleStore, site: str, now: Callable[[], datetime],
                 on_write_error: Callable[[StateWriteError], NoReturn] | None = None):
        self.store = store
        self.site = site
        #: the crawl's clock (``newscrawl.schedule``; simulated in tests)
        self.now = now
        self.on_write_error = on_write_error

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            error = StateWriteError(f"cannot write the state {self.store.path} ({what}): {exc}")
            error.__cause__ = exc
            if self.on_write_error is not None:
                self.on_write_error(error)
            raise error from exc

    def _when(self) -> str:
        return iso(self.now())

    @contextlib.contextmanager
    def together(self, what: str) -> Iterator[None]:
        """The writes made inside, in one transaction: all of them or none (a listing page's
        articles put in the frontier, its validators and the end of its walk; a batch of due
        re-checks). ``what`` names them in the error a failed commit stops the crawl with.
        Nothing inside may wait for the reactor (build the requests, then yield them)."""
        with self._writing(what), self.store.transaction():
            yield

    # ---- reads -------------------------------------------------------------------------
    def known(self, article_id: str) -> Known | None:
        return self.store.get(self.site, article_id)

    def last_failure(self, article_id: str) -> tuple[str, int, str] | None:
        return self.store.last_failure(self.site, article_id)

    def validators(self, url: str) -> tuple[str | None, str | None, str | None] | None:
        return self.store.validators(self.site, url)

    # The frontier: article pages decided on but not archived or dropped yet. A run that is
    # killed or stopped leaves them, and the next run fetches them first, so an article seen
    # once in a feed is not lost when the feed has moved on. Listings whose walk did not end
    # are walked in full next time (the pages it never reached may hold unknown articles).
    def frontier(self) -> list[tuple[str, str, str | None]]:
        return self.store.frontier(self.site)

    def due(self, limit: int) -> list[tuple[str, Known]]:
        """Archived articles whose scheduled re-check is due (``newscrawl.schedule``)."""
        return self.store.due(self.site, self._when(), limit)

    def settled_unchecked(self, before: datetime, limit: int) -> list[tuple[str, str, str | None]]:
        """Settled articles last checked at ``before`` or earlier, oldest-checked first (the audit)."""
        return self.store.settled_unchecked(self.site, iso(before), limit)

    def backfill(self, source: str) -> dict[str, Any] | None:
        return self.store.backfill(self.site, source)

    def backfill_begun(self, source: str, since: str, first_url: str) -> dict[str, Any]:
        """The backfill of ``source`` back to ``since`` (:meth:`ArticleStore.backfill_begun`)."""
        with self._writing(f"the backfill of {source}"):
            return self.store.backfill_begun(self.site, source, since, first_url, self._when())

    def backfill_walked(self, source: str, *, page: int, next_url: str | None, requested: int,
                        newest: str | None, oldest: str | None, finished: bool) -> None:
        with self._writing(f"the backfill of {source}"):
            self.store.backfill_walked(self.site, source, page=page, next_url=next_url, requested=requested,
                                       newest=newest, oldest=oldest,
                                       finished=self._when() if finished else None)

    def backfill_archived(self, source: str) -> None:
        with self._writing(f"the backfill of {source}"):
            self.store.backfill_archived(self.site, source)

    def audit_started(self) -> str:
        """When the audit of the whole archive under way began (``-a recheck=all``; now, if none)."""
        with self._writing("the start of an audit"):
            return self.store.audit_started(self.site, self._when())

    def audit_finished(self) -> None:
        with self._writing("the end of an audit"):
            self.store.audit_finished(self.site)

    def audit_left(self, started: str, after: tuple[str, str],
                   limit: int) -> list[tuple[str, str, str | None, str]]:
        """What the audit of the whole archive has still to re-check (:meth:`ArticleStore.audit_left`)."""
        return self.store.audit_left(self.site, started, after, limit)

    def audit_count(self, started: str) -> int:
        return self.store.audit_count(self.site, started)

    def failed_due(self, retry_after: timedelta, max_attempts: int, limit: int) -> list[tuple[str, str]]:
        """Pages that failed and are due for another try (``NEWSCRAWL_RETRY_FAILED_*``)."""
        return self.store.failed_due(self.site, iso(self.now() - retry_after), max_attempts, limit)

    # ---- writes ------------------------------------------------------------------------
    def record_failure(self, article_id: str, reason: str, url: str | None = None) -> None:
        with self._writing(f"the failure of {article_id}"):
            self.store.record_failure(self.site, article_id, reason, url, self._when())

    def set_listed_title(self, article_id: str, title: str, folded: list[str] | None = None) -> None:
        with self._writing(f"the listed title of {article_id}"):
            self.store.set_listed_title(self.site, article_id, title, folded)

    def frontier_add(self, article_id: str, url: str, listed_title: str | None) -> None:
        with self._writing(f"{article_id} in the frontier"):
            self.store.frontier_add(self.site, article_id, url, listed_title)

    def frontier_done(self, article_id: str) -> None:
        with self._writing(f"{article_id} out of the frontier"):
            self.store.frontier_done(self.site, article_id)

    def listing_started(self, url: str) -> bool:
        """Whether the previous walk of this listing did not end (then walk it in full)."""
        with self._writing(f"the walk of {url}"):
            return self.store.listing_started(self.site, url)

    def listing_finished(self, url: str) -> None:
        with self._writing(f"the end of the walk of {url}"):
            self.store.listing_finished(self.site, url)

    def set_validators(self, validators: dict[str, Any]) -> None:
        """Validators of a feed or listing page, remembered once the page was parsed."""
        with self._writing("the validators of a page"):
            self.store.set_validators(self.site, validators)

    def checked(self, article_id: str, *, last_checked: datetime, next_check: datetime | None,
                exact_hash: str | None = None, **notes: Any) -> None:
        """A re-check found no new version (:meth:`ArticleStore.checked`; ``next_check``
        ``None``: settled)."""
        with self._writing(f"the re-check of {article_id}"):
            self.store.checked(self.site, article_id, last_checked=iso(last_checked),
                               next_check=iso_or_none(next_check), exact_hash=exact_hash, **notes)

    def picture_kept(self, url: str, sha256: str, path: str, size: int, media_type: str) -> None:
        with self._writing(f"the picture {url}"):
            self.store.picture_kept(self.site, url, sha256, path, size, media_type, self._when())

    def picture_failed(self, url: str, reason: str) -> None:
        with self._writing(f"the failure of the picture {url}"):
            self.store.picture_failed(self.site, url, reason, self._when())
