"""Versions of an article: what a reader sees, how two versions differ, and whether it matters.

* :func:`reader_text` — everything a reader reads of an item, field by field: title, lead,
  body, image captions and credits, the gallery's title and each slide's title, caption and
  credit, the authors. Link and image addresses are left out here (a reader reads link text).
* :func:`pictures` and :func:`links` — what a reader sees besides text: *which* picture is
  shown (its kept bytes' SHA-256 when the picture was kept, else its URL without the site's
  size variants: :meth:`newscrawl.sites.Site.picture_identity`) and *where* each link of
  the body leads (:meth:`newscrawl.sites.Site.link_identity`: tracking parameters and the
  other edition of the same article are no other target).
* :func:`content_hash` — the hash of all that, the text *normalised*: Unicode NFKC
  (full-width punctuation and letters fold to their ordinary forms) and every whitespace
  removed. Two versions with the same content hash differ only trivially for a reader.
* :func:`same_content` — whether a stored version and a new parse show the same, decided
  when their hashes differ before a new version is made: both are hashed again *now*, so a
  hash stored under an older scheme (before pictures and links counted) is never taken for
  a change, and a picture kept in one and not in the other (it failed then, it is kept now;
  or it was kept at another size) is compared by its URL. The scheme is not recorded: a
  stored hash that differs is never trusted alone.
* :func:`exact_hash` — the hash of the item's published fields as they are (URLs included,
  ``crawled_at``, ``updated`` and the version bookkeeping left out). A change of the exact
  hash alone (whitespace, punctuation width, a tracking parameter, a picture now kept) is
  *trivial*: the record and post are refreshed, no new version is made. A change of the
  content hash is *substantive*: a new version.
* :func:`compare` and :func:`diff_markdown` — what changed, as a one-line summary
  (``标题、第3段、图片``) for the revision list and as a readable diff
  (``_revisions/<id>/v<N>.diff.md``): only the changed paragraphs, with a little context,
  changes marked ``[-removed-]{+added+}`` word by word (Chinese words as jieba's dictionary
  cuts them, through ``rjieba``; see :func:`word_diff`).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from newscrawl.items import adapt, item_dict
from newscrawl.pictures import item_pictures

#: The item fields that are bookkeeping, not content: left out of the exact hash.
BOOKKEEPING = frozenset({"crawled_at", "updated", "content_hash", "rendered", "version", "previous_hash",
                         "capture", "origin", "parser", "cluster", "related"})
_TARGET = r"\(((?:[^()\s]|\([^()\s]*\))*)\)"
_LINK_TARGET = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*\)")
#: A Markdown image (``![alt](url)``) or link (``[text](url)``) of the body, with its target.
_BODY_TARGET = re.compile(r"(!?)\[((?:\\.|[^\]\\])*)\]" + _TARGET)
_SPACE = re.compile(r"\s+")

#: The fields a change can be in, by the name the revision list and diffs give them.
FIELD_NAMES = {"title": "标题", "lead": "导语", "body": "正文", "authors": "作者",
               "images": "图片说明", "gallery": "图集", "pictures": "图片", "links": "链接"}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _fields(item: Any) -> Any:
    """An item's fields, for an item or a JSON line's dict alike."""
    return item if isinstance(item, dict) else adapt(item)


def reader_text(item: Any) -> dict[str, str]:
    """What a reader reads, by field (Markdown link and image targets removed)."""
    a = _fields(item)
    fields = {
        "title": _text(a.get("title")),
        "lead": _text(a.get("lead")),
        "body": _LINK_TARGET.sub("]()", _text(a.get("body_markdown"))),
        "authors": "、".join(x for x in a.get("authors") or [] if isinstance(x, str)),
        "images": "\n".join(" · ".join(filter(None, (_text(i.get("caption")), _text(i.get("credit")))))
                            for i in a.get("images") or [] if isinstance(i, dict)),
    }
    gallery = a.get("gallery") if isinstance(a.get("gallery"), dict) else {}
    slides = ["\n".join(filter(None, (_text(g.get(k)) for k in ("title", "caption", "credit"))))
              for g in gallery.get("images") or [] if isinstance(g, dict)]
    fields["gallery"] = "\n\n".join(filter(None, [_text(gallery.get("title")), *slides]))
    return fields


# ---- pictures and links: what is shown, where links lead --------------------------------------

@functools.cache
def _rules(site: str | None) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """``(link_identity, picture_identity)`` of a site (imported at the first hash, not with
    this module), each remembered for the last 1024 URLs (tag and section links recur from
    article to article, and a version is hashed more than once); for an item of no known
    site, canonical URLs and the URLs themselves."""
    from newscrawl.sites import all_sites
    from newscrawl.sites.base import URL_CACHE_SIZE, normalise_url

    known = all_sites().get(site or "")
    if known is None:
        return normalise_url, str
    return (functools.lru_cache(URL_CACHE_SIZE)(known.link_identity),
            functools.lru_cache(URL_CACHE_SIZE)(known.picture_identity))


@functools.lru_cache(maxsize=8)
def _body_targets(body: str) -> tuple[tuple[bool, str, str], ...]:
    """``(is_image, text, target)`` of every image and link of a body, in order (one scan
    for the pictures and the links of the versions being compared)."""
    return tuple((bool(m.group(1)), m.group(2), m.group(3)) for m in _BODY_TARGET.finditer(body))


@dataclass(frozen=True)
class Picture:
    """A picture an item shows (an image, a gallery slide, or a picture of the body only)."""

    #: the item's URL of it
    url: str
    #: its URL without size variants (:meth:`newscrawl.sites.Site.picture_identity`)
    by_url: str
    #: its kept bytes' SHA-256 and the URL the kept copy was fetched from (``None``: not kept)
    sha256: str | None = None
    kept_from: str | None = None
    caption: str = ""

    @property
    def identity(self) -> str:
        return f"sha256:{self.sha256}" if self.sha256 else self.by_url


@dataclass(frozen=True)
class Link:
    """A link of the body: its text, its target as written, where it leads (its identity)."""

    text: str
    url: str
    identity: str


def pictures(item: Any) -> list[Picture]:
    """The pictures an item shows, in order: its images and gallery slides, then pictures of
    the body that are none of them."""
    a = _fields(item)
    picture_identity = _rules(a.get("site"))[1]
    shown: list[Picture] = []
    for image in item_pictures(item):
        url = image.get("url")
        if not isinstance(url, str):
            continue
        file = image.get("file")
        kept: dict[str, Any] = file if isinstance(file, dict) else {}
        sha256 = kept.get("sha256") if isinstance(kept.get("sha256"), str) else None
        caption = " · ".join(filter(None, (_text(image.get("caption")), _text(image.get("credit")))))
        shown.append(Picture(url, picture_identity(url), sha256, _text(kept.get("url")) if sha256 else None,
                             caption or _text(image.get("title"))))
    seen = {p.by_url for p in shown}
    for is_image, _, url in _body_targets(_text(a.get("body_markdown"))):
        by_url = picture_identity(url) if is_image else ""
        if is_image and by_url not in seen:
            seen.add(by_url)
            shown.append(Picture(url, by_url))
    return shown


def links(item: Any) -> list[Link]:
    """The links of the body, in order, with where each leads."""
    a = _fields(item)
    link_identity = _rules(a.get("site"))[0]
    return [Link(text, url, link_identity(url))
            for is_image, text, url in _body_targets(_text(a.get("body_markdown"))) if not is_image]


#: Full-width ASCII forms and the ideographic space, to their NFKD forms (one character each).
_WIDE = {chr(cp): unicodedata.normalize("NFKD", chr(cp)) for cp in (*range(0xFF01, 0xFF5F), 0x3000)}
_WIDE_CHARS = re.compile("[\uff01-\uff5e\u3000]")


def _normalised(text: str) -> str:
    """NFKC, every whitespace removed.

    Chinese text fails NFKC's quick check on its full-width punctuation alone, and is then
    decomposed and recomposed character by character (~0.1 µs each). Those characters are
    replaced by their NFKD forms first — NFKC decomposes them to exactly those, so the result
    is the same — and the text usually passes the quick check (~6× faster)."""
    text = _WIDE_CHARS.sub(lambda m: _WIDE[m.group()], text)
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def _picture_keys(shown: Sequence[Picture], by_url: frozenset[str] = frozenset()) -> list[str]:
    return [p.by_url if p.by_url in by_url else p.identity for p in shown]


def content_hash(item: Any, *, by_url: frozenset[str] = frozenset()) -> str | None:
    """Hash of everything a reader sees, insensitive to whitespace and punctuation width.

    ``by_url``: pictures (by their URL without size variants) to name by that URL even when
    kept (:func:`same_content`)."""
    fields = reader_text(item)
    shown = pictures(item)
    if not any(fields.values()) and not shown:
        return None
    parts = [f"{k}\x1e{_normalised(v)}" for k, v in fields.items()]
    parts.append("pictures\x1e" + "\n".join(_picture_keys(shown, by_url)))
    parts.append("links\x1e" + "\n".join(link.identity for link in links(item)))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _compared_by_url(old: Sequence[Picture], new: Sequence[Picture]) -> frozenset[str]:
    """The pictures two versions both show (by URL without size variants) whose kept bytes
    cannot tell whether they changed — kept in one version only, or kept in both from
    different URLs (another size) — and are therefore compared by that URL. A picture kept in
    both from the same URL keeps its bytes' identity: other bytes there are another picture."""
    before = {p.by_url: p for p in old}
    same: set[str] = set()
    for p in new:
        q = before.get(p.by_url)
        if q is not None and not (p.sha256 and q.sha256 and p.kept_from == q.kept_from):
            same.add(p.by_url)
    return frozenset(same)


