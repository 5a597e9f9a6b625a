"""A browsable archive: the demo's posts built with a real Jekyll (``make site``) and read in a
real, headless chromium, as a reader sees them. Skipped without jekyll or chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import lxml.html
import pytest

from newscrawl.listings import tag_slug
from newscrawl.pictures import item_pictures, local_url
from tests.browser import CHROMIUM, offline_page
from tests.browser import served as serve
from tests.crawl import REPO
from tests.mirror.server import MirrorServer

JEKYLL = shutil.which("jekyll")
needs_jekyll = pytest.mark.skipif(JEKYLL is None, reason="jekyll is not installed (apt-get install jekyll)")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs a browser at {CHROMIUM}")
#: what must never show as text on a page: Markdown and Liquid syntax, escapes, our comments
RAW = ("{{", "{%", "&#123;", "](", "![", "**", "------", "<!--", "\\[", "## ", "render_with_liquid")


@pytest.fixture(scope="module")
def site(demo_output, tmp_path_factory) -> Path:
    """``make site`` on the demo's output: ``python -m newscrawl.website`` from the repository."""
    if JEKYLL is None:
        pytest.skip("jekyll is not installed (apt-get install jekyll)")
    dest = tmp_path_factory.mktemp("site") / "_site"
    result = subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(demo_output),
                             "--dest", str(dest)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return dest


def gallery_items(demo_output: Path) -> dict[str, dict]:
    lines = (demo_output / "dw" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    items = {item["id"]: item for item in map(json.loads, lines)}
    return {k: v for k, v in items.items() if v["gallery"]}


@needs_jekyll
def test_make_site_builds_every_post_and_publishes_nothing_else(site, demo_output):
    posts = [*demo_output.glob("*/_posts/*.md")]
    built = [p for p in site.glob("*/*/*/*/*/index.html")  # /<spider>/<year>/<month>/<day>/<name>/
             if p.relative_to(site).parts[1] != "revisions"]
    assert len(built) == len(posts) == 58
    # the demo's edited article: a page per version (/<spider>/revisions/<id>/v<N>/)
    assert sorted(p.relative_to(site).as_posix() for p in site.glob("*/revisions/*/*/index.html")) == [
        "epochtimes/revisions/n13958996/v1/index.html", "epochtimes/revisions/n13958996/v2/index.html"]
    assert {p.relative_to(site).parts[0] for p in built} == {"dw", "epochtimes"}
    for page in ("index.html", "archive/index.html", "tags/index.html", "galleries/index.html",
                 "search/index.html", "assets/site.css", "assets/search.js"):
        assert (site / page).is_file(), page
    # only the posts, the listings, the feeds and the pictures: no state, JSON lines, run reports,
    # WARC or logs (the search index, pagefind/ and search/fold.js, is tests/test_search.py's)
    published = {p.suffix for p in site.rglob("*") if p.is_file() and "assets/img" not in p.as_posix()
                 and p.relative_to(site).parts[0] != "pagefind" and p.name != "fold.js"}
    assert published == {".html", ".css", ".js", ".xml"}, published
    assert {p.relative_to(site).as_posix() for p in site.glob("*/*.xml")} == {
        "dw/feed.xml", "dw/changes.xml", "epochtimes/feed.xml", "epochtimes/changes.xml"}
    def pictures(root: Path) -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.glob("*/assets/img/*/*"))

    assert pictures(site) == pictures(demo_output) and len(pictures(site)) > 50


def test_make_site_skips_cleanly_without_jekyll(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no jekyll on this PATH
    result = subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(tmp_path)], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stderr.strip() == ("make site: jekyll is not installed (Debian: apt-get install "
                                     "jekyll): site not built")
    assert not (tmp_path / "_site").exists()


@pytest.fixture(scope="module")
def served(site):
    """The built site over HTTP on 127.0.0.1 (its links are site-absolute: /dw/…/)."""
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(served):
    if not CHROMIUM.exists():
        pytest.skip(f"needs a browser at {CHROMIUM}")
    # the network cut off: only the site on 127.0.0.1 answers, pictures included (the kept
    # copies); a remote picture (one that could not be kept) does not load
    with offline_page(served) as page:
        yield page


def assert_reads_clean(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} shows on the page"


