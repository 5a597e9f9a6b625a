"""Search for the website: a Pagefind index of the built site, in either script.

``make site`` (newscrawl/website.py) calls :func:`index_site` after Jekyll has built the site.
It gives Pagefind (PyPI ``pagefind[extended]``: the extended binary segments Chinese into words)
every page that the post layout marks ``data-pagefind-body`` (the articles; the listings carry no
such mark and are not indexed) and writes the index and Pagefind's own UI into
``<site>/pagefind/``; ``/search/`` (deploy/jekyll-site/search/) is the page that uses them, served
by the site itself (no CDN, works offline).

Either script: readers type simplified or traditional, and articles are in either. Both sides
are folded to simplified by one character table, :func:`fold_table` (OpenCC ``t2s`` applied to
each character alone, so the browser can apply exactly the same table without OpenCC):

* the index: each page keeps its own text, and gets a hidden block (only in what Pagefind is
  given; the published page is unchanged) with the folded form of every sentence that the
  fold changes — for a traditional article nearly all of it, for a simplified one a few;
* the query: ``/search/fold.js`` (written here from the same table) holds the table, and the
  search page's script (deploy/jekyll-site/assets/search.js) folds the query with it through
  Pagefind UI's ``processTerm`` hook.

A query folded to simplified then meets a simplified article's own words and a traditional
article's folded words alike. Without Pagefind installed the site is built without search (the
search page says so) and the build says so; exit status 0.
"""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: the mark of an indexed page (the post layout's <article>): every other page stays out
BODY_MARK = "data-pagefind-body"
#: the marked tag itself (page text is escaped by the layouts: no "<" of it starts a tag)
_MARKED = re.compile(rf"<article\b[^<>]*\s{BODY_MARK}[\s>]")
#: the index's folder under the site; Pagefind's UI is written there too
BUNDLE = "pagefind"
#: the fold table for the browser, beside the search page
FOLD_SCRIPT = Path("search") / "fold.js"
#: where a folded block goes: a sentence ends at one of these (or a line break)
_SENTENCE = re.compile(r"(?<=[。！？；!?\n])")
#: the CJK blocks the table covers (unified ideographs, extension A, compatibility ideographs,
#: extensions B and on, and their punctuation block)
_CJK = [(0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF),
        (0x20000, 0x2FFFF)]


@functools.cache
def fold_table() -> dict[int, str]:
    """Traditional → simplified, one character to one character: OpenCC's ``t2s`` on each
    character alone (no phrase context, so that the query in the browser folds exactly as the
    index does). A :meth:`str.translate` table."""
    import opencc  # the project's OpenCC binding (a dependency), dictionaries in the wheel

    chars = [chr(c) for low, high in _CJK for c in range(low, high + 1)]
    folded = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    assert len(folded) == len(chars), "OpenCC changed the number of characters"
    return {ord(c): f for c, f in zip(chars, folded, strict=True) if f != c and len(f) == 1}


def fold(text: str) -> str:
    """``text`` in simplified script by :func:`fold_table`."""
    return text.translate(fold_table())


def folded_sentences(text: str) -> str:
    """The folded form of each sentence of ``text`` that folding changes, one a line."""
    table = fold_table()
    out = []
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        if sentence and (folded := sentence.translate(table)) != sentence:
            out.append(folded)
    return "\n".join(out)


def with_folded_text(page: str) -> str:
    """The HTML of a built post as Pagefind is to read it: its indexed element (the
    ``<article … data-pagefind-body>`` of the layout) opens with a hidden block of
    :func:`folded_sentences` of that element's text (less what the layout keeps out of the
    index), escaped. The page is returned unchanged when folding changes nothing."""
    import lxml.html

    marked = _MARKED.search(page)
    if marked is None or page.translate(fold_table()) == page:  # (a simplified page: no parse)
        return page
    body = lxml.html.fromstring(page).xpath(f"//*[@{BODY_MARK}]")
    for ignored in body[0].xpath(".//*[@data-pagefind-ignore]"):  # not indexed: not folded either
        ignored.drop_tree()
    folded = folded_sentences(body[0].text_content())
    if not folded:
        return page
    at = page.index(">", marked.end() - 1) + 1
    return page[:at] + f'<div hidden class="folded">{html.escape(folded)}</div>' + page[at:]


def indexed_pages(site: Path) -> Iterator[tuple[Path, str]]:
    """The site's pages that the layout marks for the index (posts), with their text."""
    for path in sorted(site.rglob("*.html")):
        if path.is_relative_to(site / BUNDLE):
            continue
        text = path.read_text(encoding="utf-8")
        if _MARKED.search(text):
            yield path, text


@dataclass
class IndexReport:
    """What an index build did: pages indexed, of which given a folded block, bytes of the
    index (its .pf_* files: words, fragments, filters, meta; not the UI's fixed scripts)."""

    pages: int
    folded: int
    bytes: int
    seconds: float


def pagefind_executable() -> Path | None:
    """Pagefind's binary: PAGEFIND_BINARY_PATH, the pip package's extended build (which
    segments Chinese), its plain build, or one on the PATH; None without any."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        return None
    return get_executable()


def _stage(site: Path, staging: Path, folding: bool) -> tuple[int, int]:
    """``staging``: the site's indexed pages at their paths (hard links; a page given a folded
    block is a new file). Returns (pages, of which folded)."""
    from newscrawl.website import _link  # (newscrawl.website imports this module)

    pages = folded = 0
    for path, text in indexed_pages(site):
        target = staging / path.relative_to(site)
        target.parent.mkdir(parents=True, exist_ok=True)
        content = with_folded_text(text) if folding else text
        if content is text:
            _link(path, target)
        else:
            target.write_text(content, encoding="utf-8")
            folded += 1
        pages += 1
    return pages, folded


def write_fold_script(site: Path) -> Path:
    """``<site>/search/fold.js``: the fold table for the search page's script."""
    table = {chr(k): v for k, v in sorted(fold_table().items())}
    target = site / FOLD_SCRIPT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("// written by newscrawl.website_search: OpenCC t2s, one character to one\n"
                      f"window.NEWSCRAWL_FOLD = {json.dumps(table, ensure_ascii=False)};\n",
                      encoding="utf-8")
    return target


