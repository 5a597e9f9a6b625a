"""The DW parser on whole pages of the bundled mirror, checked against expected.json.

Every template generation has pages there: Apollo state (with other ``Article:`` entries
before the page's own), JSON-LD + DOM only, DOM only, the pre-2023 template, gallery pages.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from newscrawl.pipelines import normalize_article, validate_article
from newscrawl.sites import ParseError, get_site
from tests.conftest import DW_MIRROR, check_body, load_manifest, response_for

SITE = get_site("dw")
EXPECTED_FILES = sorted(
    name for name in __import__("json").loads((DW_MIRROR / "expected.json").read_text(encoding="utf-8"))
    if name.endswith(".html")
)


def parse(file: str):
    parsed = SITE.parse(response_for(file))
    return parsed, normalize_article(parsed.item)


@pytest.mark.parametrize("file", EXPECTED_FILES)
def test_fields(file, dw_expected):
    want = dw_expected[file]
    _, item = parse(file)
    assert validate_article(item) is None
    assert item.id == want["id"]
    assert unquote(item.url) == want["url"]
    assert item.title == want["title"]
    assert item.published == want["published"]
    assert item.updated == want["updated"]
    assert item.authors == want["authors"]
    assert item.lead == want["lead"]
    assert item.tags == want["tags"]
    assert item.category == want["category"]
    assert item.lang == want["lang"]
    assert item.source_name == "德国之声"


@pytest.mark.parametrize("file", EXPECTED_FILES)
def test_images(file, dw_expected):
    want = dw_expected[file]
    _, item = parse(file)
    assert len(item.images) == want["image_count"]
    assert item.images == want["images"]
    for image in item.images:
        assert "${formatId}" not in image["url"]
        assert f"]({image['url']})" in item.body_markdown


@pytest.mark.parametrize("file", EXPECTED_FILES)
def test_body(file, dw_expected):
    want = dw_expected[file]
    _, item = parse(file)
    check_body(item.body_markdown, want)
    assert "window.__APOLLO_STATE__" not in item.body_markdown


@pytest.mark.parametrize("file", EXPECTED_FILES)
def test_gallery(file, dw_expected):
    want = dw_expected[file]["gallery"]
    parsed, item = parse(file)
    if want is None:
        assert item.gallery is None
        return
    if parsed.gallery_url:  # captions only on the g- page: the spider completes it
        assert [i["title"] for i in item.gallery["images"]] == [i["title"] for i in want["images"]]
        assert not any(i["caption"] for i in item.gallery["images"])
        completed = SITE.parse(response_for(_file_of(parsed.gallery_url))).item.gallery
        assert normalize_article(_with_gallery(item, completed)).gallery == want
    else:
        assert item.gallery == want


def _file_of(url: str) -> str:
    route = load_manifest()[unquote(url)]
    return route["file"]


def _with_gallery(item, gallery):
    item.gallery = gallery
    return item


def test_the_pages_own_article_wins_over_earlier_teasers():
    """The Apollo trap: other Article: entries come first in the map."""
    import json
    import re

    for file in EXPECTED_FILES:
        text = (DW_MIRROR / file).read_text(encoding="utf-8")
        if "__APOLLO_STATE__" not in text:
            continue
        state = json.JSONDecoder().raw_decode(text, text.index("{", text.index("__APOLLO_STATE__")))[0]
        articles = [k for k in state if k.startswith("Article:")]
        _, item = parse(file)
        own = f"Article:{item.id.split('-')[1]}"
        if item.id.startswith("a-"):
            assert articles[0] != own and own in articles
            assert item.title == re.sub(r"\s+", " ", state[own]["title"]).strip()


def test_every_edition_is_parsed_not_only_zh():
    """The same template on another language edition: lang comes from the URL."""
    file = EXPECTED_FILES[0]
    url = load_manifest_url(file).replace("/zh/", "/en/", 1).replace("/zh-hant/", "/en/", 1)
    item = SITE.parse(response_for(file, url=url)).item
    assert item.lang == "en"
    assert item.title


def load_manifest_url(file: str) -> str:
    for url, route in load_manifest().items():
        if route.get("file") == file and int(route.get("status", 200)) == 200:
            return url
    raise KeyError(file)


def test_broken_pages_are_refused_with_a_reason(dw_expected):
    broken = [route["file"] for route in load_manifest().values()
              if route.get("file", "").endswith(".html") and route["file"] not in dw_expected
              and "/t-" not in route["file"] and "t-" not in route["file"].split("/")[-1][:2]]
    assert broken, "the mirror has broken pages"
    for file in broken:
        try:
            parsed = SITE.parse(response_for(file))
        except ParseError as exc:
            assert exc.reason in {"truncated_page", "unrecognised_layout"}
            continue
        assert validate_article(normalize_article(parsed.item)) is not None, file


def variant(file: str, *replacements: tuple[str, str]):
    """A mirror page with a few strings changed: the same page in a layout variant."""
    text = (DW_MIRROR / file).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    from scrapy.http import HtmlResponse

    return HtmlResponse(url=load_manifest_url(file), body=text.encode("utf-8"), encoding="utf-8")


def test_legacy_author_of_the_apollo_entry_is_used_when_no_person_is_linked():
    response = variant("pages/a-68200102.html", ('"legacyAuthor":""', '"legacyAuthor":"林一 摘译, 王二"'))
    assert normalize_article(SITE.parse(response).item).authors == ["林一", "王二"]


def test_json_ld_organisation_is_no_author(dw_expected):
    want = dw_expected["pages/a-68200120.html"]["authors"]
    response = variant("pages/a-68200120.html",
                       ('"author":[{"@type":"Person","name":"周文"},{"@type":"Person","name":"李明远"}]',
                        '"author":[{"@type":"Organization","name":"Deutsche Welle"}]'))
    assert SITE.parse(response).item.authors == want  # from the header byline instead


def test_agency_signoffs_are_removed_but_source_notes_kept():
    extra = ("<p>（路透社、法新社）</p><p>cwo/fab (dpa, afp)</p><p>ju (rtr)</p>"
             "<p>（本文参考了欧盟委员会的公报）</p>"
             "<p><strong>DW中文有Instagram！</strong>欢迎搜寻dw.chinese，或点选此链接关注我们。</p>")
    in_state = extra.replace("<", "\\u003c")  # the state escapes "<" as the real pages do
    response = variant("pages/a-68200108.html", (r"\u003cp>（路透社、法新社）\u003c/p>", in_state))
    body = normalize_article(SITE.parse(response).item).body_markdown
    for gone in ("路透社、法新社", "cwo/fab", "ju (rtr)", "Instagram", "dw.chinese"):
        assert gone not in body
    assert "（本文参考了欧盟委员会的公报）" in body


def test_topics_from_the_2023_aside_when_the_state_has_none(dw_expected):
    want = dw_expected["pages/a-68200121.html"]["tags"]
    response = variant("pages/a-68200121.html",
                       ('data-tracking-name="section-related-topics"', 'data-tracking-name="x"'),
                       ("<aside", '<aside data-tracking-name="related-topics"'))
    assert SITE.parse(response).item.tags == want


@pytest.mark.parametrize(
    ("line", "is_signoff"),
    [("（路透社、法新社）", True), ("德新社、美联社", True), ("（法广、路透）", True), ("(dpa, afp)", True),
     ("路透社报道称，中方表示反对。", False), ("（本文参考了欧盟的公报）", False),
     ("（德国之声中文网）", False),  # the edition's own opening, when it stands alone
     ("路透社。", True), ("、路透社、", True), ("法新社.路透社", False), ("路透社, 中方表示反对", False),
     ("（）", False)],
)
def test_signoff_lines(line, is_signoff):
    from newscrawl.sites.dw import is_signoff as signoff

    assert signoff(line) is is_signoff


@pytest.mark.parametrize(
    ("line", "parts"),
    [("作者：林一", [("author", ["林一"])]), ("（责编：王二）", [("editor", ["王二"])]),
     (" / 编辑：王二", [("editor", ["王二"])]), ("by Anna Berger", [("author", ["Anna Berger"])]),
     ("Autorin: Anna Berger / Redaktion: Jan Hus", [("author", ["Anna Berger"]), ("editor", ["Jan Hus"])]),
     ("Text: A und B | Redaktion: C", [("author", ["A", "B"]), ("editor", ["C"])]),
     ("他说：作者：林一", []), ("会议通过的联合声明提出：将在年内", [])],
)
def test_credit_lines(line, parts):
    """A line made only of ``Label: names`` parts, the first opening it; any other line has none."""
    from newscrawl.sites.dw import credit_parts

    assert credit_parts(line) == parts


@pytest.mark.parametrize(("byline", "name"), [("苗子 (德新社)", "苗子"), ("安静 摘译", "安静"),
                                             ("文山 编译", "文山"), ("Anna Berger", "Anna Berger")])
def test_author_names_lose_roles_and_sources(byline, name):
    from newscrawl.sites.dw import author_name

    assert author_name(byline) == name


def test_state_handed_to_json_parse_is_read_too():
    """Some builds emit ``window.__APOLLO_STATE__ = JSON.parse("…")``: the same state."""
    import re

    from newscrawl.sites.dw import apollo_state

    file = "pages/a-68200103.html"
    text = (DW_MIRROR / file).read_text(encoding="utf-8")
    match = re.search(r"window\.__APOLLO_STATE__\s*=\s*", text)
    state, end = json.JSONDecoder().raw_decode(text, match.end())
    wrapped = text[: match.end()] + f"JSON.parse({json.dumps(json.dumps(state))})" + text[end:]
    assert apollo_state(wrapped) == state
    from scrapy.http import HtmlResponse

    item = SITE.parse(HtmlResponse(url=load_manifest_url(file), body=wrapped.encode(), encoding="utf-8")).item
    assert item == SITE.parse(response_for(file)).item


def test_state_assignments_are_the_regular_expressions_matches():
    """state_assignments finds by str.find what ``_STATE_ASSIGNMENT.finditer`` finds: on the
    mirror's pages and on strings built of near-misses (``window.__`` without a name, names
    run together, a ``window.`` inside another)."""
    import random

    from newscrawl.sites.dw import _STATE_ASSIGNMENT, state_assignments

    texts = [path.read_text(encoding="utf-8") for path in sorted((DW_MIRROR / "pages").glob("*.html"))]
    pieces = ["window.__", "window.__A__", "window.__APOLLO_STATE__ = ", "window.__X__=JSON.parse( ",
              "window.window.__B__ =", "__", "=", " ", "x", "window.__a__ = ", "window.__9__="]
    rnd = random.Random(23)
    texts += ["".join(rnd.choice(pieces) for _ in range(30)) for _ in range(2000)]
    assert any(len(list(_STATE_ASSIGNMENT.finditer(t))) > 1 for t in texts)
    for text in texts:
        expected = [(m.span(), m.groupdict()) for m in _STATE_ASSIGNMENT.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in state_assignments(text)] == expected
        assert [m.span() for m in state_assignments(text, first=True)] == [span for span, _ in expected[:1]]


def test_the_benchmarks_real_size_pages_are_parsed_as_their_articles(tmp_path):
    """``make bench``'s pages of a real article's size (tests/mirror/dw_real_size.py): each is
    read as the article its expected.json describes, with its 10-15 paragraphs, and none of
    the bulk of its head and state (translations, navigation teasers) reaches the body."""
    from tests.mirror.build_dw import build

    build(tmp_path, extra_articles=12, real_size=True)
    expected = json.loads((tmp_path / "expected.json").read_text(encoding="utf-8"))
    files = sorted(f for f in expected if f.startswith("pages/a-7"))
    assert len(files) == 12
    for file in files:
        want = expected[file]
        page = (tmp_path / file).read_bytes()
        assert 80_000 < len(page) < 130_000, (file, len(page))
        item = normalize_article(SITE.parse(response_for(file, want["url"], tmp_path)).item)
        assert validate_article(item) is None
        assert (item.id, item.title, item.published, item.updated, item.authors, item.lead, item.tags) == (
            want["id"], want["title"], want["published"], want["updated"], want["authors"], want["lead"],
            want["tags"])
        assert item.images == want["images"]
        check_body(item.body_markdown, want)
        text = [p for p in item.body_markdown.split("\n\n") if not p.startswith(("![", "*", "#"))]
        assert 10 <= len(text) <= 15, (file, len(text))
        assert "NavigationTeaser" not in item.body_markdown and "component_" not in item.body_markdown