def same_content(old: Any, new: Any) -> bool:
    """Whether two versions (items or JSON-line dicts) show a reader the same, hashed now."""
    by_url = _compared_by_url(pictures(old), pictures(new))
    return content_hash(old, by_url=by_url) == content_hash(new, by_url=by_url)


def exact_hash(item: Any) -> str:
    """Hash of the item's published fields exactly as they are (bookkeeping left out)."""
    data = {k: v for k, v in item_dict(item).items() if k not in BOOKKEEPING}
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# ---- word-level marks ------------------------------------------------------------------------

def _segment(text: str) -> list[str]:
    """Words: jieba's dictionary cut (``rjieba``, imported at the first diff written: ~0.2 s
    to load the dictionary, which a crawl with no edit never pays)."""
    import rjieba

    return rjieba.cut(text) if text else []


def _marked(old: str, new: str) -> str:
    return (f"[-{old}-]" if old else "") + (f"{{+{new}+}}" if new else "")


def _refined(old: str, new: str) -> str:
    """A replaced run of words, character by character when what the two keep in common
    is words (two characters or more each: ``达成协议`` → ``达成新协议``), else whole
    (``办公楼`` → ``银行总部大楼`` is not ``[-办公-]{+银行总部大+}楼``)."""
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    kept = [i2 - i1 for op, i1, i2, _, _ in ops if op == "equal"]
    if not kept or min(kept) < 2:
        return _marked(old, new)
    return "".join(old[i1:i2] if op == "equal" else _marked(old[i1:i2], new[j1:j2])
                   for op, i1, i2, j1, j2 in ops)


