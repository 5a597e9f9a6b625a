"""Deutsche Welle (all language editions; the archive crawls ``/zh/`` and ``/zh-hant/``).

URL rules, feed and listing parsing, and the article parser for the three template
generations, each field a small function so that a layout change touches one place:

* ``apollo``  — current template (2023+): the embedded ``window.__APOLLO_STATE__`` map;
* ``json-ld`` + ``dom`` — the same template when the state is missing or broken;
* ``legacy``  — the pre-2023 template (``#bodyContent``, ``div.longText``).

See ``../shared/spec/site-dw.md`` for what is known about the site.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import unquote, urljoin, urlsplit

from lxml.html import HtmlElement
from scrapy.http import Response

from newscrawl.html import clean_common, drop, drop_empty_blocks, fragment, make_figure, replace
from newscrawl.items import Article, Gallery, GalleryImage, Image
from newscrawl.markdown import escape_text, to_markdown
from newscrawl.sites.base import (
    ParsedPage,
    ParseError,
    Site,
    first,
    json_ld_of_type,
    ld_names,
    meta_content,
    normalise_url,
)
from newscrawl.text import clean_text, to_utc_iso, unique

BASE = "https://www.dw.com"
FEED_URL = "https://rss.dw.com/xml/rss-chi-all"
HOSTS = {"dw.com": "www.dw.com", "m.dw.com": "www.dw.com", "amp.dw.com": "www.dw.com"}
CONTENT_PATH = re.compile(r"^/(?P<lang>[a-z]{2,3}(?:-[a-z]{2,4})?)/(?:[^/]+/)?(?P<kind>a|g)-(?P<num>\d+)/?$")
API_ARTICLE = re.compile(r"^/api/detail/(?:article|gallery)/(\d+)")
IMAGE_URL = re.compile(r"^(?P<stem>https?://static\.dw\.com/image/\d+)_(?:\$\{formatId\}|\d+)\.\w+")
FORMAT_ID = "6"  # 940×529, the format the site itself shares
CREDIT_LABEL = re.compile(r"^\s*(?:图像来源|圖片來源|图片来源|圖像來源|Bild|Image|Photo|Foto)\s*[:：]\s*")
CAPTION_CREDIT = re.compile(
    r"[（(]?\s*(?:图像来源|圖片來源|图片来源|Bild|Photo|Foto)\s*[:：]\s*([^)）]+)[)）]?\s*$")
AUTHOR_SEPARATORS = re.compile(r"[,，、/]| und | and ")
NOT_AUTHORS = {"Deutsche Welle", "DW", "德国之声", "德國之聲", "德国之声中文网", "德國之聲中文網"}
# topic links: the 2024+ section, and the 2023 aside
TOPIC_LINKS = ('[data-tracking-name="section-related-topics"] a[href*="/t-"],'
               ' aside[data-tracking-name="related-topics"] a[href*="/t-"]')
AUTHOR_ROLE = re.compile(r"\s*(?:摘译|摘譯|编译|編譯|编辑|編輯|撰文|报道|報導|综合报道|綜合報導|整理)$")
# Body lines that are navigation or legal boilerplate, not article text.
BOILERPLATE_LINE = re.compile(
    r"^(?:更多内容|更多內容|相关内容|相關內容|阅读更多|閱讀更多|延伸阅读|延伸閱讀|相关阅读|相關閱讀"
    r"|Read more|Mehr zum Thema|Lesen Sie auch)\s*[:：]"
    r"|^©\s*\d{4}\s*年?\s*(?:德国之声|德國之聲|Deutsche Welle|DW)"
    # the edition's social-media promotion: "DW中文有Instagram！欢迎搜寻dw.chinese…"
    r"|^DW中文有\s*(?:Instagram|脸书|臉書|Facebook|YouTube|Telegram|X)\b"
    r"|(?:欢迎|歡迎)(?:搜寻|搜尋|关注|關注|订阅|訂閱).{0,30}dw[._]?chinese"
    r"|^[a-z]{2,4}(?:/[a-z]{2,4})*\s*\([a-z ,/]*\)$",  # agency sign-off: "cwo/fab (dpa, afp)"
    re.I,
)
#: News agencies and sources that make up a closing sign-off line such as "（路透社、法新社）".
AGENCIES = set("""
路透社 路透 法新社 法新 美联社 美聯社 美联 美聯 德新社 德新 共同社 韩联社 韓聯社 中央社 彭博社 彭博
法广 法廣 美国之音 美國之音 新华社 新華社 塔斯社 埃菲社 安莎社 德国之声 德國之聲
综合报道 綜合報導 综合 綜合 dpa afp ap rtr reuters epd kna efe kyodo bbc
""".split())
BOILERPLATE_CSS = (
    "span.rich-text-ad, div.advertisement, div.vjs-wrapper, .video-player",
    '[data-tracking-name="sharing-icons-inline"]',
    '[data-tracking-name="content-detail-kicker"], .copy-button-wrapper, .feedback',
)
LANGS = {"zh": "zh-Hans", "zh-hant": "zh-Hant"}
SOURCE_NAME = "德国之声"


def _lang_of(url: str) -> str | None:
    match = re.match(r"^/([a-z]{2,3}(?:-[a-z]{2,4})?)/", unquote(urlsplit(url).path))
    return LANGS.get(match.group(1), match.group(1)) if match else None


def image_url(url: str | None, base: str = BASE) -> str | None:
    """Absolute image URL, DW's ``${formatId}`` template filled with format 6."""
    if not url:
        return None
    url = urljoin(base, url.strip())
    match = IMAGE_URL.match(url)
    return f"{match.group('stem')}_{FORMAT_ID}.jpg" if match else url


