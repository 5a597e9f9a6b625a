"""Shared fixtures: the bundled DW mirror pages and their expected values."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from tests.mirror.server import MIRROR_ROOT

DW_MIRROR = MIRROR_ROOT / "dw"


def spider_names() -> list[str]:
    """The project's spiders as Scrapy finds them (a site added by adding files is among them)."""
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    return sorted(get_spider_loader(get_project_settings()).list())


#: ``dw, epochtimes``: the spider list as the commands print it
SPIDER_LIST = ", ".join(spider_names())


def load_manifest(directory: Path = DW_MIRROR) -> dict:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def page_url(file: str, directory: Path = DW_MIRROR) -> str:
    """The real URL a mirror page is served at (its canonical 200 route)."""
    for url, route in load_manifest(directory).items():
        if route.get("file") == file and int(route.get("status", 200)) == 200:
            return url
    raise KeyError(file)


def response_for(file: str, url: str | None = None, directory: Path = DW_MIRROR) -> HtmlResponse:
    body = (directory / file).read_bytes()
    return HtmlResponse(url=url or page_url(file, directory), body=body, encoding="utf-8")


def check_body(body: str, want: dict) -> None:
    """A Markdown body against a page's expected values (both mirrors' expected.json)."""
    if want.get("body_first_paragraph"):
        paragraphs = [p for p in body.split("\n\n") if not p.startswith(("![", "*"))]
        assert paragraphs[0] == want["body_first_paragraph"]
    for junk in want.get("body_must_not_contain", []):
        assert junk not in body, junk
    for kept in want.get("body_must_contain", []):
        assert kept in body, kept
    assert [line[3:] for line in body.splitlines() if line.startswith("## ")] == want.get("body_headings", [])
    assert "<script" not in body


def without_files(value):
    """An item's value (image list, gallery…) without the kept pictures' ``file`` keys: what
    a page parser gives, to compare with a page's expected values."""
    if isinstance(value, dict):
        return {k: without_files(v) for k, v in value.items() if k != "file"}
    if isinstance(value, list):
        return [without_files(v) for v in value]
    return value


def project_settings(tmp: Path, **overrides) -> dict:
    """The project's settings (newscrawl/settings.py), outputs and state under ``tmp``."""
    from newscrawl import settings

    values = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
    values.update(NEWSCRAWL_OUTPUT_DIR=str(tmp / "out"), NEWSCRAWL_STATE_DIR=str(tmp / "state"))
    values.update(overrides)
    return values


@pytest.fixture
def archive(tmp_path: Path):
    """The ``dw`` archive (outputs and state under ``tmp_path``), opened as a crawl opens it."""
    from scrapy.utils.test import get_crawler

    from newscrawl.archive import ArchiveExtension

    crawler = get_crawler(settings_dict=project_settings(tmp_path))
    extension = crawler.get_extension(ArchiveExtension)
    yield extension.open("dw")
    extension.close()


@pytest.fixture(scope="session")
def dw_expected() -> dict:
    return json.loads((DW_MIRROR / "expected.json").read_text(encoding="utf-8"))


@contextlib.contextmanager
def made_once(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """A folder ``name`` made once per test run, shared by the ``pytest -n`` workers: yields
    (folder, whether to make it now); the first worker to come makes it while the others
    wait on a lock, then find it done (``.done``). Under one process, its own temp folder.
    What is made there must be read, never changed (copy it to change it)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # popen-gw<N>/ in the run's own pytest-<M>/
        base = base.parent
    folder = base / name
    folder.mkdir(exist_ok=True)
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = folder / ".done"
            yield folder, not done.exists()
            done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory) -> Path:
    """What ``make demo`` writes, run once as a new user would: ``python -m tests.mirror.demo``
    from a folder of its own, with the default output (``output/demo``). Returns that folder.
    Made once for all the workers of a run (:func:`made_once`): read it, do not change it."""
    from tests.crawl import REPO

    with made_once(tmp_path_factory, "demo-home") as (home, make):
        if make:
            env = dict(os.environ, PYTHONPATH=str(REPO), SCRAPY_SETTINGS_MODULE="newscrawl.settings")
            result = subprocess.run([sys.executable, "-m", "tests.mirror.demo"], cwd=home, env=env,
                                    capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
            assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
            (home / "demo-stdout.txt").write_text(result.stdout, encoding="utf-8")
            (home / "demo-stderr.txt").write_text(result.stderr, encoding="utf-8")
    return home / "output" / "demo"
