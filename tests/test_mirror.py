"""The demo mirror: generated from its content files, served like the real sites."""

from __future__ import annotations

import contextlib
import filecmp
import http.client
import ssl
import time
import urllib.error
import urllib.request

import pytest

from tests.mirror import build_dw, build_epochtimes
from tests.mirror.server import MIRROR_ROOT, MirrorServer, default_dirs


def mirror_url(base: str, url: str) -> str:
    """A page of the mirror asked for directly (not as a proxy)."""
    return f"{base}/{url.replace('://', '/', 1)}"


def real_url(base: str, location: str) -> str:
    scheme, _, rest = location.lstrip("/").partition("/")
    return f"{scheme}://{rest}"


def test_the_committed_mirror_is_what_the_generators_make(tmp_path):
    build_dw.build(tmp_path / "dw")
    build_epochtimes.build(tmp_path)
    for name in ("dw", "epochtimes", "epochtimes-day2"):
        compare = filecmp.dircmp(tmp_path / name, MIRROR_ROOT / name)
        stack = [compare]
        while stack:
            c = stack.pop()
            assert not (c.left_only or c.right_only or c.diff_files), (name, c.left_only, c.right_only,
                                                                        c.diff_files)
            stack.extend(c.subdirs.values())


def test_the_server_answers_files_redirects_and_errors():
    with MirrorServer(default_dirs()) as server:
        base = server.base_url
        page = urllib.request.urlopen(mirror_url(base, "https://www.dw.com/robots.txt"))
        assert page.status == 200 and b"Disallow" in page.read()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(mirror_url(base, "https://www.dw.com/zh/a-68200101"))
        assert redirect.value.code == 301
        location = redirect.value.headers["Location"]
        assert location.startswith("/https/www.dw.com/zh/")  # inside the mirror
        assert real_url(base, location).startswith("https://www.dw.com/zh/%E6%AC%A7")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(mirror_url(base, "https://www.dw.com/zh/nothing/a-1"))
        assert missing.value.code == 404
        assert server.hits["https://www.dw.com/zh/nothing/a-1"] == 1


def test_the_server_is_a_proxy_for_http_and_https():
    """As crawls reach it: absolute-URI requests for http, CONNECT and TLS for https; the
    redirect points at the real URL, as the real site's does."""
    with MirrorServer(default_dirs()) as server:
        host, port = server.server_address[:2]
        plain = http.client.HTTPConnection(host, port)
        plain.request("GET", "http://www.dw.com/robots.txt")
        assert plain.getresponse().status == 404  # the mirror has no http robots.txt
        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE  # self-signed
        tunnel = http.client.HTTPSConnection(host, port, context=tls)
        tunnel.set_tunnel("www.dw.com", 443)
        tunnel.request("GET", "/robots.txt")
        robots = tunnel.getresponse()
        assert robots.status == 200 and b"Disallow" in robots.read()
        tunnel.request("GET", "/zh/a-68200101")  # the same connection, kept alive
        redirect = tunnel.getresponse()
        redirect.read()
        assert redirect.status == 301
        assert redirect.headers["Location"].startswith("https://www.dw.com/zh/%E6%AC%A7")
        assert server.hits["http://www.dw.com/robots.txt"] == 1
        assert server.hits["https://www.dw.com/robots.txt"] == 1


def test_the_server_holds_every_response_for_its_delay():
    with MirrorServer(default_dirs(), delay=0.3) as server:
        for url in ("https://www.dw.com/robots.txt", "https://www.dw.com/zh/nothing/a-1"):
            start = time.monotonic()
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(mirror_url(server.base_url, url)).read()
            assert time.monotonic() - start >= 0.3


def test_the_server_answers_304_to_either_validator(tmp_path):
    """If-None-Match against the ETag of the bytes, else If-Modified-Since against a route's
    ``last_modified`` (RFC 9110: If-None-Match, when sent, decides alone); counted in
    ``server.not_modified``."""
    import json
    import shutil

    shutil.copytree(MIRROR_ROOT / "dw", tmp_path / "dw")
    manifest = json.loads((tmp_path / "dw" / "manifest.json").read_text(encoding="utf-8"))
    manifest["https://www.dw.com/robots.txt"]["last_modified"] = "Mon, 02 Nov 2026 08:00:00 GMT"
    (tmp_path / "dw" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with MirrorServer([tmp_path / "dw"], pictures=False) as server:
        url = mirror_url(server.base_url, "https://www.dw.com/robots.txt")

        def status(**headers: str) -> int:
            try:
                return urllib.request.urlopen(urllib.request.Request(url, headers=headers)).status
            except urllib.error.HTTPError as answer:
                return answer.code

        etag = urllib.request.urlopen(url).headers["ETag"]
        assert status(**{"If-None-Match": etag}) == 304
        assert status(**{"If-None-Match": '"other"'}) == 200
        assert status(**{"If-Modified-Since": "Mon, 02 Nov 2026 08:00:00 GMT"}) == 304
        assert status(**{"If-Modified-Since": "Sun, 01 Nov 2026 08:00:00 GMT"}) == 200
        later = "Tue, 03 Nov 2026 08:00:00 GMT"
        assert status(**{"If-None-Match": '"other"', "If-Modified-Since": later}) == 200
        assert server.not_modified["https://www.dw.com/robots.txt"] == 2
