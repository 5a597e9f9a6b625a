"""The files of ``-o``/``-O`` (Scrapy's ``FEEDS``): written whole item by whole item.

Scrapy's file storage writes through a buffer: a disk that fills mid-crawl cuts the file in
the middle of a line, and the error is a traceback in a signal handler while the run still
exits 0. Here each exported chunk (one JSON line, one CSV row) is written at once, unbuffered;
a write that fails is cut back to the end of the last whole chunk, the feed takes no more
items, one ERROR line names it, and the run fails (``newscrawl/feeds/failed``, judged in
:mod:`newscrawl.outcome`). A target that cannot be written at all is refused before the
crawl (:func:`newscrawl.arguments.check_feed_targets`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Self, cast

from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FileFeedStorage

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

logger = logging.getLogger(__name__)

#: The stat a feed that could not be written counts in (the run fails: newscrawl/outcome.py).
FAILED_STAT = "newscrawl/feeds/failed"


class WholeChunkFile(io.RawIOBase):
    """A file opened for writing whose every ``write`` lands whole or not at all: a failed
    write is cut back (``ftruncate``) to the end of the last whole one, and later writes are
    dropped. ``failed`` is called once, with the error."""

    def __init__(self, path: Path, overwrite: bool, failed: Any) -> None:
        super().__init__()
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_APPEND)
        self._fd = os.open(path, flags, 0o666)
        self._end = os.lseek(self._fd, 0, os.SEEK_END)  # where the last whole write ends
        self._failed = failed
        self.error: OSError | None = None
        self.name = str(path)

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: ReadableBuffer) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        if self.error is not None:
            return size  # the feed has failed: it takes no more
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._end)  # no half line
            self.error = exc
            self._failed(exc)
            return size
        self._end += size
        return size

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class FeedFileStorage(FileFeedStorage):
    """Scrapy's file storage (``-o``/``-O`` to a path or ``file://``), writing through a
    :class:`WholeChunkFile`."""

    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None,
                 crawler: Crawler | None = None) -> None:
        super().__init__(uri, feed_options=feed_options)
        self.crawler = crawler
        self.uri = uri

    @classmethod
    def from_crawler(cls, crawler: Crawler, uri: str, *, feed_options: dict[str, Any] | None = None) -> Self:
        return cls(uri, feed_options=feed_options, crawler=crawler)

    def open(self, spider: Any) -> IO[bytes]:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cast(IO[bytes], WholeChunkFile(path, self.write_mode == "wb", self._failed))

    def _failed(self, exc: OSError) -> None:
        logger.error("The -o/-O feed %s could not be written (%s): it keeps the whole lines written"
                     " before, takes no more, and the run fails", self.path, exc.strerror or exc)
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(FAILED_STAT)
