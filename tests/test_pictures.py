"""Pictures kept with the archive, by real crawls of the mirror (which serves every picture its
pages show: one shared by two pages, one gone, one too large, one HTML under a ``.jpg`` name,
one moved to another host; see tests/mirror/build_pictures.py)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newscrawl.pictures import item_pictures, local_url, picture_path, picture_type, public_host
from newscrawl.sites import get_site
from tests.crawl import CrawlResult, crawl
from tests.mirror import build_pictures
from tests.mirror.server import MIRROR_ROOT, Mirror, MirrorServer, default_dirs
from tests.warc import read_warc, warc_files

CRAWLS = {
    "dw": ("-a", "feed=1", "-a", "topics=t-68199001"),
    "epochtimes": ("-a", "tags=中美关系,半导体", "-a", "categories=nsc413", "-a", "feed=1"),
}
#: the static HTML only: the same crawl with or without a browser on the machine
STATIC = ("-s", "NEWSCRAWL_RENDER_FALLBACK=0")
PICTURE_HOSTS = ("static.dw.com", "i.epochtimes.com", "img.theepochtimes.com")
GONE = "https://static.dw.com/image/67411202_607.jpg"
TOO_LARGE = "https://static.dw.com/image/67102210_607.jpg"


def picture_hits(hits: dict[str, int]) -> dict[str, int]:
    return {url: n for url, n in hits.items() if any(f"//{host}/" in url for host in PICTURE_HOSTS)}


def fetched_url(spider: str, url: str) -> str:
    return get_site(spider).picture_url(url, 1920)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> dict:
    """Both spiders crawled twice (the second run: nothing new) against one mirror."""
    out = tmp_path_factory.mktemp("pictures")
    runs: dict[str, list[CrawlResult]] = {}
    with MirrorServer(default_dirs()) as server:
        for spider, args in CRAWLS.items():
            runs[spider] = [crawl(spider, server.base_url, out, *args, *STATIC)]
        first = dict(server.hits)
        for spider, args in CRAWLS.items():
            runs[spider].append(crawl(spider, server.base_url, out, *args, *STATIC))
        second = dict(server.hits)
    return {"out": out, "runs": runs, "first": first, "second": second}


def lines(out: Path, spider: str) -> list[dict]:
    text = (out / spider / "articles.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def post_texts(out: Path, spider: str) -> dict[str, str]:
    """article id → its post's text."""
    posts = {}
    for path in (out / spider / "_posts").glob("*.md"):
        text = path.read_text(encoding="utf-8")
        posts[re.search(r"^id: (\S+)$", text, re.M).group(1)] = text
    return posts


@pytest.mark.parametrize("spider", CRAWLS)
def test_every_picture_is_kept_under_its_sha256_and_the_post_shows_the_copy(crawled, spider):
    out, runs = crawled["out"], crawled["runs"][spider]
    assert [run.returncode for run in runs] == [0, 0], runs[0].log[-3000:]
    posts = post_texts(out, spider)
    kept, missing = {}, []
    for line in lines(out, spider):
        post = posts[line["id"]]
        for image in item_pictures(line):
            assert "file" in image, line["id"]
            file = image["file"]
            if file is None:
                missing.append(fetched_url(spider, image["url"]))
                assert f"]({image['url']})" in post  # the remote URL stays
                continue
            data = (out / spider / file["path"]).read_bytes()
            assert file["sha256"] == hashlib.sha256(data).hexdigest()
            assert file["bytes"] == len(data) and file["media_type"] == picture_type(data)
            assert file["path"] == picture_path(file["sha256"], file["media_type"])
            assert file["url"] == fetched_url(spider, image["url"])
            shown = local_url(spider, file)
            assert shown == f"/{spider}/{file['path']}"
            assert f"]({shown})" in post and f"]({image['url']})" not in post
            kept[file["sha256"]] = file["path"]
        if line["images"] and line["images"][0]["file"]:
            assert f"\nimage: /{spider}/assets/img/" in post  # the front matter's picture too
    # stored once each, nothing else in the folder
    folder = out / spider / "assets" / "img"
    on_disk = sorted(p.relative_to(out / spider).as_posix() for p in folder.glob("*/*"))
    assert on_disk == sorted(kept.values())
    assert len(kept) >= 25
    stats = runs[0].stats
    assert stats["newscrawl/images/kept"] == len(kept)
    if spider == "dw":
        assert sorted(set(missing)) == sorted([GONE, TOO_LARGE])
        assert stats["newscrawl/images/http_404"] == 1 and stats["newscrawl/images/too_large"] == 1
    else:
        [html] = set(missing)
        assert build_pictures.NOT_AN_IMAGE in html
        assert stats["newscrawl/images/not_image"] == 1
        # the picture that moved to a CDN on another host is kept, under the URL asked for
        moved = [f for line in lines(out, spider) for i in item_pictures(line)
                 if (f := i["file"]) and build_pictures.MOVED in f["url"]]
        assert moved and moved[0]["url"].startswith("https://i.epochtimes.com/")


