"""A built site served on 127.0.0.1 and read in headless chromium with the network cut off
(Debian's chromium through playwright): what the site and search tests share."""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("NEWSCRAWL_CHROMIUM_PATH") or "/usr/bin/chromium")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    """A browser that closes a connection it no longer needs is no error of the site: no
    traceback for it in the test run's output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def served(site: Path) -> Iterator[str]:
    """``site`` over HTTP on 127.0.0.1 (its links are site-absolute: /dw/…/); its base URL."""
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextmanager
def offline_page(allowed: str, off_site: list[str] | None = None) -> Iterator[Any]:
    """A page in headless chromium on which every request not starting with ``allowed`` is
    aborted (and noted in ``off_site``)."""
    from playwright.sync_api import sync_playwright

    from newscrawl.rendering import CHROMIUM_ARGS

    noted = off_site if off_site is not None else []
    route: Callable[[Any], None] = lambda r: r.continue_() if r.request.url.startswith(allowed) \
        else (noted.append(r.request.url), r.abort())  # noqa: E731
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = chromium.new_page()
        page.route("**/*", route)
        try:
            yield page
        finally:
            chromium.close()
