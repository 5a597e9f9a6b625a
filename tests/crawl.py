"""Run the real ``scrapy crawl`` against a local mirror server and read back what it wrote."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.mirror.demo import scrapy_command

REPO = Path(__file__).resolve().parents[1]


@dataclass
class CrawlResult:
    returncode: int
    log: str
    report: dict
    out: Path

    @property
    def stats(self) -> dict:
        return self.report["stats"]

    def stat(self, key: str) -> int:
        return self.stats.get(key, 0)

    def posts(self, spider: str = "dw") -> dict[str, tuple[dict, str]]:
        """file name → (front matter, body) of every post."""
        posts = {}
        for path in sorted((self.out / spider / "_posts").glob("*.md")):
            text = path.read_text(encoding="utf-8")
            end = text.index("\n---\n", 4)
            posts[path.name] = (yaml.safe_load(text[4:end]), text[end + 5:])
        return posts

    def jsonl(self, spider: str = "dw") -> list[dict]:
        path = self.out / spider / "articles.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def crawl(spider: str, mirror: str, out: Path, *args: str) -> CrawlResult:
    """``scrapy crawl <spider> <args>`` from the repository root, outputs under ``out``."""
    runs = out / spider / "runs"
    before = set(runs.glob("*.json")) if runs.exists() else set()
    cmd = scrapy_command("crawl", mirror, out, spider, *args, "-s", "LOG_LEVEL=INFO")
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    new = sorted(set(runs.glob("*.json")) - before) if runs.exists() else []
    assert new, f"no run report written; log:\n{proc.stderr[-5000:]}"
    report = json.loads(new[-1].read_text(encoding="utf-8"))
    return CrawlResult(proc.returncode, proc.stderr, report, out)
