"""Sitemaps as a source (``-a sitemaps=1``): robots.txt's ``Sitemap:`` lines, indexes, news and
article sitemaps of the mirror (``tests/mirror/sitemaps/``, built by ``build_sitemaps.py``),
kept to the run's edition; conditional like feeds; ``<lastmod>`` as an edit signal; and
hostile sitemaps refused."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from scrapy.http import Request, Response, XmlResponse

from newscrawl.crawling import sitemaps
from newscrawl.crawling.incremental import IncrementalPolicy
from newscrawl.crawling.sitemaps import read_sitemap, robots_sitemaps, sitemap_body
from newscrawl.sites.base import Link
from newscrawl.sites.dw import SITE as DW
from newscrawl.sites.epochtimes import SITE as EPOCHTIMES
from newscrawl.state import Known
from tests.conftest import DW_MIRROR
from tests.crawl import crawl
from tests.mirror.server import MIRROR_ROOT, MirrorServer

SITEMAPS = MIRROR_ROOT / "sitemaps"
ET_MIRROR = MIRROR_ROOT / "epochtimes"
STATIC = ("-s", "NEWSCRAWL_RENDER_FALLBACK=0")
ONLY_SITEMAPS = ("-a", "sitemaps=1", "-a", "feed=0", *STATIC)
#: the first run's "now": after every <lastmod> of the mirror's sitemaps
DAY_1 = "2024-03-01T00:00:00Z"
EDITED = "https://www.dw.com/zh/欧洲新一代气象卫星传回首批完整云图/a-68200102"


def expected_urls(site_dir: Path, edition: str) -> set[str]:
    """The mirror's article pages of ``edition`` served on its first day (what the sitemaps list)."""
    expected = json.loads((site_dir / "expected.json").read_text(encoding="utf-8"))
    served = json.loads((site_dir / "manifest.json").read_text(encoding="utf-8"))
    return {v["url"] for k, v in expected.items() if k.endswith(".html") and isinstance(v, dict)
            and f"/{edition}/" in v.get("url", "") and "file" in served.get(v["url"], {})}


def article_hits(hits: Counter, site: str = "www.dw.com") -> Counter:
    return Counter({url: n for url, n in hits.items() if n and url.startswith(f"https://{site}/")
                    and (DW if site == "www.dw.com" else EPOCHTIMES).article_id(url)})


# ---- reading and filtering (the parser's protections) --------------------------------------

def xml_response(url: str, body: bytes, cls: type[Response] = XmlResponse) -> Response:
    return cls(url=url, body=body, request=Request(url))


def urlset(*entries: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(entries) + "</urlset>").encode()


def test_robots_sitemaps_are_absolute_and_kept_to_the_edition_and_the_site():
    body = (SITEMAPS / "dw-robots.txt").read_bytes()
    announced = robots_sitemaps(xml_response("https://www.dw.com/robots.txt", body, Response))
    assert "https://www.dw.com/zh/article-sitemap.xml" in announced  # a relative Sitemap: line
    assert "https://sitemaps.example.net/zh/article-sitemap.xml" in announced  # lower-case "sitemap:"
    wanted = [url for url in announced if sitemaps.sitemap_wanted(DW, url, "zh")]
    assert wanted == ["https://www.dw.com/zh/news-sitemap.xml", "https://www.dw.com/zh/article-sitemap.xml"]
    assert [url for url in announced if sitemaps.sitemap_wanted(DW, url, "zh-hant")] == []


def test_entries_of_other_editions_hosts_and_schemes_are_left_out():
    body = urlset(
        "<url><loc>https://www.epochtimes.com/gb/23/3/15/n13960412.htm</loc>"
        "<lastmod>2023-03-15T14:12:05Z</lastmod></url>",
        "<url><loc>https://www.epochtimes.com/b5/23/3/15/n13960412.htm</loc></url>",  # the other script
        "<url><loc>https://www.epochtimes.com/gb/nsc413.htm</loc></url>",  # a listing, no article
        "<url><loc>https://www.epochtimes.com.evil.example/gb/23/3/15/n1.htm</loc></url>",
        "<url><loc>http://evil.example.org/gb/23/3/15/n2.htm</loc></url>",
        "<url><loc>javascript:alert(1)</loc></url>",
        "<url><loc>file:///etc/passwd</loc></url>",
        "<url><loc>https://www.epochtimes.com/gb/23/3/14/n13960133.htm</loc><lastmod>yesterday</lastmod></url>",
    )
    read = read_sitemap(body, EPOCHTIMES, "gb")
    assert read.kind == "urlset" and not read.cut
    assert read.links == [
        Link("https://www.epochtimes.com/gb/23/3/15/n13960412.htm", lastmod="2023-03-15T14:12:05Z"),
        Link("https://www.epochtimes.com/gb/23/3/14/n13960133.htm")]  # no date: no lastmod
    assert read.left_out == 6
    assert [link.url for link in read_sitemap(body, EPOCHTIMES, "b5").links] == [
        "https://www.epochtimes.com/b5/23/3/15/n13960412.htm"]


