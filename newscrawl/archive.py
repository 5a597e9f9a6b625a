"""The archive: the one owner of each article's record (post, JSON line, state).

:class:`Archive` is a Scrapy extension; spiders and pipelines fetch it with
``crawler.get_extension(Archive)`` and never touch the state database themselves. For the
length of a crawl it holds the spider's lock (one run per spider, see :mod:`newscrawl.locks`)
and the state (:mod:`newscrawl.state`), and it is the only writer of the spider's posts
(``<output>/<spider>/_posts/``) and JSON lines (``<output>/<spider>/articles.jsonl``).

Writing one version of an article
---------------------------------
1. **journal** — in one state transaction: the post path is reserved for the article and a
   journal entry holds everything the write needs (the post text, the JSON line, the length
   of ``articles.jsonl`` before the line, the new hash and version);
2. **post** — the post is written to a temporary file and renamed into place;
3. **line** — the JSON line is appended (at the journaled length of the file);
4. **commit** — in one state transaction: the article's hash, title and version are
   recorded and the journal entry is deleted.

What a crash (``kill -9``, power cut with ``NEWSCRAWL_FSYNC``) at each point leaves, and
what the next run does when it opens the archive, before its first request:

======================  ==========================================  ==========================
killed                  on disk                                      next run
======================  ==========================================  ==========================
before 1                nothing of this version                      fetches it again (new)
after 1, before 2 done  journal entry, maybe a ``.tmp-*`` file       removes the temp file and
                                                                     completes 2–4 from the
                                                                     journal
after 2                 journal entry, the new post                  rewrites the post (same
                                                                     bytes), 3–4
during 3                journal, post, half a line at the end        cuts the half line, 3–4
after 3                 journal, post, the whole line                sees the line at the
                                                                     journaled offset, 4
after 4                 everything                                   nothing to do
======================  ==========================================  ==========================

So every archived version ends with exactly one post and exactly one JSON line, and a
post path is never handed to two articles. A write that *fails* (disk full, read-only
folder, permissions) leaves the journal entry too: the article is not recorded as archived,
the error is logged and counted (``newscrawl/failed/write``), the crawl stops (finish
reason ``write_failed``, exit status 1) and the next run with room completes the write.

Opening checks the state before anything is fetched: a damaged database, one from a newer
newscrawl, or one that does not know the posts on disk (missing, replaced, restored from an
old backup) stops the run with a message and exit status 1 instead of writing every
article again; ``scrapy rebuild-state <spider>`` rebuilds it from the posts and JSON lines.
Files the state knows that are gone stop it too (finish reason ``archive_damaged``, exit
status 1): a post deleted, ``articles.jsonl`` deleted, cut short or replaced by an older copy
(its last line the state recorded is checked: one read, whatever the archive's size);
``scrapy verify <spider> --repair`` restores them from the WARC files.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.defer import deferred_from_coro

from newscrawl.files import AppendOnlyLines, remove_temporary_files, write_atomic
from newscrawl.items import adapt, item_dict
from newscrawl.locks import Locked, SpiderLock
from newscrawl.pictures import PICTURES_DIR, KeptPicture, store_picture
from newscrawl.posts import post_name, render_post
from newscrawl.schedule import DEFAULT_STEPS, Schedule, iso, parse_steps
from newscrawl.state import ArticleStore, Known, PendingWrite, StateError
from newscrawl.text import parse_datetime
from newscrawl.versions import compare, diff_markdown, exact_hash, history_entry

logger = logging.getLogger(__name__)

#: Test-only: ``NEWSCRAWL_CRASH_AT=<point>[:<n>]`` kills the process (SIGKILL) the n-th time
#: (default first) a write reaches ``<point>``; the crash-consistency tests use it.
CRASH_ENV = "NEWSCRAWL_CRASH_AT"
CRASH_POINTS = ("journaled", "post_temp", "post_written", "line_half", "line_written", "committed",
                "picture_temp", "picture_written")


class ArchiveError(Exception):
    """The archive cannot be opened or written; ``reason`` is the finish reason it causes."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def state_dir(settings: Any) -> Path:
    """``NEWSCRAWL_STATE_DIR``, or ``state`` in ``NEWSCRAWL_OUTPUT_DIR`` when it is not set."""
    return Path(settings.get("NEWSCRAWL_STATE_DIR") or Path(settings.get("NEWSCRAWL_OUTPUT_DIR")) / "state")


