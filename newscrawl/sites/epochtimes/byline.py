"""Epoch Times bylines: the names in ``【大纪元…讯】（大纪元记者林岑心采访报导）``.

Bylines live in the text, not in markup, and their shapes are open-ended: several outlets
(``（新唐人记者甲报导／大纪元记者乙翻译）``), a role per co-author (``记者甲、特约记者乙``), a
place glued to the name (``记者张三美国白宫报导``, ``记者王五硅谷圣塔克拉拉报导``), brackets
that do not match (``（…报导】``). :func:`parse_byline` reads them in three layers:

1. **structure** — the bracket after the dateline, credits split at ``／``, co-authors at
   ``、``; in each, everything up to the role word (``记者``, ``特约记者``…) is the outlet, the
   verb at the end (``采访报导``, ``翻译``…) goes;
2. **a segmenter** — what is left is a name, perhaps followed by a place. Where the name ends
   is decided by jieba's dictionary (through ``rjieba``, the maintained Rust port, with its
   part-of-speech tags): the cut after which the rest reads as dictionary words, places
   first, wins; traditional script is looked up through OpenCC's character table;
3. **what the archive knows** — a :class:`NameBook` of names seen alone in other bylines
   (``（大纪元记者张明远报导）`` teaches ``张明远``) settles the cases the segmenter finds close.

A closed list of places (:data:`PLACES`) backs the dictionary for the places bylines use most.
"""

from __future__ import annotations

import re
from types import ModuleType

from newscrawl.text import clean_text, to_simplified, unique

DATELINE = re.compile(r"^\s*【[^】]{0,40}?(?:讯|訊)\s*】\s*")
#: The byline bracket: opened by （ or (, closed by any bracket (pages mismatch them).
BYLINE = re.compile(r"^\s*[（(【]\s*(?P<inner>[^（()【】）]{1,100}?)\s*[)）】\]]")
COMMENTARY = re.compile(r"^\s*[（(]?\s*(?:文|作者|撰文)\s*[/／:：]\s*(?P<name>[^\s，。,（()）/／]{2,20})")
#: A role word: what comes before it is the outlet, what comes after is the name.
ROLE = re.compile(
    r"(?:特约|特約|资深|資深|实习|實習|驻[^记記]{1,6}?|駐[^记記]{1,6}?|首席|专栏|專欄)?"
    r"(?:记者|記者|编辑|編輯|通讯员|通訊員|撰稿人|作者)(?!站|部)")
NO_PERSON = re.compile(
    r"专题部|專題部|记者站|記者站|编辑部|編輯部|新闻组|新聞組|报导组|報導組|新闻中心|新聞中心")
OUTLET_ONLY = re.compile(r"^(?:英文|日文|法文|德文|韩文|韓文)?"
                         r"(?:大纪元|大紀元|新唐人|希望之声|希望之聲|中央社|新纪元|新紀元)"
                         r"(?:新闻网|新聞網|时报|時報|电视台|電視台|周刊|週刊)?")
VERB_TAIL = re.compile(
    r"(?:(?:采访|採訪|综合|綜合|编译|編譯|整理|翻译|翻譯|专访|專訪|联合|聯合|现场|現場)?"
    r"(?:报导|報導|报道|報道)|编译|編譯|综合|綜合|整理|翻译|翻譯|撰文|采访|採訪|专访|專訪|摄影|攝影|摄|攝"
    r"|\d{1,2}日(?:专|專)?电|\d{1,2}日(?:专|專)?電|(?:专|專)?电|(?:专|專)?電)$")
