"""Scheduled crawls: ``scrapy crawlall`` exit status, locks, drift alarms, JOBDIR pause/resume."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from newscrawl.extensions import find_drift
from tests.conftest import DW_MIRROR
from tests.crawl import REPO, crawl
from tests.mirror.demo import scrapy_command
from tests.mirror.server import MirrorServer

#: the static HTML only, so that a crawl is the same with or without a browser on the machine
#: (whether a failing page would render is tests/test_rendering.py's business)
STATIC = ("-s", "NEWSCRAWL_RENDER_FALLBACK=0")


def crawlall(mirror: str, out: Path, config: str, *args: str) -> subprocess.CompletedProcess:
    path = out / "crawl.toml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(config, encoding="utf-8")
    cmd = scrapy_command("crawlall", mirror, out, "-c", str(path), *STATIC, *args)
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


DW_CONFIG = '[dw]\nargs = { feed = "1", topics = "t-68199001" }\n'


def broken_copy(tmp_path: Path, name: str, edit) -> Path:
    copy = tmp_path / name
    shutil.copytree(DW_MIRROR, copy)
    edit(copy)
    return copy


def test_crawlall_exits_0_on_the_mirror_and_1_when_the_site_is_broken(tmp_path):
    with MirrorServer([DW_MIRROR]) as server:
        ok = crawlall(server.base_url, tmp_path / "ok", DW_CONFIG)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert ("crawlall: dw: ok — 23 archived (23 new, 0 updated), 0 unchanged, 5 dropped (http_404 1,"
            in ok.stderr)

    def no_feed(copy: Path) -> None:  # the feed and the topic page are gone
        manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
        for url in list(manifest):
            if url.startswith("https://rss.dw.com/xml") or "/t-68199001" in url:
                manifest[url] = {"status": 404}
        (copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    with MirrorServer([broken_copy(tmp_path, "broken", no_feed)]) as server:
        bad = crawlall(server.base_url, tmp_path / "bad", DW_CONFIG)
    assert bad.returncode == 1
    assert "crawlall: dw: FAILED (2 sources failed) — 0 archived" in bad.stderr
    summary = next(line for line in bad.stderr.splitlines() if line.startswith("crawlall: dw:"))
    assert "failed sources: " in summary
    assert "feed https://rss.dw.com/xml/rss-chi-all answered HTTP 404" in summary
    assert "topic t-68199001 answered HTTP 404" in summary
    assert ("Source failed: topic t-68199001 (https://www.dw.com/zh/t-68199001) answered HTTP 404; "
            "the run fails unless it is optional (-a optional=t-68199001)") in bad.stderr


def test_a_cron_run_of_all_spiders_with_the_deploy_config_exits_0(tmp_path):
    from tests.mirror.server import default_dirs

    config = (REPO / "deploy" / "crawl.toml").read_text(encoding="utf-8")
    with MirrorServer(default_dirs()) as server:
        result = crawlall(server.base_url, tmp_path / "out", config)
        again = crawlall(server.base_url, tmp_path / "out", config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crawlall: dw: ok — 15 archived (15 new, 0 updated), 0 unchanged" in result.stderr
    assert "crawlall: epochtimes: ok — 32 archived (32 new, 0 updated), 0 unchanged" in result.stderr
    assert again.returncode == 0  # nothing new is not a failure
    assert "crawlall: epochtimes: ok — 0 archived (0 new, 0 updated)" in again.stderr
    for spider in ("dw", "epochtimes"):
        assert len(list((tmp_path / "out" / spider / "runs").glob("*.json"))) == 2


def test_a_second_run_while_one_is_running_exits_at_once(tmp_path):
    lock_path = tmp_path / "out" / "state" / "locks" / "dw.lock"
    lock_path.parent.mkdir(parents=True)
    with open(lock_path, "w", encoding="utf-8") as held, MirrorServer([DW_MIRROR]) as server:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # this test process is "the running crawl"
        held.write(f"{os.getpid()}\n")
        held.flush()
        result = crawlall(server.base_url, tmp_path / "out", DW_CONFIG)
        plain = crawl("dw", server.base_url, tmp_path / "out", "-a", "urls=https://www.dw.com/zh/a-68200101",
                      *STATIC)
    assert plain.returncode == 75 and plain.report["finish_reason"] == "locked"  # plain crawl too
    assert result.returncode == 75
    assert f"dw is already running (pid {os.getpid()}" in result.stderr
    assert "crawlall: dw: skipped, another run holds its lock" in result.stderr
    assert not (tmp_path / "out" / "dw" / "_posts").exists()  # nothing was crawled


def test_a_stale_lock_is_taken_over(tmp_path):
    lock_path = tmp_path / "out" / "state" / "locks" / "dw.lock"
    lock_path.parent.mkdir(parents=True)
    lock_path.write_text("999999\n", encoding="utf-8")  # a crawl that died without unlocking
    with MirrorServer([DW_MIRROR]) as server:
        result = crawlall(server.base_url, tmp_path / "out", DW_CONFIG)
    assert result.returncode == 0
    assert "Taking over the stale lock" in result.stderr and "999999" in result.stderr
    assert lock_path.read_text(encoding="utf-8") == ""  # released at the end


def test_the_drift_alarm_fires_when_the_layout_changes(tmp_path):
    def new_layout(copy: Path) -> None:
        """The site renamed its author and topic fields and the related-topics section."""
        for page in (copy / "pages").glob("*.html"):
            text = page.read_text(encoding="utf-8")
            for old, new in (('"persons', '"contributors'),
                             ('"relatedAutoTopics"', '"topicsAuto"'),
                             ("section-related-topics", "section-topics-v2"),
                             ("author-details", "byline-v2")):
                text = text.replace(old, new)
            page.write_text(text, encoding="utf-8")

    out = tmp_path / "out"
    with MirrorServer([DW_MIRROR]) as server:
        before = crawlall(server.base_url, out, DW_CONFIG)
        assert before.returncode == 0
        server.load([broken_copy(tmp_path, "new-layout", new_layout)])
        full = '[dw]\nargs = { feed = "1", topics = "t-68199001", full = "1" }\n'
        after = crawlall(server.base_url, out, full)
    assert after.returncode == 1
    assert "layout-drift alarm" in after.stderr
    assert "Layout drift? spider dw: tags is 0.087, the recent runs had 1.0" in after.stderr
    assert "Layout drift? spider dw: authors is 0.13, the recent runs had 0.739" in after.stderr
    report = json.loads(sorted((out / "dw" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert {a["field"] for a in report["alarms"]} == {"authors", "tags"}
    # authors and tags are part of what a reader sees: losing them makes new versions (the
    # previous ones are kept in _revisions/), and the alarm says why
    assert report["parsed_articles"] == 23
    assert sum(report["items"].get(k, 0) for k in ("unchanged", "trivial", "updated")) == 23


def test_find_drift_needs_enough_items_and_a_clear_fall():
    usual = {"authors": 0.9, "lead": 1.0, "images": 0.8, "gallery": 0.05, "tags": 0.9,
             "median_body_chars": 1500}
    history = [{"parsed_articles": 20, "coverage": usual}] * 3
    same = {"parsed_articles": 20, "coverage": {"authors": 0.8, "lead": 1.0, "images": 0.7,
                                                "gallery": 0.0, "tags": 0.9, "median_body_chars": 1400}}
    assert find_drift(same, history, min_items=5, drop=0.5, min_share=0.2) == []  # gallery too rare
    short = dict(same, coverage=dict(same["coverage"], median_body_chars=300))
    assert [a["field"] for a in find_drift(short, history, min_items=5, drop=0.5, min_share=0.2)] == [
        "median_body_chars"]
    tiny = dict(short, parsed_articles=2)
    assert find_drift(tiny, history, min_items=5, drop=0.5, min_share=0.2) == []
    assert find_drift(short, [], min_items=5, drop=0.5, min_share=0.2) == []


def test_pause_and_resume_with_jobdir(tmp_path):
    """Interrupted after a few articles, resumed from JOBDIR: everything once, nothing lost."""
    jobdir = tmp_path / "job"
    args = ["-a", "feed=1", "-a", "topics=t-68199001", "-s", f"JOBDIR={jobdir}",
            "-s", "CONCURRENT_REQUESTS=1", *STATIC]
    with MirrorServer([DW_MIRROR]) as server:
        first = crawl("dw", server.base_url, tmp_path, *args, "-s", "CLOSESPIDER_ITEMCOUNT=5")
        assert first.report["finish_reason"] == "closespider_itemcount"
        assert any(jobdir.glob("requests.queue/*")), "pending requests were kept"
        second = crawl("dw", server.base_url, tmp_path, *args)
    assert second.report["finish_reason"] == "finished"
    ids = [line["id"] for line in second.jsonl()]
    assert len(ids) == len(set(ids)) == 23  # all of them, each once
    assert first.stat("item_scraped_count") + second.stat("item_scraped_count") == 23


@pytest.mark.parametrize("unit", ["newscrawl.service", "newscrawl.timer"])
def test_deploy_units_are_complete(unit):
    text = (REPO / "deploy" / unit).read_text(encoding="utf-8")
    if unit.endswith(".service"):
        assert "ExecStart=" in text and "scrapy crawlall" in text and "SuccessExitStatus=75" in text
    else:
        assert "OnCalendar=hourly" in text and "RandomizedDelaySec=" in text


def slow_articles(copy: Path) -> None:
    """Every article page answers after 0.3 s: a crawl that can be interrupted half-way."""
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    for route in manifest.values():
        if route.get("file", "").startswith("pages/a-"):
            route["delay"] = 0.3
    (copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def start_crawl(mirror: str, out: Path, *args: str) -> subprocess.Popen:
    """``scrapy crawl dw`` in the background."""
    cmd = scrapy_command("crawl", mirror, out, "dw", *args)
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_posts(out: Path, count: int) -> Path:
    """Until the crawl writing to ``out`` has written ``count`` posts (90 s at most)."""
    posts = out / "dw" / "_posts"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(posts.glob("*.md")) if posts.exists() else []) < count:
        time.sleep(0.2)
    return posts


def test_interrupted_with_ctrl_c_and_resumed_from_jobdir(tmp_path):
    """A real interrupt (SIGINT) in the middle of a slow crawl, then the same command again."""
    out, jobdir = tmp_path / "out", tmp_path / "job"
    with MirrorServer([broken_copy(tmp_path, "slow", slow_articles)]) as server:
        proc = start_crawl(server.base_url, out, "-a", "feed=1", "-a", "topics=t-68199001",
                           "-s", f"JOBDIR={jobdir}", "-s", "CONCURRENT_REQUESTS=1", *STATIC)
        posts = wait_for_posts(out, 3)
        proc.send_signal(signal.SIGINT)  # one Ctrl-C: Scrapy finishes what is in flight and stops
        _, log = proc.communicate(timeout=120)
        interrupted = json.loads(sorted((out / "dw" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
        assert interrupted["finish_reason"] == "shutdown", log[-2000:]
        done_first = interrupted["stats"]["item_scraped_count"]
        assert 3 <= done_first < 23
        resumed = crawl("dw", server.base_url, out, "-a", "feed=1", "-a", "topics=t-68199001",
                        "-s", f"JOBDIR={jobdir}", *STATIC)
    assert resumed.report["finish_reason"] == "finished"
    assert done_first + resumed.stat("item_scraped_count") == 23  # nothing lost
    ids = [line["id"] for line in resumed.jsonl()]
    assert len(ids) == len(set(ids)) == 23  # nothing twice
    assert len(list(posts.glob("*.md"))) == 23


def test_the_progress_line_counts_articles_per_minute(tmp_path):
    with MirrorServer([DW_MIRROR]) as server:
        result = crawl("dw", server.base_url, tmp_path, "-a", "feed=1", "-s", "LOGSTATS_INTERVAL=0.05",
                       *STATIC)
    lines = [line for line in result.log.splitlines() if "articles/min" in line]
    assert lines and "pages/min" in lines[0] and "INFO: dw: crawled " in lines[0]  # names its spider
    assert "items/min" not in result.log  # replaces Scrapy's own line


def test_per_spider_settings_apply_and_an_unfinished_crawl_fails(tmp_path):
    config = DW_CONFIG + "settings = { CLOSESPIDER_ITEMCOUNT = 2 }\n"
    with MirrorServer([DW_MIRROR]) as server:
        result = crawlall(server.base_url, tmp_path / "out", config)
    assert result.returncode == 1
    assert "crawlall: dw: FAILED (finish reason 'closespider_itemcount')" in result.stderr


def test_a_jobdir_killed_hard_is_refused_clearly_and_a_finished_one_starts_anew(tmp_path):
    """SIGKILL leaves a JOBDIR whose queue is lost: the next run says to clear it and exits 1
    (it used to fetch nothing and say "finished", every time). Cleared, the job runs to the
    end; finished, the same command starts a new job instead of filtering everything."""
    out, jobdir = tmp_path / "out", tmp_path / "job"
    args = ["-a", "feed=1", "-a", "topics=t-68199001", "-s", f"JOBDIR={jobdir}", *STATIC]
    config = DW_CONFIG + f'settings = {{ JOBDIR = "{jobdir}" }}\n'
    with MirrorServer([broken_copy(tmp_path, "slow", slow_articles)]) as server:
        proc = start_crawl(server.base_url, out, *args, "-s", "CONCURRENT_REQUESTS=1")
        posts = wait_for_posts(out, 3)
        proc.kill()  # SIGKILL: no shutdown, nothing saved
        proc.communicate(timeout=60)
        killed_posts = {p.name for p in posts.glob("*.md")}
        assert 3 <= len(killed_posts) < 23
        refused = crawl("dw", server.base_url, out, *args)
        refused_all = crawlall(server.base_url, tmp_path / "crawlall", config)
        assert {p.name for p in posts.glob("*.md")} == killed_posts  # nothing fetched, nothing written
        shutil.rmtree(jobdir)  # what the error says to do
        cleared = crawl("dw", server.base_url, out, *args)
        again = crawl("dw", server.base_url, out, *args)
    assert refused.returncode == 1 and refused.report["finish_reason"] == "jobdir_crashed"
    assert refused.stat("downloader/request_count") == 0
    [error] = [line for line in refused.log.splitlines() if " ERROR: " in line]
    assert "did not stop cleanly" in error and f"rm -r {jobdir}" in error
    assert refused_all.returncode == 1
    assert "crawlall: dw: FAILED (finish reason 'jobdir_crashed')" in refused_all.stderr
    assert cleared.returncode == 0 and cleared.report["finish_reason"] == "finished"
    ids = {matter["id"] for matter, _ in cleared.posts().values()}
    assert len(ids) == len(cleared.posts()) == 23  # the killed run's and the rest, each once
    assert sorted(line["id"] for line in cleared.jsonl()) == sorted(ids)  # one line each, none lost
    # the feed and topic page answer 304 (remembered by the killed run): the pages it had
    # decided to fetch come from the state's frontier
    # (and the pages that fail: they were decided on too)
    assert cleared.stat("newscrawl/incremental/frontier_resumed") >= 23 - len(killed_posts)
    # the finished job leaves nothing to resume: the next run reads the sources again
    assert again.returncode == 0 and again.stat("dupefilter/filtered") == 0
    assert again.stat("newscrawl/conditional/not_modified") == 2  # the feed and the topic page, 304
