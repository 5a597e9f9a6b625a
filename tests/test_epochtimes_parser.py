"""The Epoch Times parser on whole pages of the bundled mirror, checked against expected.json.

Three DOM variants (current with time/JSON-LD, old with only the visible US Eastern time,
and one with JSON-LD only), gb and b5 twins, every byline shape, every trailer.
"""

from __future__ import annotations

import json

import pytest
from scrapy.http import HtmlResponse

from newscrawl.pipelines import normalize_article, validate_article
from newscrawl.sites import ParseError, get_site
from tests.conftest import check_body
from tests.mirror.server import MIRROR_ROOT

SITE = get_site("epochtimes")
ET_MIRROR = MIRROR_ROOT / "epochtimes"
ET_DAY2 = MIRROR_ROOT / "epochtimes-day2"
EXPECTED = json.loads((ET_MIRROR / "expected.json").read_text(encoding="utf-8"))
CASES = [(ET_MIRROR, f, v) for f, v in EXPECTED.items() if f.endswith(".html")]
CASES += [(ET_DAY2, f, v) for f, v in EXPECTED["day2"]["expected"].items()]


def parse(directory, file, url):
    body = (directory / file).read_bytes()
    return normalize_article(SITE.parse(HtmlResponse(url=url, body=body)).item)


@pytest.mark.parametrize(("directory", "file", "want"), CASES, ids=[f"{d.name}/{f}" for d, f, _ in CASES])
def test_fields(directory, file, want):
    item = parse(directory, file, want["url"])
    assert validate_article(item) is None
    assert item.id == want["id"]
    assert item.url == want["url"]
    assert item.title == want["title"]
    assert item.published == want["published"]
    assert item.updated == want["updated"]
    assert item.authors == want["authors"]
    assert item.editor == want["editor"]
    assert item.tags == want["tags"]
    assert item.category == want["category"]
    assert item.lang == want["lang"]
    assert item.source_name == "大纪元"


@pytest.mark.parametrize(("directory", "file", "want"), CASES, ids=[f"{d.name}/{f}" for d, f, _ in CASES])
def test_body_and_images(directory, file, want):
    item = parse(directory, file, want["url"])
    assert item.images == want["images"]
    assert want["body_first_paragraph"]  # every page has one: the dateline and byline are kept
    check_body(item.body_markdown, want)
    assert not item.body_markdown.rstrip().endswith("#")  # the end mark is gone


@pytest.mark.parametrize("misfit", EXPECTED["misfits"], ids=lambda m: m["kind"])
def test_pages_that_fit_no_layout_are_refused(misfit):
    body = (ET_MIRROR / misfit["file"]).read_bytes()
    with pytest.raises(ParseError) as exc:
        SITE.parse(HtmlResponse(url=misfit["url"], body=body))
    assert exc.value.reason == "unrecognised_layout"


def test_twins_share_the_id_and_differ_in_script():
    for gb, b5 in EXPECTED["twins"]:
        files = {v["url"]: f for f, v in EXPECTED.items() if f.endswith(".html")}
        one, two = parse(ET_MIRROR, files[gb], gb), parse(ET_MIRROR, files[b5], b5)
        assert one.id == two.id
        assert (one.lang, two.lang) == ("zh-Hans", "zh-Hant")
        assert one.published == two.published
        assert SITE.to_edition(b5, "gb") == gb and SITE.to_edition(gb, "b5") == b5


def test_the_lead_is_the_description_without_dateline_and_byline():
    file, want = next((f, v) for f, v in EXPECTED.items() if f.endswith(".html") and v["variant"] == "A")
    body = (ET_MIRROR / file).read_text(encoding="utf-8")
    described = body.replace('<meta name="description" content="', '<meta name="description" content="'
                             "【大纪元2023年3月15日讯】（大纪元记者某某报导）", 1)
    assert described != body
    lead = SITE.parse(HtmlResponse(url=want["url"], body=described.encode(), encoding="utf-8")).item.lead
    plain = SITE.parse(HtmlResponse(url=want["url"], body=body.encode(), encoding="utf-8")).item.lead
    assert lead == plain and lead and not lead.startswith("【")
