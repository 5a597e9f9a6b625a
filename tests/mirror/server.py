"""A local HTTP server that plays the real sites back from a bundled mirror.

A mirror directory holds ``manifest.json``: real URL (raw, un-percent-encoded path, no
query) → route (a file with its content type, a redirect, or an error status, optionally
after a ``delay`` in seconds). A route may also be ``throttle``d: ``{"status": 429,
"times": 1, "retry_after": 2}`` answers its first ``times`` requests with that status and a
``Retry-After`` header (seconds; an HTTP date that many seconds ahead with ``"date": true``;
a string is sent as it is), then serves the route. ``MirrorServer(delay=0.1)`` (``--delay``)
holds every response that long, like a real site's latency. A file route may be sent
``"content_encoding": "gzip"`` (compressed, with that header) and/or ``"chunked": true``
(``Transfer-Encoding: chunked``), as real servers do, and ``"set_cookie": "name=value"``
(a ``Set-Cookie`` header; ``server.cookies`` keeps the ``Cookie`` header of every request,
``server.referers`` its ``Referer``).
A picture route may carry a ``tag`` (appended after the picture's end: bytes of its own for
each URL from a few base pictures) and ``pad_to`` (bytes appended up to that size: a
16 MB picture without a 16 MB file in the repository; pseudo-random bytes, which compress no
better than a real picture's); see ``build_pictures.py``.

Article pages as unkind as real ones: with ``server.day`` set (a simulated day, e.g. the
crawl's ``NEWSCRAWL_CLOCK`` date), every article page (:data:`ARTICLE_PAGE`) is served with a
sidebar of that day — "热门新闻" and related links that change daily (:func:`with_sidebar`) —
so its bytes and ETag change every day although the article does not, as on the real sites;
unset (``None``, the default), pages are served as they are.

The server listens on 127.0.0.1 and is reached in two ways:

* as an **HTTP proxy** for the real URLs — how crawls reach it (``NEWSCRAWL_MIRROR`` makes
  every request, Scrapy's and the browser's, go through it as through any proxy, see
  :class:`newscrawl.middlewares.MirrorProxyMiddleware`): ``GET http://host/path`` for http,
  and ``CONNECT host:443`` then TLS (a self-signed certificate made at start) for https, so
  requests, redirects, robots.txt, latencies and connection reuse are those of the real sites;
* directly, ``GET /<scheme>/<host><path>?<query>`` for ``<scheme>://<host><path>`` (to look
  at a page by hand); redirects then point inside the mirror.

Run it by hand with ``python -m tests.mirror.server [--port 8765] [--delay S] [DIR ...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import hashlib
import json
import re
import socketserver
import ssl
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

MIRROR_ROOT = Path(__file__).resolve().parent
DEFAULT_SITES = ("dw", "epochtimes")
#: The Epoch Times mirror's second day: an overlay of new and changed pages.
DAY_TWO = ("dw", "epochtimes", "epochtimes-day2")
#: The pictures the pages of both sites show (tests/mirror/build_pictures.py): served by every
#: MirrorServer under whatever other directories it is given, unless told otherwise.
PICTURES = MIRROR_ROOT / "pictures"
MAX_DELAY = 15.0
#: hosts the certificate names (clients of the mirror do not verify it; a browser is told so)
CERT_HOSTS = ("www.dw.com", "rss.dw.com", "static.dw.com", "www.epochtimes.com", "i.epochtimes.com",
              "img.theepochtimes.com", "localhost")

_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The server side of the mirror's TLS: a self-signed certificate made once per process."""
    global _tls
    with _tls_lock:
        if _tls is None:
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.x509.oid import NameOID

            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newscrawl test mirror")])
            now = datetime.datetime.now(datetime.UTC)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(days=1))
                    .not_valid_after(now + datetime.timedelta(days=30))
                    .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in CERT_HOSTS]),
                                   critical=False)
                    .sign(key, hashes.SHA256()))
            with tempfile.TemporaryDirectory() as tmp:
                pem = Path(tmp) / "mirror.pem"
                pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption())
                                + cert.public_bytes(serialization.Encoding.PEM))
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(pem)
            _tls = context
        return _tls