def word_diff(old: str, new: str) -> str:
    """``old`` → ``new`` word by word: unchanged text, ``[-removed-]``, ``{+added+}``.

    Chinese has no spaces between words: the text is cut into words by jieba's dictionary,
    so a change is shown as whole words (``北京金融街[-一带-]的[-办公楼-]{+银行总部大楼+}``),
    not as characters that cut words apart, nor as whole clauses."""
    a, b = _segment(old), _segment(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(a[i1:i2]))
        elif op == "replace":
            out.append(_refined("".join(a[i1:i2]), "".join(b[j1:j2])))
        else:
            out.append(_marked("".join(a[i1:i2]), "".join(b[j1:j2])))
    return "".join(out)


# ---- paragraphs: which changed ---------------------------------------------------------------

#: Context shown around a change: this many characters of the paragraph before and after.
CONTEXT_CHARS = 40
_BLOCKS = re.compile(r"\n\s*\n")
_IMAGE_MD = re.compile(r"!\[(?:\\.|[^\]\\])*\]\(\)\n?")
_LINK_MD = re.compile(r"(?<!!)\[((?:\\.|[^\]\\])*)\]\(\)")


@dataclass(frozen=True)
class Block:
    """A paragraph (or heading, or figure) of a field, as a reader reads it."""

    text: str
    #: ``第3段`` for the third paragraph, ``小标题`` for a heading, ``图`` for a figure
    label: str
    #: the paragraph's number (``None``: a heading or figure)
    number: int | None = None


