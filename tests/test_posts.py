"""The Jekyll writer: paths, slugs, YAML round-trips with hostile titles, collisions."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import yaml

from newscrawl.archive import Archive
from newscrawl.items import Article
from newscrawl.pipelines import normalize_article
from newscrawl.posts import render_post, slugify

HOSTILE_TITLES = [
    '他说："不要让意识形态蒙蔽双眼"',
    "It's a 'quoted' title",
    r"back\slash \n not a newline",
    "冒号: 问号? 星号* 竖线| 尖括号<>",
    "--- looks like a front matter fence ---",
    "# 开头是井号",
    "line one\nline two",
    "emoji 🚀 与 & 百分号 % 100",
    "  - leading dash and spaces",
    "[方括号] {花括号}: yes",
    "null",
    "2024-01-30",
    "true",
]


def make_item(**overrides) -> Article:
    values = dict(
        site="dw", id="a-68200101", url="https://www.dw.com/zh/x/a-68200101",
        title="中美外长通话", published="2023-10-31T14:28:57Z", authors=["安静", "文山"],
        lead="导语", body_markdown="（德国之声中文网）正文第一段。\n\n## 小标题\n\n第二段。",
        images=[{"url": "https://static.dw.com/image/1_6.jpg", "caption": "图片说明", "credit": "路透社"}],
        tags=["中美关系", "外交"], category="政治", lang="zh-Hans", source_name="德国之声",
    )
    values.update(overrides)
    return normalize_article(Article(**values))


def split_post(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]), text[end + 5:]


@pytest.fixture
def writer(archive: Archive) -> SimpleNamespace:
    """The archive's writer, as the last pipeline calls it."""
    return SimpleNamespace(process_item=archive.write, posts_dir=archive.posts_dir)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_front_matter_round_trips_hostile_titles(writer, title):
    item = make_item(title=title)
    writer.process_item(item)
    [post] = list((writer.posts_dir("dw")).glob("*.md"))
    matter, _ = split_post(post.read_text(encoding="utf-8"))
    assert matter["title"] == item.title
    assert matter["date"] == item.published
    assert matter["from"] == item.url
    assert matter["authors"] == item.authors
    # file names are portable: none of the unsafe characters, no leading dash or dot
    assert not re.search(r'[/\\:*?"<>|#%&\s]', post.name)
    assert not post.name[11:].startswith(("-", "."))


def test_post_layout_follows_the_seed(writer):
    item = make_item(gallery={"title": "图集标题", "images": [
        {"url": "https://static.dw.com/image/2_6.jpg", "title": "第一张", "caption": "说明一",
         "credit": "美联社"},
        {"url": "https://static.dw.com/image/3_6.jpg", "title": None, "caption": "说明二", "credit": None},
    ]})
    text = render_post(item)
    matter, body = split_post(text)
    assert list(matter)[:8] == ["layout", "title", "date", "author", "from", "tags", "comments", "categories"]
    assert matter["author"] == "安静、文山"
    assert matter["tags"] == ["德国之声", "中美关系", "外交"]
    assert matter["categories"][-1] == "德国之声"
    assert matter["comments"] is True
    assert matter["image"] == "https://static.dw.com/image/1_6.jpg"
    assert "editor" not in matter and "updated" not in matter  # no empty keys
    lines = body.split("\n")
    assert lines[0] == "<!--1698762537000-->"
    assert lines[1] == "[中美外长通话](https://www.dw.com/zh/x/a-68200101)"
    assert lines[2] == "------"
    assert lines[3] == "" and lines[4].startswith("（德国之声中文网）")  # one blank line, as in the seeds
    assert "## 小标题" in body
    gallery = body[body.index("## 相关图集：图集标题"):]
    # the caption as alt text (said when the picture cannot load), title, caption and credit under it
    assert gallery.index("![说明一](https://static.dw.com/image/2_6.jpg)\n**第一张**：说明一 · 美联社") < \
        gallery.index("![说明二](https://static.dw.com/image/3_6.jpg)\n说明二")


@pytest.mark.parametrize("title", ["图集：机器人", "图集:机器人", "相关图集：机器人", " 图集 ： 机器人"])
def test_the_gallery_heading_says_gallery_once(title):
    item = make_item(gallery={"title": title, "images": [
        {"url": "https://static.dw.com/image/2_6.jpg", "title": None, "caption": "说明", "credit": None}]})
    headings = [line for line in render_post(item).splitlines() if line.startswith("## 相关图集")]
    assert headings == ["## 相关图集：机器人"]
    traditional = render_post(make_item(lang="zh-Hant", gallery=dict(item.gallery, title="圖集：機器人")))
    assert "## 相關圖集：機器人\n" in traditional


