"""No input makes a parser raise anything but ParseError; damaged pages are refused, not archived."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import pytest
from scrapy.http import HtmlResponse

from newscrawl.pipelines import normalize_article
from newscrawl.sites import ParseError, get_site
from tests import fuzz
from tests.fixtures.regenerate import PAGES

#: Mutations of the fixture pages the suite parses: a few hundred in ``make test``, 2000 in the
#: ``slow`` run (``python -m tests.fuzz --count N`` for more).
FUZZ_COUNT = 2000


@pytest.mark.parametrize("count", [300, pytest.param(FUZZ_COUNT, marks=pytest.mark.slow)])
def test_seeded_mutations_of_every_fixture_give_an_item_or_a_parse_error(count):
    outcomes, failures = fuzz.run(count, seed=8)
    assert not failures, failures[0]
    assert sum(outcomes.values()) == count
    assert outcomes["item"] > count // 3  # the mutations do not just break every page
    assert any(k.startswith("ParseError:") for k in outcomes)


def fixture(path: str) -> tuple[str, bytes]:
    page = PAGES / path
    return json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))["fetched_url"], page.read_bytes()


def parse(site: str, url: str, body: bytes, **headers: str):
    return get_site(site).parse(HtmlResponse(url=url, body=body, headers=headers or None))


def test_an_epoch_times_page_cut_at_a_quarter_is_refused():
    url, body = fixture("epochtimes/current/gb.html")
    with pytest.raises(ParseError) as exc:
        parse("epochtimes", url, body[: len(body) // 4])
    assert exc.value.reason == "truncated_page"


@pytest.mark.parametrize("where", ["state", "dom"])
def test_a_dw_body_lost_in_300_nested_divs_is_refused(where):
    """Parsers stop following nesting at some depth and silently drop what is inside."""
    path = "dw/react/apollo.html" if where == "state" else "dw/react/dom-only.html"
    url, body = fixture(path)
    text = body.decode("utf-8")
    if where == "state":
        text = re.sub(r'("text":")', lambda m: m.group(1) + "\\u003cdiv>" * 300, text, count=1)
    else:
        text = re.sub(r'(<div class="[^"]*rich-text)', "<div>" * 300 + r"\1", text, count=1)
    assert text.count("<div>") >= 300 or text.count("\\u003cdiv>") >= 300
    with pytest.raises(ParseError) as exc:
        parse("dw", url, text.encode("utf-8"))
    assert exc.value.reason == "mangled_page"


@pytest.mark.parametrize(("site", "path"), [("dw", "dw/react/dom-only.html"),
                                            ("epochtimes", "epochtimes/current/gb.html")])
@pytest.mark.parametrize(("encoding", "declared"),
                         [("gb18030", "utf-8"), ("utf-8", "gb2312"), ("utf-8", "gbk"), ("gb18030", "gbk")])
def test_charset_contradictions_are_read_right(site, path, encoding, declared):
    """GBK bytes declared UTF-8 and UTF-8 bytes declared GB2312/GBK give the same item."""
    url, body = fixture(path)
    want = asdict(normalize_article(parse(site, url, body).item))
    text = re.sub(r'charset="?[\w-]+"?', f'charset="{declared}"', body.decode("utf-8"), count=1)
    mislabelled = text.encode(encoding)
    header = {"Content-Type": f"text/html; charset={declared}"}
    got = asdict(normalize_article(parse(site, url, mislabelled, **header).item))
    assert {k: v for k, v in got.items() if k != "crawled_at"} == {
        k: v for k, v in want.items() if k != "crawled_at"}


def test_bytes_no_charset_reads_cleanly_are_refused_not_archived_as_mojibake():
    url, body = fixture("epochtimes/current/gb.html")
    text = body.decode("utf-8")
    head, rest = text[: len(text) // 3], text[len(text) // 3:]
    # the first third in UTF-8, the rest in Big5: neither UTF-8 nor GB18030 reads it whole
    broken = head.encode("utf-8") + rest.encode("big5", "replace")
    with pytest.raises(ParseError) as exc:
        parse("epochtimes", url, broken)
    assert exc.value.reason == "undecodable_page"


@pytest.mark.parametrize("value", ['["2024-02-30T10:00:00Z", 5]', '{"@value": "2024-01-01"}', "20240101",
                                   '"2024-02-30T25:61:00Z"', '"0000-01-01T00:00:00Z"', "null"])
def test_json_ld_dates_of_any_shape_give_an_item_from_the_dom_or_a_reason(value):
    url, body = fixture("dw/react/jsonld-dom.html")
    text = re.sub(r'"datePublished":\s*"[^"]*"', f'"datePublished":{value}', body.decode("utf-8"))
    try:
        item = parse("dw", url, text.encode("utf-8")).item
    except ParseError as exc:
        assert exc.reason == "missing_published"
    else:
        assert item.published is None or re.match(r"\d{4}-\d{2}-\d{2}", item.published)


def test_a_link_over_the_url_length_limit_is_a_counted_drop(caplog):
    """Scrapy leaves out a link longer than URLLENGTH_LIMIT with an INFO line; ours counts
    and logs it as a drop, so a run's summary says an article was cut out."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from newscrawl.middlewares import UrlLengthMiddleware

    crawler = get_crawler(settings_dict={"URLLENGTH_LIMIT": 100})
    crawler.stats.open_spider()
    middleware = UrlLengthMiddleware.from_crawler(crawler)
    short = Request("https://www.dw.com/zh/a-1")
    assert middleware.get_processed_request(short, None) is short
    long = Request("https://www.dw.com/zh/" + "x" * 200 + "/a-2")
    with caplog.at_level("WARNING", logger="newscrawl.drops"):
        assert middleware.get_processed_request(long, None) is None
    assert crawler.stats.get_value("newscrawl/dropped/url_too_long") == 1
    assert "url_too_long" in caplog.text and "more than URLLENGTH_LIMIT 100" in caplog.text
