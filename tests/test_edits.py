"""Edits over five days of a simulated Epoch Times, on a clock the test controls.

Day 1 archives the site; day 2 brings three new articles and a retitle (the demo's day two);
day 3 edits the text of an article four days after its publication; day 4 brings nothing;
day 5 edits a picture caption of an article a week old. Every edit is caught by the re-check
schedule within one step and becomes exactly one new version, kept with its predecessor and
a diff; the re-checks and sources that did not change cost 304s, not pages.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from newscrawl.state import ArticleStore
from tests.crawl import REPO, crawl
from tests.mirror.server import DAY_TWO, DEFAULT_SITES, MIRROR_ROOT, MirrorServer, default_dirs
from tests.test_archive import snapshot

SOURCES = ("-a", "tags=中美关系,半导体", "-a", "categories=nsc413", "-a", "feed=1")
ET = MIRROR_ROOT / "epochtimes"
ET_URL = "https://www.epochtimes.com/gb/23/3"
TEXT_EDITED = ("n13959702", f"{ET_URL}/14/n13959702.htm", "pages/n13959702-gb.html")
CAPTION_EDITED = ("n13960412", f"{ET_URL}/15/n13960412.htm", "pages/n13960412-gb.html")
OLD_PARAGRAPH_START = "在广州一场大型招聘会上"
NEW_SENTENCE = "（更新：校方周三表示将增加校园招聘场次。）"
OLD_CAPTION = "北京金融街一带的办公楼。"
NEW_CAPTION = "北京金融街一带的写字楼与银行总部。"

#: the schedule the days are laid out on (the day-three edit, at four days of age, falls after the
#: 3-day re-check; with the default's 2-day step it would be caught at 7 days, on day five)
STEPS = "1h,6h,1d,3d,7d,30d"
#: day → (clock, mirror directories)
CLOCKS = {1: "2023-03-16T06:00:00Z", 2: "2023-03-17T06:00:00Z", 3: "2023-03-18T18:00:00Z",
          4: "2023-03-19T18:00:00Z", 5: "2023-03-22T12:00:00Z"}


def overlay(tmp: Path, name: str, edits: list[tuple[str, str, str, str]]) -> Path:
    """A mirror overlay serving edited copies of pages: (url, file, old text, new text)."""
    directory = tmp / name
    (directory / "pages").mkdir(parents=True)
    manifest = {}
    for url, file, old, new in edits:
        text = (ET / file).read_text(encoding="utf-8")
        assert old in text
        (directory / file).write_text(text.replace(old, new, 1), encoding="utf-8")
        manifest[url] = {"file": file, "content_type": "text/html; charset=utf-8"}
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edits")
    out = tmp / "out"
    text_edit = (TEXT_EDITED[1], TEXT_EDITED[2], OLD_PARAGRAPH_START, NEW_SENTENCE + OLD_PARAGRAPH_START)
    caption_edit = (CAPTION_EDITED[1], CAPTION_EDITED[2], OLD_CAPTION, NEW_CAPTION)
    day3 = [*default_dirs(DAY_TWO), overlay(tmp, "day3", [text_edit])]
    day5 = [*default_dirs(DAY_TWO), overlay(tmp, "day5", [text_edit, caption_edit])]
    mirrors = {1: default_dirs(DEFAULT_SITES), 2: default_dirs(DAY_TWO), 3: day3, 4: day3, 5: day5}
    results = {}
    with MirrorServer(mirrors[1]) as server:
        for day, clock in CLOCKS.items():
            server.load(mirrors[day])
            server.hits.clear()
            server.not_modified.clear()
            result = crawl("epochtimes", server.base_url, out, *SOURCES, "-s", f"NEWSCRAWL_CLOCK={clock}",
                           "-s", f"NEWSCRAWL_RECHECK_STEPS={STEPS}")
            assert result.returncode == 0, result.log[-3000:]
            results[day] = (result, Counter(server.hits), Counter(server.not_modified))
    return out, results


def jsonl(directory: Path) -> list[dict]:
    return [json.loads(x) for x in (directory / "articles.jsonl").read_text(encoding="utf-8").splitlines()]


def full_responses(result) -> int:
    return result.stat("downloader/response_status_count/200")


def test_every_day_ends_consistent_with_one_version_per_edit(days):
    out, results = days
    state = snapshot(out, "epochtimes")  # one post and one line per version, state agrees
    versions = Counter(article_id for article_id, _ in state["versions"])
    assert {i: n for i, n in versions.items() if n > 1} == {
        "n13958996": 2,  # retitled on day two
        TEXT_EDITED[0]: 2,  # text edited on day three
        CAPTION_EDITED[0]: 2,  # caption edited on day five
    }
    items = {day: r.report["items"] for day, (r, _, _) in results.items()}
    assert items[2].get("new") == 3 and items[2].get("updated") == 1
    assert items[3].get("updated") == 1 and not items[3].get("new")
    assert not items[4].get("updated") and not items[4].get("new")
    assert items[5].get("updated") == 1 and not items[5].get("new")


def test_an_edit_four_days_after_publication_is_caught_by_the_schedule(days):
    out, results = days
    day3, _, _ = results[3]
    assert day3.stat("newscrawl/incremental/recheck_due") >= 1
    mine = [x for x in jsonl(out / "epochtimes") if x["id"] == TEXT_EDITED[0]]
    assert [x["version"] for x in mine] == [1, 2]
    assert mine[1]["previous_hash"] == mine[0]["content_hash"] != mine[1]["content_hash"]
    assert NEW_SENTENCE in mine[1]["body_markdown"] and NEW_SENTENCE not in mine[0]["body_markdown"]
    # the previous version is kept as it was, with a diff of the changed paragraph
    revisions = out / "epochtimes/_revisions" / TEXT_EDITED[0]
    assert sorted(p.name for p in revisions.iterdir()) == ["v1.md", "v2.diff.md"]
    assert NEW_SENTENCE not in (revisions / "v1.md").read_text(encoding="utf-8")
    diff = (revisions / "v2.diff.md").read_text(encoding="utf-8")
    assert f"{{+{NEW_SENTENCE}+}}" in diff and "## body" in diff
    # the post is the new version and says it was edited
    [post] = [p for p in (out / "epochtimes/_posts").glob("*.md")
              if f"\nid: {TEXT_EDITED[0]}\n" in p.read_text(encoding="utf-8")]
    text = post.read_text(encoding="utf-8")
    assert NEW_SENTENCE in text and "\nversion: 2\n" in text and "## 修订记录" in text
    assert f"- [第 2 版](/epochtimes/revisions/{TEXT_EDITED[0]}/v2/)，" in text  # linked to its page
    assert "第2段有改动" in text  # the paragraph the sentence went into


def test_a_caption_edit_a_week_later_is_a_new_version(days):
    out, _ = days
    mine = [x for x in jsonl(out / "epochtimes") if x["id"] == CAPTION_EDITED[0]]
    assert [x["version"] for x in mine] == [1, 2]
    assert NEW_CAPTION.rstrip("。") in mine[1]["images"][0]["caption"]
    diff = (out / "epochtimes/_revisions" / CAPTION_EDITED[0] / "v2.diff.md").read_text(encoding="utf-8")
    assert "## images" in diff and "## body" in diff  # the caption also shows under the body's figure


def test_what_did_not_change_costs_304s_not_pages(days):
    _, results = days
    for day in (2, 3, 4, 5):
        result, _, not_modified = results[day]
        full = full_responses(result)
        items = result.report["items"]
        changed_articles = items.get("new", 0) + items.get("updated", 0)
        # an ideal crawler fetches robots.txt, the changed feed and listing pages it needs, and
        # the new and changed articles; everything else of ours must be 304s
        listing_200 = full - changed_articles - 1
        ideal = 1 + changed_articles + listing_200
        assert full <= 1.10 * ideal, (day, full, ideal)
        assert sum(not_modified.values()) == result.stat("newscrawl/conditional/not_modified")
    day4, _, _ = results[4]
    # nothing new: robots.txt, the feed, the first listing pages and the due re-checks, and
    # every one but robots.txt answered 304 — but for the article whose picture could not be
    # kept (HTML under a .jpg name): fetched whole, and its picture tried again
    whole = day4.stat("newscrawl/incremental/refetched_for_pictures")
    assert whole == 1 and day4.stat("newscrawl/images/not_image") == 1
    assert full_responses(day4) == 1 + whole + 1
    # (and the picture host's robots.txt, which the mirror does not have: a 404)
    assert day4.stat("newscrawl/conditional/not_modified") == day4.stat("downloader/response_count") \
        - full_responses(day4) - day4.stat("downloader/response_status_count/404") == 9
    assert day4.stat("item_scraped_count") == 0


def test_the_schedule_moves_out_when_unchanged_and_in_when_changed(days):
    out, _ = days
    store = ArticleStore(out / "state" / "newscrawl.sqlite3")
    # changed on day five (2023-03-22 12:00): the next re-check is one first step (1 h) later
    assert store.get("epochtimes", CAPTION_EDITED[0]).next_check == "2023-03-22T13:00:00Z"
    # changed on day three, then unchanged on day four (next: at 7 days of age, 03-21 13:31)
    # and on day five: next at 30 days of age
    edited = store.get("epochtimes", TEXT_EDITED[0])
    assert edited.next_check == "2023-04-13T13:31:44Z"
    assert [h["version"] for h in edited.revisions] == [1, 2] and edited.revisions[1]["changed"] == ["body"]
    # never edited, published 2023-03-07: re-checked at 7 days of age, next at 30 days
    assert store.get("epochtimes", "n13954402").next_check == "2023-04-06T14:15:42Z"


def archive_files(site_dir: Path) -> dict[str, bytes]:
    """Everything an archive publishes, by path: posts, revisions, pictures; the JSON lines
    (written in the order articles complete, which a parallel crawl does not fix) sorted."""
    files = {str(p.relative_to(site_dir)): p.read_bytes()
             for folder in ("_posts", "_revisions", "assets") for p in sorted((site_dir / folder).rglob("*"))
             if p.is_file()}
    lines = (site_dir / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    files["articles.jsonl"] = "\n".join(sorted(lines, key=lambda x: (json.loads(x)["id"],
                                                                      json.loads(x)["version"]))).encode()
    return files


def warc_only_copy(out: Path, copy: Path, spider: str) -> Path:
    """A copy of the archive's WARC files alone: no capture index, CDXJ, state, post or line."""
    folder = copy / spider / "warc"
    folder.mkdir(parents=True)
    for warc in sorted((out / spider / "warc").glob("*.warc.gz")):
        (folder / warc.name).write_bytes(warc.read_bytes())
    return folder


