"""Demo and live apart, the state where the output is, and the deploy files (cron, scrapyd)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.browser import CHROMIUM
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
    # the summary shows the drops, and how to clear the demo. One article is linked from the
    # feed under its old slug (a 301 to the new one) and from the topic page under the new one;
    # it is fetched once, through whichever source's response the crawl reads first: 38 page
    # requests when that is the feed, 37 when it is the topic page (a busy machine); 49
    # pictures with their host's robots.txt; and the pages' 5 stylesheets. The page of no known
    # layout is tried once more in the browser and dropped as unrecognised_layout; without a
    # browser it is dropped as render_unavailable.
    no_layout = "unrecognised_layout 1" if CHROMIUM.exists() else "render_unavailable 1"
    drops = sorted(["http_404 1", "http_500 1", "offsite_redirect 1", "truncated_page 1", no_layout])
    assert re.search(rf"dw: 9[23] requests \(28 article pages, 1 listing pages, 49 pictures, "
                     rf"5 stylesheets, the feed, robots.txt\); new 23, updated 0, unchanged 0, dropped 5 "
                     rf"\({', '.join(drops)}\).*; pictures kept 47, not kept 2 \(http_404 1, too_large 1\)",
                     summary), summary
    assert "make clean-demo" in summary
    # the terminal: each crawl's command and outcome line, no Scrapy log (it went to a file)
    logs = demo_output / "logs"
    for crawl in ("dw", "epochtimes-day-one", "epochtimes-day-two"):
        assert f"(Scrapy's log: output/demo/logs/{crawl}.log)" in summary
        assert "] INFO: Spider closed (finished)" in (logs / f"{crawl}.log").read_text(encoding="utf-8")
    terminal = (home / "demo-stderr.txt").read_text(encoding="utf-8").splitlines()
    outcomes = [line.split(" — ")[0] for line in terminal]
    assert outcomes == ["dw: ok", "epochtimes: ok", "epochtimes: ok"], terminal
    assert "ERROR" not in summary + "\n".join(terminal)


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


def build_egg(tmp_path: Path) -> Path:
    """``python setup.py bdist_egg``, as scrapyd-deploy runs it, on a copy of the project."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "scrapy.cfg"):
        (project / name).write_bytes((REPO / name).read_bytes())
    subprocess.run(["cp", "-r", str(REPO / "newscrawl"), str(project / "newscrawl")], check=True)
    built = subprocess.run([sys.executable, "setup.py", "-q", "bdist_egg", "-d", str(tmp_path / "eggs")],
                           cwd=project, capture_output=True, text=True, timeout=300)
    if built.returncode != 0 and "No module named 'setuptools'" in built.stderr:
        pytest.skip("setuptools is not installed")
    assert built.returncode == 0, built.stderr[-3000:]
    [egg] = (tmp_path / "eggs").glob("newscrawl-*.egg")
    return egg


def test_scrapyd_egg_runs_with_the_state_under_the_output_folder(tmp_path):
    """What scrapyd does with the project: it builds an egg (setup.py is in the repository,
    so scrapyd-deploy leaves no untracked file), finds the settings through its ``scrapy``
    entry point and runs ``scrapy crawl`` in its own working directory with ``_job`` and
    the settings of schedule.json. The state goes with NEWSCRAWL_OUTPUT_DIR, not to
    scrapyd's ``./output/state``."""
    egg = build_egg(tmp_path)
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
        entry_points = z.read("EGG-INFO/entry_points.txt").decode()
    assert "newscrawl/settings.py" in names and not any(n.startswith("tests/") for n in names)
    assert "[scrapy]\nsettings = newscrawl.settings" in entry_points
    scrapyd_home, archive = tmp_path / "scrapyd", tmp_path / "srv-archive"
    scrapyd_home.mkdir()
    env = dict(os.environ, PYTHONPATH=str(egg), SCRAPY_SETTINGS_MODULE="newscrawl.settings")
    where = subprocess.run([sys.executable, "-c", "import newscrawl; print(newscrawl.__file__)"],
                           cwd=scrapyd_home, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(egg))  # the crawl below runs the egg's code
    with MirrorServer([DW_MIRROR]) as server:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "dw", "-a", "_job=6487ec5b", "-a", "feed=1", *STATIC,
               "-s", f"NEWSCRAWL_MIRROR={server.base_url}", "-s", f"NEWSCRAWL_OUTPUT_DIR={archive}",
               "-s", f"LOG_FILE={scrapyd_home / 'job.log'}"]
        result = subprocess.run(cmd, cwd=scrapyd_home, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (archive / "state" / "newscrawl.sqlite3").is_file()
    assert len(list((archive / "dw" / "_posts").glob("*.md"))) == 15
    assert sorted(p.name for p in scrapyd_home.iterdir()) == ["job.log"]  # no ./output/state
    # the job's log (scrapyd shows it) ends with the summary line
    last = (scrapyd_home / "job.log").read_text(encoding="utf-8").splitlines()[-1]
    assert "[newscrawl.outcome] INFO: dw: ok — 15 archived (15 new, 0 updated)" in last
    report = json.loads(sorted((archive / "dw" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert report["finish_reason"] == "finished"