def index_site(site: Path, *, folding: bool = True) -> IndexReport | None:
    """Index the built site ``site`` (``<site>/pagefind/``, ``<site>/search/fold.js``, both
    replaced); None, after saying so, when Pagefind is not installed.

    Pagefind's command line, not its Python API: the API's service answers one request per
    0.1 s (its reader sleeps between responses), 17 minutes for 10,000 pages. The command
    indexes a staging folder that holds only the pages to index, so the listings are not even
    read."""
    executable = pagefind_executable()
    if executable is None:
        print("make site: pagefind is not installed (pip install -e '.[site]'): "
              "site built without search", file=sys.stderr)
        return None
    started = time.monotonic()
    bundle = site / BUNDLE
    shutil.rmtree(bundle, ignore_errors=True)  # Pagefind leaves the files of an older index
    with tempfile.TemporaryDirectory(prefix="newscrawl-search-") as tmp:
        pages, folded = _stage(site, Path(tmp), folding)
        if not pages:  # Pagefind fails on a folder without pages: no posts, no index
            return IndexReport(0, 0, 0, time.monotonic() - started)
        # one index for every page, in Chinese (the extended binary's segmenter): posts say
        # zh-Hans or zh-Hant, which Pagefind would otherwise split into two indexes
        subprocess.run([str(executable), "--site", tmp, "--output-path", str(bundle.resolve()),
                        "--force-language", "zh", "--silent"], check=True, cwd=tmp)
    write_fold_script(site)
    size = sum(p.stat().st_size for p in bundle.rglob("*.pf_*") if p.is_file())
    return IndexReport(pages, folded, size, time.monotonic() - started)


def report_line(report: IndexReport, site: Path) -> str:
    """What ``make site`` says of the index."""
    if not report.pages:
        return "make site: no posts to index: site built without search"
    return (f"make site: search index of {report.pages} posts ({report.folded} with folded text), "
            f"{report.bytes / 1e6:.2f} MB of index in {site / BUNDLE}/, {report.seconds:.1f} s")


def main(argv: list[str] | None = None) -> int:
    """``python -m newscrawl.website_search SITE [--no-fold]``: index an already built site."""
    import argparse

    parser = argparse.ArgumentParser(description="Pagefind index of a built site")
    parser.add_argument("site", type=Path)
    parser.add_argument("--no-fold", action="store_true", help="index each page's own text only")
    args = parser.parse_args(argv)
    report = index_site(args.site, folding=not args.no_fold)
    if report is not None:
        print(report_line(report, args.site), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