def reparse(copy: Path, spider: str, *args: str):
    from tests.mirror.demo import scrapy_command

    cmd = scrapy_command("reparse", "http://127.0.0.1:9", copy, spider, *args)
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_the_whole_history_is_rebuilt_from_the_warc_files_alone(days, tmp_path):
    """Five days of edits, retitles and 304s, rebuilt by ``scrapy reparse`` from a copy that
    holds only the WARC files: the same posts, revisions, pictures and JSON lines, version
    for version; every line names the capture it came from."""
    out, _ = days
    copy = tmp_path / "copy"
    warc_only_copy(out, copy, "epochtimes")
    rebuilt = reparse(copy, "epochtimes")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert "0 requests sent" in rebuilt.stderr
    want, got = archive_files(out / "epochtimes"), archive_files(copy / "epochtimes")
    assert sorted(got) == sorted(want)
    assert {k for k in want if got[k] != want[k]} == set()
    lines = jsonl(out / "epochtimes")
    assert all(line["capture"]["file"].endswith(".warc.gz") for line in lines)
    assert all(line["capture"]["record"].startswith("<urn:uuid:") for line in lines)
    assert all(line["origin"] == "site" and line["parser"] for line in lines)
    # the capture index was rebuilt from the WARC files; damaged, it is rebuilt again
    index = copy / "epochtimes" / "warc" / "captures.sqlite3"
    assert index.exists()
    index.write_bytes(b"not a database" * 100)
    again = reparse(copy, "epochtimes")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "rebuilding it from the WARC files" in again.stderr
    assert "updated 0" in again.stderr and archive_files(copy / "epochtimes") == got  # nothing to change


