"""The archive: the one owner of each article's record (post, JSON line, state).

:class:`Archive` is built open or not at all: it takes the spider's lock (one run per
spider, see :mod:`newscrawl.locks`), opens and checks the state (:mod:`newscrawl.state`) and
finishes interrupted writes, or raises. :class:`ArchiveExtension`, a Scrapy extension, opens
it as the spider opens (a failure stops the run before any request) and closes it as the
spider closes; spiders and pipelines reach the open archive with :func:`archive_of` and the
state of their site through it (``archive.state``, a :class:`~newscrawl.state.SiteState`),
and never touch the state database themselves. It is the only writer of the spider's posts
(``<output>/<spider>/_posts/``) and JSON lines (``<output>/<spider>/articles.jsonl``).

Writing one version of an article
---------------------------------
1. **journal** — in one state transaction: the post path is reserved for the article and a
   journal entry holds everything the write needs (the post text, the JSON line, the length
   of ``articles.jsonl`` before the line, the new hash and version);
2. **post** — the post is written to a temporary file and renamed into place;
3. **line** — the JSON line is appended (at the journaled length of the file);
4. **commit** — in one state transaction: the article's hash, title and version are
   recorded and the journal entry is deleted, with what else its fetch told (out of the
   frontier, its validators, the titles its sources showed it under: :meth:`Archive.note_fetch`)
   and its near-duplicate index entry. A re-check that finds it unchanged is one transaction
   too (:meth:`Archive.checked`, :meth:`Archive.not_modified`).

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
Any other write of the state failing (a listing page's articles put in the frontier, a
picture, a re-check…, wherever the spider or a pipeline makes it) stops the crawl alike:
one logged line, counted (``newscrawl/failed/state_write``), finish reason
``write_failed``; what it would have recorded is found again by the next run (the
listing's walk did not end, the article is still in the frontier).

Opening checks the state before anything is fetched: a damaged database, one from a newer
newscrawl, or one that does not know the posts on disk (missing, replaced, restored from an
old backup) stops the run with a message and exit status 1 instead of writing every
article again; ``scrapy rebuild-state <spider>`` rebuilds it from the posts and JSON lines.
Files the state knows that are gone stop it too (finish reason ``archive_damaged``, exit
status 1): a post deleted, ``articles.jsonl`` deleted, cut short or replaced by an older copy
(its last line the state recorded is checked: one read, whatever the archive's size);
``scrapy verify <spider> --repair`` restores them from the WARC files.

These checks cost what changed, not what exists. A run that closes cleanly (everything it
began written, no state write failed) records in the state what its files looked like: the
stat of ``_posts/`` and ``articles.jsonl`` (:meth:`Archive.file_facts`). The next opening takes
that marker away (a run killed from then on leaves none) and, when the files are as it says,
skips the listing of ``_posts/``, the read of the JSON lines, the search for temporary files
and SQLite's ``quick_check`` of the whole database: a deleted, added or renamed post changes
the folder's times, a cut, deleted or replaced ``articles.jsonl`` its size, inode or change
time. With no marker (the first run, after a kill, a state restored or rebuilt) or one that
disagrees, every check runs. ``scrapy verify`` checks everything, whenever asked.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.defer import deferred_from_coro

from newscrawl.files import AppendOnlyLines, remove_temporary_files, write_atomic
from newscrawl.items import adapt, item_dict
from newscrawl.locks import Locked, SpiderLock
from newscrawl.pictures import PICTURES_DIR, KeptPicture, store_picture
from newscrawl.posts import post_name, render_post
from newscrawl.related import Near, RelatedIndex
from newscrawl.schedule import DEFAULT_STEPS, Schedule, iso, iso_or_none, parse_steps
from newscrawl.state import (
    ArticleStore,
    Known,
    PendingWrite,
    SiteState,
    StateError,
    StateWriteError,
    shown_titles,
)
from newscrawl.text import parse_datetime
from newscrawl.versions import compare, diff_markdown, exact_hash, history_entry

logger = logging.getLogger(__name__)

#: more than the file system's clock tick (a jiffy: 1–10 ms) — see Archive._record_clean_close
CLOCK_TICK_NS = 20_000_000


class ArchiveError(Exception):
    """The archive cannot be opened or written; ``reason`` is the finish reason it causes."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class WriteFailed(CloseSpider):
    """A write of the state (or of a post refreshed in place) failed: already logged and
    counted. Raised in a spider's callback, ``start()`` or idle handler, Scrapy stops the
    crawl with the finish reason ``write_failed`` and no traceback; a pipeline drops its
    item and stops the crawl (:func:`stop_crawl`)."""

    def __init__(self, message: str):
        super().__init__("write_failed")
        self.message = message

    def __str__(self) -> str:
        return self.message


