"""Evidence: every response the crawl receives, kept as WARC (ISO 28500, WARC/1.1).

:class:`CaptureMiddleware` sits in the downloader closest to the download handler
(priority 950, above Scrapy's ``HttpCompressionMiddleware`` at 590), so it sees each response
as the transport returned it: feeds, listings, articles, galleries, robots.txt, redirects,
retried 429/503s and error pages alike, with the body still content-encoded as the server
sent it. It hands them to :class:`WarcRecorder`, which writes per spider and run
``<NEWSCRAWL_WARC_DIR or <output>/<spider>/warc>/<spider>-<UTC time>-<n>.warc.gz`` with warcio:

* one ``warcinfo`` record first, then per response a ``response`` record (HTTP status line,
  headers and raw body; ``WARC-Payload-Digest`` and ``WARC-Block-Digest``, SHA-1) and its
  ``request`` record (``WARC-Concurrent-To``);
* a ``revisit`` record (profile ``identical-payload-digest``, headers only, ``WARC-Refers-To*``
  naming the record that holds the payload, never another revisit) when the payload equals an
  earlier capture of the same URL, in this run or an earlier one; a ``304 Not Modified`` is
  recorded as a ``revisit`` with the profile ``server-not-modified`` referring to the record
  holding the URL's latest payload (:meth:`WarcRecorder.record_not_modified`). A 304 is
  evidence (the capture index keeps it: reparse and extract read through it) but no page to
  replay: it is left out of the CDXJ files (:func:`replayable`), so that pywb and
  ReplayWeb.page show the URL's last full capture;
* a page rendered by the browser (``meta["playwright"]``) is what the browser produced, not
  what a server sent: a ``resource`` record of the DOM under its own URI
  ``urn:newscrawl:rendered:<page URL>`` (:func:`rendered_uri`), so that no replay tool takes it
  for the page's response, marked ``WARC-Newscrawl-Rendered``, naming the page in
  ``WARC-Newscrawl-Page-URI`` (and ``WARC-Concurrent-To`` the page's static response when this
  run captured one: a render after the static HTML failed), with a ``metadata`` record holding
  the browser's HTTP status and headers. Files written before held the DOM under the page URL
  itself; they are read as before.

Each record is built whole here, its digests too (:class:`_RecordWriter`: warcio serialises
it and computes none), and is its own gzip member (deflated, or stored when its payload does
not compress: :func:`compresses`), written with one ``write()`` and flushed to the kernel
before the response goes on, so a killed process (SIGKILL, OOM) leaves every earlier record
readable; with ``NEWSCRAWL_FSYNC`` it is fsync'ed too. The next run cuts off a torn last
record (:func:`recover`), indexes what the killed run wrote and writes its CDXJ.

The capture index ``captures.sqlite3`` in the same folder (this module's own database, not
the state) finds a capture by URL and time and the earlier capture with the same digest; it
can always be rebuilt from the WARC files (delete it: the next run re-indexes them). It is
written in batches (:data:`BATCH_CAPTURES`), each capture after its records: a killed run
leaves records it lacks, never the reverse, and :func:`recover` indexes them. Each
closed WARC gets a sorted CDXJ file beside it (``<name>.cdxj``, SURT keys as pywb reads them).

What is recorded for the raw bytes: the body exactly as the transport received it (not
content-decoded: a gzip body stays gzip). Twisted removes a chunked transfer coding, so a
``Transfer-Encoding`` header is kept as ``X-Newscrawl-Orig-Transfer-Encoding`` (the payload is
the de-chunked body, which is what the payload digest is defined over). Header names come as
Scrapy normalises them (``Content-Type``), repeated headers one line per value; the reason
phrase is the standard one for the status. The request record holds the request as Scrapy sent
it (method, path, headers set by the middlewares, ``Host``).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http
import importlib
import json
import logging
import operator
import os
import sqlite3
import struct
import sys
import time
import types
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
import warcio
from isal import isal_zlib
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import iso_date_to_timestamp
from warcio.warcwriter import BaseWARCWriter

from newscrawl.files import file_mode, fsync_directory, write_atomic_chunks
from newscrawl.schedule import Schedule

logger = logging.getLogger(__name__)

INDEX_NAME = "captures.sqlite3"
WARC_SUFFIX = ".warc.gz"
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
#: WARC header naming the Scrapy callback a request was made for (``parse_article`` …):
#: ``scrapy reparse`` replays the captures of article pages.
CALLBACK_HEADER = "WARC-Newscrawl-Callback"
#: ``request.meta`` key: the capture of the response (``{"file", "record", "date"}``: its WARC
#: file, WARC-Record-ID and WARC-Date), set as it is written (or, in a reparse, replayed); an
#: item parsed from the response names it as its provenance.
CAPTURE_META = "newscrawl_capture"
#: WARC header marking a ``resource`` record as the DOM chromium rendered.
RENDERED_HEADER = "WARC-Newscrawl-Rendered"
#: The WARC-Target-URI of a rendered DOM: this prefix and the page's URL. Not the page's own
#: URL, which replay tools would answer with it as if the server had sent it; a ``urn:`` of
#: its own as Webrecorder's crawler names what it derives from a page (``urn:text:<url>``).
RENDERED_PREFIX = "urn:newscrawl:rendered:"
#: WARC header of a rendered DOM's record naming the page (the URL the browser ended on).
PAGE_HEADER = "WARC-Newscrawl-Page-URI"
#: WARC header naming the URL requested, where it differs from the record's target.
REQUESTED_HEADER = "WARC-Newscrawl-Requested-URI"
RENDERED_BY = "chromium via scrapy-playwright: the DOM after rendering, not the server's bytes"
#: gzip level of each record, with ISA-L (isal): level 1 compresses an 86 KB news page in
#: 0.10 ms to 20.7 KB, level 3 (its best) in 0.21 ms to 19.7 KB — half the CPU for 5 % more
#: bytes; both far faster than zlib's 6.
GZIP_LEVEL = 1
#: A payload of at least this many bytes that is not text is first tried: this many bytes
#: from its middle are compressed, and if they do not shrink below :data:`STORED_RATIO` of
#: their size (a JPEG, a body the server compressed), its record's gzip member holds its
#: bytes in stored deflate blocks, uncompressed (:class:`_Stored`): a 400 KB picture costs
#: 0.07 ms so instead of 1.1 ms at level 1, for the 0–3 % deflate would have saved.
SAMPLE_BYTES = 16384
STORED_RATIO = 0.97
#: media types that are text: always compressed, without a sample
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/rss+xml", "application/atom+xml", "application/xhtml+xml", "application/ld+json")


def warc_dir(settings: BaseSettings, spider: str) -> Path:
    """The folder of a spider's WARC files: ``NEWSCRAWL_WARC_DIR/<spider>`` or
    ``<NEWSCRAWL_OUTPUT_DIR>/<spider>/warc``."""
    chosen = settings.get("NEWSCRAWL_WARC_DIR")
    if chosen:
        return Path(chosen) / spider
    return Path(settings.get("NEWSCRAWL_OUTPUT_DIR")) / spider / "warc"


def sha1_digest(*parts: bytes) -> str:
    """A WARC digest as warcio writes it (``sha1:`` and base32) of the parts in turn."""
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def warc_date(moment: datetime | None = None) -> str:
    """WARC/1.1 date with microseconds: ``2026-01-02T03:04:05.123456Z``."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def cdx_timestamp(date: str) -> str:
    """The 14-digit CDX timestamp of a WARC date."""
    return iso_date_to_timestamp(date)


