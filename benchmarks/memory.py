"""The memory crawl of ``make bench`` alone, for two or more checkouts side by side.

``python -m benchmarks.memory [--repeat 3] [--articles 5000] NAME=CHECKOUT ...`` (e.g.
``before=../main-copy after=.``): builds ``make bench``'s memory mirror once (``--articles``
listed :data:`~benchmarks.run.LARGE_TOPIC_SIZE` to a topic page, every picture
``--picture-bytes`` long), then,
``--repeat`` times and the checkouts in turn, crawls it into an empty output as ``make bench``
does (:func:`benchmarks.run.crawl`, politeness off) and prints the peak RSS of the crawl's
process tree (the larger of the polled sum and the sum of high-water marks, as the goal
table) and its CPU (user + system). Each crawl runs ``python -m scrapy`` in the checkout (its
own code; the interpreter is this one's). Ends with min/median/max per checkout.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks import run
from tests.mirror.build_dw import bench_topic_urls, build
from tests.mirror.build_pictures import add_pictures
from tests.mirror.server import MirrorServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--picture-bytes", type=int, default=400_000)
    parser.add_argument("checkouts", nargs="+", metavar="NAME=CHECKOUT")
    args = parser.parse_args()
    checkouts = run.checkouts(args.checkouts)
    peaks: dict[str, list[float]] = {name: [] for name in checkouts}
    cpu: dict[str, list[float]] = {name: [] for name in checkouts}
    topics = bench_topic_urls(args.articles, run.LARGE_TOPIC_SIZE)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root / "large", extra_articles=args.articles, topic_size=run.LARGE_TOPIC_SIZE)
        add_pictures(root / "large", "dw", args.picture_bytes)
        for r in range(args.repeat):
            for name, checkout in checkouts.items():
                run.REPO = checkout
                out = root / f"out-{name}"
                shutil.rmtree(out, ignore_errors=True)
                with MirrorServer([root / "large"]) as server:
                    crawl = run.crawl(server, out, expect=args.articles, topics=topics)
                peak = max(crawl["peak_tree_rss_mib"], crawl["hwm_tree_mib"])
                peaks[name].append(peak)
                cpu[name].append(crawl["cpu_s"])
                polled, marks = crawl["peak_tree_rss_mib"], crawl["hwm_tree_mib"]
                print(f"repetition {r + 1} {name}: peak {peak:.1f} MiB (polled {polled:.1f}, "
                      f"high-water marks {marks:.1f}), CPU {crawl['cpu_s']:.1f} s", flush=True)
    for name in checkouts:
        print(f"{name}: peak {run.fmt(run.spread(peaks[name], 1), ' MiB')}, "
              f"CPU {run.fmt(run.spread(cpu[name], 1), ' s')} ({len(peaks[name])} repetitions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
