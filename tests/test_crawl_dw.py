"""End to end: the real ``scrapy crawl dw`` against the bundled mirror on 127.0.0.1."""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import unquote

import pytest

from newscrawl.pictures import item_pictures
from tests.conftest import DW_MIRROR, without_files
from tests.crawl import crawl
from tests.mirror.server import MirrorServer

#: the static HTML only, so that the crawl is the same with or without a browser on the machine
#: (whether a failing page would render is tests/test_rendering.py's business)
STATIC = ("-s", "NEWSCRAWL_RENDER_FALLBACK=0")
SOURCES = ("-a", "feed=1", "-a", "topics=t-68199001", *STATIC)


@pytest.fixture(scope="module")
def server():
    with MirrorServer([DW_MIRROR]) as server:
        yield server


@pytest.fixture(scope="module")
def two_runs(server, tmp_path_factory):
    out = tmp_path_factory.mktemp("crawl")
    first = crawl("dw", server.base_url, out, *SOURCES)
    posts_after_first = {name: path_text for name, path_text in _texts(out).items()}
    jsonl_after_first = first.jsonl()
    hits_after_first = Counter(server.hits)
    second = crawl("dw", server.base_url, out, *SOURCES)
    return first, posts_after_first, jsonl_after_first, hits_after_first, second


def _texts(out):
    return {p.name: p.read_text(encoding="utf-8") for p in (out / "dw" / "_posts").glob("*.md")}


def expected_items(dw_expected) -> dict[str, dict]:
    """id → expected values of every page the feed and the topic page lead to."""
    wanted = {unquote(u) for u in dw_expected["feed"] + dw_expected["topic"]}
    return {v["id"]: v for k, v in dw_expected.items() if k.endswith(".html") and v["url"] in wanted}


def test_first_run_writes_one_post_per_article(two_runs, dw_expected):
    first, _, jsonl, _, _ = two_runs
    assert first.returncode == 0, first.log[-3000:]
    assert first.report["finish_reason"] == "finished"
    want = expected_items(dw_expected)
    posts = first.posts()
    ids = [matter["id"] for matter, _ in posts.values()]
    assert sorted(ids) == sorted(want)  # every article, exactly once
    assert sorted(line["id"] for line in jsonl) == sorted(want)
    for matter, body in posts.values():
        expected = want[matter["id"]]
        assert matter["title"] == expected["title"]
        assert matter["date"] == expected["published"]
        assert unquote(matter["from"]) == expected["url"]
        assert matter["from"].startswith("https://www.dw.com/")
        assert "maca" not in matter["from"]
        assert matter["tags"][0] == "德国之声" and matter["categories"][-1] == "德国之声"
        assert body.startswith("<!--")
        article_body = body.split("\n## 相关图集：")[0].split("\n## 相關圖集：")[0]
        for junk in expected.get("body_must_not_contain", []):
            assert junk not in article_body
    assert first.stat("newscrawl/items/new") == len(want)


def test_jsonl_lines_are_complete_and_readable(two_runs, dw_expected):
    first, _, jsonl, _, _ = two_runs
    raw = (first.out / "dw" / "articles.jsonl").read_text(encoding="utf-8")
    assert "\\u" not in raw  # Chinese is not escaped
    want = expected_items(dw_expected)
    for line in jsonl:
        assert set(line) == {"site", "id", "url", "title", "published", "updated", "published_precision",
                             "authors", "editor",
                             "lead", "body_markdown", "images", "gallery", "tags", "category", "lang",
                             "source_name", "crawled_at", "content_hash", "rendered", "version",
                             "previous_hash", "capture", "origin", "parser", "cluster", "related"}
        assert line["origin"] == "site" and line["parser"].startswith("dw/")
        assert line["capture"]["file"].endswith(".warc.gz")
        assert line["capture"]["record"].startswith("<urn:uuid:")
        assert line["authors"] == want[line["id"]]["authors"]
        assert without_files(line["gallery"]) == want[line["id"]]["gallery"]  # incl. captions from g- pages
        assert all("sha256" in (image["file"] or {"sha256": None}) for image in item_pictures(line))


def test_bad_pages_are_counted_drops_not_crashes(two_runs):
    first = two_runs[0]
    dropped = {k.split("/", 2)[2]: v for k, v in first.stats.items() if k.startswith("newscrawl/dropped/")}
    assert dropped == {"http_404": 1, "http_500": 1, "truncated_page": 1, "unrecognised_layout": 1,
                       "offsite_redirect": 1}
    assert first.stat("newscrawl/retried/truncated_page") == 1  # retried once first
    assert first.stat("newscrawl/rendered/requests") == 0  # no browser asked for, none needed
    errors = [line for line in first.log.splitlines() if " ERROR: " in line]
    assert all("Gave up retrying" in line for line in errors), errors  # the 500, after retries
    assert "Traceback" not in first.log and first.stat("log_count/WARNING") <= 10


def test_feed_and_listing_links_are_deduplicated_on_the_id(two_runs, server):
    first = two_runs[0]
    assert first.stat("newscrawl/requests/duplicate_id") >= 1
    hits = two_runs[3]
    article_hits = {k: v for k, v in hits.items() if "/a-" in k}
    assert max(article_hits.values()) <= 3  # at most the retries of a failing page


def test_second_run_fetches_no_article_and_writes_nothing(two_runs):
    _, posts_before, _, _, second = two_runs
    assert second.returncode == 0
    assert _texts(second.out) == posts_before
    assert second.stat("newscrawl/requests/article") == 0
    # the feed and the topic page are asked conditionally: unchanged, they are not even parsed
    assert second.stat("newscrawl/conditional/not_modified") == 2
    assert second.stat("newscrawl/incremental/known_skipped") == 0
    # the feed, the topic page (+ its slugless redirect) and robots.txt of two hosts
    assert second.stat("downloader/request_count") == 5
    assert second.stat("item_scraped_count") == 0
    assert len(second.jsonl()) == len(two_runs[2])  # nothing appended