# ---- the capture index ---------------------------------------------------------------------
@dataclass(frozen=True)
class Capture:
    """One indexed record (``response``, ``resource`` or ``revisit``) and where its payload is."""

    file: str
    offset: int
    length: int
    url: str
    request_url: str
    date: str
    type: str
    status: int | None
    mime: str | None
    digest: str
    record_id: str
    rendered: bool
    callback: str | None
    payload_file: str
    payload_offset: int
    payload_status: int | None
    #: the run that wrote the record (its file's ``newscrawl-run`` in the warcinfo): with the
    #: file name and offset, the order the records were written, whatever the clock said
    seq: int = 0

    @property
    def timestamp(self) -> str:
        return cdx_timestamp(self.date)

    @property
    def provenance(self) -> dict[str, str]:
        """What an item parsed from this capture records of it (:data:`CAPTURE_META`)."""
        return {"file": self.file, "record": self.record_id, "date": self.date}


_FIELDS = ("file", "offset", "length", "url", "request_url", "date", "type", "status", "mime", "digest",
           "record_id", "rendered", "callback", "payload_file", "payload_offset", "payload_status", "seq")

#: a capture's values in the order of :data:`_FIELDS` (a row of the index)
_row = operator.attrgetter(*_FIELDS)
#: the columns every query of captures reads, in the order of :class:`Capture`'s fields
_COLUMNS = ", ".join(_FIELDS)
_RENDERED = _FIELDS.index("rendered")

_INSERT = f"INSERT OR REPLACE INTO captures ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})"

#: The capture index is written in batches: one SQLite transaction for this many captures at
#: most, or for the captures of this many seconds (a reader beside a running crawl sees a
#: capture that much later), not one a response. A killed run loses its open batch, and
#: :func:`recover` indexes those records from the WARC again.
BATCH_CAPTURES = 100
BATCH_SECONDS = 2.0

