"""Build the pictures of the mirror: ``tests/mirror/pictures/manifest.json``.

Every picture the bundled mirror pages show (parsed by the real site parsers, at the URL the
crawler asks for: :meth:`newscrawl.sites.Site.picture_url`) gets a route, served from one of
the base pictures in ``pictures/base/`` (real JPEG, PNG and WebP files, made once with
Pillow: shapes on a plain ground) with a ``tag`` the server appends after the picture's end,
so that each URL has bytes of its own, as on the real sites. Made as unkind as the real
hosts:

* one DW picture is gone (404) and one is 16 MB (over the 15 MB default limit);
* one Epoch Times picture is an HTML page under a ``.jpg`` name, and one has moved to another
  host (a 301 to a CDN outside the site's domains);
* DW's gallery pictures are shown by two pages each (the gallery and the article that
  embeds it): fetched once.

Run ``python -m tests.mirror.build_pictures`` after changing the mirror pages.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from scrapy.http import HtmlResponse

from tests.mirror.server import MIRROR_ROOT, PICTURES

BASES = ("harbour.jpg", "meeting.jpg", "street.jpg", "portrait.jpg", "chart.png", "field.webp")
TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
#: The unkind pictures, by the id or file name in their URL.
GONE = "67411202"  # DW: 404
TOO_LARGE = "67102210"  # DW: 16 MB
NOT_AN_IMAGE = "id13958414-hospital-queue"  # Epoch Times: HTML under .jpg
MOVED = "id13187745-beijing-finance-street"  # Epoch Times: 301 to another host
CDN = "https://img.theepochtimes.com/assets/uploads/moved/"
LARGE_BYTES = 16 * 10**6


def page_pictures(mirror: str | Path, spider: str | None = None) -> dict[str, list[str]]:
    """Picture URL the crawler fetches → the pages (files) that show it, in a bundled mirror
    (by name) or any mirror folder."""
    from newscrawl.sites import get_site

    site = get_site(spider or ("dw" if mirror == "dw" else "epochtimes"))
    directory = MIRROR_ROOT / mirror if isinstance(mirror, str) else mirror
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    shown: dict[str, list[str]] = {}
    for url, route in manifest.items():
        if not route.get("file", "").endswith(".html") or int(route.get("status", 200)) != 200:
            continue
        response = HtmlResponse(url=url, body=(directory / route["file"]).read_bytes(), encoding="utf-8")
        try:
            item = site.parse(response).item
        except Exception:  # pages made to fail (no layout, cut short…) show nothing
            continue
        gallery = item.gallery or {}
        for image in [*item.images, *(gallery.get("images") or [])]:
            fetch = site.picture_url(image["url"], 1920)
            if route["file"] not in shown.setdefault(fetch, []):
                shown[fetch].append(route["file"])
    return shown


def build() -> dict[str, dict]:
    manifest: dict[str, dict] = {}
    mirrors = ("dw", "epochtimes", "epochtimes-day2")
    urls = sorted({url for mirror in mirrors for url in page_pictures(mirror)})
    for n, url in enumerate(urls):
        base = BASES[n % len(BASES)]
        route = {"file": f"base/{base}", "content_type": TYPES[base.rsplit(".", 1)[1]],
                 "tag": hashlib.sha256(url.encode()).hexdigest()[:16]}
        if GONE in url:
            route = {"status": 404}
        elif TOO_LARGE in url:
            route["pad_to"] = LARGE_BYTES
        elif NOT_AN_IMAGE in url:
            route = {"file": "not-a-picture.html", "content_type": "image/jpeg"}
        elif MOVED in url:
            target = CDN + url.rsplit("/", 1)[1]
            manifest[target] = route
            route = {"status": 301, "location": target}
        manifest[url] = route
    return manifest


def add_pictures(directory: Path, spider: str, size: int) -> int:
    """Serve every picture the pages of the mirror in ``directory`` show, each ``size`` bytes
    (a base picture padded with pseudo-random bytes: the benchmark's picture sizes); returns
    how many routes it added to the folder's manifest."""
    shown = page_pictures(directory, spider)
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for n, url in enumerate(sorted(shown)):
        manifest[url] = {"file": str(PICTURES / "base" / BASES[n % 4]), "content_type": "image/jpeg",
                         "tag": hashlib.sha256(url.encode()).hexdigest()[:16], "pad_to": size}
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return len(shown)


def main() -> None:
    manifest = build()
    for special in (GONE, TOO_LARGE, NOT_AN_IMAGE, MOVED):
        assert any(special in url for url in manifest), f"no picture {special} in the mirror pages"
    (PICTURES / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                            encoding="utf-8")
    print(f"{len(manifest)} picture routes in {PICTURES / 'manifest.json'}")


if __name__ == "__main__":
    main()