def test_the_history_is_rebuilt_in_the_order_written_when_the_clock_stepped_back(tmp_path):
    """The second crawl's clock is two days behind the first's, so its captures are dated
    before the first's: the rebuilt history still ends with the retitle it found, and a
    reparse of the live archive restores nothing stale."""
    out = tmp_path / "out"
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        first = crawl("epochtimes", server.base_url, out, *SOURCES, "-s", f"NEWSCRAWL_CLOCK={CLOCKS[2]}")
        server.load(default_dirs(DAY_TWO))
        second = crawl("epochtimes", server.base_url, out, *SOURCES, "-s", f"NEWSCRAWL_CLOCK={CLOCKS[1]}")
    assert first.returncode == second.returncode == 0, second.log[-3000:]
    retitled = [x for x in jsonl(out / "epochtimes") if x["id"] == "n13958996"]
    assert [x["title"][:4] for x in retitled] == ["【预告】", "【首播】"]
    assert retitled[1]["crawled_at"] < retitled[0]["crawled_at"]  # the clock stepped back
    copy = tmp_path / "copy"
    warc_only_copy(out, copy, "epochtimes")
    rebuilt = reparse(copy, "epochtimes")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert archive_files(copy / "epochtimes") == archive_files(out / "epochtimes")
    # reparsing the live archive: every article is as its latest capture says, nothing new
    same = reparse(out, "epochtimes")
    assert same.returncode == 0 and "updated 0" in same.stderr, same.stderr[-3000:]
    titles = [x["title"][:4] for x in jsonl(out / "epochtimes") if x["id"] == "n13958996"]
    assert titles == ["【预告】", "【首播】"]


