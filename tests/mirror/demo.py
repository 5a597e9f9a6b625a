"""``make demo``: crawl the bundled mirror of both sites on 127.0.0.1 with the real spiders.

Starts :class:`~tests.mirror.server.MirrorServer` on a free local port and runs
``scrapy crawl`` with ``NEWSCRAWL_MIRROR`` pointing at it; posts and JSON lines carry the
real URLs. DW: the feed and one topic page. Epoch Times: two tags, a category and the
feed on "day one", then again on "day two" (three new articles, one retitled), which shows
what an incremental re-crawl fetches. Run it again and it is the next hour of the same
sites: day two only, nothing new, nothing written.

It writes to ``output/demo/`` (posts, JSON lines, run reports and its own state in
``output/demo/state``), never to the ``output/`` a live crawl uses: its invented articles
carry real-looking dw.com / epochtimes.com URLs. ``make clean-demo`` removes it. Each crawl's
Scrapy log goes to ``output/demo/logs/<crawl>.log`` (rewritten by the next ``make demo``); the
terminal shows the command, its one-line outcome and, at the end, what each crawl fetched.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from newscrawl.state import ArticleStore
from tests.mirror.server import DAY_TWO, DEFAULT_SITES, MirrorServer, default_dirs

DEFAULT_OUTPUT = Path("output/demo")
DEMO_CRAWLS = {
    "dw": ["-a", "feed=1", "-a", "topics=t-68199001"],
    "epochtimes": ["-a", "tags=中美关系,半导体", "-a", "categories=nsc413", "-a", "feed=1"],
}


def scrapy_command(command: str, mirror: str, output: Path, *args: str) -> list[str]:
    """``scrapy <command> <args>`` fetching from the mirror at ``mirror``, writing under
    ``output`` (outputs and state); used by the demo, the tests and the benchmark."""
    return [sys.executable, "-m", "scrapy", command, *args,
            "-s", f"NEWSCRAWL_MIRROR={mirror}",
            # the state follows: <output>/state
            "-s", f"NEWSCRAWL_OUTPUT_DIR={output}",
            # a local mirror needs no politeness delays
            "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"]


def crawl(server: MirrorServer, spider: str, label: str, output: Path,
          extra: list[str]) -> tuple[int, dict]:
    """``scrapy crawl <spider>`` of the demo, its log to ``<output>/logs/<spider>[-<label>].log``;
    its exit status and run report."""
    log = output / "logs" / f"{'-'.join([spider, *label.strip('()').split()])}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = scrapy_command("crawl", server.base_url, output, spider, *DEMO_CRAWLS[spider], *extra,
                         "-s", f"LOG_FILE={log}", "-s", "LOG_FILE_APPEND=0")
    print(f"$ scrapy crawl {spider} {' '.join(DEMO_CRAWLS[spider])}   (Scrapy's log: {log})", flush=True)
    status = subprocess.call(cmd, stdin=subprocess.DEVNULL)
    reports = sorted((output / spider / "runs").glob("*.json"))
    return status, json.loads(reports[-1].read_text(encoding="utf-8")) if reports else {}


def summary(spider: str, label: str, report: dict) -> str:
    s = report.get("stats", {})
    feed = "the feed, " if s.get("newscrawl/feed/items") else ""
    pictures = f"{s['newscrawl/images/requested']} pictures, " if s.get("newscrawl/images/requested") else ""
    if s.get("newscrawl/stylesheets/requested"):
        pictures += f"{s['newscrawl/stylesheets/requested']} stylesheets, "
    return (f"{' '.join(filter(None, (spider, label)))}: {report.get('requests', 0)} requests "
            f"({s.get('newscrawl/requests/article', 0)} article pages, "
            f"{s.get('newscrawl/incremental/listing_pages', 0)} listing pages, {pictures}{feed}robots.txt); "
            f"new {s.get('newscrawl/items/new', 0)}, updated {s.get('newscrawl/items/updated', 0)}, "
            f"unchanged {s.get('newscrawl/items/unchanged', 0)}, {dropped(s)}, "
            f"answered 304 {s.get('newscrawl/conditional/not_modified', 0)}, "
            f"known and skipped {s.get('newscrawl/incremental/known_skipped', 0)}, "
            f"pagination stopped early {s.get('newscrawl/incremental/stopped_early', 0)}x; "
            f"pictures kept {s.get('newscrawl/images/kept', 0)}, {not_kept(s)}")


def not_kept(stats: dict) -> str:
    """``not kept 2 (http_404 1, too_large 1)``: the pictures that could not be kept, by reason."""
    counters = ("requested", "kept", "held", "same_bytes", "not_retried")
    images = {k.removeprefix("newscrawl/images/"): v for k, v in sorted(stats.items())
              if k.startswith("newscrawl/images/")}
    failed = {k: v for k, v in images.items() if k not in counters and v}
    text = f"not kept {sum(failed.values())}"
    return text + f" ({', '.join(f'{k} {v}' for k, v in failed.items())})" if failed else text


def dropped(stats: dict) -> str:
    """``dropped 5 (http_404 1, …)``: the pages that gave no article, by reason."""
    drops = {k.removeprefix("newscrawl/dropped/"): v for k, v in sorted(stats.items())
             if k.startswith("newscrawl/dropped/") and v}
    text = f"dropped {sum(drops.values())}"
    return text + f" ({', '.join(f'{k} {v}' for k, v in drops.items())})" if drops else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where the demo writes (default {DEFAULT_OUTPUT}; never the live output/)")
    args, extra = parser.parse_known_args(argv)
    store = ArticleStore(args.output / "state" / "newscrawl.sqlite3")
    first_time = store.count("epochtimes") == 0
    store.close()
    status, lines = 0, []
    with MirrorServer(default_dirs(DEFAULT_SITES if first_time else DAY_TWO)) as server:
        rc, report = crawl(server, "dw", "", args.output, extra)
        status |= rc
        lines.append(summary("dw", "", report))
        label = "day one" if first_time else "(day two again)"
        rc, report = crawl(server, "epochtimes", label, args.output, extra)
        status |= rc
        lines.append(summary("epochtimes", label, report))
        if first_time:
            server.load(default_dirs(DAY_TWO))
            rc, report = crawl(server, "epochtimes", "day two", args.output, extra)
            status |= rc
            lines.append(summary("epochtimes", "day two", report))
    print()
    print("\n".join(lines))
    for spider in DEMO_CRAWLS:
        posts = sorted((args.output / spider / "_posts").glob("*.md"))
        jsonl = args.output / spider / "articles.jsonl"
        count = jsonl.read_text(encoding="utf-8").count("\n") if jsonl.exists() else 0
        print(f"{spider}: {len(posts)} posts in {args.output / spider / '_posts'}, "
              f"{count} JSON lines in {jsonl}")
        for revisions in sorted((args.output / spider / "_revisions").glob("*")):
            kept = ", ".join(p.name for p in sorted(revisions.iterdir()))
            print(f"  edited: {revisions.name} — earlier version and diff kept in {revisions}/ ({kept})")
    print(f"Invented articles under real-looking URLs: keep them out of a live archive "
          f"(remove them with 'make clean-demo' or 'rm -r {args.output}').")
    return status


if __name__ == "__main__":
    sys.exit(main())
