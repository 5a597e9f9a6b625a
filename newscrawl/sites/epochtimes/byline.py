"""Epoch Times bylines: the names in ``【大纪元…讯】（大纪元记者林岑心采访报导）``.

Bylines live in the text, not in markup. :func:`parse_byline` reads the opening of an
article's first paragraph (or a paragraph of its own).
"""

from __future__ import annotations

import re

from newscrawl.text import clean_text, unique

DATELINE = re.compile(r"^\s*【[^】]{0,40}?(?:讯|訊)】\s*")
BYLINE = re.compile(r"^[（(](?P<inner>[^（）()]{1,80})[)）]")
COMMENTARY = re.compile(r"^\s*文\s*[/／]\s*(?P<name>[^\s，。,（(]{2,20})")
SOURCE_PREFIX = re.compile(
    r"^(?:英文|日文|法文|德文|韩文|韓文)?(?:大纪元|大紀元)(?:新闻网|新聞網|时报|時報)?")
ROLE = re.compile(
    r"^(?:特约|特約|资深|資深|驻\S{1,4}?|駐\S{1,4}?)?(?:记者|記者|编辑|編輯|通讯员|通訊員)(?!站|部)")
NO_PERSON = re.compile(r"专题部|專題部|记者站|記者站|编辑部|編輯部|新闻组|新聞組|报导组|報導組")
VERB_TAIL = re.compile(
    r"(?:(?:采访|採訪|综合|綜合|编译|編譯|整理|翻译|翻譯|专访|專訪)?(?:报导|報導|报道|報道)"
    r"|编译|編譯|综合|綜合|整理|翻译|翻譯|撰文|采访|採訪)$")
NAME_SEPARATORS = re.compile(r"[、，,;；]")
#: Places that follow a reporter's name in a byline (simplified and traditional).
PLACES = sorted(set("""
台湾 臺灣 台灣 台北 臺北 新北 台中 臺中 台南 臺南 高雄 桃园 桃園
新竹 基隆 花莲 花蓮 宜兰 宜蘭 香港 澳门 澳門 纽约 紐約 华盛顿
華盛頓 华府 華府 洛杉矶 洛杉磯 旧金山 舊金山 硅谷 矽谷 芝加哥 休斯顿
休斯頓 波士顿 波士頓 费城 費城 亚特兰大 亞特蘭大 西雅图 西雅圖 达拉斯
達拉斯 圣地亚哥 聖地亞哥 美国 美國 加拿大 多伦多 多倫多 温哥华 溫哥華
蒙特利尔 蒙特利爾 渥太华 渥太華 卡尔加里 卡爾加里 英国 英國 伦敦 倫敦
法国 法國 巴黎 德国 德國 柏林 慕尼黑 法兰克福 法蘭克福 日本 东京
東京 大阪 韩国 韓國 首尔 首爾 澳洲 澳大利亚 澳大利亞 悉尼 雪梨
墨尔本 墨爾本 布里斯班 新西兰 紐西蘭 奥克兰 奧克蘭 新加坡 马来西亚
馬來西亞 吉隆坡 泰国 泰國 曼谷 印度 以色列 乌克兰 烏克蘭 基辅 基輔
欧洲 歐洲 布鲁塞尔 布魯塞爾 瑞士 日内瓦 日內瓦 荷兰 荷蘭 阿姆斯特丹
意大利 罗马 羅馬 西班牙 瑞典 捷克 布拉格 维也纳 維也納 大陆 大陸
北京 上海 广州 廣州 深圳 武汉 武漢 成都
""".split()), key=len, reverse=True)


def _strip_places(text: str) -> str:
    """Drop place names that follow the reporter's name (``林岑心台湾台北`` → ``林岑心``)."""
    changed = True
    while changed and text:
        changed = False
        for place in PLACES:
            if text.endswith(place) and len(text) > len(place):
                text = text[: -len(place)]
                changed = True
                break
    return text


def _names(segment: str) -> list[str]:
    segment = SOURCE_PREFIX.sub("", segment.strip())
    if NO_PERSON.search(segment):
        return []
    segment = ROLE.sub("", segment)
    segment = VERB_TAIL.sub("", segment.strip())
    segment = _strip_places(segment.strip())
    names = []
    for name in NAME_SEPARATORS.split(segment):
        name = _strip_places(VERB_TAIL.sub("", name.strip()))
        if not name or NO_PERSON.search(name) or re.search(r"大纪元|大紀元|记者|記者", name):
            continue
        names.append(name)
    return names


def parse_byline(paragraph: str | None) -> list[str]:
    """Author names from the opening of an article's first paragraph.

    ``【大纪元2022年10月31日讯】（大纪元记者林岑心采访报导）…`` → ``["林岑心"]``; several
    names, places after the name, translators after ``／``, traditional script and
    departments without a person (``大纪元专题部``) are handled. No byline → ``[]``.
    """
    text = clean_text(paragraph) or ""
    text = DATELINE.sub("", text)
    if match := COMMENTARY.match(text):
        return [match.group("name")]
    match = BYLINE.match(text)
    if not match:
        return []
    names: list[str] = []
    for segment in re.split(r"[／/]", match.group("inner")):
        names.extend(_names(segment))
    return unique(names)
