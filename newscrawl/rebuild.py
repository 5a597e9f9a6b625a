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
  the next crawl fetches them again and rewrites their post in place.

Pending writes and failure records of the spider are forgotten. Exit status 0 when done,
1 when something could not be read or written (it says what).
"""

from __future__ import annotations

import argparse
import json
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
    """Rebuild the state rows of the archive's site in ``store`` (the spider's lock held)."""
    site = archive.site
    counts = dict.fromkeys(("lines", "bad_lines", "articles", "posts", "posts_rewritten",
                            "without_lines", "duplicate_posts", "pictures"), 0)
    pictures: dict[str, tuple[str, str, str, int, str]] = {}
    last: dict[str, dict[str, Any]] = {}
    offsets: dict[str, int] = {}
    history: dict[str, list[dict[str, Any]]] = {}
    for offset, line in read_lines(archive.jsonl_path(site)):
        counts["lines"] += 1
        if not line or line.get("site") != site or not line.get("id"):
            counts["bad_lines"] += 1
            continue
        before = last.get(line["id"])  # the version before it: what changed
        last[line["id"]], offsets[line["id"]] = line, offset
        pictures.update(kept_pictures(line, archive.site_dir(site)))
        versions = history.setdefault(line["id"], [])
        versions.append(history_entry(line, len(versions) + 1, versions,
                                      compare(before, line) if before else None))
    posts: dict[str, Path] = {}
    directory = archive.posts_dir(site)
    remove_temporary_files(directory)
    for path in sorted(directory.glob("*.md")) if directory.is_dir() else []:
        matter = read_front_matter(path)
        if not matter or matter.get("site") != site or not matter.get("id"):
            continue
        counts["posts"] += 1
        article_id = str(matter["id"])
        if article_id in posts:
            # two posts for one id (left by older versions): keep the newer file, report both
            counts["duplicate_posts"] += 1
            older, newer = sorted((posts[article_id], path), key=lambda p: p.stat().st_mtime)
            print(f"rebuild-state: {site} {article_id} has two posts, {older.name} and {newer.name}: "
                  f"keeping {newer.name}; remove the other by hand", file=out)
            posts[article_id] = newer
        else:
            posts[article_id] = path
    rows = []
    for article_id in sorted(set(last) | set(posts)):
        line = last.get(article_id)
        row: dict[str, Any] = {"id": article_id}
        if line:
            # the last line: its hash, its offset (the next version's diff reads it back) and
            # one history entry per line (which fields each changed is not re-derived)
            row.update(url=line.get("url"), title=line.get("title"), published=line.get("published"),
                       content_hash=line.get("content_hash"), version=len(history[article_id]),
                       line_offset=offsets[article_id], history=history[article_id],
                       exact_hash=exact_hash(line))
        else:
            counts["without_lines"] += 1
        if article_id in posts:
            row["post_path"] = posts[article_id].name
        elif line:
            item = Article(**{k: v for k, v in line.items() if k in _ARTICLE_FIELDS})
            name = archive.free_post_name(item, store)
            write_atomic(directory / name, render_post(item, archive.image_proxy))
            row["post_path"] = name
            counts["posts_rewritten"] += 1
        rows.append(row)
    store.replace_site(site, rows)
    store.replace_pictures(site, list(pictures.values()))
    counts["articles"], counts["pictures"] = len(rows), len(pictures)
    return counts


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
