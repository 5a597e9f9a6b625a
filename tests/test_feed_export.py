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
