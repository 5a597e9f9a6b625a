"""Where a crawl's CPU goes (``make bench-profile``): py-spy over a crawl of real-size articles
and over the re-crawl with nothing new, its samples attributed to the crawler's components.

    PYTHONPATH=. .venv-bench/bin/python benchmarks/profile.py [--articles 300] [--rate 250]

It builds a DW mirror of ``--articles`` real-size article pages (``build_dw.build(...,
real_size=True)``: ~100 KB, 10-15 paragraphs, a real head and Apollo state; see
``tests/mirror/dw_real_size.py``) and, as ``make bench`` crawls them (politeness off,
pictures off, the mirror as an HTTPS proxy), runs under ``py-spy record`` (``--rate`` Hz, raw
stacks) the crawl of every article, then the same crawl with nothing new (robots.txt, the
topic page answered 304, start-up and shut-down). Each sample goes to one component of
:data:`RULES`; the **marginal** figure is the crawl's samples minus the re-crawl's, per
component, so start-up and the listing cancel out (the imports, the same in both, are left
out of it rather than subtracted: their two sample counts differ only by noise). The same
two crawls are then run again without py-spy (py-spy's own CPU would count in the tree, and
a process waiting for a CPU is sampled as busy), and their user + system CPU gives the
milliseconds: a component's ms per article is its share of the marginal samples times the
measured marginal CPU per article.

How a sample is attributed: first the ``ANYWHERE`` rules, in table order, each looking at
every frame of the stack (start-up is whatever runs under an import; a listing's or
robots.txt's work is whatever runs under its callback, though the site module's link
extraction or Protego does it); then the stack is read from the innermost frame outwards,
and the first frame that matches an ``INNERMOST`` rule decides (the first such rule of the
table that it matches).
Library helpers that serve everyone (lxml, json, re, hashlib, sqlite3, parsel, w3lib, OpenCC)
match no rule and the project's own (:data:`HELPERS`) are skipped, so their time goes to their
caller: lxml under ``newscrawl/sites/`` is the parse,
under ``newscrawl/markdown.py`` the markdown; SQLite under ``newscrawl/state.py`` is the
state. Frames of the import machinery anywhere on the stack make a sample start-up
(``ANYWHERE`` rules), whatever it imports. py-spy sees Python frames only: time in C code
(libxml2, SQLite, OpenSSL, zlib) goes to the Python frame that called it.

Results are printed and written to ``benchmarks/out/profile.json``; the raw stacks stay in
``benchmarks/out/profile-crawl.txt`` and ``profile-recrawl.txt`` (flamegraph input).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.run import (
    ENV,
    FAST,
    RECHECK_CRAWLED,
    REPO,
    _become_subreaper,
    clock,
    crawl,
    last_report,
    load_average,
)
from benchmarks.run import crawl_command as bench_crawl_command
from tests.mirror.build_dw import build
from tests.mirror.server import MirrorServer

PY_SPY = Path(sys.executable).with_name("py-spy")

#: where a rule looks: at every frame of the stack, before the walk (ANYWHERE), or in the walk
#: from the innermost frame outwards (INNERMOST)
ANYWHERE, INNERMOST = "anywhere", "innermost"
#: (component, where, substrings of a py-spy frame "function (path:line)"): the first frame
#: from the innermost outwards that contains one of a rule's substrings decides, rules tried
#: in this order for each frame; the components of issue 23's table, a few split further
RULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("start-up: imports", ANYWHERE, ("<frozen importlib._bootstrap",)),
    ("robots.txt", ANYWHERE, ("robotstxt", "protego")),
    ("listing callbacks", ANYWHERE, (
        "parse_listing (", "_listing_page (", "newscrawl/listings.py", "parse_feed (", "_feed (newscrawl/")),
    ("logging", INNERMOST, ("logging/__init__.py", "scrapy/utils/log.py")),
    ("markdown", INNERMOST, ("newscrawl/markdown.py",)),
    ("parse/extract", INNERMOST, (
        "newscrawl/sites/", "parse_article (newscrawl/spiders/", "_parse_page (newscrawl/spiders/",
        "_stamped (newscrawl/spiders/")),
    ("WARC capture", INNERMOST, ("newscrawl/warc.py", "warcio/", "isal/", "surt/")),
    ("state SQLite", INNERMOST, ("newscrawl/state.py",)),
    ("near-duplicate index", INNERMOST, ("newscrawl/related.py", "datasketch/")),
    ("posts + JSON lines + YAML", INNERMOST, (
        "newscrawl/archive.py", "newscrawl/posts.py", "newscrawl/versions.py", "newscrawl/files.py",
        "yaml/")),
    ("pipelines: normalize, validate, dedupe, pictures", INNERMOST, (
        "newscrawl/pipelines/", "newscrawl/pictures.py")),
    ("crawl policies (newscrawl/crawling/, schedule)", INNERMOST, (
        "newscrawl/crawling/", "newscrawl/schedule.py")),
    ("spider: requests and wiring", INNERMOST, ("newscrawl/spiders/",)),
    ("TLS", INNERMOST, (
        "twisted/protocols/tls.py", "OpenSSL/", "twisted/internet/_sslverify.py", "cryptography/",
        "scrapy/core/downloader/tls.py", "scrapy/core/downloader/contextfactory.py")),
    ("HTTP client", INNERMOST, ("scrapy/core/downloader/handlers/http11.py", "twisted/web/")),
    ("Scrapy engine, middlewares, signals", INNERMOST, (
        "scrapy/", "pydispatch/", "itemadapter/", "newscrawl/middlewares.py", "newscrawl/extensions.py",
        "newscrawl/transport.py")),
    ("Twisted + asyncio loop + sockets", INNERMOST, (
        "twisted/", "asyncio/", "selectors.py", "socket.py", "zope/")),
    ("other newscrawl code", INNERMOST, ("newscrawl/",)),
]
#: the project's helper modules that every component calls: their frames never decide, their
#: time goes to the caller's component (as a library's does)
HELPERS = ("newscrawl/text.py", "newscrawl/html.py", "newscrawl/charset.py")
REST = "the rest"
STARTUP = RULES[0][0]
COMPONENTS = [name for name, _, _ in RULES] + [REST]


def component(stack: list[str]) -> str:
    """The component of one sample, its frames outermost first (py-spy's order)."""
    for name, where, needles in RULES:
        if where == ANYWHERE and any(n in frame for frame in stack for n in needles):
            return name
    for frame in reversed(stack):
        if any(h in frame for h in HELPERS):
            continue
        for name, where, needles in RULES:
            if where == INNERMOST and any(n in frame for n in needles):
                return name
    return REST


def read_raw(path: Path) -> Counter[str]:
    """Samples per component of a py-spy raw file (``frame;frame;... count`` a line)."""
    counts: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[component(stack.split(";"))] += int(count)
    return counts


def crawl_command(server: MirrorServer, out: Path) -> list[str]:
    """``make bench``'s crawl of the real-size pages (see :func:`benchmarks.run.crawl`)."""
    return bench_crawl_command(server, out, extra=clock(RECHECK_CRAWLED)) + FAST


def profiled(server: MirrorServer, out: Path, raw: Path, rate: int, expect: int) -> Counter[str]:
    """One crawl under py-spy; its samples per component."""
    cmd = [str(PY_SPY), "record", "-r", str(rate), "-f", "raw", "-o", str(raw), "--",
           *crawl_command(server, out)]
    proc = subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True, text=True)
    items = last_report(out)["stats"].get("item_scraped_count", 0)
    if proc.returncode != 0 or items != expect:
        raise RuntimeError(f"profiled crawl failed ({items} items, expected {expect}):\n"
                           f"{proc.stderr[-4000:]}")
    return read_raw(raw)


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                       for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            lines.append("  " + "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="real-size articles crawled (300)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (250)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "profile.json")
    args = parser.parse_args()
    if not PY_SPY.exists():
        parser.error(f"no py-spy at {PY_SPY}: install the bench extra (make bench-profile does)")
    _become_subreaper()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw_crawl, raw_again = args.out.with_name("profile-crawl.txt"), args.out.with_name("profile-recrawl.txt")
    loads = [load_average()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"building {args.articles} real-size articles ...", file=sys.stderr)
        build(tmp_path / "real", extra_articles=args.articles, real_size=True)
        with MirrorServer([tmp_path / "real"]) as server:
            print("py-spy over the crawl, then over the re-crawl with nothing new ...", file=sys.stderr)
            new = profiled(server, tmp_path / "profiled", raw_crawl, args.rate, args.articles)
            again = profiled(server, tmp_path / "profiled", raw_again, args.rate, 0)
            print("the same two crawls without py-spy, for their CPU ...", file=sys.stderr)
            extra = clock(RECHECK_CRAWLED)
            cpu_new = crawl(server, tmp_path / "timed", expect=args.articles, extra=extra)["cpu_s"]
            cpu_again = crawl(server, tmp_path / "timed", expect=0, extra=extra)["cpu_s"]
    loads.append(load_average())
    # start-up is the same work in both crawls (the same imports): its samples differ only by
    # the machine's noise (a process waiting for a CPU is sampled as busy), so it is left out
    # of the marginal instead of subtracted
    marginal = {c: 0 if c == STARTUP else new[c] - again[c] for c in COMPONENTS}
    total_new, total_again = sum(new.values()), sum(again.values())
    total_marginal = sum(marginal.values())
    marginal_ms = (cpu_new - cpu_again) * 1000 / args.articles
    rows = [("component", "crawl samples", "re-crawl samples", "marginal share", "ms/article",
             "re-crawl share", "re-crawl ms")]
    figures = {}
    for c in COMPONENTS:
        share = marginal[c] / total_marginal if total_marginal else 0.0
        again_share = again[c] / total_again if total_again else 0.0
        figures[c] = {"crawl_samples": new[c], "recrawl_samples": again[c], "marginal_samples": marginal[c],
                      "marginal_share": round(share, 4), "ms_per_article": round(share * marginal_ms, 3),
                      "recrawl_share": round(again_share, 4),
                      "recrawl_ms": round(again_share * cpu_again * 1000, 1)}
        rows.append((c, str(new[c]), str(again[c]), f"{share * 100:.1f} %", f"{share * marginal_ms:.2f}",
                     f"{again_share * 100:.1f} %", f"{again_share * cpu_again * 1000:.0f}"))
    rows.append(("total", str(total_new), str(total_again), "100 %", f"{marginal_ms:.2f}", "100 %",
                 f"{cpu_again * 1000:.0f}"))
    result = {
        "settings": {"articles": args.articles, "rate": args.rate,
                     "pages": "real-size (build_dw real_size=True)",
                     "crawl": " ".join(FAST[1::2] + list(clock(RECHECK_CRAWLED)[1::2]))},
        "machine": {"cpus": os.cpu_count(), "load_average": loads},
        "cpu": {"crawl_s": round(cpu_new, 3), "recrawl_s": round(cpu_again, 3),
                "marginal_ms_per_article": round(marginal_ms, 3)},
        "samples": {"crawl": total_new, "recrawl": total_again},
        "components": figures,
        "rules": [{"component": n, "where": w, "frames": list(s)} for n, w, s in RULES],
    }
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\npy-spy at {args.rate} Hz: crawl of {args.articles} real-size articles (CPU {cpu_new:.2f} s "
          f"without py-spy) minus the re-crawl with nothing new ({cpu_again:.2f} s): {marginal_ms:.2f} ms an "
          f"article; load average {loads[0]} -> {loads[-1]}")
    print(table(rows))
    print(f"results: {args.out}; raw stacks: {raw_crawl}, {raw_again}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
