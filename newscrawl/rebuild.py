"""``scrapy rebuild-state <spider> [...]``: rebuild a spider's state from its posts and JSON lines.

(A command name with a dash cannot be a module of ``COMMANDS_MODULE``: pyproject.toml
registers this one as a ``scrapy.commands`` entry point.)

For when the state database is lost, damaged, replaced or from a newer newscrawl: a crawl
then refuses to start (it would write every article again) and says to run this. It

* takes the spider's lock (no crawl of it may run meanwhile);
* moves a damaged or newer database aside (``newscrawl.sqlite3.unusable-<UTC time>``) and
  starts a new one; the other spiders' rows in a usable database are kept;
* reads ``articles.jsonl``: an article's last line gives its hash, title, URL and date, the
  number of its lines its version;
* reads the front matter of the posts in ``_posts/``: ``id`` → the post's file;
* writes a post that is missing on disk again from the article's last JSON line;
* records the articles; those with a post but no JSON line are recorded without a hash, so
  the next crawl fetches them again and rewrites their post in place;
* indexes each article's last line again for the near-duplicates (:mod:`newscrawl.related`:
  its signature computed again, its cluster and related articles as the line says).

Pending writes and failure records of the spider are forgotten. Exit status 0 when done,
1 when something could not be read or written (it says what).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader

from newscrawl import related
from newscrawl.archive import ArchiveFiles, state_dir
from newscrawl.commands import command_parser
from newscrawl.files import remove_temporary_files, write_atomic
from newscrawl.items import Article
from newscrawl.locks import Locked, SpiderLock
from newscrawl.pictures import PICTURE_PATH, item_pictures
from newscrawl.posts import render_post
from newscrawl.state import ArticleStore, StateError
from newscrawl.versions import compare, exact_hash, history_entry

_ARTICLE_FIELDS = {f.name for f in fields(Article)}


def read_front_matter(path: Path) -> dict[str, Any] | None:
    """The front matter of a post, or ``None`` when it has none that loads."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        return None
    # imported here: every scrapy command imports this module (its entry point), and PyYAML
    # takes ~0.02 s to import
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        matter = yaml.load(text[4:text.index("\n---\n", 3)], Loader=loader)
    except yaml.YAMLError:
        return None
    return matter if isinstance(matter, dict) else None


