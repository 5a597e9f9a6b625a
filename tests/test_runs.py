"""Accountable sources, honest exit statuses and a run you can read (real crawls on the mirror)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from newscrawl.outcome import EX_FAILED, EX_OK, EX_TEMPFAIL, Outcome, exit_status, judge
from tests.conftest import DW_MIRROR
from tests.crawl import crawl
from tests.mirror.server import MIRROR_ROOT, MirrorServer
from tests.test_operations import STATIC, crawlall

ET_MIRROR = MIRROR_ROOT / "epochtimes"
EMPTY_FEED = '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>大纪元</title>' \
             "</channel></rss>\n"
#: a tag page that lists nothing (the site's chrome, no article link)
NO_LINKS = ('<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8"><title>空标签 | 大纪元</title>'
            '</head><body><header><a href="/gb/">首页</a></header><main><h1>空标签</h1>'
            "<p>暂无相关文章。</p></main><footer>大纪元</footer></body></html>")


def broken_epochtimes(tmp_path: Path) -> Path:
    """The Epoch Times mirror with an empty feed and a tag page that has no article link; the
    tag 不存在 is not on the site at all (404)."""
    copy = tmp_path / "epochtimes"
    shutil.copytree(ET_MIRROR, copy)
    (copy / "empty.xml").write_text(EMPTY_FEED, encoding="utf-8")
    (copy / "pages" / "tag-empty.html").write_text(NO_LINKS, encoding="utf-8")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["https://www.epochtimes.com/gb/nsc413.xml"] = {"file": "empty.xml",
                                                            "content_type": "application/rss+xml"}
    manifest["https://www.epochtimes.com/gb/tag/空标签.html"] = {"file": "pages/tag-empty.html",
                                                               "content_type": "text/html; charset=utf-8"}
    (copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return copy


SOURCES = ("-a", "tags=中美关系,空标签,不存在", "-a", "feed=1")


def test_dead_empty_and_linkless_sources_fail_the_run_unless_optional(tmp_path):
    with MirrorServer([broken_epochtimes(tmp_path)]) as server:
        failed = crawl("epochtimes", server.base_url, tmp_path / "a", *SOURCES, *STATIC)
        optional = crawl("epochtimes", server.base_url, tmp_path / "b", *SOURCES,
                         "-a", "optional=空标签,不存在,feed", *STATIC)
        config = ('[epochtimes]\nargs = { tags = "中美关系,空标签,不存在", feed = "1", '
                  'optional = "空标签,https://www.epochtimes.com/gb/tag/不存在.html,feed" }\n')
        scheduled = crawlall(server.base_url, tmp_path / "c", config)

    # each failed source is a warning naming it as the user gave it, with a readable URL
    warnings = [line for line in failed.log.splitlines() if "WARNING: Source failed:" in line]
    assert len(warnings) == 3, failed.log[-3000:]
    text = "\n".join(warnings)
    assert "tag 不存在 (https://www.epochtimes.com/gb/tag/不存在.html) answered HTTP 404" in text
    assert "tag 空标签 (https://www.epochtimes.com/gb/tag/空标签.html) has no article link" in text
    assert "feed https://www.epochtimes.com/gb/nsc413.xml has no item" in text
    assert "the run fails unless it is optional (-a optional=不存在)" in text
    # counted in the report, the run fails, the good tag's articles are archived all the same
    assert failed.returncode == EX_FAILED
    assert failed.stat("newscrawl/sources/failed") == 3
    assert {f["label"]: f["reason"] for f in failed.report["failed_sources"]} == {
        "tag 不存在": "answered HTTP 404", "tag 空标签": "has no article link",
        "feed https://www.epochtimes.com/gb/nsc413.xml": "has no item"}
    assert failed.stat("newscrawl/items/new") > 0
    summary = failed.log.splitlines()[-1]
    assert summary.startswith("epochtimes: FAILED (3 sources failed) — ")
    assert "failed sources: " in summary and "tag 不存在 answered HTTP 404" in summary

    # optional: the same warnings, counted apart, and the run is ok
    assert optional.returncode == EX_OK, optional.log[-3000:]
    assert optional.stat("newscrawl/sources/optional_failed") == 3
    assert optional.stat("newscrawl/sources/failed") == 0
    assert "it is optional: the run does not fail" in optional.log
    assert optional.log.splitlines()[-1].startswith("epochtimes: ok — ")
    assert "tag 空标签 has no article link (optional)" in optional.log.splitlines()[-1]
    assert all(f["optional"] for f in optional.report["failed_sources"])

    # crawlall: the same, marked optional in crawl.toml
    assert scheduled.returncode == EX_OK, scheduled.stderr[-3000:]
    assert "crawlall: epochtimes: ok — " in scheduled.stderr


def test_a_feed_that_is_not_a_feed_is_a_failed_source(tmp_path):
    """A feed URL that answers an HTML page (a site redesign, a typo that lands on a page)."""
    copy = tmp_path / "dw"
    shutil.copytree(DW_MIRROR, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["https://rss.dw.com/xml/rss-chi-all"] = {"file": "pages/a-68200101.html",
                                                      "content_type": "text/html; charset=utf-8"}
    (copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with MirrorServer([copy]) as server:
        result = crawl("dw", server.base_url, tmp_path / "out", "-a", "feed=1", *STATIC)
    assert result.returncode == EX_FAILED
    assert "Source failed: feed https://rss.dw.com/xml/rss-chi-all has no item" in result.log


@pytest.mark.parametrize(("reason", "stats", "status", "problem"), [
    ("finished", {"newscrawl/requests/article": 3}, EX_OK, None),
    ("finished", {"newscrawl/incremental/known_skipped": 3}, EX_OK, None),  # nothing new is ok
    ("start_error", {}, EX_FAILED, "finish reason 'start_error'"),
    ("shutdown", {"newscrawl/requests/article": 3}, EX_FAILED, "finish reason 'shutdown'"),
    ("jobdir_crashed", {}, EX_FAILED, "finish reason 'jobdir_crashed'"),
    ("write_failed", {"newscrawl/failed/write": 2}, EX_FAILED, "write (2x)"),
    ("state_error", {"newscrawl/failed/state_error": 1}, EX_FAILED, "state_error (1x)"),
    ("finished", {"newscrawl/requests/article": 3, "newscrawl/sources/failed": 1}, EX_FAILED,
     "1 source failed"),
    ("finished", {"newscrawl/requests/article": 3, "newscrawl/sources/optional_failed": 1}, EX_OK, None),
    ("finished", {"newscrawl/sources/optional_failed": 2}, EX_OK, None),  # all optional, all empty
    ("finished", {}, EX_FAILED, "its sources gave no article at all"),
    ("finished", {"newscrawl/requests/article": 3, "log_count/ERROR": 11}, EX_FAILED, "11 errors logged"),
    ("finished", {"newscrawl/requests/article": 3, "newscrawl/drift/alarms": 2}, EX_FAILED, "layout-drift"),
    ("locked", {"log_count/ERROR": 1}, EX_TEMPFAIL, None),
    ("finished", {"newscrawl/requests/article": 1, "newscrawl/urls/requested": 1, "newscrawl/urls/failed": 1},
     EX_FAILED, "the URL given with -a urls failed"),
    ("finished", {"newscrawl/requests/article": 2, "newscrawl/urls/requested": 2, "newscrawl/urls/failed": 1},
     EX_OK, None),  # one of two archived: its drop is counted, the run did what was asked
    (None, {}, EX_FAILED, "it did not start"),
    (None, {"start_time": "2026-12-07", "item_scraped_count": 12}, EX_FAILED, "stopped before it finished"),
])
def test_one_notion_of_a_failed_run(reason, stats, status, problem):
    problems = judge(reason, stats, max_errors=10)
    outcome = Outcome("dw", reason, stats, problems)
    assert outcome.status == status
    assert (problem in "; ".join(problems)) if problem else problems == []
    # crawlall: any failure wins over a lock, a lock over success
    assert exit_status([outcome, Outcome("epochtimes", "finished", {}, [])]) == status
    assert exit_status([outcome, Outcome("epochtimes", "locked", {}, [])]) == (
        EX_FAILED if status == EX_FAILED else EX_TEMPFAIL)


def test_the_run_ends_with_one_summary_line(tmp_path):
    with MirrorServer([DW_MIRROR]) as server:
        result = crawl("dw", server.base_url, tmp_path, "-a", "feed=1", "-a", "topics=t-68199001", *STATIC)
    assert result.returncode == 0
    report = sorted((tmp_path / "dw" / "runs").glob("*.json"))[-1]
    assert result.log.splitlines()[-1] == (
        "dw: ok — 23 archived (23 new, 0 updated), 0 unchanged, 5 dropped (http_404 1, http_500 1, "
        "offsite_redirect 1, truncated_page 1, unrecognised_layout 1); "
        f"{result.stat('elapsed_time_seconds'):.1f} s; report {report}")


def test_a_run_whose_every_requested_url_failed_fails(tmp_path):
    """``-a urls=`` whose only URL cannot be fetched said "ok — 0 archived" and exited 0; it
    fails, saying so, while one good URL beside it makes the run ok again."""
    missing = "https://www.dw.com/zh/不存在的文章/a-68209999"
    good = "https://www.dw.com/zh/北极夏季科考冰层变薄速度超出预期/a-68200109"
    with MirrorServer([DW_MIRROR]) as server:
        lost = crawl("dw", server.base_url, tmp_path / "lost", "-a", f"urls={missing}", *STATIC)
        mixed = crawl("dw", server.base_url, tmp_path / "mixed", "-a", f"urls={missing},{good}", *STATIC)
    assert lost.returncode == EX_FAILED
    assert lost.log.splitlines()[-1].startswith(
        "dw: FAILED (the URL given with -a urls failed) — 0 archived (0 new, 0 updated), 0 unchanged,"
        " 1 dropped (http_404 1)")
    assert "Traceback" not in lost.log
    assert mixed.returncode == EX_OK
    assert "a-68200109" in {line["id"] for line in mixed.jsonl()}  # (and its gallery's page)


def test_an_unreachable_site_fails_the_run_in_lines_not_tracebacks(tmp_path):
    """Connection refused (a port nothing listens on): the robots.txt middleware logged the
    whole Twisted traceback; it is one line, and the run fails naming its failed source."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = crawl("dw", f"http://127.0.0.1:{port}", tmp_path, "-a", "feed=1", "-s", "RETRY_TIMES=0", *STATIC)
    assert result.returncode == EX_FAILED
    assert "Traceback" not in result.log
    assert "robots.txt of rss.dw.com could not be fetched (Connection was refused" in result.log
    assert result.log.splitlines()[-1].startswith("dw: FAILED (1 source failed) — 0 archived")
    assert "could not be fetched (DownloadConnectionRefusedError" in result.log.splitlines()[-1]


