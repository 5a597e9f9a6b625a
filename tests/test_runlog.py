"""A run you can read: readable URLs, no stats dump at the end, progress lines that name
their spider (real crawls on the mirror)."""

from __future__ import annotations

import logging

import pytest

from newscrawl import runlog
from newscrawl.runlog import readable, skip_unshown_records
from tests.conftest import DW_MIRROR
from tests.crawl import REPO, crawl
from tests.mirror.server import MirrorServer, default_dirs
from tests.test_operations import STATIC, crawlall


def test_readable_decodes_text_only():
    assert readable("https://www.dw.com/zh/%E4%B8%AD%E7%BE%8E/a-1?q=%20%2F") == "https://www.dw.com/zh/中美/a-1?q=%20%2F"
    assert readable("%e7%8e%8b%E6%AF%85") == "王毅"
    # controls, bidi and invisible characters, separators and broken sequences stay encoded
    for kept in ("%0A", "%E2%80%AE", "%E2%80%8B", "%E3%80%80", "%C2%85", "%E7%8E", "%FF", "%ED%A0%80"):
        assert readable(f"a{kept}b") == f"a{kept}b"


@pytest.fixture
def bare_root(monkeypatch):
    """The root logger as Scrapy leaves it in a crawl: level NOTSET, its one handler at
    INFO (pytest's own capturing handlers, added to the root for the test's call, left out)."""
    scrapys = logging.StreamHandler()
    scrapys.setLevel(logging.INFO)
    monkeypatch.setattr(runlog, "get_scrapy_root_handler", lambda: scrapys)
    monkeypatch.setattr(logging.root.manager, "loggerDict", {})  # no handler elsewhere either
    levels = {each: each.level for each in (logging.root, logging.getLogger("scrapy"))}
    logging.root.setLevel(logging.NOTSET)
    logging.getLogger("scrapy").setLevel(logging.DEBUG)

    def arrange() -> None:
        monkeypatch.setattr(logging.root, "handlers", [scrapys])

    yield arrange
    for each, level in levels.items():
        each.setLevel(level)


def test_records_below_the_log_level_are_not_built(bare_root):
    bare_root()
    made = []
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(lambda *a, **k: made.append(a) or factory(*a, **k))
    try:
        logging.getLogger("scrapy.core.engine").debug("Crawled (200) <GET https://www.dw.com/>")
        assert len(made) == 1  # Scrapy's own arrangement builds it, to be dropped by the handler
        skip_unshown_records("INFO")
        logging.getLogger("scrapy.core.engine").debug("Crawled (200) <GET https://www.dw.com/>")
        logging.getLogger("scrapy.core.engine").info("shown")
        assert len(made) == 2 and made[-1][4] == "shown"
    finally:
        logging.setLogRecordFactory(factory)


def test_a_handler_that_shows_debug_records_keeps_them(bare_root):
    bare_root()
    logging.getLogger("a_library").addHandler(logging.NullHandler())  # as libraries do: shows nothing
    another = logging.StreamHandler()  # NOTSET: shows everything
    logging.getLogger("somewhere").addHandler(another)
    try:
        skip_unshown_records("INFO")
        assert (logging.root.level, logging.getLogger("scrapy").level) == (logging.NOTSET, logging.DEBUG)
    finally:
        logging.getLogger("somewhere").removeHandler(another)
    skip_unshown_records("INFO")
    assert (logging.root.level, logging.getLogger("scrapy").level) == (logging.INFO, logging.INFO)


def test_no_stats_dump_and_readable_urls_in_messages(tmp_path):
    with MirrorServer([DW_MIRROR]) as server:
        result = crawl("dw", server.base_url, tmp_path, "-a", "feed=1", "-a", "topics=t-68199001", *STATIC)
        dump = crawl("dw", server.base_url, tmp_path / "dump", "-a", "feed=1", "-s", "STATS_DUMP=1", *STATIC)
        debug = crawl("dw", server.base_url, tmp_path / "debug", "-a", "feed=1", "-L", "DEBUG", *STATIC)
    assert result.returncode == 0
    assert "Dumping Scrapy stats" not in result.log and "'downloader/request_count'" not in result.log
    assert "Dumping Scrapy stats" in dump.log  # -s STATS_DUMP=1 brings it back
    # the project sends no Referer: Scrapy's redirect middlewares do not warn at every start
    # that they found no RefererMiddleware (the crawl follows redirects: the mirror has some)
    assert "RefererMiddleware" not in result.log and result.stat("downloader/response_status_count/301")
    assert "[newscrawl.runlog] DEBUG: Stats of dw:" in debug.log
    # Chinese URLs are readable in messages; the JSON lines and posts keep the real URLs
    drops = [line for line in result.log.splitlines() if "WARNING: Dropped" in line]
    assert "Dropped https://www.dw.com/zh/欧盟委员会提出新的数字市场调查/a-68200132: http_404" in \
        "\n".join(drops)
    assert not any("%E" in line for line in drops)
    assert any("%E" in line["url"] for line in result.jsonl())


def test_crawlall_progress_lines_name_their_spider(tmp_path):
    config = (REPO / "deploy" / "crawl.toml").read_text(encoding="utf-8")
    with MirrorServer(default_dirs()) as server:
        result = crawlall(server.base_url, tmp_path / "out", config, "-s", "LOGSTATS_INTERVAL=0.05")
    assert result.returncode == 0, result.stderr[-3000:]
    progress = [line.split(" INFO: ", 1)[1] for line in result.stderr.splitlines() if "pages/min" in line]
    assert {line.split(":")[0] for line in progress} == {"dw", "epochtimes"}
    summaries = [line for line in result.stderr.splitlines() if line.startswith("crawlall: ")]
    assert [line.split(":")[1].strip() for line in summaries] == ["dw", "epochtimes"]
    assert result.stderr.splitlines()[-2:] == summaries  # at the very end, one each
