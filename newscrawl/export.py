"""The archive as a dataset: what ``scrapy export`` (:mod:`newscrawl.commands.export`) writes.

Source: each spider's ``articles.jsonl``. It is the one record that is complete for every
version: the archive appends exactly one line per archived version (:mod:`newscrawl.archive`:
a crash leaves neither a lost nor a doubled line) holding every field of the item. The
posts are a rendering of the latest version only (no content hash, no capture); the
``_revisions/`` folders hold earlier versions as rendered posts and diffs, not as fields; the
state keeps hashes, titles and a version history, not the text.

An article's **latest** version is its last line in the file, as ``scrapy rebuild-state`` and
``scrapy verify`` read it. The file is read up to the size it had when the export began
(whole lines only), so a crawl appending meanwhile neither disturbs the export nor needs to
stop: the export is the archive as it was at that moment.

Streaming: a first pass over the lines records each article's last line (its offset) in a
scratch SQLite file, not in memory; the second pass reads the lines again and hands on the
selected ones in file order. :class:`ParquetSink` converts them to Arrow record batches of at
most :data:`BATCH_ROWS` rows or :data:`BATCH_BYTES` bytes of JSON, each written as it fills
(one Parquet row group each), so memory stays flat whatever the archive's size.

pyarrow is imported only by :class:`ParquetSink` and :func:`arrow_schema` (the ``export``
extra): every ``scrapy`` command imports the command modules, and the JSON-lines export
needs none of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from newscrawl.files import TMP_PREFIX
from newscrawl.text import parse_datetime

#: Stored in the Parquet file's metadata (``newscrawl`` key) with what was exported; raised
#: when a column changes its type or meaning (adding a column does not).
SCHEMA_VERSION = 1
#: Rows gathered before they are converted and written as one Parquet row group...
BATCH_ROWS = 1000
#: ...or fewer, once their JSON lines add up to this many bytes (a batch's memory).
BATCH_BYTES = 16 << 20
FORMATS = ("parquet", "jsonl")


def arrow_schema() -> Any:
    """The Parquet schema (a ``pyarrow.Schema``): one column per field of the JSON lines
    (:class:`newscrawl.items.Article`), in their order, with ``latest`` after ``version``,
    and the two fields of the near-duplicate finder, ``cluster`` and ``related`` (null
    until the JSON lines have them). Dates are UTC timestamps (milliseconds); a
    ``published`` the page gives as a day only is that day's midnight UTC, with
    ``published_precision`` ``day``. Every column but ``site``, ``id``, ``version`` and
    ``latest`` may be null. docs/formats.md documents it (a test checks the table)."""
    import pyarrow as pa

    text, when = pa.string(), pa.timestamp("ms", tz="UTC")
    kept = pa.struct([("url", text), ("sha256", text), ("path", text), ("bytes", pa.int64()),
                      ("media_type", text)])
    image = pa.struct([("url", text), ("caption", text), ("credit", text), ("file", kept)])
    slide = pa.struct([("url", text), ("title", text), ("caption", text), ("credit", text), ("file", kept)])
    columns = [
        pa.field("site", text, nullable=False),
        pa.field("id", text, nullable=False),
        ("url", text), ("title", text), ("published", when), ("updated", when),
        ("published_precision", text), ("authors", pa.list_(text)), ("editor", text), ("lead", text),
        ("body_markdown", text), ("images", pa.list_(image)),
        ("gallery", pa.struct([("title", text), ("images", pa.list_(slide))])),
        ("tags", pa.list_(text)), ("category", text), ("lang", text), ("source_name", text),
        ("crawled_at", when), ("content_hash", text), ("rendered", pa.bool_()),
        pa.field("version", pa.int32(), nullable=False),
        pa.field("latest", pa.bool_(), nullable=False),
        ("previous_hash", text), ("capture", pa.struct([("file", text), ("record", text)])),
        ("origin", text), ("parser", text),
        ("cluster", text), ("related", pa.list_(text)),
    ]
    return pa.schema([c if isinstance(c, pa.Field) else pa.field(*c) for c in columns])


def converter(kind: Any) -> Callable[[Any], Any]:
    """A function that turns a JSON value into a value of the Arrow type ``kind``, or ``None``
    when it is not of that shape (a JSON line of an older or damaged archive: the column is
    null there, the line is not lost). Timestamps are parsed from the lines' ISO 8601."""
    import pyarrow as pa

    if pa.types.is_timestamp(kind):
        return parse_datetime
    if pa.types.is_string(kind):
        return lambda v: v if isinstance(v, str) else None
    if pa.types.is_boolean(kind):
        return lambda v: v if isinstance(v, bool) else None
    if pa.types.is_integer(kind):
        return lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None
    if pa.types.is_list(kind):
        item = converter(kind.value_type)
        return lambda v: [item(x) for x in v] if isinstance(v, list) else None
    if pa.types.is_struct(kind):
        parts = [(kind.field(i).name, converter(kind.field(i).type)) for i in range(kind.num_fields)]
        return lambda v: {name: f(v.get(name)) for name, f in parts} if isinstance(v, dict) else None
    raise TypeError(f"no converter for {kind}")


@dataclass
class Selected:
    """One line chosen for the export: its bytes (with the newline), the object, and whether
    it is its article's latest version."""

    raw: bytes
    line: dict[str, Any]
    latest: bool


@dataclass
class Counts:
    """What an export read and wrote, per spider."""

    #: articles of the spider in the archive (whatever the selection)
    articles: dict[str, int] = field(default_factory=dict)
    #: rows (lines) written
    rows: dict[str, int] = field(default_factory=dict)
    #: lines that are no article of the spider (not JSON, no id, another site's): skipped
    bad_lines: int = 0


