"""Start-up cost: what ``scrapy list`` and a ``scrapy crawl dw`` that has nothing to render,
replay or segment import. Scrapy imports every spider module, every command module and
every component named in the settings for any command, so a heavy import anywhere on those
paths is paid by every crawl (``make bench``'s fixed-cost figure)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import DW_MIRROR, spider_names
from tests.crawl import REPO
from tests.mirror.demo import scrapy_command
from tests.mirror.server import MirrorServer

#: imported only by what needs them: Epoch Times bylines (rjieba), Scrapy's remote control
#: (aiohttp; the extension is out of EXTENSIONS_BASE), the browser; and tldextract with
#: requests, which Scrapy's cookie middleware imports (cookies are off, the middleware is
#: not loaded: middlewares.CookiesAddon) and surt imports (given a stand-in: warc._surt);
#: pyarrow, for ``scrapy export`` only; numpy's random and masked arrays, which signing an
#: article for the near-duplicate index does not need (newscrawl.related: 3.7 MB resident)
NOT_IN_A_CRAWL = ("rjieba", "aiohttp", "playwright", "scrapy_playwright",
                  "scrapy.downloadermiddlewares.cookies", "tldextract", "tldextract.tldextract",
                  "requests", "urllib3", "pyarrow", "numpy.random", "numpy.ma")
#: ... and what only writing a post (PyYAML) or crawlall's config (tomllib) needs
NOT_WITHOUT_NEWS = (*NOT_IN_A_CRAWL, "yaml", "tomllib")
#: ... and the CDXJ of a closed WARC file (surt)
NOT_AT_START = (*NOT_WITHOUT_NEWS, "surt")


def imported(cmd: list[str]) -> tuple[set[str], subprocess.CompletedProcess]:
    """The modules the command imports (``python -X importtime``), and its outcome."""
    assert cmd[0] == sys.executable
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:") and line.count("|") == 2}
    assert "scrapy" in modules, proc.stderr[-3000:]
    return modules, proc


def test_scrapy_list_imports_nothing_heavy():
    modules, proc = imported([sys.executable, "-m", "scrapy", "list"])
    assert proc.returncode == 0
    assert proc.stdout.split() == spider_names()
    assert sorted(modules & set(NOT_AT_START)) == []


@pytest.mark.parametrize("spider, args", [("dw", ("-a", "topics=t-68199001"))])
def test_a_crawl_imports_only_what_it_uses(tmp_path, spider, args):
    with MirrorServer([DW_MIRROR]) as server:
        modules, proc = imported(scrapy_command("crawl", server.base_url, tmp_path, spider, *args,
                                                "-s", "NEWSCRAWL_RENDER_FALLBACK=0"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "newscrawl.archive" in modules  # it did crawl
    assert "surt" in modules  # and wrote the CDXJ of its WARC file
    assert "numpy" in modules  # and signed its articles (numpy, for that only)
    assert sorted(modules & set(NOT_IN_A_CRAWL)) == []


def test_a_re_crawl_with_nothing_new_imports_no_yaml(tmp_path):
    """The fixed cost of an hourly run that finds nothing: no post is written, so PyYAML
    (~0.02 s) is not imported; the first crawl, which writes posts, does import it."""
    args = ("-a", "topics=t-68199001", "-s", "NEWSCRAWL_RENDER_FALLBACK=0")
    with MirrorServer([DW_MIRROR]) as server:
        first, proc = imported(scrapy_command("crawl", server.base_url, tmp_path, "dw", *args))
        assert proc.returncode == 0, proc.stderr[-3000:]
        again, proc = imported(scrapy_command("crawl", server.base_url, tmp_path, "dw", *args))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "yaml" in first
    assert "newscrawl.archive" in again
    assert sorted(again & set(NOT_WITHOUT_NEWS)) == []


def run_fresh(script: str) -> dict:
    """What ``script`` prints as JSON, run in a fresh interpreter (nothing imported yet)."""
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


HTTP11_IMPORT = """
import inspect, json
calls = []
original = inspect.stack
def counted(*args, **kwargs):
    calls.append(1)
    return original(*args, **kwargs)
inspect.stack = counted
from newscrawl.transport import http11_handler_class
handler = http11_handler_class()
from scrapy.core.downloader import contextfactory, tls
print(json.dumps({
    "handler": f"{handler.__module__}.{handler.__name__}",
    "inspect_stack_calls": len(calls),
    "restored": inspect.stack is counted,
    "modules": [tls.ScrapyClientTLSOptions.__module__,
                contextfactory.ScrapyClientContextFactory.__module__,
                contextfactory.AcceptableProtocolsContextFactory.__module__],
}))
"""


def test_scrapys_tls_modules_are_imported_without_a_full_inspect_stack():
    """Scrapy's TLS modules call ``create_deprecated_class``, which calls ``inspect.stack()``
    for the caller's frame: 65–116 ms of a crawl's start-up (see transport.py). Imported
    through ``http11_handler_class``, that full walk is not made, Scrapy still names each
    deprecated class after the module that made it (the caller frame it got is right), and
    ``inspect.stack`` is the original again afterwards."""
    assert run_fresh(HTTP11_IMPORT) == {
        "handler": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
        "inspect_stack_calls": 0,
        "restored": True,
        "modules": ["scrapy.core.downloader.tls", "scrapy.core.downloader.contextfactory",
                    "scrapy.core.downloader.contextfactory"],
    }


SURT_STAND_IN = """
import json, sys
from newscrawl.warc import _surt
key = _surt()("https://www.DW.com/zh/%E6%96%87/a-1?b=2&a=1")
before = sorted(m for m in ("tldextract.tldextract", "requests") if m in sys.modules)
handyurl = sys.modules["surt.handyurl"]
extract = handyurl.tldextract.TLDExtract  # surt's public-suffix methods use it so
import tldextract.tldextract
print(json.dumps({"key": key, "before": before, "forwarded": extract is tldextract.tldextract.TLDExtract,
                  "real": type(sys.modules["tldextract"]).__name__}))
"""


def test_surt_gets_a_stand_in_for_tldextract_that_imports_it_at_first_use():
    assert run_fresh(SURT_STAND_IN) == {"key": "com,dw)/zh/%e6%96%87/a-1?a=1&b=2", "before": [],
                                        "forwarded": True, "real": "module"}


def test_a_crawl_starts_no_child_process(tmp_path):
    """A crawl with nothing to render starts no process: each would be forked from the crawl,
    a copy of it that a process tree's peak memory counts again (Scrapy's start-up log asked
    ``platform.platform()``, which runs ``uname -p``). Python's audit events see every one."""
    hook = ("import sys\n"
            "def audit(event, args):\n"
            "    if event in ('subprocess.Popen', 'os.fork', 'os.posix_spawn', 'os.exec'):\n"
            "        print('CHILD', event, args[:2], file=sys.stderr, flush=True)\n"
            "sys.addaudithook(audit)\n"
            "from scrapy.cmdline import execute\n"
            "sys.argv[0] = 'scrapy'\n"
            "execute()\n")
    with MirrorServer([DW_MIRROR]) as server:
        cmd = scrapy_command("crawl", server.base_url, tmp_path, "dw", "-a", "topics=t-68199001",
                             "-s", "NEWSCRAWL_RENDER_FALLBACK=0")
        proc = subprocess.run([cmd[0], "-c", hook, *cmd[3:]], cwd=REPO, capture_output=True, text=True,
                              timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Versions:" in proc.stderr  # Scrapy's start-up line, without the platform
    assert [line for line in proc.stderr.splitlines() if line.startswith("CHILD")] == []