NAME_SEPARATORS = re.compile(r"\s*[、，,;；]\s*|\s+和\s+")
#: Places that follow a reporter's name in bylines (simplified; traditional is converted
#: before the lookup). The segmenter's dictionary knows far more; these are the ones it
#: tags as something else (``硅谷`` is a noun to it, ``白宫`` a name).
PLACES = frozenset("""
台湾 台北 新北 台中 台南 高雄 桃园 新竹 基隆 花莲 宜兰 嘉义 屏东 彰化 苗栗 南投 云林 台东 澎湖 金门 马祖
香港 九龙 新界 澳门 纽约 华盛顿 华府 白宫 国会 国会山 五角大楼 联合国 洛杉矶 旧金山 湾区 硅谷 芝加哥 休斯顿
休斯敦 波士顿 费城 亚特兰大 西雅图 达拉斯 圣地亚哥 圣荷西 圣何塞 尔湾 法拉盛 皇后区 布鲁克林 曼哈顿 长岛
新泽西 美国 加州 德州 佛州 加拿大 多伦多 温哥华 蒙特利尔 渥太华 卡尔加里 英国 伦敦 法国 巴黎 德国 柏林
日本 东京 大阪 韩国 首尔 釜山 澳洲 悉尼 墨尔本 新西兰 奥克兰 新加坡 马来西亚 吉隆坡 泰国 曼谷 欧洲
布鲁塞尔 瑞士 日内瓦 荷兰 海牙 意大利 罗马 西班牙 捷克 布拉格 维也纳 乌克兰 基辅 以色列 印度 大陆 北京 上海
""".split())
#: Endings that make a dictionary word a place (``…州``, ``…市``).
PLACE_SUFFIX = re.compile(r"(?:州|市|县|縣|区|區|岛|島|湾|灣|城|港|镇|鎮|村|省|郡|谷)$")
_PLACE_TAGS = frozenset({"ns", "nrt", "nsf"})
#: Surnames of two characters (a name is then three or four characters long).
COMPOUND_SURNAMES = frozenset("""
欧阳 歐陽 司马 司馬 上官 诸葛 諸葛 东方 東方 皇甫 尉迟 尉遲 公孙 公孫
令狐 慕容 端木 夏侯 长孙 長孫 宇文 司徒 轩辕 軒轅
""".split())
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def simplified(text: str) -> str:
    """Character by character (lengths kept), so a cut found in it is a cut in ``text``."""
    return "".join(c if len(s := to_simplified(c)) != 1 else s for c in text)


class NameBook:
    """Names seen standing alone in a byline (no place after them), over ``names``: the
    run's :attr:`~newscrawl.sites.base.ParseContext.known_names`, which it adds to (the set
    itself, not a copy), or a set of its own.

    Filled as bylines are parsed (and by :meth:`learn` from elsewhere); consulted only to
    settle cuts the segmenter finds close.
    """

    def __init__(self, names: set[str] | None = None):
        self.names: set[str] = names if names is not None else set()

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def learn(self, *names: str) -> None:
        for name in names:
            if 2 <= len(name) <= 4 and _HAN.search(name) and not _LATIN.search(name):
                self.names.add(name)


def _jieba() -> ModuleType:
    """``rjieba``, imported at the first byline that needs the segmenter, not at start-up:
    Scrapy's spider loader imports every spider module for any command (``scrapy crawl dw``
    too), and loading jieba's dictionary costs ~0.1 s of CPU and ~33 MB."""
    import rjieba

    return rjieba


def _place_like(word: str) -> bool:
    """A word that can be (the start of) a place in a byline: one of :data:`PLACES`, or a
    word of the segmenter's dictionary that is tagged a place, a transliterated name
    (``丹佛``, ``慕尼黑``: right after a reporter's name, a second name is a place), has a
    place ending, or is three characters or longer. Words the segmenter only guessed (not in
    its dictionary) are no places."""
    if len(word) < 2:
        return False
    if word in PLACES:
        return True
    if not _jieba().has_word(word):
        return False
    tags = _jieba().tag(word)
    tag = tags[0][1] if len(tags) == 1 else ""
    return tag in _PLACE_TAGS or tag in ("nr", "nz") or bool(PLACE_SUFFIX.search(word)) or len(word) >= 3


def _rest_score(rest: str) -> float:
    """How well ``rest`` reads as a place (or places): 0 when not at all."""
    words = _jieba().cut(rest)
    if not words:
        return 0.0
    if not _place_like(words[0]):
        # a place the segmenter split oddly ("硅谷圣塔克拉拉"): try the list's longest prefix
        head = next((p for p in sorted(PLACES, key=len, reverse=True) if rest.startswith(p)), None)
        if head is None:
            return 0.0
        words = [head, *_jieba().cut(rest[len(head):])]
    covered = sum(len(w) for w in words if len(w) >= 2 or PLACE_SUFFIX.search(w))
    return (2.0 + covered / len(rest) + 0.2 * len(words[0])
            + (0.5 if all(_place_like(w) for w in words if len(w) >= 2) else 0.0))


