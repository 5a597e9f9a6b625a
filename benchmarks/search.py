"""What the site's search index costs as the archive grows:
``PYTHONPATH=. .venv/bin/python benchmarks/search.py [--output output/demo]``.

From the demo's archive (``make demo``: ``output/demo``) it measures the Pagefind index
(newscrawl/website_search.py) with and without the folded text, as CPU seconds (this process
and its children: the folding here, the pagefind binary), wall seconds and bytes of the index
(its ``.pf_*`` files: words, fragments, filters, meta; the UI's fixed scripts, ~0.6 MB, apart):

* **index alone** at ``--sizes`` posts (default the demo's, 1,000 and 10,000): the demo's built
  post pages (one Jekyll build) cloned into a folder of pages of the same shape, each clone at
  a new path with its title marked ``c<n>`` so no two pages are the same. The text of the clones
  repeats the demo's (its mix of scripts too: 5 of 58 traditional), so the word list is the
  demo's and only the pages and their postings grow: a real archive's index is larger.
* **the whole build** (``make website``: Jekyll, then the index) at ``--jekyll-sizes`` posts
  (default the demo's and 1,000): the demo's posts cloned under new file names (``-c<n>``).
  Jekyll's own time grows faster than linearly with the posts (issue 21 part 6), so 10,000 is
  not run here by default.

Results are printed and written to ``benchmarks/out/search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from newscrawl import website, website_search

REPO = Path(__file__).resolve().parents[1]


def cpu(*who: int) -> float:
    """CPU seconds (user + system) of ``who`` (RUSAGE_SELF, RUSAGE_CHILDREN: the children
    waited for), by default both."""
    usages = map(resource.getrusage, who or (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(usage.ru_utime + usage.ru_stime for usage in usages)


def measure(site: Path, folding: bool) -> dict:
    started_cpu, started = cpu(), time.monotonic()
    started_pagefind = cpu(resource.RUSAGE_CHILDREN)
    report = website_search.index_site(site, folding=folding)
    assert report is not None, "pagefind is not installed (pip install -e '.[site]')"
    bundle = site / website_search.BUNDLE
    return {"posts": report.pages, "folded_pages": report.folded, "folding": folding,
            "cpu_s": round(cpu() - started_cpu, 2), "wall_s": round(time.monotonic() - started, 2),
            "pagefind_cpu_s": round(cpu(resource.RUSAGE_CHILDREN) - started_pagefind, 2),
            "index_bytes": report.bytes,
            "fragment_bytes": sum(p.stat().st_size for p in (bundle / "fragment").iterdir()),
            "bundle_bytes": sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())}


def clone_pages(built: Path, site: Path, count: int, traditional: bool = False) -> None:
    """``site``: ``count`` post pages cloned from the built site ``built`` (``traditional``:
    from those of its pages that folding changes only)."""
    pages = [(p.relative_to(built), text) for p, text in website_search.indexed_pages(built)
             if not traditional or website_search.with_folded_text(text) is not text]
    for n in range(count):
        relative, text = pages[n % len(pages)]
        if n >= len(pages):
            relative = relative.parent.parent / f"{relative.parent.name}-c{n}" / relative.name
            text = text.replace("</h1>", f" c{n}</h1>", 1)
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def clone_posts(output: Path, target: Path, count: int) -> None:
    """``target``: an archive of ``count`` posts, the posts (and pictures) of ``output`` cloned."""
    shutil.copytree(output, target, ignore=shutil.ignore_patterns("*.warc.gz", "state", "runs"))
    posts = sorted(target.glob("*/_posts/*.md"))
    for n in range(len(posts), count):
        post = posts[n % len(posts)]
        shutil.copyfile(post, post.with_name(f"{post.stem}-c{n}.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=REPO / "output" / "demo")
    parser.add_argument("--sizes", default="0,1000,10000", help="index alone: posts (0: the demo's)")
    parser.add_argument("--traditional-sizes", default="1000",
                        help="index alone, every page traditional (cloned from the demo's 5)")
    parser.add_argument("--jekyll-sizes", default="0,1000", help="whole build: posts (0: the demo's)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "out" / "search.json")
    args = parser.parse_args(argv)
    os.chdir(REPO)  # the site skeleton is found from the repository
    results: dict[str, list] = {"index": [], "build": []}
    with tempfile.TemporaryDirectory(prefix="newscrawl-bench-search-") as tmp:
        root = Path(tmp)
        built = root / "demo-site"
        assert website.build(args.output, built) == 0
        demo = len([*website_search.indexed_pages(built)])
        runs = [(int(s) or demo, False) for s in args.sizes.split(",") if s]
        runs += [(int(s), True) for s in args.traditional_sizes.split(",") if s]
        for size, traditional in runs:
            site = root / f"pages-{size}"
            clone_pages(built, site, size, traditional)
            for folding in (False, True):
                row = measure(site, folding) | {"all_traditional": traditional}
                results["index"].append(row)
                print(f"index alone, {size} posts{' (all traditional)' if traditional else ''}, folding "
                      f"{'on' if folding else 'off'}: {row}", flush=True)
            shutil.rmtree(site)
        for size in [int(s) or demo for s in args.jekyll_sizes.split(",") if s]:
            archive, dest = root / f"archive-{size}", root / f"site-{size}"
            clone_posts(args.output, archive, size)
            started_cpu, started = cpu(), time.monotonic()
            assert website.build(archive, dest) == 0
            row = {"posts": size, "cpu_s": round(cpu() - started_cpu, 2),
                   "wall_s": round(time.monotonic() - started, 2)}
            index = measure(dest, True)  # the index part of it, again
            row |= {"index_cpu_s": index["cpu_s"], "index_wall_s": index["wall_s"],
                    "index_bytes": index["index_bytes"]}
            results["build"].append(row)
            print(f"make website, {size} posts (Jekyll and index): {row}", flush=True)
            shutil.rmtree(archive)
            shutil.rmtree(dest)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
