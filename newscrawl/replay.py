"""Responses rebuilt from WARC captures, for re-parsing without a request to the site.

* :class:`CaptureReader` turns an indexed capture (``response``, ``revisit`` or a rendered
  ``resource``) back into the Scrapy response the transport returned when it was fetched:
  same URL, status, headers and raw body (a revisit gets its payload from the record it
  refers to), flagged ``playwright`` when the browser produced it.
* :class:`ReplayMiddleware` (reparse mode, ``NEWSCRAWL_REPARSE``) answers every request of
  the crawl from the captures, before anything is sent: a replayed article page from exactly
  the capture it was asked for (:data:`REPLAY_PIN`), any other request (a gallery page, a
  redirect's target, a picture) from the latest capture of its URL that the same run (or an
  earlier one) wrote (:data:`REPLAY_RUN`, carried on by :class:`ReplaySpiderMiddleware`).
  The responses then go through every downloader middleware (content decoding, redirects),
  the spider's callbacks and the item pipelines exactly as live ones. A URL never captured
  fails with :class:`NotCaptured`.
* :func:`reparse_plan`: which captures of each article a reparse replays, in the order they
  were written (every one, for an article the archive does not hold: its history is rebuilt
  version by version; from the capture of the version it holds on, for one it does).
* :func:`find_in_file` and :func:`decoded`: ``scrapy extract --warc``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from scrapy.signalmanager import SignalManager
from warcio.recordloader import ArcWarcRecord
from warcio.timeutils import PAD_6_UP, pad_timestamp, timestamp_to_datetime

from newscrawl.items import adapt
from newscrawl.sites import Site
from newscrawl.text import parse_datetime
from newscrawl.warc import (
    CAPTURE_META,
    INDEX_NAME,
    WARC_SUFFIX,
    Capture,
    CaptureIndex,
    capture_of,
    file_run,
    iter_members,
    open_index,
    page_url,
    read_record,
    warc_date,
    warc_dir,
)

logger = logging.getLogger(__name__)

#: ``request.meta`` key (reparse): ``(file, offset)`` of the capture that answers this URL.
REPLAY_PIN = "newscrawl_replay_pin"
#: ``request.meta`` key (reparse): the run whose view of the site a request gets (the latest
#: capture of its URL written by that run or an earlier one).
REPLAY_RUN = "newscrawl_replay_run"


class NotCaptured(IgnoreRequest):
    """Reparse mode: the spider asked for a URL that no capture holds."""


class CaptureReader:
    """The WARC files of one folder, read through their capture index.

    With ``rebuild`` (the spider's lock held) an index that is missing, damaged or behind the
    files is rebuilt from the WARC files first (:func:`newscrawl.warc.open_index`); without,
    the index is read as it is, beside a crawl that may be writing it. Raises
    FileNotFoundError when there is nothing to read."""

    def __init__(self, folder: Path, *, rebuild: bool = True):
        self.folder = folder
        if rebuild:
            self.index = open_index(folder)
        else:
            if not (folder / INDEX_NAME).exists():
                raise FileNotFoundError(f"no captures in {folder} (no {INDEX_NAME})")
            self.index = CaptureIndex(folder, readonly=True)

    def close(self) -> None:
        self.index.close()

    def record(self, file: str, offset: int) -> ArcWarcRecord:
        with open(self.folder / file, "rb") as fh:
            for _, _, data in iter_members(fh, offset):
                return read_record(data)
        raise ValueError(f"{self.folder / file}: no complete record at offset {offset}")

    def response(self, capture: Capture, request: Request | None = None) -> Response:
        """The response as the transport returned it when this capture was made."""
        record = self.record(capture.file, capture.offset)
        return response_from_records(self, capture, record, request)


def response_from_records(reader: CaptureReader, capture: Capture, record: ArcWarcRecord,
                          request: Request | None = None) -> Response:
    """Build the response of a capture; a revisit takes its payload (and, for a 304, its
    status and headers) from the record it refers to, via ``reader``."""
    flags = ["warc"]
    if capture.type == "resource":
        status, headers = _browser_answer(reader, capture)
        flags.insert(0, "playwright")
        body = record.payload
        protocol = None
    else:
        source = record
        if capture.type == "revisit":
            if not capture.payload_file:
                raise NotCaptured(f"{capture.url}: the revisit at {capture.date} refers to no record found")
            original = reader.record(capture.payload_file, capture.payload_offset)
            body = original.payload
            if capture.status == 304:
                source = original
        else:
            body = record.payload
        status = int(source.http_headers.get_statuscode())
        headers = Headers()
        for name, value in source.http_headers.headers:
            headers.appendlist(name, value)
        protocol = source.http_headers.protocol or None
    url = page_url(capture.url)  # a rendered DOM's record is named urn:newscrawl:rendered:<page>
    respcls = responsetypes.from_args(headers=headers, url=url, body=body)
    return respcls(url=url, status=status, headers=headers, body=body, flags=flags,
                   request=request, protocol=protocol)


def _browser_answer(reader: CaptureReader, capture: Capture) -> tuple[int, Headers]:
    """The HTTP status and headers chromium reported for a rendered page (its metadata record,
    right after the resource)."""
    headers = Headers()
    status = capture.status or 200
    try:
        meta = reader.record(capture.file, capture.offset + capture.length)
    except ValueError:
        return status, headers
    if meta.rec_type != "metadata":
        return status, headers
    for line in meta.payload.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(": ")
        if key == "http-status":
            status = int(value)
        elif key == "http-header":
            name, _, text = value.partition(": ")
            headers.appendlist(name, text)
    return status, headers


def decoded(response: Response, settings: BaseSettings) -> Response:
    """The response as callbacks get it live: content-decoded (gzip, br, …) by Scrapy's own
    ``HttpCompressionMiddleware``."""
    crawler = SimpleNamespace(settings=settings, stats=None, signals=SignalManager())
    middleware = HttpCompressionMiddleware(crawler=crawler)  # type: ignore[arg-type]
    result = middleware.process_response(response.request or Request(response.url), response)
    return result if isinstance(result, Response) else response  # (it never asks for a request)


# ---- scrapy extract --warc ----------------------------------------------------------------------
def find_in_file(path: Path, url: str, site: Site, at: str | None = None) -> Response:
    """The latest written capture of ``url`` in a WARC file, or in the WARC files of a folder
    (of those dated at or before the WARC date ``at``), as the transport returned it
    (``response.meta[CAPTURE_META]``: its file, record id and WARC date). A revisit's payload
    is taken from the record it refers to, in the files read or else in the other WARC files of the folder
    (through its capture index when it has one). Raises LookupError when there is no such
    capture or the payload is in none of the folder's files, OSError when a file cannot be
    read."""
    # the latest is the last written: files in the order of their runs, records in file order
    files = (sorted(path.glob(f"*{WARC_SUFFIX}"), key=lambda f: (file_run(f), f.name)) if path.is_dir()
             else [path])
    wanted = {url, site.canonical_url(url)}
    best: tuple[Capture, ArcWarcRecord] | None = None
    payloads = _Payloads()
    for file in files:
        with open(file, "rb") as fh:
            for offset, length, data in iter_members(fh):
                record = read_record(data)
                if record.rec_type not in ("response", "resource", "revisit"):
                    continue
                capture = capture_of(record, file.name, offset, length, None)
                if capture is None:
                    continue
                payloads.add(capture, record)
                page = page_url(capture.url)
                if not ({page, capture.request_url, site.canonical_url(page)} & wanted):
                    continue
                if at and capture.date > at:
                    continue
                best = (capture, record)
    if best is None:
        when = f" at or before {at}" if at else ""
        raise LookupError(f"{path} holds no capture of {url}{when}")
    capture, record = best
    folder = files[0].parent
    if capture.type == "revisit":
        refers_to = record.rec_headers.get_header("WARC-Refers-To") or ""
        found = payloads.find(refers_to) or _payload_elsewhere(folder, refers_to, payloads, files)
        if found is None:
            raise LookupError(
                f"the capture of {url} at {capture.date} is a revisit: its page is in record {refers_to},"
                f" found neither in {path} nor in the other WARC files of {folder}")
        payload_file, payload_offset, status = found
        capture = replace(capture, payload_file=payload_file, payload_offset=payload_offset,
                          payload_status=status if capture.status == 304 else capture.status)
    request = Request(capture.request_url, meta={CAPTURE_META: capture.provenance})
    return response_from_records(_FolderReader(folder), capture, record, request)


class _Payloads:
    """The records seen while reading WARC files: where each response is, and which record
    each revisit refers to (files written before revisits named the original could chain)."""

    def __init__(self) -> None:
        self.responses: dict[str, tuple[str, int, int | None]] = {}  # record id → file, offset, status
        self.refers: dict[str, str] = {}  # a revisit's record id → the record it refers to

    def add(self, capture: Capture, record: ArcWarcRecord) -> None:
        if capture.type == "response":
            self.responses[capture.record_id] = (capture.file, capture.offset, capture.status)
        elif capture.type == "revisit":
            self.refers[capture.record_id] = record.rec_headers.get_header("WARC-Refers-To") or ""

    def find(self, record_id: str) -> tuple[str, int, int | None] | None:
        seen = set()
        while record_id in self.refers and record_id not in seen:
            seen.add(record_id)
            record_id = self.refers[record_id]
        return self.responses.get(record_id)


def _payload_elsewhere(folder: Path, record_id: str, payloads: _Payloads,
                       read: list[Path]) -> tuple[str, int, int | None] | None:
    """Where the record ``record_id`` holding a payload is among the folder's WARC files not
    read yet: through the capture index when the folder has a readable one, else by reading
    those files."""
    if (folder / INDEX_NAME).exists():
        try:
            index = CaptureIndex(folder, readonly=True)
            try:
                earlier = index.by_record_id(record_id)
            finally:
                index.close()
        except (sqlite3.Error, IndexError):
            earlier = None  # a damaged index, or one of another version: the files say it as well
        if earlier is not None and earlier.payload_file and (folder / earlier.payload_file).exists():
            return earlier.payload_file, earlier.payload_offset, earlier.payload_status
    for file in sorted(folder.glob(f"*{WARC_SUFFIX}")):
        if file in read:
            continue
        with open(file, "rb") as fh:
            for offset, length, data in iter_members(fh):
                record = read_record(data)
                capture = capture_of(record, file.name, offset, length, None)
                if capture is not None and record.rec_type in ("response", "revisit"):
                    payloads.add(capture, record)
        found = payloads.find(record_id)
        if found is not None:
            return found
    return None


def parse_at(text: str) -> str:
    """``--at``: a CDX timestamp (``20261122`` … ``20261122023133``: the end of that day, hour,
    … second) or an ISO 8601 time (to the second: its end) → the WARC date to compare with."""
    text = text.strip()
    if text.isdigit() and 4 <= len(text) <= 14:
        moment = timestamp_to_datetime(pad_timestamp(text, PAD_6_UP), tz_aware=True)
    else:
        moment = parse_datetime(text)
        if moment is None:
            raise ValueError(f"not a time: {text!r} (give e.g. 2026-11-22T02:23:33Z or 20261122022333)")
    if not moment.microsecond:
        moment = moment.replace(microsecond=999999)
    return warc_date(moment)


class _FolderReader(CaptureReader):
    """Reads records of a folder's WARC files at known offsets (no index needed)."""

    def __init__(self, folder: Path):
        self.folder = folder


# ---- scrapy reparse -----------------------------------------------------------------------------
def reparse_plan(index: CaptureIndex, site: Site, selected: list[str], held: Callable[[str], str | None],
                 scratch: sqlite3.Connection) -> tuple[Iterator[list[Capture]], list[str]]:
    """Which captures a reparse replays, per article, in the order they were written.

    ``held(article_id)`` tells what the archive holds of an article: ``None`` when nothing
    (every capture is replayed: its history is rebuilt version by version), else the
    WARC-Record-ID of the capture its latest version was parsed from (replayed from that
    capture on: a changed parser re-derives the version it holds, later captures follow), or
    ``""`` when that is not known (a version archived before captures were named: only the
    latest capture). A capture with the same payload as the one replayed before it is left
    out (the page did not change: a live re-check would not have parsed it either).
    ``selected`` URLs restrict it to their articles (in their order; else the articles come
    in the order of their first capture); returns the plan, an iterator of each article's
    captures, and the selected URLs that have no capture.

    Streams: the article captures of the index are gathered in ``scratch`` (a SQLite
    connection, a temporary one on disk: memory does not grow with the archive), then read
    back an article at a time as the plan is iterated."""
    wanted = {site.article_id(site.canonical_url(url)): url for url in selected}
    scratch.execute("CREATE TABLE plan_captures (pos INTEGER PRIMARY KEY, article_id TEXT NOT NULL,"
                    " capture TEXT NOT NULL)")
    with scratch:
        for capture in index.article_captures():
            article_id = site.article_id(site.canonical_url(capture.request_url))
            if article_id and (not selected or article_id in wanted):
                scratch.execute("INSERT INTO plan_captures (article_id, capture) VALUES (?, ?)",
                                (article_id, json.dumps(asdict(capture))))
        scratch.execute("CREATE INDEX plan_captures_article ON plan_captures (article_id, pos)")

    def has_captures(article_id: str | None) -> bool:
        return scratch.execute("SELECT 1 FROM plan_captures WHERE article_id = ? LIMIT 1",
                               (article_id,)).fetchone() is not None

    missing = [url for url in selected if not has_captures(site.article_id(site.canonical_url(url)))]

    def articles() -> Iterator[str]:
        if selected:
            yield from (a for a in wanted if a is not None and has_captures(a))
            return
        found = scratch.execute("SELECT article_id FROM plan_captures GROUP BY article_id ORDER BY MIN(pos)")
        while batch := found.fetchmany(1000):
            yield from (row[0] for row in batch)

    def plan() -> Iterator[list[Capture]]:
        for article_id in articles():
            captures = [Capture(**json.loads(row[0])) for row in scratch.execute(
                "SELECT capture FROM plan_captures WHERE article_id = ? ORDER BY pos", (article_id,))]
            record = held(article_id)
            if record is not None:
                start = next((i for i, c in enumerate(captures) if c.record_id == record), None)
                captures = captures[start:] if start is not None else captures[-1:]
            kept: list[Capture] = []
            for capture in captures:
                if kept and (kept[-1].digest, kept[-1].rendered) == (capture.digest, capture.rendered):
                    continue
                kept.append(capture)
            yield kept

    return plan(), missing


class ReplayMiddleware:
    """Reparse mode: every request is answered from the spider's WARC captures, none is sent.

    Sits right after ``OffsiteMiddleware`` (priority 110), before every middleware that would
    prepare a request for the network; the response it returns goes up through all of them.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.reader: CaptureReader | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayMiddleware:
        if not crawler.settings.getbool("NEWSCRAWL_REPARSE"):
            raise NotConfigured
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        from newscrawl.archive import archive_opened

        if not archive_opened(self.crawler):
            return  # locked, or the archive could not open: nothing is replayed
        folder = warc_dir(self.crawler.settings, spider.name)
        # without captures the spider says so (crawling/reparse.py) and asks for nothing
        with contextlib.suppress(FileNotFoundError):
            self.reader = CaptureReader(folder)

    def spider_closed(self, spider: Spider) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def process_request(self, request: Request) -> Response:
        rendered = bool(request.meta.get("playwright"))
        capture = self._capture(request, rendered)
        stats = self.crawler.stats
        if capture is None or self.reader is None:
            stats.inc_value("newscrawl/reparse/not_captured")
            kind = "rendered " if rendered else ""
            raise NotCaptured(f"no {kind}capture of {request.url}")
        stats.inc_value("newscrawl/reparse/replayed")
        request.meta[CAPTURE_META] = capture.provenance
        return self.reader.response(capture, request)

    def _capture(self, request: Request, rendered: bool) -> Capture | None:
        if self.reader is None:
            return None
        index = self.reader.index
        pin = request.meta.get(REPLAY_PIN)
        if pin:  # the article capture this request replays (not once redirected elsewhere)
            capture = index.at(*pin)
            if capture is not None and capture.request_url == request.url and capture.rendered == rendered:
                return capture
        return index.latest(request.url, rendered=rendered, run=request.meta.get(REPLAY_RUN))


class ReplaySpiderMiddleware:
    """Reparse mode: what the spider asks for while it handles a replayed response sees the
    site as the run of that response saw it (:data:`REPLAY_RUN` carried on to its requests),
    and a page fetched only to complete another article (a gallery's own page) gives no item
    of its own: its own captures are replayed for that, in their turn."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplaySpiderMiddleware:
        if not crawler.settings.getbool("NEWSCRAWL_REPARSE"):
            raise NotConfigured
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        run = response.meta.get(REPLAY_RUN)
        target = response.meta.get(REPLAY_PIN) is not None
        own_id = response.meta.get("article_id")
        for thing in result:
            if isinstance(thing, Request):
                if run is not None:
                    thing.meta.setdefault(REPLAY_RUN, run)
            elif not target and own_id and adapt(thing).get("id") == own_id:
                self.crawler.stats.inc_value("newscrawl/reparse/not_a_target")
                continue
            yield thing

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for thing in result:
            for out in self.process_spider_output(response, [thing]):
                yield out


__all__ = ["REPLAY_PIN", "REPLAY_RUN", "CaptureReader", "NotCaptured", "ReplayMiddleware",
           "ReplaySpiderMiddleware", "decoded", "find_in_file", "parse_at", "reparse_plan"]
