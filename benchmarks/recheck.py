"""The 304 re-check figure of ``make bench`` alone, for two or more checkouts side by side.

``python -m benchmarks.recheck [--repeat 3] [--articles 300] NAME=CHECKOUT ...`` (e.g.
``before=../main-copy after=.``): builds the mirror of real-size pages once, crawls it once
per checkout at :data:`~benchmarks.run.RECHECK_CRAWLED` (kept as that checkout's snapshot),
then, ``--repeat`` times and the checkouts in turn, restores each snapshot and measures as
``make bench`` does (:func:`benchmarks.run.recheck_crawl`): the re-crawl with every article
due and answered 304, minus the fastest of three re-crawls with nothing new, divided by the
304s. Each crawl runs ``python -m scrapy`` in the checkout (its own code; the interpreter is
this one's). Prints every repetition and min/median/max per checkout.

``--instructions`` counts instead of timing: each crawl runs under valgrind's cachegrind
(``--cache-sim=no``: user-space instructions only, ~60 times slower; ``apt-get install
valgrind``), and the figure is the instructions of the re-crawl with every article due minus
those of the re-crawl with nothing new, per 304. A count does not move with the machine's
load (two runs of the same code agree to 0.1 %), so one repetition tells apart changes of
1 %, which CPU seconds on a shared 2-core VM cannot (±15 % between runs). It leaves out what
the kernel does for the crawl (system calls, page faults), which the CPU figure includes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchmarks import run
from tests.mirror.build_dw import build
from tests.mirror.server import MirrorServer


def instructions(server: MirrorServer, out: Path, at: str, log: Path) -> int:
    """User-space instructions (valgrind cachegrind) of one crawl of the real-size page set at
    the simulated time ``at`` (the command :func:`benchmarks.run.crawl` runs)."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           f"--log-file={log}", *run.crawl_command(server, out, extra=run.clock(at)), *run.FAST]
    proc = subprocess.run(cmd, cwd=run.REPO, env=run.ENV, capture_output=True, text=True)
    refs = re.search(r"I\s+refs:\s+([\d,]+)", log.read_text()) if log.exists() else None
    if proc.returncode != 0 or refs is None:
        raise RuntimeError(f"crawl under valgrind failed:\n{proc.stderr[-3000:]}")
    return int(refs.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind instead of timing (see above)")
    parser.add_argument("checkouts", nargs="+", metavar="NAME=CHECKOUT")
    args = parser.parse_args()
    checkouts = run.checkouts(args.checkouts)
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
                    if args.instructions:
                        server.not_modified.clear()
                        again_n = instructions(server, out, run.RECHECK_CRAWLED, root / "again.log")
                        recheck_n = instructions(server, out, run.RECHECK_DUE, root / "recheck.log")
                        answered = run.not_modified_articles(server)
                        if answered != pages:
                            raise RuntimeError(f"{answered} articles answered 304, expected {pages}")
                        value = (recheck_n - again_n) / pages / 1e6
                        results[name].append(value)
                        print(f"repetition {r + 1} {name}: re-crawl with all due {recheck_n / 1e9:.3f} G "
                              f"instructions, nothing new {again_n / 1e9:.3f} G: {value:.3f} M a re-check",
                              flush=True)
                        continue
                    again = run.nothing_new(server, out, extra=run.clock(run.RECHECK_CRAWLED))
                    recheck = run.recheck_crawl(server, out, pages)
                    ms = (recheck["cpu_s"] - again["cpu_s"]) * 1000 / recheck["not_modified"]
                    results[name].append(ms)
                    print(f"repetition {r + 1} {name}: re-crawl with all due {recheck['cpu_s']:.2f} s, "
                          f"nothing new {again['cpu_s']:.2f} s: {ms:.2f} ms a re-check", flush=True)
    for name, values in results.items():
        if args.instructions:
            print(f"{name}: {statistics.median(values):.3f} M instructions a 304 re-check "
                  f"(median of {len(values)}; {min(values):.3f}-{max(values):.3f})")
        else:
            print(f"{name}: {run.fmt(run.spread(values), ' ms')} a 304 re-check ({len(values)} repetitions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