#: ``PRAGMA user_version`` of the capture index: another version is rebuilt from the WARC files.
INDEX_VERSION = 2
#: warcinfo field of each file: the number of the run that wrote it (1, 2, …; every file of a
#: run has the same), so that the order of captures survives a clock that steps back.
RUN_FIELD = "newscrawl-run"
#: SQL ordering of captures in the order they were written: run, file (its parts), offset.
WRITTEN = "seq, file, offset"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    name TEXT PRIMARY KEY,           -- a WARC file of the folder
    indexed INTEGER NOT NULL,        -- its bytes covered by the index (end of the last record)
    closed INTEGER NOT NULL DEFAULT 0,  -- finished (its CDXJ written)
    seq INTEGER NOT NULL DEFAULT 0   -- the run that wrote it (0: a file written before runs were numbered)
);
CREATE TABLE IF NOT EXISTS captures (
    file TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
    url TEXT NOT NULL,               -- WARC-Target-URI
    request_url TEXT NOT NULL,       -- the URL requested (a browser may have followed redirects)
    date TEXT NOT NULL,              -- WARC-Date
    type TEXT NOT NULL,              -- response | resource | revisit
    status INTEGER, mime TEXT,
    digest TEXT NOT NULL,            -- WARC-Payload-Digest
    record_id TEXT NOT NULL,
    rendered INTEGER NOT NULL,
    callback TEXT,
    payload_file TEXT NOT NULL, payload_offset INTEGER NOT NULL,  -- the record holding the payload
    payload_status INTEGER,          -- the HTTP status of that record
    seq INTEGER NOT NULL DEFAULT 0,  -- its file's run
    PRIMARY KEY (file, offset)
);
CREATE INDEX IF NOT EXISTS captures_url ON captures (request_url, seq, file, offset);
CREATE INDEX IF NOT EXISTS captures_digest ON captures (url, digest);
CREATE INDEX IF NOT EXISTS captures_id ON captures (record_id);
"""


class CaptureIndex:
    """``captures.sqlite3``: the records of a folder's WARC files by URL, order and digest.

    Opened for writing, an index that cannot be read (damaged), or of another version, is
    deleted and started empty: :func:`recover` then indexes every WARC file again. The index
    is derived from the WARC files and never holds anything they do not."""

    def __init__(self, folder: Path, *, readonly: bool = False):
        self.folder = folder
        path = folder / INDEX_NAME
        self.rebuilt = False
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            try:
                self.db = self._open(path)
            except sqlite3.DatabaseError as exc:
                logger.warning("The capture index %s cannot be used (%s): rebuilding it from the WARC files",
                               path, exc)
                for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    stale.unlink(missing_ok=True)
                self.db = self._open(path)
                self.rebuilt = True
        self.db.row_factory = sqlite3.Row
        #: the open batch (:data:`BATCH_CAPTURES`): its captures and when it began
        self._batch = 0
        self._batch_began = 0.0
        #: ``(end, file)``: the indexed end of the file the open batch last added to, written
        #: with the batch (:meth:`commit`)
        self._end: tuple[int, str] | None = None

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        """Open (create) the index; DatabaseError when it is damaged or of another version."""
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if tables and version != INDEX_VERSION:
                raise sqlite3.DatabaseError(f"index version {version}, not {INDEX_VERSION}")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
            db.execute("SELECT count(*) FROM files").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Commit the open batch and close."""
        self.commit()
        self.db.close()

    def commit(self) -> None:
        """Commit the open batch of captures (:meth:`add`), if any, with the indexed end of
        the file its last capture went to."""
        if self.db.in_transaction:
            self._write_end()
            self.db.execute("COMMIT")
        self._batch = 0

    def _write_end(self) -> None:
        """The indexed end the open batch reached in its last file, into ``files``."""
        if self._end is not None:
            self.db.execute("UPDATE files SET indexed = ? WHERE name = ?", self._end)
            self._end = None

    # -- files
    def indexed(self, name: str) -> tuple[int, bool] | None:
        row = self.db.execute("SELECT indexed, closed FROM files WHERE name = ?", (name,)).fetchone()
        return (row["indexed"], bool(row["closed"])) if row else None

    def add_file(self, name: str, size: int, seq: int = 0) -> None:
        self.db.execute("INSERT OR REPLACE INTO files (name, indexed, closed, seq) VALUES (?, ?, 0, ?)",
                        (name, size, seq))

    def set_run(self, name: str, seq: int) -> None:
        """The run that wrote a file (read from its warcinfo), on it and its captures."""
        self.commit()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("UPDATE files SET seq = ? WHERE name = ?", (seq, name))
            self.db.execute("UPDATE captures SET seq = ? WHERE file = ?", (seq, name))

    def run_of(self, name: str) -> int:
        row = self.db.execute("SELECT seq FROM files WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def next_run(self) -> int:
        """The number of a new run: one more than any run of the folder's files."""
        return int(self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM files").fetchone()[0])

    def close_file(self, name: str) -> None:
        self.db.execute("UPDATE files SET closed = 1 WHERE name = ?", (name,))

    def closed_files(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM files WHERE closed = 1 ORDER BY name")]

    # -- captures
    def add(self, captures: list[Capture], file: str, end: int) -> None:
        """Index the records of one capture (written to ``file`` before: the index never holds
        a record the file does not) and move the file's indexed end, in the transaction of
        the open batch, which is committed when it is full (:data:`BATCH_CAPTURES`, or older
        than :data:`BATCH_SECONDS`), or by :meth:`commit`. This connection reads what the
        batch holds; another sees it once committed. (The end is written once, as the batch
        is committed: the batch's captures and the end it reached are committed together.)"""
        if not self.db.in_transaction:
            self.db.execute("BEGIN")
            self._batch, self._batch_began = 0, time.monotonic()
        if self._end is not None and self._end[1] != file:  # another file: the last one's end first
            self._write_end()
        if captures:
            self.db.executemany(_INSERT, map(_row, captures))
        self._end = (end, file)
        self._batch += 1
        if self._batch >= BATCH_CAPTURES or time.monotonic() - self._batch_began >= BATCH_SECONDS:
            self.commit()

    def _one(self, sql: str, args: tuple) -> Capture | None:
        row = self.db.execute(sql, args).fetchone()
        return _capture(row) if row else None

    def same_payload(self, url: str, digest: str) -> Capture | None:
        """The latest earlier capture of ``url`` with this payload (never a rendered one)."""
        return self._one(f"SELECT {_COLUMNS} FROM captures WHERE url = ? AND digest = ? AND NOT rendered"
                         " ORDER BY seq DESC, file DESC, offset DESC LIMIT 1", (url, digest))

    def latest_payload(self, url: str) -> Capture | None:
        """The latest capture of ``url`` that a ``304 Not Modified`` can refer to."""
        return self._one(f"SELECT {_COLUMNS} FROM captures WHERE url = ? AND NOT rendered AND status != 304"
                         " AND payload_status BETWEEN 200 AND 299"
                         " ORDER BY seq DESC, file DESC, offset DESC LIMIT 1", (url,))

    def by_record_id(self, record_id: str) -> Capture | None:
        return self._one(f"SELECT {_COLUMNS} FROM captures WHERE record_id = ?", (record_id,))

    def at(self, file: str, offset: int) -> Capture | None:
        """The capture whose record starts at ``offset`` in ``file``."""
        return self._one(f"SELECT {_COLUMNS} FROM captures WHERE file = ? AND offset = ?", (file, offset))

    def latest(self, request_url: str, *, rendered: bool | None = None,
               at: str | None = None, run: int | None = None) -> Capture | None:
        """The latest written capture of a requested URL (at or before the WARC date ``at``;
        written by the run ``run`` or an earlier one)."""
        sql = f"SELECT {_COLUMNS} FROM captures WHERE request_url = ?"
        args: list[str | int] = [request_url]
        if rendered is not None:
            sql += " AND rendered = ?"
            args.append(int(rendered))
        if at:
            sql += " AND date <= ?"
            args.append(at)
        if run is not None:
            sql += " AND seq <= ?"
            args.append(run)
        return self._one(sql + " ORDER BY seq DESC, file DESC, offset DESC LIMIT 1", tuple(args))

    def article_captures(self) -> Iterator[Capture]:
        """Every capture of an article page that held one (2xx), in the order written."""
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM captures WHERE callback = 'parse_article'"
                               f" AND payload_status BETWEEN 200 AND 299 ORDER BY {WRITTEN}")
        return (_capture(row) for row in rows)

    def in_file(self, name: str) -> Iterator[Capture]:
        """The captures in WARC file ``name``, one at a time (a run's file holds thousands)."""
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM captures WHERE file = ? ORDER BY offset", (name,))
        for row in rows:
            yield _capture(row)


def open_index(folder: Path) -> CaptureIndex:
    """The capture index of a folder of WARC files, brought up to date with them: rebuilt
    when it is missing, damaged or of another version, and the records a killed run wrote
    indexed (:func:`recover`). Only while the spider's lock is held (a running crawl's open
    file would be taken for a killed one's). Raises FileNotFoundError without WARC files."""
    if not any(folder.glob(f"*{WARC_SUFFIX}")):
        raise FileNotFoundError(f"no captures in {folder} (no WARC files)")
    index = CaptureIndex(folder)
    try:
        for name, cut in recover(folder, index):
            logger.info("Indexed the WARC file %s%s", name,
                        f" (cut a torn record of {cut} bytes)" if cut else "")
    except BaseException:
        index.close()
        raise
    return index


def _capture(row: sqlite3.Row) -> Capture:
    """The capture of an index row (its columns: :data:`_COLUMNS`)."""
    return Capture(*row[:_RENDERED], bool(row[_RENDERED]), *row[_RENDERED + 1:])  # type: ignore[call-arg]


# ---- writing ----------------------------------------------------------------------------------
class _Stored:
    """One gzip member of stored deflate blocks: the bytes uncompressed, in the gzip format
    (RFC 1952; every gzip reader reads it), for a record whose payload does not compress
    (:func:`compresses`). Each write becomes blocks of at most 65,535 bytes (no copy until
    :meth:`member` joins them), an empty final block ends the data."""

    HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # as ISA-L writes it: no name, no time
    BLOCK = 65535

    def __init__(self) -> None:
        self.parts: list[bytes | memoryview] = [self.HEADER]
        self.crc = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        for start in range(0, len(view), self.BLOCK):
            block = view[start:start + self.BLOCK]
            self.parts += (struct.pack("<BHH", 0, len(block), 0xFFFF ^ len(block)), block)
        self.crc = isal_zlib.crc32(data, self.crc)
        self.size += len(data)

    def flush(self) -> None:
        last = struct.pack("<BHH", 1, 0, 0xFFFF)
        self.parts += (last, struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))

    def member(self) -> bytes:
        return b"".join(self.parts)


class _Deflater:
    """Gzip members from one raw deflate stream (ISA-L at :data:`GZIP_LEVEL`) kept open for
    the recorder's life. Each record's bytes are compressed and flushed with ``Z_FULL_FLUSH``,
    which byte-aligns the output and resets the history (nothing after it refers back), then
    closed by an empty final block; between a gzip header and the record's CRC-32 and length
    that is a whole gzip member, which any reader inflates alone, as ``gzip`` or warcio do.

    A compressor made for each record costs more than a small record: ISA-L's state is
    ~290 KB, which glibc maps and unmaps every time (blocks of 128 KB or more are kept out of
    the heap, :class:`~newscrawl.extensions.HeapTrim`), and zlib's set-up is ~85,000
    instructions. Measured on 1,200 re-checks answered 304 (two records of ~1.1 KB each):
    8.5 page faults fewer a re-check and 0.1 ms less system CPU (3 runs each), for about the
    same user instructions (5.72 M a re-check before, 5.74 M after, valgrind:
    ``benchmarks/recheck.py --instructions``) and ~6 bytes more a record."""

    HEADER = _Stored.HEADER
    #: an empty block of fixed Huffman codes marked final (BFINAL 1, BTYPE 01, end-of-block)
    FINAL = b"\x03\x00"

    def __init__(self) -> None:
        self.compressor = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)

    def member(self, data: bytes) -> bytes:
        deflated = self.compressor.compress(data) + self.compressor.flush(isal_zlib.Z_FULL_FLUSH)
        return b"".join((self.HEADER, deflated, self.FINAL,
                         struct.pack("<II", isal_zlib.crc32(data), len(data) & 0xFFFFFFFF)))


