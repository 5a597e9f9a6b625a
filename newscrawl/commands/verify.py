"""``scrapy verify <spider> [--repair]``: check that a spider's archive agrees with its state
and its WARC files, and restore what does not from the WARC files.

What is checked (no network; nothing is written without ``--repair``), one line per problem:

* **posts** — every archived article's post is at the path the state gives, its front matter
  names the article and the state's version, and its text is what the article's latest JSON
  line and history render (unless a trivial re-check rewrote it in place: then the front
  matter only);
* **JSON lines** — ``articles.jsonl`` is there; at each article's recorded offset starts its
  latest line (same id and content hash); each article has one line per version; no line
  names an article the state does not know; every line is a JSON object;
* **revisions** — ``_revisions/<id>/v<N>.md`` and ``v<N+1>.diff.md`` of every earlier version;
* **pictures** — every kept picture's file is there and its bytes hash to its SHA-256;
* **WARC files** — every file the capture index knows is there and not shorter than indexed.

Exit status 0 and a summary line with the counts when everything agrees; 1 when something is
wrong (or a repair left something wrong); 75 when a crawl of the spider holds its lock. Articles
whose write is pending in the journal are left out (the next crawl finishes them).

``--repair`` rebuilds the archive from the WARC files alone into a temporary folder (``scrapy
reparse`` run with no state, posts or JSON lines, the WARC folder linked in), copies from it
only what is missing or damaged — posts (the latest version rebuilt, with the version,
history and related articles the state recorded), JSON lines (``articles.jsonl`` rewritten
whole: its intact lines kept as they are, the missing versions added from the rebuilt copy,
in the rebuilt copy's order, with the ``crawled_at`` the state's history recorded for each
version and, on the latest, the ``cluster`` and ``related`` of the state's index: the rebuild
sees one site only, see :mod:`newscrawl.related`),
revision files, pictures —, records where each article's latest line
now starts, rebuilds the state from the posts and JSON lines when it does not know lines of
the file (``scrapy rebuild-state``), and verifies again. As ``scrapy reparse`` does, it
brings the capture index up to date with the WARC files (the spider's lock is held). JSON
lines and revision files are restored only from a rebuilt article with the state's version
and content hash. WARC files cannot be restored.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl import related
from newscrawl.archive import ArchiveFiles, state_dir
from newscrawl.arguments import ArgumentError, usage_exit
from newscrawl.commands import command_parser, require_archive, settings_of
from newscrawl.commands.crawl import spider_class
from newscrawl.files import write_atomic, write_atomic_chunks
from newscrawl.items import Article
from newscrawl.locks import Locked, SpiderLock
from newscrawl.outcome import EX_FAILED, EX_OK, EX_TEMPFAIL
from newscrawl.pictures import PICTURE_PATH
from newscrawl.posts import render_post
from newscrawl.rebuild import _ARTICLE_FIELDS, read_front_matter, read_lines, rebuild
from newscrawl.state import ArticleStore, Known, StateError
from newscrawl.versions import exact_hash
from newscrawl.warc import INDEX_NAME, CaptureIndex, warc_dir

JSONL = "articles.jsonl"


@dataclass(frozen=True)
class Problem:
    """One thing wrong: its kind (``state``, ``post``, ``jsonl``, ``revision``, ``picture``,
    ``warc``), what it is about (an article id, a path in the site's folder, a WARC file) and
    the line that says it."""

    kind: str
    key: str
    message: str


@dataclass
class Findings:
    """What :func:`verify` found, with the counts of what it checked."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pending: int = 0

    def add(self, kind: str, key: str, message: str) -> None:
        self.problems.append(Problem(kind, key, message))

    def of(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]


def article_of(line: dict[str, Any]) -> Article:
    return Article(**{k: v for k, v in line.items() if k in _ARTICLE_FIELDS})


def verify(archive: ArchiveFiles, site: str, warcs: Path | None) -> Findings:
    """Check the archive of ``site`` against its state (``archive.state_path``, opened
    read-only) and the capture index of ``warcs`` (module docstring)."""
    found = Findings()
    try:
        store = ArticleStore(archive.state_path, readonly=True)
    except StateError as exc:
        found.add("state", "state", f"{exc}: nothing else can be checked (rebuild it with "
                                    f"'scrapy rebuild-state {site}')")
        return found
    try:
        known = store.archived(site)
        found.pending = len(store.pending(site))
        pictures = store.kept_pictures(site)
    finally:
        store.close()
    lines = _check_lines(archive, site, known, found)
    _check_posts(archive, site, known, lines, found)
    _check_revisions(archive, known, found)
    _check_pictures(archive.site_dir(site), pictures, found)
    if warcs is not None:
        _check_warcs(warcs, found)
    return found


def _check_lines(archive: ArchiveFiles, site: str, known: dict[str, Known],
                 found: Findings) -> dict[int, dict[str, Any]]:
    """The JSON lines against the state; returns the lines by offset."""
    path = archive.jsonl_path(site)
    recorded = {i: k.line_offset for i, k in known.items() if k.line_offset is not None}
    if not path.exists():
        if recorded:
            versions = sum(k.version for k in known.values())
            found.add("jsonl", JSONL, f"{JSONL}: missing (the state knows {versions} lines of "
                                      f"{len(recorded)} articles)")
        return {}
    by_offset: dict[int, dict[str, Any]] = {}
    per_id: dict[str, int] = defaultdict(int)
    for offset, line in read_lines(path):
        found.counts["lines"] += 1
        if line is None:
            found.add("jsonl", JSONL, f"{JSONL}: the line at byte {offset} is not a JSON object")
            continue
        by_offset[offset] = line
        article_id = str(line.get("id"))
        per_id[article_id] += 1
        if line.get("site") != site or article_id not in known:
            found.add("jsonl", JSONL, f"{JSONL}: the line at byte {offset} is of {line.get('site')} "
                                      f"{article_id}, an article the state does not know")
    size = path.stat().st_size
    cut = [i for i, offset in recorded.items() if offset >= size]
    if cut:
        found.add("jsonl", JSONL, f"{JSONL}: truncated: {size} bytes, the state knows lines up to byte "
                                  f"{max(recorded.values())}")
    for article_id, k in sorted(known.items()):
        at = recorded.get(article_id)
        line = by_offset.get(at) if at is not None else None
        if at is not None and at < size and (
                line is None or line.get("id") != article_id or line.get("content_hash") != k.content_hash):
            found.add("jsonl", article_id, f"{JSONL}: the line at byte {at} is not the latest version "
                                           f"of {article_id} (version {k.version})")
        elif per_id.get(article_id, 0) != k.version:
            found.add("jsonl", article_id, f"{JSONL}: {per_id.get(article_id, 0)} lines of {article_id}, "
                                           f"the state has version {k.version}")
    return by_offset


def _check_posts(archive: ArchiveFiles, site: str, known: dict[str, Known], lines: dict[int, dict[str, Any]],
                 found: Findings) -> None:
    directory = archive.posts_dir(site)
    for article_id, k in sorted(known.items()):
        if not k.post_path:
            continue
        path = directory / k.post_path
        rel = f"_posts/{k.post_path}"
        found.counts["posts"] += 1
        if not path.is_file():
            found.add("post", article_id, f"{rel}: missing (post of {article_id}, version {k.version})")
            continue
        matter = read_front_matter(path)
        if not matter or str(matter.get("id")) != article_id or matter.get("site") != site:
            found.add("post", article_id, f"{rel}: its front matter does not name {site} {article_id}")
            continue
        if int(matter.get("version") or 1) != k.version:
            found.add("post", article_id, f"{rel}: version {matter.get('version') or 1} in its front matter, "
                                          f"the state has version {k.version}")
            continue
        line = lines.get(k.line_offset) if k.line_offset is not None else None
        # a trivial change rewrote the post in place (no JSON line): its exact hash tells
        if line and line.get("id") == article_id and exact_hash(line) == k.exact_hash:
            expected = render_post(article_of(line), archive.image_proxy, history=k.revisions)
            found.counts["posts_compared"] += 1
            if path.read_text(encoding="utf-8", errors="replace") != expected:
                found.add("post", article_id, f"{rel}: its text differs from what its latest JSON line "
                                              f"renders (version {k.version})")
    # posts of this spider the state does not know: as the crawl's start check
    paths = {k.post_path for k in known.values()}
    for path in sorted(directory.glob("*.md")) if directory.is_dir() else []:
        if path.name not in paths and archive.is_our_post(path):
            found.add("post", "", f"_posts/{path.name}: a post of {site} the state does not know")


def _check_revisions(archive: ArchiveFiles, known: dict[str, Known], found: Findings) -> None:
    for article_id, k in sorted(known.items()):
        folder = archive.revisions_dir() / article_id
        for n in range(1, k.version):
            for name in (f"v{n}.md", f"v{n + 1}.diff.md"):
                found.counts["revisions"] += 1
                if not (folder / name).is_file():
                    rel = f"_revisions/{article_id}/{name}"
                    found.add("revision", rel, f"{rel}: missing ({article_id} has version {k.version})")


def _check_pictures(site_dir: Path, pictures: list[tuple[str, str, str, int]], found: Findings) -> None:
    seen: set[str] = set()
    for _url, sha256, path, size in pictures:
        if path in seen or not PICTURE_PATH.match(path):
            continue
        seen.add(path)
        found.counts["pictures"] += 1
        file = site_dir / path
        try:
            digest = hashlib.sha256()
            with open(file, "rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
                    found.counts["picture_bytes"] += len(block)
        except FileNotFoundError:
            found.add("picture", path, f"{path}: missing (a kept picture, {size} bytes)")
            continue
        if digest.hexdigest() != sha256:
            found.add("picture", path, f"{path}: its bytes do not hash to its SHA-256 (damaged)")


def _check_warcs(folder: Path, found: Findings) -> None:
    if not (folder / INDEX_NAME).exists():
        return
    index = CaptureIndex(folder, readonly=True)
    try:
        files = [tuple(row) for row in index.db.execute("SELECT name, indexed FROM files ORDER BY name")]
    finally:
        index.close()
    for name, indexed in files:
        found.counts["warcs"] += 1
        try:
            size = (folder / name).stat().st_size
        except FileNotFoundError:
            found.add("warc", name, f"WARC {name}: missing (the capture index knows {indexed} bytes of it)")
            continue
        if size < indexed:
            found.add("warc", name, f"WARC {name}: {size} bytes, shorter than the {indexed} indexed (cut)")


# ---- repair ------------------------------------------------------------------------------
@dataclass
class Rebuilt:
    """The archive ``scrapy reparse`` rebuilt from the WARC files alone, in a temporary folder."""

    site_dir: Path
    known: dict[str, Known]
    #: each article's JSON lines (raw, with their newline), oldest first
    lines: dict[str, list[bytes]]
    #: (id, index of the version - 1) of every line, in the rebuilt file's order
    order: list[tuple[str, int]]

    def has(self, article_id: str, k: Known) -> bool:
        """Whether the rebuilt copy holds the article as the state knows it."""
        r = self.known.get(article_id)
        return r is not None and r.version == k.version and r.content_hash == k.content_hash \
            and len(self.lines.get(article_id, [])) == k.version


    def post(self, article_id: str, k: Known, image_proxy: str | None,
             relations: tuple[str, list[str]]) -> str | None:
        """The article's post as the archive wrote it: its latest version as rebuilt from the
        WARC files (the content hash the state has), with the version, history and
        ``(cluster, related)`` the state recorded; ``None`` when the rebuilt copy has not that
        version."""
        lines = self.lines.get(article_id)
        line = json.loads(lines[-1]) if lines else None
        if not line or line.get("content_hash") != k.content_hash:
            return None
        history = k.revisions
        line.update(version=k.version, crawled_at=(history[-1].get("crawled") if history else None)
                    or line.get("crawled_at"), cluster=relations[0], related=relations[1])
        return render_post(article_of(line), image_proxy, history=history)


def rebuild_from_warcs(site: str, warcs: Path, tmp: Path, settings: list[str]) -> tuple[Rebuilt, str]:
    """Run ``scrapy reparse`` into ``tmp`` with only the WARC folder (linked); the rebuilt
    archive and what reparse said."""
    links = tmp / "warc"
    links.mkdir()
    (links / site).symlink_to(warcs.resolve(), target_is_directory=True)
    out = tmp / "out"
    forwarded = [a for pair in settings for a in ("-s", pair)
                 if pair.split("=", 1)[0] not in ("NEWSCRAWL_OUTPUT_DIR", "NEWSCRAWL_STATE_DIR",
                                                  "NEWSCRAWL_WARC_DIR", "LOG_LEVEL", "LOG_FILE")]
    cmd = [sys.executable, "-m", "scrapy", "reparse", site, *forwarded,
           "-s", f"NEWSCRAWL_OUTPUT_DIR={out}", "-s", f"NEWSCRAWL_STATE_DIR={out / 'state'}",
           "-s", f"NEWSCRAWL_WARC_DIR={links}", "-s", "LOG_LEVEL=WARNING"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=os.getcwd())
    said = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    state = out / "state" / "newscrawl.sqlite3"
    known: dict[str, Known] = {}
    if state.exists():
        store = ArticleStore(state, readonly=True)
        try:
            known = store.archived(site)
        finally:
            store.close()
    lines: dict[str, list[bytes]] = defaultdict(list)
    order = []
    jsonl = out / site / JSONL
    if jsonl.exists():
        with open(jsonl, "rb") as fh:
            for raw in fh:
                try:
                    article_id = str(json.loads(raw)["id"])
                except (ValueError, KeyError, TypeError):
                    continue
                order.append((article_id, len(lines[article_id])))
                lines[article_id].append(raw)
    return Rebuilt(out / site, known, lines, order), f"reparse (status {done.returncode}): {said[0]}"


def repair(archive: ArchiveFiles, site: str, found: Findings, rebuilt: Rebuilt, out: Any) -> int:
    """Restore from ``rebuilt`` what ``found`` says is missing or damaged; returns how many
    files could not be restored. Says what it did, one line each."""
    store = ArticleStore(archive.state_path)
    failed = 0

    def say(message: str) -> None:
        print(f"scrapy verify: {site}: {message}", file=out)

    try:
        known = store.archived(site)
        for problem in found.of("post"):
            k = known.get(problem.key)
            if k is None or not k.post_path:  # a post the state does not know: left alone
                continue
            text = rebuilt.post(problem.key, k, archive.image_proxy,
                                related.recorded(store.db, site, problem.key))
            if text is not None:
                write_atomic(archive.posts_dir(site) / k.post_path, text)
                say(f"restored _posts/{k.post_path} from the WARC files")
            else:
                failed += 1
                say(f"cannot restore _posts/{k.post_path}: the WARC files do not rebuild its latest "
                    f"version (content hash {k.content_hash})")
        for problem in found.of("revision"):
            source = rebuilt.site_dir / problem.key
            article_id = problem.key.split("/")[1]
            if article_id in known and rebuilt.has(article_id, known[article_id]) and source.is_file():
                write_atomic(archive.site_dir(site) / problem.key, source.read_text(encoding="utf-8"))
                say(f"restored {problem.key} from the WARC files")
            else:
                failed += 1
                why = _why_not(rebuilt, article_id, known[article_id]) if article_id in known else "unknown"
                say(f"cannot restore {problem.key}: {why}")
        for problem in found.of("picture"):
            source = rebuilt.site_dir / problem.key
            data = source.read_bytes() if source.is_file() else b""
            if data and hashlib.sha256(data).hexdigest() == Path(problem.key).stem:
                write_atomic_chunks(archive.site_dir(site) / problem.key, [data])
                say(f"restored {problem.key} from the WARC files")
            else:
                failed += 1
                say(f"cannot restore {problem.key}: no capture in the WARC files holds its bytes")
        if found.of("jsonl"):
            failed += _repair_lines(archive, site, store, known, rebuilt, say)
        for problem in found.of("warc"):
            failed += 1
            say(f"cannot restore WARC {problem.key}: the WARC files are the source "
                "(restore it from a backup)")
    finally:
        store.close()
    return failed


def _why_not(rebuilt: Rebuilt, article_id: str, k: Known) -> str:
    r = rebuilt.known.get(article_id)
    if r is None:
        return "the WARC files do not rebuild the article"
    return (f"the WARC files rebuild version {r.version} of it ({len(rebuilt.lines.get(article_id, []))} "
            f"lines), the state has version {k.version}")


def _repair_lines(archive: ArchiveFiles, site: str, store: ArticleStore, known: dict[str, Known],
                  rebuilt: Rebuilt, say: Any) -> int:
    """Rewrite ``articles.jsonl`` whole: its lines that belong (an article's first ``version``
    lines, in the file's order) kept as they are, then the versions it lacks from the rebuilt
    copy, in the rebuilt copy's order; record each article's latest line; rebuild the state
    when lines of articles it does not know remain. Returns how many articles stay short."""
    path = archive.jsonl_path(site)
    kept: list[bytes] = []
    have: dict[str, int] = defaultdict(int)
    unknown = 0
    if path.exists():
        with open(path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    continue  # half a line left by a killed write
                try:
                    line = json.loads(raw)
                    article_id = str(line["id"])
                except (ValueError, KeyError, TypeError):
                    continue
                if line.get("site") != site:
                    continue
                k = known.get(article_id)
                if k is None:
                    unknown += 1
                elif have[article_id] >= k.version:
                    continue  # a version twice
                have[article_id] += 1
                kept.append(raw)
    added, short = 0, []
    lacking = {i for i, k in known.items() if have[i] < k.version}
    for article_id in sorted(lacking):
        if not rebuilt.has(article_id, known[article_id]):
            short.append(article_id)
            why = _why_not(rebuilt, article_id, known[article_id])
            say(f"cannot restore the JSON lines of {article_id}: {why}")
    for article_id, n in rebuilt.order:
        if article_id in lacking and article_id not in short and n >= have[article_id]:
            kept.append(_as_recorded(rebuilt.lines[article_id][n], known[article_id], n,
                                     related.recorded(store.db, site, article_id)))
            added += 1
    write_atomic_chunks(path, kept)
    offsets, position = {}, 0
    for raw in kept:
        article_id = str(json.loads(raw)["id"])
        if article_id in known:
            offsets[article_id] = position
        position += len(raw)
    store.set_line_offsets(site, offsets)
    say(f"rewrote {JSONL}: {len(kept) - added} lines kept, {added} restored from the WARC files")
    if unknown:
        counts = rebuild(archive, store)
        say(f"rebuilt the state from the posts and JSON lines ({unknown} lines of articles it did not "
            f"know): {counts['articles']} articles")
    return len(short)


def _as_recorded(raw: bytes, k: Known, n: int, relations: tuple[str, list[str]]) -> bytes:
    """A rebuilt JSON line (version ``n + 1``) with the ``crawled_at`` the state's history
    recorded for that version: a live crawl stamps an article when its item is made, a
    rebuild with the date of its capture (the same fetch, up to seconds earlier). The latest
    version also gets the ``(cluster, related)`` the state's index recorded with it (the
    rebuild saw this site's articles only; earlier versions keep what it found)."""
    history = k.revisions
    crawled = history[n].get("crawled") if n < len(history) else None
    line = json.loads(raw)
    changes: dict[str, Any] = {}
    if crawled and line.get("crawled_at") != crawled:
        changes["crawled_at"] = crawled
    if n == k.version - 1 and (line.get("cluster"), line.get("related")) != relations:
        changes.update(cluster=relations[0], related=relations[1])
    if not changes:
        return raw
    line.update(changes)
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> [--repair]"

    def short_desc(self) -> str:
        return "Check a spider's posts, JSON lines, revisions, pictures and WARC files (--repair: restore)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        command_parser(parser, "verify")
        parser.add_argument("--repair", action="store_true",
                            help="restore what is missing or damaged from the WARC files")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider")
        site, s = args[0], settings_of(self)
        try:
            spider_class(s, site)
        except ArgumentError as exc:
            usage_exit("verify", str(exc))
        require_archive(s, site, "verify")  # a UsageError: one line, exit status 2
        state_path = state_dir(s) / "newscrawl.sqlite3"
        archive = ArchiveFiles(Path(s.get("NEWSCRAWL_OUTPUT_DIR")), state_path, site,
                               image_proxy=s.get("NEWSCRAWL_IMAGE_PROXY"))
        warcs = warc_dir(s, site)
        lock = SpiderLock.of(state_path.parent, site)
        try:
            lock.acquire()
        except Locked as exc:
            print(f"scrapy verify: {exc}: try again when it has finished", file=sys.stderr)
            self.exitcode = EX_TEMPFAIL
            return
        try:
            self.exitcode = self._run(archive, site, warcs if warcs.is_dir() else None, opts)
        finally:
            lock.release()

    def _run(self, archive: ArchiveFiles, site: str, warcs: Path | None, opts: argparse.Namespace) -> int:
        started = time.monotonic()
        found = verify(archive, site, warcs)
        for problem in found.problems:
            print(f"scrapy verify: {site}: {problem.message}", file=sys.stderr)
        if not opts.repair or not found.problems:
            print(summary(site, found, time.monotonic() - started), file=sys.stderr)
            return EX_FAILED if found.problems else EX_OK
        if found.of("state") or warcs is None:
            print(f"scrapy verify: {site}: cannot repair: "
                  f"{'the state cannot be read' if warcs else 'no WARC folder'}", file=sys.stderr)
            return EX_FAILED
        with tempfile.TemporaryDirectory(prefix=".newscrawl-repair-", dir=archive.output_dir) as tmp:
            rebuilt, said = rebuild_from_warcs(site, warcs, Path(tmp), opts.set or [])
            print(f"scrapy verify: {site}: rebuilt {len(rebuilt.known)} articles from the WARC files "
                  f"({said})", file=sys.stderr)
            repair(archive, site, found, rebuilt, sys.stderr)
        again = verify(archive, site, warcs)
        for problem in again.problems:
            print(f"scrapy verify: {site}: still wrong: {problem.message}", file=sys.stderr)
        print(summary(site, again, time.monotonic() - started), file=sys.stderr)
        return EX_FAILED if again.problems else EX_OK


def summary(site: str, found: Findings, seconds: float) -> str:
    c = found.counts
    verdict = f"{len(found.problems)} problems" if found.problems else "ok"
    pending = f"; {found.pending} writes pending (the next crawl finishes them)" if found.pending else ""
    return (f"scrapy verify: {site}: {verdict} — {c['posts']} posts ({c['posts_compared']} compared with "
            f"their JSON line), {c['lines']} JSON lines, {c['revisions']} revision files, {c['pictures']} "
            f"pictures ({c['picture_bytes']} bytes hashed), {c['warcs']} WARC files{pending}; "
            f"{seconds:.2f} s")
