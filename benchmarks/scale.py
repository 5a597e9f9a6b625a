"""What a run costs as the archive grows: ``PYTHONPATH=. .venv/bin/python benchmarks/scale.py``.

Crawls the demo's DW mirror once (``tests.mirror``, on 127.0.0.1), then clones that crawl's
output into archives of ``--sizes`` articles (default 1,000 and 100,000): every archived
article's post, last JSON line and state row copied under new ids (``<id>-c<n>``, the id
replaced wherever it occurs, the post named ``<name>-c<n>.md``), as if the site had published
that many. On each archive it measures, as min/median/max of ``--repeat`` runs:

* **re-crawl, nothing new** — user + system CPU of ``scrapy crawl dw`` with the demo's
  arguments against the same mirror (every article known: nothing fetched but the feed,
  the topic page and robots.txt), and its peak RSS;
* **rebuild-state** — ``scrapy rebuild-state dw`` over the archive (``--rebuild-repeat``
  times, after the re-crawls): CPU and peak RSS;
* **wacz** (with ``--wacz``) — ``scrapy wacz dw`` once: CPU and peak RSS of the command and
  of the ``wacz create`` it runs (its page list holds every article; the WARC files it
  packs are the original crawl's).

The 100,000-article archive takes ~1 GB of disk and a few minutes to make (in a temporary
folder, removed at the end; ``--keep DIR`` keeps the archives there), so it is not part of
``make test`` nor of ``make bench``: run this script alone. Results are printed and written to
``benchmarks/out/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchmarks.run
from benchmarks.run import run_tree
from tests.mirror.demo import DEMO_CRAWLS, scrapy_command
from tests.mirror.server import MirrorServer, default_dirs

REPO = Path(__file__).resolve().parents[1]
SPIDER = "dw"


def clone(base: Path, out: Path, articles: int) -> int:
    """``out``: the crawl in ``base`` with its archived articles cloned to ``articles`` in all
    (posts, JSON lines, state rows). Returns the number of articles."""
    shutil.copytree(base, out, symlinks=True)
    site, state = out / SPIDER, out / "state" / "newscrawl.sqlite3"
    db = sqlite3.connect(state)
    columns = [row[1] for row in db.execute("PRAGMA table_info(articles)")]
    rows = db.execute("SELECT * FROM articles WHERE site = ? AND content_hash IS NOT NULL",
                      (SPIDER,)).fetchall()
    lines = (site / "articles.jsonl").read_bytes()
    at = {name: columns.index(name) for name in ("id", "post_path", "line_offset", "url")}
    originals = []
    for row in rows:
        line = lines[row[at["line_offset"]]:].split(b"\n", 1)[0].decode("utf-8")
        post = (site / "_posts" / row[at["post_path"]]).read_text(encoding="utf-8")
        originals.append((row, line, post))
    offset = len(lines)
    new_rows = []
    with open(site / "articles.jsonl", "ab") as jsonl:
        n = 0
        while len(rows) + len(new_rows) < articles:
            n += 1
            for row, line, post in originals:
                if len(rows) + len(new_rows) >= articles:
                    break
                old_id, new_id = row[at["id"]], f"{row[at['id']]}{n:05d}"
                name = f"{row[at['post_path']][:-3]}-c{n}.md"
                (site / "_posts" / name).write_text(post.replace(old_id, new_id), encoding="utf-8")
                data = (line.replace(old_id, new_id) + "\n").encode("utf-8")
                jsonl.write(data)
                copy = list(row)
                copy[at["id"]], copy[at["post_path"]], copy[at["line_offset"]] = new_id, name, offset
                copy[at["url"]] = (row[at["url"]] or "").replace(old_id, new_id)
                new_rows.append(copy)
                offset += len(data)
    with db:
        marks = ", ".join("?" * len(columns))
        db.executemany(f"INSERT INTO articles ({', '.join(columns)}) VALUES ({marks})", new_rows)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'clean_close'").fetchone():
            db.execute("DELETE FROM clean_close")  # the files changed: the first run checks them all
    db.close()
    index = sqlite3.connect(site / "warc" / "captures.sqlite3")
    columns = [row[1] for row in index.execute("PRAGMA table_info(captures)")]
    pages = index.execute("SELECT * FROM captures WHERE callback = 'parse_article'").fetchall()
    place = {name: columns.index(name) for name in ("offset", "url", "request_url")}
    ids = {row[at["id"]] for row in rows}
    marks = ", ".join("?" * len(columns))
    with index:
        for n in range(1, -(-(articles - len(rows)) // max(len(rows), 1)) + 1):  # as the posts
            copies = []
            for capture in pages:
                old_id = next((i for i in ids if capture[place["request_url"]].endswith(i)), None)
                if old_id is None:
                    continue
                copy = list(capture)
                copy[place["offset"]] += n << 32  # a row of its own; the wacz page list reads no record
                for field in ("url", "request_url"):
                    copy[place[field]] = copy[place[field]].replace(old_id, f"{old_id}{n:05d}")
                copies.append(copy)
            index.executemany(f"INSERT INTO captures VALUES ({marks})", copies)
    index.close()
    return len(rows) + len(new_rows)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="re-crawls per archive")
    parser.add_argument("--rebuild-repeat", type=int, default=1, help="rebuild-states per archive")
    parser.add_argument("--wacz", action="store_true", help="also measure scrapy wacz (once)")
    parser.add_argument("--keep", type=Path, help="make the archives in this folder and keep them")
    parser.add_argument("--code", type=Path, default=REPO,
                        help="run the commands of the newscrawl in this folder (another worktree: "
                             "its code is imported first, from the current folder; its own "
                             "archives: a state of another schema may not open)")
    args = parser.parse_args()
    benchmarks.run.REPO = args.code.resolve()
    work = args.keep or Path(tempfile.mkdtemp(prefix="newscrawl-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    try:
        with MirrorServer(default_dirs()) as server:
            def crawl(out: Path) -> dict:
                return run_tree(scrapy_command("crawl", server.base_url, out, SPIDER, *DEMO_CRAWLS[SPIDER]))

            base = work / "base"
            if not base.exists():
                first = crawl(base)
                assert first["returncode"] == 0, first["log"][-3000:]
            for size in args.sizes:
                out = work / f"archive-{size}"
                started = time.perf_counter()
                if not out.exists():
                    clone(base, out, size)
                made = time.perf_counter() - started
                print(f"{size} articles: archive made in {made:.0f} s", file=sys.stderr, flush=True)
                first = crawl(out)  # the first run after the clone checks everything (no marker)
                assert first["returncode"] == 0, first["log"][-3000:]
                recrawls = [crawl(out) for _ in range(args.repeat)]
                for run in recrawls:
                    assert run["returncode"] == 0, run["log"][-3000:]
                rebuilds = []
                for _ in range(args.rebuild_repeat):
                    rebuilds.append(run_tree(scrapy_command("rebuild-state", server.base_url, out, SPIDER)))
                    assert rebuilds[-1]["returncode"] == 0, rebuilds[-1]["log"][-3000:]
                    crawl(out)  # rebuild-state forgets the clean close: the next crawl checks all
                packed = None
                if args.wacz:
                    packed = run_tree(scrapy_command("wacz", server.base_url, out, SPIDER,
                                                     "-o", str(work / f"{SPIDER}-{size}.wacz")))
                    assert packed["returncode"] == 0, packed["log"][-3000:]
                    (work / f"{SPIDER}-{size}.wacz").unlink()
                results[str(size)] = {
                    "first_recrawl_cpu_s": first["cpu_s"],
                    "recrawl_cpu_s": [r["cpu_s"] for r in recrawls],
                    "recrawl_peak_mib": [max(r["peak_tree_rss_mib"], r["hwm_tree_mib"]) for r in recrawls],
                    "rebuild_cpu_s": [r["cpu_s"] for r in rebuilds],
                    "rebuild_peak_mib": [max(r["peak_tree_rss_mib"], r["hwm_tree_mib"]) for r in rebuilds],
                    "wacz_cpu_s": packed and packed["cpu_s"],
                    "wacz_peak_mib": packed and max(packed["peak_tree_rss_mib"], packed["hwm_tree_mib"]),
                    "wacz_said": packed and packed["log"].strip()[-300:],
                }
                r = results[str(size)]
                rebuilt = (f"; rebuild-state: {spread(r['rebuild_cpu_s'])} s CPU, "
                           f"{spread(r['rebuild_peak_mib'])} MiB") if rebuilds else ""
                print(f"{size} articles: re-crawl, nothing new: {spread(r['recrawl_cpu_s'])} s CPU, "
                      f"{spread(r['recrawl_peak_mib'])} MiB (first after the clone, full check: "
                      f"{r['first_recrawl_cpu_s']:.2f} s){rebuilt}", flush=True)
                if packed:
                    print(f"{size} articles: wacz: {packed['cpu_s']:.2f} s CPU, {r['wacz_peak_mib']:.1f} MiB",
                          flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    target = REPO / "benchmarks" / "out" / "scale.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
