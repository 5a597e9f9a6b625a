"""Mistakes are loud: wrong spider arguments, settings and crawlall configs are one line on
stderr and exit status 2, before anything is fetched or written (real ``scrapy`` processes)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newscrawl.arguments import ArgumentError, did_you_mean
from newscrawl.spiders.dw import DwSpider
from newscrawl.spiders.epochtimes import EpochTimesSpider
from tests.conftest import DW_MIRROR, SPIDER_LIST
from tests.crawl import REPO

#: no request may leave the machine even if a check let one through: port 9 (discard) is closed
NOWHERE = "http://127.0.0.1:9"


def scrapy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "scrapy", *args, "-s", f"NEWSCRAWL_MIRROR={NOWHERE}",
           "-s", f"NEWSCRAWL_OUTPUT_DIR={out}"]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def assert_usage_error(result: subprocess.CompletedProcess, command: str, expected: str,
                       tmp_path: Path) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # one line: no usage text, no log, no traceback
    assert lines[0].startswith(f"scrapy {command}: error: ")
    assert expected in lines[0], lines[0]
    assert not (tmp_path / "out").exists()  # nothing was crawled or written


@pytest.mark.parametrize(("args", "expected"), [
    (["dw", "-a", "topic=t-68199001"],
     "spider dw has no argument 'topic' (did you mean 'topics'?); it takes: topics, urls, feed, sitemaps, "
     "lang, full, recheck, since, backfill_pages, optional"),
    (["dw", "-a", "foo=bar"], "spider dw has no argument 'foo'; it takes: topics, urls"),
    (["epochtimes", "-a", "tag=王毅"], "spider epochtimes has no argument 'tag' (did you mean 'tags'?)"),
    (["dw", "-a", "topics="], "topics is empty: give one or more comma-separated topics"),
    (["dw", "-a", "topics= , ,"], "topics is empty"),
    (["dw", "-a", "topics=t-1,climate"], "topics: 'climate' is not a topic or section"),
    (["dw", "-a", "full=yes-please"],
     "full must be 1 or 0 (or true/false, yes/no, on/off), not 'yes-please'"),
    (["dw", "-a", "urls=not-a-url"], "urls: 'not-a-url' is not an http(s) URL"),
    (["dw", "-a", "urls=https://example.org/zh/a-1"], "urls: 'https://example.org/zh/a-1' is not on dw.com"),
    (["dw", "-a", "urls=https://www.dw.com/zh/"], "is not a DW article (a-…) or gallery (g-…) URL"),
    (["dw", "-a", "feed=maybe"], "feed must be 1, 0 or feed URLs, not 'maybe'"),
    (["dw", "-a", "feed=https://example.org/rss"],
     "feed must be 1, 0 or feed URLs: 'https://example.org/rss' is not on dw.com"),
    (["dw", "-a", "feed=0"], "nothing to crawl: feed=0 and no other source (give topics, urls)"),
    (["dw", "-a", "lang=de"], "lang must be one of zh, zh-hant, not 'de'"),
    (["epochtimes", "-a", "edition=xx"], "edition must be one of gb, b5, not 'xx'"),
    (["epochtimes", "-a", "edition=big5"], "not 'big5' (did you mean 'b5'?)"),
    (["epochtimes", "-a", "categories=大陆新闻"],
     "categories: '大陆新闻' is not a category id (e.g. nsc413)"),
    (["epochtimes", "-a", "tags=https://www.epochtimes.com/gb/nsc413.htm"], "is not a tag page"),
    (["epochtimes", "-a", "tags=王毅", "-a", "optional=布林肯"],
     "optional: '布林肯' is not one of this run's sources (王毅)"),
    (["dwx"], f"unknown spider 'dwx' (did you mean 'dw'?); the spiders are: {SPIDER_LIST}"),
    ([], f"give one spider ({SPIDER_LIST})"),
    (["dw", "-a", "topics"], "Invalid -a value, use -a NAME=VALUE"),
    (["dw", "-s", "NEWSCRAWL_OUTPUT_DIRS=/tmp/x"],
     "unknown setting 'NEWSCRAWL_OUTPUT_DIRS' (did you mean 'NEWSCRAWL_OUTPUT_DIR'?)"),
    (["dw", "-s", "NEWSCRAWL_RETRY_FAILED_HOURS=two days"],
     "setting NEWSCRAWL_RETRY_FAILED_HOURS must be a number"),
    (["dw", "-s", "NEWSCRAWL_MAX_ERRORS=1.5"], "setting NEWSCRAWL_MAX_ERRORS must be a whole number"),
    (["dw", "-O", "/proc/nonexistent/x.jsonl"], "-o/-O /proc/nonexistent/x.jsonl: cannot write there ("),
    (["dw", "-o", "/dev/null/x-%(time)s.jsonl"], "-o/-O /dev/null/x-%(time)s.jsonl: cannot write there ("),
])
def test_a_wrong_crawl_is_one_line_and_exit_status_2(tmp_path, args, expected):
    assert_usage_error(scrapy(tmp_path, "crawl", *args), "crawl", expected, tmp_path)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crawl.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("toml", "expected"), [
    ('[dw]\nargs = { topic = "t-68199001" }\n',
     "crawl.toml: [dw] args: spider dw has no argument 'topic' (did you mean 'topics'?)"),
    ('[dw]\nargs = { topics = "" }\n', "crawl.toml: [dw] args: topics is empty"),
    ('[dw]\nargs = { full = "yes-please" }\n', "crawl.toml: [dw] args: full must be 1 or 0"),
    ('[dw]\narg = { feed = "1" }\n',
     "crawl.toml: [dw] has no key 'arg' (did you mean 'args'?); a section takes: args, settings, "
     "expect_articles"),
    ('[epochtime]\nargs = { tags = "王毅" }\n',
     f"crawl.toml: [epochtime] is not a spider (did you mean 'epochtimes'?); the spiders are: {SPIDER_LIST}"),
    ('[dw]\nsettings = { CLOSESPIDER_ITEMCOUT = 5 }\n',
     "crawl.toml: [dw] settings: unknown setting 'CLOSESPIDER_ITEMCOUT' "
     "(did you mean 'CLOSESPIDER_ITEMCOUNT'?)"),
    ('[dw]\nsettings = { NEWSCRAWL_MAX_ERRORS = "many" }\n',
     "crawl.toml: [dw] settings: setting NEWSCRAWL_MAX_ERRORS must be a whole number, not 'many'"),
    ('[dw]\nexpect_articles = "no"\n', "crawl.toml: [dw] expect_articles must be true or false, not 'no'"),
    ('[dw]\nargs = { topics = 1.5 }\n',
     "crawl.toml: [dw] args.topics must be a string, a number, true/false"),
    ('[dw]\nargs = "feed=1"\n', "crawl.toml: [dw] args must be a table"),
    ('dw = 1\n', "crawl.toml: dw must be a table ([dw]), not a value"),
    ('[dw\nargs = {}\n', "crawl.toml is not valid TOML: "),
])
def test_a_wrong_crawlall_config_is_one_line_and_exit_status_2(tmp_path, toml, expected):
    result = scrapy(tmp_path, "crawlall", "-c", str(config(tmp_path, toml)))
    assert_usage_error(result, "crawlall", expected, tmp_path)


def test_crawlall_names_missing_configs_and_unknown_spiders(tmp_path):
    missing = scrapy(tmp_path, "crawlall", "-c", str(tmp_path / "nope.toml"))
    assert_usage_error(missing, "crawlall",
                       f"cannot read {tmp_path / 'nope.toml'}: No such file or directory", tmp_path)
    unknown = scrapy(tmp_path, "crawlall", "dw", "epochtims")
    assert_usage_error(unknown, "crawlall", "unknown spider 'epochtims' (did you mean 'epochtimes'?)",
                       tmp_path)


@pytest.mark.parametrize(("url", "expected"), [
    ("not-a-url", "--url: 'not-a-url' is not an http(s) URL"),
    ("https://example.org/zh/x/a-68200101", "--url: 'https://example.org/zh/x/a-68200101' is not on dw.com"),
    ("https://www.dw.com/zh/x/t-68199001", "is not an article URL of dw (it carries no article id)"),
])
def test_extract_with_a_wrong_url_is_one_line_and_exit_status_2(tmp_path, url, expected):
    page = str(DW_MIRROR / "pages" / "a-68200101.html")
    assert_usage_error(scrapy(tmp_path, "extract", "dw", page, "--url", url), "extract", expected, tmp_path)


def test_extract_refuses_empty_binary_and_mismatched_pages(tmp_path):
    """Each was read as a truncated page, or printed an item under the wrong id."""
    empty, binary = tmp_path / "empty.html", tmp_path / "photo.html"
    empty.write_bytes(b"")
    binary.write_bytes(bytes(range(256)) * 40)  # not text (a JPEG saved under the wrong name)
    url = "https://www.dw.com/zh/x/a-68200101"
    cases = {str(empty): f"scrapy extract: {empty} is empty",
             str(binary): f"scrapy extract: {binary} is not an HTML page (binary or plain text)"}
    for page, message in cases.items():
        result = scrapy(tmp_path, "extract", "dw", page, "--url", url)
        assert (result.returncode, result.stdout, result.stderr.strip()) == (1, "", message)
    page = DW_MIRROR / "pages" / "a-68200101.html"
    other = scrapy(tmp_path, "extract", "dw", str(page), "--url", "https://www.dw.com/zh/x/a-68200102")
    assert other.returncode == 1 and other.stdout == ""
    assert other.stderr.strip() == (f"scrapy extract: {page} is the page of a-68200101 (its canonical URL "
                                    "says so), not of a-68200102 as --url says: give the page's own URL")


def test_toml_values_become_arguments_as_on_the_command_line(tmp_path):
    """true/false, numbers and lists in crawl.toml are what -a would say (checked, then run)."""
    from scrapy.utils.project import get_project_settings

    from newscrawl.arguments import load_config

    path = config(tmp_path, '[epochtimes]\nargs = { tags = ["王毅", "布林肯"], full = true, feed = false }\n'
                            'settings = { CLOSESPIDER_ITEMCOUNT = 5, NEWSCRAWL_FSYNC = true }\n')
    loaded = load_config(path, {"epochtimes": EpochTimesSpider, "dw": DwSpider}, get_project_settings())
    assert loaded["epochtimes"]["args"] == {"tags": "王毅,布林肯", "full": "1", "feed": "0"}
    spider = EpochTimesSpider(**loaded["epochtimes"]["args"])
    assert spider.full and spider.feeds == [] and len(spider.listings) == 2


def test_spiders_check_their_arguments_however_they_are_made():
    """scrapyd and scripts make spiders without our commands: the same errors, and scrapyd's
    own ``_job`` argument is accepted."""
    with pytest.raises(ArgumentError, match="did you mean 'topics'"):
        DwSpider(topic="t-1")
    with pytest.raises(ArgumentError, match="edition must be one of gb, b5"):
        EpochTimesSpider(edition="xx")
    spider = DwSpider(topics="t-1", _job="4f1a")
    assert spider._job == "4f1a" and spider.listings == ["https://www.dw.com/zh/t-1"]
    assert DwSpider(topics="1", lang="ZH-Hant").listings == ["https://www.dw.com/zh-hant/t-1"]


def test_optional_names_sources_as_they_were_given():
    spider = EpochTimesSpider(tags="王毅,https://www.epochtimes.com/gb/tag/布林肯.html", categories="nsc413",
                              feed="1", optional="布林肯,nsc413.htm,feed")
    assert spider.optional_sources == {
        "https://www.epochtimes.com/gb/tag/%E5%B8%83%E6%9E%97%E8%82%AF.html",
        "https://www.epochtimes.com/gb/nsc413.htm", "https://www.epochtimes.com/gb/nsc413.xml"}
    assert EpochTimesSpider(tags="王毅", optional="*").optional_sources == {
        "https://www.epochtimes.com/gb/tag/%E7%8E%8B%E6%AF%85.html"}


def test_did_you_mean():
    assert did_you_mean("topic", ["topics", "urls"]) == " (did you mean 'topics'?)"
    assert did_you_mean("FULL", ["full", "urls"]) == " (did you mean 'full'?)"
    assert did_you_mean("xyz", ["topics", "urls"]) == ""


@pytest.mark.parametrize(("command", "columns"), [
    *((command, "80") for command in ("crawl", "crawlall", "reparse", "verify", "wacz", "extract", "export",
                                         "rebuild-state")),
    ("wacz", "60"), ("wacz", "100"),  # its help wraps at other places
])
def test_help_has_only_its_section_headings(command, columns):
    """Scrapy underlines any help line ending with a colon as a heading: ``scrapy wacz -h``
    showed ``The Wacz To Write (Default`` over a row of ``=`` where an option's help wrapped."""
    result = subprocess.run([sys.executable, "-m", "scrapy", command, "-h"], cwd=REPO, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    headings = [above for above, line in itertools.pairwise(lines)
                if line and set(line) <= {"=", "-"} and len(line) == len(above)]
    assert headings == ["Usage", "Options", "Global Options"], result.stdout
    if command == "wacz":
        assert "the WACZ to write (default:" in result.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["extract"], "give a spider name and a saved page, or a spider name and --warc FILE"),
    (["extract", "dw", "--warc", "x.warc.gz"], "--warc needs --url: the page whose capture to parse"),
    (["extract", "dw", str(DW_MIRROR / "pages" / "a-68200131.html")],
     "cannot tell which article"),  # a page with no canonical link: give --url
    (["wacz"], "give one spider"),
    (["wacz", "dwx"], "unknown spider 'dwx' (did you mean 'dw'?)"),
    (["verify"], "give one spider"),
    (["rebuild-state"], "name the spider(s) whose state to rebuild"),
    (["reparse", "dw", "--url"], "argument --url: expected one argument"),
])
def test_other_commands_name_themselves_in_one_line(tmp_path, args, expected):
    """Not ``scrapy: error:`` after the usage text: ``scrapy <command>: error: …``, exit status 2."""
    assert_usage_error(scrapy(tmp_path, *args), args[0], expected, tmp_path)


