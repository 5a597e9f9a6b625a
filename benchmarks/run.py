"""newscrawl benchmark (``make bench``): crawl rate, CPU time per article, peak memory.

1. Builds a local mirror with 500+ extra DW article pages and crawls it end to end with the
   real ``scrapy crawl dw`` (through the mirror server on 127.0.0.1), next to
   ``scrapy bench`` run in the same session on the same machine.
2. Times parse + normalise + validate + dedupe + post writing per article in one process
   (CPU time, user + system, best of three), next to ``trafilatura.extract`` on the same pages.
3. Reports the peak memory of the crawl process (``memusage/max`` of its stats).

Goals: crawl ≥ 80 % of scrapy bench's pages/s; CPU per article ≤ 1/3 of trafilatura's.
Results are printed and written to ``benchmarks/out/results.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from newscrawl.archive import Archive, ArchivePipeline
from newscrawl.pipelines import DedupePipeline, normalize_article, validate_article
from newscrawl.sites.dw import SITE
from tests.mirror.build_dw import build
from tests.mirror.demo import scrapy_command
from tests.mirror.server import Mirror, MirrorServer

REPO = Path(__file__).resolve().parents[1]
BENCH_TOPIC = "https://www.dw.com/zh/基准测试/t-69999999"


def scrapy_bench(seconds: int) -> float:
    """pages/s of ``scrapy bench`` (default settings, outside the project)."""
    with tempfile.TemporaryDirectory() as cwd:
        cmd = [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"]
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=seconds + 120)
    log = proc.stderr
    pages = re.search(r"'response_received_count': (\d+)", log)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    if not (pages and elapsed):
        raise RuntimeError(f"scrapy bench printed no stats:\n{log[-3000:]}")
    return int(pages.group(1)) / float(elapsed.group(1))


def crawl_rate(mirror_dir: Path, work: Path) -> dict:
    with MirrorServer([mirror_dir]) as server:
        cmd = scrapy_command("crawl", server.base_url, work, "dw", "-a", f"topics={BENCH_TOPIC}",
                             "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=INFO")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(sorted((work / "dw" / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    stats = report["stats"]
    items = stats.get("item_scraped_count", 0)
    elapsed = float(stats.get("elapsed_time_seconds", wall))
    if proc.returncode != 0 or items < 500:
        raise RuntimeError(f"benchmark crawl failed ({items} items):\n{proc.stderr[-3000:]}")
    return {
        "articles": items,
        "responses": stats.get("response_received_count", 0),
        "elapsed_s": round(elapsed, 2),
        "articles_per_s": round(items / elapsed, 1),
        "pages_per_s": round(stats.get("response_received_count", 0) / elapsed, 1),
        "crawl_cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 2),
        # Scrapy's MemoryUsage extension samples the crawl process's own RSS
        "peak_rss_mib": round(stats.get("memusage/max", 0) / 2**20, 1),
    }


def _cpu_ms(run, pages: int, repeat: int = 3) -> float:
    """Best of ``repeat`` runs, in ms of CPU (user + system) per page."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, (time.process_time() - start) * 1000 / pages)
    return best


def cpu_per_article(mirror_dir: Path, work: Path) -> dict:
    import trafilatura

    mirror = Mirror([mirror_dir])
    pages = [(url, (directory / route["file"]).read_bytes())
             for url, (directory, route) in mirror.routes.items()
             if route.get("file", "").startswith("pages/a-7") and int(route.get("status", 200)) == 200]
    runs = iter(range(100))
    written: list[int] = []

    def ours() -> None:
        """parse + normalise + validate + dedupe + archive writing (post, JSON line, state), into a
        fresh state each run."""
        n = next(runs)
        crawler = get_crawler(settings_dict={"NEWSCRAWL_OUTPUT_DIR": str(work / f"cpu{n}"),
                                             "NEWSCRAWL_STATE_DIR": str(work / f"cpu{n}-state"),
                                             "EXTENSIONS": {"newscrawl.archive.Archive": 0}})
        archive = crawler.get_extension(Archive)
        archive.open("dw")
        dedupe = DedupePipeline.from_crawler(crawler)
        writer = ArchivePipeline.from_crawler(crawler)
        count = 0
        for url, body in pages:
            item = normalize_article(SITE.parse(HtmlResponse(url=url, body=body, encoding="utf-8")).item)
            if validate_article(item) is None:
                writer.process_item(dedupe.process_item(item))
                count += 1
        archive.close()
        written.append(count)

    def theirs() -> None:
        for _, body in pages:
            trafilatura.extract(body.decode("utf-8"), output_format="markdown", include_images=True)

    ours_ms, theirs_ms = _cpu_ms(ours, len(pages)), _cpu_ms(theirs, len(pages))
    return {"pages": len(pages), "written": min(written), "newscrawl_ms": round(ours_ms, 2),
            "trafilatura_ms": round(theirs_ms, 2), "ratio": round(ours_ms / theirs_ms, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=520)
    parser.add_argument("--bench-seconds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        mirror_dir = tmp_path / "mirror"
        build(mirror_dir, extra_articles=args.articles)
        results = {"scrapy_bench_pages_per_s": round(scrapy_bench(args.bench_seconds), 1)}
        results["crawl"] = crawl_rate(mirror_dir, tmp_path / "crawl")
        results["crawl_vs_bench"] = round(results["crawl"]["articles_per_s"]
                                          / results["scrapy_bench_pages_per_s"], 3)
        results["cpu"] = cpu_per_article(mirror_dir, tmp_path)
    out = REPO / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    c, cpu = results["crawl"], results["cpu"]
    print(f"scrapy bench:        {results['scrapy_bench_pages_per_s']} pages/s")
    print(f"newscrawl crawl:     {c['articles_per_s']} articles/s ({c['articles']} articles, "
          f"{c['elapsed_s']} s) = {results['crawl_vs_bench']:.0%} of scrapy bench (goal >= 80%)")
    print(f"CPU per article:     {cpu['newscrawl_ms']} ms parse+pipelines+post vs trafilatura "
          f"{cpu['trafilatura_ms']} ms = {cpu['ratio']:.2f} (goal <= 0.33)")
    print(f"peak memory (crawl): {c['peak_rss_mib']} MiB max RSS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
