"""The 304 re-check figure of ``make bench`` alone, for two or more checkouts side by side.

``python -m benchmarks.recheck [--repeat 3] [--articles 300] NAME=CHECKOUT ...`` (e.g.
``before=../main-copy after=.``): builds the mirror of real-size pages once, crawls it once
per checkout at :data:`~benchmarks.run.RECHECK_CRAWLED` (kept as that checkout's snapshot),
then, ``--repeat`` times and the checkouts in turn, restores each snapshot and measures as
``make bench`` does (:func:`benchmarks.run.recheck_crawl`): the re-crawl with every article
due and answered 304, minus the fastest of three re-crawls with nothing new, divided by the
304s. Each crawl runs ``python -m scrapy`` in the checkout (its own code; the interpreter is
this one's). Prints every repetition and min/median/max per checkout.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks import run
from tests.mirror.build_dw import build
from tests.mirror.server import MirrorServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("checkouts", nargs="+", metavar="NAME=CHECKOUT")
    args = parser.parse_args()
    checkouts = {name: Path(path).resolve() for name, _, path in (a.partition("=") for a in args.checkouts)}
    results: dict[str, list[float]] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root / "real", extra_articles=args.articles, real_size=True)
        pages = len(run.article_pages(root / "real"))
        with MirrorServer([root / "real"]) as server:
            for name, checkout in checkouts.items():
                run.REPO = checkout
                run.crawl(server, root / f"snapshot-{name}", expect=pages,
                          extra=run.clock(run.RECHECK_CRAWLED))
            for r in range(args.repeat):
                for name, checkout in checkouts.items():
                    run.REPO = checkout
                    out = root / f"out-{name}"
                    shutil.rmtree(out, ignore_errors=True)
                    shutil.copytree(root / f"snapshot-{name}", out)
                    again = run.nothing_new(server, out, extra=run.clock(run.RECHECK_CRAWLED))
                    recheck = run.recheck_crawl(server, out, pages)
                    ms = (recheck["cpu_s"] - again["cpu_s"]) * 1000 / recheck["not_modified"]
                    results[name].append(ms)
                    print(f"repetition {r + 1} {name}: re-crawl with all due {recheck['cpu_s']:.2f} s, "
                          f"nothing new {again['cpu_s']:.2f} s: {ms:.2f} ms a re-check", flush=True)
    for name, values in results.items():
        print(f"{name}: {run.fmt(run.spread(values), ' ms')} a 304 re-check ({len(values)} repetitions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