def stop_crawl(crawler: Crawler, exc: Exception, reason: str = "write_failed") -> NoReturn:
    """In a pipeline: a write failed (``exc``, logged already): the crawl stops and the item
    is dropped (it is not archived; the next run fetches it again)."""
    if crawler.engine is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason=reason))
    raise DropItem(f"not archived: {exc}", log_level="DEBUG") from exc


def state_dir(settings: Any) -> Path:
    """``NEWSCRAWL_STATE_DIR``, or ``state`` in ``NEWSCRAWL_OUTPUT_DIR`` when it is not set."""
    return Path(settings.get("NEWSCRAWL_STATE_DIR") or Path(settings.get("NEWSCRAWL_OUTPUT_DIR")) / "state")


def item_line(item: Any) -> str:
    """The item as one JSON line (UTF-8, Chinese unescaped; the fields of the output spec)."""
    return json.dumps(item_dict(item), ensure_ascii=False)


class ArchiveFiles:
    """Where one spider's archive is (``<output>/<site>/``), and what its files are; opens
    nothing (``scrapy verify`` and ``rebuild-state`` read and mend an archive through it)."""

    def __init__(self, output_dir: Path, state_path: Path, site: str, *, image_proxy: str | None = None):
        self.output_dir = output_dir
        self.state_path = state_path
        self.site = site
        self.image_proxy = image_proxy or None

    def site_dir(self, site: str | None = None) -> Path:
        return self.output_dir / (site or self.site)

    def posts_dir(self, site: str | None = None) -> Path:
        return self.site_dir(site) / "_posts"

    def jsonl_path(self, site: str | None = None) -> Path:
        return self.site_dir(site) / "articles.jsonl"

    def revisions_dir(self, site: str | None = None) -> Path:
        return self.site_dir(site) / "_revisions"

    def is_our_post(self, path: Path) -> bool:
        """Whether the file is a post of this spider (front matter ``site: <spider>`` and an
        ``id``; its first lines only): hand-written posts are not."""
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                head = fh.read(8192)
        except OSError:
            return False
        matter = head.split("\n---\n", 1)[0]
        return head.startswith("---\n") and f"\nsite: {self.site}\n" in matter and "\nid: " in matter

    def free_post_name(self, item: Any, store: ArticleStore) -> str:
        """A new article's post file name: the first free candidate — never a name the state
        gives another article or a file already on disk."""
        a = adapt(item)
        directory = self.posts_dir()
        first, with_id = post_name(item), post_name(item, with_id=True)
        stem = with_id[:-3]
        candidates = [first, with_id]
        n = 2
        while True:
            for name in candidates:
                if not store.path_taken(name, self.site, a["id"]) and not (directory / name).exists():
                    return name
            candidates = [f"{stem}-{n}.md"]
            n += 1


