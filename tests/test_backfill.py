"""Backfills (``-a since=``): a tag listing of many pages walked back to a date, with no page
cap, remembered in the state, limited per run (``-a backfill_pages``), continued after a stop
or a kill, every article archived exactly once.

The mirror gets an overlay: a tag of ``pages`` listing pages (the mirror's own tag page as the
template, ``per_page`` entries each, one article a day going back from 2023-03-06) and its
article pages (copies of a mirror article under other ids, titles and URL days).
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from newscrawl.crawling.backfill import pages_left, progress_line
from tests.crawl import REPO, CrawlResult, crawl
from tests.mirror.demo import scrapy_command
from tests.mirror.server import DEFAULT_SITES, MIRROR_ROOT, MirrorServer, default_dirs

ET = MIRROR_ROOT / "epochtimes"
WWW = "https://www.epochtimes.com"
TAG = "历史回顾"
TEMPLATE_ID, TEMPLATE_FILE = "13954402", "pages/n13954402-gb.html"
TEMPLATE_TITLE = "美国半导体行业报告：对华销售占比连续下降"
LISTING_TEMPLATE = "pages/tag-zhongmeiguanxi-2.html"
#: the newest article of the tag; each next one a day older
NEWEST = date(2023, 3, 6)


def page_url(n: int) -> str:
    slug = quote(TAG)
    return f"{WWW}/gb/tag/{slug}.html" if n == 1 else f"{WWW}/gb/tag/{slug}_{n}.html"


def article(k: int) -> tuple[str, str, date]:
    """The ``k``-th newest article of the tag: its id, URL and URL day."""
    day = NEWEST - timedelta(days=k)
    article_id = f"3{k:07d}"
    return article_id, f"{WWW}/gb/{day.year % 100}/{day.month}/{day.day}/n{article_id}.htm", day


def backfill_overlay(directory: Path, pages: int, per_page: int) -> list[tuple[str, str, date]]:
    """The tag's ``pages`` listing pages and their articles under ``directory``; the articles,
    newest first."""
    listing = (ET / LISTING_TEMPLATE).read_text(encoding="utf-8")
    items = re.search(r'<ul class="posts_list">.*?</ul>', listing, re.S)
    pager = re.search(r'<div class="pagination">.*?</div>', listing, re.S)
    assert items and pager
    template = (ET / TEMPLATE_FILE).read_text(encoding="utf-8")
    assert TEMPLATE_ID in template and TEMPLATE_TITLE in template
    (directory / "pages").mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict] = {}
    articles = [article(k) for k in range(pages * per_page)]
    for k, (article_id, url, _) in enumerate(articles):
        title = f"{TEMPLATE_TITLE}（回顾之{k + 1}）"
        page = template.replace(TEMPLATE_ID, article_id).replace(TEMPLATE_TITLE, title)
        file = f"pages/n{article_id}-gb.html"
        (directory / file).write_text(page, encoding="utf-8")
        manifest[url] = {"file": file, "content_type": "text/html; charset=utf-8"}
    for n in range(1, pages + 1):
        mine = articles[(n - 1) * per_page:n * per_page]
        first = (n - 1) * per_page + 1
        lis = "".join(f'<li><a href="{url}" class="title">{TEMPLATE_TITLE}（回顾之{first + i}）'
                      f'</a><time>{day.isoformat()}</time></li>\n' for i, (_, url, day) in enumerate(mine))
        links = "".join(f'<a class="page-numbers" href="{page_url(m)}">{m}</a>'
                        for m in range(max(1, n - 2), min(pages, n + 2) + 1) if m != n)
        nxt = f'<a class="next page-numbers" href="{page_url(n + 1)}">下一页</a>' if n < pages else ""
        html = listing.replace(items.group(0), f'<ul class="posts_list">\n{lis}</ul>')
        html = html.replace(pager.group(0), f'<div class="pagination">{links}'
                            f'<span aria-current="page" class="page-numbers current">{n}</span>{nxt}</div>')
        file = f"pages/tag-backfill-{n}.html"
        (directory / file).write_text(html, encoding="utf-8")
        manifest[page_url(n)] = {"file": file, "content_type": "text/html; charset=utf-8"}
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return articles


def within(articles: list[tuple[str, str, date]], k: int) -> set[str]:
    """The ids a backfill back to the ``k``-th newest article's day archives (those a day
    older too: a URL's day may be the day before publication)."""
    oldest = articles[k][2] - timedelta(days=1)
    return {f"n{article_id}" for article_id, _, day in articles if day >= oldest}


def archived_ids(out: Path) -> Counter:
    path = out / "epochtimes" / "articles.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return Counter(json.loads(line)["id"] for line in lines)


def backfill_row(out: Path) -> dict:
    with sqlite3.connect(out / "state" / "newscrawl.sqlite3") as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM backfills WHERE source = ?", (page_url(1),)).fetchone()
    return dict(row) if row else {}


