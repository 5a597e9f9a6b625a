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

#: invented phrases; a paragraph is a few sentences, each subject + action + detail
SUBJECTS = [
    "联邦统计局的最新数据", "多名经济学家", "柏林一家研究所", "地方政府官员", "欧盟委员会发言人",
    "环保组织的代表", "一位长期关注此事的记者", "中小企业协会", "大学的研究团队", "多个州的教育部门",
    "当地居民", "行业协会负责人", "议会的预算委员会", "一家咨询公司的报告", "交通部的发言人",
]
ACTIONS = [
    "指出", "认为", "在周二公布的报告中提到", "接受本台采访时表示", "在新闻发布会上强调",
    "在一份声明中写道", "提醒", "估计", "在研讨会上介绍说", "对此回应称",
]
DETAILS = [
    "这一计划需要至少五年时间才能全面落实，其间的资金安排仍有待议会批准",
    "今年上半年的相关投资比去年同期增长了约百分之十二，但地区之间的差距依然明显",
    "许多小城镇缺乏足够的技术人员，项目的推进速度因此受到影响",
    "新的规定将从明年一月起生效，企业有半年的过渡期来调整内部流程",
    "公众对这一问题的关注度明显上升，相关的网络讨论在过去一个月里增加了一倍",
    "试点地区的经验表明，只有在地方政府和企业密切合作的情况下才能取得成效",
    "能源价格的波动给家庭预算带来了压力，低收入家庭受到的影响尤其大",
    "专家建议先在少数城市开展试验，再根据结果决定是否在全国推广",
    "由于审批程序繁琐，一些原本计划在今年开工的项目不得不推迟",
    "这项研究调查了来自十六个联邦州的两千多名受访者，样本覆盖城乡各类人群",
    "反对者担心新措施会增加行政负担，而支持者则认为长期收益远大于成本",
    "欧洲其他国家也在讨论类似的方案，各国之间的协调将是下一阶段的重点",
    "工会表示将密切关注实施情况，并要求在涉及员工利益的问题上拥有发言权",
    "数字化工具的使用让办理手续的时间平均缩短了三分之一",
    "气候变化带来的极端天气使得基础设施的维护费用逐年上升",
    "报告还提到，年轻一代对这一话题的看法与父母一辈存在明显差异",
    "一些乡镇已经开始利用闲置的公共建筑开设社区服务中心",
    "国际合作伙伴对德国的做法表示关注，并希望分享各自的经验",
]
CLOSERS = [
    "此事预计将在下个月的议会会议上再次讨论。", "相关部门表示会在年底前公布更详细的评估。",
    "外界普遍认为，接下来几个月的进展将是关键。", "这一问题短期内恐怕难以得到彻底解决。",
    "多方表示愿意继续对话，寻找各方都能接受的方案。",
]
HEADINGS = ["各方反应不一", "资金从何而来", "地方的经验", "下一步怎么走", "专家的看法"]
#: the UI strings of the page's translations table (``i18nByLang``), invented
UI_WORDS = [
    "首页", "新闻", "评论", "视频", "音频", "图集", "专题", "搜索", "菜单", "关闭", "分享", "复制链接",
    "打印", "订阅", "下载", "播放", "暂停", "上一页", "下一页", "更多", "收起", "展开", "返回顶部",
    "隐私声明", "法律声明", "联系我们", "无障碍", "Cookie 设置", "相关主题", "推荐阅读", "最新消息",
]


def _pick(seed: str, options: list[str]) -> str:
    return options[int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % len(options)]


def paragraph(i: int, k: int) -> str:
    """The k-th paragraph of benchmark article i: three to six invented sentences."""
    count = 3 + (i + k) % 4
    sentences = [
        f"{_pick(f'{i}/{k}/{s}/s', SUBJECTS)}{_pick(f'{i}/{k}/{s}/a', ACTIONS)}，"
        f"{_pick(f'{i}/{k}/{s}/d', DETAILS)}。"
        for s in range(count)
    ]
    if (i + k) % 4 == 0:
        sentences.append(_pick(f"{i}/{k}/c", CLOSERS))
    return "".join(sentences)


def real_size_body(i: int, first: str, image: dict | None) -> list[tuple]:
    """The body blocks of benchmark article i: its first paragraph ``first``, then 9-14 more
    (10-15 in all), two subheadings, one picture and two in-text ad slots."""
    paragraphs = 10 + i % 6
    blocks: list[tuple] = [("p", first)]
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
        word = _pick(f"{art['id']}/slot/{n}", UI_WORDS)
        out.append(f'<meta data-rh="true" name="dw:slot-{n}" content="{word}"/>')
    return "".join(out)


#: component names whose styled-components rules a real page's ``<style>`` block also holds
STYLE_COMPONENTS = [f"Component{n}" for n in range(20)]


def translations(lang: str) -> str:
    """A real page's translations table: the UI strings of every component, as one JSON
    string (as DW's ``i18nByLang`` holds them)."""
    table = {
        f"component_{n}": {f"label_{m}": _pick(f"{lang}/{n}/{m}", UI_WORDS) for m in range(8)}
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
            "title": _pick(f"{lang}/nav/{n}", DETAILS)[:18],
            "namedUrl": f"/{lang}/n-{90000000 + n}", "isExternal": False,
            "trackingCategory": _pick(f"{lang}/navcat/{n}", UI_WORDS),
        }
