"""Captures that replay: a three-crawl history of the DW mirror (new, then every article again
unchanged, then every article re-checked and answered 304) read back as an archivist would —
the revisit chain, the CDXJ and the WACZ's index without 304s, the stylesheets, ``scrapy
extract`` on one file, and pywb in headless chromium showing the newest full capture."""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from newscrawl.rendering import CHROMIUM_ARGS
from newscrawl.warc import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED
from tests.conftest import DW_MIRROR
from tests.crawl import REPO, crawl
from tests.mirror.server import Mirror, MirrorServer
from tests.test_rendering import CHROMIUM, JS_URL, mirror  # noqa: F401  (mirror: the fixture)
from tests.test_rendering import run as render_crawl
from tests.warc import cdxj, read_warc, warc_files

SOURCES = ("-a", "feed=1", "-a", "topics=t-68199001", "-s", "NEWSCRAWL_RENDER_FALLBACK=0")
#: an article of the feed, re-checked with its ETag in the third crawl (answered 304)
ARTICLE = "https://www.dw.com/zh/莱比锡书展亚洲文学译本受到关注/a-68200105"


def key(url: str) -> str:
    return Mirror.key(url)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Three crawls into one output folder: the first; ``full=1`` (every article fetched again,
    the same bytes: identical-payload revisits); a clock far ahead with an audit budget for all
    (every article, settled, audited: asked with its ETag, 304s)."""
    out = tmp_path_factory.mktemp("replay") / "out"
    runs, hits = [], []
    with MirrorServer([DW_MIRROR]) as server:
        for args in [(), ("-a", "full=1"),
                     ("-s", "NEWSCRAWL_CLOCK=2100-01-01T00:00:00Z", "-s", "NEWSCRAWL_AUDIT_BUDGET=1000")]:
            server.hits.clear()
            result = crawl("dw", server.base_url, out, *SOURCES, *args)
            assert result.returncode == 0, result.log[-3000:]
            runs.append(result)
            hits.append(Counter(server.hits))
    files = warc_files(out, "dw")
    assert len(files) == 3
    return {"out": out, "runs": runs, "hits": hits, "files": files, "folder": out / "dw" / "warc"}


def records_by_id(files: list[Path]) -> dict[str, tuple[Path, object]]:
    return {r.headers["WARC-Record-ID"]: (path, r) for path in files for r in read_warc(path)}


def test_revisits_name_the_record_that_holds_the_payload(history):
    first, second, third = history["files"]
    records = records_by_id(history["files"])
    revisits = [(path, r) for path, r in records.values() if r.type == "revisit"]
    profile = "WARC-Profile"
    identical = [r for path, r in revisits if path == second and r.headers[profile] == REVISIT_IDENTICAL]
    not_modified = [r for path, r in revisits if path == third and r.headers[profile] == REVISIT_NOT_MODIFIED]
    assert len(identical) >= 20 and len(not_modified) >= 20
    assert len(not_modified) == history["runs"][2].stat("newscrawl/warc/not_modified")
    for _, revisit in revisits:
        path, original = records[revisit.headers["WARC-Refers-To"]]
        # never an earlier revisit (the second crawl's, for the third): the response itself
        assert original.type == "response" and path == first, revisit.url
        assert revisit.headers["WARC-Refers-To-Target-URI"] == original.url == revisit.url
        assert revisit.headers["WARC-Refers-To-Date"] == original.headers["WARC-Date"]
        assert revisit.headers["WARC-Payload-Digest"] == original.headers["WARC-Payload-Digest"]
    assert {key(r.url) for r in not_modified} >= {key(ARTICLE)}


def test_304s_are_kept_as_evidence_but_left_out_of_the_cdxj(history):
    third = history["files"][2]
    lines = [line for path in history["files"]
             for line in cdxj(path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj"))]
    assert lines and not [fields for _, _, fields in lines if fields.get("status") == "304"]
    # the WARC and the capture index still hold every one
    in_warc = [r for r in read_warc(third) if r.type == "revisit" and r.status == 304]
    db = sqlite3.connect(history["folder"] / "captures.sqlite3")
    try:
        indexed = db.execute("SELECT COUNT(*) FROM captures WHERE status = 304").fetchone()[0]
        everything = db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    finally:
        db.close()
    assert len(in_warc) == indexed == history["runs"][2].stat("newscrawl/warc/not_modified") >= 20
    assert len(lines) == everything - indexed  # the CDXJ: every other capture
    # the article's newest line is the second crawl's full capture (an identical-payload revisit)
    article = sorted((ts, fields) for _, ts, fields in lines if key(fields["url"]) == key(ARTICLE))
    assert article[-1][1]["filename"] == history["files"][1].name


def test_stylesheets_are_captured_once_per_url(history, tmp_path):
    first, second, third = history["runs"]
    css = {k: n for k, n in history["hits"][0].items() if k.endswith(".css")}
    # every stylesheet the archived DW pages link (three current-template builds, and the
    # old template's, whose two versions differ in their query only)
    assert set(css) == {"https://www.dw.com/static/index-zigjdkxn.css", "https://www.dw.com/static/index-tiypzplq.css",
                        "https://www.dw.com/static/index-mcyfuszu.css", "https://www.dw.com/css/dw.min.css"}
    assert first.stat("newscrawl/stylesheets/requested") == first.stat("newscrawl/stylesheets/captured") \
        == sum(css.values()) == 5
    captured = [r for r in read_warc(history["files"][0]) if key(r.url) in css and r.type != "request"]
    assert len(captured) == 5 and all(r.type == "response" and r.status == 200 for r in captured)
    assert all(r.http_header("Content-Type").startswith("text/css") for r in captured)
    # not articles, nor drops
    assert first.stat("newscrawl/items/new") == len(first.jsonl())
    assert not [k for k in first.stats if k.startswith("newscrawl/dropped/") and ".css" in k]
    # the later crawls find them in the capture index: not asked for again
    for later, hits in zip((second, third), history["hits"][1:], strict=True):
        assert later.stat("newscrawl/stylesheets/requested") == 0
        assert later.stat("newscrawl/stylesheets/known") >= 1
        assert not [k for k in hits if k.endswith(".css")]
    # off: none asked for
    with MirrorServer([DW_MIRROR]) as server:
        off = crawl("dw", server.base_url, tmp_path / "off", "-a", f"urls={ARTICLE}",
                    "-s", "NEWSCRAWL_STYLESHEETS=0")
        assert off.returncode == 0 and off.stat("item_scraped_count") == 1
        assert not [k for k in server.hits if k.endswith(".css")]
    assert off.stat("newscrawl/stylesheets/requested") == 0


def extract(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "extract", "dw", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_extract_from_one_file_whose_capture_is_a_revisit_of_another(history, tmp_path):
    third = history["files"][2]  # the article's newest capture there: a 304 of the first file's
    from_file = extract("--warc", str(third), "--url", ARTICLE)
    assert from_file.returncode == 0, from_file.stderr
    item = json.loads(from_file.stdout)
    assert item["id"] == "a-68200105" and item["title"] == next(
        line["title"] for line in history["runs"][0].jsonl() if line["id"] == "a-68200105")
    # without its capture index the folder's other files are read
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in history["files"]:
        shutil.copy(path, copy / path.name)
    assert json.loads(extract("--warc", str(copy / third.name), "--url", ARTICLE).stdout) == item
    # alone: one clear line, no traceback
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(third, alone / third.name)
    lonely = extract("--warc", str(alone / third.name), "--url", ARTICLE)
    assert lonely.returncode == 1 and not lonely.stdout
    assert "Traceback" not in lonely.stderr and len(lonely.stderr.strip().splitlines()) == 1
    assert "is a revisit" in lonely.stderr and "other WARC files" in lonely.stderr


@pytest.mark.skipif(importlib.util.find_spec("wacz") is None, reason="needs the wacz extra")
def test_wacz_index_leaves_out_the_304s(history, tmp_path):
    target = tmp_path / "dw.wacz"
    proc = subprocess.run([sys.executable, "-m", "scrapy", "wacz", "dw", "-o", str(target),
                           "-s", f"NEWSCRAWL_OUTPUT_DIR={history['out']}"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    valid = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(target)],
                           capture_output=True, text=True)
    assert valid.returncode == 0 and "is valid" in valid.stdout, valid.stdout + valid.stderr
    with zipfile.ZipFile(target) as z:
        for path in history["files"]:  # the WARC files whole, 304s and all
            assert z.read(f"archive/{path.name}") == path.read_bytes()
        index = [json.loads(line.split(" ", 2)[2])
                 for line in gzip.decompress(z.read("indexes/index.cdx.gz")).decode().splitlines()]
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode().splitlines()[1:]]
    assert index and not [fields for fields in index if fields.get("status") == "304"]
    assert any(fields.get("mime") == "warc/revisit" for fields in index)  # identical payloads stay
    # every article is listed, at a capture the index holds (not a 304's time)
    assert {p["url"] for p in pages} == {line["url"] for line in history["runs"][0].jsonl()}
    ours = {(fields["url"], ts) for path in history["files"]
            for _, ts, fields in cdxj(path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj"))}
    assert all((p["url"], p["ts"].replace("-", "").replace(":", "").replace("T", "")[:14]) in ours
               for p in pages)


# ---- pywb in headless chromium ------------------------------------------------------------
needs_pywb = pytest.mark.skipif(importlib.util.find_spec("pywb") is None,
                                reason="needs pywb (the test extra)")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs a browser at {CHROMIUM}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pywb(history, tmp_path):
    """pywb 2 serving the three crawls as collection ``news``: the WARC files and the
    project's CDXJ files (merged and sorted), no index of pywb's own."""
    collection = tmp_path / "collections" / "news"
    (collection / "archive").mkdir(parents=True)
    (collection / "indexes").mkdir()
    lines = []
    for path in history["files"]:
        shutil.copy(path, collection / "archive" / path.name)
        cdxj_path = path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj")
        lines += cdxj_path.read_bytes().splitlines(keepends=True)
    (collection / "indexes" / "index.cdxj").write_bytes(b"".join(sorted(lines)))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pywb.apps.cli import wayback; sys.exit(wayback())",
         "-b", "127.0.0.1", "-p", str(port), "-d", str(tmp_path)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/news/", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"pywb did not start: {server.stderr.read()[-2000:]}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


@needs_pywb
@needs_chromium
def test_pywb_shows_the_newest_full_capture_of_a_rechecked_article(history, pywb):
    from playwright.sync_api import sync_playwright

    url = next(r.url for r in read_warc(history["files"][2])
               if r.type == "revisit" and r.status == 304 and key(r.url) == key(ARTICLE))
    title = next(line["title"] for line in history["runs"][0].jsonl() if line["id"] == "a-68200105")
    full = next(r for r in read_warc(history["files"][1]) if r.type == "revisit" and r.url == url)
    answers: dict[str, tuple[int, dict]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        # the network cut off: only pywb on 127.0.0.1 answers
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(pywb)
                   else route.abort())
        page.on("response", lambda r: answers.__setitem__(r.url, (r.status, r.headers)))
        top = page.goto(f"{pywb}/news/{url}", wait_until="load")  # the newest capture, as a reader asks
        assert top is not None and top.status == 200
        page.wait_for_function("() => frames.length > 0 && frames[0].document.readyState === 'complete'")
        frame = next((f for f in page.frames if "mp_/" in f.url), None)  # the page, in pywb's frame
        assert frame is not None, [f.url for f in page.frames]
        status, headers = answers[frame.url]
        shown = frame.locator("h1").first.inner_text()
        max_width = frame.evaluate("getComputedStyle(document.body).maxWidth")
        sheets = frame.evaluate("[...document.styleSheets].map(s => [s.href, s.cssRules.length])")
        browser.close()
    assert status == 200  # not the empty 304 of the third crawl
    assert shown == title
    # the capture shown is the second crawl's (the newest that is not a 304)
    assert headers["memento-datetime"] == time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.strptime(full.headers["WARC-Date"][:19], "%Y-%m-%dT%H:%M:%S"))
    # styled by the stylesheet the first crawl captured (the mirror's own: a body 46rem wide,
    # where the page's own inline style sets none)
    css = [u for u in answers if u.endswith("/index-zigjdkxn.css") and "/news/" in u]
    assert css and all(answers[u][0] == 200 for u in css)
    assert [rules for href, rules in sheets if (href or "").endswith("/index-zigjdkxn.css")] == [5], sheets
    assert max_width != "none"


# ---- a rendered DOM, under its own URI, still found by the page's URL --------------------
@needs_chromium
def test_a_rendered_dom_is_its_own_record_that_reparse_and_extract_find_by_the_page(mirror, tmp_path):  # noqa: F811
    """tests/test_rendering.py's page built by script: rendered, stored under
    ``urn:newscrawl:rendered:<page>``, and still what extract and reparse read for the page."""
    out = tmp_path / "out"
    result = render_crawl(mirror, out, [JS_URL])
    [line] = result.jsonl()
    assert line["rendered"] is True
    [warc] = warc_files(out, "dw")
    [resource] = [r for r in read_warc(warc) if r.type == "resource"]
    assert resource.url == "urn:newscrawl:rendered:" + line["url"]
    assert resource.headers["WARC-Newscrawl-Page-URI"] == line["url"]
    assert line["capture"]["record"] == resource.headers["WARC-Record-ID"]  # its provenance
    # rendered after its static HTML (an empty shell) gave no article: linked to that response
    [static] = [r for r in read_warc(warc) if r.type == "response" and key(r.url) == key(JS_URL)]
    assert resource.headers["WARC-Concurrent-To"] == static.headers["WARC-Record-ID"]
    # scrapy extract and scrapy reparse find it by the page's URL
    extracted = extract("--warc", str(warc), "--url", JS_URL)
    assert extracted.returncode == 0, extracted.stderr
    item = json.loads(extracted.stdout)
    assert item["rendered"] is True and item["url"] == line["url"]
    assert item["body_markdown"] == line["body_markdown"]
    cmd = [sys.executable, "-m", "scrapy", "reparse", "dw", "--url", JS_URL,
           "-s", f"NEWSCRAWL_OUTPUT_DIR={out}", "-s", "NEWSCRAWL_MIRROR=http://127.0.0.1:9"]
    reparsed = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert reparsed.returncode == 0, reparsed.stderr[-3000:]
    # the capture the version names, the rendered DOM: the article as archived
    assert "responses replayed from the captures, 0 requests sent" in reparsed.stderr
    assert "unchanged 1, dropped 0" in reparsed.stderr


def test_a_rendered_dom_written_the_old_way_is_still_read(tmp_path):
    """Files written before held the DOM as a ``resource`` under the page's own URL."""
    from io import BytesIO

    from warcio.warcwriter import WARCWriter

    from newscrawl.replay import CaptureReader
    from newscrawl.warc import RENDERED_BY, RENDERED_HEADER, CaptureIndex, recover

    page = "https://www.dw.com/zh/a-69000001"
    dom = "<html><head><title>旧格式</title></head><body><h1>旧格式</h1></body></html>".encode()
    folder = tmp_path / "warc"
    folder.mkdir()
    with open(folder / "dw-20261101T000000000000Z-00000.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        resource = writer.create_warc_record(
            page, "resource", payload=BytesIO(dom), length=len(dom), warc_content_type="text/html",
            warc_headers_dict={"WARC-Date": "2026-11-01T00:00:00.000000Z", "Content-Type": "text/html",
                               RENDERED_HEADER: RENDERED_BY, "WARC-Newscrawl-Callback": "parse_article"})
        writer.write_record(resource)
        meta = b"http-status: 203\r\nhttp-header: Content-Type: text/html\r\n"
        writer.write_record(writer.create_warc_record(
            page, "metadata", payload=BytesIO(meta), length=len(meta),
            warc_headers_dict={"WARC-Date": "2026-11-01T00:00:00.000000Z",
                               "WARC-Concurrent-To": resource.rec_headers.get_header("WARC-Record-ID")}))
    index = CaptureIndex(folder)
    list(recover(folder, index))
    index.close()
    reader = CaptureReader(folder)
    try:
        capture = reader.index.latest(page, rendered=True)
        assert capture is not None and capture.url == page and capture.status == 203
        response = reader.response(capture)
    finally:
        reader.close()
    assert response.url == page and response.status == 203 and "playwright" in response.flags
    assert response.body == dom