def test_a_saved_page_is_parsed_as_its_canonical_url_says(tmp_path):
    page = DW_MIRROR / "pages" / "a-68200101.html"
    result = scrapy(tmp_path, "extract", "dw", str(page))
    assert result.returncode == 0, result.stderr
    item = json.loads(result.stdout)
    assert item["id"] == "a-68200101" and item["url"].startswith("https://www.dw.com/zh/")
    given = scrapy(tmp_path, "extract", "dw", str(page), "--url", item["url"])
    assert json.loads(given.stdout) | {"crawled_at": None} == item | {"crawled_at": None}


@pytest.mark.parametrize("command", ["reparse", "wacz", "verify"])
def test_commands_on_a_folder_with_no_archive_say_so(demo_output, command, tmp_path):
    """``scrapy reparse dw``, ``scrapy wacz dw`` and ``scrapy verify dw`` on ``output/`` after
    ``make demo`` wrote ``output/demo/``: one line naming the folder looked at and the one
    that has the archive, exit status 2, nothing written (no state, no empty archive, no
    0-page WACZ)."""
    output = demo_output.parent  # output/, beside output/demo/
    missing = {"reparse": f"reparse: no WARC file of dw in {output}/dw/warc/",
               "wacz": f"bundle: no WARC file of dw in {output}/dw/warc/",
               "verify": f"verify: no archive of dw in {output}/dw/"}[command]
    before = sorted(output.rglob("*"))
    cmd = [sys.executable, "-m", "scrapy", command, "dw", "-s", f"NEWSCRAWL_OUTPUT_DIR={output}"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.splitlines() == [
        f"scrapy {command}: error: nothing to {missing} (the output folder is {output}/); name another "
        f"with -s NEWSCRAWL_OUTPUT_DIR=<folder> (there are some in {demo_output}/: "
        f"-s NEWSCRAWL_OUTPUT_DIR={demo_output})"]
    assert sorted(output.rglob("*")) == before
    if command != "verify":
        empty = scrapy(tmp_path, command, "dw", "-s", f"NEWSCRAWL_WARC_DIR={tmp_path / 'warc'}")
        expected = (f"no WARC file of dw in {tmp_path / 'warc' / 'dw'}/; name the folder that holds "
                    f"<spider>/*.warc.gz with -s NEWSCRAWL_WARC_DIR=")
        assert_usage_error(empty, command, expected, tmp_path)