def _blocks(field_name: str, text: str) -> list[Block]:
    """A field cut into what a reader reads as paragraphs (the body's figures and headings
    apart, not counted): the body at blank lines, captions and slides a line each."""
    parts = [p.strip() for p in (_BLOCKS if field_name == "body" else re.compile(r"\n+")).split(text)]
    blocks, n = [], 0
    for part in filter(None, parts):
        if field_name == "body" and part.startswith("!["):
            blocks.append(Block(_IMAGE_MD.sub("", part).strip(), "图"))  # its caption under it
        elif field_name == "body" and part.startswith("#"):
            blocks.append(Block(_LINK_MD.sub(r"\1", part), "小标题"))
        else:
            n += 1
            label = {"body": f"第{n}段", "images": f"第{n}条", "gallery": f"第{n}条"}.get(field_name, "")
            blocks.append(Block(_LINK_MD.sub(r"\1", part), label, n))
    return blocks


@dataclass(frozen=True)
class Row:
    """One line of an aligned pair of block lists: ``equal``, ``change``, ``insert``, ``delete``."""

    op: str
    old: Block | None
    new: Block | None


#: A replaced run of more blocks than this (old × new) is paired in order, not by likeness
#: (which compares every pair, again on each side of the best: a rewritten article of 60
#: paragraphs would cost seconds).
PAIRING_LIMIT = 400


def _pair(old: list[Block], new: list[Block]) -> list[Row]:
    """A replaced run of blocks, paired by likeness (as difflib's ndiff pairs lines): the most
    alike pair (at least half alike) is a change, the blocks before and after it are paired
    the same way; the rest is deleted or inserted."""
    if len(old) * len(new) > PAIRING_LIMIT:
        n = min(len(old), len(new))
        return [*(Row("change", a, b) for a, b in zip(old[:n], new[:n], strict=True)),
                *(Row("delete", a, None) for a in old[n:]), *(Row("insert", None, b) for b in new[n:])]
    best, where = 0.5, None
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            matcher = difflib.SequenceMatcher(None, a.text, b.text, autojunk=False)
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best and matcher.ratio() > best:
                best, where = matcher.ratio(), (i, j)
    if where is None:
        return [*(Row("delete", a, None) for a in old), *(Row("insert", None, b) for b in new)]
    i, j = where
    return [*_pair(old[:i], new[:j]), Row("change", old[i], new[j]), *_pair(old[i + 1:], new[j + 1:])]


