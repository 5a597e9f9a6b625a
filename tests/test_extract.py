"""``scrapy extract``: the project command users re-parse saved pages with."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import unquote

from tests.conftest import DW_MIRROR, page_url
from tests.crawl import REPO


def extract(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "extract", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_extract_prints_the_normalised_item(dw_expected):
    file = "pages/a-68200103.html"
    proc = extract("dw", str(DW_MIRROR / file), "--url", page_url(file) + "?maca=chi-rss-chi-all-1127-rdf")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    item = json.loads(lines[0])
    want = dw_expected[file]
    assert (item["title"], item["published"], item["authors"], item["lead"]) == (
        want["title"], want["published"], want["authors"], want["lead"])
    assert unquote(item["url"]) == want["url"]
    assert item["content_hash"] and item["crawled_at"]


def test_extract_refuses_a_page_it_cannot_parse():
    proc = extract("dw", str(DW_MIRROR / "pages/a-68200130.html"), "--url", "https://www.dw.com/zh/x/a-68200130")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "truncated_page" in proc.stderr


def test_extract_refuses_a_page_without_title_or_date():
    proc = extract("dw", str(DW_MIRROR / "pages/a-68200131.html"), "--url", "https://www.dw.com/zh/x/a-68200131")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "scrapy extract:" in proc.stderr


def test_extract_unknown_spider_and_missing_file():
    assert extract("nope", "x.html", "--url", "https://www.dw.com/zh/x/a-1").returncode == 2  # usage
    proc = extract("dw", "/nonexistent.html", "--url", "https://www.dw.com/zh/x/a-1")
    assert proc.returncode == 1 and "cannot read" in proc.stderr
