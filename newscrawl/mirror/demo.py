"""``make demo``: crawl the bundled mirror of DW on 127.0.0.1 with the real spider.

Starts :class:`~newscrawl.mirror.server.MirrorServer` on a free local port, runs
``scrapy crawl dw`` (feed + topic page) with ``NEWSCRAWL_MIRROR`` pointing at it, and
prints what the crawl wrote. Posts and JSON lines carry the real ``www.dw.com`` URLs.
Run it again and nothing new is written: the state remembers every article.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from newscrawl.mirror.server import MirrorServer

DEMO_CRAWLS = {
    "dw": ["-a", "feed=1", "-a", "topics=t-68199001"],
}


def run(spider: str, output: Path, extra: list[str]) -> int:
    with MirrorServer() as server:
        cmd = [sys.executable, "-m", "scrapy", "crawl", spider, *DEMO_CRAWLS[spider],
               "-s", f"NEWSCRAWL_MIRROR={server.base_url}",
               "-s", f"NEWSCRAWL_OUTPUT_DIR={output}",
               "-s", f"NEWSCRAWL_STATE_DIR={output / 'state'}",
               # a local mirror needs no politeness delays
               "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", *extra]
        print("$", " ".join(cmd), flush=True)
        return subprocess.call(cmd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("output"))
    parser.add_argument("spiders", nargs="*", default=list(DEMO_CRAWLS))
    args, extra = parser.parse_known_args(argv)
    status = 0
    for spider in args.spiders:
        status |= run(spider, args.output, extra)
        posts = sorted((args.output / spider / "_posts").glob("*.md"))
        jsonl = args.output / spider / "articles.jsonl"
        lines = jsonl.read_text(encoding="utf-8").count("\n") if jsonl.exists() else 0
        print(f"\n{spider}: {len(posts)} posts in {args.output / spider / '_posts'}, "
              f"{lines} JSON lines in {jsonl}")
    return status


if __name__ == "__main__":
    sys.exit(main())