def compresses(body: bytes, mime: str | None, encoded: bool = False) -> bool:
    """Whether a payload is worth deflating (see :data:`SAMPLE_BYTES`): a small one and text
    (not ``encoded``, i.e. with no ``Content-Encoding``) always, else when a sample from its
    middle shrinks below :data:`STORED_RATIO`."""
    if len(body) < 2 * SAMPLE_BYTES or (not encoded and (mime or "").startswith(TEXT_TYPES)):
        return True
    middle = len(body) // 2
    sample = body[middle - SAMPLE_BYTES // 2:middle + SAMPLE_BYTES // 2]
    return len(isal_zlib.compress(sample, GZIP_LEVEL, -isal_zlib.MAX_WBITS)) < STORED_RATIO * len(sample)


class _Body:
    """A record's payload as warcio reads it: the body's bytes object itself in one read.
    (A ``BytesIO`` hands warcio 16 KB copies of it, one at a time.) warcio only reads the
    payload to write it (:meth:`_RecordWriter.record` gives it both digests)."""

    def __init__(self, body: bytes):
        self.body = body

    def read(self, size: int = -1) -> bytes:
        body, self.body = self.body, b""
        return body


class _RecordWriter(BaseWARCWriter):
    """warcio's record serialiser, one gzip member per record, in memory, of records built
    here whole: their WARC headers (warcio's ``create_warc_record`` would look each one up
    again to fill in what is missing) and both their digests, so that warcio computes none
    (its ``ensure_digest`` skips a digest whose header is there). The payload digest is the
    one the capture already has (it finds an earlier capture of the same payload); the block
    digest is of the HTTP headers warcio writes and the body. (A response's block is its HTTP
    headers and payload: its two SHA-1 digests both cover the body, which is hashed once for
    each. A resource's or metadata record's block is its payload: one digest.)"""

    def __init__(self) -> None:
        super().__init__(gzip=False, warc_version="1.1")
        self.deflater = _Deflater()

    def _record(self, uri: str, kind: str, body: bytes, fields: list[tuple[str, str]],
                http_headers: StatusAndHeaders | None, content_type: str) -> ArcWarcRecord:
        head = [("WARC-Type", kind), ("WARC-Record-ID", self._make_warc_id()), *fields,
                ("Content-Type", content_type)]
        head.insert(3, ("WARC-Target-URI", uri))  # after WARC-Date, the first of ``fields``
        record = ArcWarcRecord("warc", kind, StatusAndHeaders("", head, protocol=self.warc_version),
                               _Body(body), http_headers, content_type, len(body))
        record.payload_length = len(body)
        return record

    def record(self, uri: str, kind: str, body: bytes, warc_headers: dict[str, str], *,
               http_headers: StatusAndHeaders | None = None, payload_digest: str | None = None,
               content_type: str = "") -> ArcWarcRecord:
        """A ``response``, ``request``, ``resource`` or ``metadata`` record of ``body`` with its
        digests (``payload_digest``: already computed of ``body``); ``warc_headers`` begin
        with ``WARC-Date``."""
        payload_digest = payload_digest or sha1_digest(body)
        if http_headers is not None:
            http_headers.compute_headers_buffer(self.header_filter)  # what warcio writes
            block_digest = sha1_digest(http_headers.headers_buff, body)
        else:
            block_digest = payload_digest
        fields = [*warc_headers.items(), ("WARC-Payload-Digest", payload_digest),
                  ("WARC-Block-Digest", block_digest)]
        content_type = content_type or self.WARC_RECORDS.get(kind, "application/warc-record")  # as warcio's
        return self._record(uri, kind, body, fields, http_headers, content_type)

    def revisit(self, uri: str, digest: str, earlier: Capture, http_headers: StatusAndHeaders,
                warc_headers: dict[str, str], profile: str = REVISIT_IDENTICAL) -> ArcWarcRecord:
        """A ``revisit`` of ``earlier`` (its HTTP headers only: the block digest is theirs)."""
        http_headers.compute_headers_buffer(self.header_filter)
        fields = [*warc_headers.items(), ("WARC-Refers-To", earlier.record_id),
                  ("WARC-Refers-To-Target-URI", earlier.url), ("WARC-Refers-To-Date", earlier.date),
                  ("WARC-Profile", profile), ("WARC-Payload-Digest", digest),
                  ("WARC-Block-Digest", sha1_digest(http_headers.headers_buff))]
        return self._record(uri, "revisit", b"", fields, http_headers, self.WARC_RECORDS["revisit"])

    def member(self, record: ArcWarcRecord, *, compress: bool = True) -> bytes:
        """The record as one gzip member: deflated, or in stored blocks (``compress=False``).

        A record built here (:meth:`_record`: its headers whole, both digests, its length)
        is serialised directly, as warcio's ``_write_warc_record`` would write it — the WARC
        headers with ``Content-Length`` last, the HTTP headers, the payload (none in a
        revisit), two CRLF — without warcio's look-ups of what the record already has, and
        deflated in one call (a re-check answered 304 writes two small records, and warcio's
        path with a compressor each was a third of its capture). Any other record (the
        warcinfo) is serialised by warcio. Either is deflated by the recorder's one
        compressor (:class:`_Deflater`)."""
        body = record.raw_stream
        if isinstance(body, _Body):
            http_block = record.http_headers.headers_buff if record.http_headers else None
            if http_block is not None:
                length = len(http_block) + (0 if record.rec_type == "revisit" else record.payload_length)
            else:
                length = record.length
            head = record.rec_headers
            parts = [(f"{head.protocol}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.headers)
                      + f"Content-Length: {length}\r\n\r\n").encode("utf-8") + (http_block or b""),
                     b"" if record.rec_type == "revisit" else body.read(), b"\r\n\r\n"]
        else:
            out = BytesIO()
            self._write_warc_record(out, record)
            parts = [out.getvalue()]
        if compress:
            return self.deflater.member(b"".join(parts))
        stored = _Stored()
        for part in parts:
            stored.write(part)
        stored.flush()
        return stored.member()


def _http_headers(response: Response) -> list[tuple[str, str]]:
    headers = []
    for name, values in dict.items(response.headers):  # as stored (Scrapy's items() normalises each again)
        key = name.decode("latin-1")
        if key.lower() == "transfer-encoding":
            key = "X-Newscrawl-Orig-Transfer-Encoding"
        for value in values:
            headers.append((key, value.decode("latin-1")))
    return headers


@functools.lru_cache(maxsize=64)
def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _callback_name(request: Request) -> str | None:
    callback = request.callback
    return getattr(callback, "__name__", None) if callable(callback) else callback


def rendered_uri(page_url: str) -> str:
    """The WARC-Target-URI a page's rendered DOM is stored under (see :data:`RENDERED_PREFIX`)."""
    return RENDERED_PREFIX + page_url


def page_url(target_uri: str) -> str:
    """The page a record's target URI stands for: the page itself, also for a rendered DOM
    (``urn:newscrawl:rendered:<page>``, or the page's URL in files written before)."""
    return target_uri.removeprefix(RENDERED_PREFIX)


def replayable(status: int | None) -> bool:
    """Whether a capture with this HTTP status is a page to replay: a ``304 Not Modified``
    (a ``server-not-modified`` revisit, or a plain 304 response when nothing was captured
    before) is an empty answer, kept as evidence but left out of the replay indexes."""
    return status != 304


def payload_record(index: CaptureIndex, capture: Capture | None) -> Capture | None:
    """The row of the record holding a capture's payload: the capture itself unless it is a
    revisit, else the record its payload was found in (found by its place, file and offset;
    ``None`` when that record is not indexed)."""
    if capture is None or capture.type != "revisit":
        return capture
    if not capture.payload_file:
        return None
    original = index.at(capture.payload_file, capture.payload_offset)
    return original if original is not None and original.type != "revisit" else None


class WarcRecorder:
    """The WARC files of one spider's run, their capture index and CDXJ; open from
    construction (what a killed run left is finished, the run's first file started) to
    :meth:`close`. Raises OSError or sqlite3.Error when the folder cannot be written."""

    def __init__(self, folder: Path, spider: str, *, max_size: int, durable: bool = False,
                 info: dict[str, str] | None = None, stats: Any = None,
                 clock: Callable[[], datetime] | None = None):
        self.folder = folder
        #: "now" for the WARC-Date of each capture: the crawl's clock (``NEWSCRAWL_CLOCK`` in a
        #: simulation), else the real time
        self.clock = clock or (lambda: datetime.now(UTC))
        self.spider = spider
        self.max_size = max_size
        self.durable = durable
        self.info = info or {}
        self.stats = stats
        self.fh: Any = None
        self.name = ""
        self.size = 0
        self.part = 0
        self.files: list[str] = []
        self.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.writer = _RecordWriter()
        #: the index row of the last capture written (its file, record id, date): the
        #: provenance of what is parsed from the response
        self.last_capture: Capture | None = None
        self._closed = False
        # finish what a killed run left (:func:`recover`) and start the run's first file
        self.folder.mkdir(parents=True, exist_ok=True)
        self.index = CaptureIndex(self.folder)
        try:
            for name, cut in recover(self.folder, self.index):
                if cut:
                    logger.warning("%s ended in a torn record (%d bytes, left by a killed run): cut off",
                                   self.folder / name, cut)
                self._count("newscrawl/warc/recovered_files")
            #: this run's number (:data:`RUN_FIELD`)
            self.run = self.index.next_run()
            self._new_file()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.fh is not None:
            self._finish_file()
        if not self._closed:
            self._closed = True
            self.index.close()

    def _new_file(self) -> None:
        self.name = f"{self.spider}-{self.stamp}-{self.part:05d}{WARC_SUFFIX}"
        self.part += 1
        path = self.folder / self.name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, file_mode())
        self.fh = os.fdopen(fd, "wb", buffering=0)
        self.size = 0
        self.index.add_file(self.name, 0, self.run)
        self.files.append(self.name)
        self._count("newscrawl/warc/files")
        if self.stats is not None:
            self.stats.set_value("newscrawl/warc/file_names", list(self.files))
        if self.durable:
            fsync_directory(self.folder)
        info = {"software": f"newscrawl/0.1 (Scrapy {scrapy.__version__}, warcio {_warcio_version()})",
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "isPartOf": self.spider, RUN_FIELD: str(self.run), **self.info}
        self._write([self.writer.member(self.writer.create_warcinfo_record(self.name, info))], [])

    def _finish_file(self) -> None:
        self.fh.close()
        self.fh = None
        write_cdxj(self.folder, self.name, self.index.in_file(self.name), durable=self.durable)
        self.index.close_file(self.name)
        self.index.commit()

    # -- capturing
    def capture(self, request: Request, response: Response) -> None:
        """Record a response and its request. Raises OSError when the file cannot be written
        (nothing of the capture is then left in it)."""
        if response.status == 304:
            return self.record_not_modified(request, response)
        rendered = "playwright" in response.flags or bool(request.meta.get("playwright"))
        url = response.url
        request_url = request.url
        date = warc_date(self.clock())
        callback = _callback_name(request)
        if rendered:
            return self._capture_rendered(request, response, url, request_url, date, callback)
        body = response.body
        digest = sha1_digest(body)
        http_headers = StatusAndHeaders(f"{response.status} {_reason(response.status)}".strip(),
                                        _http_headers(response),
                                        protocol=response.protocol or "HTTP/1.1")
        warc_headers = {"WARC-Date": date}
        if response.ip_address:
            warc_headers["WARC-IP-Address"] = str(response.ip_address)
        if callback:
            warc_headers[CALLBACK_HEADER] = callback
        mime = _mime(response.headers.get("Content-Type"))
        earlier = payload_record(self.index, self.index.same_payload(url, digest))
        compress = True
        if earlier is not None:
            record = self.writer.revisit(url, digest, earlier, http_headers, warc_headers)
            kind = "revisit"
        else:
            record = self.writer.record(url, "response", body, warc_headers, http_headers=http_headers,
                                        payload_digest=digest)
            kind = "response"
            encoding = (response.headers.get("Content-Encoding") or b"").strip().lower()
            compress = compresses(body, mime, encoded=encoding not in (b"", b"identity"))
        self._write_with_request(record, request, url, date, Capture(
            file="", offset=0, length=0, url=url, request_url=request_url, date=date, type=kind,
            status=response.status, mime=mime, digest=digest,
            record_id=record.rec_headers.get_header("WARC-Record-ID"), rendered=False, callback=callback,
            payload_file=earlier.payload_file if earlier else "",
            payload_offset=earlier.payload_offset if earlier else 0, payload_status=response.status),
            compress=compress)

    def record_not_modified(self, request: Request, response: Response) -> None:
        """A ``304 Not Modified`` (the answer to a conditional request): a ``revisit`` record
        (profile ``server-not-modified``) referring to the URL's latest capture, so that the
        URL's latest capture still leads to its payload. Without an earlier capture it is
        recorded as a plain ``response``. Either is left out of the CDXJ (:func:`replayable`)."""
        url = response.url
        earlier = payload_record(self.index, self.index.latest_payload(url))
        date = warc_date(self.clock())
        callback = _callback_name(request)
        http_headers = StatusAndHeaders(f"304 {_reason(304)}", _http_headers(response),
                                        protocol=response.protocol or "HTTP/1.1")
        warc_headers = {"WARC-Date": date}
        if callback:
            warc_headers[CALLBACK_HEADER] = callback
        if earlier is None:
            record = self.writer.record(url, "response", response.body, warc_headers,
                                        http_headers=http_headers)
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            kind = "response"
            payload: tuple[str, int, int | None] = ("", 0, 304)
        else:
            record = self.writer.revisit(url, earlier.digest, earlier, http_headers, warc_headers,
                                         REVISIT_NOT_MODIFIED)
            digest, kind = earlier.digest, "revisit"
            payload = (earlier.payload_file, earlier.payload_offset, earlier.payload_status)
        self._write_with_request(record, request, url, date, Capture(
            file="", offset=0, length=0, url=url, request_url=request.url, date=date, type=kind,
            status=304, mime=None, digest=digest, record_id=record.rec_headers.get_header("WARC-Record-ID"),
            rendered=False, callback=callback, payload_file=payload[0], payload_offset=payload[1],
            payload_status=payload[2]))
        self._count("newscrawl/warc/not_modified")

    def _capture_rendered(self, request: Request, response: Response, url: str, request_url: str,
                          date: str, callback: str | None) -> None:
        """The DOM chromium rendered: a ``resource`` record under :func:`rendered_uri` of the
        page, and a ``metadata`` record with the browser's HTTP status and headers."""
        body = response.body
        content_type = (response.headers.get("Content-Type") or b"text/html").decode("latin-1")
        warc_headers = {"WARC-Date": date, RENDERED_HEADER: RENDERED_BY,
                        PAGE_HEADER: url, REQUESTED_HEADER: request_url}
        if callback:
            warc_headers[CALLBACK_HEADER] = callback
        record = self.writer.record(rendered_uri(url), "resource", body, warc_headers,
                                    content_type=content_type)
        static = self.index.latest(request_url, rendered=False)
        if static is not None and static.file in self.files:  # this run's static HTML of the page
            record.rec_headers.add_header("WARC-Concurrent-To", static.record_id)
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        fields = [f"rendered-by: {RENDERED_BY}", f"requested-uri: {request_url}", f"page-uri: {url}",
                  f"http-status: {response.status}"]
        fields += [f"http-header: {k}: {v}" for k, v in _http_headers(response)]
        meta = ("\r\n".join(fields) + "\r\n").encode("utf-8")
        metadata = self.writer.record(rendered_uri(url), "metadata", meta,
                                      {"WARC-Date": date, "WARC-Concurrent-To": record_id},
                                      content_type="application/warc-fields")
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        members = [self.writer.member(record), self.writer.member(metadata)]
        self._write(members, [Capture(
            file="", offset=0, length=0, url=rendered_uri(url), request_url=request_url, date=date,
            type="resource", status=response.status, mime=_mime(content_type.encode("latin-1")),
            digest=digest, record_id=record_id, rendered=True, callback=callback, payload_file="",
            payload_offset=0, payload_status=response.status)])
        self._count("newscrawl/warc/rendered")

    def _write_with_request(self, record: ArcWarcRecord, request: Request, url: str, date: str,
                            capture: Capture, *, compress: bool = True) -> None:
        """Write the capture's record (deflated unless ``compress`` is false: see
        :func:`compresses`) and its request's."""
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [(k.decode("latin-1"), v.decode("latin-1"))
                   for k, values in dict.items(request.headers) for v in values]
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        req_http = StatusAndHeaders(f"{request.method} {target}", headers, protocol="HTTP/1.1",
                                    is_http_request=True)
        req_record = self.writer.record(request.url, "request", request.body,
                                        {"WARC-Date": date, "WARC-Concurrent-To": capture.record_id},
                                        http_headers=req_http)
        members = [self.writer.member(record, compress=compress), self.writer.member(req_record)]
        self._write(members, [capture])
        self._count(f"newscrawl/warc/{capture.type}s")

    def _write(self, members: list[bytes], captures: list[Capture]) -> None:
        """Append the gzip members in one write; ``captures`` (none, or one) is the first
        member's row of the index."""
        if self.size and self.size + sum(map(len, members)) > self.max_size:
            self._finish_file()
            self._new_file()
        self._append(members, captures)

    def _append(self, members: list[bytes], captures: list[Capture]) -> None:
        """Append the gzip members to the current file in one write, and index ``captures``."""
        data = b"".join(members)
        start = self.size
        try:
            written = self.fh.write(data)
            if written != len(data):
                raise OSError(f"short write ({written} of {len(data)} bytes)")
            if self.durable:
                os.fsync(self.fh.fileno())
        except OSError:
            with contextlib.suppress(OSError):  # leave no partial record in the file
                os.ftruncate(self.fh.fileno(), start)
            raise
        self.size = start + len(data)
        self._count("newscrawl/warc/bytes", len(data))
        self._count("newscrawl/warc/records", len(members))
        rows = [Capture(self.name, start, len(members[0]), c.url, c.request_url, c.date, c.type, c.status,
                        c.mime, c.digest, c.record_id, c.rendered, c.callback, c.payload_file or self.name,
                        c.payload_offset if c.payload_file else start, c.payload_status, self.run)
                for c in captures]
        self.index.add(rows, self.name, self.size)
        if rows:
            self.last_capture = rows[0]

    # -- helpers
    def _count(self, key: str, n: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, n)