def test_the_articles_with_failed_pictures_are_archived_with_the_remote_url(crawled):
    out = crawled["out"]
    [article] = [line for line in lines(out, "dw") if line["id"] == "a-68200101"]
    assert [i["file"] is None for i in article["images"]] == [False, True]
    post = post_texts(out, "dw")["a-68200101"]
    assert "](https://static.dw.com/image/67411202_6.jpg)" in post
    runs = crawled["runs"]["dw"]
    assert "Picture not kept: https://static.dw.com/image/67411202_607.jpg (http_404)" in runs[0].log
    assert "Traceback" not in runs[0].log


def test_each_picture_is_fetched_once_and_a_recrawl_fetches_none(crawled):
    first, second = picture_hits(crawled["first"]), picture_hits(crawled["second"])
    assert {k: v for k, v in first.items() if "robots" not in k} == \
        {k: v for k, v in second.items() if "robots" not in k}  # the second runs fetched no picture
    shown = {Mirror.key(fetched_url(spider, image["url"])) for spider in CRAWLS
             for line in lines(crawled["out"], spider) for image in item_pictures(line)}
    moved = [url for url in shown if build_pictures.MOVED in url]
    # every picture the articles show, and the CDN copy of the moved one (reached by redirect),
    # after the picture hosts' robots.txt (as polite as for pages)
    robots = {f"https://{host}/robots.txt" for host in PICTURE_HOSTS}
    assert set(first) - robots == shown | {Mirror.key(build_pictures.CDN + moved[0].rsplit("/", 1)[1])}
    assert robots <= set(first)
    assert all(n == 1 for n in first.values()), {u: n for u, n in first.items() if n != 1}
    assert all(second[url] == 1 for url in robots)  # a run with nothing new fetched no robots.txt
    # a picture two pages show (DW's gallery, embedded in an article) is fetched and stored once
    shows: dict[str, set[str]] = {}
    for line in lines(crawled["out"], "dw"):
        for image in item_pictures(line):
            if image["file"]:
                shows.setdefault(image["file"]["path"], set()).add(line["id"])
    shared = [path for path, ids in shows.items() if len(ids) > 1]
    assert shared
    for run in crawled["runs"]["dw"][1:] + crawled["runs"]["epochtimes"][1:]:
        assert not any(k.startswith("newscrawl/images/") and k not in ("newscrawl/images/held",)
                       for k in run.stats if run.stats[k]), run.stats


@pytest.mark.parametrize("spider", CRAWLS)
def test_every_kept_picture_is_captured_in_warc(crawled, spider):
    out = crawled["out"]
    responses: dict[str, list[str]] = {}
    for path in warc_files(out, spider):
        for record in read_warc(path):
            assert record.digest_ok is not False
            if record.type == "response" and record.status == 200:
                responses.setdefault(record.url, []).append(hashlib.sha256(record.payload).hexdigest())
    for line in lines(out, spider):
        for image in item_pictures(line):
            file = image["file"]
            if file is None:
                continue
            url = file["url"]
            if build_pictures.MOVED in url:  # the 301 is captured, and the picture where it moved
                url = build_pictures.CDN + url.rsplit("/", 1)[1]
            assert file["sha256"] in responses[url], url