def item_line(item: Any) -> str:
    """The item as one JSON line (UTF-8, Chinese unescaped; the fields of the output spec)."""
    return json.dumps(item_dict(item), ensure_ascii=False)


class Archive:
    """The posts, JSON lines and state of one spider, written crash-consistently."""

    def __init__(self, output_dir: Path, state_path: Path, *, image_proxy: str | None = None,
                 durable: bool = False, stats: Any = None, schedule: Schedule | None = None):
        self.output_dir = output_dir
        self.state_path = state_path
        self.image_proxy = image_proxy or None
        self.durable = durable
        self.stats = stats
        self.site: str | None = None
        self.store: ArticleStore | None = None
        self.lines: AppendOnlyLines | None = None
        self.lock: SpiderLock | None = None
        self.schedule = schedule or Schedule(parse_steps(DEFAULT_STEPS))
        #: per article id, what its fetch told (validators, feed digest) until it is recorded
        self._notes: dict[str, dict[str, Any]] = {}
        self._crash_at, self._crash_count = _crash_setting()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Archive:
        s = crawler.settings
        archive = cls(Path(s.get("NEWSCRAWL_OUTPUT_DIR")),
                      state_dir(s) / "newscrawl.sqlite3",
                      image_proxy=s.get("NEWSCRAWL_IMAGE_PROXY"), durable=s.getbool("NEWSCRAWL_FSYNC"),
                      stats=crawler.stats, schedule=Schedule.from_settings(s))
        archive.crawler = crawler
        crawler.signals.connect(archive.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(archive.spider_closed, signal=signals.spider_closed)
        return archive

    # ---- paths -------------------------------------------------------------------------
    def site_dir(self, site: str | None = None) -> Path:
        return self.output_dir / (site or self.site)

    def posts_dir(self, site: str | None = None) -> Path:
        return self.site_dir(site) / "_posts"

    def jsonl_path(self, site: str | None = None) -> Path:
        return self.site_dir(site) / "articles.jsonl"

    # ---- opening and closing -----------------------------------------------------------
    def spider_opened(self, spider: Spider) -> None:
        try:
            self.open(spider.name)
        except Locked as exc:
            logger.error("%s: this run stops now", exc)
            self._count("newscrawl/locked")
            raise CloseSpider("locked") from None
        except ArchiveError as exc:
            logger.error("%s", exc)
            self._count(f"newscrawl/failed/{exc.reason}")
            raise CloseSpider(exc.reason) from None

    def spider_closed(self, spider: Spider) -> None:
        self.close()

    def open(self, site: str) -> None:
        """Lock the spider, open and check the state, finish interrupted writes, check that
        the outputs are writable. Raises :class:`~newscrawl.locks.Locked` or ArchiveError."""
        self.site = site
        lock = SpiderLock.of(self.state_path.parent, site)
        try:
            lock.acquire()
        except OSError as exc:
            raise ArchiveError("state_error", f"cannot take the lock {lock.path}: {exc}") from exc
        self.lock = lock
        try:
            self.store = ArticleStore(self.state_path, durable=self.durable)
        except StateError as exc:
            self.close()
            raise ArchiveError("state_error", f"{exc}. Nothing was fetched.") from exc
        try:
            self._check_state_knows_posts()
            self._check_lines_intact()
            self.posts_dir().mkdir(parents=True, exist_ok=True)
            self.lines = AppendOnlyLines(self.jsonl_path(), durable=self.durable)
            if self.lines.repaired_bytes:
                logger.warning("%s ended in half a line (%d bytes, left by a killed run): cut off",
                               self.jsonl_path(), self.lines.repaired_bytes)
            for left in [*remove_temporary_files(self.posts_dir()),
                         *remove_temporary_files(self.site_dir() / PICTURES_DIR)]:
                logger.warning("Removed %s, left by a crashed run", left)
            self._recover()
            self._check_writable()
        except ArchiveError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise ArchiveError("write_failed", f"cannot write the archive in {self.site_dir()}: {exc}. "
                                               "Nothing was fetched.") from exc

    def _check_state_knows_posts(self) -> None:
        """A state that does not know the posts on disk would write them all again.

        Posts the state does not know are read (their first lines only): a post of this
        spider (front matter ``site: <spider>``) means the state is missing, replaced or older
        than the posts; files of other origin (hand-written posts) are left alone. A post the
        state has archived that is gone from the folder stops the run too (``archive_damaged``):
        the same listing and one read of the state, whatever the archive's size.
        """
        directory = self.posts_dir()
        on_disk = {p.name for p in directory.glob("*.md")} if directory.is_dir() else set()
        known, archived = self.store.post_paths(self.site)
        unknown = sorted(on_disk - known)
        ours = [name for name in unknown if self._is_our_post(directory / name)]
        if ours:
            raise ArchiveError(
                "state_mismatch",
                f"the state {self.state_path} does not know {len(ours)} of the {len(on_disk)} posts in "
                f"{directory} (e.g. {ours[0]}): it is missing, was replaced or is older than the "
                f"posts. Nothing was fetched. Rebuild it from the posts and JSON lines with "
                f"'scrapy rebuild-state {self.site}' (or point NEWSCRAWL_STATE_DIR at the right one)")
        missing = sorted(archived - on_disk)
        if missing:
            self._damaged(f"{len(missing)} posts the state knows are missing from {directory} "
                          f"(e.g. {missing[0]})")

    def _check_lines_intact(self) -> None:
        """``articles.jsonl`` deleted, cut short or replaced (an older backup restored) would
        make the next versions' diffs and the archive's history wrong without a word.

        Reads one line, whatever the size of the archive: the line at the largest offset the
        state recorded must be that article's latest line, whole; and no line of this spider
        may follow it unless a write is pending in the journal (which finishes it). Half a
        line at the end (a killed write) is left to :class:`AppendOnlyLines` to cut."""
        last = self.store.last_line(self.site)
        if last is None:
            return
        article_id, offset, content_hash = last
        path = self.jsonl_path()
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                raw = fh.readline()
                tail = b"" if self.store.has_pending(self.site) else fh.read(1 << 20)
        except FileNotFoundError:
            self._damaged(f"{path} is missing (the state knows JSON lines up to byte {offset})")
        try:
            line = json.loads(raw) if raw.endswith(b"\n") else None
        except ValueError:
            line = None
        found = (line.get("id"), line.get("content_hash")) if isinstance(line, dict) else None
        if found != (article_id, content_hash):
            self._damaged(f"{path} is truncated or replaced: its line at byte {offset} is not the latest "
                          f"version of {article_id} (the state's last line)")
        for extra in tail.split(b"\n")[:-1]:  # whole lines after it (a half line is cut later)
            try:
                value = json.loads(extra)
            except ValueError:
                continue
            if isinstance(value, dict) and value.get("site") == self.site:
                self._damaged(f"{path} holds lines after the last one the state knows (byte {offset}, "
                              f"{article_id}): the state is older than the JSON lines")

    def _damaged(self, what: str) -> None:
        raise ArchiveError(
            "archive_damaged",
            f"{what}. Nothing was fetched. See what else is wrong with 'scrapy verify {self.site}' and "
            f"restore it from the WARC files with 'scrapy verify {self.site} --repair'")

    def _is_our_post(self, path: Path) -> bool:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                head = fh.read(8192)
        except OSError:
            return False
        matter = head.split("\n---\n", 1)[0]
        return head.startswith("---\n") and f"\nsite: {self.site}\n" in matter and "\nid: " in matter

    def _recover(self) -> None:
        """Finish every write a crash or failure interrupted (see the module docstring)."""
        for pending in self.store.pending(self.site):
            self._complete(pending)
            self._count("newscrawl/recovered_writes")
            logger.warning("Finished the interrupted write of %s %s (version %d) from the journal",
                           self.site, pending.id, pending.version)

    def _check_writable(self) -> None:
        probe = self.posts_dir() / ".newscrawl-write-test"
        write_atomic(probe, "ok\n")
        probe.unlink()

    def close(self) -> None:
        for thing in (self.lines, self.store):
            if thing is not None:
                thing.close()
        self.lines = self.store = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # ---- reads -------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.store is not None

    def known(self, article_id: str) -> Known | None:
        return self.store.get(self.site, article_id) if self.store else None

    def last_failure(self, article_id: str) -> tuple[str, int, str] | None:
        return self.store.last_failure(self.site, article_id) if self.store else None

    # ---- writes ------------------------------------------------------------------------
    def record_failure(self, article_id: str, reason: str, url: str | None = None) -> None:
        if self.store:
            self.store.record_failure(self.site, article_id, reason, url, iso(self.schedule.now()))

    def set_listed_title(self, article_id: str, title: str, folded: list[str] | None = None) -> None:
        if self.store:
            self.store.set_listed_title(self.site, article_id, title, folded)

    # The frontier: article pages decided on but not archived or dropped yet. A run that is
    # killed or stopped leaves them, and the next run fetches them first, so an article seen
    # once in a feed is not lost when the feed has moved on. Listings whose walk did not end
    # are walked in full next time (the pages it never reached may hold unknown articles).
    def frontier_add(self, article_id: str, url: str, listed_title: str | None) -> None:
        if self.store:
            self.store.frontier_add(self.site, article_id, url, listed_title)

    def frontier_done(self, article_id: str) -> None:
        if self.store:
            self.store.frontier_done(self.site, article_id)

    def frontier(self) -> list[tuple[str, str, str | None]]:
        return self.store.frontier(self.site) if self.store else []

    def due(self, limit: int) -> list[tuple[str, str, str | None]]:
        """Archived articles whose scheduled re-check is due (``newscrawl.schedule``)."""
        return self.store.due(self.site, iso(self.schedule.now()), limit) if self.store else []

    def failed_due(self, retry_after: timedelta, max_attempts: int, limit: int) -> list[tuple[str, str]]:
        """Pages that failed and are due for another try (``NEWSCRAWL_RETRY_FAILED_*``)."""
        before = iso(self.schedule.now() - retry_after)
        return self.store.failed_due(self.site, before, max_attempts, limit) if self.store else []

    def listing_started(self, url: str) -> bool:
        """Whether the previous walk of this listing did not end (then walk it in full)."""
        return self.store.listing_started(self.site, url) if self.store else False

    def listing_finished(self, url: str) -> None:
        if self.store:
            self.store.listing_finished(self.site, url)

    def write(self, item: Any) -> bool:
        """Archive a new version of the item: post, JSON line, state (module docstring).

        Sets the item's ``version`` and ``previous_hash``. A new version of an archived
        article first keeps the previous one: ``_revisions/<id>/v<N>.md`` (the post as it
        was) and ``_revisions/<id>/v<N+1>.diff.md`` (the changed paragraphs, word by word).
        The history entry of the version (``history`` in the state, the post's revision
        list) holds its content hash (``hash``), the fields that changed (``changed``), a
        one-line ``summary`` and, for a return to an earlier text, the first version it
        ``equals``. Returns whether the post existed before. Raises ArchiveError (``write_failed``) when
        something cannot be written; the journal then lets the next run finish it."""
        a = adapt(item)
        if a["site"] != self.site:
            raise ValueError(f"an item of {a['site']!r} given to the archive of {self.site!r}")
        known = self.store.get(self.site, a["id"])
        archived = known is not None and known.complete
        version = (known.version if archived else 0) + 1
        a["version"], a["previous_hash"] = version, known.content_hash if archived else None
        path = self.post_path(item, known)
        existed = (self.posts_dir() / path).exists()
        now = self.schedule.now()
        previous = self.stored_item(known) if archived else None
        changes = compare(previous, item) if previous else None
        earlier = known.revisions if archived else []
        entry = history_entry(item, version, earlier, changes)
        equals = entry.get("equals")
        history = [*earlier, entry]
        extra: dict[str, Any] = {
            "exact_hash": exact_hash(item), "history": history, "last_checked": iso(now),
            "next_check": iso(self.schedule.next_check(parse_datetime(a["published"]), now,
                                                       changed=archived)),
            **self._notes.pop(a["id"], {}),
        }
        if archived and existed:
            revisions = self.revisions_dir() / a["id"]
            extra["revisions"] = [[str(revisions / f"v{known.version}.md"),
                                   (self.posts_dir() / path).read_text(encoding="utf-8")]]
            if previous is not None:
                extra["revisions"].append([str(revisions / f"v{version}.diff.md"), diff_markdown(
                    previous, item, known.version, version, changes=changes, equals=equals)])
        pending = PendingWrite(
            site=self.site, id=a["id"], version=version, post_path=path,
            post_text=render_post(item, self.image_proxy, history=history), line=item_line(item),
            jsonl_offset=self.lines.size(), url=a["url"], title=a["title"], published=a["published"],
            content_hash=a["content_hash"], extra=extra)
        try:
            self.store.begin_write(pending)
            self._crash("journaled")
            self._complete(pending)
        except (OSError, sqlite3.Error) as exc:  # disk full, read-only, permissions, I/O
            raise ArchiveError("write_failed", f"cannot archive {a['id']} ({a['url']}): {exc}") from exc
        return existed

    def held_capture(self, article_id: str) -> str | None:
        """What the archive holds of an article (for a reparse): ``None`` when nothing, else
        the WARC-Record-ID of the capture its latest version was parsed from, ``""`` when
        its JSON line does not name one."""
        known = self.known(article_id)
        if known is None or not known.complete:
            return None
        stored = self.stored_item(known)
        return str(((stored or {}).get("capture") or {}).get("record") or "")

    def stored_item(self, known: Known) -> dict[str, Any] | None:
        """The archived version's item, from its JSON line (``None`` if it cannot be read)."""
        if known.line_offset is None:
            return None
        line = self.lines.line_at(known.line_offset)
        try:
            value = json.loads(line) if line else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def checked(self, item: Any, *, trivial: bool = False) -> None:
        """A re-check found no new version: the schedule moves on. A ``trivial`` change
        (whitespace, punctuation width, a tracking parameter, a picture kept now that
        failed before: the same content, another exact hash) refreshes the post in place
        and the record, and makes no version."""
        a = adapt(item)
        known = self.store.get(self.site, a["id"])
        if known is None:
            return
        now = self.schedule.now()
        if trivial and known.post_path:
            a["version"], a["previous_hash"] = known.version, None
            write_atomic(self.posts_dir() / known.post_path,
                         render_post(item, self.image_proxy, history=known.revisions), durable=self.durable)
        self.store.checked(
            self.site, a["id"], last_checked=iso(now),
            next_check=iso(self.schedule.next_check(parse_datetime(known.published), now, changed=False)),
            exact_hash=exact_hash(item) if trivial else None, **self._notes.pop(a["id"], {}))

    def note_fetch(self, article_id: str, *, validators: dict | None = None,
                   feed_digest: str | None = None, pictures_missing: int | None = None) -> None:
        """What the fetch of an article page told (its response's validators, the digest of
        its text in the feed, how many of its pictures are not kept yet and will be tried
        again): recorded with the version or re-check it leads to, never before (a
        remembered ETag must not hide a change that was never archived)."""
        notes = self._notes.setdefault(article_id, {})
        if pictures_missing is not None:
            notes["pictures_missing"] = pictures_missing
        if validators:
            notes["validators"] = validators
        if feed_digest:
            notes["feed_digest"] = feed_digest

    def not_modified(self, article_id: str) -> None:
        """A conditional re-check answered 304 (or the same bytes): unchanged."""
        known = self.store.get(self.site, article_id)
        if known is None:
            return
        now = self.schedule.now()
        self.store.checked(
            self.site, article_id, last_checked=iso(now),
            next_check=iso(self.schedule.next_check(parse_datetime(known.published), now, changed=False)),
            **self._notes.pop(article_id, {}))

    def validators(self, url: str) -> tuple[str | None, str | None, str | None] | None:
        return self.store.validators(self.site, url) if self.store else None

    def set_validators(self, validators: dict) -> None:
        """Validators of a feed or listing page, remembered once the page was parsed."""
        if self.store:
            self.store.set_validators(self.site, validators)

    # ---- pictures (newscrawl.pictures; fetched by the PicturesPipeline) ----------------
    def picture(self, url: str) -> tuple[KeptPicture | None, tuple[str, int, str] | None]:
        """What the state knows of the picture at ``url`` (the URL fetched), in one read: its
        kept copy, when its file is there; else ``(reason, attempts, last_tried)`` of its
        failures, if it failed; else neither (a kept picture whose file is gone is fetched
        again)."""
        row = self.store.picture(self.site, url) if self.store else None
        if not row:
            return None, None
        sha256, path, size, media_type, reason, attempts, last_tried = row
        if sha256:
            if not (self.site_dir() / path).is_file():
                return None, None
            return KeptPicture(url=url, sha256=sha256, path=path, bytes=size, media_type=media_type), None
        return None, ((reason, attempts, last_tried) if reason else None)

    def keep_picture(self, url: str, data: bytes, media_type: str) -> tuple[KeptPicture, bool]:
        """Store a picture's bytes (content-addressed, atomically) and record it; the kept
        picture and whether its file is new. Raises OSError (disk full, read-only…)."""
        if self._reached("picture_temp"):  # killed while the temporary file is half written
            folder = self.site_dir() / PICTURES_DIR
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ".tmp-crash-picture").write_bytes(data[: len(data) // 2])
            _kill()
        kept, new = store_picture(self.site_dir(), url, data, media_type, durable=self.durable)
        self._crash("picture_written")
        self.store.picture_kept(self.site, url, kept["sha256"], kept["path"], kept["bytes"],
                                media_type, iso(self.schedule.now()))
        return kept, new

    def picture_failed(self, url: str, reason: str) -> None:
        if self.store:
            self.store.picture_failed(self.site, url, reason, iso(self.schedule.now()))

    def revisions_dir(self, site: str | None = None) -> Path:
        return self.site_dir(site) / "_revisions"

    def _complete(self, pending: PendingWrite) -> None:
        """Steps 2–4 of a journaled write (idempotent: recovery runs it again)."""
        for revision, text in pending.extra.get("revisions", []):
            write_atomic(Path(revision), text, durable=self.durable)
        path = self.posts_dir() / pending.post_path
        if self._reached("post_temp"):  # killed while the temporary file is half written
            (path.parent / f".tmp-crash-{pending.id}").write_text(pending.post_text[:100], encoding="utf-8")
            _kill()
        write_atomic(path, pending.post_text, durable=self.durable)
        self._crash("post_written")
        if not self.lines.holds(pending.jsonl_offset, pending.line):
            if self.lines.size() != pending.jsonl_offset:  # other lines came after a failed write
                pending = replace(pending, jsonl_offset=self.lines.size())
                self.store.move_line(pending)
            if self._reached("line_half"):  # killed halfway through the line
                data = pending.line.encode("utf-8")
                os.write(self.lines.fh.fileno(), data[: len(data) // 2])
                _kill()
            self.lines.append(pending.line)
        self._crash("line_written")
        self.store.finish_write(pending)
        self._crash("committed")

    def post_path(self, item: Any, known: Known | None) -> str:
        """The article's post file name: the one it has, else the first free candidate —
        never a name the state gives another article or a file already on disk."""
        if known and known.post_path:
            return known.post_path
        a = adapt(item)
        directory = self.posts_dir()
        first, with_id = post_name(item), post_name(item, with_id=True)
        stem = with_id[:-3]
        candidates = [first, with_id]
        n = 2
        while True:
            for name in candidates:
                if not self.store.path_taken(name, self.site, a["id"]) and not (directory / name).exists():
                    return name
            candidates = [f"{stem}-{n}.md"]
            n += 1

    # ---- helpers -----------------------------------------------------------------------
    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def _reached(self, point: str) -> bool:
        """Test-only (``NEWSCRAWL_CRASH_AT``): whether this is the moment to crash at ``point``."""
        if self._crash_at != point:
            return False
        self._crash_count -= 1
        return self._crash_count == 0

    def _crash(self, point: str) -> None:
        if self._reached(point):
            _kill()


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _crash_setting() -> tuple[str | None, int]:
    value = os.environ.get(CRASH_ENV)
    if not value:
        return None, 0
    point, _, count = value.partition(":")
    if point not in CRASH_POINTS:
        raise ValueError(f"{CRASH_ENV}: unknown point {point!r} (one of {', '.join(CRASH_POINTS)})")
    return point, int(count or 1)


class ArchivePipeline:
    """The last pipeline: hands each new or changed article to the :class:`Archive`.

    A write that fails is logged and counted (``newscrawl/failed/write``), the item is
    dropped, and the crawl stops (finish reason ``write_failed``): a full disk or a
    read-only folder will not get better by fetching more pages.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    @property
    def archive(self) -> Archive:
        return self.crawler.get_extension(Archive)

    def process_item(self, item: Any) -> Any:
        try:
            existed = self.archive.write(item)
        except ArchiveError as exc:
            self.stats.inc_value("newscrawl/failed/write")
            logger.error("%s. The article is not recorded as archived; the next run writes it.", exc)
            if not self.stopping:
                self.stopping = True
                logger.error("Stopping the crawl: the archive cannot be written")
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="write_failed"))
            raise DropItem(f"not archived: {exc}", log_level="DEBUG") from exc
        self.stats.inc_value("newscrawl/posts/rewritten" if existed else "newscrawl/posts/written")
        return item
