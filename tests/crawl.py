"""Run the real ``scrapy crawl`` against a local mirror server and read back what it wrote."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
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
    #: names of the processes seen in the crawl's process tree (with ``watch=True``)
    processes: set[str] = field(default_factory=set)

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


def process_tree_names(pid: int) -> set[str]:
    """The names (``/proc/<pid>/comm``) of ``pid`` and all its descendants now."""
    names, stack = set(), [pid]
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError):
            names.add(Path(f"/proc/{pid}/comm").read_text().strip())
            for task in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    children = Path(f"/proc/{pid}/task/{task}/children").read_text()
                    stack.extend(int(k) for k in children.split())
    return names


def crawl(spider: str, mirror: str, out: Path, *args: str, watch: bool = False,
          env: dict[str, str] | None = None) -> CrawlResult:
    """``scrapy crawl <spider> <args>`` from the repository root, outputs under ``out``;
    ``watch`` polls the crawl's process tree every 10 ms for the processes it starts; ``env``
    adds to the environment."""
    runs = out / spider / "runs"
    before = set(runs.glob("*.json")) if runs.exists() else set()
    cmd = scrapy_command("crawl", mirror, out, spider, *args, "-s", "LOG_LEVEL=INFO")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    seen: set[str] = set()
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.01):
            seen.update(process_tree_names(proc.pid))

    watcher = threading.Thread(target=poll, daemon=True)
    if watch:
        watcher.start()
    try:
        _, stderr = proc.communicate(timeout=300)
    finally:
        done.set()
        proc.kill()
    if watch:
        watcher.join()
    new = sorted(set(runs.glob("*.json")) - before) if runs.exists() else []
    assert new, f"no run report written; log:\n{stderr[-5000:]}"
    report = json.loads(new[-1].read_text(encoding="utf-8"))
    return CrawlResult(proc.returncode, stderr, report, out, seen)


class SchedulerWatch:
    """A test-only extension (``-s EXTENSIONS=`` with :func:`extensions`): the most requests
    that waited in Scrapy's scheduler at once, as the stat ``test/scheduler_max``."""

    def __init__(self, crawler) -> None:
        from scrapy import signals

        self.crawler = crawler
        self.most = 0
        crawler.signals.connect(self.scheduled, signal=signals.request_scheduled)

    @classmethod
    def from_crawler(cls, crawler) -> SchedulerWatch:
        return cls(crawler)

    def scheduled(self) -> None:
        waiting = len(self.crawler.engine.scheduler)
        if waiting > self.most:
            self.most = waiting
            self.crawler.stats.set_value("test/scheduler_max", waiting)


def extensions(*more: str) -> list[str]:
    """``-s EXTENSIONS=…``: the project's extensions and ``more`` (import paths)."""
    from newscrawl import settings

    chosen = {**settings.EXTENSIONS, **dict.fromkeys(more, 0)}
    return ["-s", "EXTENSIONS=" + json.dumps(chosen)]
