"""What ``scrapy export`` costs as the archive grows: ``PYTHONPATH=. .venv/bin/python benchmarks/export.py``.

Clones the JSON lines of an existing crawl (``--demo``, default ``output/demo``: ``make demo``)
into archives of ``--sizes`` articles over its spiders (default 10,000 and 100,000): every
article's lines (all its versions) copied under new ids (``<id>-c<n>``, the id replaced
wherever it occurs), as :mod:`benchmarks.scale` clones a crawl. Export reads only the JSON
lines, so nothing else is made. On each archive it runs ``scrapy export all`` as Parquet,
as Parquet with ``--versions`` and as JSON lines, ``--repeat`` times in turn, and prints the
CPU (user + system), wall time and peak RSS of each (min/median/max; the peak measured as
:func:`benchmarks.run.run_tree` does), and the file's size. Archives are made in a temporary
folder, removed at the end (``--keep DIR`` keeps them). Results go to
``benchmarks/out/export.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.run import run_tree
from benchmarks.scale import spread

REPO = Path(__file__).resolve().parents[1]
RUNS = {"parquet": ["--format", "parquet"], "parquet --versions": ["--format", "parquet", "--versions"],
        "jsonl": ["--format", "jsonl"]}


def clone(demo: Path, out: Path, articles: int) -> dict[str, int]:
    """``out``: ``<spider>/articles.jsonl`` of every spider of ``demo`` with its articles
    cloned until there are ``articles`` in all (shared in the proportion the demo has them).
    Returns the number of lines per spider."""
    spiders = sorted(p.parent.name for p in demo.glob("*/articles.jsonl"))
    by_spider: dict[str, dict[str, list[str]]] = {}
    for spider in spiders:
        lines: dict[str, list[str]] = {}
        for line in (demo / spider / "articles.jsonl").read_text(encoding="utf-8").splitlines():
            lines.setdefault(json.loads(line)["id"], []).append(line)
        by_spider[spider] = lines
    total = sum(len(v) for v in by_spider.values())
    written = {}
    for i, (spider, lines) in enumerate(by_spider.items()):
        # the last spider takes what rounding left
        want = articles * len(lines) // total if i < len(by_spider) - 1 else articles - sum(
            articles * len(v) // total for v in list(by_spider.values())[:-1])
        (out / spider).mkdir(parents=True, exist_ok=True)
        count, n = 0, 0
        with open(out / spider / "articles.jsonl", "w", encoding="utf-8") as fh:
            while count < want:
                n += 1
                for article_id, versions in lines.items():
                    if count >= want:
                        break
                    new_id = f"{article_id}-c{n:05d}"
                    for line in versions:
                        fh.write(line.replace(article_id, new_id) + "\n")
                        written[spider] = written.get(spider, 0) + 1
                    count += 1
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, default=Path("output/demo"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="make the archives in this folder and keep them")
    args = parser.parse_args()
    if not any(args.demo.glob("*/articles.jsonl")):
        parser.error(f"no <spider>/articles.jsonl in {args.demo}/: run make demo first")
    work = args.keep or Path(tempfile.mkdtemp(prefix="newscrawl-export-"))
    results: dict[str, dict] = {}
    try:
        archives = {"demo": args.demo.resolve()}
        for size in args.sizes:
            out = work / f"archive-{size}"
            if not out.exists():
                clone(args.demo, out, size)
            archives[str(size)] = out
        for name, out in archives.items():
            lines = sum(len(p.read_bytes().splitlines()) for p in out.glob("*/articles.jsonl"))
            size_mb = sum(p.stat().st_size for p in out.glob("*/articles.jsonl")) / 1e6
            results[name] = {"lines": lines, "jsonl_mb": size_mb}
            runs: dict[str, list[dict]] = {label: [] for label in RUNS}
            for _ in range(args.repeat):
                for label, options in RUNS.items():
                    target = work / f"export-{name}.{options[1]}"
                    cmd = [sys.executable, "-m", "scrapy", "export", "all", *options, "-o", str(target),
                           "-s", f"NEWSCRAWL_OUTPUT_DIR={out}"]
                    run = run_tree(cmd)
                    assert run["returncode"] == 0, run["log"][-3000:]
                    run["file_mb"] = target.stat().st_size / 1e6
                    target.unlink()
                    runs[label].append(run)
            for label, done in runs.items():
                r = results[name][label] = {
                    "cpu_s": [x["cpu_s"] for x in done], "wall_s": [x["wall_s"] for x in done],
                    "peak_mib": [max(x["peak_tree_rss_mib"], x["hwm_tree_mib"]) for x in done],
                    "file_mb": done[0]["file_mb"]}
                print(f"{name} ({lines} lines, {size_mb:.1f} MB of JSON lines): export {label}: "
                      f"{spread(r['cpu_s'])} s CPU, {spread(r['wall_s'])} s wall, "
                      f"{spread(r['peak_mib'])} MiB peak; {r['file_mb']:.1f} MB", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    target = REPO / "benchmarks" / "out" / "export.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