def _align(old: list[Block], new: list[Block]) -> list[Row]:
    rows: list[Row] = []
    keys = ([_normalised(b.text) for b in old], [_normalised(b.text) for b in new])
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, *keys, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [Row("equal", old[i], new[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
        else:
            rows += _pair(old[i1:i2], new[j1:j2])
    return rows


def _numbers(numbers: list[int]) -> str:
    """``[3]`` → ``第3段``, ``[2, 5]`` → ``第2、5段``, ``[2, 3, 4]`` → ``第2至4段``."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "第" + "、".join(f"{r[0]}至{r[-1]}" if len(r) > 2 else "、".join(map(str, r)) for r in runs) + "段"


def _body_summary(rows: list[Row]) -> list[str]:
    """The body's changed paragraphs, by their number in the new version (a deleted one by
    its number in the old), and its headings; figures are the pictures' and captions' part."""
    changed = [r.new.number for r in rows if r.op in ("change", "insert") and r.new and r.new.number]
    deleted = [r.old.number for r in rows if r.op == "delete" and r.old and r.old.number]
    parts = []
    if changed:
        parts.append(_numbers(changed) if len(changed) <= 6 else f"正文{len(changed)}段")
    if deleted:
        parts.append("删去原" + _numbers(deleted))
    if any(r.op != "equal" and "小标题" in (r.old.label if r.old else "", r.new.label if r.new else "")
           for r in rows):
        parts.append("小标题")
    return parts


# ---- comparing two versions --------------------------------------------------------------------

@dataclass
class Changes:
    """What changed from one version to the next."""

    #: the fields that changed (:data:`FIELD_NAMES`' keys), in that order
    fields: list[str] = field(default_factory=list)
    #: one line for the revision list: ``标题、第3段、图片``
    summary: str = ""
    #: per changed field, the aligned blocks (text fields) or lines (pictures, links)
    rows: dict[str, list[Row]] = field(default_factory=dict)


def _identity_rows(old: list[tuple[str, str]], new: list[tuple[str, str]], label: str) -> list[Row]:
    """Pictures or links, aligned on their identity: ``(identity, what a reader sees)``."""
    rows = []
    matcher = difflib.SequenceMatcher(None, [k for k, _ in old], [k for k, _ in new], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [Row("equal", Block(old[i][1], label), Block(new[j][1], label))
                     for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        olds, news = [Block(t, label) for _, t in old[i1:i2]], [Block(t, label) for _, t in new[j1:j2]]
        pairs = min(len(olds), len(news)) if op == "replace" else 0
        rows += [Row("change", a, b) for a, b in zip(olds[:pairs], news[:pairs], strict=True)]
        rows += [Row("delete", a, None) for a in olds[pairs:]]
        rows += [Row("insert", None, b) for b in news[pairs:]]
    return rows


def _shown_picture(p: Picture) -> str:
    kept = f" · sha256 {p.sha256[:12]}" if p.sha256 else ""
    return f"{p.caption or '（无说明）'}：{p.url}{kept}"


def history_entry(item: Any, version: int, earlier: list[dict[str, Any]],
                  changes: Changes | None) -> dict[str, Any]:
    """A version's entry in the article's history (the state, the post's revision list):
    when it was crawled, its content ``hash``, the fields that ``changed`` and a one-line
    ``summary`` (``changes``: :func:`compare` with the version before), the first earlier
    version it ``equals`` (a return to an earlier text), and ``origin: parser`` for a
    version a changed parser derived (:mod:`newscrawl.provenance`)."""
    a = _fields(item)
    entry: dict[str, Any] = {"version": version, "crawled": a.get("crawled_at"),
                             "changed": changes.fields if changes else [], "hash": a.get("content_hash")}
    if changes and changes.summary:
        entry["summary"] = changes.summary
    equals = next((h.get("version") for h in earlier if h.get("hash") == a.get("content_hash")), None)
    if equals:
        entry["equals"] = equals
    if a.get("origin") == "parser":
        entry["origin"] = "parser"
    return entry


def compare(old_item: Any, new_item: Any) -> Changes:
    """What changed between two versions (items or JSON-line dicts)."""
    old, new = reader_text(old_item), reader_text(new_item)
    changes = Changes()
    for name in ("title", "lead", "body", "authors", "images", "gallery"):
        if _normalised(old.get(name, "")) != _normalised(new.get(name, "")):
            changes.fields.append(name)
            changes.rows[name] = _align(_blocks(name, old.get(name, "")), _blocks(name, new.get(name, "")))
    old_p, new_p = pictures(old_item), pictures(new_item)
    by_url = _compared_by_url(old_p, new_p)
    old_keys, new_keys = _picture_keys(old_p, by_url), _picture_keys(new_p, by_url)
    if old_keys != new_keys:
        changes.fields.append("pictures")
        changes.rows["pictures"] = _identity_rows(
            [(k, _shown_picture(p)) for k, p in zip(old_keys, old_p, strict=True)],
            [(k, _shown_picture(p)) for k, p in zip(new_keys, new_p, strict=True)], "图")
    old_l, new_l = links(old_item), links(new_item)
    if [x.identity for x in old_l] != [x.identity for x in new_l]:
        changes.fields.append("links")
        changes.rows["links"] = _identity_rows([(x.identity, f"「{x.text}」→ {x.url}") for x in old_l],
                                               [(x.identity, f"「{x.text}」→ {x.url}") for x in new_l],
                                               "链接")
    parts: list[str] = []
    for name in ("title", "lead", "body", "authors", "pictures", "images", "links", "gallery"):
        if name not in changes.fields:
            continue
        if name == "body":
            parts += _body_summary(changes.rows["body"])
        else:
            parts.append(FIELD_NAMES[name])
    changes.summary = "、".join(parts)
    return changes


# ---- the diff file --------------------------------------------------------------------------------

def _context(block: Block, before: bool) -> str:
    text = block.text
    if len(text) > CONTEXT_CHARS:
        text = "…" + text[-CONTEXT_CHARS:] if before else text[:CONTEXT_CHARS] + "…"
    return f"〔{block.label}〕{text}" if block.label else text


def _row_text(row: Row, field_name: str) -> str:
    whole = field_name in ("pictures", "links")
    old, new = row.old, row.new
    if row.op == "change" and old is not None and new is not None:
        body = f"[-{old.text}-]\n{{+{new.text}+}}" if whole else word_diff(old.text, new.text)
        label = new.label
    elif row.op == "insert" and new is not None:
        body, label = f"{{+{new.text}+}}", new.label
    elif old is not None:
        body, label = f"[-{old.text}-]", (f"原{old.label}" if old.number else old.label)
    else:
        raise ValueError(f"a {row.op} row without its blocks")
    return f"〔{label}〕{body}" if label else body


def changed_rows_text(rows: list[Row], field_name: str) -> str:
    """The changed rows of a field, each with the unchanged row before and after it as
    context (cut to :data:`CONTEXT_CHARS` characters; pictures and links without context);
    ``⋯`` where unchanged rows are left out."""
    changed = {i for i, row in enumerate(rows) if row.op != "equal"}
    around = (-1, 1) if field_name not in ("pictures", "links") else ()  # those are lines of their own
    shown = sorted(changed | {i + d for i in changed for d in around if 0 <= i + d < len(rows)})
    out: list[str] = []
    previous = -1
    for i in shown:
        if i > previous + 1:
            out.append("⋯")
        if i in changed:
            out.append(_row_text(rows[i], field_name))
        elif (block := rows[i].new) is not None:
            # context: the end of the paragraph before a change, the start of the one after
            out.append(_context(block, before=i + 1 in changed and i - 1 not in changed))
        previous = i
    if shown and shown[-1] < len(rows) - 1:
        out.append("⋯")
    return "\n\n".join(out)


def diff_markdown(old_item: Any, new_item: Any, old_version: int, new_version: int, *,
                  changes: Changes | None = None, equals: int | None = None) -> str:
    """A readable diff of two versions (for ``_revisions/<id>/v<N>.diff.md``): the summary,
    then per changed field only the changed paragraphs, each with a little context.
    ``equals``: the earlier version the new one shows the same as (a return to it)."""
    changes = changes or compare(old_item, new_item)
    a_old, a_new = _fields(old_item), _fields(new_item)
    lines = [f"# {a_new.get('id')}: version {old_version} → {new_version}", "",
             f"- {a_new.get('url')}",
             f"- version {old_version}: crawled {a_old.get('crawled_at')}",
             f"- version {new_version}: crawled {a_new.get('crawled_at')}"]
    if changes.summary:
        lines.append(f"- changed: {changes.summary}")
    if equals:
        lines.append(f"- version {new_version} shows the same as version {equals} (与第 {equals} 版相同)")
    lines += ["", "Only what changed is shown, with the paragraph before and after it as context "
              "(cut to a few words; ⋯ where more is left out). Removed text is marked `[-…-]`, "
              "added text `{+…+}`.", ""]
    for name in changes.fields:
        text = changed_rows_text(changes.rows[name], name)
        fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
        lines += [f"## {name} ({FIELD_NAMES[name]})", "", f"{fence}text", text, fence, ""]
    return "\n".join(lines)
