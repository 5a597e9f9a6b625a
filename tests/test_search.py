"""Search on the website (newscrawl/website_search.py): ``make site`` on the demo builds a
Pagefind index of the posts, and a reader in a real, headless chromium (every request off
127.0.0.1 aborted) finds articles in either script and narrows them by filter. Skipped without
jekyll, pagefind or chromium."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from newscrawl.website_search import BUNDLE, fold, folded_sentences, pagefind_executable, with_folded_text
from tests.browser import CHROMIUM, offline_page
from tests.browser import served as serve
from tests.crawl import REPO
from tests.test_website import JEKYLL

needs_site = pytest.mark.skipif(JEKYLL is None or pagefind_executable() is None,
                                reason="needs jekyll (apt-get install jekyll) and pagefind (pip: .[site])")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs a browser at {CHROMIUM}")


@pytest.fixture(scope="module")
def built(demo_output, tmp_path_factory) -> tuple[Path, str]:
    """``make site`` on the demo's output; the site and what the build said."""
    if JEKYLL is None or pagefind_executable() is None:
        pytest.skip("needs jekyll and pagefind")
    dest = tmp_path_factory.mktemp("search-site") / "_site"
    result = subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(demo_output),
                             "--dest", str(dest)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return dest, result.stderr


@pytest.fixture(scope="module")
def site(built) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def served(site):
    """The built site over HTTP on 127.0.0.1."""
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def reader(served):
    """A page in headless chromium; every request off 127.0.0.1 (the sites served here) aborted."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs a browser at {CHROMIUM}")
    off_site: list[str] = []
    with offline_page("http://127.0.0.1:", off_site) as page:
        yield page
    assert off_site == []  # the search page needs nothing from elsewhere


def posts(demo_output: Path) -> list[dict]:
    """Each article of the demo as its last JSON line gives it (an updated article has two)."""
    items = {}
    for spider in ("dw", "epochtimes"):
        for line in (demo_output / spider / "articles.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            items[spider, item["id"]] = item
    return [*items.values()]


def fragments(site: Path) -> list[dict]:
    """What the index holds of each page (Pagefind's fragments: gzip, a signature, JSON)."""
    out = []
    for path in (site / BUNDLE / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        out.append(json.loads(data[len(b"pagefind_dcd"):]))
    return out


def test_the_fold_is_one_character_to_one_and_keeps_simplified_text():
    assert fold("慕尼黑啤酒節開幕 安全措施再升級") == "慕尼黑啤酒节开幕 安全措施再升级"
    assert fold("汉诺威工业博览会：协作机器人走进中小企业") == "汉诺威工业博览会：协作机器人走进中小企业"
    assert folded_sentences("德国总理访华。德國總理訪華！Nothing\n經濟") == "德国总理访华！\n经济"


def test_the_folded_block_is_escaped_page_text():
    """The block Pagefind is given holds the page's text (as text: what the page escaped stays
    escaped), folded; the published page is not changed."""
    page = ('<!DOCTYPE html><html><head><title>&lt;article class="post" data-pagefind-body&gt; 標題</title>'
            '</head><body><p>&lt;article data-pagefind-body&gt;</p>'
            '<article class="post" data-pagefind-body><h1>&lt;script&gt;alert(1)&lt;/script&gt; 經濟</h1>'
            '<p>{{ site.time }} &amp;lt; 總理</p></article></body></html>')
    indexed = with_folded_text(page)
    assert indexed.startswith(page[:page.index('<h1>')])  # the block opens the article
    block = indexed[len(page[:page.index('<h1>')]):indexed.index('<h1>')]
    assert block == ('<div hidden class="folded">&lt;script&gt;alert(1)&lt;/script&gt; 经济{{ site.time }}'
                     ' &amp;lt; 总理</div>')
    doc = lxml.html.fromstring(indexed)
    assert not doc.xpath("//script") and doc.xpath("//div[@class='folded']")[0].text.endswith("&lt; 总理")
    simplified = page.replace("經濟", "经济").replace("總理", "总理")
    assert with_folded_text(simplified) is simplified  # nothing to fold: the page as it is


@needs_site
def test_make_website_indexes_every_post_and_nothing_else(built, demo_output):
    site, said = built
    items = posts(demo_output)
    traditional = [i for i in items if fold(i["title"]) != i["title"]]
    assert len(items) == 58 and len(traditional) == 5
    assert re.search(rf"search index of 58 posts \({len(traditional)} with folded text\)", said)
    entry = json.loads((site / BUNDLE / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert [*entry["languages"]] == ["zh"] and entry["languages"]["zh"]["page_count"] == 58
    indexed = {f["url"]: f for f in fragments(site)}
    built_posts = site.glob("*/*/*/*/*/index.html")
    # the posts; no listing, no search page
    assert set(indexed) == {"/" + p.parent.relative_to(site).as_posix() + "/" for p in built_posts}
    by_title = {f["meta"]["title"]: f for f in indexed.values()}
    for item in items:
        fragment = by_title[item["title"]]
        assert fragment["url"].startswith(f"/{item['site']}/{item['published'][:4]}/")
        assert fragment["filters"]["来源"] == [item["source_name"]]
        assert fragment["filters"]["年份"] == [item["published"][:4]]
        assert sorted(fragment["filters"].get("标签", [])) == sorted(set(item["tags"]))
        # a traditional article's words are in the index as written and in simplified script
        words = re.sub(r"[\s\u200b]", "", fragment["content"])
        lead = re.sub(r"\s", "", item["lead"])
        assert lead in words
        if item in traditional:
            assert fold(lead) in words and fold(lead) != lead
    # the search page and the fold table the query is folded with, from the site itself
    assert (site / "search" / "index.html").is_file() and (site / "pagefind" / "pagefind-ui.js").is_file()
    script = (site / "search" / "fold.js").read_text(encoding="utf-8")
    table = json.loads(script.split("= ", 1)[1].rstrip(";\n"))
    assert table["經"] == "经" and "经" not in table and all(len(k) == len(v) == 1 for k, v in table.items())


@needs_site
def test_the_search_page_holds_no_page_text_and_only_the_sites_own_scripts(site, demo_output):
    source = (site / "search" / "index.html").read_text(encoding="utf-8")
    for item in posts(demo_output):
        for text in (item["title"], item["lead"] or "", *item["authors"]):
            assert not text or text not in source, text
    doc = lxml.html.fromstring(source)
    scripts = doc.xpath("//script")
    assert [s.get("src") for s in scripts] == ["/pagefind/pagefind-ui.js", "/search/fold.js",
                                               "/assets/search.js"]
    assert all(not (s.text or "").strip() for s in scripts)  # no inline script
    assert not doc.xpath("//@*[starts-with(name(), 'on')]")


def test_without_pagefind_the_site_is_built_without_search(tmp_path):
    """Pagefind not installed (its package cannot be imported): said, exit 0, nothing written."""
    fake = tmp_path / "path"
    (fake / "pagefind").mkdir(parents=True)
    (fake / "pagefind" / "__init__.py").write_text("raise ImportError('not installed')\n")
    site = tmp_path / "_site"
    site.mkdir()
    result = subprocess.run([sys.executable, "-m", "newscrawl.website_search", str(site)], cwd=REPO,
                            env={"PYTHONPATH": f"{fake}:{REPO}", "PATH": str(tmp_path)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ("make site: pagefind is not installed (pip install -e '.[site]'): "
                                     "site built without search")
    assert [*site.iterdir()] == []


@needs_site
def test_no_posts_no_index_and_a_failed_index_fails_the_build(demo_output, tmp_path):
    """An archive without posts builds without search (exit 0, as without pagefind); a Pagefind
    that fails fails the build with its status."""
    def website(output: Path, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(output)], cwd=REPO,
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=600)

    empty = tmp_path / "empty"
    empty.mkdir()
    result = website(empty)
    assert result.returncode == 0, result.stderr
    assert "no posts to index: site built without search" in result.stderr
    assert (empty / "_site" / "search" / "index.html").is_file() and not (empty / "_site" / BUNDLE).exists()

    one = tmp_path / "one"
    post = sorted((demo_output / "dw" / "_posts").glob("*.md"))[0]
    (one / "dw" / "_posts").mkdir(parents=True)
    (one / "dw" / "_posts" / post.name).write_bytes(post.read_bytes())
    failed = website(one, PAGEFIND_BINARY_PATH="/bin/false")
    assert failed.returncode == 1
    assert failed.stderr.strip().endswith("make site: pagefind failed (exit status 1): no search index")
    built = website(one)
    assert built.returncode == 0 and "search index of 1 posts" in built.stderr
    assert json.loads((one / "_site" / BUNDLE / "pagefind-entry.json").read_text())["languages"]["zh"][
        "page_count"] == 1


def search(page, served: str, query: str) -> list[str]:
    """The titles the search page lists for ``query`` (typed into the box, as a reader does)."""
    page.goto(f"{served}/search/")
    box = page.locator(".pagefind-ui__search-input")
    box.fill(query)
    page.wait_for_selector(".pagefind-ui__message")
    page.wait_for_function("() => !document.querySelector('.pagefind-ui__message')"
                           ".innerText.includes('…') && document.querySelectorAll("
                           "'.pagefind-ui__result-link').length > 0", timeout=60000)
    return page.locator(".pagefind-ui__result-link").all_inner_texts()


@needs_site
@needs_chromium
def test_a_title_typed_in_the_other_script_finds_the_article(reader, served, demo_output):
    import opencc

    to_traditional = opencc.OpenCC("s2t").convert
    items = posts(demo_output)
    simplified = next(i for i in items if i["id"] == "a-47110001")
    traditional = next(i for i in items if i["id"] == "a-45220002")
    assert simplified["title"] == "汉诺威工业博览会：协作机器人走进中小企业"
    assert traditional["title"] == "慕尼黑啤酒節開幕 安全措施再升級"
    # typed in traditional, the simplified article; typed in simplified, the traditional one
    assert to_traditional(simplified["title"]) == "漢諾威工業博覽會：協作機器人走進中小企業"
    assert search(reader, served, to_traditional(simplified["title"]))[0] == simplified["title"]
    assert search(reader, served, "慕尼黑啤酒节开幕 安全措施再升级")[0] == traditional["title"]
    assert search(reader, served, "啤酒节") == [traditional["title"]]
    assert search(reader, served, "協作機器人")[0] == simplified["title"]
    # a result opens the article on the site
    reader.locator(".pagefind-ui__result-link").first.click()
    reader.wait_for_load_state()
    assert reader.url.startswith(f"{served}/dw/") and reader.inner_text("h1") == simplified["title"]


@needs_site
@needs_chromium
def test_a_filter_narrows_the_results(reader, served):
    page = reader

    def found() -> int:
        return int(re.search(r"\d+", page.inner_text(".pagefind-ui__message"))[0])

    search(page, served, "经济")  # in articles of both sources
    everything = found()
    page.locator("summary", has_text="来源").click()
    page.locator(".pagefind-ui__filter-label", has_text="大纪元").click()
    # the count is said before the list is drawn again: wait for both, then read the list at once
    page.wait_for_function("n => { const m = document.querySelector('.pagefind-ui__message'); "
                           "const links = [...document.querySelectorAll('.pagefind-ui__result-link')]; "
                           "return m && parseInt(m.innerText.match(/\\d+/)) < n && links.length > 0 && "
                           "links.every(a => a.getAttribute('href').startsWith('/epochtimes/')); }",
                           arg=everything, timeout=60000)
    narrowed = page.evaluate("() => [...document.querySelectorAll('.pagefind-ui__result-link')]"
                             ".map(a => a.getAttribute('href'))")
    assert 0 < found() < everything
    assert narrowed and all(h.startswith("/epochtimes/") for h in narrowed)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The hostile-page corpus (tests/fixtures/hostile) crawled by the real spiders and built with
    search; the site and its items."""
    if JEKYLL is None or pagefind_executable() is None:
        pytest.skip("needs jekyll and pagefind")
    from tests.crawl import crawl
    from tests.mirror.server import MirrorServer
    from tests.test_safety_corpus import EXPECTED, HOSTILE

    tmp = tmp_path_factory.mktemp("hostile-search")
    out = tmp / "out"
    with MirrorServer([HOSTILE]) as server:
        for spider in ("dw", "epochtimes"):
            urls = [url for url, want in EXPECTED.items() if want["spider"] == spider]
            assert crawl(spider, server.base_url, out, "-a", "urls=" + ",".join(urls)).returncode == 0
    result = subprocess.run([sys.executable, "-m", "newscrawl.website", "--output", str(out), "--dest",
                             str(tmp / "_site")], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "_site", posts(out)


@needs_site
@needs_chromium
def test_hostile_titles_and_text_show_as_text_in_the_results(reader, hostile_site):
    """Titles and text made of markup, Liquid and script (tests/fixtures/hostile) are found, and
    the results show them as text: nothing of them becomes an element or runs."""
    site, items = hostile_site
    marked = [i for i in items if "onerror" in i["title"]]
    assert len(marked) >= 2
    page, dialogs = reader, []

    def dialog(shown) -> None:
        dialogs.append(shown.message)
        shown.dismiss()

    page.on("dialog", dialog)
    try:
        with serve(site) as url:
            titles = search(page, url, "onerror alert")
            page.wait_for_timeout(500)  # a picture that failed to load would have fired onerror
            shown = page.inner_text("#search")
            injected = page.evaluate("() => document.querySelectorAll('#search img, #search script, #search "
                                     "iframe, #search [onerror], #search a[href^=javascript]').length")
    finally:
        page.remove_listener("dialog", dialog)
    assert dialogs == [] and injected == 0

    def spaced(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip()

    assert {spaced(t) for t in titles} >= {spaced(i["title"]) for i in marked}
    assert "<img src=x onerror=alert(1)>" in shown and "{{ site.time }}" in shown