def run(server: MirrorServer, out: Path, *args: str) -> CrawlResult:
    return crawl("epochtimes", server.base_url, out, "-a", f"tags={TAG}", "-a", "feed=0", *args,
                 "-s", "NEWSCRAWL_CLOCK=2023-03-07T06:00:00Z")


# ---- the estimate and the progress line ---------------------------------------------------

def test_pages_left_follows_the_pace_so_far():
    # 10 pages took the walk 30 days back; 60 more days to go: about 20 pages
    assert pages_left(10, "2023-03-01", "2023-01-30", "2022-12-01") == 20
    assert pages_left(10, "2023-03-01", "2023-01-30", "2023-02-15") == 1  # the page that ends it
    assert pages_left(0, None, None, "2022-01-01") is None
    assert pages_left(3, "2023-03-01", "2023-03-01", "2022-01-01") is None  # no pace yet


def test_the_progress_line_says_how_far_and_what_is_left():
    row = {"pages": 10, "requested": 30, "archived": 28, "newest": "2023-03-01", "oldest": "2023-01-30"}
    assert progress_line("L", "2022-12-01", 10, row, False, "u") == (
        "Backfill of L back to 2022-12-01: page 10 read (10 pages, 30 articles asked for, 28 archived), "
        "back to 2023-01-30, about 20 pages left")
    assert progress_line("L", "2023-02-15", 10, row, True, "u").startswith(
        "Backfill of L back to 2023-02-15: finished at page 10, its entries are older than 2023-02-15")


# ---- crawls ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A tag of 12 pages of 3 articles (36 days back from 2023-03-06)."""
    tmp = tmp_path_factory.mktemp("backfill")
    articles = backfill_overlay(tmp / "overlay", pages=12, per_page=3)
    with MirrorServer([*default_dirs(DEFAULT_SITES), tmp / "overlay"]) as server:
        yield server, tmp, articles


def test_a_backfill_walks_back_to_its_date_a_limited_number_of_pages_a_run(small):
    server, tmp, articles = small
    out = tmp / "limited"
    since = articles[25][2].isoformat()  # the 26th newest: on page 9
    # (and the 27th: a day older, but a URL's day may be the day before publication)
    wanted = within(articles, 25)
    assert len(wanted) == 27
    runs = []
    for _ in range(3):
        result = run(server, out, "-a", f"since={since}", "-a", "backfill_pages=4")
        assert result.returncode == 0, result.log[-3000:]
        runs.append(result)
    # four pages a run: 1–4, 5–8, then 9 and 10, whose entries are all older than since
    assert [r.stat("newscrawl/backfill/pages") for r in runs] == [4, 4, 2]
    assert "Backfill of" in runs[0].log and "page 4 read (4 pages, 12 articles asked for" in runs[0].log
    assert "going on at page 5 (4 read before)" in runs[1].log
    assert "; backfill 4 pages (12 articles asked for);" in runs[1].log.splitlines()[-1]
    assert "finished at page 10, its entries are older than" in runs[2].log
    ids = archived_ids(out)
    assert set(ids) == wanted and max(ids.values()) == 1  # everything back to since, once
    assert runs[2].stat("newscrawl/backfill/older_left_out") == 3
    row = backfill_row(out)
    assert (row["pages"], row["requested"], row["archived"]) == (10, 27, 27)
    assert row["finished"] and row["oldest"] == articles[29][2].isoformat()
    # a finished backfill: the next run with since reads the first page as any run does
    again = run(server, out, "-a", f"since={since}")
    assert again.returncode == 0 and not again.stat("newscrawl/backfill/pages")
    assert f"Backfill of {WWW}/gb/tag/{TAG}.html back to {since}: finished" in again.log  # (logged unquoted)
    assert again.stat("newscrawl/incremental/listing_pages") == 1 and archived_ids(out) == ids
    # an earlier date: the walk goes on from where it stopped, to the listing's end
    deeper = run(server, out, "-a", "since=2020-01-01")
    assert deeper.returncode == 0, deeper.log[-3000:]
    # (page 10 again, for the entries it left out, then 11 and 12)
    assert "going on at page 10 (10 read before)" in deeper.log
    assert deeper.stat("newscrawl/backfill/pages") == 3
    assert "finished at page 12, the listing ends" in deeper.log
    ids = archived_ids(out)
    assert len(ids) == 36 and max(ids.values()) == 1


def test_without_since_a_first_walk_stops_at_the_page_limit(small):
    server, tmp, _ = small
    result = run(server, tmp / "capped", "-s", "NEWSCRAWL_MAX_LISTING_PAGES=5")
    assert result.returncode == 0
    assert result.stat("newscrawl/incremental/listing_pages") == 5 and len(archived_ids(tmp / "capped")) == 15


@pytest.mark.parametrize("args, message", [
    (("-a", "since=2023-02-30"), "since: '2023-02-30' is not a date (YYYY-MM-DD)"),
    (("-a", "since=2023-01-01", "-a", "backfill_pages=0"),
     "backfill_pages: '0' is not a whole number above 0"),
    (("-a", "backfill_pages=3"), "backfill_pages limits a backfill: give since=YYYY-MM-DD as well"),
])
def test_wrong_backfill_arguments_are_one_line_errors(tmp_path, args, message):
    from tests.mirror.demo import scrapy_command as command

    cmd = command("crawl", "http://127.0.0.1:9", tmp_path, "epochtimes", "-a", f"tags={TAG}", *args)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and message in proc.stderr.strip().splitlines()[-1], proc.stderr[-2000:]


