"""WARC capture benchmark (part of ``make bench``): disk, CPU, reparse rate.

1. CPU per page of capturing a response (response + request records, digests, gzip, the
   capture index) next to the CPU of parsing it (site parser + normalise + validate), in one
   process, best of three, on the article pages of a mirror with 500+ extra DW articles.
   Goal: capture ≤ 50 % of parse.
2. Bytes of WARC per article: the real ``scrapy crawl dw`` of that mirror (every response:
   robots.txt, listing pages, articles), then the same crawl again with ``full=1`` (every
   article page unchanged: revisit records).
3. ``scrapy reparse dw`` of that archive, and of the demo archive (``make demo``'s crawls of
   both spiders): articles per second, and the requests the mirror server saw (must be 0).

Results are printed and written to ``benchmarks/out/warc.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse

from benchmarks.run import BENCH_TOPIC, REPO, article_pages, cpu_ms_each
from newscrawl.pipelines import normalize_article, validate_article
from newscrawl.sites.dw import SITE
from newscrawl.warc import WarcRecorder
from tests.mirror.build_dw import build
from tests.mirror.demo import DEMO_CRAWLS, scrapy_command
from tests.mirror.server import DAY_TWO, DEFAULT_SITES, MirrorServer, default_dirs


def cpu(mirror_dir: Path, work: Path) -> dict:
    pages = article_pages(mirror_dir)
    headers = {"Content-Type": "text/html; charset=utf-8", "Date": "Sun, 22 Nov 2026 02:00:00 GMT"}
    exchanges = []
    for url, body in pages:
        request = Request(url, headers={"User-Agent": "newscrawl", "Accept-Encoding": "gzip, deflate, br"})
        exchanges.append((request, HtmlResponse(request.url, body=body, headers=headers, request=request,
                                                encoding="utf-8")))
    runs = iter(range(100))

    def parse() -> None:
        for _, response in exchanges:
            validate_article(normalize_article(SITE.parse(response).item))

    def capture(folder: Path | None = None) -> None:
        recorder = WarcRecorder(folder or work / f"capture{next(runs)}", "dw", max_size=10**9)
        for request, response in exchanges:
            recorder.capture(request, response)
        recorder.close()

    # in turns (parse, capture, parse, …), the fastest pass of each: see run.cpu_ms_each
    best = cpu_ms_each({"parse": parse, "capture": capture}, len(pages))
    parse_ms, capture_ms = best["parse"], best["capture"]
    again = work / "again"
    capture(again)  # the pages once, then the same pages again: revisit records
    revisit_ms = cpu_ms_each({"revisit": lambda: capture(again)}, len(pages))["revisit"]
    return {"pages": len(pages), "parse_ms": round(parse_ms, 3), "capture_ms": round(capture_ms, 3),
            "ratio": round(capture_ms / parse_ms, 3), "revisit_capture_ms": round(revisit_ms, 3)}


def report(out: Path, spider: str) -> dict:
    return json.loads(sorted((out / spider / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))


def run(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])} … failed:\n{proc.stderr[-3000:]}")
    return proc, time.perf_counter() - start


def reparse(server: MirrorServer, out: Path, spider: str) -> dict:
    before = sum(server.hits.values())
    _, wall = run(scrapy_command("reparse", server.base_url, out, spider))
    r = report(out, spider)
    items = r["parsed_articles"]
    elapsed = float(r["stats"].get("elapsed_time_seconds", wall))
    return {"articles": items, "elapsed_s": round(elapsed, 2), "articles_per_s": round(items / elapsed, 1),
            "wall_s": round(wall, 2), "requests_sent": r["requests"],
            "mirror_hits": sum(server.hits.values()) - before}


def disk_and_reparse(mirror_dir: Path, work: Path) -> dict:
    out = work / "crawl"
    # the pages' WARC alone: what pictures add is measured by run.py (their CPU, requests, bytes)
    args = ("-a", f"topics={BENCH_TOPIC}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
            "-s", "NEWSCRAWL_IMAGES=0")
    with MirrorServer([mirror_dir]) as server:
        run(scrapy_command("crawl", server.base_url, out, "dw", *args))
        first = report(out, "dw")
        run(scrapy_command("crawl", server.base_url, out, "dw", *args, "-a", "full=1"))
        second = report(out, "dw")
        reparsed = reparse(server, out, "dw")
    articles = first["stats"].get("item_scraped_count", 0)
    folder = out / "dw" / "warc"
    index_bytes = sum(p.stat().st_size for p in folder.glob("captures.sqlite3*"))
    cdxj_bytes = sum(p.stat().st_size for p in folder.glob("*.cdxj"))
    return {
        "articles": articles,
        "responses": first["stats"].get("response_received_count", 0),
        "first_crawl_warc_bytes": first["warc"]["bytes"],
        "bytes_per_article": round(first["warc"]["bytes"] / articles),
        "html_bytes_per_article": round(first["stats"].get("downloader/response_bytes", 0) / articles),
        "recrawl_warc_bytes": second["warc"]["bytes"],
        "recrawl_bytes_per_article": round(second["warc"]["bytes"] / articles),
        "recrawl_revisits": second["warc"]["revisits"],
        "index_bytes": index_bytes, "cdxj_bytes": cdxj_bytes,
        "reparse": reparsed,
    }


def demo_reparse(work: Path) -> dict:
    out = work / "demo"
    results = {}
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        for spider in DEMO_CRAWLS:
            run(scrapy_command("crawl", server.base_url, out, spider, *DEMO_CRAWLS[spider]))
        server.load(default_dirs(DAY_TWO))
        run(scrapy_command("crawl", server.base_url, out, "epochtimes", *DEMO_CRAWLS["epochtimes"]))
        for spider in DEMO_CRAWLS:
            results[spider] = reparse(server, out, spider)
        results["warc_bytes"] = {
            spider: sum(p.stat().st_size for p in (out / spider / "warc").glob("*.warc.gz"))
            for spider in DEMO_CRAWLS}
        results["jsonl_lines"] = {spider: len((out / spider / "articles.jsonl").read_text().splitlines())
                                  for spider in DEMO_CRAWLS}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=520)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mirror_dir = work / "mirror"
        build(mirror_dir, extra_articles=args.articles)
        results = {"cpu": cpu(mirror_dir, work), "crawl": disk_and_reparse(mirror_dir, work),
                   "demo": demo_reparse(work)}
    out = REPO / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "warc.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    c, d, demo = results["cpu"], results["crawl"], results["demo"]
    print(f"WARC capture CPU:    {c['capture_ms']} ms per page vs parse {c['parse_ms']} ms = "
          f"{c['ratio']:.0%} (goal <= 50%); a revisit {c['revisit_capture_ms']} ms")
    print(f"WARC on disk:        {d['bytes_per_article']} bytes per article (gzip; the HTML is "
          f"{d['html_bytes_per_article']}), {d['recrawl_bytes_per_article']} per article on an "
          f"unchanged re-crawl; index {d['index_bytes']} + CDXJ {d['cdxj_bytes']} bytes for "
          f"{d['articles']} articles")
    r = d["reparse"]
    print(f"reparse ({d['articles']}):      {r['articles_per_s']} articles/s ({r['articles']} in "
          f"{r['elapsed_s']} s), {r['requests_sent']} requests sent, {r['mirror_hits']} seen by the server")
    for spider in DEMO_CRAWLS:
        r = demo[spider]
        print(f"reparse demo {spider}: {r['articles_per_s']} articles/s ({r['articles']} in "
              f"{r['elapsed_s']} s, {r['wall_s']} s with start-up), {r['requests_sent']} requests, "
              f"{r['mirror_hits']} seen")
    return 0


if __name__ == "__main__":
    sys.exit(main())
