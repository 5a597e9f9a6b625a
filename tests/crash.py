"""Test-only: kill a crawl (SIGKILL) at a named point of a write, as a power cut or an OOM kill
would; the crash-consistency tests (tests/test_archive.py, tests/test_warc.py) use it.

A crawl to kill runs with ``SCRAPY_SETTINGS_MODULE=tests.crash`` (see :func:`crash_env`): the
project's settings plus :class:`CrashAt`, an extension that wraps the write steps of the
archive (:class:`~newscrawl.archive.Archive`, its state and JSON lines) and of the WARC
recorder in that process and kills it the n-th time one reaches the point the environment
names:

* ``NEWSCRAWL_CRASH_AT=<point>[:<n>]`` — one of :data:`CRASH_POINTS` (n: 1 unless given);
* ``NEWSCRAWL_WARC_CRASH_AT=<n>`` — after writing half of the n-th capture (its gzip members
  cut in the middle).

Production code keeps only the named steps wrapped here; it reads no crash setting.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from functools import wraps
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl import archive, files, state, warc
from newscrawl import settings as _project
from newscrawl.settings import *  # noqa: F403  (this module is a crawl's settings module too)

EXTENSIONS = {**_project.EXTENSIONS, "tests.crash.CrashAt": 1}

CRASH_ENV = "NEWSCRAWL_CRASH_AT"
WARC_CRASH_ENV = "NEWSCRAWL_WARC_CRASH_AT"
#: the points of an archive write (newscrawl/archive.py's module docstring) and of keeping a picture
CRASH_POINTS = ("journaled", "post_temp", "post_written", "line_half", "line_written", "committed",
                "picture_temp", "picture_written")


def crash_env(crash: str | None = None, warc_after: int | None = None) -> dict[str, str]:
    """The environment of a crawl to kill at ``crash`` (``<point>[:<n>]``) or after half of
    the ``warc_after``-th capture; without either, of a crawl left alone."""
    env = {k: v for k, v in os.environ.items() if k not in (CRASH_ENV, WARC_CRASH_ENV)}
    if crash or warc_after:
        env["SCRAPY_SETTINGS_MODULE"] = "tests.crash"
    if crash:
        env[CRASH_ENV] = crash
    if warc_after:
        env[WARC_CRASH_ENV] = str(warc_after)
    return env


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class CrashAt:
    """Kills the crawl at the point the environment names (see the module docstring)."""

    def __init__(self, point: str | None, count: int, warc_after: int):
        self.point = point
        self.count = count
        self.warc_after = warc_after
        self.captures = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrashAt:
        value = os.environ.get(CRASH_ENV, "")
        point, _, count = value.partition(":")
        if point and point not in CRASH_POINTS:
            raise ValueError(f"{CRASH_ENV}: unknown point {point!r} (one of {', '.join(CRASH_POINTS)})")
        warc_after = int(os.environ.get(WARC_CRASH_ENV) or 0)
        if not point and not warc_after:
            raise NotConfigured
        extension = cls(point or None, int(count or 1), warc_after)
        extension.install()
        return extension

    def reached(self, point: str) -> bool:
        """Whether this is the moment to crash at ``point``."""
        if self.point != point:
            return False
        self.count -= 1
        return self.count == 0

    def install(self) -> None:
        """Wrap the write steps of this process's archive and WARC recorder."""
        crash = self

        def after(cls: Any, name: str, point: str) -> None:
            original: Callable[..., Any] = getattr(cls, name)

            @wraps(original)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                result = original(*args, **kwargs)
                if crash.reached(point):
                    _kill()
                return result

            setattr(cls, name, wrapper)

        after(state.ArticleStore, "begin_write", "journaled")
        after(archive.Archive, "_write_line", "line_written")
        after(state.ArticleStore, "finish_write", "committed")

        write_post = archive.Archive._write_post

        def _write_post(self: archive.Archive, pending: state.PendingWrite) -> None:
            if crash.reached("post_temp"):  # killed while the temporary file is half written
                temp = (self.posts_dir() / pending.post_path).parent / f".tmp-crash-{pending.id}"
                temp.write_text(pending.post_text[:100], encoding="utf-8")
                _kill()
            write_post(self, pending)
            if crash.reached("post_written"):
                _kill()

        archive.Archive._write_post = _write_post  # type: ignore[method-assign]

        append = files.AppendOnlyLines.append

        def append_line(self: files.AppendOnlyLines, line: str) -> int:
            if crash.reached("line_half"):  # killed halfway through the line
                data = line.encode("utf-8")
                os.write(self.fh.fileno(), data[: len(data) // 2])
                _kill()
            return append(self, line)

        files.AppendOnlyLines.append = append_line  # type: ignore[method-assign]

        store_picture = archive.store_picture

        def keep(site_dir: Any, url: str, data: bytes, media_type: str, **kwargs: Any) -> Any:
            if crash.reached("picture_temp"):  # killed while the temporary file is half written
                folder = site_dir / archive.PICTURES_DIR
                folder.mkdir(parents=True, exist_ok=True)
                (folder / ".tmp-crash-picture").write_bytes(data[: len(data) // 2])
                _kill()
            kept = store_picture(site_dir, url, data, media_type, **kwargs)
            if crash.reached("picture_written"):
                _kill()
            return kept

        archive.store_picture = keep  # type: ignore[assignment]

        append_records = warc.WarcRecorder._append

        def append_capture(self: warc.WarcRecorder, members: list[bytes],
                           captures: list[warc.Capture]) -> None:
            if captures:
                crash.captures += 1
                if crash.captures == crash.warc_after:
                    os.write(self.fh.fileno(), b"".join(members)[: len(members[0]) // 2])
                    _kill()
            append_records(self, members, captures)

        warc.WarcRecorder._append = append_capture  # type: ignore[method-assign]
