"""Re-parsing from the WARC captures: ``scrapy extract --warc`` gives what ``scrapy extract``
gives on the same saved page, and ``scrapy reparse`` after a parser fix rewrites exactly the
affected posts without one request to the site."""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DW_MIRROR, load_manifest
from tests.crawl import REPO, crawl
from tests.mirror.demo import DEMO_CRAWLS, scrapy_command
from tests.mirror.server import DAY_TWO, MIRROR_ROOT, MirrorServer, default_dirs
from tests.warc import read_warc, warc_files

ET_MIRROR = MIRROR_ROOT / "epochtimes"
#: the article the fixed parser (tests/fixtures/fixed_parser.py) changes, and its URL
FIXED_ID = "a-68200204"
FIXED = "tests.fixtures.fixed_parser"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def extract(*args: str) -> subprocess.CompletedProcess:
    return run("extract", *args)


def reparse(mirror: str, out: Path, *args: str) -> subprocess.CompletedProcess:
    """``scrapy reparse`` with NEWSCRAWL_MIRROR set: a request it sent would reach the mirror."""
    cmd = scrapy_command("reparse", mirror, out, *args, "-s", "LOG_LEVEL=INFO")
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def url_of(manifest: dict, file: str) -> str:
    return next(url for url, route in manifest.items() if route.get("file") == file
                and int(route.get("status", 200)) == 200)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The demo crawls: DW, and Epoch Times on day one and day two (a retitled article)."""
    out = tmp_path_factory.mktemp("reparse") / "out"
    with MirrorServer(default_dirs()) as server:
        dw = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
        day1 = crawl("epochtimes", server.base_url, out, *DEMO_CRAWLS["epochtimes"])
        server.load(default_dirs(DAY_TWO))
        day2 = crawl("epochtimes", server.base_url, out, *DEMO_CRAWLS["epochtimes"])
    assert dw.returncode == day1.returncode == day2.returncode == 0
    return {"out": out, "dw": dw, "day1": day1, "day2": day2}


@pytest.mark.parametrize(("spider", "mirror", "file"), [
    ("dw", DW_MIRROR, "pages/a-68200103.html"),   # the current template, with images
    ("dw", DW_MIRROR, "pages/a-45220002.html"),   # the pre-2023 template, traditional script
    ("dw", DW_MIRROR, "pages/g-68200556.html"),   # a picture gallery page
    ("epochtimes", ET_MIRROR, "pages/n13959702-gb.html"),
])
def test_extract_from_a_capture_equals_extract_from_the_saved_page(archive, spider, mirror, file):
    url = url_of(load_manifest(mirror), file)
    [warc] = warc_files(archive["out"], spider)[:1]
    from_warc = extract(spider, "--warc", str(warc), "--url", url)
    from_page = extract(spider, str(mirror / file), "--url", url)
    assert from_warc.returncode == 0, from_warc.stderr
    assert from_page.returncode == 0, from_page.stderr
    a, b = json.loads(from_warc.stdout), json.loads(from_page.stdout)
    captured = next(r for r in read_warc(warc) if r.type == "response" and r.url == a["url"])
    assert a.pop("crawled_at") == captured.headers["WARC-Date"][:19] + "Z"  # when it was fetched
    b.pop("crawled_at")
    assert a == b


def test_extract_at_a_time_picks_the_capture_of_that_time(archive):
    """Epoch Times retitled an article between day one and day two, on the same URL."""
    folder = archive["out"] / "epochtimes" / "warc"
    day1, day2 = warc_files(archive["out"], "epochtimes")
    url = url_of(load_manifest(MIRROR_ROOT / "epochtimes-day2"), "pages/n13958996-gb.html")
    between = read_warc(day2)[0].headers["WARC-Date"]  # day two's warcinfo: before its captures
    then = extract("epochtimes", "--warc", str(folder), "--url", url, "--at", between)
    now = extract("epochtimes", "--warc", str(folder), "--url", url)
    assert then.returncode == now.returncode == 0, then.stderr + now.stderr
    old, new = json.loads(then.stdout), json.loads(now.stdout)
    assert old["title"].startswith("【预告】") and new["title"].startswith("【首播】")
    # a capture in day one's file alone, and nothing before the first crawl
    only_day1 = extract("epochtimes", "--warc", str(day1), "--url", url)
    assert json.loads(only_day1.stdout)["title"] == old["title"]
    early = extract("epochtimes", "--warc", str(folder), "--url", url, "--at", "2001")
    assert early.returncode == 1 and "no capture of" in early.stderr


def test_extract_warc_errors_are_clear(archive, tmp_path):
    [warc] = warc_files(archive["out"], "dw")[:1]
    missing = extract("dw", "--warc", str(warc), "--url", "https://www.dw.com/zh/x/a-1")
    assert missing.returncode == 1 and "holds no capture of" in missing.stderr and not missing.stdout
    bad_time = extract("dw", "--warc", str(warc), "--url", "https://www.dw.com/zh/x/a-1", "--at", "soon")
    assert bad_time.returncode == 1 and "not a time" in bad_time.stderr
    nofile = extract("dw", "--warc", str(tmp_path / "nope.warc.gz"), "--url", "https://www.dw.com/zh/x/a-1")
    assert nofile.returncode == 1 and "cannot read a capture" in nofile.stderr


def snapshot(out: Path, spider: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (out / spider / "_posts").glob("*.md")}


def lines(out: Path, spider: str) -> list[dict]:
    text = (out / spider / "articles.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("spider", ["dw", "epochtimes"])
def test_the_archive_is_rebuilt_from_its_warc_files_alone(archive, spider, tmp_path):
    """Before the parser-fix test below changes the DW archive: DW (galleries completed from
    their own pages, pictures on other hosts, redirects) and two days of Epoch Times, rebuilt
    from a copy holding only the WARC files, file for file."""
    from tests.test_edits import archive_files, warc_only_copy

    out, copy = archive["out"], tmp_path / "copy"
    # an Epoch Times story relates to a DW one (newscrawl.related): the sites are rebuilt in
    # the order they were crawled, DW first, so that the Epoch Times article finds it again
    for site in ("dw", "epochtimes")[:("dw", "epochtimes").index(spider) + 1]:
        warc_only_copy(out, copy, site)
        rebuilt = reparse("http://127.0.0.1:9", copy, site)
        assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    want, got = archive_files(out / spider), archive_files(copy / spider)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []
    report = json.loads(sorted((copy / spider / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert report["requests"] == 0 and not report["stats"].get("newscrawl/dropped/duplicate")


def test_reparse_after_a_parser_fix_rewrites_exactly_the_affected_posts(archive):
    out = archive["out"]
    posts, before = snapshot(out, "dw"), lines(out, "dw")
    with MirrorServer(default_dirs()) as server:
        fixed = reparse(server.base_url, out, "dw", "-s", f"SPIDER_MODULES={FIXED}")
        assert not server.hits, f"reparse sent requests: {dict(server.hits)}"
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    report = json.loads(sorted((out / "dw" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert report["requests"] == 0 and report["stats"]["newscrawl/reparse/replayed"] >= 20
    after = snapshot(out, "dw")
    changed = sorted(name for name in posts if after[name] != posts[name])
    assert len(changed) == 1 and set(after) == set(posts)
    assert f"id: {FIXED_ID}" in after[changed[0]].decode()
    assert "相關報導" in posts[changed[0]].decode() and "相關報導" not in after[changed[0]].decode()
    new_lines = lines(out, "dw")[len(before):]
    assert [line["id"] for line in new_lines] == [FIXED_ID]
    old = next(line for line in reversed(before) if line["id"] == FIXED_ID)
    assert new_lines[0]["content_hash"] != old["content_hash"]
    assert new_lines[0]["title"] == old["title"] and new_lines[0]["published"] == old["published"]
    # the fix is ours, not the site's: derived from the same capture, no invented update time
    assert new_lines[0]["origin"] == "parser" and old["origin"] == "site"
    assert new_lines[0]["capture"] == old["capture"] and new_lines[0]["crawled_at"] == old["crawled_at"]
    assert new_lines[0]["updated"] == old["updated"]
    assert "\norigin: parser\n" in after[changed[0]].decode()
    assert report["stats"]["newscrawl/drift/derived"] == 1 and not report["alarms"]
    assert report["items"]["updated"] == 1 and report["items"]["unchanged"] >= 20
    assert "0 requests sent" in fixed.stderr

    # the same fix again: nothing to write
    again = reparse("http://127.0.0.1:9", out, "dw", "-s", f"SPIDER_MODULES={FIXED}")
    assert again.returncode == 0 and snapshot(out, "dw") == after and len(lines(out, "dw")) == len(before) + 1

    # one article selected, with the project's parser: only it is re-derived (back as it was)
    url = next(line["url"] for line in before if line["id"] == FIXED_ID)
    one = reparse("http://127.0.0.1:9", out, "dw", "--url", url)
    assert one.returncode == 0, one.stderr[-3000:]
    report = json.loads(sorted((out / "dw" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert report["stats"]["newscrawl/reparse/replayed"] == 1 and report["items"] == {"updated": 1}
    assert snapshot(out, "dw")[changed[0]] != after[changed[0]]
    assert lines(out, "dw")[-1]["content_hash"] == old["content_hash"]


def test_reparse_of_a_url_never_captured_fails(archive):
    proc = reparse("http://127.0.0.1:9", archive["out"], "dw", "--url", "https://www.dw.com/zh/x/a-99999999")
    assert proc.returncode == 1
    assert "No capture of an article page at https://www.dw.com/zh/x/a-99999999" in proc.stderr


def test_reparse_without_captures_says_so(tmp_path):
    """A usage mistake (the wrong folder), found before the crawl: one line, exit status 2
    (tests/test_usage.py has the whole line)."""
    proc = reparse("http://127.0.0.1:9", tmp_path / "out", "dw")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"scrapy reparse: error: nothing to reparse: no WARC file of dw in "
                                  f"{tmp_path / 'out' / 'dw' / 'warc'}/")


def test_a_live_crawl_tells_a_changed_parser_from_an_edit_and_raises_the_alarm(tmp_path):
    """The page of the fixed article changes only in its sidebar, so the re-check parses it;
    the crawl runs the fixed parser. Its parse differs from the archived version, and so does
    the fixed parser's parse of the archived version's capture: the change is ours, recorded
    as ``origin: parser`` with no update time, and the run fails on the drift alarm."""
    out = tmp_path / "out"
    url = "https://www.dw.com/zh-hant/德國出口連續第三個月下滑/a-68200204"
    page = (DW_MIRROR / "pages" / "a-68200204.html").read_text(encoding="utf-8")
    sidebar = tmp_path / "sidebar"
    (sidebar / "pages").mkdir(parents=True)
    assert "</body>" in page
    (sidebar / "pages" / "a-68200204.html").write_text(
        page.replace("</body>", "<aside>热门新闻：今天的另一条新闻</aside></body>", 1), encoding="utf-8")
    route = {"file": "pages/a-68200204.html", "content_type": "text/html; charset=utf-8"}
    (sidebar / "manifest.json").write_text(json.dumps({url: route}), encoding="utf-8")
    with MirrorServer(default_dirs()) as server:
        first = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"])
        server.load([*default_dirs(), sidebar])
        # a clock far ahead and an audit budget for all: every article is re-checked (they are
        # settled, published years before they were archived: the audit fetches them)
        second = crawl("dw", server.base_url, out, *DEMO_CRAWLS["dw"], "-s", f"SPIDER_MODULES={FIXED}",
                       "-s", "NEWSCRAWL_CLOCK=2100-01-01T00:00:00Z", "-s", "NEWSCRAWL_AUDIT_BUDGET=1000")
    assert first.returncode == 0, first.log[-3000:]
    assert second.returncode == 1, second.log[-3000:]
    mine = [line for line in lines(out, "dw") if line["id"] == FIXED_ID]
    assert [(x["version"], x["origin"]) for x in mine] == [(1, "site"), (2, "parser")]
    assert mine[1]["updated"] == mine[0]["updated"] and mine[1]["capture"] != mine[0]["capture"]
    assert second.report["items"].get("updated") == 1
    assert [a["field"] for a in second.report["alarms"]] == ["parser_derived_versions"]
    assert "The parser changed" in second.log


@pytest.mark.skipif(importlib.util.find_spec("wacz") is None, reason="needs the wacz extra")
def test_wacz_bundles_the_spiders_warcs_with_a_page_per_article(archive, tmp_path):
    out = archive["out"]
    target = tmp_path / "epochtimes.wacz"
    proc = run("wacz", "epochtimes", "-o", str(target), "-s", f"NEWSCRAWL_OUTPUT_DIR={out}")
    assert proc.returncode == 0, proc.stderr
    valid = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(target)],
                           capture_output=True, text=True)
    assert valid.returncode == 0 and "is valid" in valid.stdout, valid.stdout + valid.stderr
    with zipfile.ZipFile(target) as z:
        for warc in warc_files(out, "epochtimes"):
            assert z.read(f"archive/{warc.name}") == warc.read_bytes()
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode().splitlines()[1:]]
        index = gzip.decompress(z.read("indexes/index.cdx.gz")).decode()
    titles = {line["url"]: line["title"] for line in lines(out, "epochtimes")}  # the latest of each
    assert {p["url"] for p in pages} == set(titles)
    assert all(p["title"] == titles[p["url"]] for p in pages)
    assert all(f'"url": "{p["url"]}"' in index for p in pages)

    # the capture index deleted: rebuilt from the WARC files, the same WACZ contents
    (out / "epochtimes" / "warc" / "captures.sqlite3").unlink()
    again = run("wacz", "epochtimes", "-o", str(tmp_path / "again.wacz"), "-s", f"NEWSCRAWL_OUTPUT_DIR={out}")
    assert again.returncode == 0, again.stderr
    with zipfile.ZipFile(tmp_path / "again.wacz") as z:
        assert gzip.decompress(z.read("indexes/index.cdx.gz")).decode() == index


def test_a_reparse_hands_each_round_to_the_engine_a_chunk_at_a_time(archive, monkeypatch):
    """The plan lives in a temporary SQLite database; whatever the chunk, the requests come in
    the same order, round after round (the retitled article's second capture last)."""
    import logging

    from newscrawl.crawling import reparse as rounds_module
    from newscrawl.replay import REPLAY_PIN
    from newscrawl.sites.epochtimes import SITE

    def handed(chunk: int) -> list[list[tuple[str, tuple]]]:
        monkeypatch.setattr(rounds_module, "CHUNK", chunk)
        rounds = rounds_module.ReparseRounds(SITE, callback=print, errback=print, render={}, stats=None,
                                             logger=logging.getLogger("test"))
        rounds.plan(archive["out"] / "epochtimes" / "warc", [], lambda article_id: None)
        calls = []
        while batch := [(r.url, r.meta[REPLAY_PIN]) for r in rounds.next_round()]:
            calls.append(batch)
        return calls

    whole, chunked = handed(1000), handed(2)
    assert len(whole) >= 2 and len(whole[0]) > 2  # every article, then the edited one's next capture
    assert any("n13958996" in url for url, _ in whole[-1])  # retitled on day two
    assert all(len(batch) <= 2 for batch in chunked) and len(chunked) > len(whole)
    assert [r for batch in chunked for r in batch] == [r for batch in whole for r in batch]
