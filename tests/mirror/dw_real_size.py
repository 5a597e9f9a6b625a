# ruff: noqa: E501
"""DW benchmark articles of a real article's size (``build_dw.build(out, N, real_size=True)``).

Today's synthetic benchmark articles (``Site._synthetic``) reuse the demo articles' bodies:
a few short paragraphs. A real DW Chinese article page is ~85 KB whose bytes are mostly its
head (a hundred ``<meta>`` and preload links, the styled-components ``<style>`` block with
hundreds of generated class rules) and its ``window.__APOLLO_STATE__`` (the UI translations,
configuration, navigation, teasers and the article's own entry, which repeats its text),
with a body of ten to fifteen paragraphs. This module turns a synthetic article into such a
page: its own body of 10-15 generated paragraphs (all text invented here, combined from the
phrases below), more head (extra meta, preload links, style rules) and more state (a
translations table, navigation teasers). The DW site module must still extract them as
articles: ``expected.json`` holds what it must find, as for every mirror page.
"""

from __future__ import annotations

import hashlib
import json

#: invented words; a sentence fills the slots of :data:`PATTERNS` with them, drawn per
#: article, so that two articles share no more of their text than two real ones do (the
#: archive's near-duplicate index compares character 5-grams: a few phrases repeated across
#: every article would make them all candidates of one another)
WORDS = {
    "place": ["柏林", "汉堡", "慕尼黑", "科隆", "莱比锡", "德累斯顿", "斯图加特", "不来梅", "汉诺威", "纽伦堡",
              "美因茨", "波恩", "基尔", "罗斯托克", "爱尔福特", "马格德堡", "弗莱堡", "亚琛", "明斯特", "卡塞尔",
              "布鲁塞尔", "维也纳", "苏黎世", "华沙", "布拉格", "哥本哈根", "里斯本", "雅典", "赫尔辛基", "都柏林"],
    "who": ["市政府", "联邦议院", "州议会", "统计局", "研究所", "工会", "商会", "环保团体", "消费者协会", "医院协会",
            "教师联合会", "农民协会", "交通部", "卫生部", "财政部", "经济部", "宪法法院", "审计署", "央行", "警方",
            "学者", "企业主", "护理人员", "工程师", "大学生", "退休人员", "志愿者", "市长", "议员", "律师"],
    "verb": ["表示", "指出", "估计", "强调", "警告", "承认", "批评", "呼吁", "预计", "透露", "回应", "补充",
             "解释", "反驳", "证实", "提醒", "宣布", "建议", "否认", "坦言"],
    "noun": ["电网", "铁路", "住房", "养老金", "学校", "医院", "港口", "风电", "光伏", "供暖", "税收", "预算",
             "工资", "租金", "物价", "出口", "移民", "教育", "农业", "森林", "河流", "桥梁", "公路", "机场",
             "宽带", "芯片", "电池", "氢能", "药品", "保险", "补贴", "债务", "投资", "就业", "培训", "数据",
             "隐私", "选举", "司法", "文化"],
    "change": ["增长", "下降", "翻倍", "减半", "停滞", "回升", "放缓", "加快", "波动", "超出预期", "小幅上扬",
               "明显回落", "持续攀升", "大致持平", "跌至低点", "创下新高", "逐月减少", "稳步提高"],
    "adj": ["新的", "长期的", "地区性的", "跨境的", "临时的", "数字化的", "公共的", "私营的", "额外的", "全国性的",
            "试点的", "联合的", "紧急的", "分阶段的", "有争议的", "低成本的", "透明的", "灵活的", "强制性的",
            "自愿的", "区域性的", "长远的", "综合性的", "配套的"],
    "thing": ["计划", "法案", "报告", "调查", "协议", "项目", "改革", "措施", "规定", "方案", "预算案", "评估",
              "草案", "框架", "倡议", "路线图", "试验", "基金", "条例", "合同", "章程", "指南"],
    "unit": ["个百分点", "亿欧元", "万人", "家企业", "个城市", "所学校", "公里", "个月", "吨", "兆瓦", "万欧元",
             "个乡镇", "家医院", "座桥梁", "套住房", "名教师", "辆公交车", "公顷", "个岗位", "项研究"],
    "time": ["周一", "周二", "周三", "周四", "周五", "上周末", "本月初", "去年秋天", "今年春天", "过去三年",
             "月中", "年初", "上个季度", "去年年底", "节前", "暑假期间", "选举前夕", "疫情之后"],
}
PATTERNS = [
    "{place}{who}{time}{verb}，{noun}方面的{adj}{thing}将于{year}年启动，涉及{n}{unit}。",
    "据{who}的{thing}，{place}的{noun}{change}了{n}{unit}，而{noun2}则{change2}。",
    "{who}{verb}，{adj}{thing}必须兼顾{noun}和{noun2}，否则{place}将难以承受。",
    "{time}，{place}有{n}{unit}参与了关于{noun}的{thing}，{who}对结果{verb}满意。",
    "在{place}，{noun}与{noun2}的矛盾已持续{n}年，{who}{verb}这需要{adj}{thing}。",
    "{who}和{who2}在{place}会面，讨论{noun}{thing}的细节，预计{year}年前完成。",
]
HEADINGS = ["各方反应不一", "资金从何而来", "地方的经验", "下一步怎么走", "专家的看法"]
#: the UI strings of the page's translations table (``i18nByLang``), invented
UI_LABELS = [
    "首页", "新闻", "评论", "视频", "音频", "图集", "专题", "搜索", "菜单", "关闭", "分享", "复制链接",
    "打印", "订阅", "下载", "播放", "暂停", "上一页", "下一页", "更多", "收起", "展开", "返回顶部",
    "隐私声明", "法律声明", "联系我们", "无障碍", "Cookie 设置", "相关主题", "推荐阅读", "最新消息",
]


