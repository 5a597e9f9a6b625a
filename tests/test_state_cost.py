"""What a crawl asks of the state, counted exactly (tests/statetrace.py: SQLite's trace
callback): write transactions per new article, per listing page and per re-check.

Real ``scrapy crawl dw`` runs against a generated DW mirror (one topic page linking
:data:`ARTICLES` synthetic articles): the first run archives them, a second one a week later
(every re-check due, the topic page unchanged) is answered 304 for each, a third one a month
later, with the mirror's daily sidebar, fetches each page whole and finds it unchanged.
"""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from tests.crawl import REPO
from tests.mirror.build_dw import bench_topic_urls, build
from tests.mirror.demo import scrapy_command
from tests.mirror.server import MirrorServer
from tests.statetrace import read_trace, trace_env

ARTICLES = 12
#: the synthetic articles are published from 2024-02-10 06:00 on, 37 minutes apart: a day
#: after, none is settled; a week later, every one is due for its next re-check (its 7 d
#: step), and a month later for its last (30 d)
FIRST, WEEK_LATER, MONTH_LATER = "2024-02-11T06:00:00Z", "2024-02-18T06:00:00Z", "2024-03-12T06:00:00Z"


def crawl(server: MirrorServer, out, clock: str, name: str) -> dict[str, dict[str, int]]:
    trace = out.parent / f"{name}.json"
    cmd = scrapy_command("crawl", server.base_url, out, "dw", "-a", f"topics={bench_topic_urls(ARTICLES)[0]}",
                         "-s", "NEWSCRAWL_IMAGES=0", "-s", f"NEWSCRAWL_CLOCK={clock}")
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=trace_env(trace))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_trace(trace)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("state-cost")
    build(tmp / "mirror", extra_articles=ARTICLES)
    out = tmp / "out"
    with MirrorServer([tmp / "mirror"]) as server:
        new = crawl(server, out, FIRST, "new")
        not_modified = crawl(server, out, WEEK_LATER, "not-modified")
        hits304 = sum(server.not_modified.values())
        server.day = 3  # another sidebar: new bytes, the same article
        parsed = crawl(server, out, MONTH_LATER, "parsed")
    db = sqlite3.connect(out / "state" / "newscrawl.sqlite3")
    rows = db.execute("SELECT listed_title, listed_titles, last_checked FROM articles"
                      " WHERE site = 'dw'").fetchall()
    frontier = db.execute("SELECT COUNT(*) FROM frontier").fetchone()[0]
    db.close()
    return new, not_modified, hits304, parsed, rows, frontier


def test_a_new_article_costs_two_transactions_and_a_listing_page_one(runs):
    new, *_ = runs
    # the version's journal and commit: the frontier, the listed titles, the validators and
    # the near-duplicate index go with the commit
    assert new["ArchivePipeline"]["transactions"] == 2 * ARTICLES
    assert new.get("parse_article", {}) == {}  # the listed titles: with the commit
    assert "transactions" not in new["DedupePipeline"]
    # the topic page: its articles in the frontier, its validators, the end of its walk
    assert new["_listing_page"]["transactions"] == 1
    assert new["_listing_page"]["writes"] == ARTICLES + 2


def test_304_rechecks_are_written_in_one_batch_and_read_nothing(runs):
    _, not_modified, hits304, _, _, _ = runs
    assert hits304 == ARTICLES + 1  # every article, and the topic page
    # the callback asks nothing of the state: each re-check waits for its batch (state.py,
    # CHECKS_BATCH), here written as the spider closes, in one transaction with each
    # article's schedule and its leaving the frontier; then the clean-close marker
    assert "_unchanged_article" not in not_modified
    assert not_modified["spider_closed"]["transactions"] == 2
    assert not_modified["spider_closed"]["writes"] == 2 * ARTICLES + 1
    # the due re-checks put in the frontier together; read: the four queries of what is due
    # (the schedule's with each article's whole record, the audit's two, the failed pages'),
    # then each request's validators
    assert not_modified["sources_done"]["transactions"] == 1
    assert not_modified["sources_done"]["reads"] == 4 + ARTICLES


def test_a_parsed_unchanged_recheck_is_one_transaction(runs):
    *_, parsed, rows, frontier = runs
    # each waits for its batch, which the next article's read of the state writes first (the
    # last one's as the spider closes, before the clean-close marker)
    assert parsed["DedupePipeline"]["transactions"] == ARTICLES - 1
    assert parsed["spider_closed"]["transactions"] == 2
    assert parsed["DedupePipeline"]["reads"] == ARTICLES
    assert parsed.get("parse_article", {}) == {}
    # what the transactions recorded: every article checked, its listed title kept, none
    # left in the frontier
    assert len(rows) == ARTICLES and frontier == 0
    assert all(title and titles and checked == MONTH_LATER for title, titles, checked in rows)