def test_a_failed_picture_is_tried_again_by_later_runs_a_few_times(tmp_path):
    """The gone picture comes back: the next run that re-checks its article (whole, not
    conditionally) keeps it and the post shows it; the too-large one is tried three times in
    all, then left alone."""
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "manifest.json").write_text(json.dumps({GONE: {
        "file": str(MIRROR_ROOT / "pictures" / "base" / "street.jpg"), "content_type": "image/jpeg"}}))
    now = datetime.now(UTC)
    out = tmp_path / "out"

    def run(days: int) -> CrawlResult:
        clock = ("-s", f"NEWSCRAWL_CLOCK={(now + timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')}")
        return crawl("dw", server.base_url, out, *CRAWLS["dw"], *STATIC, *clock)

    with MirrorServer(default_dirs()) as server:
        assert run(0).returncode == 0
        server.load([*default_dirs(), fixed])
        again = run(40)  # every article due for its re-check
        assert again.returncode == 0
        assert again.stat("newscrawl/images/kept") == 1 and again.stat("newscrawl/images/too_large") == 1
        assert again.stat("newscrawl/incremental/refetched_for_pictures") >= 2
        post = post_texts(out, "dw")["a-68200101"]
        assert "](https://static.dw.com/image/67411202_6.jpg)" not in post
        assert post.count("](/dw/assets/img/") == 2
        third, fourth = run(80), run(120)
        assert third.stat("newscrawl/images/too_large") == 1
        # three tries in all: the fourth run's re-checks are conditional again, and fetch no picture
        assert fourth.stat("newscrawl/images/too_large") == 0
        assert fourth.stat("newscrawl/incremental/refetched_for_pictures") == 0
        assert server.hits[Mirror.key(TOO_LARGE)] == 3


def test_a_picture_hosts_robots_txt_is_obeyed(tmp_path):
    """The picture host's robots.txt forbids one picture: it is not requested, the run says
    why (``robots_txt``), and its article is archived with the remote URL. (With Scrapy
    2.19's own middleware, a request that waited for the robots.txt beside another got no
    rules and went through: this failed about one run in three.)"""
    overlay = tmp_path / "robots"
    overlay.mkdir()
    (overlay / "robots.txt").write_text("User-agent: *\nDisallow: /image/67411201_\n", encoding="utf-8")
    (overlay / "manifest.json").write_text(json.dumps({"https://static.dw.com/robots.txt": {
        "file": "robots.txt", "content_type": "text/plain"}}), encoding="utf-8")
    forbidden = "https://static.dw.com/image/67411201_607.jpg"
    with MirrorServer([*default_dirs(), overlay]) as server:
        result = crawl("dw", server.base_url, tmp_path / "out", *CRAWLS["dw"], *STATIC)
        assert result.returncode == 0
        # (several pictures of static.dw.com wait for its robots.txt together: each obeys it)
        assert server.hits[Mirror.key(forbidden)] == 0
    assert result.stat("newscrawl/images/robots_txt") == 1
    [article] = [line for line in lines(tmp_path / "out", "dw") if line["id"] == "a-68200101"]
    assert article["images"][0]["file"] is None
    assert "](https://static.dw.com/image/67411201_6.jpg)" in post_texts(tmp_path / "out", "dw")["a-68200101"]


def test_one_picture_at_a_time_keeps_them_all(tmp_path):
    """``NEWSCRAWL_IMAGES_AT_ONCE=1``: each picture waits for the one before to be stored or
    to fail (a permit is given back on every path), and the crawl keeps them all."""
    with MirrorServer(default_dirs()) as server:
        result = crawl("dw", server.base_url, tmp_path, *CRAWLS["dw"], *STATIC,
                       "-s", "NEWSCRAWL_IMAGES_AT_ONCE=1")
    assert result.returncode == 0
    assert result.stat("newscrawl/images/kept") == 47
    assert result.stat("newscrawl/images/http_404") == result.stat("newscrawl/images/too_large") == 1


def test_pictures_off_keeps_the_remote_urls_and_fetches_none(tmp_path):
    with MirrorServer(default_dirs()) as server:
        result = crawl("dw", server.base_url, tmp_path, *CRAWLS["dw"], *STATIC, "-s", "NEWSCRAWL_IMAGES=0")
        assert result.returncode == 0
        assert picture_hits(server.hits) == {}
    assert not (tmp_path / "dw" / "assets").exists()
    for line in lines(tmp_path, "dw"):
        assert all("file" not in image for image in item_pictures(line))
    assert "/assets/img/" not in "".join(post_texts(tmp_path, "dw").values())