def test_full_recrawl_fetches_everything_and_writes_nothing_new(two_runs, server):
    first, posts_before, jsonl_before, _, _ = two_runs
    full = crawl("dw", server.base_url, first.out, *SOURCES, "-a", "full=1")
    assert full.stat("newscrawl/incremental/known_skipped") == 0
    assert full.stat("newscrawl/items/unchanged") == first.stat("newscrawl/items/new")
    assert full.stat("newscrawl/items/new") == 0 and full.stat("newscrawl/items/updated") == 0
    assert _texts(first.out) == posts_before
    assert full.jsonl() == jsonl_before


def edited_mirror(tmp_path, file: str, old: str, new: str):
    """A copy of the mirror in which one page's text changed (the site edited an article)."""
    import shutil

    copy = tmp_path / "mirror-day2"
    shutil.copytree(DW_MIRROR, copy)
    page = copy / file
    text = page.read_text(encoding="utf-8")
    assert old in text
    page.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def test_a_retitled_article_rewrites_its_own_post(tmp_path):
    out = tmp_path / "out"
    url = "https://www.dw.com/zh/a-68200101"
    with MirrorServer([DW_MIRROR]) as server:
        first = crawl("dw", server.base_url, out, "-a", f"urls={url}", *STATIC)
        [(name, (matter, _))] = first.posts().items()
        assert matter["title"] == "欧盟就关键原材料供应链新规达成一致"
        server.load([edited_mirror(tmp_path, "pages/a-68200101.html", "欧盟就关键原材料供应链新规达成一致",
                                   "欧盟正式通过关键原材料供应链新规")])
        second = crawl("dw", server.base_url, out, "-a", f"urls={url}", *STATIC)
    [(name2, (matter2, _))] = second.posts().items()
    assert name2 == name  # same file, for ever
    assert matter2["title"] == "欧盟正式通过关键原材料供应链新规"
    assert matter2["updated"] >= matter2["date"]
    assert second.stat("newscrawl/items/updated") == 1 and second.stat("newscrawl/posts/rewritten") == 1
    assert [line["title"] for line in second.jsonl()] == ["欧盟就关键原材料供应链新规达成一致",
                                                         "欧盟正式通过关键原材料供应链新规"]


def test_robots_txt_is_obeyed_and_o_writes_the_users_file(server, tmp_path):
    target = tmp_path / "mine.jsonl"
    result = crawl("dw", server.base_url, tmp_path / "out", "-a",
                   "urls=https://www.dw.com/zh/search/a-68200101,https://p.dw.com/p/4YkQa",
                   "-O", str(target), *STATIC)
    assert result.stat("newscrawl/dropped/ignored_request") == 1  # /zh/search is disallowed
    assert result.stat("robotstxt/forbidden") == 1
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1  # the permalink, followed to its article
    assert json.loads(lines[0])["id"] == "a-68200101"
    # the archive's own JSON lines stay complete (Scrapy merges FEEDS with -O)
    assert (tmp_path / "out" / "dw" / "articles.jsonl").read_text(encoding="utf-8").splitlines() == lines


def test_every_post_loads_back_to_its_item(two_runs):
    first = two_runs[0]
    items = {line["id"]: line for line in two_runs[2]}
    for matter, _ in first.posts().values():
        item = items[matter["id"]]
        assert matter["title"] == item["title"]
        assert matter["date"] == item["published"]
        assert matter["from"] == item["url"]
        assert matter.get("authors", []) == item["authors"]
        assert matter.get("lead") == item["lead"]
        assert matter.get("updated") == item["updated"]
        assert matter["tags"] == ["德国之声", *item["tags"]]
        assert matter["lang"] == item["lang"]


def test_due_re_checks_are_conditional_and_cost_no_parsing(two_runs, server):
    """A clock far in the future, with an audit budget for all of them, makes every archived
    article (settled: published years before it was archived) due for its audit: each is
    asked once more with its ETag, and the 304 costs no parsing and no writing."""
    first = two_runs[0]
    later = crawl("dw", server.base_url, first.out, *SOURCES, "-s", "NEWSCRAWL_CLOCK=2100-01-01T00:00:00Z",
                  "-s", "NEWSCRAWL_AUDIT_BUDGET=1000")
    archived = first.stat("newscrawl/items/new")
    assert later.stat("newscrawl/incremental/audited") == archived
    assert later.report["rechecks"] == {"audit": archived}
    # each archived article once (asked with the ETag it was archived with), and the pages
    # that failed (a day before, by this clock) once more
    failed = first.stat("newscrawl/dropped/http_404") + first.stat("newscrawl/dropped/http_500")
    retried = later.stat("newscrawl/incremental/failed_retried")
    assert retried >= failed
    assert later.stat("newscrawl/requests/article") == archived + retried
    # + the feed and topic page, and the failed pages that are unchanged since (they fail
    # again without being parsed)
    # ... but for the two articles whose pictures were not kept (one gone, one too large): those
    # are fetched whole and parsed, so that their pictures are tried again
    whole = later.stat("newscrawl/incremental/refetched_for_pictures")
    assert whole == 2 and later.stat("newscrawl/images/too_large") == 1
    assert archived + 2 - whole <= later.stat("newscrawl/conditional/not_modified") <= archived + 2 + retried
    assert later.stat("newscrawl/items/unchanged") == whole and later.stat("item_scraped_count") == 0