@needs_jekyll
@needs_chromium
def test_a_reader_sees_the_index_and_a_gallery(browser, served, demo_output):
    page = browser
    page.goto(f"{served}/")
    assert page.title() == "最新 · 新闻存档"
    text = page.inner_text("main")
    assert_reads_clean(text)
    assert "最新文章" in text and "2023-10-18" in text and "德国之声" in text and "大纪元" in text
    # the index: one list, newest first, each article with its date (no heading per day)
    assert page.locator("section.day").count() == 0
    days = page.locator("main ol.posts li time").all_inner_texts()
    assert days == sorted(days, reverse=True) and len(days) == 58

    gallery = gallery_items(demo_output)["g-68200555"]
    page.get_by_role("link", name=gallery["title"], exact=True).first.click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{served}/dw/2023/10/18/")
    assert page.inner_text("h1") == gallery["title"] == "图集：北极科考船上的三个月"
    body = page.inner_text("article")
    assert_reads_clean(body)
    assert body.count(gallery["lead"]) == 1  # the body is the lead: said once
    assert page.locator("article header .lead").count() == 0
    # its pictures are the page, not a gallery related to it
    assert body.count("图集：北极科考船上的三个月") == 1 and "相关图集" not in body
    # every picture, in order, with its title and caption under it and its caption as alt text
    pictures = page.locator("article .body img")
    assert pictures.count() == len(gallery["gallery"]["images"]) == 6
    for n, image in enumerate(gallery["gallery"]["images"]):
        picture = pictures.nth(n)
        assert picture.get_attribute("src") == local_url("dw", image["file"])  # the kept copy
        assert picture.get_attribute("alt") == image["caption"]  # said if it cannot load
        assert picture.evaluate("img => img.complete && img.naturalWidth") > 0  # shown
        under = picture.evaluate("img => img.parentElement.innerText")
        assert under.startswith(f"{image['title']}：{image['caption']}")
        # the caption is under the picture, not beside it
        caption_top = picture.evaluate("img => { const r = document.createRange(); "
                                       "r.selectNodeContents(img.parentElement); "
                                       "return r.getClientRects()[r.getClientRects().length - 1].top; }")
        assert caption_top >= picture.bounding_box()["y"] + picture.bounding_box()["height"] - 1
    # the original, linked; the kicker says it is a gallery
    assert page.get_by_role("link", name="在德国之声网站阅读原文").get_attribute("href") == gallery["url"]
    assert "图集" in page.inner_text(".kicker")


@needs_jekyll
@needs_chromium
def test_a_reader_sees_an_article_with_figures_and_tags(browser, served, demo_output):
    article = gallery_items(demo_output)["a-47110001"]  # body figures and a gallery section
    page = browser
    page.goto(f"{served}/galleries/")
    assert_reads_clean(page.inner_text("main"))
    page.get_by_role("link", name=article["title"]).click()
    page.wait_for_load_state()
    body = page.inner_text("article")
    assert_reads_clean(body)
    assert page.inner_text("h1") == article["title"]
    assert "相关图集：博览会上的机器人" in body and "图集：图集" not in body
    figure = page.locator("article .body img").first
    assert figure.get_attribute("src") == local_url("dw", article["images"][0]["file"])
    assert figure.get_attribute("alt") == article["images"][0]["caption"]
    assert article["images"][0]["caption"] in figure.evaluate("img => img.parentElement.nextElementSibling"
                                                              " ? img.parentElement.innerText + "
                                                              "img.parentElement.nextElementSibling.innerText"
                                                              " : img.parentElement.innerText")
    for paragraph in article["body_markdown"].split("\n\n"):
        if not paragraph.startswith(("!", "*", "#")):
            assert paragraph in body
    tags = page.locator(".tags a").all_inner_texts()
    assert tags == article["tags"]
    page.get_by_role("link", name=tags[0]).click()
    page.wait_for_load_state()
    assert unquote(page.url) == f"{served}/tags/{tag_slug(tags[0])}/"  # the tag's own page
    assert page.inner_text("h1") == f"标签：{tags[0]}"
    assert article["title"] in page.locator("main ol.posts").inner_text()
    assert_reads_clean(page.inner_text("main"))


@needs_jekyll
@needs_chromium
def test_every_picture_of_every_post_loads_with_the_network_cut_off(browser, served, site, demo_output):
    """Each kept picture is shown from the site itself; only a picture that could not be kept
    (gone, too large, not an image) points elsewhere, and so does not load offline."""
    not_kept = {image["url"] for spider in ("dw", "epochtimes")
                for line in (demo_output / spider / "articles.jsonl").read_text(encoding="utf-8").splitlines()
                for image in item_pictures(json.loads(line)) if image["file"] is None}
    page, shown, remote = browser, 0, set()
    for post in sorted(site.glob("*/*/*/*/*/index.html")):
        page.goto(f"{served}/{post.parent.relative_to(site).as_posix()}/")
        page.wait_for_load_state("load")
        for src, width in page.evaluate("() => [...document.images].map(i => [i.getAttribute('src'),"
                                        " i.complete ? i.naturalWidth : -1])"):
            if src.startswith(("/dw/assets/img/", "/epochtimes/assets/img/")):
                assert width > 0, f"{src} on {post}"
                shown += 1
            else:
                remote.add(src)
    assert shown >= 60
    assert remote == not_kept and len(remote) == 3