def _mime(value: bytes | None) -> str | None:
    if not value:
        return None
    return value.decode("latin-1").split(";", 1)[0].strip().lower() or None


def _warcio_version() -> str:
    try:
        from importlib.metadata import version

        return version("warcio")
    except Exception:  # pragma: no cover - metadata missing
        return getattr(warcio, "__version__", "?")


# ---- recovery and CDXJ -----------------------------------------------------------------------
def iter_members(fh: Any, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """The complete gzip members of a file from ``start``: (offset, length, data). Stops at
    the first member that does not end (a torn record)."""
    fh.seek(start)
    offset = start
    pending = b""
    while True:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS + 16)
        out = []
        consumed = 0
        data = pending
        pending = b""
        while not decompressor.eof:
            if not data:
                data = fh.read(1 << 20)
                if not data:
                    return
            before = len(data)
            try:
                out.append(decompressor.decompress(data))
            except zlib.error:
                return
            rest = decompressor.unused_data
            consumed += before - len(rest)
            data = rest
        pending = data
        yield offset, consumed, b"".join(out)
        offset += consumed


def read_record(data: bytes) -> ArcWarcRecord:
    """The record in a decompressed member (its payload read into memory)."""
    record = next(iter(ArchiveIterator(BytesIO(data), arc2warc=False, ensure_http_headers=False)))
    record.payload = record.raw_stream.read()
    return record