def test_since_needs_a_listing_or_the_sitemaps(tmp_path):
    cmd = scrapy_command("crawl", "http://127.0.0.1:9", tmp_path, "epochtimes", "-a", "since=2023-01-01")
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "since backfills listings and sitemaps: give tags or categories" in proc.stderr, proc.stderr


# ---- stopped and killed ------------------------------------------------------------------

def _until_pages(out: Path, proc: subprocess.Popen, pages: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if backfill_row(out).get("pages", 0) >= pages:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the backfill did not reach {pages} pages (exit {proc.poll()})")


@pytest.mark.slow
def test_a_backfill_of_120_pages_stopped_and_killed_half_way_archives_every_article_once(tmp_path):
    articles = backfill_overlay(tmp_path / "overlay", pages=120, per_page=2)
    since = articles[219][2].isoformat()  # page 110; the walk ends at 112, the first page all older
    wanted = within(articles, 219)
    out = tmp_path / "out"
    with MirrorServer([*default_dirs(DEFAULT_SITES), tmp_path / "overlay"]) as server:
        base = scrapy_command("crawl", server.base_url, out, "epochtimes", "-a", f"tags={TAG}",
                              "-a", "feed=0", "-a", f"since={since}",
                              "-s", "NEWSCRAWL_CLOCK=2023-03-07T06:00:00Z")
        # stopped (SIGTERM: Scrapy closes gracefully) at page 30 or so
        proc = subprocess.Popen(base, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _until_pages(out, proc, 30)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
        stopped_at = backfill_row(out)["pages"]
        assert stopped_at < 120 and not backfill_row(out)["finished"]
        # killed (SIGKILL: nothing closes) some pages further on
        proc = subprocess.Popen(base, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _until_pages(out, proc, stopped_at + 30)
        proc.kill()
        proc.communicate(timeout=60)
        killed_at = backfill_row(out)["pages"]
        assert killed_at < 110 and not backfill_row(out)["finished"]
        # the next run goes on where the walk got to, and finishes it
        last = crawl("epochtimes", server.base_url, out, "-a", f"tags={TAG}", "-a", "feed=0",
                     "-a", f"since={since}", "-s", "NEWSCRAWL_CLOCK=2023-03-07T06:00:00Z")
        assert last.returncode == 0, last.log[-3000:]
    assert f"going on at page {killed_at + 1} ({killed_at} read before)" in last.log
    assert "finished at page 112, its entries are older than" in last.log
    # it did not walk again what the earlier runs had read
    assert last.stat("newscrawl/backfill/pages") == 112 - killed_at
    ids = archived_ids(out)
    assert set(ids) == wanted, sorted(wanted - set(ids))[:10]
    assert max(ids.values()) == 1
    assert backfill_row(out)["finished"]


# ---- sitemaps ----------------------------------------------------------------------------

def test_a_backfill_of_the_sitemaps_leaves_out_what_is_older_than_since(tmp_path):
    import gzip
    from urllib.parse import unquote

    from tests.test_sitemaps import DW_MIRROR, ONLY_SITEMAPS, SITEMAPS, article_hits, expected_urls

    def entries(name: str) -> list[tuple[str, str]]:
        raw = (SITEMAPS / name).read_bytes()
        text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")
        return re.findall(r"<loc>([^<]+)</loc><lastmod>([^<]+)</lastmod>", text)

    since = "2023-10-01"
    with MirrorServer([DW_MIRROR, SITEMAPS]) as server:
        result = crawl("dw", server.base_url, tmp_path / "out", *ONLY_SITEMAPS, "-a", f"since={since}",
                       "-s", "NEWSCRAWL_CLOCK=2024-03-01T00:00:00Z")
        hits = Counter(server.hits)
    assert result.returncode == 0, result.log[-3000:]
    # the index's sitemap last changed before since is not read; the entries older are not asked for
    assert "https://www.dw.com/zh/article-sitemap-older.xml" not in hits
    assert "https://www.dw.com/zh/article-sitemap-2023.xml.gz" in hits
    listed = [(unquote(loc), lastmod) for name in ("dw-news-zh.xml", "dw-articles-zh-2023.xml.gz")
              for loc, lastmod in entries(name)]
    served = expected_urls(DW_MIRROR, "zh")
    wanted = {url for url, lastmod in listed if url in served and lastmod[:10] >= "2023-09-30"}
    older = {url for url, lastmod in listed if url in served and lastmod[:10] < "2023-09-30"}
    assert wanted and older
    assert {unquote(line["url"]) for line in result.jsonl()} == wanted
    assert not {unquote(url) for url in article_hits(hits)} & older
    assert result.stat("newscrawl/backfill/older_left_out") >= len(older) + 1  # and the older sitemap
