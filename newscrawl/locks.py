"""One run per spider at a time: an advisory file lock with the holder's PID in it.

``<NEWSCRAWL_STATE_DIR>/locks/<spider>.lock`` is held with ``flock`` for the whole crawl
(by :class:`newscrawl.archive.Archive`, which owns the spider's outputs).
The kernel releases it when the process dies, so a lock file left by a dead process is
simply taken over (and said so); a live holder makes the new run stop at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)


class Locked(Exception):
    """Another live process is running this spider."""


class SpiderLock:
    def __init__(self, path: Path):
        self.path = path
        self._file: IO[str] | None = None

    @classmethod
    def of(cls, state_folder: Path, spider: str) -> SpiderLock:
        """The lock of ``spider`` in a state folder: ``<state folder>/locks/<spider>.lock``."""
        return cls(state_folder / "locks" / f"{spider}.lock")

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the crawl
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise Locked(f"{self.path.stem} is already running (pid {holder}; lock {self.path})") from None
        fh.seek(0)
        previous = fh.read().strip()
        if previous and previous != str(os.getpid()):
            logger.warning("Taking over the stale lock %s of pid %s (no longer running)", self.path, previous)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._file = fh

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