def index_file(folder: Path, name: str, index: CaptureIndex, start: int) -> int:
    """Index the records of a file from ``start`` that the index lacks; returns the end of the
    last complete record."""
    end = start
    run = index.run_of(name)
    with open(folder / name, "rb") as fh:
        for offset, length, data in iter_members(fh, start):
            end = offset + length
            try:
                record = read_record(data)
            except Exception as exc:
                logger.warning("%s: unreadable record at %d (%s): left out of the index", name, offset, exc)
                continue
            capture = capture_of(record, name, offset, length, index)
            if capture is None:
                if record.rec_type == "metadata":  # the browser's status for the resource before it
                    _set_rendered_status(index, record)
                elif record.rec_type == "warcinfo" and offset == 0:
                    run = warcinfo_run(record)
                    index.set_run(name, run)
                index.add([], name, end)
            else:
                index.add([replace(capture, seq=run)], name, end)
    return end


def file_run(path: Path) -> int:
    """The run number in a file's warcinfo (0 when it has none or cannot be read)."""
    try:
        with open(path, "rb") as fh:
            for _, _, data in iter_members(fh):
                record = read_record(data)
                return warcinfo_run(record) if record.rec_type == "warcinfo" else 0
    except Exception:  # a damaged head: indexed as an old file, its records as readable
        return 0
    return 0