class Archive(ArchiveFiles):
    """The posts, JSON lines and state of one spider, written crash-consistently; open from
    construction to :meth:`close`.

    Raises :class:`~newscrawl.locks.Locked` (another run holds the spider's lock) or
    :class:`ArchiveError` (the state cannot be used, the archive is damaged or cannot be
    written), having released whatever it took.
    """

    def __init__(self, output_dir: Path, state_path: Path, site: str, *, image_proxy: str | None = None,
                 durable: bool = False, stats: Any = None, schedule: Schedule | None = None):
        super().__init__(output_dir, state_path, site, image_proxy=image_proxy)
        self.durable = durable
        self.stats = stats
        self.schedule = schedule or Schedule(parse_steps(DEFAULT_STEPS))
        #: per article id, what its fetch told (validators, feed digest) until it is recorded
        self._notes: dict[str, dict[str, Any]] = {}
        self._stopping = False
        #: whether the archive opened (its clean close is then recorded as it closes)
        self._opened = False
        self.lock = SpiderLock.of(self.state_path.parent, site)
        try:
            self.lock.acquire()
        except OSError as exc:
            raise ArchiveError("state_error", f"cannot take the lock {self.lock.path}: {exc}") from exc
        try:
            # SQLite's quick_check reads the whole database: only when the files may have changed
            self.store = ArticleStore(self.state_path, durable=self.durable, check=site)
            #: whether the files are as the last clean close left them (the checks are skipped)
            self.unchanged = self.store.take_clean_close(site) == self.file_facts()
            if not self.unchanged and not self.store.quick_checked:
                self.store.quick_check()
        except StateError as exc:
            if hasattr(self, "store"):
                self.store.close()
            self.lock.release()
            raise ArchiveError("state_error", f"{exc}. Nothing was fetched.") from exc
        #: the state of this site: what the spider and the pipelines read and write
        self.state = SiteState(self.store, site, self.schedule.now, self._state_write_failed)
        #: the near-duplicate index, shared by the spiders (newscrawl.related)
        self.related = RelatedIndex(self.store, self.output_dir, site)
        try:
            if not self.unchanged:
                self._check_state_knows_posts()
                self._check_lines_intact()
            self.posts_dir().mkdir(parents=True, exist_ok=True)
            self.lines = AppendOnlyLines(self.jsonl_path(), durable=self.durable)
        except BaseException as exc:
            self.store.close()
            self.lock.release()
            if isinstance(exc, OSError):
                raise self._unwritable(exc) from exc
            raise
        try:
            if self.lines.repaired_bytes:
                logger.warning("%s ended in half a line (%d bytes, left by a killed run): cut off",
                               self.jsonl_path(), self.lines.repaired_bytes)
            if not self.unchanged:  # a clean close leaves no temporary file
                for left in [*remove_temporary_files(self.posts_dir()),
                             *remove_temporary_files(self.site_dir() / PICTURES_DIR)]:
                    logger.warning("Removed %s, left by a crashed run", left)
            self._recover()
            self.related.resign()  # once, after the migration to schema 9
            self._check_writable()
        except BaseException as exc:
            self.close()
            if isinstance(exc, OSError):
                raise self._unwritable(exc) from exc
            raise
        self._opened = True

    def _unwritable(self, exc: OSError) -> ArchiveError:
        return ArchiveError("write_failed", f"cannot write the archive in {self.site_dir()}: {exc}. "
                                            "Nothing was fetched.")

    # ---- opening checks ------------------------------------------------------------------
    def file_facts(self) -> dict[str, list[int] | None]:
        """What says whether the archive's files changed since a moment: the stat (inode,
        size, modification and change times in ns) of ``_posts/`` and of ``articles.jsonl``
        (``None`` for one that is missing). A post added, deleted or renamed changes the
        folder's times; a line appended, the file cut short, replaced or restored from a
        backup changes the file's size, inode or change time (which no tool can set back)."""
        def stat(path: Path) -> list[int] | None:
            try:
                st = path.stat()
            except FileNotFoundError:
                return None
            return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]

        return {"posts": stat(self.posts_dir()), "lines": stat(self.jsonl_path())}

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
        ours = [name for name in unknown if self.is_our_post(directory / name)]
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

    def _damaged(self, what: str) -> NoReturn:
        raise ArchiveError(
            "archive_damaged",
            f"{what}. Nothing was fetched. See what else is wrong with 'scrapy verify {self.site}' and "
            f"restore it from the WARC files with 'scrapy verify {self.site} --repair'")

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
        """Close the JSON lines and the state, release the lock. A state that cannot be
        closed cleanly (a full disk) is logged: its last transactions are in it already.

        An archive that opened, wrote everything it began (no journal entry left) and whose
        state never failed a write records its clean close: the facts of :meth:`file_facts`,
        which the next opening compares with the files to skip its checks."""
        clean = self._opened and not self._stopping
        self._opened = False
        for thing in (self.lines, self.store):
            try:
                if thing is self.store and clean:
                    self._record_clean_close()
                thing.close()
            except (OSError, sqlite3.Error) as exc:
                self._count("newscrawl/failed/state_write")
                logger.error("Cannot close %s cleanly: %s", getattr(thing, "path", thing), exc)
        self.lock.release()

    def _record_clean_close(self) -> None:
        """The clean-close marker, unless a write is left in the journal (the JSON lines are
        closed already); one that cannot be written is logged, the next opening checks all."""
        try:
            if not self.store.has_pending(self.site):
                facts = self.file_facts()
                # the file system stamps times from a clock that ticks every few ms: wait till
                # a change made after this moment cannot carry the times recorded now
                newest = max((stat[3] for stat in facts.values() if stat), default=0)
                wait = newest + CLOCK_TICK_NS - time.time_ns()
                if wait > 0:
                    time.sleep(wait / 1e9)
                self.store.set_clean_close(self.site, facts)
        except (OSError, sqlite3.Error) as exc:
            logger.warning("Cannot record the clean close of %s in %s (%s): the next run checks the "
                           "whole archive", self.site, self.state_path, exc)

    # ---- writing a version ---------------------------------------------------------------
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
        # the same story elsewhere (newscrawl.related): looked up and recorded under the
        # index's lock, which the spiders share, so that two of its articles see each other
        with self.related.held():
            near = self.related.find(item)
            a["cluster"], a["related"] = near.cluster, near.related
            return self._write(item, near)

    def _write(self, item: Any, near: Near) -> bool:
        """:meth:`write`, the index's lookup done (``near``: recorded with the version)."""
        a = adapt(item)
        known = self.store.get(self.site, a["id"])
        archived = known is not None and known.complete
        version = (known.version if known is not None and archived else 0) + 1
        a["version"] = version
        a["previous_hash"] = known.content_hash if known is not None and archived else None
        path = self.post_path(item, known)
        existed = (self.posts_dir() / path).exists()
        now = self.schedule.now()
        previous = self.stored_item(known) if known is not None and archived else None
        changes = compare(previous, item) if previous else None
        earlier = known.revisions if known is not None and archived else []
        entry = history_entry(item, version, earlier, changes)
        equals = entry.get("equals")
        history = [*earlier, entry]
        extra: dict[str, Any] = {
            "exact_hash": exact_hash(item), "history": history, "last_checked": iso(now),
            "next_check": iso_or_none(self.schedule.next_check(
                parse_datetime(a["published"]) or self._first_archived(known, now), now, changed=archived)),
            **self._take_notes(a["id"], known),
            "near": near.journal(),
        }
        if known is not None and archived and existed:
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
            self._complete(pending)
        except (OSError, sqlite3.Error) as exc:  # disk full, read-only, permissions, I/O
            raise ArchiveError("write_failed", f"cannot archive {a['id']} ({a['url']}): {exc}") from exc
        return existed

    def _complete(self, pending: PendingWrite) -> None:
        """Steps 2–4 of a journaled write (idempotent: recovery runs it again)."""
        for revision, text in pending.extra.get("revisions", []):
            write_atomic(Path(revision), text, durable=self.durable)
        self._write_post(pending)
        self._write_line(pending)
        self.store.finish_write(pending)

    def _write_post(self, pending: PendingWrite) -> None:
        """Step 2: the post, written atomically."""
        write_atomic(self.posts_dir() / pending.post_path, pending.post_text, durable=self.durable)

    def _write_line(self, pending: PendingWrite) -> None:
        """Step 3: the JSON line, unless it is whole at its journaled offset already."""
        if not self.lines.holds(pending.jsonl_offset, pending.line):
            if self.lines.size() != pending.jsonl_offset:  # other lines came after a failed write
                pending = replace(pending, jsonl_offset=self.lines.size())
                self.store.move_line(pending)
            self.lines.append(pending.line)

    def post_path(self, item: Any, known: Known | None) -> str:
        """The article's post file name: the one it has, else the first free candidate —
        never a name the state gives another article or a file already on disk."""
        if known and known.post_path:
            return known.post_path
        return self.free_post_name(item, self.store)

    # ---- reads -------------------------------------------------------------------------
    def held_capture(self, article_id: str) -> str | None:
        """What the archive holds of an article (for a reparse): ``None`` when nothing, else
        the WARC-Record-ID of the capture its latest version was parsed from, ``""`` when
        its JSON line does not name one."""
        known = self.state.known(article_id)
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

    # ---- re-checks -----------------------------------------------------------------------
    def checked(self, item: Any, *, trivial: bool = False, known: Known | None = None) -> None:
        """A re-check found no new version: the schedule moves on. A ``trivial`` change
        (whitespace, punctuation width, a tracking parameter, a picture kept now that
        failed before: the same content, another exact hash) refreshes the post in place
        and the record, and makes no version. ``known``: the state's record of the article
        as the caller has just read it (else it is read). A write that fails raises
        :class:`WriteFailed`."""
        a = adapt(item)
        known = known or self.store.get(self.site, a["id"])
        if known is None:
            return
        now = self.schedule.now()
        if trivial and known.post_path:
            a["version"], a["previous_hash"] = known.version, None
            a["cluster"], a["related"] = self.related.stored(a["id"])
            try:
                write_atomic(self.posts_dir() / known.post_path,
                             render_post(item, self.image_proxy, history=known.revisions),
                             durable=self.durable)
            except OSError as exc:
                self._state_write_failed(StateWriteError(f"cannot refresh the post of {a['id']}: {exc}"))
        self.state.checked(
            a["id"], last_checked=now, next_check=self._next_check(known, now),
            exact_hash=exact_hash(item) if trivial else None, **self._take_notes(a["id"], known))

    def note_fetch(self, article_id: str, *, validators: dict[str, Any] | None = None,
                   feed_digest: str | None = None, pictures_missing: int | None = None,
                   listed_title: str | None = None, shown: list[str] | None = None) -> None:
        """What the fetch of an article page told (its response's validators, the digest of
        its text in the feed, how many of its pictures are not kept yet and will be tried
        again, the title the run's sources listed it under and the folded titles they showed
        it under): recorded with the version or re-check it leads to, in its transaction,
        never before (a remembered ETag must not hide a change that was never archived)."""
        notes = self._notes.setdefault(article_id, {})
        if pictures_missing is not None:
            notes["pictures_missing"] = pictures_missing
        if validators:
            notes["validators"] = validators
        if feed_digest:
            notes["feed_digest"] = feed_digest
        if listed_title:
            notes["listed_title"] = listed_title
            notes["shown"] = shown or []

    def _take_notes(self, article_id: str, known: Known | None) -> dict[str, Any]:
        """What :meth:`note_fetch` noted of the article, as the state records it (the shown
        titles added to those it has), and forgotten here."""
        notes = self._notes.pop(article_id, {})
        if "shown" in notes:
            notes["listed_titles"] = shown_titles(known.listed_titles if known else None, notes.pop("shown"))
        return notes

    def not_modified(self, article_id: str, known: Known | None = None) -> None:
        """A conditional re-check answered 304 (or the same bytes), or a source vouched for
        it: unchanged; one transaction. ``known``: the state's record of the article as the
        caller read it for this fetch (else it is read)."""
        known = known or self.store.get(self.site, article_id)
        if known is None:
            return
        now = self.schedule.now()
        self.state.checked(
            article_id, last_checked=now, next_check=self._next_check(known, now),
            **self._take_notes(article_id, known))

    def _next_check(self, known: Known, now: datetime) -> datetime | None:
        """The next scheduled re-check of an article found unchanged now (``None``: settled)."""
        published = parse_datetime(known.published) or self._first_archived(known, now)
        return self.schedule.next_check(published, now, changed=False)

    @staticmethod
    def _first_archived(known: Known | None, now: datetime) -> datetime:
        """When an article without a publication date was first archived (its age counts
        from there, so that it settles like the others)."""
        first = known.revisions[0].get("crawled") if known is not None and known.revisions else None
        return parse_datetime(first) or now

    # ---- pictures (newscrawl.pictures; fetched by the PicturesPipeline) ----------------
    def picture(self, url: str) -> tuple[KeptPicture | None, tuple[str, int, str] | None]:
        """What the state knows of the picture at ``url`` (the URL fetched), in one read: its
        kept copy, when its file is there; else ``(reason, attempts, last_tried)`` of its
        failures, if it failed; else neither (a kept picture whose file is gone is fetched
        again)."""
        row = self.store.picture(self.site, url)
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
        picture and whether its file is new. Raises OSError (disk full, read-only…) when the
        file cannot be written, :class:`WriteFailed` when the state cannot."""
        kept, new = store_picture(self.site_dir(), url, data, media_type, durable=self.durable)
        self.state.picture_kept(url, kept["sha256"], kept["path"], kept["bytes"], media_type)
        return kept, new

    # ---- helpers -----------------------------------------------------------------------
    def _state_write_failed(self, error: StateWriteError) -> NoReturn:
        """A write of the state failed: counted, logged (the first in one line that says the
        crawl stops, the others quietly), and :class:`WriteFailed` raised."""
        self._count("newscrawl/failed/state_write")
        if not self._stopping:
            self._stopping = True
            logger.error("%s. Stopping the crawl: the state cannot be written; the next run with room "
                         "goes on from where this one stopped", error)
        else:
            logger.debug("%s", error)
        raise WriteFailed(str(error)) from error

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)


class ArchiveExtension:
    """The archive as a Scrapy extension: opened as the spider opens (or the run stops before
    its first request: ``locked``, ``state_error``, ``state_mismatch``, ``archive_damaged``,
    ``write_failed``), closed as it closes. :func:`archive_of` gives the open archive."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self._archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @property
    def is_open(self) -> bool:
        return self._archive is not None

    @property
    def archive(self) -> Archive:
        """The open archive; a RuntimeError before the spider opened it (or when it could not)."""
        if self._archive is None:
            raise RuntimeError("the archive is not open: it opens as the spider opens, and did not "
                               "(see the error logged then)")
        return self._archive

    def open(self, site: str) -> Archive:
        """Open the archive of ``site`` with the crawl's settings (raises as :class:`Archive`)."""
        s = self.crawler.settings
        self._archive = Archive(Path(s.get("NEWSCRAWL_OUTPUT_DIR")), state_dir(s) / "newscrawl.sqlite3",
                                site, image_proxy=s.get("NEWSCRAWL_IMAGE_PROXY"),
                                durable=s.getbool("NEWSCRAWL_FSYNC"), stats=self.crawler.stats,
                                schedule=Schedule.from_settings(s))
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def spider_opened(self, spider: Spider) -> None:
        try:
            self.open(spider.name)
        except Locked as exc:
            logger.error("%s: this run stops now", exc)
            self.crawler.stats.inc_value("newscrawl/locked")
            raise CloseSpider("locked") from None
        except ArchiveError as exc:
            logger.error("%s", exc)
            self.crawler.stats.inc_value(f"newscrawl/failed/{exc.reason}")
            raise CloseSpider(exc.reason) from None

    def spider_closed(self, spider: Spider) -> None:
        self.close()


def archive_of(crawler: Crawler) -> Archive:
    """The crawl's open archive (a RuntimeError when it is not open)."""
    extension = crawler.get_extension(ArchiveExtension)
    if extension is None:
        raise RuntimeError("the archive extension is not enabled (EXTENSIONS)")
    return extension.archive


def archive_opened(crawler: Crawler) -> bool:
    """Whether the crawl's archive is open (it is not when the run was locked out, or its
    state or folder could not be used)."""
    extension = crawler.get_extension(ArchiveExtension)
    return extension is not None and extension.is_open


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
        return archive_of(self.crawler)

    def process_item(self, item: Any) -> Any:
        try:
            existed = self.archive.write(item)
        except ArchiveError as exc:
            self.stats.inc_value("newscrawl/failed/write")
            logger.error("%s. The article is not recorded as archived; the next run writes it.", exc)
            if not self.stopping:
                self.stopping = True
                logger.error("Stopping the crawl: the archive cannot be written")
            stop_crawl(self.crawler, exc)
        self.stats.inc_value("newscrawl/posts/rewritten" if existed else "newscrawl/posts/written")
        return item
