"""Every version readable on the site (newscrawl/website_versions.py): the diff of two versions
rendered as HTML with only our own markup whatever the page said, the post's timeline, the
lead said once, the previous and next post of a source. The pages themselves, built by Jekyll
and read in chromium, are tested in tests/test_website.py."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from newscrawl.markdown import escape_text
from newscrawl.posts import lead_in_body, render_post, revisions_markdown
from newscrawl.versions import diff_markdown
from newscrawl.website_versions import (
    _post_keys,
    diff_html,
    jekyll_slug,
    neighbours,
    parse_diff,
    post_url,
    read_posts,
    reader_time,
    revision_url,
)
from tests.test_posts import HOSTILE_TITLES, make_item, split_post

HOSTILE = ['<script>alert(1)</script>', "{{ site.title }}", "{% include x.html %}",
           "<img src=x onerror=alert(1)>", "[点我](javascript:alert(1))", "&lt;b&gt;", "%}", "[-假删除-]"]


def _line(**fields) -> dict:
    """A JSON line of the Epoch Times (versions compare JSON lines as well as items)."""
    line = {"site": "epochtimes", "id": "n1", "url": "https://www.epochtimes.com/gb/23/3/13/n1.htm",
            "title": "标题", "lead": "", "body_markdown": "第一段。\n\n第二段原文。\n\n第三段。",
            "authors": [], "images": [], "gallery": None, "crawled_at": "2026-12-07T00:56:16Z"}
    line.update(fields)
    return line


def _rendered(old: dict, new: dict) -> tuple[str, lxml.html.HtmlElement]:
    diff = parse_diff(diff_markdown(old, new, 1, 2))
    assert diff is not None
    markup = diff_html(diff)
    return markup, lxml.html.fragment_fromstring(markup, create_parent="div")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_diff_of_hostile_text_is_text(hostile):
    """Page text in a diff — in the body (as the converter escapes it: Markdown) and in the
    title (plain) — comes out as text inside <ins>/<del>: no element, attribute, link or Liquid
    of the page's, and the reader reads exactly what the page said."""
    old = _line()
    body = f"第一段。\n\n第二段{escape_text(hostile)}原文。\n\n第三段。"
    new = _line(title=f"标题{hostile}", body_markdown=body)
    markup, tree = _rendered(old, new)
    assert {e.tag for e in tree.iter()} <= {"div", "section", "h3", "p", "span", "ins", "del", "br"}
    assert not any(set(e.attrib.keys()) - {"class"} for e in tree.iter())
    assert "{{" not in markup and "{%" not in markup and "%}" not in markup
    assert "<script" not in markup and "href" not in markup
    inserted = [e.text_content() for e in tree.iter("ins")]
    # the title's and the body's, as the page said them (for a reader, versions.reader_text
    # leaves out what looks like a link's target: "[点我]()")
    assert hostile in inserted[0] and len(inserted) == 2
    assert hostile in inserted[1] or ("](" in hostile and "[点我]()" in inserted[1]), inserted


def test_a_link_of_the_body_shows_its_text_only():
    old = _line()
    new = _line(body_markdown="第一段。\n\n第二段[点我](javascript:alert(1))原文。\n\n第三段。")
    markup, tree = _rendered(old, new)
    # the body shows the link's text; the links' section says where it led, as text, never a link
    assert [e.text_content() for e in tree.iter("ins")] == ["点我", "「点我」→ javascript:alert(1)"]
    assert "href" not in markup and not tree.xpath("//a")


def test_insertions_and_deletions_are_marked_word_by_word():
    old = _line(body_markdown="第一段。\n\n本片将于美东时间首播。\n\n第三段。")
    new = _line(body_markdown="第一段。\n\n本片已于美东时间首播，观众可随时点播。\n\n第三段。")
    _, tree = _rendered(old, new)
    assert [e.text_content() for e in tree.iter("del")] == ["将于"]
    assert [e.text_content() for e in tree.iter("ins")] == ["已于", "，观众可随时点播"]
    assert tree.xpath("string(//p[del]/span[@class='where'])") == "第2段"
    # the body's Markdown escapes are undone for the reader: "[" and "<" as the page said them
    new = _line(body_markdown="第一段。\n\n第二段\\[注\\]&lt;原文&gt;。\n\n第三段。")
    _, tree = _rendered(old, new)
    assert "第二段[注]<原文>。" in tree.text_content()