def warcinfo_run(record: ArcWarcRecord) -> int:
    """The run number a file's warcinfo gives (:data:`RUN_FIELD`; 0 in files written before)."""
    for line in record.payload.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == RUN_FIELD and value.strip().isdigit():
            return int(value.strip())
    return 0


def capture_of(record: ArcWarcRecord, name: str, offset: int, length: int,
                index: CaptureIndex | None) -> Capture | None:
    """The index row of a record (``None`` for other records than response, resource and
    revisit); a revisit's payload is found through ``index`` (left empty without one)."""
    kind = record.rec_type
    if kind not in ("response", "resource", "revisit"):
        return None
    h = record.rec_headers
    url = h.get_header("WARC-Target-URI")
    date = h.get_header("WARC-Date")
    http_headers = record.http_headers
    status = int(http_headers.get_statuscode()) if http_headers and kind != "resource" else None
    rendered = bool(h.get_header(RENDERED_HEADER))
    digest = h.get_header("WARC-Payload-Digest") or sha1_digest(record.payload)
    payload_file, payload_offset, payload_status = name, offset, status
    if kind == "revisit":
        earlier = index.by_record_id(h.get_header("WARC-Refers-To") or "") if index else None
        if earlier is None and index is not None:
            logger.warning("%s: revisit of %s at %d refers to a record not indexed", name, url, offset)
            payload_file, payload_offset, payload_status = "", 0, None
        elif earlier is None:
            payload_file, payload_offset, payload_status = "", 0, status
        else:
            payload_file, payload_offset = earlier.payload_file, earlier.payload_offset
            payload_status = earlier.payload_status if status == 304 else status
    if kind == "resource":
        content_type = h.get_header("Content-Type")
        mime = _mime(content_type.encode("latin-1")) if content_type else None
        status = payload_status = 200
    else:
        content_type = http_headers.get_header("Content-Type") if http_headers else None
        mime = _mime(content_type.encode("latin-1")) if content_type else None
    return Capture(file=name, offset=offset, length=length, url=url,
                   request_url=h.get_header(REQUESTED_HEADER) or page_url(url), date=date, type=kind,
                   status=status, mime=mime, digest=digest, record_id=h.get_header("WARC-Record-ID"),
                   rendered=rendered, callback=h.get_header(CALLBACK_HEADER), payload_file=payload_file,
                   payload_offset=payload_offset, payload_status=payload_status)


def _set_rendered_status(index: CaptureIndex, record: ArcWarcRecord) -> None:
    concurrent = record.rec_headers.get_header("WARC-Concurrent-To")
    for line in record.payload.decode("utf-8", "replace").splitlines():
        if line.startswith("http-status:") and concurrent:
            status = int(line.split(":", 1)[1].strip() or 0)
            with index.db:
                index.db.execute("UPDATE captures SET status = ?, payload_status = ? WHERE record_id = ?",
                                 (status, status, concurrent))


