"""``-o``/``-O`` on the command line: the user's own feed of the run's new and changed articles."""

from __future__ import annotations

from tests.conftest import DW_MIRROR
from tests.crawl import crawl
from tests.mirror.server import MirrorServer
from tests.test_operations import STATIC


def test_minus_O_holds_exactly_the_runs_articles(tmp_path):
    """-O overwrites: a run with nothing new leaves an empty file (it kept the previous run's
    lines); -o appends: the previous lines stay."""
    today, kept = tmp_path / "today.jsonl", tmp_path / "kept.jsonl"
    with MirrorServer([DW_MIRROR]) as server:
        for option, path in (("-O", today), ("-o", kept)):
            args = ("-a", "feed=1", option, str(path), *STATIC)
            first = crawl("dw", server.base_url, tmp_path / option, *args)
            lines = path.read_text(encoding="utf-8").splitlines()
            assert len(lines) == first.stat("item_scraped_count") == 15
            again = crawl("dw", server.base_url, tmp_path / option, *args)
            assert again.returncode == 0 and again.stat("item_scraped_count") == 0
    assert today.read_bytes() == b""  # was: the previous run's 15 lines
    assert len(kept.read_text(encoding="utf-8").splitlines()) == 15


def test_a_feed_whose_disk_fills_mid_crawl_fails_the_run_and_keeps_whole_lines(tmp_path):
    """-O on a disk that fills after a few lines (a 16 KiB tmpfs): the run exited 0 with the
    feed cut in the middle of a line; it fails with one line naming the feed, the file holds
    only whole lines, and the archive (elsewhere) has every article."""
    import json

    from tests.test_archive import tmpfs

    small = tmp_path / "small"
    feed = small / "today.jsonl"
    with tmpfs(small, "16k"), MirrorServer([DW_MIRROR]) as server:
        run = crawl("dw", server.base_url, tmp_path / "out", "-a", "feed=1", "-O", str(feed), *STATIC)
        kept = feed.read_bytes()
    assert run.returncode == 1, run.log[-3000:]
    assert "Traceback" not in run.log
    [error] = [line for line in run.log.splitlines() if "could not be written" in line and "ERROR" in line]
    assert f"The -o/-O feed {feed} could not be written (No space left on device)" in error
    assert run.log.splitlines()[-1].startswith(
        "dw: FAILED (its -o/-O feed could not be written (see the error above)) — 15 archived")
    assert kept and kept.endswith(b"\n")  # some whole lines, no half one
    lines = [json.loads(line) for line in kept.decode("utf-8").splitlines()]
    assert 0 < len(lines) < 15 and len(run.jsonl()) == 15
