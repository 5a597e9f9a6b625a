"""A local HTTP server that plays the real sites back from a bundled mirror.

A mirror directory holds ``manifest.json``: real URL (raw, un-percent-encoded path, no
query) → route (a file with its content type, a redirect, or an error status, optionally
after a ``delay`` in seconds). A route may also be ``throttle``d: ``{"status": 429,
"times": 1, "retry_after": 2}`` answers its first ``times`` requests with that status and a
``Retry-After`` header (seconds; an HTTP date that many seconds ahead with ``"date": true``;
a string is sent as it is), then serves the route. A file route may be sent
``"content_encoding": "gzip"`` (compressed, with that header) and/or ``"chunked": true``
(``Transfer-Encoding: chunked``), as real servers do. Redirects point inside the mirror, as a reverse proxy's
would, so that a browser rendering a page stays on 127.0.0.1. The server
listens on 127.0.0.1 and answers ``GET /<scheme>/<host><path>?<query>`` for the real URL
``<scheme>://<host><path>``; :class:`newscrawl.transport.DownloadHandler` sends
Scrapy's requests there, so spiders, robots.txt, redirects and retries all see the real URLs.

Run it by hand with ``python -m tests.mirror.server [--port 8765] [DIR ...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

MIRROR_ROOT = Path(__file__).resolve().parent
DEFAULT_SITES = ("dw", "epochtimes")
#: The Epoch Times mirror's second day: an overlay of new and changed pages.
DAY_TWO = ("dw", "epochtimes", "epochtimes-day2")
MAX_DELAY = 15.0


def default_dirs(names: tuple[str, ...] = DEFAULT_SITES) -> list[Path]:
    return [MIRROR_ROOT / name for name in names]


class Mirror:
    """The routes of one or more mirror directories (later directories win)."""

    def __init__(self, dirs: Iterable[Path]):
        self.routes: dict[str, tuple[Path, dict]] = {}
        for directory in dirs:
            manifest = json.loads((Path(directory) / "manifest.json").read_text(encoding="utf-8"))
            for url, route in manifest.items():
                self.routes[self.key(url)] = (Path(directory), route)

    @staticmethod
    def key(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.lower()}{unquote(parts.path)}"

    def lookup(self, url: str) -> tuple[Path, dict] | None:
        return self.routes.get(self.key(url))


class _Handler(BaseHTTPRequestHandler):
    server: MirrorServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.now = time.time()  # this request's time, also in its Date header
        scheme, _, rest = self.path.lstrip("/").partition("/")
        url = f"{scheme}://{rest}"
        key = Mirror.key(url)
        self.server.hits[key] += 1
        self.server.times[key].append(self.now)
        found = self.server.mirror.lookup(url)
        if found is None:
            return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>")
        directory, route = found
        throttle = route.get("throttle")
        if throttle and self.server.hits[key] <= int(throttle.get("times", 1)):
            return self._throttled(throttle)
        if route.get("delay"):  # a slow server, for timeouts (bounded: tests must end)
            time.sleep(min(float(route["delay"]), MAX_DELAY))
        status = int(route.get("status", 200))
        if "location" in route:
            # like a reverse proxy: the target inside the mirror (the transport maps it back)
            target = urlsplit(route["location"])
            query = f"?{target.query}" if target.query else ""
            inside = f"/{target.scheme}/{target.netloc}{target.path}{query}"
            return self._send(status, b"", {"Location": inside})
        if "file" in route:
            body = (directory / route["file"]).read_bytes()
            headers = {"Content-Type": route.get("content_type", "text/html")}
            if route.get("content_encoding") == "gzip":
                body = gzip.compress(body, mtime=0)
                headers["Content-Encoding"] = "gzip"
            return self._send(status, body, headers, chunked=bool(route.get("chunked")))
        return self._send(status, f"<html><body><h1>{status}</h1></body></html>".encode())

    def _throttled(self, throttle: dict) -> None:
        """429/503 with a Retry-After header (in seconds, or as an HTTP date)."""
        status = int(throttle.get("status", 503))
        value = throttle.get("retry_after")
        headers = {}
        if isinstance(value, str):
            headers["Retry-After"] = value
        elif value is not None and throttle.get("date"):
            headers["Retry-After"] = formatdate(int(self.now) + float(value), usegmt=True)
        elif value is not None:
            headers["Retry-After"] = str(value)
        return self._send(status, f"<html><body><h1>{status}</h1></body></html>".encode(), headers)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header: the time the request came in (a Retry-After date is relative to it)."""
        now = getattr(self, "now", None)  # not set when the request line was unreadable
        return super().date_time_string(now if timestamp is None else timestamp)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              chunked: bool = False) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 4096):
                piece = body[start:start + 4096]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class MirrorServer(ThreadingHTTPServer):
    """``with MirrorServer(dirs) as server: ... server.base_url`` — serves in a thread."""

    daemon_threads = True

    def __init__(self, dirs: Iterable[Path] | None = None, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.mirror = Mirror(dirs or default_dirs())
        self.hits: Counter[str] = Counter()
        #: real URL → the times (``time.time()``) it was requested, in order
        self.times: defaultdict[str, list[float]] = defaultdict(list)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def load(self, dirs: Iterable[Path]) -> None:
        """Serve other directories from now on (a site that changed between two crawls)."""
        self.mirror = Mirror(dirs)

    def start(self) -> MirrorServer:
        self._thread = threading.Thread(target=self.serve_forever, name="mirror", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="mirror directories (default: all bundled)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    server = MirrorServer(args.dirs or None, args.port)
    print(f"serving the mirror at {server.base_url} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