def test_a_traditional_script_title_or_a_kicker_is_not_a_retitle():
    from newscrawl.sites import get_site

    dw, et = get_site("dw"), get_site("epochtimes")
    twin, gb = "大學畢業季臨近 青年求職難題再受關注", "大学毕业季临近 青年求职难题再受关注"
    assert et.fold_title(twin) == et.fold_title(gb)
    assert et.fold_title("【首播】芯片之战") != et.fold_title("【预告】芯片之战")  # a real retitle
    assert dw.fold_title("图集图集：从燃煤电厂到美术馆") == dw.fold_title("图集：从燃煤电厂到美术馆")


def test_a_gallery_page_is_requested_once_per_run(tmp_path):
    """The DW mirror has an article whose gallery captions are on the gallery's own page, and
    the topic page also lists that gallery: one request serves both."""
    dw = MIRROR_ROOT / "dw"
    with MirrorServer([dw]) as server:
        result = crawl("dw", server.base_url, tmp_path, "-a", "feed=1", "-a", "topics=t-68199001",
                       "-s", "NEWSCRAWL_RENDER_FALLBACK=0")
        hits = dict(server.hits)
    gallery_hits = {url: n for url, n in hits.items() if "/g-" in url}
    assert gallery_hits and max(gallery_hits.values()) == 1, gallery_hits
    assert result.stat("newscrawl/gallery/completed") >= 1
    ids = [x["id"] for x in jsonl(tmp_path / "dw")]
    assert len(ids) == len(set(ids)) and any(i.startswith("g-") for i in ids)


def test_versions_written_in_process_and_trivial_changes(archive):
    from newscrawl.items import Article
    from newscrawl.pipelines import normalize_article
    from newscrawl.versions import content_hash, exact_hash, word_diff

    def image(caption, credit):
        return {"url": "https://static.dw.com/image/1_6.jpg", "caption": caption, "credit": credit}

    def item(**kw):
        values = dict(site="dw", id="a-9", url="https://www.dw.com/zh/x/a-9", title="标题",
                      published="2023-10-31T14:28:57Z", body_markdown="第一段，内容。\n\n第二段。",
                      source_name="德国之声", lang="zh-Hans",
                      images=[image("说明", "路透社")])
        values.update(kw)
        return normalize_article(Article(**values))

    base = item()
    # whitespace, full-width punctuation and a link's address are trivial; text, captions,
    # credits and authors are not
    assert content_hash(item(body_markdown="第一段, 内容。\n\n\n第二段。 ")) == base.content_hash
    linked = "第一段，内容。\n\n第二段。[链接](https://a.example/{})"
    assert content_hash(item(body_markdown=linked.format("?utm_source=x"))) == content_hash(
        item(body_markdown=linked.format("")))
    assert exact_hash(item(body_markdown="第一段, 内容。\n\n第二段。")) != exact_hash(base)
    for changed in (dict(title="新标题"), dict(body_markdown="第一段。"), dict(authors=["某人"]),
                    dict(images=[image("新说明", "路透社")]), dict(images=[image("说明", "美联社")])):
        assert content_hash(item(**changed)) != base.content_hash, changed
    assert word_diff("欧盟达成协议", "欧盟终于达成新协议") == "欧盟{+终于+}达成{+新+}协议"

    archive.write(base)
    post = next(archive.posts_dir().glob("*.md"))
    trivial = item(body_markdown="第一段, 内容。\n\n第二段。")
    archive.checked(trivial, trivial=True)
    assert "第一段, 内容" in post.read_text(encoding="utf-8")  # the post refreshed in place
    assert len(archive.jsonl_path().read_text(encoding="utf-8").splitlines()) == 1  # no version
    assert archive.state.known("a-9").version == 1
    assert not (archive.revisions_dir() / "a-9").exists()