def split_name_place(text: str, book: NameBook | None = None) -> str:
    """The name at the start of ``text`` (``林岑心台湾台北`` → ``林岑心``)."""
    text = text.strip()
    if _LATIN.search(text):
        # "Frank Lin" or "Frank Lin华府": the Latin run is the name
        match = re.match(r"[A-Za-z][A-Za-z .'\-]*[A-Za-z.]", text)
        return match.group(0).strip() if match else text
    if "·" in text or "•" in text:  # a transliterated name: given·family, then perhaps a place
        given, dot, family = re.split(r"([·•])", text, maxsplit=1)
        words = _jieba().cut(simplified(family))
        return f"{given}{dot}{family[:len(words[0])]}" if words else text
    plain = simplified(text)
    n = len(plain)
    if n <= 3 or (n == 4 and plain[:2] in COMPOUND_SURNAMES):
        return text
    compound = plain[:2] in COMPOUND_SURNAMES
    whole_words = {w for w in _jieba().cut(plain)}
    best, best_score = None, 0.0
    for cut in (2, 3, 4):
        if cut > n - 2 or (cut == 2 and compound) or (cut == 4 and not compound):
            continue
        known = book is not None and text[:cut] in book
        score = _rest_score(plain[cut:])
        if score == 0 and known and all(_jieba().has_word(w) for w in _jieba().cut(plain[cut:])):
            score = 1.5  # a known name, then dictionary words the segmenter does not call a place
        if score == 0:
            continue
        score += {2: 0.3, 3: 0.5, 4: 0.4}[cut]
        if plain[:cut] in whole_words:
            score += 0.4  # the segmenter reads the name as one word
        if known:
            score += 3.0  # the archive has seen this name standing alone
        if score > best_score:
            best, best_score = cut, score
    if best is None:
        lengths = [len(name) for name in (book.names if book else ()) if text.startswith(name)]
        best = max(lengths) if lengths else (4 if compound else 3)
    return text[:best]


def _piece_names(piece: str, book: NameBook | None) -> list[str]:
    """Names of one credit (``大纪元记者林岑心台湾台北采访报导``)."""
    piece = piece.strip()
    if not piece or NO_PERSON.search(piece):
        return []
    roles = list(ROLE.finditer(piece))
    if roles:
        piece = piece[roles[-1].end():] if roles[-1].end() < len(piece) else piece[: roles[-1].start()]
    piece = OUTLET_ONLY.sub("", piece.strip())
    for _ in range(3):
        piece = VERB_TAIL.sub("", piece.strip())
    piece = piece.strip(" 　:：")
    if not _LATIN.search(piece):
        piece = re.sub(r"\s+", "", piece)
    if not piece or ROLE.fullmatch(piece) or OUTLET_ONLY.fullmatch(piece):
        return []
    name = split_name_place(piece, book)
    if book is not None and name == piece and len(piece) <= 3:
        book.learn(name)  # seen alone: a name
    return [name] if name else []


def parse_byline(paragraph: str | None, book: NameBook | None = None) -> list[str]:
    """Author names from the opening of an article's first paragraph.

    ``【大纪元2022年10月31日讯】（大纪元记者林岑心采访报导）…`` → ``["林岑心"]``; several
    names and outlets, roles per co-author, places after the name, translators after ``／``,
    unbalanced brackets, traditional script and departments without a person
    (``大纪元专题部``) are handled. No byline → ``[]``.
    """
    text = clean_text(paragraph) or ""
    text = DATELINE.sub("", text)
    if match := COMMENTARY.match(text):
        return [match.group("name")]
    match = BYLINE.match(text)
    if not match:
        return []
    names: list[str] = []
    for credit in re.split(r"[／/]", match.group("inner")):
        for piece in NAME_SEPARATORS.split(credit):
            names.extend(_piece_names(piece, book))
    return unique([n for n in names if 1 < len(n) <= 40])