def test_a_second_sigterm_says_the_run_was_stopped_and_what_it_archived(tmp_path):
    """Two SIGTERMs after some articles were archived (Scrapy's forced, unclean shutdown):
    the summary said "it did not start"; it says the run was stopped, with what it archived."""
    import signal
    import subprocess
    import time

    from tests.crawl import REPO
    from tests.mirror.demo import scrapy_command
    from tests.test_archive import _slow_overlay

    out = tmp_path / "out"
    # one request at a time, each article page answered after 1 s: when the second article
    # is archived the third is in flight for ~1 s more, and the graceful close waits for it
    # (pages asked together finish together, and a close that had nothing left in flight
    # finished before the second signal: the run ended with "shutdown", twice under load)
    with MirrorServer([ET_MIRROR, _slow_overlay(tmp_path, 1.0)]) as server:
        cmd = scrapy_command("crawl", server.base_url, out, "epochtimes", "-a", "feed=1", *STATIC,
                             "-s", "CONCURRENT_REQUESTS=1")
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        jsonl = out / "epochtimes" / "articles.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (jsonl.exists() and jsonl.read_bytes().count(b"\n") >= 2):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert "forcing unclean shutdown" in err
    assert proc.returncode == EX_FAILED
    archived = jsonl.read_bytes().count(b"\n")
    summary = err.splitlines()[-1]
    assert summary.startswith("epochtimes: FAILED (it was stopped before it finished (a forced shutdown: "
                              "a second Ctrl-C or SIGTERM)) — "), summary
    # (the archive counts a new line as it writes it; Scrapy's item count may lag one behind)
    assert re.search(r"— \d+ archived \((\d+) new", summary).group(1) == str(archived) != "0"
    assert "did not start" not in err