def test_a_full_text_feed_tells_a_changed_article_without_waiting_for_its_re_check(tmp_path):
    """The Epoch Times feed carries each article's whole text: when it changes there, the
    article is fetched at once (not due yet); when the feed shows it unchanged and its
    re-check is due, the feed stands in for the page."""
    feed_url = "https://www.epochtimes.com/gb/nsc413.xml"
    feed = (ET / "nsc413.xml").read_text(encoding="utf-8")
    old = "中共两会闭幕后不到一"
    assert old in feed
    edited_feed = tmp_path / "feed"
    edited_feed.mkdir()
    (edited_feed / "nsc413.xml").write_text(feed.replace(old, "中共两会闭幕后不足一"), encoding="utf-8")
    route = {"file": "nsc413.xml", "content_type": "application/rss+xml; charset=utf-8"}
    (edited_feed / "manifest.json").write_text(json.dumps({feed_url: route}), encoding="utf-8")
    out = tmp_path / "out"
    only_feed = ("-a", "feed=1")
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        first = crawl("epochtimes", server.base_url, out, *only_feed, "-s", f"NEWSCRAWL_CLOCK={CLOCKS[1]}")
        assert first.stat("newscrawl/items/new") >= 10
        server.load([*default_dirs(DEFAULT_SITES), edited_feed])
        # an hour later nothing is due; the feed's text of one article changed
        changed = crawl("epochtimes", server.base_url, out, *only_feed,
                        "-s", "NEWSCRAWL_CLOCK=2023-03-16T07:00:00Z")
        assert changed.stat("newscrawl/incremental/feed_changed_refetched") == 1
        assert changed.stat("newscrawl/incremental/recheck_due") == 0
        assert changed.stat("newscrawl/requests/article") == 1
        server.load(default_dirs(DEFAULT_SITES))  # the feed changes back (its bytes differ again)
        # a month later every re-check is due: articles the feed shows unchanged are vouched
        # for by it, not fetched (the one whose feed text differs from what was recorded is)
        later = crawl("epochtimes", server.base_url, out, *only_feed,
                      "-s", "NEWSCRAWL_CLOCK=2023-04-20T00:00:00Z")
    assert later.stat("newscrawl/incremental/feed_changed_refetched") == 1
    assert later.stat("newscrawl/incremental/feed_vouched") == later.stat("newscrawl/feed/items") - 1
    assert later.stat("newscrawl/requests/article") == 1  # everything else was vouched for


def test_the_normalised_text_is_nfkc_without_whitespace():
    """The content hash's normalisation (full-width forms replaced before NFKC, for speed) is
    NFKC with every whitespace removed, whatever follows or precedes a full-width form."""
    import random
    import re
    import unicodedata

    from newscrawl.versions import _normalised

    def nfkc(text: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))

    wide = [chr(cp) for cp in (*range(0xFF01, 0xFF5F), 0x3000)]
    marks = ["\u0301", "\u0308", "\u0323", "\u3099", "\u309a", "\u20d2"]
    for char in wide:
        for mark in marks:
            for text in (char + mark, mark + char, "a" + char + mark + "가", "カ" + char + mark):
                assert _normalised(text) == nfkc(text), text
    rng = random.Random(4)
    pool = [*wide, *marks, "가", "ｶ", "ﾞ", "①", "ﬁ", "Å", "e", " ", "\n", "中", "，", "。"]
    for _ in range(3000):
        text = "".join(rng.choices(pool, k=rng.randint(1, 10)))
        assert _normalised(text) == nfkc(text), text
