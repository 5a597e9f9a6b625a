"""The hostile-page corpus, crawled by the real spiders and built by a real Jekyll.

``tests/fixtures/hostile/`` (made by ``python -m tests.fixtures.hostile.build``) holds DW- and
Epoch-Times-shaped pages full of attacks: markup, scripts, hostile links and image URLs,
Markdown typed as text, Liquid, kramdown extensions, bidi and zero-width characters, lone
surrogates. They are served by the mirror server and crawled with ``scrapy crawl … -a urls=…``;
then every post must be inert and complete, and the posts must build with ``jekyll build``
into HTML with no script, no event attribute, no non-http(s) link, no Liquid output, and
every article's prose.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import lxml.html
import pytest

from tests.crawl import CrawlResult, crawl
from tests.fixtures.hostile import build as corpus
from tests.mirror.server import MirrorServer
from tests.test_safety import unescape_markdown

HOSTILE = Path(corpus.__file__).resolve().parent
SKELETON = HOSTILE.parent / "jekyll"
EXPECTED = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))["articles"]
JEKYLL = shutil.which("jekyll")
#: Liquid's {{ site.time }} would print the build time like this.
BUILD_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}")
URL_ATTRIBUTES = ("href", "src", "srcset", "action", "formaction", "poster", "data", "cite", "background",
                  "content")


def inert_page(page: Path, banned: tuple[str, ...]) -> lxml.html.HtmlElement:
    """A page Jekyll built, parsed, after checking it is inert: no script (not even as text
    of a tag), no Liquid output, none of the ``banned`` tags, no event attribute, and every
    URL attribute an http(s) URL or one without a scheme (``javascript:``, ``data:`` … out)."""
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source.lower(), page
    assert not BUILD_TIME.search(source), f"Liquid ran in {page}"
    doc = lxml.html.fromstring(source)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        assert el.tag not in banned, page
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), f"{name}= in {page}"
            if name.lower() in URL_ATTRIBUTES:
                shaped = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
                assert not re.match(r"(javascript|vbscript|data):", shaped), f"{name}={value} in {page}"
                assert re.match(r"https?://", shaped) or not re.match(r"[a-z][a-z0-9+.-]*:", shaped), \
                    f"{name}={value} in {page}"
    return doc


def markdown_text(markdown: str) -> str:
    """Roughly what a reader sees of our Markdown: link and image syntax and emphasis marks
    out, escapes resolved (enough to find each paragraph's prose)."""
    markdown = re.sub(r"(?<!\\)!?\[", "", markdown)
    markdown = re.sub(r"(?<!\\)\]\([^)]*\)", "", markdown)
    markdown = re.sub(r"(?<!\\)\*", "", markdown)
    return unescape_markdown(markdown)


def plain(text: str) -> str:
    """Whitespace folded, and kramdown's typographic quotes back to straight ones."""
    text = re.sub("[“”„‟]", '"', re.sub("[‘’‚‛]", "'", text))
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> dict[str, CrawlResult]:
    out = tmp_path_factory.mktemp("hostile")
    results = {}
    with MirrorServer([HOSTILE]) as server:
        for spider in ("dw", "epochtimes"):
            urls = [url for url, want in EXPECTED.items() if want["spider"] == spider]
            results[spider] = crawl(spider, server.base_url, out, "-a", "urls=" + ",".join(urls))
    return results


@pytest.fixture(scope="module")
def posts(crawled) -> dict[str, tuple[Path, str, dict, str]]:
    """Article URL → (post path, whole text, front matter, Markdown after it)."""
    found = {}
    for spider, result in crawled.items():
        for name, (matter, markdown) in result.posts(spider).items():
            path = result.out / spider / "_posts" / name
            found[unquote(matter["from"])] = (path, path.read_text(encoding="utf-8"), matter, markdown)
    return found


def test_the_corpus_is_what_its_generator_makes(tmp_path):
    corpus.build(tmp_path)
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (HOSTILE / path.relative_to(tmp_path)).read_bytes(), path.name
    assert len(corpus.CASES) >= 20


def test_every_hostile_article_is_archived_without_a_crash(crawled, posts):
    for spider, result in crawled.items():
        assert result.returncode == 0, result.log[-3000:]
        assert "Traceback" not in result.log
        wanted = [url for url, want in EXPECTED.items() if want["spider"] == spider]
        assert result.stat("newscrawl/items/new") == len(wanted)
        assert not [k for k in result.stats if k.startswith("newscrawl/dropped/")]
        assert sorted(line["url"] for line in result.jsonl(spider)) == sorted(
            posts[url][2]["from"] for url in wanted)
    assert sorted(posts) == sorted(EXPECTED)


def test_front_matter_loads_back_to_the_items_values(crawled, posts):
    for spider, result in crawled.items():
        for line in result.jsonl(spider):
            _, _, matter, _ = posts[unquote(line["url"])]
            assert matter["title"] == line["title"]
            assert matter["id"] == line["id"] and matter["from"] == line["url"]
            assert matter["date"] == line["published"]
            if line["authors"]:
                assert matter["authors"] == line["authors"]
            else:
                assert matter["author"] == line["source_name"] and "authors" not in matter
            assert matter.get("lead") == line["lead"] and matter.get("editor") == line["editor"]
            assert matter["tags"] == [line["source_name"], *line["tags"]]
            assert matter["categories"] == [c for c in (line["category"], line["source_name"]) if c]
            if line["images"]:  # the same URL, percent-encoded where it could break out
                assert unquote(matter["image"]) == line["images"][0]["url"]
                assert not re.search(r"[\s()<>\"'{}]", matter["image"])
            else:
                assert "image" not in matter
            assert matter["render_with_liquid"] is False
    for url, want in EXPECTED.items():
        for fragment in want["title_has"]:
            assert fragment.replace("\ufffd", "") in posts[url][2]["title"]


def test_file_names_are_clean(posts):
    for path, *_ in posts.values():
        assert not any(unicodedata.category(c)[0] == "C" or c == "\ufffd" for c in path.name), repr(path.name)
        assert not re.search(r'[/\\:*?"<>|#%&\s{}\[\]`]', path.name[11:-3]), path.name


def test_posts_are_inert(posts):
    for url, (_, text, _, markdown) in posts.items():
        lines = markdown.split("\n")
        assert re.fullmatch(r"<!--\d+-->", lines[0])
        rest = "\n".join(lines[1:])
        assert "<script" not in text.lower(), url
        assert not re.search(r"<[A-Za-z/!?]", rest), f"raw markup in {url}"  # only our comment line
        assert "{" not in rest, f"a brace Liquid could read in {url}"
        targets = re.findall(r"(?<!\\)\]\(([^)]*)\)", rest)
        assert targets, url
        for target in targets:
            assert re.match(r"https?://[^\s/]+", target) and not re.search(r"[\s()<>\"']", target), target
        assert not re.search(r"(?<!\\)\]\(\s*(javascript|vbscript|data):", rest, re.I)


def test_every_articles_prose_is_in_its_post(posts):
    for url, want in EXPECTED.items():
        seen = plain(markdown_text(posts[url][3]))
        missing = [p for p in want["prose"] if plain(p) not in seen]
        assert not missing, f"{url}: {missing}"
        for gone in want["not_published"]:
            assert gone not in seen


def _jekyll_build(posts: dict, tmp: Path, keep_key: bool) -> tuple[subprocess.CompletedProcess, Path]:
    src, dest = tmp / "site", tmp / "_site"
    shutil.copytree(SKELETON, src)
    (src / "_posts").mkdir()
    for path, text, _, _ in posts.values():
        if not keep_key:  # as Jekyll < 4 (GitHub Pages: 3.9) reads it: the key does nothing
            text = text.replace("\nrender_with_liquid: false\n", "\n")
        (src / "_posts" / path.name).write_text(text, encoding="utf-8")
    proc = subprocess.run([JEKYLL, "build", "--safe", "-s", str(src), "-d", str(dest)],
                          capture_output=True, text=True, timeout=300)
    return proc, dest


@pytest.mark.skipif(JEKYLL is None, reason="jekyll is not installed (apt-get install jekyll)")
@pytest.mark.parametrize("keep_key", [True, False], ids=["render_with_liquid-false", "key-ignored"])
def test_jekyll_builds_the_hostile_posts_into_inert_html(posts, tmp_path, keep_key):
    proc, dest = _jekyll_build(posts, tmp_path, keep_key)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Liquid" not in proc.stdout + proc.stderr  # no Liquid error, no Liquid warning
    pages = {}
    for page in dest.rglob("*.html"):
        doc = inert_page(page, banned=("script", "iframe", "object", "embed", "style", "form"))
        pages[unquote(doc.xpath("//link[@rel='canonical']/@href")[0])] = doc
    assert sorted(pages) == sorted(EXPECTED)
    for url, want in EXPECTED.items():
        text = plain(pages[url].xpath("//article")[0].text_content())
        missing = [p for p in want["prose"] if plain(p) not in text]
        assert not missing, f"{url}: {missing}"
    dw_text = pages[next(u for u, w in EXPECTED.items() if w["id"] == "a-69900001")].text_content()
    assert "{{ site.time }}" in dw_text and "{% assign x = 1 %}{{ x }}" in dw_text
