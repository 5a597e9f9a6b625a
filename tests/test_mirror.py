"""The demo mirror: generated from its content files, served like the real sites."""

from __future__ import annotations

import contextlib
import filecmp
import time
import urllib.error
import urllib.request

import pytest

from newscrawl.transport import mirror_url, real_url
from tests.mirror import build_dw, build_epochtimes
from tests.mirror.server import MIRROR_ROOT, MirrorServer, default_dirs


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


def test_mirror_urls_round_trip():
    base = "http://127.0.0.1:8765"
    for url in ("https://www.dw.com/zh/%E4%B8%AD/a-1", "https://www.epochtimes.com/gb/nsc413.htm?x=1"):
        assert real_url(base, mirror_url(base, url)) == url
    assert real_url(base, "https://example.org/elsewhere") == "https://example.org/elsewhere"


def test_the_server_holds_every_response_for_its_delay():
    with MirrorServer(default_dirs(), delay=0.3) as server:
        for url in ("https://www.dw.com/robots.txt", "https://www.dw.com/zh/nothing/a-1"):
            start = time.monotonic()
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(mirror_url(server.base_url, url)).read()
            assert time.monotonic() - start >= 0.3