# ---- the pieces ------------------------------------------------------------------------
def test_a_picture_is_told_by_its_bytes_not_its_name():
    base = MIRROR_ROOT / "pictures" / "base"
    assert picture_type((base / "harbour.jpg").read_bytes()) == "image/jpeg"
    assert picture_type((base / "chart.png").read_bytes()) == "image/png"
    assert picture_type((base / "field.webp").read_bytes()) == "image/webp"
    assert picture_type(b"GIF89a" + bytes(64)) == "image/gif"
    assert picture_type(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)) == "image/avif"
    for not_kept in ((MIRROR_ROOT / "pictures" / "not-a-picture.html").read_bytes(), b"",
                     b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                     b"\x00\x00\x00\x18ftypmp42" + bytes(64)):
        assert picture_type(not_kept) is None


def test_a_page_cannot_make_the_crawler_fetch_a_machine_of_its_own_network():
    for inside in ("http://169.254.169.254/latest/meta-data/iam.jpg", "http://127.0.0.1:6800/x.jpg",
                   "http://localhost/x.jpg", "http://intranet/x.jpg", "http://[::1]/x.jpg",
                   "http://10.1.2.3/x.jpg", "http://192.168.0.1/x.jpg", "http://[fe80::1]/x.jpg",
                   "http://printer.localhost/x.jpg", "http://[::ffff:127.0.0.1]/x.jpg"):
        assert not public_host(inside), inside
    for outside in ("https://static.dw.com/image/1_607.jpg", "https://i.epochtimes.com/a.jpg",
                    "http://8.8.8.8/x.jpg", "https://[2001:4860:4860::8888]/x.jpg"):
        assert public_host(outside), outside


def test_only_our_own_picture_paths_become_local_urls():
    good = {"path": "assets/img/ab/" + "ab" * 32 + ".jpg"}
    assert local_url("dw", good) == "/dw/assets/img/ab/" + "ab" * 32 + ".jpg"
    for path in ("../../etc/passwd", "assets/img/ab/x.jpg", "javascript:alert(1)", "assets/img/ab/"
                 + "ab" * 32 + ".svg", None):
        assert local_url("dw", {"path": path}) is None
    assert local_url("dw", None) is None and local_url("../x", good) is None


def test_the_largest_size_each_site_offers():
    dw, et = get_site("dw"), get_site("epochtimes")
    assert dw.picture_url("https://static.dw.com/image/67411201_6.jpg", 1920) == \
        "https://static.dw.com/image/67411201_607.jpg"
    assert dw.picture_url("https://static.dw.com/image/67411201_303.jpg", 1200) == \
        "https://static.dw.com/image/67411201_605.jpg"
    assert dw.picture_url("https://example.org/a.jpg", 1920) == "https://example.org/a.jpg"
    assert et.picture_url("https://i.epochtimes.com/assets/uploads/2023/03/id1-a-b-600x400.jpg", 1920) == \
        "https://i.epochtimes.com/assets/uploads/2023/03/id1-a-b.jpg"
    assert et.picture_url("https://i.epochtimes.com/assets/uploads/2023/03/id1.png", 1920) == \
        "https://i.epochtimes.com/assets/uploads/2023/03/id1.png"


def test_reparse_restores_lost_pictures_from_the_warc_files_alone(tmp_path):
    """The WARC files are the proof: with every kept picture deleted, ``scrapy reparse``
    (which sends no request) stores each one again from its capture, byte for byte."""
    from tests.test_reparse import reparse

    out = tmp_path / "out"
    with MirrorServer(default_dirs()) as server:
        assert crawl("dw", server.base_url, out, *CRAWLS["dw"], *STATIC).returncode == 0
    folder = out / "dw" / "assets" / "img"
    kept = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.glob("*/*")}
    assert len(kept) >= 25
    for path in folder.glob("*/*"):
        path.unlink()
    with MirrorServer(default_dirs()) as server:
        result = reparse(server.base_url, out, "dw")
        assert result.returncode == 0, result.stderr[-3000:]
        assert not server.hits, f"reparse sent requests: {dict(server.hits)}"
    assert {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.glob("*/*")} == kept
