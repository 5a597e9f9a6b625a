"""Epoch Times bylines on a table of 220 real-shaped bylines of our own (invented names, real
places and shapes): accuracy is measured, and must stay at least :data:`REQUIRED_ACCURACY`.

The table (``tests/fixtures/bylines.tsv``: byline, authors joined with ``|``) mixes the
shapes real pages have: places glued to the name (many not in any list of ours: 奥兰多,
弗雷斯诺, 仁川…), per-co-author roles, partner outlets and translators, unbalanced
brackets, Latin and compound-surname names, traditional script, bylines without a person.
"""

from __future__ import annotations

import csv
from pathlib import Path

from newscrawl.sites.epochtimes.byline import NameBook, parse_byline

TABLE = Path(__file__).resolve().parent / "fixtures" / "bylines.tsv"
#: A second table made the same way with other names and places (河内, 里斯本, 斯图加特…) after
#: the reader was tuned on the first one, and never tuned on: the honest measure.
HELD_OUT = TABLE.with_name("bylines-heldout.tsv")
REQUIRED_ACCURACY = 0.97


def rows(table: Path = TABLE) -> list[tuple[str, list[str]]]:
    with table.open(encoding="utf-8", newline="") as f:
        return [(r["byline"], [a for a in r["authors"].split("|") if a])
                for r in csv.DictReader(f, delimiter="\t")]


def accuracy(book: NameBook | None, path: Path = TABLE) -> tuple[float, list[str]]:
    table = rows(path)
    misses = [f"{text} → {got} (want {want})" for text, want in table
              if (got := parse_byline(text, book)) != want]
    return 1 - len(misses) / len(table), misses


def test_the_table_is_big_and_varied():
    table = rows()
    assert len(table) >= 150
    assert sum(1 for _, want in table if len(want) > 1) >= 40
    assert sum(1 for text, _ in table if "記者" in text) >= 30
    assert sum(1 for _, want in table if not want) >= 5


def test_byline_accuracy_on_the_table():
    score, misses = accuracy(NameBook())
    print(f"byline accuracy: {score:.1%} on {len(rows())} bylines")
    assert score >= REQUIRED_ACCURACY, "\n".join(misses)


def test_byline_accuracy_on_the_held_out_table():
    score, misses = accuracy(NameBook(), HELD_OUT)
    print(f"byline accuracy (held out): {score:.1%} on {len(rows(HELD_OUT))} bylines")
    assert score >= REQUIRED_ACCURACY, "\n".join(misses)


def test_names_seen_alone_settle_a_close_cut():
    """The archive knows 易航名 from a byline where it stood alone: the segmenter's reading
    of 易航名古屋 (易航 in 名古屋) gives way to what the archive knows."""
    book = NameBook()
    assert parse_byline("（大纪元记者易航名报导）", book) == ["易航名"]
    assert "易航名" in book
    assert parse_byline("（大纪元记者易航名古屋报导）", NameBook()) == ["易航"]
    assert parse_byline("（大纪元记者易航名古屋报导）", book) == ["易航名"]