def _credit(text: str | None) -> str | None:
    return clean_text(CREDIT_LABEL.sub("", text)) if text else None


def _author_name(text: str | None) -> str | None:
    """A byline name without its role ("安静 摘译") or sources in brackets ("苗子 (德新社)")."""
    name = clean_text(re.sub(r"[（(][^）)]*[)）]", "", text or ""))
    return clean_text(AUTHOR_ROLE.sub("", name)) if name else None


def _is_signoff(text: str) -> bool:
    """A line of nothing but agency names: "（路透社、法新社）", "德新社/美联社"."""
    inner = re.fullmatch(r"[（(]?\s*(.+?)\s*[)）]?[。.]?", text)
    if not inner:
        return False
    parts = [p.strip().lower() for p in re.split(r"[、，,/;；\s]+", inner.group(1)) if p.strip()]
    return bool(parts) and all(p in AGENCIES for p in parts)


class DW(Site):
    name = "dw"
    source_name = SOURCE_NAME
    allowed_domains: ClassVar[list[str]] = ["dw.com"]
    feed_url = FEED_URL

    # ---- URL rules -----------------------------------------------------------------
    def canonical_url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.hostname == "api.dw.com" and (m := API_ARTICLE.match(parts.path)):
            return f"{BASE}/zh/a-{m.group(1)}"
        canonical = normalise_url(url, HOSTS)
        if CONTENT_PATH.match(unquote(urlsplit(canonical).path)):
            canonical = canonical.split("?", 1)[0]  # article pages take no query
        return canonical

    def is_dw(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return host == "dw.com" or host.endswith(".dw.com")

    def article_id(self, url: str) -> str | None:
        parts = urlsplit(url)
        if not self.is_dw(url):
            return None
        match = CONTENT_PATH.match(unquote(parts.path))
        return f"{match.group('kind')}-{match.group('num')}" if match else None

    def listing_url(self, value: str, lang: str = "zh") -> str:
        """A topic/section page from a URL, ``t-123``/``s-123`` or a bare number (topic)."""
        value = value.strip()
        if value.startswith(("http://", "https://", "//")):
            return self.canonical_url(urljoin(BASE, value))
        if value.isdigit():
            value = f"t-{value}"
        return f"{BASE}/{lang}/{value}"

    # ---- article parser ------------------------------------------------------------
    def parse(self, response: Response) -> ParsedPage:
        tail = response.body[-4096:].lower()
        if b"</html>" not in tail and b"</body>" not in tail:
            raise ParseError("truncated_page", f"{response.url}: the page ends before </body></html>")
        page = _Page(self, response)
        if page.kind == "legacy":
            return ParsedPage(_legacy_item(page))
        if page.kind == "gallery":
            return ParsedPage(_gallery_page_item(page))
        return _current_item(page)


@dataclass
class _Page:
    """One response with its three data layers located (each may be missing)."""

    site: DW
    response: Response

    def __post_init__(self) -> None:
        self.url = self.site.canonical_url(self.response.url)
        self.id = self.site.article_id(self.url) or self.site.article_id(self.response.url)
        self.number = self.id.split("-", 1)[1] if self.id else None
        self.state = _apollo_state(self.response.text) or {}
        if self.id and self.id.startswith("g-"):
            self.entry = self.state.get(f"ImageGallery:{self.number}") or {}
        else:
            self.entry = self.state.get(f"Article:{self.number}") or {}
        if self.id and self.id.startswith("g-") and (self.entry or self.response.css("article h1")):
            self.kind = "gallery"
        elif self.entry or self.ld or self.response.css("article h1, article div.rich-text"):
            self.kind = "current"
        elif self.response.css("#bodyContent, div.longText"):
            self.kind = "legacy"
        else:
            raise ParseError("unrecognised_layout",
                             f"{self.response.url}: no DW article layout"
                             " (no Apollo entry, JSON-LD or article DOM)")

    @cached_property
    def ld(self) -> dict[str, Any]:
        """The page's JSON-LD article (only looked for when a field needs it)."""
        return json_ld_of_type(self.response, "NewsArticle", "Article", "ReportageNewsArticle",
                               "ImageGallery") or {}

    @cached_property
    def header(self) -> Any:
        return self.response.css("article header")

    def text(self, css: str, within: Any = None) -> str | None:
        """Text of the first element matching ``css`` (in the page or ``within``)."""
        return (within if within is not None else self.response).css(css).xpath("string()").get()

    def ref(self, value: Any) -> Any:
        """Follow an Apollo ``{"__ref": key}`` to its entry (other values unchanged)."""
        if isinstance(value, dict) and "__ref" in value:
            return self.state.get(value["__ref"]) or {}
        return value if value is not None else {}

    def meta(self, name: str) -> str | None:
        return meta_content(self.response, name)


_STATE_ASSIGNMENT = re.compile(r"__APOLLO_STATE__\s*=\s*(?P<parse>JSON\.parse\(\s*)?")


def _apollo_state(text: str) -> dict[str, Any] | None:
    """The ``window.__APOLLO_STATE__`` map, or ``None`` when absent or not valid JSON.

    The state is a JSON object literal, or (as some builds emit it) a JSON string handed to
    ``JSON.parse("…")``.
    """
    match = _STATE_ASSIGNMENT.search(text)
    if not match:
        return None
    decoder = json.JSONDecoder()
    try:
        state, _ = decoder.raw_decode(text, match.end())
        if match.group("parse") and isinstance(state, str):
            state = json.loads(state)
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


# ---- current template: one small function per field ---------------------------------

def _title(p: _Page) -> str | None:
    return clean_text(first(p.entry.get("title"), p.entry.get("name"), lambda: p.ld.get("headline"),
                            lambda: p.text("h1", p.header), lambda: p.text("article h1")))


def _published(p: _Page) -> str | None:
    return to_utc_iso(first(p.entry.get("firstPublicationDate"), p.entry.get("contentDate"),
                            lambda: p.ld.get("datePublished"), lambda: p.meta("article:published_time"),
                            lambda: p.header.css("time::attr(datetime)").get()))


def _updated(p: _Page) -> str | None:
    return to_utc_iso(first(p.entry.get("lastModifiedDate"), p.entry.get("lastPublicationDate"),
                            lambda: p.ld.get("dateModified"), lambda: p.meta("article:modified_time")))


def _authors(p: _Page) -> list[str]:
    """The page's own Apollo entry is authoritative (no author there means nobody is named);
    without one: JSON-LD, then the header's byline."""
    if p.entry:
        names = [p.ref(ref).get("fullName") for ref in p.entry.get("persons") or []] or [
            x.get("fullName") for x in p.entry.get('persons({"amount":1})') or [] if isinstance(x, dict)]
        if not names and p.entry.get("legacyAuthor"):
            names = AUTHOR_SEPARATORS.split(p.entry["legacyAuthor"])
    else:
        names = [n for n in ld_names(p.ld.get("author")) if n not in NOT_AUTHORS] or p.header.css(
            ".author-details .author, .author-details .author-link").xpath("string()").getall()
    return unique([n for n in map(_author_name, names) if n and n not in NOT_AUTHORS])


def _lead(p: _Page) -> str | None:
    return clean_text(first(p.entry.get("teaser"), lambda: p.text("p.teaser-text", p.header),
                            lambda: p.text("p", p.header), lambda: p.ld.get("description")))


def _tags(p: _Page) -> list[str]:
    names = [p.ref(ref).get("name") for ref in p.entry.get("relatedAutoTopics") or []]
    if not names and "relatedAutoTopics" not in p.entry:
        names = p.response.css(TOPIC_LINKS).xpath("string()").getall()
    return unique([n for n in map(clean_text, names) if n])


def _category(p: _Page) -> str | None:
    focus = p.entry.get("thematicFocusCategory") or {}
    return clean_text(first(focus.get("name") if isinstance(focus, dict) else None,
                            p.entry.get("kicker"), lambda: p.text(".kicker > span:first-child", p.header)))


def _content_link_image(p: _Page, link: Any) -> Image | None:
    link = p.ref(link)
    target = p.ref(link.get("target"))
    url = image_url(target.get("staticUrl"))
    if not url:
        return None
    return Image(url=url, caption=clean_text(link.get("description")),
                 credit=_credit(target.get("licenserSupplement")))


def _lead_image(p: _Page) -> Image | None:
    image = _content_link_image(p, p.entry.get("mainContentImageLink")) if p.entry else None
    if image:
        return image
    for fig in p.response.xpath("//article//figure[not(ancestor::div[contains(@class,'rich-text')])]")[:1]:
        image = _dom_figure(fig)
        if image:
            return image
    images = p.ld.get("image")
    url = images[0] if isinstance(images, list) and images else images
    if isinstance(url, dict):
        url = url.get("url")
    return Image(url=image_url(url), caption=None, credit=None) if isinstance(url, str) else None


def _dom_figure(fig: Any) -> Image | None:
    """An image box of the page (not of the state): the template URL in ``data-url``, else
    the first of the ``srcset``, else ``src``; caption and ``small`` credit from figcaption."""
    src = first(fig.css("img::attr(data-url)").get(),
                (fig.css("img::attr(srcset), img::attr(srcSet), source::attr(srcset)").get() or "")
                .split(" ")[0], fig.css("img::attr(src)").get())
    if not src:
        return None
    caption = fig.xpath(".//figcaption/text() | .//figcaption/*[not(self::small)]//text()").getall()
    return Image(url=image_url(src), caption=clean_text("".join(caption)),
                 credit=_credit(fig.css("figcaption small").xpath("string()").get()))


def _body_html(p: _Page) -> str | None:
    text = p.entry.get("text")
    if isinstance(text, str) and text.strip():
        return text
    return p.response.css("article div.rich-text").get()


def _clean_body(p: _Page, root: HtmlElement, figures: list[Image]) -> HtmlElement:
    """Site boilerplate out, figures canonical, links canonical; collects the inline images."""
    drop(root, BOILERPLATE_CSS)
    for fig in list(root.iter("figure")):
        img = fig.find(".//img")
        src = None if img is None else first(img.get("data-url"), img.get("src"))
        if not src:
            fig.drop_tree()
            continue
        credit_el = fig.find(".//small")
        credit = _credit(credit_el.text_content()) if credit_el is not None else None
        if credit_el is not None:
            credit_el.drop_tree()
        cap_el = fig.find(".//figcaption")
        caption = clean_text(cap_el.text_content()) if cap_el is not None else None
        if not caption and img.get("data-id"):
            linked = _content_link_image(p, {"__ref": f'ContentLink:{{"targetId":{img.get("data-id")}}}'})
            caption, credit = (linked or {}).get("caption"), credit or (linked or {}).get("credit")
        image = Image(url=image_url(src, p.response.url), caption=caption, credit=credit)
        figures.append(image)
        replace(fig, make_figure(image["url"], caption, credit))
    _drop_boilerplate_lines(root)
    lang_prefix = unquote(urlsplit(p.url).path).split("/")[1] if p.url else "zh"

    def map_url(url: str) -> str:
        if urlsplit(url).hostname == "api.dw.com":
            return p.site.canonical_url(url).replace("/zh/", f"/{lang_prefix}/", 1)
        return p.site.canonical_url(url) if p.site.is_dw(url) else url

    clean_common(root, BASE, map_url)
    drop_empty_blocks(root)
    return root


def _drop_boilerplate_lines(root: HtmlElement) -> None:
    for el in list(root.iter("p", "div", "h2", "h3", "h4", "em")):
        if el.getparent() is None:
            continue
        text = clean_text(el.text_content()) or ""
        if text and (BOILERPLATE_LINE.search(text) or _is_signoff(text)):
            el.drop_tree()


def _gallery(p: _Page, entry: dict[str, Any]) -> tuple[Gallery | None, bool]:
    """A gallery from its Apollo entry; the flag says whether captions are missing."""
    images: list[GalleryImage] = []
    for img in entry.get("extendedGalleryImages") or []:
        img = p.ref(img)
        target = p.ref(img.get("assignedImage"))
        url = image_url(target.get("staticUrl"))
        if url:
            images.append(GalleryImage(url=url, title=clean_text(img.get("name")),
                                       caption=clean_text(img.get("description")),
                                       credit=_credit(target.get("licenserSupplement"))))
    if not images:
        return None, bool(entry.get("namedUrl"))
    gallery = Gallery(title=clean_text(first(entry.get("title"), entry.get("name"))), images=images)
    return gallery, any(not image["caption"] for image in images)


def _current_item(p: _Page) -> ParsedPage:
    images: list[Image] = []
    lead_image = _lead_image(p)
    if lead_image:
        images.append(lead_image)
    body_html = _body_html(p)
    body = None
    if body_html:
        root = _clean_body(p, fragment(body_html), images)
        if lead_image:
            root.insert(0, make_figure(lead_image["url"], lead_image["caption"], lead_image["credit"]))
        body = to_markdown(root)
    gallery, gallery_url = None, None
    galleries = [p.ref(ref) for ref in p.entry.get("imageGalleries") or []]
    if galleries:
        gallery, incomplete = _gallery(p, galleries[0])
        if incomplete and galleries[0].get("namedUrl"):
            gallery_url = p.site.canonical_url(urljoin(BASE, galleries[0]["namedUrl"]))
    item = Article(
        site=p.site.name, id=p.id, url=_canonical(p), title=_title(p), published=_published(p),
        updated=_updated(p), authors=_authors(p), lead=_lead(p), body_markdown=body,
        images=images, gallery=gallery, tags=_tags(p), category=_category(p),
        lang=_lang_of(p.url), source_name=SOURCE_NAME,
    )
    return ParsedPage(item, gallery_url)


def _canonical(p: _Page) -> str:
    declared = first(p.entry.get("canonicalUrl"),
                     lambda: p.response.xpath('//link[@rel="canonical"]/@href').get())
    if declared and p.site.article_id(urljoin(BASE, declared)) == p.id:
        return p.site.canonical_url(urljoin(BASE, declared))
    return p.url


# ---- gallery pages (g-) -------------------------------------------------------------

def _gallery_page_item(p: _Page) -> Article:
    gallery, _ = _gallery(p, p.entry) if p.entry else (None, False)
    if gallery is None:
        gallery = _dom_gallery(p)
    lead = _lead(p)
    return Article(
        site=p.site.name, id=p.id, url=_canonical(p), title=_title(p), published=_published(p),
        updated=_updated(p), authors=_authors(p), lead=lead, body_markdown=escape_text(lead) or None,
        images=[], gallery=gallery, tags=_tags(p), category=_category(p),
        lang=_lang_of(p.url), source_name=SOURCE_NAME,
    )


def _dom_gallery(p: _Page) -> Gallery | None:
    images: list[GalleryImage] = []
    for fig in p.response.css("article figure"):
        image = _dom_figure(fig)
        if image:
            title = clean_text(fig.css("h3").xpath("string()").get())
            images.append(GalleryImage(url=image["url"], title=title, caption=image["caption"],
                                       credit=image["credit"]))
    if not images:
        return None
    return Gallery(title=_title(p), images=images)


# ---- legacy template (before mid-2023) -----------------------------------------------

#: Machine-readable dates an old page may carry; the facts list only has the day.
LEGACY_DATE_METAS = ("article:published_time", "date", "dc.date", "DC.date.issued", "dcterms.created")

_FACT_LABELS = {
    "date": ("日期", "Datum", "Date", "Fecha"),
    "author": ("作者", "Autor", "Autorin", "Author", "Auteur"),
    "topics": ("相关主题", "相關主題", "Themenseiten", "Related Subjects", "Related topics"),
    "keywords": ("关键词", "關鍵詞", "关键字", "關鍵字", "Schlagwörter", "Keywords"),
}


def _facts(p: _Page) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for li in p.response.css("ul.smallList > li"):
        label = clean_text(li.css("strong").xpath("string()").get()) or ""
        label = label.rstrip(":：")
        for key, labels in _FACT_LABELS.items():
            if label in labels:
                texts = li.xpath("./text() | ./*[not(self::strong)]//text()").getall()
                facts[key] = clean_text(" ".join(texts))
                facts[f"{key}_links"] = li.css("a").xpath("string()").getall()
    return facts


def _legacy_date(text: str | None) -> str | None:
    match = re.search(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text or "")
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    return to_utc_iso(f"{year:04d}-{month:02d}-{day:02d}T00:00:00")


def _legacy_item(p: _Page) -> Article:
    r = p.response
    facts = _facts(p)
    title = clean_text(first(r.css("#bodyContent h1, .col3 h1").xpath("string()").get(),
                             r.css("h1").xpath("string()").get()))
    authors_text = facts.get("author") or ""
    names = AUTHOR_SEPARATORS.split(authors_text)
    authors = unique([n for n in map(_author_name, names) if n])
    keywords = re.split(r"[,，、]", facts.get("keywords") or p.meta("keywords") or "")
    tags = unique([t for t in map(clean_text, (facts.get("topics_links") or []) + keywords) if t])
    images: list[Image] = []
    col = r.css(".col3") or r.css("#bodyContent")
    lead_box = col.xpath("./div[contains(concat(' ', @class, ' '), ' picBox ')]") if col else []
    if lead_box:
        images.append(_legacy_picbox(lead_box[0], r.url))
    body = None
    body_html = r.css("div.longText").get()
    if body_html:
        root = fragment(body_html)
        for box in list(root.xpath(".//div[contains(concat(' ', @class, ' '), ' picBox ')]")):
            img = box.find(".//img")
            if img is None or not img.get("src"):
                box.drop_tree()
                continue
            cap = box.find(".//p")
            caption, credit = _split_credit(cap.text_content() if cap is not None else None)
            image = Image(url=image_url(img.get("src"), r.url), caption=caption, credit=credit)
            images.append(image)
            replace(box, make_figure(image["url"], caption, credit))
        drop(root, BOILERPLATE_CSS)
        _drop_boilerplate_lines(root)
        clean_common(root, BASE, lambda u: p.site.canonical_url(u) if p.site.is_dw(u) else u)
        drop_empty_blocks(root)
        if images and lead_box:
            root.insert(0, make_figure(images[0]["url"], images[0]["caption"], images[0]["credit"]))
        body = to_markdown(root)
    return Article(
        site=p.site.name, id=p.id, url=p.url, title=title,
        published=first(*(lambda name=name: to_utc_iso(p.meta(name)) for name in LEGACY_DATE_METAS),
                        lambda: _legacy_date(facts.get("date"))),
        updated=to_utc_iso(p.meta("article:modified_time")), authors=authors,
        lead=clean_text(r.css("p.intro").xpath("string()").get()), body_markdown=body,
        images=images, gallery=_legacy_gallery(p), tags=tags, category=None,
        lang=_lang_of(p.url), source_name=SOURCE_NAME,
    )


def _split_credit(text: str | None) -> tuple[str | None, str | None]:
    """``Caption (图像来源: X)`` or ``Caption 图像来源: X`` → caption, credit."""
    text = clean_text(text)
    if not text:
        return None, None
    match = CAPTION_CREDIT.search(text)
    if not match:
        return text, None
    return clean_text(text[: match.start()]), clean_text(match.group(1))


def _legacy_picbox(box: Any, base: str) -> Image:
    caption, credit = _split_credit(box.css("p").xpath("string()").get())
    return Image(url=image_url(box.css("img::attr(src)").get(), base), caption=caption, credit=credit)


def _legacy_gallery(p: _Page) -> Gallery | None:
    box = p.response.css("div.gallery")
    if not box:
        return None
    images: list[GalleryImage] = []
    for li in box.css("ul.slides > li"):
        src = li.css("img::attr(src)").get()
        if not src:
            continue
        caption, credit = _split_credit(li.css("p").xpath("string()").get())
        images.append(GalleryImage(url=image_url(src, p.response.url),
                                   title=clean_text(li.css("h3, strong").xpath("string()").get()),
                                   caption=caption, credit=credit))
    if not images:
        return None
    return Gallery(title=clean_text(box.css("h2").xpath("string()").get()), images=images)


SITE = DW()
