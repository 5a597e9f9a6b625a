"""End to end: ``scrapy crawl epochtimes`` on a local mirror that changes between runs.

Day one archives every article of two tags, a category and the feed; a second run with
nothing new fetches only the first page of each listing; day two (three new articles, one
retitled on the same URL) fetches exactly those and the listing pages down to the first
fully known one; ten runs leave no duplicate.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from newscrawl.state import ArticleStore
from tests.crawl import crawl
from tests.mirror.server import DAY_TWO, DEFAULT_SITES, MIRROR_ROOT, MirrorServer, default_dirs

EXPECTED = json.loads((MIRROR_ROOT / "epochtimes" / "expected.json").read_text(encoding="utf-8"))
SOURCES = ("-a", "tags=中美关系,半导体", "-a", "categories=nsc413", "-a", "feed=1")
DAY_ONE_IDS = {v["id"] for k, v in EXPECTED.items() if k.endswith(".html")}
NEW_IDS = {url.rsplit("/", 1)[1][:-4] for url in EXPECTED["day2"]["new"]}
EDITED = EXPECTED["day2"]["edited"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("et")
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        day_one = crawl("epochtimes", server.base_url, out, *SOURCES)
        posts_day_one = day_one.posts("epochtimes")  # read now: later runs add to the folder
        nothing_new = crawl("epochtimes", server.base_url, out, *SOURCES)
        server.load(default_dirs(DAY_TWO))
        day_two = crawl("epochtimes", server.base_url, out, *SOURCES)
        later = [crawl("epochtimes", server.base_url, out, *SOURCES) for _ in range(7)]
    return out, day_one, posts_day_one, nothing_new, day_two, later


def test_day_one_writes_one_post_per_article(runs):
    _out, day_one, posts, *_ = runs
    assert day_one.returncode == 0 and day_one.report["finish_reason"] == "finished"
    ids = [matter["id"] for matter, _ in posts.values()]
    assert sorted(ids) == sorted(DAY_ONE_IDS)  # gb/b5 twins and re-listed articles: one post each
    by_id = {v["id"]: v for k, v in EXPECTED.items() if k.endswith(".html") and "/gb/" in v["url"]}
    for matter, body in posts.values():
        want = by_id[matter["id"]]
        assert matter["from"] == want["url"]  # the gb edition, also for links to b5 pages
        assert matter["title"] == want["title"] and matter["date"] == want["published"]
        assert matter.get("authors", []) == want["authors"]
        assert matter.get("editor") == want["editor"]
        assert matter["tags"] == ["大纪元", *want["tags"]]
        assert matter["categories"] == [want["category"], "大纪元"]
        assert "责任编辑" not in body and "本文网址" not in body
    stats = day_one.stats
    assert stats["newscrawl/incremental/listing_pages"] == 9  # every page of both tags and the category
    assert stats["newscrawl/dropped/unrecognised_layout"] == 2  # the video page and the empty shell


def test_nothing_new_fetches_only_the_first_listing_pages(runs):
    _, _, _posts_day_one, nothing_new, *_ = runs
    s = nothing_new.stats
    assert s.get("newscrawl/requests/article", 0) == 0
    assert s["newscrawl/incremental/listing_pages"] == 3  # one per tag and category
    assert s["newscrawl/conditional/not_modified"] == 4  # the three and the feed: not even parsed
    # three listing pages, the feed, robots.txt
    assert s["downloader/request_count"] == 5
    assert s.get("item_scraped_count", 0) == 0


def test_day_two_fetches_what_is_new_and_updates_the_edited_article_in_place(runs):
    _out, _, posts_day_one, _, day_two, _ = runs
    s = day_two.stats
    assert s["newscrawl/items/new"] == len(NEW_IDS) == 3
    assert s["newscrawl/items/updated"] == 1
    assert s["newscrawl/requests/article"] == 3 + 1  # the new ones and the retitled one
    assert s["newscrawl/incremental/retitled_refetched"] == 1
    # 中美关系, 半导体 and the category: their first pages only, each of which ends on an
    # archived article (the listings are newest first: the next pages list older ones)
    assert s["newscrawl/incremental/listing_pages"] == 3
    # + the feed and robots.txt, and the new articles' pictures (with their host's robots.txt)
    assert s["newscrawl/images/requested"] >= 3
    pictures = s["newscrawl/images/requested"]
    assert s["downloader/request_count"] == 3 + 4 + 1 + s["robotstxt/request_count"] + pictures
    posts = day_two.posts("epochtimes")
    edited = [(name, m) for name, (m, _) in posts.items() if m["id"] == EDITED["id"]]
    [(name, matter)] = edited
    assert name in posts_day_one  # same file
    assert matter["title"] == EDITED["title_day2"]
    assert EDITED["changed_paragraph_day2"] in posts[name][1]
    assert matter["updated"] > matter["date"]
    assert len(posts) == len(DAY_ONE_IDS) + 3


def test_ten_runs_leave_no_duplicate(runs):
    out, *_ , later = runs
    assert all(r.stat("item_scraped_count") == 0 for r in later)
    ids = [json.loads(line)["id"] for line in (out / "epochtimes/articles.jsonl").read_text().splitlines()]
    counts = Counter(ids)
    assert set(counts) == DAY_ONE_IDS | NEW_IDS
    assert [i for i, n in counts.items() if n > 1] == [EDITED["id"]]  # its update, once
    posts = list((out / "epochtimes/_posts").glob("*.md"))
    assert len(posts) == len(DAY_ONE_IDS) + 3
    store = ArticleStore(out / "state" / "newscrawl.sqlite3")
    assert store.count("epochtimes") == len(DAY_ONE_IDS) + 3
    assert store.get("epochtimes", EDITED["id"]).listed_title == EDITED["title_day2"]


def test_the_b5_edition_gives_traditional_posts(tmp_path):
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        result = crawl("epochtimes", server.base_url, tmp_path, "-a", "edition=b5",
                       "-a", "urls=https://www.epochtimes.com/gb/23/3/15/n13960412.htm")
    [(matter, _)] = result.posts("epochtimes").values()
    assert matter["from"] == "https://www.epochtimes.com/b5/23/3/15/n13960412.htm"
    assert matter["lang"] == "zh-Hant"
