"""``scrapy export``: the demo's archive (both spiders, an edited Epoch Times article) exported by
the real command and read back with pyarrow, compared with the JSON lines the archive wrote."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newscrawl import export as export_module
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.text import parse_datetime
from tests.crawl import REPO

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SPIDERS = ("dw", "epochtimes")
#: the demo's Epoch Times article retitled on "day two" (two versions)
EDITED = "n13958996"
TIMESTAMPS = ("published", "updated", "crawled_at")


def scrapy_export(output: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "scrapy", "export", *args, "-s", f"NEWSCRAWL_OUTPUT_DIR={output}"]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


def lines_of(output: Path, spider: str) -> list[tuple[bytes, dict]]:
    raw = (output / spider / "articles.jsonl").read_bytes().splitlines(keepends=True)
    return [(line, json.loads(line)) for line in raw]


def latest_lines(output: Path, spider: str) -> dict[str, tuple[bytes, dict]]:
    """id → its last line (its latest version), in the order of those lines in the file."""
    last: dict[str, tuple[bytes, dict]] = {}
    for raw, line in lines_of(output, spider):
        last.pop(line["id"], None)
        last[line["id"]] = (raw, line)
    return last


def read_rows(path: Path) -> list[dict]:
    table = pq.read_table(path)
    assert table.schema.equals(export_module.arrow_schema()), table.schema
    return table.to_pylist()


def assert_row_is_line(row: dict, line: dict, latest: bool) -> None:
    """Every field of the JSON line is in the row with the same value (dates as UTC
    timestamps); the row adds ``latest`` and nulls for fields the line has not."""
    assert set(line) <= set(row), set(line) - set(row)
    for name, value in line.items():
        if name in TIMESTAMPS:
            assert row[name] == parse_datetime(value), (name, row[name], value)
        else:
            assert row[name] == value, (line["id"], name)
    assert row["latest"] is latest
    assert {name: row[name] for name in set(row) - set(line) - {"latest"}} == dict.fromkeys(
        set(row) - set(line) - {"latest"})


def test_all_exports_the_latest_version_of_every_article_of_both_spiders(demo_output, tmp_path):
    target = tmp_path / "all.parquet"
    result = scrapy_export(demo_output, "all", "-o", str(target))
    assert result.returncode == 0, result.stderr
    latest = {spider: latest_lines(demo_output, spider) for spider in SPIDERS}
    rows = read_rows(target)
    assert len(rows) == sum(len(v) for v in latest.values()) == 58  # 23 + 35 articles, 59 lines
    assert [(r["site"], r["id"]) for r in rows] == [(s, i) for s in SPIDERS for i in latest[s]]
    for row in rows:
        assert_row_is_line(row, latest[row["site"]][row["id"]][1], latest=True)
    edited = next(r for r in rows if r["id"] == EDITED)
    assert edited["version"] == 2 and edited["previous_hash"]
    assert any(r["images"] and r["images"][0]["file"] for r in rows)  # kept pictures come through
    assert any(r["gallery"] and r["gallery"]["images"] for r in rows)  # DW's picture galleries
    day = next(r for r in rows if r["published_precision"] == "day")  # an old DW page's date
    assert (day["published"].hour, day["published"].minute) == (0, 0)
    assert any(r["images"] and r["images"][0]["file"] is None for r in rows)  # a picture not kept
    meta = json.loads(pq.read_schema(target).metadata[b"newscrawl"])
    assert meta == {"schema_version": 1, "spiders": list(SPIDERS), "versions": False, "since": None}
    assert result.stdout.decode().splitlines() == [
        f"{target}: 58 rows (the latest version of each article): dw 23 rows of 23 articles, "
        f"epochtimes 35 rows of 35 articles; parquet, {target.stat().st_size} bytes"]
    assert not list(tmp_path.glob(".tmp-*"))  # written under a temporary name, renamed


def test_versions_gives_every_version_of_an_edited_article(demo_output, tmp_path):
    target = tmp_path / "v.parquet"
    result = scrapy_export(demo_output, "epochtimes", "--versions", "-o", str(target))
    assert result.returncode == 0, result.stderr
    lines = lines_of(demo_output, "epochtimes")
    rows = read_rows(target)
    assert len(rows) == len(lines) == 36
    last = {line["id"]: i for i, (_, line) in enumerate(lines)}
    for i, (row, (_, line)) in enumerate(zip(rows, lines, strict=True)):
        assert_row_is_line(row, line, latest=last[line["id"]] == i)
    edited = [r for r in rows if r["id"] == EDITED]
    assert [(r["version"], r["latest"]) for r in edited] == [(1, False), (2, True)]
    assert edited[0]["title"] != edited[1]["title"]  # retitled on day two
    assert edited[1]["previous_hash"] == edited[0]["content_hash"]


def test_since_keeps_what_was_published_from_that_date(demo_output, tmp_path):
    latest = {s: latest_lines(demo_output, s) for s in SPIDERS}
    days = sorted(line["published"][:10] for s in SPIDERS for _, line in latest[s].values())
    since = days[len(days) // 2]  # about half the articles
    expected = [(s, i) for s in SPIDERS for i, (_, line) in latest[s].items()
                if parse_datetime(line["published"]) >= parse_datetime(since)]
    assert 0 < len(expected) < len(days)
    target = tmp_path / "since.parquet"
    result = scrapy_export(demo_output, "all", "--since", since, "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert [(r["site"], r["id"]) for r in read_rows(target)] == expected
    # the same as JSON lines: the archive's lines, byte for byte
    jsonl = tmp_path / "since.jsonl"
    result = scrapy_export(demo_output, "all", "--since", f"{since}T00:00:00+00:00", "-o", str(jsonl))
    assert result.returncode == 0, result.stderr
    assert jsonl.read_bytes() == b"".join(latest[s][i][0] for s, i in expected)


def test_jsonl_to_stdout_is_the_archives_latest_lines(demo_output, tmp_path):
    result = scrapy_export(demo_output, "dw", "--format", "jsonl", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"".join(raw for raw, _ in latest_lines(demo_output, "dw").values())
    assert result.stderr.decode().splitlines() == [
        "stdout: 23 rows (the latest version of each article): dw 23 rows of 23 articles; jsonl"]


def test_default_file_and_a_half_written_line(demo_output, tmp_path):
    """Without -o: ``<output>/exports/<spider>[-versions].<format>``. A line that is no article
    (not JSON) is skipped and said; half a line at the end (a crawl appending meanwhile, or
    killed mid-write) is not read."""
    output = tmp_path / "out"
    shutil.copytree(demo_output / "dw", output / "dw", ignore=shutil.ignore_patterns("warc", "assets"))
    jsonl = output / "dw" / "articles.jsonl"
    whole = jsonl.read_bytes()
    with open(jsonl, "ab") as fh:
        fh.write(b"not json\n" + whole.splitlines(keepends=True)[0][:50])
    result = scrapy_export(output, "dw", "--versions")
    assert result.returncode == 0, result.stderr
    target = output / "exports" / "dw-versions.parquet"
    assert len(read_rows(target)) == 23
    assert "1 lines that are no article skipped" in result.stdout.decode()
    result = scrapy_export(output, "dw", "--format", "jsonl")
    assert (output / "exports" / "dw.jsonl").read_bytes() == whole


def test_cluster_and_related_are_filled_when_the_lines_have_them(demo_output, tmp_path):
    """The near-duplicate finder's fields (issue 21 part 4): null in every row until a JSON
    line has them, then its values."""
    output = tmp_path / "out"
    lines = lines_of(demo_output, "dw")
    (output / "dw").mkdir(parents=True)
    marked = {**lines[0][1], "cluster": "c-1", "related": ["epochtimes/n1", "dw/a-2"]}
    (output / "dw" / "articles.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in [marked, *(x for _, x in lines[1:])]),
        encoding="utf-8")
    target = tmp_path / "c.parquet"
    export_module.export({"dw": output / "dw" / "articles.jsonl"}, target, "parquet")
    rows = read_rows(target)
    assert (rows[0]["cluster"], rows[0]["related"]) == ("c-1", ["epochtimes/n1", "dw/a-2"])
    assert all(r["cluster"] is None and r["related"] is None for r in rows[1:])


def test_rows_are_written_in_batches(demo_output, tmp_path, monkeypatch):
    """The Parquet file is written batch by batch (a row group each), never the archive in
    memory at once."""
    monkeypatch.setattr(export_module, "BATCH_ROWS", 10)
    target = tmp_path / "b.parquet"
    counts = export_module.export({s: demo_output / s / "articles.jsonl" for s in SPIDERS}, target,
                                  "parquet", versions=True)
    assert sum(counts.rows.values()) == 59
    assert pq.ParquetFile(target).metadata.num_row_groups == 6
    assert pq.read_table(target).num_rows == 59


@pytest.mark.parametrize(("args", "expected"), [
    ([], "give one spider, or all"),
    (["dw", "epochtimes"], "give one spider, or all"),
    (["dx"], "unknown spider 'dx'; give one of dw, epochtimes, or all"),
    (["al"], "unknown spider 'al' (did you mean 'all'?)"),
    (["dw", "--format", "csv"], "argument --format: invalid choice: 'csv'"),
    (["dw", "--since", "yesterday"], "--since 'yesterday' is not a date: give YYYY-MM-DD or an ISO 8601"),
    (["dw", "--since", "2024-02-30"], "--since '2024-02-30' is not a date"),
    (["dw", "--format", "parquet", "-o", "-"], "-o - writes JSON lines: give a file for Parquet"),
    (["dw", "--format", "parquet", "-o", "x.jsonl"], "--format parquet but -o names a .jsonl file"),
    (["dw", "--versoins"], "unknown option '--versoins' (did you mean '--versions'?)"),
    (["dw", "-s", "NEWSCRAWL_OUTPUT_DI=x"], "NEWSCRAWL_OUTPUT_DI"),
    (["dw", "-o", "{out}/dw/../dw/articles.jsonl"], "is the archive's own JSON lines: give another file"),
])
def test_bad_arguments_are_one_line_and_exit_2(demo_output, tmp_path, args, expected):
    output = tmp_path / "out"
    shutil.copytree(demo_output / "dw", output / "dw", ignore=shutil.ignore_patterns("warc", "assets"))
    before = sorted(tmp_path.rglob("*"))
    result = scrapy_export(output, *(arg.format(out=output) for arg in args))
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith("scrapy export: error: "), stderr
    assert expected in stderr, stderr
    assert result.stdout == b"" and sorted(tmp_path.rglob("*")) == before  # nothing written


def test_a_folder_without_the_archive_is_said(tmp_path):
    for spider in ("dw", "all"):
        result = scrapy_export(tmp_path / "empty", spider)
        stderr = result.stderr.decode()
        assert result.returncode == 2 and len(stderr.splitlines()) == 1, stderr
        which = "dw" if spider == "dw" else "dw, epochtimes"
        assert stderr.startswith(f"scrapy export: error: nothing to export: no archive of {which} in "
                                 f"{tmp_path / 'empty'}/"), stderr
        assert not (tmp_path / "empty").exists()


def test_a_file_that_cannot_be_written_is_one_line_and_exit_1(demo_output, tmp_path):
    (tmp_path / "file").write_text("")
    for name in ("x.parquet", "x.jsonl"):
        result = scrapy_export(demo_output, "dw", "-o", str(tmp_path / "file" / name))
        assert (result.returncode, result.stdout) == (1, b""), result.stderr
        assert result.stderr.decode().splitlines() == [
            f"scrapy export: cannot export to {tmp_path / 'file' / name}: Not a directory"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_without_pyarrow_parquet_says_so_and_jsonl_works(demo_output, tmp_path):
    shadow = tmp_path / "shadow" / "pyarrow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no pyarrow here')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(shadow.parent), str(REPO)])}
    result = scrapy_export(demo_output, "dw", "-o", str(tmp_path / "x.parquet"), env=env)
    assert (result.returncode, result.stdout) == (1, b""), result.stderr
    assert result.stderr.decode().splitlines() == [
        "scrapy export: pyarrow is not installed: pip install -e '.[export]' (or --format jsonl)"]
    assert not (tmp_path / "x.parquet").exists()
    result = scrapy_export(demo_output, "dw", "-o", str(tmp_path / "x.jsonl"), env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.jsonl").read_bytes() == (demo_output / "dw" / "articles.jsonl").read_bytes()


def test_the_schema_has_every_field_and_the_manual_documents_it():
    names = export_module.arrow_schema().names
    assert set(ARTICLE_FIELDS) <= set(names)
    # latest, and the near-duplicate finder's two fields until the item has them (issue 21 part 4)
    assert "latest" in set(names) - set(ARTICLE_FIELDS) <= {"latest", "cluster", "related"}
    doc = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")
    section = doc.split("### The export's schema", 1)[1].split("\n#", 1)[0]
    assert re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE) == names
