"""The site contract: what a site declares, what the base derives from it, one list of
required fields, page objects whose parse depends only on the page and the run's context,
and the manual's argument tables generated from the spiders' declared arguments."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from newscrawl.arguments import OPERATIONS_DOC, arguments_table, documented_tables, project_spiders
from newscrawl.pipelines import normalize_article, validate
from newscrawl.sites import ParseError, all_sites, get_site
from newscrawl.sites.base import REQUIRED, ParseContext

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
ET_PAGE = FIXTURES / "epochtimes" / "arttop" / "gb.html"
ET_URL = json.loads(ET_PAGE.with_suffix(".json").read_text(encoding="utf-8"))["fetched_url"]


def test_the_manuals_argument_tables_are_the_declared_arguments():
    """docs/operations.md shows each spider's arguments as rendered from its declaration;
    after changing an argument, `python -m newscrawl.arguments` rewrites the tables."""
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    spiders = project_spiders()
    assert set(spiders) >= {"dw", "epochtimes"}
    assert documented_tables(text, spiders) == text, "run: python -m newscrawl.arguments"
    for name, arguments in spiders.items():
        assert arguments_table(arguments) in text, name


def test_a_changed_argument_or_a_new_spider_changes_the_manual():
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    spiders = project_spiders()
    changed = dict(spiders, dw=tuple(dataclasses.replace(a, help=a.help + " (changed)") if a.name == "urls"
                                     else a for a in spiders["dw"]))
    assert "(changed)" in documented_tables(text, changed)
    added = documented_tables(text, dict(spiders, newsite=spiders["dw"]))
    assert "### Spider `newsite`" in added
    assert added.index("### Spider `newsite`") < added.index("### Incremental re-crawls")


def test_required_fields_are_one_list_and_both_judges_use_it():
    """The parser and the validation pipeline refuse the same items for the same reasons."""
    assert validate.REQUIRED is REQUIRED
    site = get_site("epochtimes")
    item = normalize_article(site.parse(HtmlResponse(ET_URL, body=ET_PAGE.read_bytes())).item)
    assert validate.validate_article(item) is None
    for name in REQUIRED:
        reason = f"missing_{'body' if name == 'body_markdown' else name}"
        assert validate.validate_article(dataclasses.replace(item, **{name: None})) == reason
    methods = {"id": "id", "title": "title", "published": "published", "body_markdown": "body_html"}
    for name, method in methods.items():
        layout = site.layout_for(HtmlResponse(ET_URL, body=ET_PAGE.read_bytes()))
        missing = type("Missing", (layout,), {method: lambda self: None})
        page = missing(site, HtmlResponse(ET_URL, body=ET_PAGE.read_bytes()))
        with pytest.raises(ParseError) as refused:
            page.to_item()
        assert refused.value.reason == f"missing_{'body' if name == 'body_markdown' else name}"


def _byline_page(number: int, byline: str) -> HtmlResponse:
    body = (f'<html><head><meta property="og:title" content="标题{number}"></head><body>'
            f'<h1 class="title">标题{number}</h1><time datetime="2024-01-0{number}T08:00:00Z"></time>'
            f'<div id="artbody"><p>【大纪元2024年1月{number}日讯】{byline}正文第一段。</p>'
            f'<p>正文第二段。</p></div></body></html>')
    return HtmlResponse(f"https://www.epochtimes.com/gb/24/1/{number}/n1400000{number}.htm",
                        body=body.encode(), encoding="utf-8")


def test_a_parse_depends_on_its_page_and_the_context_it_is_given_only():
    """Known byline names travel in the run's ParseContext (the spider makes one per crawl),
    not on the site: parsing other pages first changes nothing unless they share a context."""
    site = get_site("epochtimes")
    teaches = _byline_page(1, "（大纪元记者易航名报导）")
    ambiguous = _byline_page(2, "（大纪元记者易航名古屋报导）")
    alone = site.parse(ambiguous).item.authors
    site.parse(teaches)  # no shared context: nothing learnt
    assert site.parse(ambiguous).item.authors == alone == ["易航"]
    run = ParseContext()
    assert site.parse(teaches, run).item.authors == ["易航名"]
    assert "易航名" in run.known_names
    assert site.parse(ambiguous, run).item.authors == ["易航名"]


@pytest.mark.parametrize("name", sorted(all_sites()))
def test_every_site_declares_what_the_base_derives_from(name):
    site = get_site(name)
    assert site.base.startswith("https://") and site.is_own(site.base)
    assert site.article_urls and site.feeds and site.layouts
    assert site.is_own(site.feed_url()) or site.feed_url().startswith("https://")
    for listing in site.listings:
        assert listing.argument and listing.page_what and listing.value_what
    if site.editions:
        assert site.default_edition in site.editions
