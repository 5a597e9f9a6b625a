"""deploy/cron.sh, the crontab's command: status 75 is a success as in the systemd unit,
failures are mailed (printed) with crawlall's summary, logs are dated and pruned."""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import DW_MIRROR
from tests.crawl import REPO
from tests.mirror.server import MirrorServer
from tests.test_operations import STATIC

CRON = REPO / "deploy" / "cron.sh"


def cron(tmp_path: Path, mirror: str, config: str) -> subprocess.CompletedProcess:
    """The crontab's command as cron runs it: /bin/sh, stdout and stderr are the mail."""
    path = tmp_path / "crawl.toml"
    path.write_text(config, encoding="utf-8")
    env = dict(os.environ, NEWSCRAWL_LOG_DIR=str(tmp_path / "logs"), NEWSCRAWL_CONFIG=str(path),
               NEWSCRAWL_SCRAPY=f"{shlex.quote(sys.executable)} -m scrapy")
    args = ["-s", f"NEWSCRAWL_MIRROR={mirror}", "-s", f"NEWSCRAWL_OUTPUT_DIR={tmp_path / 'out'}", *STATIC]
    return subprocess.run(["/bin/sh", str(CRON), *args], env=env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


def test_the_crontab_runs_the_script():
    lines = [line for line in (REPO / "deploy" / "crontab").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith(("#", "MAILTO"))]
    assert lines == ["17 * * * * /srv/newscrawl/deploy/cron.sh"]
    assert os.access(CRON, os.X_OK)


def test_cron_is_silent_when_ok_or_locked_and_mails_failures(tmp_path):
    config = '[dw]\nargs = { feed = "1" }\n'
    old_log = tmp_path / "logs" / "crawlall-2020-01-01.log"
    old_log.parent.mkdir(parents=True)
    old_log.write_text("an old run\n", encoding="utf-8")
    os.utime(old_log, (time.time() - 40 * 86400,) * 2)
    broken = tmp_path / "broken"
    shutil.copytree(DW_MIRROR, broken)
    manifest = json.loads((broken / "manifest.json").read_text(encoding="utf-8"))
    manifest["https://rss.dw.com/xml/rss-chi-all"] = {"status": 410}
    (broken / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    with MirrorServer([DW_MIRROR]) as server:
        ok = cron(tmp_path, server.base_url, config)
        lock = tmp_path / "out" / "state" / "locks" / "dw.lock"
        with open(lock, "w", encoding="utf-8") as held:  # "the previous run" holds the lock
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = cron(tmp_path, server.base_url, config)
        wrong = cron(tmp_path, server.base_url, '[dw]\nargs = { feeds = "1" }\n')
        server.load([broken])
        failed = cron(tmp_path, server.base_url, config)

    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    assert (locked.returncode, locked.stdout, locked.stderr) == (0, "", "")  # 75 is not mailed
    [log] = (tmp_path / "logs").glob("crawlall-*.log")  # dated; the 40-day-old one was removed
    assert log.name == f"crawlall-{time.strftime('%Y-%m-%d', time.gmtime())}.log"
    text = log.read_text(encoding="utf-8")
    assert "crawlall: dw: ok — 15 archived" in text
    assert "crawlall: dw: skipped, another run holds its lock" in text

    assert wrong.returncode == 2
    assert wrong.stdout.splitlines() == [
        f"newscrawl: crawlall failed with status 2 (log: {log})",
        f"scrapy crawlall: error: {tmp_path / 'crawl.toml'}: [dw] args: spider dw has no argument 'feeds' "
        "(did you mean 'feed'?); it takes: topics, urls, feed, sitemaps, lang, full, recheck, since, "
        "backfill_pages, optional"]
    assert failed.returncode == 1
    mail = failed.stdout.splitlines()
    assert mail[0] == f"newscrawl: crawlall failed with status 1 (log: {log})"
    assert len(mail) == 2 and mail[1].startswith("crawlall: dw: FAILED (1 source failed) — ")
    assert "feed https://rss.dw.com/xml/rss-chi-all answered HTTP 410" in mail[1]
