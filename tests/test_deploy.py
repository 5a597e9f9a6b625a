"""Demo and live apart, and the state where the output is."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import DW_MIRROR
from tests.crawl import REPO
from tests.mirror.server import MirrorServer
from tests.test_operations import STATIC


def test_the_demo_writes_its_own_folder_and_state(demo_output):
    home = demo_output.parents[1]
    assert sorted(p.name for p in (home / "output").iterdir()) == ["demo"]  # nothing in the live output/
    assert (demo_output / "state" / "newscrawl.sqlite3").is_file()
    assert (demo_output / "state" / "locks" / "dw.lock").is_file()
    assert len(list((demo_output / "dw" / "_posts").glob("*.md"))) == 23
    assert len(list((demo_output / "epochtimes" / "_posts").glob("*.md"))) == 35
    summary = (home / "demo-stdout.txt").read_text(encoding="utf-8")
    # the summary shows the drops, and how to clear the demo
    assert "dw: 38 requests (28 article pages, 1 listing pages, the feed, robots.txt); new 23, updated 0, " \
           "unchanged 0, dropped 5 (http_404 1, http_500 1, offsite_redirect 1, truncated_page 1, " \
           "unrecognised_layout 1)" in summary
    assert "make clean-demo" in summary


def test_the_state_follows_the_output_folder_unless_set(tmp_path):
    url = "urls=https://www.dw.com/zh/a-68200101"
    with MirrorServer([DW_MIRROR]) as server:
        for extra in ([], ["-s", f"NEWSCRAWL_STATE_DIR={tmp_path / 'elsewhere'}"]):
            out = tmp_path / ("follows" if not extra else "apart")
            cmd = [sys.executable, "-m", "scrapy", "crawl", "dw", "-a", url, *STATIC, *extra,
                   "-s", f"NEWSCRAWL_MIRROR={server.base_url}", "-s", f"NEWSCRAWL_OUTPUT_DIR={out}"]
            result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "follows" / "state" / "newscrawl.sqlite3").is_file()
    assert (tmp_path / "elsewhere" / "newscrawl.sqlite3").is_file()
    assert not (tmp_path / "apart" / "state").exists()
