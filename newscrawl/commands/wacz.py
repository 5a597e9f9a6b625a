"""``scrapy wacz <spider> [-o FILE.wacz]``: bundle a spider's WARC files into one WACZ.

A WACZ (Web Archive Collection Zipped) holds the WARC files, their CDXJ index and a page
list; ReplayWeb.page (https://replayweb.page, or its offline app) opens it as it is, and
pywb can import it. The packaging is done by Webrecorder's own ``wacz`` tool (the optional
extra: ``pip install -e '.[wacz]'``); this command gives it every finished WARC file of the
spider and a page list of its articles (the latest replayable capture of each, titled from
the JSON lines), so the archive opens on a list of its articles rather than on robots.txt and
feeds. Files of a crawl still running are left out. The WACZ is written under a temporary
name (``.tmp-<pid>-<name>``) in its folder and renamed into place when complete, so a ``kill
-9`` or a failure never leaves a file at the final name; the next run removes what a killed
one left.

The WACZ's own index is written by ``wacz create`` from the WARC files, with one change: the
``304 Not Modified`` captures are left out of it, as they are of the project's CDXJ files
(:func:`newscrawl.warc.replayable`). ReplayWeb.page shows the newest capture of a URL, and a
re-check answered 304 would be a blank page; the WARC files in the WACZ still hold them.
``wacz create`` is run as ``python -m newscrawl.commands.wacz create …``: the same tool, its
indexer told to skip those records (:func:`create`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from newscrawl.archive import state_dir
from newscrawl.arguments import ArgumentError
from newscrawl.commands import command_parser, require_warc_files, settings_of
from newscrawl.commands.crawl import spider_class
from newscrawl.files import TMP_PREFIX
from newscrawl.locks import Locked, SpiderLock
from newscrawl.sites import Site
from newscrawl.warc import INDEX_NAME, INDEX_VERSION, CaptureIndex, open_index, replayable


def stale_temporaries(folder: Path) -> list[Path]:
    """The temporary WACZ files (``.tmp-<pid>-<name>.wacz``) of ``scrapy wacz`` runs that were
    killed: their process is gone."""
    stale = []
    for path in folder.glob(f"{TMP_PREFIX}*.wacz"):
        pid = path.name.removeprefix(TMP_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            stale.append(path)
    return stale


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> [-o FILE.wacz]"

    def short_desc(self) -> str:
        return "Bundle a spider's WARC files into a WACZ that ReplayWeb.page opens"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        command_parser(parser, "wacz")
        parser.add_argument("-o", "--output", metavar="FILE",
                            help="the WACZ to write (default: <output>/<spider>/<spider>-<UTC time>.wacz)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider")
        name, settings = args[0], settings_of(self)
        try:
            site = getattr(spider_class(settings, name), "site", None)
        except ArgumentError as exc:
            raise UsageError(str(exc)) from None
        if site is None:
            return self._fail(f"spider {name!r} has no site parser")
        if importlib.util.find_spec("wacz") is None:
            return self._fail("the wacz package is not installed: pip install -e '.[wacz]'")
        folder = require_warc_files(settings, name, "bundle")
        try:
            index = self._index(folder, name, settings)
        except (FileNotFoundError, Locked) as exc:
            return self._fail(str(exc))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        default = Path(settings.get("NEWSCRAWL_OUTPUT_DIR")) / name / f"{name}-{stamp}.wacz"
        output = Path(opts.output) if opts.output else default
        output.parent.mkdir(parents=True, exist_ok=True)
        for left in stale_temporaries(output.parent):
            left.unlink(missing_ok=True)
        # written under a temporary name in the same folder and renamed into place when whole:
        # a killed or failed packaging never leaves a file at the final name
        temporary = output.parent / f"{TMP_PREFIX}{os.getpid()}-{output.name}"
        with tempfile.TemporaryDirectory() as tmp:
            pages = Path(tmp) / "pages.jsonl"
            try:
                files = index.closed_files()
                count = self._page_list(index, site, set(files),
                                        Path(settings.get("NEWSCRAWL_OUTPUT_DIR")) / name / "articles.jsonl",
                                        pages, Path(tmp) / "pages.sqlite3")
            finally:
                index.close()
            if not files:
                return self._fail(f"no finished WARC file in {folder}")
            cmd = [sys.executable, "-m", "newscrawl.commands.wacz", "create", "-o", str(temporary),
                   "-p", str(pages), "--title", f"newscrawl: {name}",
                   "--desc", f"Every response the newscrawl spider {name!r} received, as WARC",
                   *(str(folder / f) for f in files)]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode == 0:
                    os.replace(temporary, output)
            finally:
                temporary.unlink(missing_ok=True)
        if done.returncode != 0:
            return self._fail(f"wacz create failed (status {done.returncode}): {done.stdout}{done.stderr}")
        print(f"{output}: {len(files)} WARC files, {count} article pages, "
              f"{output.stat().st_size} bytes")

    def _index(self, folder: Path, spider: str, settings: Settings) -> CaptureIndex:
        """The folder's capture index; missing, damaged or of an older version, it is rebuilt
        from the WARC files first, holding the spider's lock (a crawl writing the folder
        would be in the way: :class:`~newscrawl.locks.Locked`). FileNotFoundError without
        WARC files."""
        if (folder / INDEX_NAME).exists():
            try:
                index = CaptureIndex(folder, readonly=True)
                if index.db.execute("PRAGMA user_version").fetchone()[0] == INDEX_VERSION:
                    return index
                index.close()
            except sqlite3.DatabaseError:
                pass
        lock = SpiderLock.of(state_dir(settings), spider)
        lock.acquire()
        try:
            return open_index(folder)
        finally:
            lock.release()

    @staticmethod
    def _page_list(index: CaptureIndex, site: Site, files: set[str], jsonl: Path, pages: Path,
                   scratch: Path) -> int:
        """Write the WACZ's page list to ``pages``: per article of the archive (a page that gave
        no article stays in the WARC and index), the capture its page opens on — its latest
        that a replay shows (not a 304) in a finished WARC file, its server's response if it
        has one, else the DOM the browser rendered — titled from its latest JSON line.
        Streams: what it gathers per article is kept in a SQLite file at ``scratch``, not in
        memory. Returns the number of pages."""
        db = sqlite3.connect(scratch)
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE titles (id TEXT PRIMARY KEY, title TEXT)")
            db.execute("CREATE TABLE pages (id TEXT NOT NULL, rendered INTEGER NOT NULL, url TEXT, ts TEXT,"
                       " PRIMARY KEY (id, rendered))")
            with db:
                if jsonl.exists():
                    with open(jsonl, encoding="utf-8") as fh:
                        for line in fh:
                            try:
                                item = json.loads(line)
                            except ValueError:
                                continue
                            if isinstance(item, dict):
                                db.execute("INSERT OR REPLACE INTO titles VALUES (?, ?)",
                                           (item.get("id"), item.get("title")))
                for capture in index.article_captures():  # oldest first: the latest wins
                    article_id = site.article_id(site.canonical_url(capture.request_url))
                    if article_id and replayable(capture.status) and capture.file in files:
                        # the date is the record's, as indexed; an update keeps the row's place
                        db.execute("INSERT INTO pages VALUES (?, ?, ?, ?) ON CONFLICT (id, rendered)"
                                   " DO UPDATE SET url = excluded.url, ts = excluded.ts",
                                   (article_id, int(capture.rendered), capture.url, capture.date))
            any_titles = db.execute("SELECT 1 FROM titles LIMIT 1").fetchone() is not None
            rows = db.execute(
                "SELECT p.url, p.ts, t.title FROM pages p LEFT JOIN titles t ON t.id = p.id"
                " WHERE (p.rendered = 0 OR NOT EXISTS (SELECT 1 FROM pages q WHERE q.id = p.id"
                " AND q.rendered = 0)) AND (t.id IS NOT NULL OR NOT ?) ORDER BY p.rendered, p.rowid",
                (any_titles,))
            count = 0
            with open(pages, "w", encoding="utf-8") as fh:
                fh.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Articles"}) + "\n")
                for url, ts, title in rows:
                    page = {"url": url, "ts": ts, "title": title or url}
                    fh.write(json.dumps(page, ensure_ascii=False) + "\n")
                    count += 1
            return count
        finally:
            db.close()

    def _fail(self, message: str) -> None:
        print(f"scrapy wacz: {message}", file=sys.stderr)
        self.exitcode = 1


def create(argv: list[str]) -> int:
    """``wacz create`` (py-wacz's own command line, same arguments), its index written
    without the ``304 Not Modified`` records (response or ``server-not-modified`` revisit):
    py-wacz's indexer (cdxj-indexer's) asks ``filter_record`` of every record it indexes."""
    import wacz.main  # type: ignore[import-untyped]  # (no type hints)
    from wacz.waczindexer import WACZIndexer  # type: ignore[import-untyped]

    class ReplayIndexer(WACZIndexer):
        def filter_record(self, record: Any) -> bool:
            http = record.http_headers if record.rec_type in ("response", "revisit") else None
            if http is not None and not replayable(int(http.get_statuscode() or 0)):
                return False
            return super().filter_record(record)

    wacz.main.WACZIndexer = ReplayIndexer
    return wacz.main.main(argv)


if __name__ == "__main__":
    sys.exit(create(sys.argv[1:]))