def recover(folder: Path, index: CaptureIndex) -> Iterator[tuple[str, int]]:
    """Bring every WARC file of the folder into the index: records a killed run wrote after its
    last index update (or all of them, when the index was lost) are indexed, a torn last
    record is cut off, and each file that was not finished gets its CDXJ. Yields (file, bytes
    cut) per file it had to finish."""
    todo = []
    for path in folder.glob(f"*{WARC_SUFFIX}"):
        known = index.indexed(path.name)
        if known is not None and known[1] and known[0] == path.stat().st_size:
            continue
        # in the order the runs wrote them (a revisit's record is indexed before it)
        todo.append((index.run_of(path.name) if known else file_run(path), path.name, path, known))
    for run, name, path, known in sorted(todo, key=lambda t: t[:2]):
        if known is None:
            index.add_file(name, 0, run)
        start = known[0] if known else 0
        end = index_file(folder, name, index, start)
        size = path.stat().st_size
        if size > end:
            with open(path, "r+b") as fh:
                fh.truncate(end)
        write_cdxj(folder, name, index.in_file(name))
        index.close_file(name)
        index.commit()
        yield name, size - end


class _ImportedAtFirstUse(types.ModuleType):
    """Stands in for a module that is imported at its first attribute used."""

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module(self.__name__)
        if module is self:  # still standing in: the real module is not importable yet
            raise AttributeError(f"{self.__name__}.{name} used while {self.__name__} is being stood in for")
        return getattr(module, name)


@functools.cache
def _surt() -> Any:
    """``surt.surt``, imported at the first CDXJ line (a WARC closed), not with this module
    (every command imports it). surt's ``handyurl`` imports tldextract, which imports
    requests (40-60 ms of CPU), though ``surt.surt`` never uses it (only ``handyurl``'s
    public-suffix methods do). Unless tldextract is imported already, surt is imported with
    a stand-in for it that imports the real one at its first use. (Python 3.11's
    :class:`importlib.util.LazyLoader` cannot do it: an ``import`` of a lazy module loads it.)"""
    if "surt" not in sys.modules and "tldextract" not in sys.modules:
        stand_in = _ImportedAtFirstUse("tldextract")
        sys.modules["tldextract"] = stand_in
        try:
            import surt
        finally:
            if sys.modules.get("tldextract") is stand_in:
                del sys.modules["tldextract"]
    import surt

    return surt.surt


def cdxj_line(capture: Capture) -> str:
    """One line of a CDXJ index as pywb and cdxj-indexer write it."""
    fields: dict[str, str] = {"url": capture.url}
    if capture.type == "revisit":
        fields["mime"] = "warc/revisit"
    elif capture.mime:
        fields["mime"] = capture.mime
    if capture.status is not None and capture.type != "resource":
        fields["status"] = str(capture.status)
    fields.update(digest=capture.digest, length=str(capture.length), offset=str(capture.offset),
                  filename=capture.file)
    to_surt = _surt()  # outside the try: surt missing is an error, not URL keys
    try:
        key = to_surt(capture.url)
    except Exception:
        key = capture.url
    return f"{key} {capture.timestamp} {json.dumps(fields, ensure_ascii=False)}"


def write_cdxj(folder: Path, name: str, captures: Iterable[Capture], *, durable: bool = False) -> Path:
    """``<name>.cdxj`` beside the WARC: its response, resource and revisit records, sorted,
    but for the 304s (:func:`replayable`): a replay tool shows the newest capture of a URL, and
    a 304 has no page to show (the capture index keeps them).

    The lines are sorted by a temporary SQLite database on disk (its cache is bounded; UTF-8
    compared byte by byte sorts as Python sorts the strings), never all held in memory: a
    1 GB WARC file holds some 45,000 captures, ~20 MB of lines, and its CDXJ is written as the
    crawl closes, when the memory is at its peak."""
    path = folder / (name.removesuffix(WARC_SUFFIX) + ".cdxj")
    with contextlib.closing(sqlite3.connect("")) as db:  # "": a private temporary file
        db.execute("PRAGMA cache_size = -256")  # KiB: the sort spills to the file beyond it
        db.execute("CREATE TABLE line (text BLOB NOT NULL)")
        db.executemany("INSERT INTO line VALUES (?)",
                       ((cdxj_line(c).encode("utf-8"),) for c in captures if replayable(c.status)))
        rows = db.execute("SELECT text FROM line ORDER BY text")
        write_atomic_chunks(path, (row[0] + b"\n" for row in rows), durable=durable)
    return path


# ---- the downloader middleware ------------------------------------------------------------------
class CaptureMiddleware:
    """Writes every response the downloader returns to the spider's WARC (see the module
    docstring). Off with ``NEWSCRAWL_WARC=False``."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.recorder: WarcRecorder | None = None
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        if not crawler.settings.getbool("NEWSCRAWL_WARC"):
            raise NotConfigured
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        from newscrawl.archive import archive_opened

        if not archive_opened(self.crawler):
            return  # locked, or the archive could not open: the run stops without fetching
        s = self.settings
        folder = warc_dir(s, spider.name)
        info = {"http-header-user-agent": s.get("USER_AGENT"),
                "robots": "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore",
                "hostname": os.uname().nodename}
        if s.get("NEWSCRAWL_MIRROR"):
            info["description"] = f"fetched from the local mirror {s['NEWSCRAWL_MIRROR']} (a test or demo)"
        try:
            recorder = WarcRecorder(folder, spider.name, max_size=s.getint("NEWSCRAWL_WARC_MAX_SIZE"),
                                    durable=s.getbool("NEWSCRAWL_FSYNC"), info=info, stats=self.crawler.stats,
                                    clock=Schedule.from_settings(s).now)
        except (OSError, sqlite3.Error) as exc:
            self._failed(f"cannot write WARC files in {folder}: {exc}. Nothing was fetched.")
            return
        self.recorder = recorder
        spider.logger.info("Capturing every response as WARC in %s", folder / recorder.name)

    def spider_closed(self, spider: Spider) -> None:
        if self.recorder is not None:
            try:
                self.recorder.close()
            except (OSError, sqlite3.Error) as exc:
                self.crawler.stats.inc_value("newscrawl/failed/warc")
                logger.error("Cannot finish the WARC file %s: %s", self.recorder.name, exc)
            self.recorder = None

    def process_response(self, request: Request, response: Response) -> Response:
        if self.recorder is not None:
            self.recorder.last_capture = None
            try:
                self.recorder.capture(request, response)
            except (OSError, sqlite3.Error) as exc:
                self._failed(f"cannot write the capture of {response.url} to {self.recorder.name}: {exc}")
            else:
                if self.recorder.last_capture is not None:
                    request.meta[CAPTURE_META] = self.recorder.last_capture.provenance
        return response

    def _failed(self, message: str) -> None:
        """A WARC that cannot be written stops the crawl: pages fetched from now on would be
        archived without their evidence."""
        self.crawler.stats.inc_value("newscrawl/failed/warc")
        logger.error("%s", message)
        if not self.stopping:
            self.stopping = True
            logger.error("Stopping the crawl: the WARC cannot be written")
            if self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="write_failed"))