#: The URLs of article pages (DW's ``/a-``, ``/g-`` pages, The Epoch Times' ``/nNNN.htm``):
#: the pages that get a sidebar of the day.
ARTICLE_PAGE = re.compile(r"/[ag]-\d+$|/n\d+\.htm$")
#: Headlines of the sidebars (invented): each day shows another six, in another order.
SIDEBAR_HEADLINES = (
    "多地气温创新高 电网负荷持续攀升", "港口吞吐量回升 航运业谨慎乐观", "新学期教材改版引发家长讨论",
    "城市更新计划公布 老旧小区改造提速", "跨境电商新规上路 中小卖家调整策略", "高铁票价浮动试点扩大",
    "山区小学迎来首批支教老师", "研究称久坐办公增加心血管风险", "新能源车下乡活动启动",
    "夜间经济升温 商圈延长营业时间", "博物馆预约一票难求 专家吁增加名额", "暴雨预警发布 多趟列车停运",
)


def with_sidebar(body: bytes, url: str, day: int) -> bytes:
    """An article page with the sidebar of ``day``: six "热门新闻" that change daily, and the
    day's update stamp; in The Epoch Times' own sidebar list where the page has one, else
    in an ``<aside>`` before the footer (DW's "最多阅读" place) or the end of the body. Links
    point to other (invented) article URLs of the same site, as real sidebars do."""
    n = len(SIDEBAR_HEADLINES)
    picks = [(day * 5 + k * 7) % n for k in range(6)]
    host = urlsplit(url).netloc
    if "epochtimes" in host:
        links = [f"https://{host}/gb/23/2/{1 + i}/n1390{day % 100:02d}{i:02d}.htm" for i in picks]
    else:
        links = [f"https://{host}/zh/{SIDEBAR_HEADLINES[i]}/a-6{day % 1000:03d}{i:04d}" for i in picks]
    items = "".join(f'<li><a href="{link}">{SIDEBAR_HEADLINES[i]}</a></li>'
                    for i, link in zip(picks, links, strict=True))
    stamp = f"<p class=\"widget_stamp\">更新于第{day}天</p>"
    text = body.decode("utf-8", "surrogateescape")  # (a page in another charset keeps its bytes)
    hot = re.search(r'(<ol class="hot_list">).*?(</ol>)', text, re.S)
    if hot:
        text = f"{text[:hot.start()]}{hot.group(1)}{items}{hot.group(2)}{stamp}{text[hot.end():]}"
    else:
        aside = (f'<aside class="most-read" data-tracking-name="sidebar-most-read"><h2>热门新闻</h2>'
                 f"<ol>{items}</ol>{stamp}</aside>")
        where = text.find('<footer')
        where = where if where >= 0 else text.rfind("</body>")
        text = text[:where] + aside + text[where:] if where >= 0 else text + aside
    return text.encode("utf-8", "surrogateescape")


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

    #: ``host`` of the CONNECT tunnel this connection carries (https through the proxy)
    tunnel: str | None = None

    def do_CONNECT(self) -> None:
        """Open a TLS tunnel to ``host:443``: the requests inside it are for ``https://host``."""
        host, _, port = self.path.rpartition(":")
        if not host or port != "443":
            return self._send(400, b"<html><body><h1>400</h1></body></html>")
        self.send_response(200, "Connection established")
        self.end_headers()
        try:
            tls = tls_context().wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.close_connection = False  # whatever the CONNECT's HTTP version: the tunnel stays
        self.connection, self.tunnel = tls, host.lower()
        self.rfile = tls.makefile("rb", self.rbufsize)
        self.wfile = socketserver._SocketWriter(tls)

    def _real_url(self) -> tuple[str, bool]:
        """The real URL asked for, and whether it came as a proxy request."""
        if self.tunnel:
            return f"https://{self.tunnel}{self.path}", True
        if self.path.startswith(("http://", "https://")):  # http through the proxy
            return self.path, True
        scheme, _, rest = self.path.lstrip("/").partition("/")
        return f"{scheme}://{rest}", False

    def do_GET(self) -> None:
        self.now = time.time()  # this request's time, also in its Date header
        url, proxied = self._real_url()
        key = Mirror.key(url)
        self.server.hits[key] += 1
        self.server.times[key].append(self.now)
        self.server.cookies[key].append(self.headers.get("Cookie"))
        self.server.referers[key].append(self.headers.get("Referer"))
        if self.server.delay:  # every response, like a real site's latency
            time.sleep(self.server.delay)
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
            if proxied:  # as the real site sends it
                return self._send(status, b"", {"Location": route["location"]})
            # asked for directly: the target inside the mirror
            target = urlsplit(route["location"])
            query = f"?{target.query}" if target.query else ""
            inside = f"/{target.scheme}/{target.netloc}{target.path}{query}"
            return self._send(status, b"", {"Location": inside})
        if "file" in route:
            body = (directory / route["file"]).read_bytes()
            if route.get("tag"):
                body += b"\nnewscrawl-mirror " + route["tag"].encode()
            if route.get("pad_to"):  # incompressible, as a real picture's bytes are
                body += hashlib.shake_256(body).digest(max(0, int(route["pad_to"]) - len(body)))
            day = self.server.day
            if day is not None and status == 200 and ARTICLE_PAGE.search(urlsplit(url).path):
                body = with_sidebar(body, url, day)  # the day's sidebar: new bytes, the same article
            headers = {"Content-Type": route.get("content_type", "text/html")}
            if route.get("set_cookie"):
                headers["Set-Cookie"] = route["set_cookie"]
            if status == 200 and not route.get("no_validators"):
                # validators as a real site sends them: a conditional request for the same
                # bytes is answered 304 Not Modified, without a body
                etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
                headers["ETag"] = etag
                if route.get("last_modified"):
                    headers["Last-Modified"] = route["last_modified"]
                if self._not_modified(etag, route.get("last_modified")):
                    self.server.not_modified[key] += 1
                    return self._send(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"})
            if route.get("content_encoding") == "gzip":
                body = gzip.compress(body, mtime=0)
                headers["Content-Encoding"] = "gzip"
            return self._send(status, body, headers, chunked=bool(route.get("chunked")))
        return self._send(status, f"<html><body><h1>{status}</h1></body></html>".encode())

    def _not_modified(self, etag: str, last_modified: str | None) -> bool:
        """Whether the request's validators match (RFC 9110 13.2.2): ``If-None-Match`` when
        sent (the ETag of the bytes it would get), else ``If-Modified-Since`` against the
        route's ``last_modified`` (a route without one is never "not modified" by date)."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return if_none_match == etag
        since = self.headers.get("If-Modified-Since")
        if since and last_modified:
            with contextlib.suppress(TypeError, ValueError):
                return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
        return False

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
        try:
            self.wfile.write(body)
        except (ConnectionError, ssl.SSLError):  # the client stopped reading (e.g. too large)
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class MirrorServer(ThreadingHTTPServer):
    """``with MirrorServer(dirs) as server: ... server.base_url`` — serves in a thread."""

    daemon_threads = True
    #: the listen backlog: a crawl opens up to CONCURRENT_REQUESTS connections at once, and
    #: the socketserver default of 5 overflows (a dropped SYN costs the client a 1 s retry)
    request_queue_size = 128

    def __init__(self, dirs: Iterable[Path] | None = None, port: int = 0, delay: float = 0.0,
                 pictures: bool = True):
        super().__init__(("127.0.0.1", port), _Handler)
        #: whether the bundled pictures are served too (below the given directories)
        self.pictures = pictures
        self.mirror = self._mirror(dirs or default_dirs())
        #: seconds every response is held before it is sent (a real site's latency)
        self.delay = min(float(delay), MAX_DELAY)
        #: the simulated day whose sidebar article pages show (None: pages as they are)
        self.day: int | None = None
        self.hits: Counter[str] = Counter()
        #: requests answered 304 Not Modified, by URL
        self.not_modified: Counter[str] = Counter()
        #: real URL → the times (``time.time()``) it was requested, in order
        self.times: defaultdict[str, list[float]] = defaultdict(list)
        #: real URL → the ``Cookie`` header of each request for it (None: none sent), in order
        self.cookies: defaultdict[str, list[str | None]] = defaultdict(list)
        self.referers: defaultdict[str, list[str | None]] = defaultdict(list)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def _mirror(self, dirs: Iterable[Path]) -> Mirror:
        return Mirror([PICTURES, *dirs] if self.pictures else dirs)

    def load(self, dirs: Iterable[Path]) -> None:
        """Serve other directories from now on (a site that changed between two crawls)."""
        self.mirror = self._mirror(dirs)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection (a crawl killed or finished mid-request) is no
        error of the mirror: no traceback in the test run's output; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

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
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds every response is held, like a real site's latency (default 0)")
    args = parser.parse_args(argv)
    server = MirrorServer(args.dirs or None, args.port, args.delay)
    print(f"serving the mirror at {server.base_url} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