def test_the_timeline_gives_times_as_the_header_and_links_each_version():
    history = [{"version": 1, "crawled": "2026-12-07T00:56:16Z", "changed": []},
               {"version": 2, "crawled": "2026-12-08T10:05:59Z", "changed": ["title", "body"],
                "summary": "标题、第2段"}]
    text = revisions_markdown(history, "zh-Hans", site="epochtimes", article_id="n13958996")
    assert text.splitlines()[2:] == [
        "- [第 1 版](/epochtimes/revisions/n13958996/v1/)，2026-12-07 00:56 UTC：首次存档",
        "- [第 2 版](/epochtimes/revisions/n13958996/v2/)，2026-12-08 10:05 UTC：标题、第2段有改动",
        "{: .timeline}"]
    assert reader_time("2026-12-07T00:56:16Z") == "2026-12-07 00:56 UTC"
    assert reader_time("not a time") == "not a time"
    # no URL from an id that is not ours
    assert revision_url("epochtimes", "../x", 1) is None and revision_url("Evil/", "n1", 1) is None


def test_the_lead_is_said_once():
    """The Epoch Times' lead is the first paragraph's opening sentences; a DW gallery's body is
    its lead: the post's header leaves such a lead out. A lead the body does not say stays."""
    epoch = make_item(lead="大纪元视频部制作的专题纪录片即将与观众见面。",
                      body_markdown="【大纪元2023年3月13日讯】（记者报导）大纪元视频部制作的专题纪录片"
                                    "即将与观众见面。影片走访多家企业。\n\n第二段。")
    gallery = make_item(lead="从浮冰营地到冰下机器人：一组照片。",
                        body_markdown="从浮冰营地到冰下机器人：一组照片。")
    other = make_item(lead="央行认为通胀正在回落。",
                      body_markdown="（德国之声中文网）欧洲央行按兵不动。\n\n第二段。")
    for item, said in ((epoch, True), (gallery, True), (other, False)):
        assert lead_in_body(item.lead, item.body_markdown) is said
        assert ("\nlead_in_body: true\n" in render_post(item)) is said
        assert f"\nlead: {item.lead}\n" in render_post(item)  # the data keeps it
    assert lead_in_body("第二段\\[注\\]", "第一段\n\n第二段[注]。") is True
    assert lead_in_body("", "x") is False


def test_a_gallery_page_does_not_list_itself_as_related():
    slides = [{"url": "https://static.dw.com/image/2_6.jpg", "title": "驶入浮冰区",
               "caption": "<b>船头</b>破冰", "credit": "DW"}]
    page = render_post(make_item(title="图集：北极科考船上的三个月",
                                 gallery={"title": "图集：北极科考船上的三个月", "images": slides}))
    assert "相关图集" not in page
    # the caption as alt text (escaped)
    assert "![&lt;b&gt;船头&lt;/b&gt;破冰](https://static.dw.com/image/2_6.jpg)" in page
    article = render_post(make_item(gallery={"title": "图集：北极科考船上的三个月", "images": slides}))
    assert "## 相关图集：北极科考船上的三个月" in article


def test_post_urls_are_jekylls_and_neighbours_are_by_source_and_date(tmp_path):
    assert jekyll_slug("【预告】芯片之战：全球供应链的十字路口") == "预告-芯片之战-全球供应链的十字路口"
    assert jekyll_slug("A.B (c)_d") == "A.B-(c)_d"
    assert post_url("dw", "2023-10-18-x.md", "2023-10-18T08:02:00Z") == "/dw/2023/10/18/x/"
    folder = tmp_path / "dw"
    (folder / "_posts").mkdir(parents=True)
    days = [("2023-10-19", "第三篇"), ("2023-10-17", "第一篇"), ("2023-10-18", "第二篇")]
    for n, (day, title) in enumerate(days):
        item = make_item(id=f"a-{n}", title=title, published=f"{day}T08:00:00Z")
        (folder / "_posts" / f"{day}-{title}.md").write_text(render_post(item), encoding="utf-8")
    posts = read_posts(folder)
    assert [p.title for p in posts] == ["第一篇", "第二篇", "第三篇"]
    around = neighbours(posts)
    middle = around[posts[1].url]
    assert middle == {"previous": {"title": "第一篇", "url": posts[0].url},
                      "next": {"title": "第三篇", "url": posts[2].url}}
    assert "previous" not in around[posts[0].url] and "next" not in around[posts[2].url]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_the_quick_read_of_a_post_head_is_the_front_matter(title):
    """read_posts reads only the id, date and title lines: what YAML reads of the whole."""
    text = render_post(make_item(title=title))
    matter, _ = split_post(text)
    assert _post_keys(text) == {k: matter[k] for k in ("id", "date", "title")}