def _number(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")


def _pick(seed: str, options: list[str]) -> str:
    return options[_number(seed) % len(options)]


def sentence(seed: str) -> str:
    """One invented sentence: a pattern with its slots filled, drawn from ``seed``."""
    fill = {slot: _pick(f"{seed}/{slot}", words) for slot, words in WORDS.items()}
    fill.update(noun2=_pick(f"{seed}/noun2", WORDS["noun"]), who2=_pick(f"{seed}/who2", WORDS["who"]),
                change2=_pick(f"{seed}/change2", WORDS["change"]), n=2 + _number(f"{seed}/n") % 980,
                year=2025 + _number(f"{seed}/y") % 12)
    return _pick(f"{seed}/p", PATTERNS).format(**fill)


def paragraph(i: int, k: int) -> str:
    """The k-th paragraph of benchmark article i: four to seven invented sentences."""
    return "".join(sentence(f"{i}/{k}/{s}") for s in range(4 + (i + k) % 4))


def real_size_body(i: int, image: dict | None) -> list[tuple]:
    """The body blocks of benchmark article i: 10-15 paragraphs (the first with DW's dateline),
    two subheadings, one picture (``image``, if given) and two in-text ad slots."""
    paragraphs = 10 + i % 6
    blocks: list[tuple] = [("p", "（德国之声中文网）" + paragraph(i, 0))]
    for k in range(1, paragraphs):
        if k in (4, 9):
            blocks.append(("h2", _pick(f"{i}/{k}/h", HEADINGS)))
        if k == 3 and image is not None:
            blocks.append(("img", image))
        blocks.append(("p", paragraph(i, k)))
        if k in (2, 7):
            blocks.append(("ad",))
    return blocks


def head_extra(art: dict) -> str:
    """More of a real head: article meta, preloaded lead-picture sizes, alternate links."""
    out = [
        f'<meta data-rh="true" property="article:published_time" content="{art["first"]}"/>',
        f'<meta data-rh="true" property="article:modified_time" content="{art["modified"]}"/>',
        '<meta data-rh="true" property="article:publisher" content="https://www.facebook.com/dw.chinese"/>',
    ]
    out += [f'<meta data-rh="true" property="article:tag" content="{t}"/>' for t in art["topics"]]
    lead = art.get("lead")
    if lead:
        for width, fmt in ((78, 2), (201, 301), (460, 302), (700, 303), (940, 304), (1199, 305), (1920, 306)):
            out.append(
                f'<link data-rh="true" rel="preload" as="image" media="(max-width: {width}px)" '
                f'href="https://static.dw.com/image/{lead["id"]}_{fmt}.webp" fetchpriority="high"/>'
            )
    for n in range(24):
        word = _pick(f"{art['id']}/slot/{n}", UI_LABELS)
        out.append(f'<meta data-rh="true" name="dw:slot-{n}" content="{word}"/>')
    return "".join(out)


#: component names whose styled-components rules a real page's ``<style>`` block also holds
STYLE_COMPONENTS = [f"Component{n}" for n in range(20)]


def translations(lang: str) -> str:
    """A real page's translations table: the UI strings of every component, as one JSON
    string (as DW's ``i18nByLang`` holds them)."""
    table = {
        f"component_{n}": {f"label_{m}": _pick(f"{lang}/{n}/{m}", UI_LABELS) for m in range(8)}
        for n in range(8)
    }
    return json.dumps(table, ensure_ascii=False, separators=(",", ":"))


def pad_state(state: dict, lang: str, apollo_lang: str) -> None:
    """Add a real page's bulk to its Apollo state: the full translations table and the
    navigation's teasers (entries the article parser does not read)."""
    root = state["ROOT_QUERY"]
    key = f'i18nByLang({{"lang":"{apollo_lang}"}})'
    root[key] = {"__typename": "Translations", "all": translations(lang)}
    for n in range(12):
        state[f"NavigationTeaser:{90000000 + n}"] = {
            "__typename": "NavigationTeaser", "id": 90000000 + n,
            "title": sentence(f"{lang}/nav/{n}")[:18],
            "namedUrl": f"/{lang}/n-{90000000 + n}", "isExternal": False,
            "trackingCategory": _pick(f"{lang}/navcat/{n}", UI_LABELS),
        }
