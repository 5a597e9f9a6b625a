"""Pages that need JavaScript, rendered by real chromium through scrapy-playwright.

A local mirror holds a DW-shaped page whose article body is inserted by a script, one whose
script never arrives (the browser must give up), and an ordinary server-rendered article.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import DW_MIRROR
from tests.crawl import crawl
from tests.mirror.server import MirrorServer

#: the browser the crawls use (newscrawl/settings.py reads the same variable): set it to a
#: path that does not exist to run the suite as on a machine without chromium
CHROMIUM = Path(os.environ.get("NEWSCRAWL_CHROMIUM_PATH") or "/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"needs a browser at {CHROMIUM} (Debian's chromium; .ci/run installs it)")

SHELL = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{title} – DW</title>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{title}","datePublished":"2024-05-02T08:30:11.000Z","author":[{{"@type":"Person","name":"石川"}}]}}
</script>{head}</head>
<body><div id="root"><article><header><h1>{title}</h1></header>
<div class="rich-text"></div></article></div>
<img src="https://static.dw.com/image/1_6.jpg" alt="">
{body}</body></html>"""

FILL = """<script>
setTimeout(function () {
  document.querySelector(".rich-text").innerHTML =
    "<p>（德国之声中文网）这段正文由脚本在页面加载后插入，服务器返回的只是一个空壳。</p>" +
    "<h2>第二部分</h2><p>只有浏览器执行脚本之后，存档程序才能看到完整的文章。</p>";
}, 50);
</script>"""

JS_URL = "https://www.dw.com/zh/脚本生成的文章/a-69000001"
SLOW_URL = "https://www.dw.com/zh/永远等不到的文章/a-69000002"
PLAIN_URL = "https://www.dw.com/zh/a-68200101"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    """The bundled DW mirror plus two pages that need JavaScript."""
    root = tmp_path_factory.mktemp("js-mirror")
    shutil.copytree(DW_MIRROR, root / "dw")
    extra = root / "js"
    (extra / "pages").mkdir(parents=True)
    (extra / "pages/js.html").write_text(
        SHELL.format(title="由脚本生成的文章", head="", body=FILL), encoding="utf-8")
    (extra / "pages/slow.html").write_text(
        SHELL.format(title="永远等不到的文章", head='<script src="slow.js"></script>', body=FILL),
        encoding="utf-8")
    manifest = {
        JS_URL: {"file": "pages/js.html", "content_type": "text/html; charset=utf-8"},
        SLOW_URL: {"file": "pages/slow.html", "content_type": "text/html; charset=utf-8"},
        "https://www.dw.com/zh/永远等不到的文章/slow.js": {"delay": 10, "file": "pages/js.html"},
    }
    (extra / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return root


def run(mirror: Path, out: Path, urls: list[str], *settings: str, watch: bool = False):
    # the project's render timeout (20 s): a page that renders gets it under any load (3 s
    # were once too few for the first page a cold chromium renders while the suite ran)
    with MirrorServer([mirror / "dw", mirror / "js"]) as server:
        return crawl("dw", server.base_url, out, "-a", "urls=" + ",".join(urls), *settings, watch=watch)


@needs_chromium
def test_a_page_built_by_script_is_archived_through_the_browser(mirror, tmp_path):
    result = run(mirror, tmp_path, [JS_URL, PLAIN_URL], watch=True)
    # the driver and the browser start when a page needs them (and are seen when they do)
    assert {"node", "chromium"} <= {name[:8].split("-")[0] for name in result.processes}, result.processes
    [line] = [x for x in result.jsonl() if x["id"] == "a-69000001"]
    assert line["rendered"] is True
    assert line["body_markdown"].startswith("（德国之声中文网）这段正文由脚本")
    assert "## 第二部分" in line["body_markdown"]
    assert line["authors"] == ["石川"] and line["published"] == "2024-05-02T08:30:11Z"
    [plain] = [x for x in result.jsonl() if x["id"] == "a-68200101"]
    assert plain["rendered"] is False
    assert result.stat("newscrawl/rendered/fallback") == 1
    assert result.stat("newscrawl/rendered/pages") == 1
    assert result.stat("playwright/page_count/closed") == result.stat("playwright/page_count")
    assert result.stat("playwright/request_count/aborted") >= 1  # the image never loads
    assert result.report["rendered_pages"] == 1


def test_ordinary_pages_never_start_the_browser(mirror, tmp_path):
    """Not the browser, nor Playwright's node driver: both start at the first page that
    needs rendering (there is none here), not when the crawl starts."""
    result = run(mirror, tmp_path, [PLAIN_URL, "https://www.dw.com/zh/a-68200102"], watch=True)
    assert result.stat("item_scraped_count") == 2
    assert "python" in {name[:6] for name in result.processes}  # the watch saw the crawl
    # node names its main thread, and so its process, "node-MainThread"
    assert not any(name.startswith(("node", "chromium")) for name in result.processes), result.processes
    assert "Starting download handler" not in result.log  # scrapy-playwright's start-up line
    assert result.stat("playwright/browser_count") == 0
    assert result.stat("newscrawl/rendered/requests") == 0


@needs_chromium
def test_a_page_that_never_renders_times_out_and_is_dropped(mirror, tmp_path):
    result = run(mirror, tmp_path, [SLOW_URL, PLAIN_URL], "-s", "NEWSCRAWL_RENDER_TIMEOUT=3")
    assert result.stat("newscrawl/dropped/render_timeout") == 1
    assert result.stat("item_scraped_count") == 1  # the rest of the crawl goes on
    assert result.stat("playwright/page_count/closed") == result.stat("playwright/page_count")
    assert result.report["finish_reason"] == "finished"


def test_without_a_browser_only_the_pages_that_need_one_fail(mirror, tmp_path):
    result = run(mirror, tmp_path, [JS_URL, PLAIN_URL], "-s", "NEWSCRAWL_CHROMIUM_PATH=/nonexistent/chromium")
    assert result.stat("newscrawl/dropped/render_unavailable") == 1
    assert result.stat("item_scraped_count") == 1
    assert "no browser at /nonexistent/chromium" in result.log
    assert "apt-get install chromium" in result.log


@needs_chromium
def test_urls_matching_render_patterns_are_rendered_from_the_start(mirror, tmp_path):
    """A slugless URL redirects to the canonical one: the browser follows it inside the mirror."""
    result = run(mirror, tmp_path, ["https://www.dw.com/zh/a-68200101"], "-s", "NEWSCRAWL_RENDER_URLS=/a-")
    [line] = result.jsonl()
    assert line["rendered"] is True and line["id"] == "a-68200101"
    assert line["url"].startswith("https://www.dw.com/zh/%E6%AC%A7%E7%9B%9F")  # the real, final URL
    assert result.stat("newscrawl/rendered/fallback") == 0  # asked for, not a fallback
