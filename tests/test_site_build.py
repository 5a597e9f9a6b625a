"""``make site`` at scale: the listing pages and Atom feeds the project writes, read back from a
real build of the demo (Jekyll renders the posts; skipped without jekyll), the incremental
build after a crawl, and the pagination of big listings."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import lxml.etree
import lxml.html
import pytest

from benchmarks.site import clone_posts
from newscrawl.atom import read_change
from newscrawl.listings import INDEX_LIMIT, PAGE_SIZE, Entry, Post, listing_pages, tag_slug
from newscrawl.versions import diff_markdown
from newscrawl.website import manifest_path
from newscrawl.website_versions import revision_url
from tests.crawl import REPO

JEKYLL = shutil.which("jekyll")
needs_jekyll = pytest.mark.skipif(JEKYLL is None, reason="jekyll is not installed (apt-get install jekyll)")
ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def make_site(output: Path, dest: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(output),
                             "--dest", str(dest), *args], cwd=REPO, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


@pytest.fixture(scope="module")
def site(demo_output, tmp_path_factory) -> Path:
    if JEKYLL is None:
        pytest.skip("jekyll is not installed (apt-get install jekyll)")
    dest = tmp_path_factory.mktemp("site") / "_site"
    make_site(demo_output, dest)
    return dest


def post_pages(site: Path) -> set[str]:
    """The URL of every post page built: /<spider>/<yyyy>/<mm>/<dd>/<name>/."""
    return {"/" + p.parent.relative_to(site).as_posix() + "/" for p in site.glob("*/[0-9]*/*/*/*/index.html")}


def page_links(site: Path, folder: str) -> tuple[list[str], lxml.html.HtmlElement]:
    """The post links of one listing page (``ol.posts``), as paths, and the page."""
    doc = lxml.html.fromstring((site / folder / "index.html").read_text(encoding="utf-8"))
    return [unquote(a.get("href")) for a in doc.xpath("//ol[@class='posts']/li/a")], doc


def every_page(site: Path, folder: str) -> list[str]:
    """The post links of a paginated listing, its pages followed from the first."""
    links, doc = page_links(site, folder)
    for extra in doc.xpath("//nav[@class='pages']/a/@href"):
        more, _ = page_links(site, unquote(extra).strip("/"))
        links += more
    return links


@needs_jekyll
def test_listing_pages_list_every_post_exactly_once(site):
    posts = {unquote(u) for u in post_pages(site)}
    assert len(posts) == 58
    # the archive: the month index links every month page; together they list every post once
    _, archive = page_links(site, "archive")
    months = [unquote(h) for h in archive.xpath("//ul[@class='months']//a/@href")]
    counts = [int(c) for c in archive.xpath("//ul[@class='months']//span[@class='count']/text()")]
    assert months == sorted(months, reverse=True) and len(months) > 10
    listed = [link for month in months for link in every_page(site, month.strip("/"))]
    assert Counter(listed) == Counter(posts) and sum(counts) == 58
    for month in months:  # each month page holds its own month's posts only
        for link in every_page(site, month.strip("/")):
            assert link.split("/")[2:4] == month.strip("/").split("/")[1:3]
    # one source's pages: its posts, once each, newest first
    for spider in ("dw", "epochtimes"):
        links = every_page(site, spider)
        assert Counter(links) == Counter(p for p in posts if p.startswith(f"/{spider}/"))
    # the front page: the newest, one list, a date on every line and no heading per day
    links, index = page_links(site, "")
    assert len(links) == min(58, INDEX_LIMIT) and set(links) == posts
    assert not index.xpath("//section[@class='day']") and not index.xpath("//main//h2")
    days = index.xpath("//ol[@class='posts']/li/time/@datetime")
    assert len(days) == len(links) and days == sorted(days, reverse=True)
    assert "共 58 篇" in index.text_content()


@needs_jekyll
def test_each_tag_has_a_page_listing_its_posts(site, demo_output):
    lines = [json.loads(line) for spider in ("dw", "epochtimes")
             for line in (demo_output / spider / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    latest = {(item["site"], item["id"]): item for item in lines}  # the last version of each
    tagged: dict[str, set[str]] = {}
    for item in latest.values():
        for tag in item["tags"]:
            tagged.setdefault(tag, set()).add(item["title"])
    _, index = page_links(site, "tags")
    anchors = index.xpath("//ul[@class='tags']//a")
    assert sorted(a.text_content() for a in anchors) == sorted(tagged)
    for a in anchors:
        tag = a.text_content()
        assert unquote(a.get("href")) == f"/tags/{tag_slug(tag)}/"
        links, page = page_links(site, unquote(a.get("href")).strip("/"))
        titles = page.xpath("//ol[@class='posts']/li/a/text()")
        assert set(titles) == tagged[tag] and len(links) == len(set(links)) == len(tagged[tag])
        assert page.xpath("//h1")[0].text_content() == f"标签：{tag}"
    # a post links each of its tags to that tag's page (the data file Jekyll reads)
    post = next(site.glob("dw/*/*/*/*/index.html"))
    doc = lxml.html.fromstring(post.read_text(encoding="utf-8"))
    for a in doc.xpath("//p[@class='tags']/a"):
        assert unquote(a.get("href")) == f"/tags/{tag_slug(a.text_content())}/"
        assert (site / unquote(a.get("href")).strip("/") / "index.html").is_file()


@needs_jekyll
def test_galleries_page_lists_the_galleries(site, demo_output):
    _, page = page_links(site, "galleries")
    titles = set(page.xpath("//ol[@class='posts']/li/a/text()"))
    items = [json.loads(line) for line in (demo_output / "dw" / "articles.jsonl").read_text(encoding="utf-8")
             .splitlines()]
    galleries = {item["title"] for item in items if item["gallery"]}
    assert galleries and galleries <= titles
    assert "图集：北极科考船上的三个月" in titles


def feed_of(site: Path, name: str) -> lxml.etree._Element:
    root = lxml.etree.fromstring((site / name).read_bytes())  # well-formed XML, or this raises
    assert root.tag == f"{ATOM}feed"
    return root


def assert_valid_atom(root: lxml.etree._Element) -> None:
    """RFC 4287's required elements: the feed's id, title, updated, author (or one per entry)
    and a self link; each entry's id, title, updated and an alternate link; RFC 3339 dates;
    ids unique."""
    for element in (root, *root.findall(f"{ATOM}entry")):
        for required in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{required}")) == 1, required
        assert RFC3339.match(element.findtext(f"{ATOM}updated"))
        for published in element.findall(f"{ATOM}published"):
            assert RFC3339.match(published.text)
        assert element.find(f"{ATOM}link[@rel='alternate']") is not None
        assert re.match(r"^[a-z][a-z0-9+.-]*:", element.findtext(f"{ATOM}id"))  # an IRI
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    ids = [root.findtext(f"{ATOM}id"), *(e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry"))]
    assert len(ids) == len(set(ids))


@needs_jekyll
def test_feeds_are_valid_atom_and_linked_from_every_page(site, demo_output):
    import feedparser

    posts = post_pages(site)
    for spider, source in (("dw", "德国之声"), ("epochtimes", "大纪元")):
        root = feed_of(site, f"{spider}/feed.xml")
        assert_valid_atom(root)
        entries = root.findall(f"{ATOM}entry")
        assert 0 < len(entries) <= 50
        for entry in entries:  # each links a built post of its own source
            link = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
            assert unquote(link) in posts and link.startswith(f"/{spider}/")
        dates = [e.findtext(f"{ATOM}published") for e in entries]
        assert dates == sorted(dates, reverse=True)
        parsed = feedparser.parse((site / spider / "feed.xml").read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version == "atom10" and source in parsed.feed.title
        assert len(parsed.entries) == len(entries) and all(e.title and e.link for e in parsed.entries)
    # the changes: the demo's one edited article, version 2, its summary and its diff page
    changes = feed_of(site, "epochtimes/changes.xml")
    assert_valid_atom(changes)
    [entry] = changes.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == ("【首播】芯片之战：全球供应链的十字路口"
                                              "（第 2 版：标题、第2段有改动）")
    assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == "/epochtimes/revisions/n13958996/v2/"
    assert unquote(entry.find(f"{ATOM}link[@rel='related']").get("href")) in posts
    diff = (demo_output / "epochtimes" / "_revisions" / "n13958996" / "v2.diff.md").read_text("utf-8")
    assert entry.findtext(f"{ATOM}updated") == re.search(r"version 2: crawled (\S+)", diff)[1]
    assert not feedparser.parse((site / "epochtimes" / "changes.xml").read_bytes()).bozo
    dw_changes = feed_of(site, "dw/changes.xml")  # no edited DW article in the demo: no entry, valid
    assert_valid_atom(dw_changes) or not dw_changes.findall(f"{ATOM}entry")
    # every page, posts and listings, names the four feeds in its <head>
    feeds = {"/dw/feed.xml", "/dw/changes.xml", "/epochtimes/feed.xml", "/epochtimes/changes.xml"}
    pages = [*site.rglob("index.html")]
    assert len(pages) > 100
    for page in pages:
        doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
        linked = doc.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']/@href")
        assert set(linked) == feeds, page


def test_a_diff_file_reads_back_as_its_change():
    """The changes feed reads what newscrawl.versions writes at the head of a diff file."""
    old = {"id": "n1", "url": "https://www.epochtimes.com/gb/n1.htm", "title": "旧标题",
           "body_markdown": "第一段。", "crawled_at": "2026-01-01T00:00:00Z", "images": []}
    new = {**old, "title": "新标题", "crawled_at": "2026-01-02T03:04:05Z"}
    change = read_change("epochtimes", "n1", 2, diff_markdown(old, new, 1, 2))
    assert change and change.crawled == "2026-01-02T03:04:05Z" and change.summary == "标题"
    assert read_change("epochtimes", "n1", 3, diff_markdown(old, new, 1, 2)) is None  # not that version
    assert revision_url("dw", "a-1", 3) == "/dw/revisions/a-1/v3/"


def _entry(n: int, spider: str = "dw", tags: tuple[str, ...] = ()) -> Entry:
    post = Post(path=f"{spider}/_posts/2024-01-01-p{n}.md", spider=spider, id=f"a-{n}", title=f"标题{n}",
                source="德国之声", author="记者", topics=tags, gallery=n % 7 == 0)
    date = datetime(2024, 3, 1, tzinfo=UTC) - timedelta(hours=7 * n)
    return Entry(post, f"/{spider}/{date:%Y/%m/%d}/p{n}/", date)


def test_big_listings_are_paginated_and_list_each_post_once():
    entries = [_entry(n, tags=("经济",) if n % 2 else ("经济", "德国")) for n in range(PAGE_SIZE * 2 + 37)]
    pages = {p.folder: p for p in listing_pages(entries, {"dw": "德国之声"})}
    def listed(folder: str) -> list[str]:
        first = lxml.html.fromstring(pages[folder].main)
        links = first.xpath("//ol[@class='posts']/li/a/@href")
        for more in first.xpath("//nav[@class='pages']/a/@href"):
            page = pages[unquote(more).strip("/")]
            links += lxml.html.fromstring(page.main).xpath("//ol[@class='posts']/li/a/@href")
        return links

    for folder, expected in (("dw", entries), (f"tags/{tag_slug('经济')}", entries),
                             ("tags/德国", entries[::2]), ("galleries", entries[::7])):
        links = listed(folder)
        assert sorted(links) == sorted(e.url for e in expected) and len(links) == len(set(links)), folder
    assert {"dw/page/2", "dw/page/3"} <= pages.keys() and "dw/page/4" not in pages
    # no page over PAGE_SIZE posts; the front page holds the newest
    for page in pages.values():
        assert len(lxml.html.fromstring(page.main).xpath("//ol[@class='posts']/li")) <= PAGE_SIZE
    newest = lxml.html.fromstring(pages[""].main).xpath("//ol[@class='posts']/li/a/@href")
    assert newest == [e.url for e in entries[:INDEX_LIMIT]]
    # the months: every post in its month's pages
    months = [f for f in pages if re.fullmatch(r"archive/\d{4}/\d{2}", f)]
    assert sum(len(listed(m)) for m in months) == len(entries)


def test_hostile_tags_and_titles_stay_text():
    hostile = ("<script>alert(1)</script>", "{{ site.title }}", "{% raw %}", "../../etc", "", "\u202e逆",
               "a" * 300, "&amp;<b>")
    entries = [_entry(n, tags=(tag,)) for n, tag in enumerate(hostile)]
    entries.append(Entry(Post(path="dw/_posts/x.md", spider="dw", id="x",
                              title='<img src=x onerror=alert(1)>"', source="<b>源</b>", author="",
                              topics=("正常",), gallery=True), "/dw/x/",
                         datetime(2024, 1, 1, tzinfo=UTC)))
    for page in listing_pages(entries, {"dw": "<i>dw</i>"}):
        assert "<script" not in page.main and "<img" not in page.main and "<b>" not in page.main
        assert "<i>" not in page.main
        doc = lxml.html.fromstring(f"<main>{page.main}</main>")
        for el in doc.iter():
            assert not any(name.startswith("on") for name in el.attrib)
        assert ".." not in page.folder and "/" not in tag_slug(page.folder.rsplit("/", 1)[-1])
    for tag in hostile:
        slug = tag_slug(tag)
        assert re.fullmatch(r"[^\s/.<>{}%&]+", slug) and len(slug) <= 60, slug
    assert tag_slug("../../etc") == "etc" and tag_slug("{{ site.title }}") == "site-title"
    assert tag_slug("").startswith("t-") and tag_slug("德国") == "德国"
    assert tag_slug("EU Gipfel") == "eu-gipfel"


def tree(site: Path) -> dict[str, tuple[int, int]]:
    """Every file of the site but the search index (made again whenever a post page changed:
    tests/test_search.py's), its time stamp and inode."""
    return {p.relative_to(site).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in site.rglob("*") if p.is_file() and p.relative_to(site).parts[0] != "pagefind"
            and p.relative_to(site).as_posix() != "search/fold.js"}


@needs_jekyll
def test_an_update_after_a_crawl_rewrites_only_what_changed(demo_output, tmp_path):
    out, dest = tmp_path / "out", tmp_path / "_site"
    shutil.copytree(demo_output, out, ignore=shutil.ignore_patterns("warc", "runs", "state"))
    assert "full build: 58 post pages rendered" in make_site(out, dest)
    assert manifest_path(dest).is_file() and not (dest / "newscrawl-shell.html").exists()
    before = tree(dest)
    snapshot = tmp_path / "before"
    shutil.copytree(dest, snapshot)
    # nothing new: nothing written
    assert "update: 0 post pages rendered, 0 listing pages and feeds written" in make_site(out, dest)
    assert tree(dest) == before
    # one new article (a clone of one, a day after it): its page and the listings it is in
    base = tmp_path / "base"
    shutil.copytree(demo_output, base, ignore=shutil.ignore_patterns("warc", "runs", "state"))
    clone_posts(base, out, 59, start=-1)
    [new] = [p for p in out.glob("*/_posts/*-c-1.md")]
    said = make_site(out, dest)
    rendered = re.search(r"update: (\d+) post pages rendered", said)
    after = tree(dest)
    rewritten = {path for path in after if before.get(path) != after[path]}
    # the new post's page, and those of its previous and next post (their links changed)
    new_pages = {p for p in rewritten if re.match(r"(dw|epochtimes)/\d{4}/", p)}
    [page] = [p for p in new_pages if p.endswith("-c-1/index.html")]
    assert rendered and len(new_pages) == int(rendered[1]) in (2, 3)
    link = urllib.parse.quote("/" + page.removesuffix("index.html"))
    for other in new_pages - {page}:
        assert other.split("/")[0] == page.split("/")[0]
        assert link in (dest / other).read_text(encoding="utf-8")
    # every rewritten file is new or changed, every changed file was rewritten
    differs = {path for path in after if path not in before or not filecmp.cmp(dest / path, snapshot / path,
                                                                                shallow=False)}
    assert rewritten == differs
    spider = new.parts[-3]
    assert {"index.html", "archive/index.html", "tags/index.html", f"{spider}/index.html"} <= rewritten
    assert len(rewritten) < 30 and len(after) > 200
    # the same site as a full build of the same archive
    full = tmp_path / "full"
    make_site(out, full)
    assert tree(full).keys() == after.keys()
    for path in after:
        assert filecmp.cmp(full / path, dest / path, shallow=False), path
    # an article gone from the archive: its page and its lines go
    new.unlink()
    index = {p: p.stat().st_mtime_ns for p in (dest / "pagefind").rglob("*")}
    said = make_site(out, dest, "--no-search")  # the search index left for a later build
    assert re.search(r"update: [0-2] post pages rendered", said) and "search index" not in said
    assert {p: p.stat().st_mtime_ns for p in (dest / "pagefind").rglob("*")} == index
    assert tree(dest).keys() == before.keys()
    for path in before:
        assert filecmp.cmp(snapshot / path, dest / path, shallow=False), path
    # the next build with search, though nothing changed since, brings the index up to date
    said = make_site(out, dest)
    assert "update: 0 post pages rendered" in said and "search index of 58 posts" in said
    said = make_site(out, dest)  # and then no more
    assert "update: 0 post pages rendered" in said and "search index" not in said


def test_a_feed_carries_the_sites_address_and_strips_what_xml_forbids():
    from newscrawl.atom import Change, articles_feed, changes_feed

    entries = [_entry(1, tags=("经济",)), _entry(2)]
    hostile = Entry(Post(path="dw/_posts/h.md", spider="dw", id="h", title="控制\x01字符 <b>&",
                         source="德国之声", author="\x0b", topics=("\x00",), gallery=False,
                         lead="]]> <!--"), "/dw/h/",
                    datetime(2024, 3, 2, tzinfo=UTC))
    feed = articles_feed("dw", "德国之声", [*entries, hostile], site_title="新闻存档",
                         base_url="https://archive.example/")
    root = lxml.etree.fromstring(feed.encode("utf-8"))
    assert root.get("{http://www.w3.org/XML/1998/namespace}base") == "https://archive.example/"
    assert_valid_atom(root)
    first = root.find(f"{ATOM}entry")
    assert first.findtext(f"{ATOM}title") == "控制字符 <b>&"
    assert first.findtext(f"{ATOM}summary") == "]]> <!--"
    # no change yet: a valid feed without entries, as new as the newest article
    empty = lxml.etree.fromstring(changes_feed("dw", "德国之声", [], {e.post.id: e for e in entries},
                                               site_title="新闻存档").encode("utf-8"))
    assert_valid_atom(empty)
    assert empty.findtext(f"{ATOM}updated") == "2024-02-29T17:00:00Z" and not empty.findall(f"{ATOM}entry")
    # a change of an article without a post is left out; the others link their diff pages
    changes = [Change("dw", "a-1", 3, "2024-03-05T00:00:00Z", "第2段"),
               Change("dw", "gone", 2, "2024-03-06T00:00:00Z", "")]
    root = lxml.etree.fromstring(changes_feed("dw", "德国之声", changes, {e.post.id: e for e in entries},
                                              site_title="新闻存档").encode("utf-8"))
    [entry] = root.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == "/dw/revisions/a-1/v3/"
    assert entry.findtext(f"{ATOM}title") == "标题1（第 3 版：第2段有改动）"


@needs_jekyll
def test_a_post_whose_related_articles_changed_is_rendered_again(demo_output, tmp_path):
    """The same story elsewhere comes from the state (``_data/related.json``), not the post: an
    update renders again the posts whose related articles changed, and those only."""
    import sqlite3

    out, dest = tmp_path / "out", tmp_path / "_site"
    shutil.copytree(demo_output, out, ignore=shutil.ignore_patterns("warc", "runs"))
    make_site(out, dest, "--no-search")
    pages = [p for p in dest.glob("*/[0-9]*/*/*/*/index.html")
             if "其他来源的报道" in p.read_text(encoding="utf-8")]
    assert len(pages) == 2  # the demo's one story told by both sites, each page naming the other
    with sqlite3.connect(out / "state" / "newscrawl.sqlite3") as db:
        db.execute("UPDATE related_articles SET related = '[]'")
    assert "update: 2 post pages rendered" in make_site(out, dest, "--no-search")
    assert not any("其他来源的报道" in p.read_text(encoding="utf-8") for p in pages)


@needs_jekyll
def test_a_build_in_many_runs_makes_the_same_site_as_one_run(site, demo_output, tmp_path, monkeypatch):
    """Jekyll renders the posts in runs (``CHUNK`` a run, ``--jobs`` Ruby processes): runs of 7
    posts in 3 processes make the site one run makes (58 posts), byte for byte — each post's
    neighbours reach its run, the revision pages and the skeleton's files are there once."""
    from newscrawl import website

    monkeypatch.setattr(website, "CHUNK", 7)
    dest = tmp_path / "_site"
    assert website.build(demo_output, dest, skeleton=REPO / website.SKELETON, jobs=3, search=False) == 0
    made, one_run = tree(dest), {p: d for p, d in tree(site).items() if not p.startswith("pagefind/")}
    assert made.keys() == one_run.keys() and len(post_pages(dest)) == 58
    for path in made:
        assert filecmp.cmp(dest / path, site / path, shallow=False), path


@needs_jekyll
def test_a_failed_jekyll_run_fails_the_build_and_keeps_the_last_site(demo_output, tmp_path, capfd):
    """A layout Jekyll cannot render: ``make site`` exits non-zero saying where, and the site and
    manifest of the last build stay as they were."""
    from newscrawl import website

    skeleton = tmp_path / "skeleton"
    shutil.copytree(REPO / website.SKELETON, skeleton)
    dest = tmp_path / "_site"
    assert website.build(demo_output, dest, skeleton=skeleton, search=False) == 0
    before, manifest = tree(dest), manifest_path(dest).read_bytes()
    layout = skeleton / "_layouts" / "post.html"
    layout.write_text(layout.read_text(encoding="utf-8") + "{% if page.title %}never closed\n",
                      encoding="utf-8")
    capfd.readouterr()
    assert website.build(demo_output, dest, skeleton=skeleton, search=False) == 1
    said = capfd.readouterr().err
    assert "make site: Jekyll failed on" in said and "if" in said
    assert tree(dest) == before and manifest_path(dest).read_bytes() == manifest


def test_jekyll_runs_under_the_ruby_of_its_own_command(tmp_path, monkeypatch):
    """The build's Ruby (for newscrawl/jekyll_build.rb) is the one the ``jekyll`` command names
    on its ``#!`` line, through ``env`` too; else the ``ruby`` on the PATH."""
    from newscrawl.website import ruby_of

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ruby = bin_dir / "ruby"
    ruby.write_text("#!/bin/sh\n", encoding="utf-8")
    ruby.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    direct, via_env, shell = tmp_path / "direct", tmp_path / "env", tmp_path / "shell"
    direct.write_text("#!/opt/ruby-3.3/bin/ruby -w\nload Gem.bin_path('jekyll', 'jekyll')\n",
                      encoding="utf-8")
    via_env.write_text("#!/usr/bin/env ruby\n", encoding="utf-8")
    shell.write_text("#!/bin/sh\nexec ruby jekyll \"$@\"\n", encoding="utf-8")
    assert ruby_of(str(direct)) == "/opt/ruby-3.3/bin/ruby"
    assert ruby_of(str(via_env)) == str(ruby)
    assert ruby_of(str(shell)) == str(ruby) and ruby_of(str(tmp_path / "missing")) == str(ruby)
