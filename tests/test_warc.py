"""Every response a real crawl receives, kept as WARC: read back by warcio, digests verified,
revisits on the second crawl, files that survive a killed crawl, the CDXJ index."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import surt
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from newscrawl.replay import CaptureReader
from newscrawl.warc import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED, CaptureIndex, WarcRecorder
from tests.conftest import DW_MIRROR, load_manifest
from tests.crash import crash_env
from tests.crawl import REPO, crawl
from tests.mirror.demo import DEMO_CRAWLS, scrapy_command
from tests.mirror.server import Mirror, MirrorServer, default_dirs
from tests.test_archive import tmpfs
from tests.test_rendering import CHROMIUM
from tests.warc import cdxj, gzip_members, read_warc, warc_files

PLAIN = "https://www.dw.com/zh/莱比锡书展亚洲文学译本受到关注/a-68200105"
#: served gzip-compressed and chunked by the overlay below, as many real servers send pages
GZIPPED = "https://www.dw.com/zh/波恩气候中期会议落幕-资金问题仍是最大分歧/a-68200103"
NOT_FOUND = "https://www.dw.com/zh/欧盟委员会提出新的数字市场调查/a-68200132"
SERVER_ERROR = "https://www.dw.com/zh/德国议会辩论联邦预算草案/a-68200133"
RENDERED = "https://www.dw.com/zh/德国之声中文网新闻简报/a-68200131"


def key(url: str) -> str:
    return Mirror.key(url)


def overlay(tmp: Path) -> Path:
    """A mirror overlay serving one article gzip-compressed with a chunked transfer coding."""
    directory = tmp / "overlay"
    (directory / "pages").mkdir(parents=True)
    route = dict(load_manifest()[GZIPPED])
    shutil.copy(DW_MIRROR / route["file"], directory / route["file"])
    route.update(content_encoding="gzip", chunked=True)
    manifest = json.dumps({GZIPPED: route}, ensure_ascii=False)
    (directory / "manifest.json").write_text(manifest, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """The DW demo crawl twice (the second with ``full=1``: every article page again)."""
    tmp = tmp_path_factory.mktemp("warc")
    out = tmp / "out"
    with MirrorServer([*default_dirs(("dw",)), overlay(tmp)]) as server:
        first = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
        hits = Counter(server.hits)
        files = warc_files(out, "dw")
        second = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"], "-a", "full=1")
    return {"out": out, "first": first, "hits": hits, "file": files[0],
            "second": second, "file2": (set(warc_files(out, "dw")) - set(files)).pop()}


def test_every_response_is_captured_with_its_request(crawls):
    records = read_warc(crawls["file"])
    assert records[0].type == "warcinfo" and records[0].headers["WARC-Filename"] == crawls["file"].name
    with gzip.open(crawls["file"], "rb") as fh:
        assert fh.read(9) == b"WARC/1.1\r"
    assert all(r.digest_ok for r in records if r.type != "revisit"), \
        [(r.type, r.url) for r in records if not r.digest_ok]
    ids = {r.headers["WARC-Record-ID"]: r for r in records}
    captures = [r for r in records if r.type in ("response", "revisit", "resource")]
    requests = [r for r in records if r.type == "request"]
    for request in requests:  # each request record names the response it belongs to
        assert ids[request.headers["WARC-Concurrent-To"]].url == request.url
    assert len(requests) == len([r for r in captures if r.type != "resource"])
    # the server's every answer to the crawl is in the WARC, as often as it was given (a
    # rendering browser's own requests for its page's scripts, styles and icons are not
    # captured: the rendered page is, as the browser made it)
    captured = Counter(key(r.headers.get("WARC-Newscrawl-Requested-URI") or r.url) for r in captures)
    subresource = (".js", ".css", ".png", ".ico", ".svg", ".woff2")
    # (nor the picture over NEWSCRAWL_IMAGE_MAX_BYTES, whose download is cut off unread)
    too_large = key("https://static.dw.com/image/67102210_607.jpg")
    # the stylesheets the article pages link are asked for by the crawl too (stylesheets.py),
    # once per URL, and captured: every one the mirror was asked for (the browser may have
    # asked for one as well)
    styles = Counter({k: n for k, n in captured.items() if k.endswith(".css")})
    assert set(styles) == {k for k in crawls["hits"] if k.endswith(".css")}
    assert all(crawls["hits"][k] >= n for k, n in styles.items())
    assert crawls["first"].stat("newscrawl/stylesheets/captured") == sum(styles.values())
    assert captured - styles == Counter({k: n for k, n in crawls["hits"].items()
                                         if k.startswith("http") and not k.endswith(subresource)
                                         and k != too_large})
    assert crawls["hits"][too_large] == 1 and crawls["first"].stat("newscrawl/images/too_large") == 1
    statuses = {(key(r.url), r.status) for r in captures}
    for url, status in [("https://www.dw.com/robots.txt", 200), ("https://rss.dw.com/robots.txt", 200),
                        ("https://rss.dw.com/xml/rss-chi-all", 200), (NOT_FOUND, 404), (SERVER_ERROR, 500),
                        ("https://www.dw.com/zh/t-68199001", 301), (PLAIN, 200)]:
        assert (key(url), status) in statuses, url
    assert crawls["hits"][key(SERVER_ERROR)] == 3  # retried: all three answers kept
    # the gallery page that completes an article's captions is also archived itself: one capture
    galleries = [r for r in captures if "/g-" in r.url and r.type == "response"]
    assert galleries and all(r.headers.get("WARC-Newscrawl-Callback") == "parse_article" for r in galleries)


def test_bodies_are_the_bytes_the_server_sent(crawls):
    records = read_warc(crawls["file"])
    manifest = load_manifest()
    plain = next(r for r in records if r.type == "response" and key(r.url) == key(PLAIN))
    assert plain.payload == (DW_MIRROR / manifest[PLAIN]["file"]).read_bytes()
    assert plain.headers["WARC-Payload-Digest"].startswith("sha1:")
    assert plain.http_header("Content-Type") == "text/html; charset=utf-8"
    zipped = next(r for r in records if r.type == "response" and key(r.url) == key(GZIPPED))
    assert zipped.http_header("Content-Encoding") == "gzip"
    assert zipped.payload[:2] == b"\x1f\x8b"  # as sent: not decoded
    assert gzip.decompress(zipped.payload) == (DW_MIRROR / manifest[GZIPPED]["file"]).read_bytes()
    assert zipped.http_header("Transfer-Encoding") is None  # the body is stored de-chunked
    # …and the article itself was parsed from the decoded page as usual
    assert "a-68200103" in {line["id"] for line in crawls["first"].jsonl()}


def test_cdxj_finds_each_capture_by_url_and_time(crawls):
    path = crawls["file"].with_name(crawls["file"].name.removesuffix(".warc.gz") + ".cdxj")
    lines = cdxj(path)
    assert [(k, t) for k, t, _ in lines] == sorted((k, t) for k, t, _ in lines)
    records = {r.offset: r for r in read_warc(crawls["file"])}
    assert len(lines) == len([r for r in records.values() if r.type in ("response", "revisit", "resource")])
    for surt_key, timestamp, fields in lines:
        record = records[int(fields["offset"])]
        assert fields["url"] == record.url and fields["filename"] == crawls["file"].name
        # (a rendered DOM under its own URI: tests/test_warc.py::test_rendered_page_is_…)
        assert surt_key.startswith(("com,dw", "urn:newscrawl:rendered:")) and len(timestamp) == 14
        # the crawl imported surt with a stand-in for tldextract (warc._surt): same keys
        assert surt_key == surt.surt(fields["url"])
        date = record.headers["WARC-Date"]
        assert date[:19].replace("-", "").replace(":", "").replace("T", "") == timestamp
        assert fields["mime"] == ("warc/revisit" if record.type == "revisit" else fields["mime"])


def test_run_report_gives_the_bytes_written(crawls):
    warc = crawls["first"].report["warc"]
    assert warc["bytes"] == crawls["file"].stat().st_size
    assert warc["files"] == [crawls["file"].name]
    assert warc["records"] == len(read_warc(crawls["file"]))


def test_second_crawl_writes_revisits_for_unchanged_pages(crawls):
    first = {r.headers["WARC-Record-ID"]: r for r in read_warc(crawls["file"])}
    second = read_warc(crawls["file2"])
    article_revisits = [r for r in second if r.type == "revisit" and "/a-" in r.url]
    assert len(article_revisits) >= 20
    for record in [r for r in second if r.type == "revisit"]:
        assert record.headers["WARC-Profile"] == REVISIT_IDENTICAL
        assert record.payload == b""  # headers only
        earlier = first.get(record.headers["WARC-Refers-To"]) or next(
            r for r in second if r.headers["WARC-Record-ID"] == record.headers["WARC-Refers-To"])
        assert earlier.url == record.url == record.headers["WARC-Refers-To-Target-URI"]
        assert earlier.headers["WARC-Payload-Digest"] == record.headers["WARC-Payload-Digest"]
        assert earlier.headers["WARC-Date"] == record.headers["WARC-Refers-To-Date"]
    assert not [r for r in second if r.type == "response" and "/a-" in r.url and r.status == 200]
    assert crawls["second"].stat("newscrawl/items/unchanged") >= 20
    assert crawls["file2"].stat().st_size < crawls["file"].stat().st_size / 4


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs a browser at {CHROMIUM}")
def test_rendered_page_is_recorded_as_what_the_browser_produced(crawls):
    records = read_warc(crawls["file"])
    resource = next(r for r in records if r.type == "resource")
    # under a URI of its own, so that no replay tool serves it as the page's response
    page = resource.headers["WARC-Newscrawl-Page-URI"]
    assert key(page) == key(RENDERED) and resource.url == "urn:newscrawl:rendered:" + page
    assert key(resource.headers["WARC-Newscrawl-Requested-URI"]) == key(RENDERED)
    assert "chromium" in resource.headers["WARC-Newscrawl-Rendered"]
    assert resource.headers["Content-Type"].startswith("text/html")
    assert resource.digest_ok and b"</html>" in resource.payload
    # rendered after its static HTML failed: linked to that response, captured in this run
    static = next(r for r in records if r.type == "response" and key(r.url) == key(page))
    assert resource.headers["WARC-Concurrent-To"] == static.headers["WARC-Record-ID"]
    metadata = records[records.index(resource) + 1]
    assert metadata.type == "metadata" and metadata.url == resource.url
    assert metadata.headers["Content-Type"] == "application/warc-fields"  # not indexed for replay
    assert metadata.headers["WARC-Concurrent-To"] == resource.headers["WARC-Record-ID"]
    assert b"http-status: 200" in metadata.payload
    # the CDXJ names it by its own URI; no line of the page's URL leads to it
    lines = cdxj(crawls["file"].with_name(crawls["file"].name.removesuffix(".warc.gz") + ".cdxj"))
    [line] = [fields for _, _, fields in lines if int(fields["offset"]) == resource.offset]
    assert line["url"] == resource.url
    of_page = [int(fields["offset"]) for _, _, fields in lines if key(fields["url"]) == key(page)]
    assert of_page == [static.offset]


def crawl_process(out: Path, mirror: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    cmd = scrapy_command("crawl", mirror, out, "dw", *DEMO_CRAWLS["dw"], *args)
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_a_crawl_killed_while_writing_leaves_every_earlier_record_readable(tmp_path):
    out = tmp_path / "out"
    with MirrorServer(default_dirs(("dw",))) as server:
        proc = crawl_process(out, server.base_url, env=crash_env(warc_after=12))
        proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL
        [killed] = warc_files(out, "dw")
        complete = gzip_members(killed)
        assert complete == 1 + 2 * 11  # warcinfo and 11 captures (response and request)
        readable = read_until_torn(killed)
        assert len(readable) == complete
        assert all(r.digest_checker.passed for r in readable if r.rec_type != "revisit")
        # the next run cuts the torn record off, indexes the killed run's captures and writes its CDXJ
        result = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
    assert "ended in a torn record" in result.log
    records = read_warc(killed)  # whole and valid now
    assert len(records) == complete and all(r.digest_ok for r in records)
    assert killed.with_name(killed.name.removesuffix(".warc.gz") + ".cdxj").exists()
    newer = read_warc(next(p for p in warc_files(out, "dw") if p != killed))
    killed_ids = {r.headers["WARC-Record-ID"] for r in records}
    assert any(r.headers.get("WARC-Refers-To") in killed_ids for r in newer if r.type == "revisit")


def read_until_torn(path: Path) -> list[ArcWarcRecord]:
    """The records warcio reads from a file whose last record may be torn, up to the error
    (or the half record) it meets there."""
    records = []
    with open(path, "rb") as fh:
        try:
            for record in ArchiveIterator(fh, check_digests=True):
                record.raw_stream.read()
                records.append(record)
        except Exception:  # warcio's error on a torn gzip member varies with where it is cut
            pass
    return records[: gzip_members(path)]


def test_a_crawl_killed_from_outside_leaves_a_readable_warc(tmp_path):
    out = tmp_path / "out"
    with MirrorServer(default_dirs(("dw",))) as server:
        # one request at a time with a delay, so that the kill lands in the middle of the crawl
        proc = crawl_process(out, server.base_url, "-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS=1")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            files = warc_files(out, "dw")
            if files and gzip_members(files[0]) >= 15:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    [path] = warc_files(out, "dw")
    assert not path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj").exists()  # it never finished
    records = read_until_torn(path)
    assert len(records) >= 15 and len(records) == gzip_members(path)
    responses = [r for r in records if r.rec_type == "response"]
    assert responses and all(r.digest_checker.passed for r in responses)


def test_capture_off_and_folder_chosen(tmp_path):
    with MirrorServer(default_dirs(("dw",))) as server:
        off = crawl("dw", server.base_url, tmp_path / "a", "-a", f"urls={PLAIN}", "-s", "NEWSCRAWL_WARC=0")
        elsewhere = tmp_path / "evidence"
        on = crawl("dw", server.base_url, tmp_path / "b", "-a", f"urls={PLAIN}",
                   "-s", f"NEWSCRAWL_WARC_DIR={elsewhere}")
    assert off.returncode == 0 and off.report["warc"]["bytes"] == 0
    assert not (tmp_path / "a" / "dw" / "warc").exists()
    assert on.returncode == 0 and not (tmp_path / "b" / "dw" / "warc").exists()
    [path] = sorted((elsewhere / "dw").glob("*.warc.gz"))
    assert {r.url for r in read_warc(path) if r.type == "response"} >= {"https://www.dw.com/robots.txt"}
    assert on.report["warc"]["bytes"] == path.stat().st_size


def test_an_unwritable_warc_folder_stops_the_crawl_before_it_fetches(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with MirrorServer(default_dirs(("dw",))) as server:
        result = crawl("dw", server.base_url, tmp_path / "out", "-a", f"urls={PLAIN}",
                       "-s", f"NEWSCRAWL_WARC_DIR={blocker}")
        assert sum(server.hits.values()) == 0
    assert result.returncode == 1
    assert result.report["finish_reason"] == "write_failed"
    assert "cannot write WARC files in" in result.log
    assert result.stat("newscrawl/failed/warc") == 1


def test_a_304_is_recorded_as_a_revisit_that_leads_to_the_last_payload(tmp_path):
    """The hook for conditional requests: a 304 Not Modified becomes a ``server-not-modified``
    revisit of the URL's latest capture, and replaying the URL gives that capture's page."""
    folder = tmp_path / "warc"
    recorder = WarcRecorder(folder, "dw", max_size=10**9)
    body = (DW_MIRROR / load_manifest()[PLAIN]["file"]).read_bytes()
    first = Request(PLAIN)
    url = first.url  # as Scrapy spells it (percent-encoded), in the request and the response
    headers = {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'}
    recorder.capture(first, HtmlResponse(url, status=200, body=body, request=first, headers=headers))
    again = Request(url, headers={"If-None-Match": '"v1"'})
    recorder.capture(again, Response(url, status=304, body=b"", request=again, headers={"ETag": '"v1"'}))
    recorder.close()
    [path] = sorted(folder.glob("*.warc.gz"))
    records = read_warc(path)
    response, revisit = [r for r in records if r.type in ("response", "revisit")]
    assert revisit.type == "revisit" and revisit.status == 304
    assert revisit.headers["WARC-Profile"] == REVISIT_NOT_MODIFIED
    assert revisit.headers["WARC-Refers-To"] == response.headers["WARC-Record-ID"]
    assert revisit.headers["WARC-Payload-Digest"] == response.headers["WARC-Payload-Digest"]
    request_304 = next(r for r in records if r.type == "request"
                       and r.headers["WARC-Concurrent-To"] == revisit.headers["WARC-Record-ID"])
    assert request_304.http_header("If-None-Match") == '"v1"'
    reader = CaptureReader(folder)
    latest = reader.index.latest(url)
    assert latest.type == "revisit"
    replayed = reader.response(latest)
    assert replayed.status == 200 and replayed.body == body
    reader.close()
    index = CaptureIndex(folder, readonly=True)
    assert index.latest_payload(url).record_id == response.headers["WARC-Record-ID"]
    index.close()


def test_a_full_disk_for_the_warc_stops_the_crawl_and_leaves_whole_records(tmp_path):
    out = tmp_path / "out"
    folder = out / "dw" / "warc"
    with tmpfs(folder, "160k") as remount, MirrorServer(default_dirs(("dw",))) as server:
        full = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
        assert full.returncode == 1
        assert "dw: FAILED (" in full.log and "warc (" in full.log and "Traceback" not in full.log
        assert "No space left on device" in full.log or "disk is full" in full.log
        assert full.report["finish_reason"] == "write_failed"
        [path] = warc_files(out, "dw")
        records = read_warc(path)  # no torn record: a write that failed was cut off
        assert len(records) == gzip_members(path) > 1
        remount("size=10m")
        again = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
    assert again.returncode == 0, again.log[-3000:]
    assert len(again.jsonl()) >= 20
    for path in warc_files(out, "dw"):
        assert all(r.digest_ok is not False for r in read_warc(path))


def test_cdxj_is_sorted_as_python_sorts_its_lines_without_holding_them(tmp_path):
    """write_cdxj sorts through SQLite: the same order as sorted() on the lines, for ASCII,
    CJK and astral-plane URLs, over more than one 64 KiB write."""
    import random

    from newscrawl.warc import Capture, cdxj_line, write_cdxj

    rng = random.Random(7)
    alphabet = "abz09-_/%~" + "德国之声新闻" + "\U0001f600\u00e9"
    captures = []
    for n in range(3000):
        path = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
        host = rng.choice(["www.dw.com", "dw.com", "www.epochtimes.com", "img.dw.com"])
        second = rng.randrange(60)
        captures.append(Capture(
            file="x.warc.gz", offset=n * 100, length=100, url=f"https://{host}/{path}",
            request_url=f"https://{host}/{path}", date=f"2026-12-06T06:{second:02d}:00Z",
            type=rng.choice(["response", "revisit"]), status=200, mime="text/html",
            digest=f"sha1:{n:032d}", record_id=f"<urn:uuid:{n}>", rendered=False, callback=None,
            payload_file="x.warc.gz", payload_offset=0, payload_status=200))
    path = write_cdxj(tmp_path, "x.warc.gz", iter(captures))
    assert path == tmp_path / "x.cdxj"
    expected = "".join(line + "\n" for line in sorted(cdxj_line(c) for c in captures))
    assert len(expected.encode()) > 3 * (1 << 16)
    assert path.read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.cdxj"]


def test_a_stream_that_fails_mid_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    from newscrawl.files import write_atomic, write_atomic_chunks

    target = tmp_path / "x.cdxj"
    write_atomic(target, "old\n")

    def chunks():
        for n in range(5000):
            yield b"line %d\n" % n
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic_chunks(target, chunks())
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.cdxj"]


def test_every_digest_the_recorder_hands_warcio_is_right(tmp_path):
    """The recorder computes every record's digests itself (warcio computes none): each one
    is checked here against the bytes of the file, the block digests of revisits too (which
    warcio's reader leaves unchecked), and by ``warcio check``. The exchanges are what a crawl
    meets: an article page, a picture, the same page again (a revisit), a 304 with and
    without an earlier capture, a POST with a body, a header with bytes that are not ASCII
    (warcio percent-encodes it as it writes it) and a page rendered by the browser."""
    import base64
    import hashlib

    folder = tmp_path / "warc"
    recorder = WarcRecorder(folder, "dw", max_size=10**9)
    page = (DW_MIRROR / load_manifest()[PLAIN]["file"]).read_bytes()
    picture = (REPO / "tests" / "mirror" / "pictures" / "base" / "harbour.jpg").read_bytes()
    url = Request(PLAIN).url
    headers = {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"', "Server": "nginx"}
    hostile = {**headers, "X-Title": "Lüge über 新闻".encode()}

    capture = recorder.capture
    first = Request(url, headers={"User-Agent": "newscrawl", "Accept-Encoding": "gzip, br"})
    capture(first, HtmlResponse(url, status=200, body=page, request=first, headers=headers))
    image = Request("https://static.dw.com/image/67102210_605.jpg")
    capture(image, Response(image.url, body=picture, request=image, headers={"Content-Type": "image/jpeg"}))
    again = Request(url)
    capture(again, HtmlResponse(url, status=200, body=page, request=again, headers=hostile))
    check = Request(url, headers={"If-None-Match": '"v1"'})
    capture(check, Response(url, status=304, body=b"", request=check, headers={"ETag": '"v1"'}))
    other = Request("https://www.dw.com/zh/never-seen/a-1", headers={"If-None-Match": '"x"'})
    capture(other, Response(other.url, status=304, body=b"", request=other, headers={"ETag": '"x"'}))
    post = Request("https://www.dw.com/graphql", method="POST", body=b'{"query": "{ article }"}',
                   headers={"Content-Type": "application/json"})
    capture(post, Response(post.url, status=200, body=b'{"data": {}}', request=post,
                           headers={"Content-Type": "application/json"}))
    shown = Request(RENDERED, meta={"playwright": True})
    capture(shown, HtmlResponse(RENDERED, body="<html><body>渲染后的页面</body></html>".encode(),
                                request=shown, headers={"Content-Type": "text/html; charset=utf-8"},
                                flags=["playwright"]))
    recorder.close()
    [path] = sorted(folder.glob("*.warc.gz"))

    def sha1(data: bytes) -> str:
        return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")

    kinds = Counter()
    payloads = {}
    with open(path, "rb") as fh:  # the block as stored, not parsed: every record's block digest
        for record in ArchiveIterator(fh, no_record_parse=True):
            h = record.rec_headers
            block = record.raw_stream.read()
            kinds[record.rec_type] += 1
            names = [name.lower() for name, _ in h.headers]
            assert len(names) == len(set(names)), names  # no WARC header twice
            assert h.get_header("WARC-Block-Digest") == sha1(block), record.rec_type
            if record.rec_type in ("response", "request", "resource", "metadata"):
                payload = block
                if record.rec_type in ("response", "request"):
                    _, _, payload = block.partition(b"\r\n\r\n")  # after the HTTP head
                assert h.get_header("WARC-Payload-Digest") == sha1(payload), h.get_header("WARC-Target-URI")
                payloads[h.get_header("WARC-Record-ID")] = sha1(payload)
            elif record.rec_type == "revisit":
                assert block.endswith(b"\r\n\r\n") and b"\r\n\r\n" not in block[:-4]  # headers only
                assert h.get_header("WARC-Payload-Digest") == payloads[h.get_header("WARC-Refers-To")]
    assert kinds == {"warcinfo": 1, "response": 4, "request": 6, "revisit": 2, "resource": 1, "metadata": 1}
    records = read_warc(path)  # warcio's own check of the digests it verifies
    assert all(r.digest_ok for r in records if r.type != "revisit")
    assert "X-Title" in dict(next(r for r in records if r.type == "revisit" and r.status == 200).http)
    checked = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", "-v", str(path)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.count("digest pass") == 13 and "failed" not in checked.stdout



def test_the_records_are_the_bytes_warcio_would_write():
    """The recorder serialises its records itself (newscrawl.warc._RecordWriter.member): each
    kind it writes is, uncompressed, byte for byte what warcio's own writer makes of it."""
    import zlib
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders

    from newscrawl import warc

    writer = warc._RecordWriter()
    earlier = warc.Capture("f.warc.gz", 0, 1, PLAIN, PLAIN, "2026-01-01T00:00:00.000000Z", "response",
                           200, "text/html", "sha1:ABC", "<urn:uuid:1>", False, "parse_article",
                           "f.warc.gz", 0, 200)

    def http(line: str, **kw):
        return StatusAndHeaders(line, [("Content-Type", "text/html"), ("X-Title", "Lüge 新闻")],
                                protocol="HTTP/1.1", **kw)

    makers = [
        lambda: writer.record(PLAIN, "response", b"<html>page</html>" * 50, {"WARC-Date": "d"},
                              http_headers=http("200 OK")),
        lambda: writer.record(PLAIN, "response", b"", {"WARC-Date": "d"},
                              http_headers=http("304 Not Modified")),
        lambda: writer.record(PLAIN, "request", b"", {"WARC-Date": "d", "WARC-Concurrent-To": "<urn:uuid:2>"},
                              http_headers=http("GET /zh/a HTTP/1.1", is_http_request=True)),
        lambda: writer.revisit(PLAIN, "sha1:ABC", earlier, http("304 Not Modified"), {"WARC-Date": "d"},
                               REVISIT_NOT_MODIFIED),
        lambda: writer.revisit(PLAIN, "sha1:ABC", earlier, http("200 OK"), {"WARC-Date": "d"}),
        lambda: writer.record("urn:newscrawl:rendered:" + PLAIN, "resource", "<p>渲染</p>".encode(),
                              {"WARC-Date": "d"}, content_type="text/html"),
        lambda: writer.record(PLAIN, "metadata", b"a: b\r\n", {"WARC-Date": "d"},
                              content_type="application/warc-fields"),
    ]
    for make in makers:
        ours, theirs = make(), make()
        theirs.rec_headers.headers[:] = list(ours.rec_headers.headers)  # the same record id
        theirs.raw_stream = warc._Body(ours.raw_stream.body)
        stream = BytesIO()
        writer._write_warc_record(stream, theirs)
        for compress in (True, False):
            again = make()
            again.rec_headers.headers[:] = list(ours.rec_headers.headers)
            assert zlib.decompress(writer.member(again, compress=compress), 47) == \
                stream.getvalue(), ours.rec_type

KILLED_MID_BATCH = """
import os, signal, sys
from pathlib import Path
from scrapy import Request
from scrapy.http import HtmlResponse
from newscrawl import warc
warc.BATCH_SECONDS = 1e9  # batches end by their size only: the kill lands in an open one
folder, page, n = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes(), int(sys.argv[3])
recorder = warc.WarcRecorder(folder, "dw", max_size=10**9)
for i in range(n):
    request = Request(f"https://www.dw.com/zh/a-{68300000 + i}")
    body = page.replace(b"</body>", f"<p>{i}</p></body>".encode())
    recorder.capture(request, HtmlResponse(request.url, body=body, request=request,
                                           headers={"Content-Type": "text/html; charset=utf-8"}))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_kill_in_the_middle_of_an_index_batch_loses_no_capture(tmp_path):
    """The capture index is committed a batch at a time: a process killed with a batch open
    has written records the index lacks, never the reverse; the next opening of the folder
    indexes them from the WARC, and the index then holds exactly the file's records."""
    from newscrawl.warc import BATCH_CAPTURES, open_index

    folder = tmp_path / "warc"
    page = DW_MIRROR / load_manifest()[PLAIN]["file"]
    n = BATCH_CAPTURES + BATCH_CAPTURES // 2
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_BATCH, str(folder), str(page), str(n)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    [path] = sorted(folder.glob("*.warc.gz"))
    records = read_warc(path)
    assert len(records) == 1 + 2 * n and all(r.digest_ok for r in records)  # every capture is in the file
    written = {(r.offset, r.headers["WARC-Record-ID"]) for r in records if r.type == "response"}
    index = CaptureIndex(folder, readonly=True)  # as the killed process left it
    rows = [(c.offset, c.length, c.record_id) for c in index.in_file(path.name)]
    [indexed] = [row[0] for row in index.db.execute("SELECT indexed FROM files WHERE name = ?", (path.name,))]
    index.close()
    assert BATCH_CAPTURES // 2 <= len(rows) < n  # the first batch committed, the open one lost
    assert {(offset, record_id) for offset, _, record_id in rows} <= written
    assert all(offset + length <= indexed for offset, length, _ in rows) and indexed <= path.stat().st_size
    index = open_index(folder)  # what a reader or the next crawl does first
    try:
        assert {(c.offset, c.record_id) for c in index.in_file(path.name)} == written
        assert index.indexed(path.name) == (path.stat().st_size, True)
    finally:
        index.close()
    assert len(cdxj(path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj"))) == n


def test_records_are_gzip_members_of_their_own_from_one_compressor():
    """The recorder deflates every record with one compressor kept open (warc._Deflater):
    each record is a gzip member that inflates alone, also when it repeats the record before
    it (the history is reset between records), and the members read back in turn as one gzip
    stream. After the first, a record takes no block of 128 KB or more, which glibc would map
    and unmap for each record under HeapTrim's rule (a compressor made for each: ~290 KB)."""
    import gzip
    import tracemalloc
    import zlib

    from isal import isal_zlib

    from newscrawl import warc

    head = ("WARC/1.1\r\nWARC-Type: request\r\n" + "".join(
        f"X-Header-{i}: value {i} of the request 请求\r\n" for i in range(14))).encode()
    page = (DW_MIRROR / load_manifest()[PLAIN]["file"]).read_bytes()
    deflater = warc._Deflater()
    records = [head, page, head, b"", page[:5000] + head]
    tracemalloc.start()
    try:
        members = [deflater.member(records[0])]
        tracemalloc.reset_peak()
        members += [deflater.member(record) for record in records[1:]]
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        isal_zlib.compress(head, 1, 31)
        _, peak_compressor_each = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 128 * 1024 < peak_compressor_each
    for record, member in zip(records, members, strict=True):
        inflater = zlib.decompressobj(31)
        assert inflater.decompress(member) == record and inflater.eof and not inflater.unused_data
    assert len(members[0]) < len(head) * 0.75 and len(members[1]) < len(page) / 2
    assert members[2] == members[0]  # the same record, the same member: nothing refers back
    assert gzip.decompress(b"".join(members)) == b"".join(records)


def test_a_payload_that_does_not_compress_is_stored_in_its_gzip_member_as_it_is(tmp_path):
    """A picture's bytes (here pseudo-random, as a photo's are to deflate) go into their
    record's gzip member in stored blocks, not deflated again; a page is deflated. warcio
    reads both, digests checked, and the replay reader gives the same bytes back."""
    import hashlib

    folder = tmp_path / "warc"
    recorder = WarcRecorder(folder, "dw", max_size=10**9)
    page = (DW_MIRROR / load_manifest()[PLAIN]["file"]).read_bytes()
    head = (REPO / "tests" / "mirror" / "pictures" / "base" / "street.jpg").read_bytes()[:2000]
    photo = head + hashlib.shake_256(b"photo").digest(400_000 - len(head))
    exchanges = [(Request(PLAIN), page, {"Content-Type": "text/html; charset=utf-8"}),
                 (Request("https://static.dw.com/image/1_605.jpg"), photo, {"Content-Type": "image/jpeg"}),
                 (Request("https://static.dw.com/image/2_605.jpg"), b"\xff\xd8" + b"\x00" * 100_000,
                  {"Content-Type": "image/jpeg"})]  # labelled a picture, compresses all the same
    for request, body, headers in exchanges:
        recorder.capture(request, Response(request.url, body=body, request=request, headers=headers))
    recorder.close()
    [path] = sorted(folder.glob("*.warc.gz"))
    records = read_warc(path)
    responses = [r for r in records if r.type == "response"]
    assert [r.payload for r in responses] == [body for _, body, _ in exchanges]
    assert all(r.digest_ok for r in records)
    data = path.read_bytes()
    ends = [r.offset for r in records[1:]] + [len(data)]
    sizes = {r.url: end - r.offset for r, end in zip(records, ends, strict=True) if r.type == "response"}
    assert sizes[Request(PLAIN).url] < len(page) / 2  # deflated
    assert len(photo) < sizes["https://static.dw.com/image/1_605.jpg"] < len(photo) + 2000  # as it is
    assert sizes["https://static.dw.com/image/2_605.jpg"] < 2000  # deflated
    reader = CaptureReader(folder)
    assert reader.response(reader.index.latest("https://static.dw.com/image/1_605.jpg")).body == photo
    reader.close()
