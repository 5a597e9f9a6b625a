"""Reading back the WARC files a crawl wrote, with warcio only (not the project's reader)."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


@dataclass
class Record:
    type: str
    headers: dict[str, str]  # WARC headers (the last value of a repeated one)
    http: list[tuple[str, str]] | None
    status: int | None
    payload: bytes  # as stored: not content-decoded
    offset: int
    digest_ok: bool | None

    @property
    def url(self) -> str:
        return self.headers.get("WARC-Target-URI", "")

    def http_header(self, name: str) -> str | None:
        for key, value in self.http or []:
            if key.lower() == name.lower():
                return value
        return None


def warc_files(out: Path, spider: str) -> list[Path]:
    return sorted((out / spider / "warc").glob("*.warc.gz"))


def read_warc(path: Path) -> list[Record]:
    """Every record of a WARC file, read by warcio with its digests checked."""
    records = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh, check_digests=True)
        for record in it:
            payload = record.raw_stream.read()
            record.raw_stream.read()  # to the end: the digest checker has seen it all
            http = record.http_headers
            records.append(Record(
                type=record.rec_type, headers=dict(record.rec_headers.headers),
                http=list(http.headers) if http else None,
                status=int(http.get_statuscode()) if http and record.rec_type != "request" else None,
                payload=payload, offset=it.get_record_offset(), digest_ok=record.digest_checker.passed))
    return records


def gzip_members(path: Path) -> int:
    """How many complete gzip members the file holds (the torn one at the end not counted)."""
    data = path.read_bytes()
    count = 0
    while data:
        d = zlib.decompressobj(zlib.MAX_WBITS + 16)
        try:
            d.decompress(data)
        except zlib.error:
            break
        if not d.eof:
            break
        count += 1
        data = d.unused_data
    return count


def cdxj(path: Path) -> list[tuple[str, str, dict]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(key, ts, json.loads(rest)) for key, ts, rest in (line.split(" ", 2) for line in lines)]
