"""Run reports: every crawl leaves ``<NEWSCRAWL_OUTPUT_DIR>/<spider>/runs/<UTC time>.json``.

The report holds the finish reason and the crawl stats (requests, responses by status,
new/updated/unchanged items, drops by reason, ...), so a scheduled crawl can be checked
after the fact and tests can read what a real ``scrapy crawl`` did.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl.files import write_atomic


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class RunReport:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.output_dir = Path(crawler.settings.get("NEWSCRAWL_OUTPUT_DIR"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReport:
        if not crawler.settings.getbool("NEWSCRAWL_RUN_REPORTS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = {k: _plain(v) for k, v in sorted(self.crawler.stats.get_stats().items())}
        report = {"spider": spider.name, "finish_reason": reason, "stats": stats}
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S-%fZ")
        path = self.output_dir / spider.name / "runs" / f"{stamp}.json"
        write_atomic(path, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        spider.logger.info("Run report: %s", path)