@needs_jekyll
def test_the_site_keeps_the_hostile_corpus_inert(tmp_path):
    """The hostile-page corpus (tests/fixtures/hostile), crawled by the real spiders, built
    with this site's layouts: every page (posts, index, archive, tags, galleries) without
    script, event attribute, non-http(s) URL or Liquid output, each title shown as text."""
    from tests.crawl import crawl
    from tests.test_safety_corpus import EXPECTED, HOSTILE, inert_page

    out = tmp_path / "out"
    with MirrorServer([HOSTILE]) as server:
        for spider in ("dw", "epochtimes"):
            urls = [url for url, want in EXPECTED.items() if want["spider"] == spider]
            assert crawl(spider, server.base_url, out, "-a", "urls=" + ",".join(urls)).returncode == 0
    dest = tmp_path / "_site"
    cmd = [sys.executable, "-m", "newscrawl.website", "--output", str(out), "--dest", str(dest)]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Liquid" not in result.stderr
    titles = set()
    for page in dest.rglob("*.html"):
        if page.relative_to(dest).parts[0] in ("search", "pagefind"):
            continue  # the search page's own scripts (tests/test_search.py), no page text
        doc = inert_page(page, banned=("script", "iframe", "object", "embed", "form"))
        if doc.xpath("//article[contains(@class, 'post')]"):
            titles.add(doc.xpath("//article//h1")[0].text_content())
    lines = [json.loads(line) for spider in ("dw", "epochtimes")
             for line in (out / spider / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    assert titles == {line["title"] for line in lines}  # every hostile title, as text
    # the feeds: well-formed Atom whatever the titles and tags held, each title as text
    import feedparser
    import lxml.etree

    feeds = [*dest.glob("*/feed.xml")]
    assert len(feeds) == 2
    for feed in feeds:
        root = lxml.etree.fromstring(feed.read_bytes())
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
        shown = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in root.iter("{*}entry")]
        assert shown and all(title in titles or title.strip() for title in shown)
        assert set(shown) <= {re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", t) or t for t in titles}


EDITED = "n13958996"  # the demo's article retitled and edited on day two


def _lines(demo_output: Path, spider: str) -> list[dict]:
    text = (demo_output / spider / "articles.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@needs_jekyll
@needs_chromium
def test_a_reader_follows_an_edited_article_through_its_versions(browser, served, demo_output):
    """The post's timeline (times as the header gives them), its link to version 2's page with
    the changes marked <del>/<ins>, on to version 1's page with the text as it was, and back."""
    versions = [line for line in _lines(demo_output, "epochtimes") if line["id"] == EDITED]
    assert [v["version"] for v in versions] == [1, 2]
    old, new = versions
    page = browser
    page.goto(f"{served}/epochtimes/")  # the source's articles
    page.get_by_role("link", name=new["title"], exact=True).first.click()
    page.wait_for_load_state()
    post = page.url
    timeline = page.locator("article ul.timeline li").all_inner_texts()
    stamps = [v["crawled_at"] for v in versions]
    assert timeline == [f"第 1 版，{stamps[0][:10]} {stamps[0][11:16]} UTC：首次存档",
                        f"第 2 版，{stamps[1][:10]} {stamps[1][11:16]} UTC：标题、第2段有改动"]
    assert "T" not in "".join(timeline).replace("UTC", "")  # no raw crawl stamps
    assert_reads_clean(page.inner_text("article"))

    page.get_by_role("link", name="第 2 版").click()
    page.wait_for_load_state()
    assert page.url == f"{served}/epochtimes/revisions/{EDITED}/v2/"
    assert page.inner_text("h1") == new["title"]
    assert page.locator(".diff-field del").all_inner_texts() == ["预告", "将于", "之后将陆续推出"]
    assert page.locator(".diff-field ins").all_inner_texts() == ["首播", "已于", "观众可随时在线点播，",
                                                           "将陆续推出"]
    assert page.locator("ol.timeline li.current").inner_text().startswith("第 2 版")
    assert_reads_clean(page.inner_text("main"))

    page.locator("ol.timeline").get_by_role("link", name="第 1 版").click()
    page.wait_for_load_state()
    assert page.url == f"{served}/epochtimes/revisions/{EDITED}/v1/"
    assert page.inner_text("h1") == old["title"]  # the title as it was
    text = page.inner_text(".old-text")
    assert "本片将于美东时间3月14日晚间8点" in text and "已于" not in text
    assert page.locator(".old-text img").first.evaluate("img => img.naturalWidth") > 0  # the kept picture
    assert_reads_clean(page.inner_text("main"))

    page.get_by_role("link", name="返回文章（现行版本）").click()
    page.wait_for_load_state()
    assert page.url == post


@needs_jekyll
@needs_chromium
def test_the_lead_is_read_once_and_posts_link_to_their_neighbours(browser, served, demo_output):
    """The Epoch Times' lead opens the first paragraph: the header does not say it again.
    Under each post, the previous and next post of the same source by date."""
    lines = sorted((line for line in _lines(demo_output, "epochtimes") if line["version"] == 1 or
                    line["id"] != EDITED), key=lambda line: line["published"])
    latest = {line["id"]: line for line in _lines(demo_output, "epochtimes")}
    order = list(dict.fromkeys(line["id"] for line in lines))
    page = browser
    page.goto(f"{served}/epochtimes/")  # the source's articles
    n = order.index(EDITED)
    page.get_by_role("link", name=latest[EDITED]["title"], exact=True).first.click()
    page.wait_for_load_state()
    assert page.inner_text("article").count(latest[EDITED]["lead"]) == 1
    assert page.locator("article header .lead").count() == 0
    previous, following = latest[order[n - 1]], latest[order[n + 1]]
    assert page.locator("nav.around a.previous").inner_text() == f"← {previous['title']}"
    assert page.locator("nav.around a.next").inner_text() == f"{following['title']} →"
    page.locator("nav.around a.next").click()
    page.wait_for_load_state()
    assert page.inner_text("h1") == following["title"]
    assert page.locator("nav.around a.previous").inner_text() == f"← {latest[EDITED]['title']}"
    # the first post of a source has no previous one, the last no next
    page.goto(f"{served}/epochtimes/")  # the source's articles
    page.get_by_role("link", name=latest[order[0]]["title"], exact=True).first.click()
    page.wait_for_load_state()
    assert page.locator("nav.around a.previous").count() == 0
    assert page.locator("nav.around a.next").count() == 1


@needs_jekyll
@needs_chromium
def test_a_picture_that_cannot_load_leaves_a_box_with_its_caption(browser, served, site, demo_output):
    not_kept = {image["url"]: image for spider in ("dw", "epochtimes") for line in _lines(demo_output, spider)
                for image in item_pictures(line) if image["file"] is None}
    page, seen = browser, 0
    for post in sorted(site.glob("*/*/*/*/*/index.html")):
        html = post.read_text(encoding="utf-8")
        if not any(url.replace("&", "&amp;") in html for url in not_kept):
            continue
        page.goto(f"{served}/{post.parent.relative_to(site).as_posix()}/")
        page.wait_for_load_state("load")
        for img in page.locator("article img").all():
            image = not_kept.get(img.get_attribute("src") or "")
            if image is None:
                continue
            assert img.evaluate("img => img.complete && img.naturalWidth") == 0  # not loaded
            box = img.bounding_box()
            assert box and box["width"] >= 100 and box["height"] >= 60  # a visible box
            assert img.get_attribute("alt") == (image.get("caption") or image.get("title") or "")
            seen += 1
    assert seen >= 1


@needs_jekyll
def test_revision_pages_of_a_hostile_edit_stay_inert(tmp_path):
    """An article whose edits put script, Liquid, kramdown syntax and javascript: links into
    its title and body, built by make site: every page (the post, each version's page)
    without script, Liquid output or non-http(s) URL, and the edit readable as text in <ins>."""
    from newscrawl.markdown import escape_text
    from tests.test_safety_corpus import inert_page
    from tests.test_website_versions import edited_archive

    hostile = ("<script>alert(1)</script>{{ site.time }}{% raw %}{::nomarkdown}<b>x</b>{:/}"
               "<a href='javascript:alert(2)'>点我</a>{: onclick=\"alert(3)\"}")
    bodies = ["第一段。\n\n第二段原文。", "第一段。\n\n第二段" + escape_text(hostile) + "原文。",
              "第一段。\n\n第二段[链接](https://example.org/)。"]
    edited_archive(tmp_path / "out", bodies, titles=["标题", f"标题{hostile}", "标题{{ site.time }}"])
    dest = tmp_path / "_site"
    result = subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(tmp_path / "out"),
                             "--dest", str(dest)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = sorted(dest.glob("epochtimes/revisions/n1/*/index.html"))
    assert [p.parent.name for p in pages] == ["v1", "v2", "v3"]
    for page in [*pages, *dest.glob("epochtimes/2023/*/*/*/index.html")]:
        inert_page(page, banned=("script", "iframe", "object", "embed", "form"))
    v2 = lxml.html.fromstring(pages[1].read_text(encoding="utf-8"))
    assert any(hostile in e.text_content() for e in v2.iter("ins"))
    assert v2.xpath("string(//h1)") == f"标题{hostile}"  # the title as it was, as text
    v3 = lxml.html.fromstring(pages[2].read_text(encoding="utf-8"))
    assert any(hostile in e.text_content() for e in v3.iter("del"))
    assert v3.xpath("string(//h1)") == "标题{{ site.time }}"