def whole_lines(path: Path, end: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` of the file's whole lines (with their newline) in its first ``end``
    bytes: a line a crawl is appending after them, or a half line, is not read."""
    offset = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if offset + len(raw) > end or not raw.endswith(b"\n"):
                return
            yield offset, raw
            offset += len(raw)


def _article(raw: bytes, site: str) -> dict[str, Any] | None:
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(line, dict) or line.get("site") != site or not isinstance(line.get("id"), str):
        return None
    return line


def select(jsonl: Path, site: str, scratch: sqlite3.Connection, counts: Counts, *, versions: bool,
           since: datetime | None) -> Iterator[Selected]:
    """The lines of one spider's ``articles.jsonl`` to export, in file order: every version
    (``versions``) or each article's latest; with ``since``, only versions published at or
    after it (``published``; a day-only date counts as its midnight UTC). ``scratch``, an
    SQLite connection, holds each article's last line while this runs."""
    counts.articles[site] = counts.rows[site] = 0
    if not jsonl.exists():
        return
    end = jsonl.stat().st_size
    scratch.execute("CREATE TABLE IF NOT EXISTS latest (site TEXT, id TEXT, offset INTEGER,"
                    " PRIMARY KEY (site, id))")
    with scratch:
        for offset, raw in whole_lines(jsonl, end):
            line = _article(raw, site)
            if line is None:
                counts.bad_lines += 1
                continue
            scratch.execute("INSERT OR REPLACE INTO latest VALUES (?, ?, ?)", (site, line["id"], offset))
    counts.articles[site] = scratch.execute("SELECT count(*) FROM latest WHERE site = ?",
                                            (site,)).fetchone()[0]
    last = (row[0] for row in scratch.execute(
        "SELECT offset FROM latest WHERE site = ? ORDER BY offset", (site,)))
    following = next(last, None)  # the next latest line's offset in the file
    for offset, raw in whole_lines(jsonl, end):
        latest = offset == following
        if latest:
            following = next(last, None)
        elif not versions:
            continue
        line = _article(raw, site)
        if line is None:
            continue
        if since is not None:
            published = parse_datetime(line.get("published"))
            if published is None or published < since:
                continue
        counts.rows[site] += 1
        yield Selected(raw, line, latest)


class JsonlSink:
    """The selected lines as the archive wrote them, byte for byte (the format of
    ``articles.jsonl``, docs/formats.md): ``file`` is written through."""

    def __init__(self, file: BinaryIO):
        self.file = file

    def add(self, selected: Selected) -> None:
        self.file.write(selected.raw)

    def close(self) -> None:
        self.file.flush()


class ParquetSink:
    """The selected lines as rows of :func:`arrow_schema`, written to ``path`` one row group
    per batch (:data:`BATCH_ROWS`, :data:`BATCH_BYTES`), zstd-compressed; ``metadata``
    (JSON-able) is stored in the file's schema metadata under ``newscrawl``."""

    def __init__(self, path: Path, metadata: dict[str, Any]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.schema = arrow_schema().with_metadata(
            {"newscrawl": json.dumps({"schema_version": SCHEMA_VERSION, **metadata}, ensure_ascii=False)})
        self.convert = [(f.name, converter(f.type)) for f in self.schema]
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self.rows: list[dict[str, Any]] = []
        self.size = 0

    def add(self, selected: Selected) -> None:
        line = {**selected.line, "latest": selected.latest}
        self.rows.append({name: convert(line.get(name)) for name, convert in self.convert})
        self.size += len(selected.raw)
        if len(self.rows) >= BATCH_ROWS or self.size >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_batch(self.pa.RecordBatch.from_pylist(self.rows, schema=self.schema))
            self.rows, self.size = [], 0

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.writer.close()


def export(jsonls: dict[str, Path], target: Path | None, fmt: str, *, versions: bool = False,
           since: datetime | None = None, stdout: BinaryIO | None = None) -> Counts:
    """Write the archive of each spider (``{spider: its articles.jsonl}``, in that order) to
    ``target`` in ``fmt`` (``parquet`` or ``jsonl``); ``target`` ``None`` writes JSON lines
    to ``stdout``. The file is written under a temporary name (``.tmp-<pid>-<name>``) in its
    folder and renamed into place when whole: a failed or killed export leaves no file at
    the final name. Raises ImportError (no pyarrow) before anything is read, and OSError."""
    if fmt == "parquet":
        import pyarrow  # noqa: F401  # missing: said before any work
    counts = Counts()
    metadata = {"spiders": list(jsonls), "versions": versions,
                "since": since.isoformat() if since else None}
    with tempfile.TemporaryDirectory(prefix="newscrawl-export-") as tmp:
        scratch = sqlite3.connect(Path(tmp) / "latest.sqlite3")
        scratch.execute("PRAGMA journal_mode=OFF")
        scratch.execute("PRAGMA synchronous=OFF")
        temporary = target.parent / f"{TMP_PREFIX}{os.getpid()}-{target.name}" if target else None
        try:
            with contextlib.ExitStack() as stack:
                sink: JsonlSink | ParquetSink
                if target is None:
                    sink = JsonlSink(stdout if stdout is not None else sys.stdout.buffer)
                else:
                    assert temporary is not None
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if fmt == "parquet":
                        sink = ParquetSink(temporary, metadata)
                    else:
                        sink = JsonlSink(stack.enter_context(open(temporary, "wb")))
                try:
                    for site, jsonl in jsonls.items():
                        for selected in select(jsonl, site, scratch, counts, versions=versions, since=since):
                            sink.add(selected)
                finally:
                    sink.close()
            if temporary is not None and target is not None:
                os.replace(temporary, target)
        finally:
            scratch.close()
            if temporary is not None:
                temporary.unlink(missing_ok=True)
    return counts
