"""Normalise, validate and deduplicate, as Scrapy runs them (through from_crawler)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from newscrawl.archive import ArchiveExtension, archive_of
from newscrawl.items import ARTICLE_FIELDS, Article
from newscrawl.pipelines import DedupePipeline, NormalizePipeline, ValidatePipeline, normalize_article
from tests.conftest import project_settings


def raw_item(**overrides) -> Article:
    values = dict(
        site="dw", id="a-1", url="https://www.dw.com/zh/x/a-1", title="  标题\u00a0 一 ",
        published="2023-10-31T16:28:57.123+02:00", updated="2023-10-31T14:28:57.900Z",
        authors=["安静", " 安静 ", ""], lead="导语\n第二行",
        body_markdown="正文<script>alert(1)</script>第一段。  \n\n\n\n第二段。",
        images=[{"url": "/image/1_6.jpg", "caption": " 说明 ", "credit": None},
                {"url": "", "caption": "空的图片", "credit": None}],
        tags=["外交", "外交", "中美"], source_name="德国之声", lang="zh-Hans",
    )
    values.update(overrides)
    return Article(**values)


@pytest.fixture
def crawler(tmp_path):
    """A crawler whose archive (``dw``, under ``tmp_path``) is open, as a crawl's is."""
    crawler = get_crawler(settings_dict=project_settings(tmp_path))
    extension = crawler.get_extension(ArchiveExtension)
    extension.open("dw")
    yield crawler
    extension.close()


def test_the_item_has_exactly_the_json_lines_fields():
    assert ARTICLE_FIELDS == (
        "site", "id", "url", "title", "published", "updated", "published_precision", "authors", "editor",
        "lead", "body_markdown", "images", "gallery", "tags", "category", "lang", "source_name",
        "crawled_at", "content_hash", "rendered", "version", "previous_hash", "capture", "origin", "parser",
        "cluster", "related")


def test_items_are_read_and_written_alike_whatever_their_kind():
    """The project's item is handled without ItemAdapter's cost; dicts and other items
    through it: normalising, hashing and the JSON line agree for all of them."""

    from newscrawl.archive import item_line
    from newscrawl.items import adapt, item_dict
    from newscrawl.versions import exact_hash

    item = raw_item()
    fields = adapt(item)
    fields["title"] = "新"
    assert item.title == "新" and fields.get("lead") == item.lead and list(fields) == list(ARTICLE_FIELDS)
    assert item_dict(item) == asdict(item) and list(item_dict(item)) == list(ARTICLE_FIELDS)
    as_dict = NormalizePipeline().process_item(asdict(raw_item()))
    normalised = NormalizePipeline().process_item(raw_item())
    as_dict["crawled_at"] = normalised.crawled_at
    assert as_dict == asdict(normalised)
    assert exact_hash(as_dict) == exact_hash(normalised) and item_line(as_dict) == item_line(normalised)


def test_normalize():
    item = NormalizePipeline().process_item(raw_item())
    assert item.title == "标题 一"
    assert item.published == "2023-10-31T14:28:57Z"
    assert item.updated is None  # not later than the publication (to the second)
    assert item.authors == ["安静"]
    assert item.tags == ["外交", "中美"]
    assert item.lead == "导语 第二行"
    # raw markup in the Markdown is escaped, never deleted
    assert item.body_markdown == "正文&lt;script>alert(1)&lt;/script>第一段。\n\n第二段。"
    assert item.images == [{"url": "https://www.dw.com/image/1_6.jpg", "caption": "说明", "credit": None}]
    assert item.crawled_at.endswith("Z")
    assert item.content_hash is None  # the DedupePipeline's, once the pictures are kept
    hashed = normalize_article(raw_item())  # as scrapy extract normalises
    assert len(hashed.content_hash) == 32
    before = asdict(hashed)
    assert asdict(normalize_article(hashed)) == before  # idempotent


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"id": None}, "missing_id"),
        ({"title": "  "}, "missing_title"),
        ({"published": None}, "missing_published"),
        ({"published": "3 小时前"}, "missing_published"),
        ({"body_markdown": ""}, "missing_body"),
        ({"published": "2099-01-01T00:00:00Z"}, "published_in_future"),
    ],
)
def test_validate_drops_with_a_counted_reason(crawler, overrides, reason, caplog):
    item = NormalizePipeline().process_item(raw_item(**overrides))
    with pytest.raises(DropItem):
        ValidatePipeline.from_crawler(crawler).process_item(item)
    assert crawler.stats.get_value(f"newscrawl/dropped/{reason}") == 1
    assert reason in caplog.text


def test_validate_passes_a_good_item(crawler):
    item = NormalizePipeline().process_item(raw_item())
    assert ValidatePipeline.from_crawler(crawler).process_item(item) is item


def test_dedupe_within_and_across_runs(crawler, tmp_path):
    dedupe = DedupePipeline.from_crawler(crawler)
    archive = archive_of(crawler)
    item = NormalizePipeline().process_item(raw_item())
    assert dedupe.process_item(item) is item
    with pytest.raises(DropItem):  # the same id again in this run
        dedupe.process_item(NormalizePipeline().process_item(raw_item(url="https://www.dw.com/zh/y/a-1")))
    assert crawler.stats.get_value("newscrawl/dropped/duplicate") == 1
    archive.write(item)
    crawler.get_extension(ArchiveExtension).close()

    # next run: unchanged → dropped quietly; changed title → passes with `updated` set
    def next_run():
        crawler = get_crawler(settings_dict=project_settings(tmp_path))
        crawler.get_extension(ArchiveExtension).open("dw")
        return crawler

    crawler2 = next_run()
    with pytest.raises(DropItem):
        DedupePipeline.from_crawler(crawler2).process_item(NormalizePipeline().process_item(raw_item()))
    assert crawler2.stats.get_value("newscrawl/items/unchanged") == 1
    crawler2.get_extension(ArchiveExtension).close()
    crawler3 = next_run()
    changed = NormalizePipeline().process_item(raw_item(title="新标题"))
    passed = DedupePipeline.from_crawler(crawler3).process_item(changed)
    assert passed.updated is None and passed.origin == "site"  # no update time invented
    assert crawler3.stats.get_value("newscrawl/items/updated") == 1
    crawler3.get_extension(ArchiveExtension).close()


def test_titles_lose_bidi_controls_and_must_show_something_within_the_cap():
    """A right-to-left override makes a title read other than it is written; a title of only
    U+FFFD (undecodable bytes) or of 100,000 characters is no headline: counted drops."""
    from newscrawl.pipelines import validate_article
    from newscrawl.pipelines.normalize import normalize_article

    spoofed = normalize_article(raw_item(title="\u202e美中\u2066会谈\u2069\u200f", lead="\u202a导语\u202c"))
    assert spoofed.title == "美中会谈" and spoofed.lead == "导语"
    assert validate_article(spoofed) is None
    for title in ("\ufffd", "\ufffd\ufffd \u202e", "\ud800", "\u202e"):
        item = normalize_article(raw_item(title=title))
        assert validate_article(item) in ("invisible_title", "missing_title"), title
    long = normalize_article(raw_item(title="长" * 100_000))
    assert validate_article(long) == "title_too_long"
    assert validate_article(long, max_title_chars=100_000) is None
    assert validate_article(normalize_article(raw_item(title="？"))) is None  # visible, if odd
