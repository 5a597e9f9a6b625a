"""Versions for every visible change: which picture is shown and where links lead count, and
nothing else does; a return to an earlier text says so; diffs show the changed paragraphs
word by word.

Five days of three Epoch Times articles of the mirror, on a clock the test controls:

* the semiconductor article (``SWAPPED``): day 2 adds tracking parameters to a link of its
  body (trivial), day 3 swaps its photo for another under the same caption (version 2), day 4
  re-points that link to another article (version 3), day 5 points it at the other edition of
  that article with a tracking parameter (trivial);
* the hospital article (``KEPT_LATER``), whose photo is HTML under a ``.jpg`` name on day 1
  and a real picture from day 2: kept now, no version;
* the graduates article (``EDITED``): day 2 edits words of one paragraph (version 2), day 3
  restores the text of day 1 (version 3, which says it equals version 1).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.crawl import crawl
from tests.mirror.server import DEFAULT_SITES, MIRROR_ROOT, PICTURES, MirrorServer, default_dirs

ET = MIRROR_ROOT / "epochtimes"
UPLOADS = "https://i.epochtimes.com/assets/uploads/2023/03/"
SWAPPED = ("n13958741", "https://www.epochtimes.com/gb/23/3/12/n13958741.htm", "pages/n13958741-gb.html")
KEPT_LATER = ("n13958377", "https://www.epochtimes.com/gb/23/3/12/n13958377.htm", "pages/n13958377-gb.html")
EDITED = ("n13959702", "https://www.epochtimes.com/gb/23/3/14/n13959702.htm", "pages/n13959702-gb.html")
URLS = ("-a", "urls=" + ",".join(x[1] for x in (SWAPPED, KEPT_LATER, EDITED)))

OLD_PHOTO = "id13958778-shanghai-tech-park"
NEW_PHOTO = "id13961234-shanghai-fab-site"
TAG_LINK = '<a href="https://www.epochtimes.com/gb/tag/%E5%8D%8A%E5%AF%BC%E4%BD%93.html">半导体</a>相关'
TRACKED_LINK = TAG_LINK.replace('.html"', '.html?utm_source=newsletter&amp;utm_medium=email"')
OTHER_ARTICLE = "https://www.epochtimes.com/gb/23/3/14/n13959702.htm"
REPOINTED_LINK = TAG_LINK.replace("https://www.epochtimes.com/gb/tag/%E5%8D%8A%E5%AF%BC%E4%BD%93.html",
                                  OTHER_ARTICLE)
TWIN_LINK = TAG_LINK.replace("https://www.epochtimes.com/gb/tag/%E5%8D%8A%E5%AF%BC%E4%BD%93.html",
                             OTHER_ARTICLE.replace("/gb/", "/b5/") + "?utm_source=x")
HOSPITAL_PICTURE = UPLOADS + "id13958414-hospital-queue-GettyImages-1246011874.jpg"
OLD_WORDS = "她投出的四十多份简历只收到两次面试通知"
NEW_WORDS = "她投出的五十多份简历只收到一次面试通知"

CLOCKS = {1: "2023-03-16T06:00:00Z", 2: "2023-03-17T07:00:00Z", 3: "2023-03-18T08:00:00Z",
          4: "2023-03-19T09:00:00Z", 5: "2023-03-20T10:00:00Z"}
#: day → {page: [(old, new), …]}, and the pictures the day's overlay serves
PAGE_EDITS = {
    2: {SWAPPED: [(TAG_LINK, TRACKED_LINK)], EDITED: [(OLD_WORDS, NEW_WORDS)]},
    3: {SWAPPED: [(TAG_LINK, TRACKED_LINK), (OLD_PHOTO, NEW_PHOTO)]},
    4: {SWAPPED: [(TAG_LINK, REPOINTED_LINK), (OLD_PHOTO, NEW_PHOTO)]},
    5: {SWAPPED: [(TAG_LINK, TWIN_LINK), (OLD_PHOTO, NEW_PHOTO)]},
}
NEW_PICTURES = [HOSPITAL_PICTURE, UPLOADS + NEW_PHOTO + ".jpg"]


def overlay(directory: Path, edits: dict[tuple[str, str, str], list[tuple[str, str]]],
            pictures: list[str]) -> Path:
    """A mirror overlay: edited copies of pages (every occurrence of each old text replaced)
    and real pictures (a base JPEG with bytes of its own) at the given URLs."""
    (directory / "pages").mkdir(parents=True)
    manifest: dict[str, dict] = {}
    for (_, url, file), replacements in edits.items():
        text = (ET / file).read_text(encoding="utf-8")
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new)
        (directory / file).write_text(text, encoding="utf-8")
        manifest[url] = {"file": file, "content_type": "text/html; charset=utf-8"}
    for url in pictures:
        manifest[url] = {"file": str(PICTURES / "base" / "street.jpg"), "content_type": "image/jpeg",
                         "tag": hashlib.sha256(url.encode()).hexdigest()[:16]}
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return directory


def lines(out: Path) -> list[dict]:
    text = (out / "epochtimes/articles.jsonl").read_text(encoding="utf-8")
    return [json.loads(x) for x in text.splitlines()]


def versions(out: Path, article_id: str) -> list[dict]:
    return [x for x in lines(out) if x["id"] == article_id]


def post(out: Path, article_id: str) -> str:
    [found] = [p.read_text(encoding="utf-8") for p in (out / "epochtimes/_posts").glob("*.md")
               if f"\nid: {article_id}\n" in p.read_text(encoding="utf-8")]
    return found


def diff_file(out: Path, article_id: str, version: int) -> str:
    return (out / "epochtimes/_revisions" / article_id / f"v{version}.diff.md").read_text(encoding="utf-8")


def history(out: Path, article_id: str) -> list[dict]:
    with sqlite3.connect(out / "state/newscrawl.sqlite3") as db:
        [(text,)] = db.execute("SELECT history FROM articles WHERE site = 'epochtimes' AND id = ?",
                               (article_id,))
    return json.loads(text)


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("versions")
    out = tmp / "out"
    results = {}
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        for day, clock in CLOCKS.items():
            if day > 1:
                server.load([*default_dirs(DEFAULT_SITES),
                             overlay(tmp / f"day{day}", PAGE_EDITS.get(day, {}), NEW_PICTURES)])
            result = crawl("epochtimes", server.base_url, out, *URLS, "-s", f"NEWSCRAWL_CLOCK={clock}")
            assert result.returncode == 0, result.log[-3000:]
            results[day] = (result, versions(out, SWAPPED[0]), post(out, SWAPPED[0]))
    return out, results


def test_each_visible_change_is_one_version_and_nothing_else_is(days):
    out, results = days
    items = {day: r.report["items"] for day, (r, _, _) in results.items()}
    assert items[1] == {"new": 3}
    assert items[2] == {"updated": 1, "trivial": 2}  # the words; a tracking parameter, a picture kept
    assert items[3].get("updated") == 2  # the photo swap; the return to the first text
    assert items[4].get("updated") == 1  # the re-pointed link
    assert items[5].get("trivial") == 1 and not items[5].get("updated")  # the other edition of it
    assert [x["version"] for x in versions(out, SWAPPED[0])] == [1, 2, 3]
    assert [x["version"] for x in versions(out, KEPT_LATER[0])] == [1]
    assert [x["version"] for x in versions(out, EDITED[0])] == [1, 2, 3]


def test_a_tracking_parameter_on_a_link_refreshes_the_post_and_makes_no_version(days):
    _, results = days
    _, lines_1, post_1 = results[1]
    _, lines_2, post_2 = results[2]
    assert len(lines_2) == len(lines_1) == 1
    assert "utm_source=newsletter" in post_2 and "utm_source" not in post_1  # refreshed in place


def test_a_photo_swap_under_the_same_caption_is_a_version_with_a_readable_diff(days):
    out, results = days
    v1, v2 = versions(out, SWAPPED[0])[:2]
    assert v1["images"][0]["caption"] == v2["images"][0]["caption"]  # the same caption
    assert v1["images"][0]["file"]["sha256"] != v2["images"][0]["file"]["sha256"]  # both kept
    assert v2["previous_hash"] == v1["content_hash"] != v2["content_hash"]
    diff = diff_file(out, SWAPPED[0], 2)
    assert "- changed: 图片\n" in diff and "## pictures (图片)" in diff
    assert "## body" not in diff and "## images" not in diff  # no text changed
    caption = v1["images"][0]["caption"]
    assert f"[-{caption} · 钱卓/大纪元：{UPLOADS}{OLD_PHOTO}-600x400.jpg · sha256 " in diff
    assert f"{{+{caption} · 钱卓/大纪元：{UPLOADS}{NEW_PHOTO}-600x400.jpg · sha256 " in diff
    _, _, post_3 = results[3]
    assert f"- [第 2 版](/epochtimes/revisions/{SWAPPED[0]}/v2/)，2023-03-18 08:00 UTC：图片有改动" in post_3
    assert history(out, SWAPPED[0])[1]["summary"] == "图片"


def test_a_re_pointed_link_is_a_version_and_its_other_edition_is_not(days):
    out, results = days
    v3 = versions(out, SWAPPED[0])[2]
    assert OTHER_ARTICLE in v3["body_markdown"]
    diff = diff_file(out, SWAPPED[0], 3)
    assert "- changed: 链接\n" in diff and "## links (链接)" in diff and "## body" not in diff
    assert "[-「半导体」→ https://www.epochtimes.com/gb/tag/%E5%8D%8A%E5%AF%BC%E4%BD%93.html" \
           "?utm_source=newsletter&utm_medium=email-]" in diff
    assert f"{{+「半导体」→ {OTHER_ARTICLE}+}}" in diff
    assert "中国经济" not in diff  # the body's other link did not change: not shown
    assert "：链接有改动" in post(out, SWAPPED[0])
    # day 5: the same article in traditional script, with a tracking parameter: the post shows
    # the new target, no version
    _, lines_5, post_5 = results[5]
    assert len(lines_5) == 3
    assert OTHER_ARTICLE.replace("/gb/", "/b5/") in post_5


def test_a_picture_kept_after_failing_makes_no_version(days):
    out, results = days
    day1, day2 = results[1][0], results[2][0]
    assert day1.stat("newscrawl/images/not_image") == 1
    assert day2.stat("newscrawl/images/kept") >= 1
    assert day2.stat("newscrawl/versions/same_when_rehashed") == 1  # it is compared by its URL
    [line] = versions(out, KEPT_LATER[0])
    assert line["images"][0]["file"] is None  # the version as archived: not kept then
    text = post(out, KEPT_LATER[0])
    assert "/epochtimes/assets/img/" in text  # the post shows the kept copy now
    assert "修订记录" not in text


def test_an_edit_of_words_shows_only_its_paragraph_word_by_word(days):
    out, _ = days
    v2 = versions(out, EDITED[0])[1]
    diff = diff_file(out, EDITED[0], 2)
    body = diff.split("## body (正文)\n\n```text\n", 1)[1].split("\n```\n", 1)[0]
    paragraphs = [p for p in v2["body_markdown"].split("\n\n") if not p.startswith(("![", "*"))]
    assert len(paragraphs) >= 4
    # the changed paragraph, the end of the one before it and the figure after it as context,
    # nothing of the rest
    shown = body.split("\n\n")
    assert len(shown) == 4 and shown[3] == "⋯"
    assert shown[0].startswith("〔第1段〕…") and paragraphs[0].endswith(shown[0].removeprefix("〔第1段〕…"))
    assert shown[1] == "〔第2段〕" + paragraphs[1].replace(NEW_WORDS, "她投出的[-四-]{+五+}十多份简历只收到"
                                                         "[-两次-]{+一次+}面试通知")
    assert shown[2].startswith("〔图〕*一场招聘会上的求职者。")
    for far in paragraphs[2:]:
        assert far[:20] not in body
    assert "- changed: 第2段\n" in diff
    assert "：第2段有改动" in post(out, EDITED[0])


def test_a_return_to_the_first_text_says_it_equals_version_1(days):
    out, _ = days
    v1, v2, v3 = versions(out, EDITED[0])
    assert v3["content_hash"] == v1["content_hash"] and v3["previous_hash"] == v2["content_hash"]
    diff = diff_file(out, EDITED[0], 3)
    assert "- version 3 shows the same as version 1 (与第 1 版相同)" in diff
    assert "{+四+}" in diff.replace("[-五-]", "")  # and what changed back
    text = post(out, EDITED[0])
    assert f"- [第 3 版](/epochtimes/revisions/{EDITED[0]}/v3/)，2023-03-18 08:00 UTC：" in text
    assert "（与第 1 版相同）" in text
    entries = history(out, EDITED[0])
    assert [e.get("equals") for e in entries] == [None, None, 1]


def test_an_archive_of_the_old_hash_scheme_sees_no_change(tmp_path):
    """An archive written before pictures and links counted (its state and JSON lines hold
    hashes of text alone): after the upgrade, its unchanged articles are no new versions."""
    from newscrawl.versions import _normalised, reader_text

    def old_scheme(line: dict) -> str:
        text = "\x1f".join(f"{k}\x1e{_normalised(v)}" for k, v in reader_text(line).items())
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    out = tmp_path / "out"
    with MirrorServer(default_dirs(DEFAULT_SITES)) as server:
        first = crawl("epochtimes", server.base_url, out, *URLS, "-s", f"NEWSCRAWL_CLOCK={CLOCKS[1]}")
        assert first.returncode == 0 and first.report["items"] == {"new": 3}
        # as the old newscrawl wrote it: every hash of the old scheme, in lines and state
        path = out / "epochtimes/articles.jsonl"
        old_lines = []
        with sqlite3.connect(out / "state/newscrawl.sqlite3") as db:
            for line in lines(out):
                old, line["content_hash"] = line["content_hash"], old_scheme(line)
                assert old != line["content_hash"]
                db.execute("UPDATE articles SET content_hash = ? WHERE site = 'epochtimes' AND id = ?",
                           (line["content_hash"], line["id"]))
                old_lines.append(json.dumps(line, ensure_ascii=False) + "\n")
            db.execute("DELETE FROM validators")  # the pages are fetched whole and parsed again
        before = "".join(old_lines)
        path.write_text(before, encoding="utf-8")
        again = crawl("epochtimes", server.base_url, out, *URLS, "-s", f"NEWSCRAWL_CLOCK={CLOCKS[2]}")
    assert again.returncode == 0, again.log[-3000:]
    assert again.stat("newscrawl/versions/same_when_rehashed") == 3
    assert again.report["items"] == {"unchanged": 3}
    assert path.read_text(encoding="utf-8") == before


# ---- the functions ----------------------------------------------------------------------------

def _item(**kw):
    from newscrawl.items import Article
    from newscrawl.pipelines import normalize_article

    values = dict(site="epochtimes", id="n1", url="https://www.epochtimes.com/gb/23/3/1/n1.htm", title="标题",
                  published="2023-03-01T10:00:00Z", lang="zh-Hans", source_name="大纪元",
                  body_markdown="第一段，北京金融街一带的办公楼。\n\n第二段，[半导体](https://www.epochtimes.com/gb/"
                                "tag/x.html)企业减少。\n\n第三段。",
                  images=[{"url": f"{UPLOADS}id1-street-600x400.jpg", "caption": "说明", "credit": None}])
    values.update(kw)
    return normalize_article(Article(**values))


def _kept(item, url: str, sha: str):
    item.images[0]["file"] = {"url": url, "sha256": sha, "path": f"assets/img/{sha[:2]}/{sha}.jpg",
                              "bytes": 1, "media_type": "image/jpeg"}
    return item


def test_word_diff_marks_whole_chinese_words():
    from newscrawl.versions import word_diff

    assert word_diff("北京金融街一带的办公楼", "北京金融街的银行总部大楼") == \
        "北京金融街[-一带-]的[-办公楼-]{+银行总部大楼+}"
    assert word_diff("据路透社报道，美国商务部周五宣布新的出口管制措施。",
                     "据美联社报道，美国商务部周四宣布了新的出口管制措施，涉及28家中国实体。") == \
        "据[-路透社-]{+美联社+}报道，美国商务部[-周五-]{+周四+}宣布{+了+}新的出口管制措施{+，涉及28家中国实体+}。"
    assert word_diff("开采项目最长27个月", "开采项目最长24个月") == "开采项目最长[-27-]{+24+}个月"
    assert word_diff("欧盟达成协议", "欧盟终于达成新协议") == "欧盟{+终于+}达成{+新+}协议"
    assert word_diff("同样的文字。", "同样的文字。") == "同样的文字。"
    assert word_diff("", "新的一段。") == "{+新的一段。+}"


def test_what_counts_for_the_content_hash():
    from newscrawl.versions import content_hash, same_content

    base = _item()
    tag = "https://www.epochtimes.com/gb/tag/x.html"
    body = base.body_markdown
    trivial = [
        dict(body_markdown=body.replace(tag, tag + "?utm_source=a&utm_campaign=b")),  # tracking
        dict(body_markdown=body.replace(tag, "https://www.epochtimes.com/b5/tag/x.html#top")),  # edition
        dict(images=[{"url": f"{UPLOADS}id1-street.jpg", "caption": "说明", "credit": None}]),  # a size
    ]
    for change in trivial:
        assert content_hash(_item(**change)) == base.content_hash, change
    article = body.replace(tag, "https://www.epochtimes.com/gb/23/3/2/n2.htm")
    assert content_hash(_item(body_markdown=article)) != base.content_hash  # re-pointed
    assert content_hash(_item(body_markdown=article.replace("/gb/", "/b5/") + " ")) == \
        content_hash(_item(body_markdown=article))  # the other edition of that article
    swapped = _item(images=[{"url": f"{UPLOADS}id2-bank-600x400.jpg", "caption": "说明", "credit": None}])
    assert content_hash(swapped) != base.content_hash
    # kept now, failed before: the same picture by its URL, not a change
    kept = _kept(_item(), f"{UPLOADS}id1-street.jpg", "ab" * 32)
    assert content_hash(kept) != base.content_hash and same_content(base, kept) and same_content(kept, base)
    # kept from another size: the same; other bytes from the same URL: another picture
    assert same_content(kept, _kept(_item(), f"{UPLOADS}id1-street-1200x800.jpg", "cd" * 32))
    assert not same_content(kept, _kept(_item(), f"{UPLOADS}id1-street.jpg", "cd" * 32))
    assert not same_content(base, _kept(swapped, f"{UPLOADS}id2-bank.jpg", "ab" * 32))


def test_dw_pictures_are_one_picture_in_every_format():
    from newscrawl.sites import get_site

    dw = get_site("dw")
    formats = ("6", "302", "607")
    assert {dw.picture_identity(f"https://static.dw.com/image/67411201_{f}.jpg") for f in formats} \
        == {"https://static.dw.com/image/67411201"}
    assert dw.picture_identity("https://static.dw.com/image/67411202_6.jpg") != \
        dw.picture_identity("https://static.dw.com/image/67411201_6.jpg")
    assert dw.link_identity("https://www.dw.com/zh/x/a-123?maca=zh-rss&utm_source=y") == "dw:a-123" == \
        dw.link_identity("http://dw.com/zh/other-slug/a-123")


def test_the_summary_and_the_diff_of_several_changes():
    from newscrawl.versions import compare, diff_markdown

    paragraphs = ["第一段。", "第二段没有变。", "第三段，北京金融街一带的办公楼。", "第四段没有变。",
                  "第五段没有变，" + "很长的一段文字" * 10 + "。", "第六段。"]
    old = _item(body_markdown="\n\n".join(paragraphs))
    edited = paragraphs.copy()
    edited[2] = "第三段，北京金融街的银行总部大楼。"
    edited[5] = "第六段，补充了一句。"
    new = _item(title="新标题", body_markdown="\n\n".join(edited),
                images=[{"url": f"{UPLOADS}id2-bank-600x400.jpg", "caption": "说明", "credit": None}])
    changes = compare(old, new)
    assert changes.fields == ["title", "body", "pictures"]
    assert changes.summary == "标题、第3、6段、图片"
    diff = diff_markdown(old, new, 1, 2, changes=changes)
    body = diff.split("## body (正文)\n\n```text\n", 1)[1].split("\n```\n", 1)[0]
    assert body.split("\n\n") == [
        "⋯",
        "〔第2段〕第二段没有变。",
        "〔第3段〕第三段，北京金融街[-一带-]的[-办公楼-]{+银行总部大楼+}。",
        "〔第4段〕第四段没有变。",
        "〔第5段〕…" + ("很长的一段文字" * 10 + "。")[-40:],
        "〔第6段〕第六段{+，补充了一句+}。",
    ]
    assert "## title (标题)\n\n```text\n{+新+}标题\n```" in diff
    assert f"[-说明：{UPLOADS}id1-street-600x400.jpg-]\n{{+说明：{UPLOADS}id2-bank-600x400.jpg+}}" in diff
    assert "第一段" not in body  # no context beyond the paragraph next to a change
    # a paragraph deleted, one inserted
    fewer = _item(body_markdown="\n\n".join([paragraphs[0], "全新的一段，讲别的事情。", *paragraphs[2:5]]))
    assert compare(old, fewer).summary == "第2段、删去原第2、6段"


def test_old_history_entries_stay_readable():
    from newscrawl.posts import revisions_markdown

    text = revisions_markdown([{"version": 1, "crawled": "2023-03-01T00:00:00Z", "changed": []},
                               {"version": 2, "crawled": "2023-03-02T00:00:00Z",
                                "changed": ["title", "body"]},
                               {"version": 3, "crawled": "2023-03-03T00:00:00Z", "changed": ["body"],
                                "summary": "第3段", "equals": 1, "hash": "x"}], "zh-Hans")
    assert text.splitlines()[2:] == ["- 第 1 版，2023-03-01 00:00 UTC：首次存档",
                                     "- 第 2 版，2023-03-02 00:00 UTC：标题、正文有改动",
                                     "- 第 3 版，2023-03-03 00:00 UTC：第3段有改动（与第 1 版相同）",
                                     "{: .timeline}"]
