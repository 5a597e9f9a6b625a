"""Files written so that a killed crawl never leaves half a file or a stray temporary file.

Every file gets the permissions an ordinary ``open()`` would give under the process's umask
(``0666 & ~umask``: usually 0644), so a web server or Jekyll running as another user can
read the archive. With ``durable=True`` data is also fsync'ed (a power cut, not only a
killed process, then keeps what was written); the archive turns it on with
``NEWSCRAWL_FSYNC``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from pathlib import Path

#: Prefix of the temporary files :func:`write_atomic` renames into place; a file with it
#: is left only by a process killed mid-write, and the next run removes it.
TMP_PREFIX = ".tmp-"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open()`` would create a file with under the current umask."""
    return 0o666 & ~_umask()


def write_atomic(path: Path, text: str, *, durable: bool = False) -> None:
    """Write via a temporary file in the same directory and rename: never a half file.

    The rename is atomic for every other process, so a killed crawl leaves the old file or
    the new one (and at worst a ``.tmp-*`` file, see :func:`remove_temporary_files`). Any
    failure (disk full, read-only, permissions) raises ``OSError`` and leaves no temporary file.
    """
    write_atomic_chunks(path, [text.encode("utf-8")], durable=durable)


def write_atomic_chunks(path: Path, chunks: Iterable[bytes], *, durable: bool = False,
                        temp_dir: Path | None = None) -> None:
    """:func:`write_atomic` of a file given as a stream of byte strings (never all held at
    once). An exception from ``chunks`` leaves no temporary file either. The temporary file
    is made in ``temp_dir`` (on the same file system) when given, else beside ``path``."""
    fd, tmp = _temporary_file(temp_dir or path.parent)

    def write(data: bytes | bytearray) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    try:
        try:
            pending = bytearray()
            for chunk in chunks:  # gathered to 64 KiB a write: a CDXJ comes a line at a time
                if not pending and len(chunk) >= WRITE_SIZE:
                    write(chunk)
                    continue
                pending += chunk
                if len(pending) >= WRITE_SIZE:
                    write(pending)
                    pending.clear()
            write(pending)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if durable:
            fsync_directory(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_temporary_names = itertools.count()
#: bytes gathered before a write by :func:`write_atomic_chunks`
WRITE_SIZE = 1 << 16


def _temporary_file(directory: Path) -> tuple[int, str]:
    """A new file ``.tmp-<pid>-<n>`` in ``directory`` (made if missing), created exclusively
    and with the mode ``open()`` gives (:func:`file_mode`); its descriptor and path."""
    while True:
        name = os.path.join(directory, f"{TMP_PREFIX}{os.getpid()}-{next(_temporary_names)}")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), name
        except FileExistsError:  # left by a killed process that had this pid
            continue
        except FileNotFoundError:
            directory.mkdir(parents=True, exist_ok=True)
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), name


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temporary_files(directory: Path) -> list[Path]:
    """Remove the temporary files a killed writer left in ``directory`` (only call this
    while holding the lock of the run that writes there)."""
    if not directory.is_dir():
        return []
    left = [p for p in directory.iterdir() if p.name.startswith(TMP_PREFIX) and p.is_file()]
    for path in left:
        path.unlink(missing_ok=True)
    return left


class AppendOnlyLines:
    """A file of lines that only grows by whole lines, one writer at a time.

    :meth:`append` writes one line at the end and returns the offset it started at; on any
    failure the file is cut back to that offset, so no half line survives. A file whose last
    line has no newline (a writer killed mid-line) is cut back to its last whole line on open;
    :meth:`holds` tells whether a line was written whole at a given offset.
    """

    def __init__(self, path: Path, *, durable: bool = False):
        self.path = path
        self.durable = durable
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, file_mode())
        self.fh = os.fdopen(fd, "r+b", buffering=0)
        self.repaired_bytes = self._cut_partial_tail()

    def _cut_partial_tail(self) -> int:
        size = self.size()
        if size == 0:
            return 0
        # find the last newline, reading backwards in blocks
        end = size
        while end > 0:
            start = max(0, end - 65536)
            self.fh.seek(start)
            block = self.fh.read(end - start)
            if end == size and block.endswith(b"\n"):
                return 0
            newline = block.rfind(b"\n")
            if newline >= 0:
                self.truncate(start + newline + 1)
                return size - (start + newline + 1)
            end = start
        self.truncate(0)
        return size

    def size(self) -> int:
        return os.fstat(self.fh.fileno()).st_size

    def holds(self, offset: int, line: str) -> bool:
        """Whether ``line`` (whole, with its newline) is in the file at ``offset``."""
        data = line.rstrip("\n").encode("utf-8") + b"\n"
        if self.size() < offset + len(data):
            return False
        return os.pread(self.fh.fileno(), len(data), offset) == data

    def line_at(self, offset: int) -> str | None:
        """The line that starts at ``offset`` (without its newline), or ``None``."""
        size = self.size()
        if offset >= size:
            return None
        chunks, position = [], offset
        while position < size:
            block = os.pread(self.fh.fileno(), 65536, position)
            end = block.find(b"\n")
            if end >= 0:
                chunks.append(block[:end])
                break
            chunks.append(block)
            position += len(block)
        return b"".join(chunks).decode("utf-8", errors="replace")

    def append(self, line: str) -> int:
        """Append ``line`` (one line: it must hold no newline) at the end; returns its offset."""
        data = line.rstrip("\n").encode("utf-8") + b"\n"
        offset = self.size()
        try:
            written = 0
            while written < len(data):
                written += os.write(self.fh.fileno(), data[written:])
            if self.durable:
                os.fsync(self.fh.fileno())
        except BaseException:
            self.truncate(offset)
            raise
        return offset

    def truncate(self, offset: int) -> None:
        if self.size() > offset:
            os.ftruncate(self.fh.fileno(), offset)

    def close(self) -> None:
        self.fh.close()
