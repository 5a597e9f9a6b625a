"""Seeded mutations of saved pages: whatever a page holds, a parser gives an item or ParseError.

    python -m tests.fuzz [--count 5000] [--seed 8]

Each mutation is one of the ways real pages go wrong: cut short, a slice lost or doubled,
junk inserted (control characters, lone surrogates, 300 nested ``div``s, unbalanced
brackets), impossible dates (February 30, minute 61, year 0), JSON values of the wrong type
(a date as a list or object, a title as a number), a charset declaration that contradicts
the bytes. The suite runs a bounded number (``tests/test_fuzz.py``); this entry point runs
as many as you like and prints what failed.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from scrapy.http import HtmlResponse

from newscrawl.sites import ParseError, get_site

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pages"

JUNK = [
    "\x00", "\x01\x02\x1b", "\ud800", "\udfff", "\ufffd", "\u202e", "\ufeff", "&#0;", "&#xD800;",
    "&#x110000;", "<div>" * 300, "</div>" * 50, "<p>", "</p></div></article>", "<![CDATA[", "<!--", "-->",
    "<script>", "</script>", "（", "）", "【", "】", "(", ")", "{", "}", "[", "]", '"', "\\", "\\u",
    "\\ud800", '"\\udc00"', "<figure><img></figure>", '<img src="data:,x">',
    '<a href="javascript:alert(1)">x</a>', '<a href="http://[::1">x</a>', '<img src="http://x:99999/a.jpg">',
    "<iframe src='//www.youtube.com/embed/x'></iframe>", "window.__APOLLO_STATE__=",
    '{"@type":"NewsArticle","datePublished":["2023-02-30"]}', "2023-02-30T25:61:00Z", "0000-00-00",
    "99999-12-31T00:00:00Z", "30.02.2023", "00.00.0000", "更新: 2023-02-30 13:61 PM",
    "【大纪元2023年2月30日讯】（大纪元记者", "责任编辑：", "#",
]
BAD_JSON_VALUES = [
    "[]", "{}", "null", "true", "0", "-1", "1e999", '"\\ud800"', '["2023-01-01T00:00:00Z"]',
    '{"@value": "x"}', '[{"__ref": "Person:1"}]', '{"__ref": "Nope:1"}', '{"__ref": 5}',
    '"2023-02-30T25:61:00Z"', '"0000-01-01"', '""',
]
BAD_DATES = ["2023-02-30T10:00:00Z", "2023-01-01T24:61:00Z", "0000-01-01T00:00:00Z",
             "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2023-13-01", "not a date", "",
             "2023-01-01T00:00:00+25:00"]
_JSON_VALUE = re.compile(r'("(?:[A-Za-z@_][\w@()":{}, ]{0,40})"\s*:\s*)'
                         r'("(?:[^"\\]|\\.){0,200}"|\[[^\[\]]{0,200}\]|\d+|null|true|false)')
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?"
                   r"|\d{2}\.\d{2}\.\d{4}")
_CHARSET = re.compile(rb"charset=[\"']?[\w-]+", re.I)


@dataclass
class Case:
    site: str
    url: str
    body: bytes


def cases() -> list[Case]:
    """Every fixture page (``tests/fixtures/pages/<site>/<layout>/<case>.html``) with its URL."""
    import json

    found = []
    for html in sorted(FIXTURES.glob("*/*/*.html")):
        expected = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
        found.append(Case(html.parts[-3], expected["fetched_url"], html.read_bytes()))
    return found


def mutate(body: bytes, rng: random.Random) -> tuple[str, bytes, dict[str, str]]:
    """One mutation: its name, the new bytes, and response headers to serve them with."""
    text = body.decode("utf-8")
    kind = rng.choice(["cut", "delete", "duplicate", "junk", "json", "date", "charset", "bytes", "swap_tags"])
    headers: dict[str, str] = {}
    n = len(text)
    if kind == "cut":
        text = text[: rng.randrange(n)]
    elif kind == "delete":
        a = rng.randrange(n)
        text = text[:a] + text[a + rng.randrange(1, max(2, n // 8)):]
    elif kind == "duplicate":
        a = rng.randrange(n)
        b = min(n, a + rng.randrange(1, 2000))
        text = text[:b] + text[a:b] + text[b:]
    elif kind == "junk":
        for _ in range(rng.randrange(1, 6)):
            a = rng.randrange(n)
            text = text[:a] + rng.choice(JUNK) + text[a:]
    elif kind == "json":
        matches = list(_JSON_VALUE.finditer(text))
        for m in rng.sample(matches, min(len(matches), rng.randrange(1, 8))) if matches else []:
            text = text.replace(m.group(0), m.group(1) + rng.choice(BAD_JSON_VALUES), 1)
    elif kind == "date":
        for m in list(_DATE.finditer(text))[:40]:
            if rng.random() < 0.5:
                text = text.replace(m.group(0), rng.choice(BAD_DATES), 1)
    elif kind == "charset":
        encoded = text.encode("gb18030", "replace") if rng.random() < 0.5 else text.encode("utf-8")
        declared = rng.choice(["gb2312", "gbk", "utf-8", "big5", "iso-8859-1", "x-unknown"])
        encoded = _CHARSET.sub(f"charset={declared}".encode(), encoded)
        headers["Content-Type"] = f"text/html; charset={rng.choice(['gb2312', 'utf-8', declared])}"
        return kind, encoded, headers
    elif kind == "bytes":
        raw = bytearray(text.encode("utf-8"))
        for _ in range(rng.randrange(1, 30)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return kind, bytes(raw), headers
    elif kind == "swap_tags":
        tags = ["p", "div", "span", "li"]
        text = re.sub(r"<(/?)(p|div|figure|h2)\b",
                      lambda m: f"<{m.group(1)}{rng.choice(tags)}" if rng.random() < 0.3 else m.group(0),
                      text)
    return kind, text.encode("utf-8", "surrogatepass"), headers


def run(count: int, seed: int = 8) -> tuple[Counter[str], list[str]]:
    """Parse ``count`` mutations; the outcomes by kind, and the tracebacks of other exceptions."""
    rng = random.Random(seed)
    pages = cases()
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    for i in range(count):
        case = pages[i % len(pages)]
        kind, body, headers = mutate(case.body, rng)
        response = HtmlResponse(url=case.url, body=body, headers=headers)
        try:
            get_site(case.site).parse(response)
            outcomes["item"] += 1
        except ParseError as exc:
            outcomes[f"ParseError:{exc.reason}"] += 1
        except Exception:  # what the test forbids
            outcomes["other"] += 1
            failures.append(f"#{i} {case.site} {case.url} {kind}\n{traceback.format_exc()}")
    return outcomes, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    outcomes, failures = run(args.count, args.seed)
    for failure in failures[:20]:
        print(failure)
    print(dict(sorted(outcomes.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