def read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(offset, object)`` of each JSON line of a file (``None`` for a line that is not a
    JSON object)."""
    if not path.exists():
        return
    offset = 0
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                value = json.loads(raw.decode("utf-8", errors="replace"))
            except ValueError:
                value = None
            yield offset, value if isinstance(value, dict) else None
            offset += len(raw)


def rebuild(archive: ArchiveFiles, store: ArticleStore, out: Any = sys.stderr) -> dict[str, int]:
    """Rebuild the state rows of the archive's site in ``store`` (the spider's lock held).

    Streams: one pass over the JSON lines, one over the posts, what it gathers per article
    kept in scratch tables of the state's connection (SQLite's temporary store, on disk), so
    its memory does not grow with the archive; a line is read again only when the next
    version of its article needs it (what changed) or its post must be written again."""
    site = archive.site
    counts = dict.fromkeys(("lines", "bad_lines", "articles", "posts", "posts_rewritten",
                            "without_lines", "duplicate_posts", "pictures"), 0)
    db = store.db
    for statement in (
            # per article: its last line (offset) and the history entries of all its lines
            "CREATE TEMP TABLE rebuild_lines (id TEXT PRIMARY KEY, offset INTEGER NOT NULL,"
            " history TEXT NOT NULL)",
            "CREATE TEMP TABLE rebuild_posts (id TEXT PRIMARY KEY, name TEXT NOT NULL, mtime REAL NOT NULL)",
            "CREATE TEMP TABLE rebuild_pictures (url TEXT PRIMARY KEY, sha256 TEXT, path TEXT, bytes INTEGER,"
            " media_type TEXT)"):
        db.execute(statement)
    try:
        jsonl = archive.jsonl_path(site)
        with _LineReader(jsonl) as reader:
            for offset, line in read_lines(jsonl):
                counts["lines"] += 1
                if not line or line.get("site") != site or not line.get("id"):
                    counts["bad_lines"] += 1
                    continue
                article_id = str(line["id"])
                row = db.execute("SELECT offset, history FROM rebuild_lines WHERE id = ?",
                                 (article_id,)).fetchone()
                before = reader.line_at(row[0]) if row else None  # the version before it: what changed
                versions = json.loads(row[1]) if row else []
                versions.append(history_entry(line, len(versions) + 1, versions,
                                              compare(before, line) if before else None))
                db.execute("INSERT OR REPLACE INTO rebuild_lines (id, offset, history) VALUES (?, ?, ?)",
                           (article_id, offset, json.dumps(versions, ensure_ascii=False)))
                db.executemany("INSERT OR REPLACE INTO rebuild_pictures VALUES (?, ?, ?, ?, ?)",
                               kept_pictures(line, archive.site_dir(site)).values())
            directory = archive.posts_dir(site)
            remove_temporary_files(directory)
            for path in _posts(directory):
                matter = read_front_matter(path)
                if not matter or matter.get("site") != site or not matter.get("id"):
                    continue
                counts["posts"] += 1
                article_id, mtime = str(matter["id"]), path.stat().st_mtime
                seen = db.execute("SELECT name, mtime FROM rebuild_posts WHERE id = ?",
                                  (article_id,)).fetchone()
                if seen:
                    # two posts for one id (left by older versions): keep the newer file, report both
                    counts["duplicate_posts"] += 1
                    (older, _), (newer, newer_mtime) = sorted([seen, (path.name, mtime)], key=lambda p: p[1])
                    print(f"rebuild-state: {site} {article_id} has two posts, {older} and {newer}: "
                          f"keeping {newer}; remove the other by hand", file=out)
                    path, mtime = directory / newer, newer_mtime
                db.execute("INSERT OR REPLACE INTO rebuild_posts (id, name, mtime) VALUES (?, ?, ?)",
                           (article_id, path.name, mtime))

            def rows() -> Iterator[dict[str, Any]]:
                found = db.execute(
                    "SELECT a.id, l.offset, l.history, p.name FROM (SELECT id FROM rebuild_lines UNION"
                    " SELECT id FROM rebuild_posts) a LEFT JOIN rebuild_lines l ON l.id = a.id"
                    " LEFT JOIN rebuild_posts p ON p.id = a.id ORDER BY a.id").fetchmany
                while batch := found(1000):
                    for article_id, offset, history, post in batch:
                        yield _row(archive, store, article_id, reader.line_at(offset) if offset is not None
                                   else None, offset, json.loads(history or "[]"), post, counts)

            counts["articles"] = store.replace_site(site, rows())
        counts["pictures"] = store.replace_pictures(site, db.execute(
            "SELECT url, sha256, path, bytes, media_type FROM rebuild_pictures"))
    finally:
        for table in ("rebuild_lines", "rebuild_posts", "rebuild_pictures"):
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    return counts


def _row(archive: ArchiveFiles, store: ArticleStore, article_id: str, line: dict[str, Any] | None,
         offset: int | None, history: list[dict[str, Any]], post: str | None,
         counts: dict[str, int]) -> dict[str, Any]:
    """The state row of one article, from its last JSON line and its post; its post written
    again from the line when it has none."""
    row: dict[str, Any] = {"id": article_id}
    if line:
        # the last line: its hash, its offset (the next version's diff reads it back) and
        # one history entry per line (which fields each changed is not re-derived)
        row.update(url=line.get("url"), title=line.get("title"), published=line.get("published"),
                   content_hash=line.get("content_hash"), version=len(history), line_offset=offset,
                   history=history, exact_hash=exact_hash(line),
                   near=related.journal_of_line(archive.site, line))
    else:
        counts["without_lines"] += 1
    if post:
        row["post_path"] = post
    elif line:
        item = Article(**{k: v for k, v in line.items() if k in _ARTICLE_FIELDS})
        name = archive.free_post_name(item, store)
        write_atomic(archive.posts_dir() / name, render_post(item, archive.image_proxy))
        row["post_path"] = name
        counts["posts_rewritten"] += 1
    return row


def _posts(directory: Path) -> Iterator[Path]:
    """The ``*.md`` files of a posts folder, as the folder lists them (not all held at once)."""
    if not directory.is_dir():
        return
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(".md") and not entry.name.startswith(".") and entry.is_file():
                yield Path(entry.path)


class _LineReader:
    """Reads back the JSON line at an offset of ``articles.jsonl`` (a dict, or ``None``)."""

    def __init__(self, path: Path):
        self.fh = open(path, "rb") if path.exists() else None  # noqa: SIM115 (closed by __exit__)

    def __enter__(self) -> _LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()

    def line_at(self, offset: int) -> dict[str, Any] | None:
        if self.fh is None:
            return None
        self.fh.seek(offset)
        try:
            value = json.loads(self.fh.readline().decode("utf-8", errors="replace"))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def kept_pictures(line: dict[str, Any], site_dir: Path) -> dict[str, tuple[str, str, str, int, str]]:
    """The kept pictures a JSON line names whose files are there: fetched URL →
    ``(url, sha256, path, bytes, media_type)`` (a picture not found is fetched again)."""
    found = {}
    for image in item_pictures(line):
        file = image.get("file")
        if not isinstance(file, dict):
            continue
        try:
            row = (file["url"], file["sha256"], file["path"], int(file["bytes"]), file["media_type"])
        except (TypeError, KeyError, ValueError):
            continue
        ours = all(isinstance(v, str) for v in row[:3]) and PICTURE_PATH.match(row[2])
        if ours and (site_dir / row[2]).is_file():
            found[row[0]] = row
    return found


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> [spider ...]"

    def short_desc(self) -> str:
        return "Rebuild a spider's state (lost, damaged, replaced) from its posts and JSON lines"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        command_parser(parser, "rebuild-state")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("name the spider(s) whose state to rebuild")
        s = self.settings
        if s is None:  # Scrapy sets them before it runs a command
            raise RuntimeError("scrapy rebuild-state runs with the project's settings")
        known = get_spider_loader(s).list()
        unknown = [a for a in args if a not in known]
        if unknown:
            raise UsageError(f"unknown spider(s): {', '.join(unknown)} (spiders: {', '.join(sorted(known))})")
        state_path = state_dir(s) / "newscrawl.sqlite3"
        locks = []
        try:
            for name in args:
                lock = SpiderLock.of(state_path.parent, name)
                lock.acquire()
                locks.append(lock)
            self.exitcode = self._rebuild(args, state_path, s)
        except Locked as exc:
            print(f"rebuild-state: {exc}: stop that crawl first", file=sys.stderr)
            self.exitcode = 75
        finally:
            for lock in locks:
                lock.release()

    def _rebuild(self, spiders: list[str], state_path: Path, s: Settings) -> int:
        try:
            store = ArticleStore(state_path)
        except StateError as exc:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            for suffix in ("", "-wal", "-shm"):
                old = state_path.with_name(state_path.name + suffix)
                if old.exists():
                    old.rename(old.with_name(f"{state_path.name}.unusable-{stamp}{suffix}"))
            print(f"rebuild-state: {exc}; moved it aside to {state_path.name}.unusable-{stamp} "
                  "and starting a new state", file=sys.stderr)
            store = ArticleStore(state_path)
        try:
            for site in spiders:
                files = ArchiveFiles(Path(s.get("NEWSCRAWL_OUTPUT_DIR")), state_path, site,
                                     image_proxy=s.get("NEWSCRAWL_IMAGE_PROXY"))
                counts = rebuild(files, store)
                print(f"rebuild-state: {site}: {counts['articles']} articles from {counts['posts']} posts"
                      f" and {counts['lines']} JSON lines; {counts['posts_rewritten']} missing posts written"
                      f" again from their JSON line; {counts['without_lines']} posts without a JSON line"
                      f" (fetched again by the next crawl); {counts['bad_lines']} unreadable lines;"
                      f" {counts['duplicate_posts']} duplicate posts", file=sys.stderr)
        except OSError as exc:
            print(f"rebuild-state: cannot write: {exc}", file=sys.stderr)
            return 1
        finally:
            store.close()
        return 0