def test_an_external_entity_is_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    body = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://www.dw.com/zh/x/a-1&xxe;</loc><lastmod>2024-01-01&xxe;</lastmod></url>"
            "<url><loc>https://www.dw.com/zh/y/a-2</loc></url></urlset>").encode()
    read = read_sitemap(body, DW, "zh")
    assert "TOP-SECRET-VALUE" not in repr(read)
    assert Link("https://www.dw.com/zh/y/a-2") in read.links


def test_entity_expansion_is_not_a_bomb():
    laughs = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    body = (f'<?xml version="1.0"?><!DOCTYPE urlset [{laughs}]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://www.dw.com/zh/x/a-1</loc><lastmod>&a9;</lastmod></url></urlset>").encode()
    started = time.monotonic()
    read = read_sitemap(body, DW, "zh")
    assert time.monotonic() - started < 2
    assert read.links == [Link("https://www.dw.com/zh/x/a-1")]  # 10⁹ "lol"s are no date


def test_a_gzip_bomb_is_refused_and_a_real_gzipped_sitemap_read():
    url = "https://www.dw.com/zh/article-sitemap-2023.xml.gz"
    bomb = gzip.compress(b"<urlset>" + b" " * (20 * 2**20) + b"</urlset>")
    assert len(bomb) < 100_000
    assert sitemap_body(xml_response(url, bomb, Response), max_size=2**20) is None
    real = (SITEMAPS / "dw-articles-zh-2023.xml.gz").read_bytes()
    body = sitemap_body(xml_response(url, real, Response), max_size=2**20)
    assert body is not None and body.startswith(b"<?xml")
    expected = json.loads((DW_MIRROR / "expected.json").read_text(encoding="utf-8"))
    of_2023 = {v["url"] for v in expected.values() if isinstance(v, dict) and "/zh/" in v.get("url", "")
               and v["published"].startswith("2023")}
    read = read_sitemap(body, DW, "zh")
    assert {link.url for link in read.links} == of_2023 and len(of_2023) == 12
    assert read.left_out == 1  # an /en/ article
    truncated = real[: len(real) // 2]  # cut in transfer: what unpacks is read, the rest is not
    assert sitemap_body(xml_response(url, truncated, Response), max_size=2**20) is not None


def test_a_sitemap_longer_than_the_protocol_allows_is_cut(monkeypatch):
    monkeypatch.setattr(sitemaps, "MAX_ENTRIES", 100)
    body = urlset(*(f"<url><loc>https://www.dw.com/zh/x/a-{n}</loc></url>" for n in range(1, 151)))
    read = read_sitemap(body, DW, "zh")
    assert len(read.links) == 100 and read.cut


@pytest.mark.parametrize("body", [b"", b"not xml at all", b"<html><body>404</body></html>",
                                  b"<?xml version='1.0'?><rss><channel/></rss>", b"\xff\xfe<\x00u\x00"])
def test_what_is_no_sitemap_gives_no_entry(body):
    read = read_sitemap(body, DW, "zh")
    assert read.kind not in ("urlset", "sitemapindex") and read.links == []


def test_the_newest_sitemaps_of_an_index_come_first():
    links = [Link("a", lastmod="2023-01-01"), Link("b"), Link("c", lastmod="2024-01-01T00:00:00+08:00")]
    assert [link.url for link in sitemaps.newest_first(links)] == ["c", "a", "b"]


def test_a_later_lastmod_is_a_signal_an_earlier_one_is_not():
    known = Known(url="u", title="t", content_hash="h", post_path="p", published="2023-10-03T06:30:11Z",
                  last_checked="2024-03-01T00:00:00+00:00")
    assert IncrementalPolicy.sitemap_says_changed(known, Link("u", lastmod="2024-03-03T10:00:00Z"))
    assert not IncrementalPolicy.sitemap_says_changed(known, Link("u", lastmod="2024-02-29T23:59:59Z"))
    assert not IncrementalPolicy.sitemap_says_changed(known, Link("u"))


def test_sitemaps_is_a_source_of_its_own_and_may_be_optional():
    from newscrawl.spiders.dw import DwSpider
    from newscrawl.spiders.epochtimes import EpochTimesSpider

    alone = DwSpider(sitemaps="1")
    assert alone.sitemaps == ["https://www.dw.com/robots.txt"] and alone.feeds == []  # not the feed too
    assert DwSpider(sitemaps="1", feed="1").feeds == ["https://rss.dw.com/xml/rss-chi-all"]
    assert DwSpider().sitemaps == [] and DwSpider(sitemaps="0").sitemaps == []
    optional = EpochTimesSpider(sitemaps="1", edition="b5", optional="sitemaps")
    assert optional.optional_sources == {"https://www.epochtimes.com/robots.txt"}


# ---- crawls of the mirror --------------------------------------------------------------------

def edited_overlay(tmp_path: Path) -> Path:
    """The sitemaps overlay on a later day: DW edited an old article (a-68200102), and its
    article sitemap (and the index) say so with a later ``<lastmod>``."""
    overlay = tmp_path / "sitemaps-edited"
    shutil.copytree(SITEMAPS, overlay)
    page = (DW_MIRROR / "pages" / "a-68200102.html").read_text(encoding="utf-8")
    old = "这颗卫星搭载的成像仪每十分钟即可完成一次全盘扫描"
    assert old in page
    (overlay / "a-68200102-edited.html").write_text(page.replace(old, f"更正：{old}"), encoding="utf-8")
    gz = overlay / "dw-articles-zh-2023.xml.gz"
    xml = gzip.decompress(gz.read_bytes()).decode()
    entry = f"<loc>{EDITED}</loc><lastmod>2023-10-03T06:31:01Z</lastmod>"
    assert entry in xml
    later = entry.replace("2023-10-03T06:31:01Z", "2024-03-03T10:00:00Z")
    gz.write_bytes(gzip.compress(xml.replace(entry, later).encode(), mtime=0))
    index = overlay / "dw-articles-zh.xml"
    text = index.read_text(encoding="utf-8")
    index.write_text(text.replace("2023-12-15T07:55:12Z", "2024-03-03T10:00:00Z"), encoding="utf-8")
    manifest = json.loads((overlay / "manifest.json").read_text(encoding="utf-8"))
    manifest[EDITED] = {"file": "a-68200102-edited.html", "content_type": "text/html; charset=utf-8"}
    (overlay / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return overlay


@pytest.fixture(scope="module")
def dw_runs(tmp_path_factory):
    """Three runs of ``dw -a sitemaps=1``: day 1, six hours later (nothing changed), three days
    later (an old article edited, its sitemap's <lastmod> later); the hits of each."""
    tmp = tmp_path_factory.mktemp("sitemaps")
    out = tmp / "out"
    runs, hits = [], []
    with MirrorServer([DW_MIRROR, SITEMAPS]) as server:
        for clock, dirs in ((DAY_1, None), ("2024-03-01T06:00:00Z", None),
                            ("2024-03-04T00:00:00Z", [DW_MIRROR, edited_overlay(tmp)])):
            if dirs:
                server.load(dirs)
            before = Counter(server.hits), Counter(server.not_modified)
            runs.append(crawl("dw", server.base_url, out, *ONLY_SITEMAPS, "-s", f"NEWSCRAWL_CLOCK={clock}"))
            hits.append((server.hits - before[0], server.not_modified - before[1]))
    return runs, hits


def test_a_crawl_with_sitemaps_archives_what_they_list_in_its_edition(dw_runs):
    (first, *_), ((hits, _), *_) = dw_runs
    assert first.returncode == 0, first.log[-3000:]
    wanted = expected_urls(DW_MIRROR, "zh")
    assert len(wanted) == 18
    assert {unquote(line["url"]) for line in first.jsonl()} == wanted
    assert set(article_hits(hits)) == wanted and set(article_hits(hits).values()) == {1}
    assert first.stat("newscrawl/sitemaps/entries") == 18
    assert first.stat("newscrawl/sitemaps/left_out") == 13  # robots 4, index 2, entries 7
    # other editions' sitemaps, other hosts, the index inside the index: never followed
    asked = {url for url in hits if "sitemap" in url}
    assert asked == {"https://www.dw.com/zh/news-sitemap.xml", "https://www.dw.com/zh/article-sitemap.xml",
                     "https://www.dw.com/zh/article-sitemap-2023.xml.gz",
                     "https://www.dw.com/zh/article-sitemap-older.xml",
                     "https://www.dw.com/zh/article-sitemap-archive.xml"}
    assert first.stat("newscrawl/sitemaps/nested_index") == 1
    assert not any("example" in url or "/en/" in url or "/de/" in url or "zh-hant" in url for url in hits)


def test_an_unchanged_sitemap_costs_a_304_and_no_article(dw_runs):
    (_, second, _), (_, (hits, not_modified), _) = dw_runs
    assert second.returncode == 0, second.log[-3000:]
    assert not article_hits(hits) and second.stat("newscrawl/requests/article") == 0
    assert set(not_modified) == {"https://www.dw.com/zh/news-sitemap.xml",
                                 "https://www.dw.com/zh/article-sitemap-2023.xml.gz",
                                 "https://www.dw.com/zh/article-sitemap-older.xml"}
    # robots.txt twice (Scrapy's robots.txt middleware, and the spider for its Sitemap: lines), the
    # two indexes whole (their entries are needed), the three sitemaps conditionally
    assert sum(hits.values()) == second.stat("downloader/request_count") == 7
    assert second.stat("newscrawl/items/new") == second.stat("newscrawl/items/updated") == 0


def test_an_edit_to_an_old_article_is_caught_through_a_later_lastmod(dw_runs):
    (_, _, third), (_, _, (hits, not_modified)) = dw_runs
    assert third.returncode == 0, third.log[-3000:]
    assert article_hits(hits) == Counter({EDITED: 1})  # the one the sitemap says changed, no other
    assert third.stat("newscrawl/incremental/sitemap_lastmod") == 1
    assert third.stat("newscrawl/items/updated") == 1 and third.stat("newscrawl/items/new") == 0
    assert "https://www.dw.com/zh/article-sitemap-2023.xml.gz" not in not_modified
    versions = [line for line in third.jsonl() if unquote(line["url"]) == EDITED]
    assert len(versions) == 2 and "更正：" in versions[-1]["body_markdown"]
    assert "更正：" not in versions[0]["body_markdown"]


def test_epochtimes_sitemaps_give_the_gb_edition_only(tmp_path):
    with MirrorServer([ET_MIRROR, SITEMAPS]) as server:
        result = crawl("epochtimes", server.base_url, tmp_path / "out", *ONLY_SITEMAPS,
                       "-s", "NEWSCRAWL_CLOCK=2023-04-01T00:00:00Z")
        hits = Counter(server.hits)
    assert result.returncode == 0, result.log[-3000:]
    wanted = expected_urls(ET_MIRROR, "gb")
    assert {unquote(line["url"]) for line in result.jsonl("epochtimes")} == wanted and len(wanted) == 32
    assert set(article_hits(hits, "www.epochtimes.com")) == wanted
    assert hits["https://www.epochtimes.com/gb/article-sitemap-2023-03.xml.gz"] == 1  # gzipped, read
    assert not any("/b5/" in url or "example" in url for url in hits)


def test_an_edition_without_sitemaps_is_a_failed_source_unless_optional(tmp_path):
    with MirrorServer([DW_MIRROR, SITEMAPS]) as server:
        failed = crawl("dw", server.base_url, tmp_path / "a", *ONLY_SITEMAPS, "-a", "lang=zh-hant")
        optional = crawl("dw", server.base_url, tmp_path / "b", *ONLY_SITEMAPS, "-a", "lang=zh-hant",
                         "-a", "optional=sitemaps")
    assert failed.returncode == 1
    assert ("Source failed: sitemaps https://www.dw.com/robots.txt announces no sitemap of the zh-hant"
            in failed.log)
    assert optional.returncode == 0 and optional.stat("newscrawl/sources/optional_failed") == 1
    assert failed.stat("newscrawl/requests/article") == 0


def test_a_sitemap_lastmod_wins_over_a_feed_that_skipped_the_article_first(tmp_path):
    """The feed (read first: the sitemap is three requests away) links the edited article
    too and skips it (archived, not due); the sitemap's later <lastmod> still fetches it."""
    out = tmp_path / "out"
    both = ("-a", "sitemaps=1", "-a", "feed=1", *STATIC)
    overlay = edited_overlay(tmp_path)
    feed = (DW_MIRROR / "rss-chi-all.xml").read_text(encoding="utf-8")
    old = "<lastBuildDate>Wed, 07 Feb 2024 03:31:44 GMT</lastBuildDate>"
    assert old in feed  # rebuilt since: the feed is read again, not a 304
    (overlay / "rss-rebuilt.xml").write_text(feed.replace(old, old.replace("03:31:44", "04:31:44")),
                                             encoding="utf-8")
    manifest = json.loads((overlay / "manifest.json").read_text(encoding="utf-8"))
    manifest["https://rss.dw.com/xml/rss-chi-all"] = {"file": "rss-rebuilt.xml",
                                                      "content_type": "application/rss+xml"}
    (overlay / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with MirrorServer([DW_MIRROR, SITEMAPS]) as server:
        crawl("dw", server.base_url, out, *both, "-s", f"NEWSCRAWL_CLOCK={DAY_1}")
        server.load([DW_MIRROR, overlay])
        before = Counter(server.hits)
        later = crawl("dw", server.base_url, out, *both, "-s", "NEWSCRAWL_CLOCK=2024-03-04T00:00:00Z")
        hits = server.hits - before
    assert later.returncode == 0, later.log[-3000:]
    assert later.stat("newscrawl/feed/items") > 0  # the feed was read and decided on its links
    assert hits[EDITED] == 1 and later.stat("newscrawl/incremental/sitemap_lastmod") == 1
    assert later.stat("newscrawl/items/updated") == 1
    assert [unquote(line["url"]) for line in later.jsonl()].count(EDITED) == 2


def test_hostile_sitemaps_are_refused_without_harm(tmp_path):
    """robots.txt announces a gzip bomb, a sitemap with an external entity and one that is
    HTML: each is a failed source naming it; nothing outside the site is asked for, no local
    file is read, and the news sitemap beside them is read as usual."""
    overlay = tmp_path / "hostile"
    shutil.copytree(SITEMAPS, overlay)
    base = "https://www.epochtimes.com"
    robots = (overlay / "et-robots.txt").read_text(encoding="utf-8")
    (overlay / "et-robots.txt").write_text(robots.replace(
        f"Sitemap: {base}/sitemap_index.xml\n",
        f"Sitemap: {base}/gb/bomb.xml.gz\nSitemap: {base}/gb/xxe.xml\nSitemap: {base}/gb/page.xml\n"),
        encoding="utf-8")
    (overlay / "bomb.xml.gz").write_bytes(gzip.compress(b"<urlset>" + b"\n" * (40 * 2**20) + b"</urlset>"))
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    (overlay / "xxe.xml").write_bytes(urlset(
        f'<url><loc>{base}/gb/23/3/15/n13960412.htm</loc><lastmod>2023-03-15</lastmod></url>')
        .replace(b"<urlset", f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret}">]><urlset'.encode(), 1)
        .replace(b"</urlset>", f"<url><loc>{base}/gb/&x;</loc></url></urlset>".encode()))
    (overlay / "page.xml").write_bytes(b"<html><body><h1>Sitemap</h1></body></html>")
    manifest = json.loads((overlay / "manifest.json").read_text(encoding="utf-8"))
    for name, kind in (("bomb.xml.gz", "application/x-gzip"), ("xxe.xml", "application/xml"),
                       ("page.xml", "text/html")):
        manifest[f"{base}/gb/{name}"] = {"file": name, "content_type": kind}
    (overlay / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with MirrorServer([ET_MIRROR, overlay]) as server:
        result = crawl("epochtimes", server.base_url, tmp_path / "out", *ONLY_SITEMAPS,
                       "-s", "NEWSCRAWL_CLOCK=2023-04-01T00:00:00Z")
        hits = Counter(server.hits)
    assert result.returncode == 1  # the failed sources fail the run (none was optional)
    failed = {source["reason"] for source in result.report["failed_sources"]}
    assert failed == {f"lists {base}/gb/bomb.xml.gz, which unpacks beyond DOWNLOAD_MAXSIZE",
                      f"lists {base}/gb/page.xml, which is no sitemap"}
    assert "TOP-SECRET-VALUE" not in result.log
    assert not list((tmp_path / "out").rglob("*secret*"))
    assert not any("example" in url or "/b5/" in url or url.startswith("file:") for url in hits)
    # the news sitemap (and the one article of the XXE sitemap) are read as usual
    archived = {unquote(line["url"]) for line in result.jsonl("epochtimes")}
    news_sitemap = read_sitemap((SITEMAPS / "et-news-gb.xml").read_bytes(), EPOCHTIMES, "gb")
    news = {link.url for link in news_sitemap.links}
    assert archived == news and f"{base}/gb/23/3/15/n13960412.htm" in news
    assert "TOP-SECRET" not in json.dumps(result.jsonl("epochtimes"), ensure_ascii=False)