def edited_archive(output: Path, bodies: list[str], titles: list[str] | None = None) -> Path:
    """``<output>/epochtimes/`` holding one article, n1, in as many versions as ``bodies``
    (Markdown, as the converter writes it): its post, and ``_revisions/n1/`` as the archive
    keeps them (each earlier version's post, each version's diff). Returns the spider folder."""
    folder = output / "epochtimes"
    (folder / "_posts").mkdir(parents=True)
    revisions = folder / "_revisions" / "n1"
    revisions.mkdir(parents=True)
    titles = titles or [f"标题{n}" for n in range(1, len(bodies) + 1)]
    versions = enumerate(zip(titles, bodies, strict=True), 1)
    lines = [_line(title=t, body_markdown=b, published="2023-03-13T14:00:00Z",
                   crawled_at=f"2026-12-0{n}T00:56:16Z", version=n) for n, (t, b) in versions]
    history = [{"version": n, "crawled": line["crawled_at"], "changed": [] if n == 1 else ["body"],
                "summary": "" if n == 1 else "第2段"} for n, line in enumerate(lines, 1)]
    items = [make_item(site="epochtimes", id="n1", title=line["title"], body_markdown=line["body_markdown"],
                       published=line["published"], url=line["url"], version=line["version"])
             for line in lines]
    for n in range(1, len(lines)):
        (revisions / f"v{n}.md").write_text(render_post(items[n - 1], history=history[:n]), encoding="utf-8")
        (revisions / f"v{n + 1}.diff.md").write_text(diff_markdown(lines[n - 1], lines[n], n, n + 1),
                                                      encoding="utf-8")
    (folder / "_posts" / f"2023-03-13-{titles[-1]}.md").write_text(render_post(items[-1], history=history),
                                                                  encoding="utf-8")
    return folder


def test_each_version_is_staged_as_a_page_linked_to_the_post(tmp_path):
    """An article in three versions: a page per version with the timeline, the diff that made
    it (none for version 1), its text as it was, and the post's URL; a missing diff file
    leaves the page without a diff, not without a page."""
    from newscrawl.website_versions import stage_versions

    bodies = ["第一段。\n\n第二段原文。", escape_text("第一段。\n\n第二段<script>改过</script>。"),
              "第一段。\n\n第二段又改了。"]
    folder = edited_archive(tmp_path, bodies)
    revisions = folder / "_revisions" / "n1"
    (revisions / "v3.diff.md").unlink()
    staging = tmp_path / "staging"
    assert stage_versions(folder, staging)["pages"] == 3
    root = staging / "epochtimes/revisions/n1"
    pages = {n: split_post((root / f"v{n}/index.md").read_text(encoding="utf-8")) for n in (1, 2, 3)}
    for n, (matter, _) in pages.items():
        assert matter["permalink"] == f"/epochtimes/revisions/n1/v{n}/"
        assert matter["post_url"] == "/epochtimes/2023/03/13/%E6%A0%87%E9%A2%983/"
        assert matter["render_with_liquid"] is False and matter["latest"] == 3
        timeline = lxml.html.fragment_fromstring(matter["timeline_html"])
        assert [li.text_content().split("，")[0] for li in timeline] == ["第 1 版", "第 2 版", "第 3 版"]
        assert [a.get("href") for a in timeline.iter("a")] == [f"/epochtimes/revisions/n1/v{k}/"
                                                              for k in (1, 2, 3) if k != n]
    assert "diff_html" not in pages[1][0] and "diff_html" not in pages[3][0]  # v3's diff file is gone
    diff = lxml.html.fragment_fromstring(pages[2][0]["diff_html"], create_parent="div")
    assert next(e.text_content() for e in diff.iter("ins")) == "2"  # the title: 标题1 → 标题2
    assert any("<script>改过</script>" in e.text_content() for e in diff.iter("ins"))
    assert not diff.xpath("//script")
    assert pages[1][0]["article_title"] == "标题1" and "第二段原文。" in pages[1][1]
    assert "第二段&lt;script&gt;改过&lt;/script&gt;。" in pages[2][1]  # the old text, inert Markdown
    assert "修订记录" not in pages[2][1] and "------" not in pages[2][1]
    assert pages[3][1] == ""  # the newest: the post itself