def test_a_figure_keeps_its_caption_as_alt_text_in_the_post():
    """A picture that cannot load still says what it showed: the figure's alt text is its
    caption, as the parser wrote it (escaped), and the caption stays under the image."""
    body = ("第一段。\n\n![参观者在展台前\\[体验\\]](https://www.dw.com/image/47109877_303.jpg)\n"
            "*参观者在展台前\\[体验\\] · 美联社*\n\n![](https://www.dw.com/image/2.jpg)\n*只有说明*\n\n"
            "![另一个说明](https://www.dw.com/image/3.jpg)\n\n结尾。")
    post = render_post(make_item(body_markdown=body))
    assert body in post


def test_author_falls_back_to_source_name():
    matter, _ = split_post(render_post(make_item(authors=[])))
    assert matter["author"] == "德国之声"
    assert "authors" not in matter


def test_image_proxy_rewrites_post_images_only(writer):
    item = make_item(body_markdown="![图片说明](https://static.dw.com/image/1_6.jpg)\n\n正文")
    text = render_post(item, image_proxy="https://images.weserv.nl/?url=")
    assert "](https://images.weserv.nl/?url=static.dw.com/image/1_6.jpg)" in text
    assert split_post(text)[0]["image"] == "https://images.weserv.nl/?url=static.dw.com/image/1_6.jpg"
    assert item.images[0]["url"] == "https://static.dw.com/image/1_6.jpg"  # the item keeps the real URL


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("中美外长通话：谈乌克兰战争 (二)", "中美外长通话：谈乌克兰战争-(二)"),
        ('a/b\\c:d*e?f"g<h>i|j#k%l&m  n', "a-b-c-d-e-f-g-h-i-j-k-l-m-n"),
        ("  .hidden title. ", "hidden-title"),
        ("?:|", "a-1"),
        ("长" * 80, "长" * 50),
    ],
)
def test_slugify(title, slug):
    assert slugify(title, "a-1") == slug


def test_collision_gets_id_and_nothing_is_overwritten(writer):
    first = make_item(id="a-1", title="同一个标题")
    second = make_item(id="a-2", title="同一个标题", body_markdown="另一篇文章的正文")
    writer.process_item(first)
    writer.process_item(second)
    names = sorted(p.name for p in writer.posts_dir("dw").glob("*.md"))
    assert names == ["2023-10-31-同一个标题-a-2.md", "2023-10-31-同一个标题.md"]
    assert "另一篇文章的正文" in (writer.posts_dir("dw") / names[0]).read_text(encoding="utf-8")


def test_retitled_article_keeps_its_path(writer):
    writer.process_item(make_item(title="旧标题"))
    writer.process_item(make_item(title="新标题", body_markdown="改过的正文"))
    [post] = list(writer.posts_dir("dw").glob("*.md"))
    assert post.name == "2023-10-31-旧标题.md"
    assert split_post(post.read_text(encoding="utf-8"))[0]["title"] == "新标题"


def test_a_file_not_in_the_state_is_never_overwritten(writer):
    directory = writer.posts_dir("dw")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "2023-10-31-中美外长通话.md").write_text("hand-written", encoding="utf-8")
    writer.process_item(make_item())
    assert (directory / "2023-10-31-中美外长通话.md").read_text(encoding="utf-8") == "hand-written"
    assert (directory / "2023-10-31-中美外长通话-a-68200101.md").exists()


def test_no_temporary_files_left(writer):
    writer.process_item(make_item())
    assert [p.name for p in writer.posts_dir("dw").iterdir()] == ["2023-10-31-中美外长通话.md"]


def test_a_page_that_gives_only_the_day_gets_a_day_not_midnight(writer):
    """An old DW page's facts list says 22.09.2018: the post is dated that day, with no
    invented time of day, and says so."""
    item = make_item(published="2018-09-22", published_precision="day")
    assert (item.published, item.published_precision) == ("2018-09-22", "day")
    writer.process_item(item)
    (path,) = writer.posts_dir("dw").glob("*.md")
    assert path.name.startswith("2018-09-22-")
    matter, _ = split_post(path.read_text(encoding="utf-8"))
    assert matter["date"] == "2018-09-22" and "T" not in str(matter["date"])
    assert matter["date_precision"] == "day"
    exact, _ = split_post(render_post(make_item()))
    assert "date_precision" not in exact and exact["date"] == "2023-10-31T14:28:57Z"
