"""What ``make site`` costs as the archive grows: ``PYTHONPATH=. .venv/bin/python benchmarks/site.py``.

Clones the posts (and revisions) of a crawled archive (default: ``output/demo``, made by
``make demo``) into archives of ``--sizes`` posts (default 1,000 and 10,000): clone ``n`` of a
post gets the id ``<id>c<n>``, a date ``n`` days earlier (so the months and the archive pages
fill as a long-running archive's do) and its own file name; an edited article's
``_revisions/<id>/`` is cloned with it. Pictures are shared (the same kept files).

On each archive it measures, with user + system CPU of the whole process tree (jekyll
included), wall time and peak RSS of the tree (polled):

* **full** — ``python -m newscrawl.website`` into an empty destination;
* **nothing new** — the same again (the manifest says nothing changed);
* **one new post** — one more post cloned in, as after an hourly crawl that found one article;
* **jekyll alone** — for reference, ``jekyll build`` over the posts only (``--jekyll-floor``).

Prints the figures and the size of the biggest page, and writes ``benchmarks/out/site.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.run import run_tree

REPO = Path(__file__).resolve().parents[1]
_DATE = re.compile(r"^date: '?([0-9]{4}-[0-9]{2}-[0-9]{2})([^'\n]*)'?$", re.M)


def _shifted(post: str, days: int) -> tuple[str, str]:
    """The post with its ``date`` ``days`` earlier; the new day (YYYY-MM-DD)."""
    m = _DATE.search(post)
    assert m, "a post without a date"
    day = (datetime.strptime(m[1], "%Y-%m-%d").replace(tzinfo=UTC) - timedelta(days=days))
    new = day.strftime("%Y-%m-%d")
    return post[:m.start()] + f"date: '{new}{m[2]}'" + post[m.end():], new


def clone_posts(base: Path, out: Path, posts: int, start: int = 1) -> int:
    """Fill ``out`` (an output folder) with ``base``'s posts cloned until it holds ``posts`` in
    all; returns the number of posts. Clone numbers start at ``start``."""
    originals = []
    for folder in sorted(p.parent for p in base.glob("*/_posts")):
        target = out / folder.name
        if not (target / "_posts").exists():
            (target / "_posts").mkdir(parents=True)
            for post in (folder / "_posts").glob("*.md"):
                shutil.copy2(post, target / "_posts" / post.name)
            if (folder / "_revisions").exists():
                shutil.copytree(folder / "_revisions", target / "_revisions")
            if (folder / "assets").exists() and not (target / "assets").exists():
                (target / "assets").symlink_to((folder / "assets").resolve())
        for post in sorted((folder / "_posts").glob("*.md")):
            text = post.read_text(encoding="utf-8")
            ident = re.search(r"^id: (\S+)$", text, re.M)
            assert ident, post
            originals.append((folder, post, text, ident[1]))
    have = sum(1 for _ in out.glob("*/_posts/*.md"))
    n = start
    while have < posts:
        for folder, post, text, ident in originals:
            if have >= posts:
                break
            new_id = f"{ident}c{n}"
            cloned, day = _shifted(text.replace(ident, new_id), n)
            name = f"{day}{post.name[10:-3]}-c{n}.md"
            path = out / folder.name / "_posts" / name
            if path.exists():
                continue
            path.write_text(cloned, encoding="utf-8")
            revisions = folder / "_revisions" / ident
            if revisions.is_dir():
                copy = out / folder.name / "_revisions" / new_id
                copy.mkdir(parents=True, exist_ok=True)
                for file in revisions.iterdir():
                    (copy / file.name).write_text(file.read_text(encoding="utf-8").replace(ident, new_id),
                                                  encoding="utf-8")
            have += 1
        n += 1
    return have


def _measure(cmd: list[str]) -> dict:
    run = run_tree(cmd)
    assert run["returncode"] == 0, run["log"][-3000:]
    # the polled peak of the tree: a full build runs many jekyll processes one after another
    # (--jobs at a time), so the sum of every process's high-water mark is no bound here
    return {"cpu_s": round(run["cpu_s"], 2), "wall_s": round(run["wall_s"], 2),
            "peak_mib": round(run["peak_tree_rss_mib"], 1)}


def _biggest(dest: Path) -> tuple[str, int]:
    size, page = max((p.stat().st_size, p.relative_to(dest).as_posix())
                     for p in dest.rglob("*") if p.suffix in (".html", ".xml"))
    return page, size


def jekyll_floor(out: Path, work: Path) -> dict:
    """``jekyll build`` over the posts alone: the skeleton's layouts, no listing page."""
    from newscrawl.website import SKELETON, stage_jekyll

    staging = work / "floor-src"
    shutil.rmtree(staging, ignore_errors=True)
    stage_jekyll(out, SKELETON, staging)
    config = f"{staging / '_config.yml'},{staging / '_config.spiders.yml'}"
    return _measure([shutil.which("jekyll") or "jekyll", "build", "--safe", "--quiet", "-s", str(staging),
                     "-d", str(work / "floor-site"), "--config", config])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=REPO / "output" / "demo")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--jekyll-floor", action="store_true", help="also time jekyll over the posts alone")
    parser.add_argument("--keep", type=Path, help="make the archives in this folder and keep them")
    args = parser.parse_args()
    if not any(args.base.glob("*/_posts/*.md")):
        print(f"no posts in {args.base}/<spider>/_posts (make demo first)", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="newscrawl-site-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    site = [sys.executable, "-m", "newscrawl.website"]
    try:
        for size in args.sizes:
            out, dest = work / f"archive-{size}", work / f"site-{size}"
            clone_posts(args.base, out, size)
            shutil.rmtree(dest, ignore_errors=True)
            for stale in work.glob(f".site-{size}*"):
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
            r: dict = {"posts": sum(1 for _ in out.glob("*/_posts/*.md"))}
            r["full"] = _measure([*site, "--output", str(out), "--dest", str(dest)])
            r["biggest_page"], r["biggest_page_bytes"] = _biggest(dest)
            r["nothing_new"] = _measure([*site, "--output", str(out), "--dest", str(dest)])
            clone_posts(args.base, out, r["posts"] + 1, start=-1)  # a day after its original
            r["one_new_post"] = _measure([*site, "--output", str(out), "--dest", str(dest)])
            if args.jekyll_floor:
                r["jekyll_posts_only"] = jekyll_floor(out, work)
            results[str(size)] = r
            print(f"{size} posts: {json.dumps(r, ensure_ascii=False)}", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    target = REPO / "benchmarks" / "out" / "site.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
