"""Pictures kept with the archive: what a kept picture is, how its bytes are checked, where
it is stored and how a post points at it.

Every picture an article shows (lead, inline figures, gallery slides) is fetched once by
:class:`newscrawl.pipelines.PicturesPipeline` and kept as served, never re-encoded, under
the site's folder, named by the SHA-256 of its bytes::

    <NEWSCRAWL_OUTPUT_DIR>/<site>/assets/img/<first two hex digits>/<sha256>.<ext>

so that a picture two articles share, or that a new version of an article keeps, is stored
once. The extension comes from the bytes (their magic numbers, read by ``puremagic``), never
from the URL or the server's ``Content-Type``: only the raster formats browsers show are
kept (JPEG, PNG, GIF, WebP, AVIF). SVG is refused on purpose: it can carry script, and the
archive is published as a website.

A post points at a kept picture by the site-relative URL ``/<site>/assets/img/…`` (where
``make site`` publishes the folder); a picture that could not be kept keeps its remote URL.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit

from newscrawl.files import write_atomic_chunks
from newscrawl.items import adapt

#: The media types kept, and the extension each is stored under.
KEPT_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
}
#: The folder of the kept pictures, in the site's output folder.
PICTURES_DIR = "assets/img"
#: A kept picture's path as the archive writes it (anything else is not ours).
PICTURE_PATH = re.compile(r"^assets/img/[0-9a-f]{2}/[0-9a-f]{64}\.(?:jpg|png|gif|webp|avif)$")
#: How much of the bytes the type check reads.
HEAD_BYTES = 8192


class KeptPicture(TypedDict):
    """The kept copy of a picture (the JSON line's ``file`` of an image)."""

    #: the URL the copy was fetched from (the page's URL at the size asked for)
    url: str
    sha256: str
    #: relative to the site's output folder: ``assets/img/ab/<sha256>.jpg``
    path: str
    bytes: int
    media_type: str


def public_host(url: str) -> bool:
    """Whether a picture URL names a host on the public internet: not ``localhost``, not a
    bare name, not a loopback, private, link-local or otherwise non-global IP address. A page
    cannot make the crawler fetch (and capture in its WARC files) a machine inside its own
    network, e.g. a cloud's metadata address, by naming it as a picture. (A public name that
    resolves to such an address is not caught here.)"""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if not host or ("." not in host and ":" not in host) or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True  # a name


def item_pictures(item: Any) -> list[dict]:
    """The item's image dicts (an item or a JSON line's dict): its images (lead first), then
    its gallery's slides."""
    a = adapt(item) if not isinstance(item, dict) else item
    gallery = a.get("gallery") or {}
    images = [*(a.get("images") or []), *(gallery.get("images") or [] if isinstance(gallery, dict) else [])]
    return [image for image in images if isinstance(image, dict)]


def picture_type(data: bytes) -> str | None:
    """The media type of a picture of a kept type, read from its first bytes; ``None`` when
    the bytes are not one (HTML under a ``.jpg`` name, SVG, a video, nothing)."""
    head = data[:HEAD_BYTES]
    if not head:
        return None
    import puremagic  # at the first picture: a crawl with nothing new never needs it

    try:
        matches = puremagic.magic_string(head)
    except (ValueError, puremagic.PureError):
        return None
    if not matches:
        return None
    best = max(m.confidence for m in matches)
    # the best matches only: an AVIF is also an ISO-BMFF "video/mp4" of the same confidence
    found = [m.mime_type for m in matches if m.confidence == best and m.mime_type in KEPT_TYPES]
    return found[0] if found else None


def picture_path(sha256: str, media_type: str) -> str:
    return f"{PICTURES_DIR}/{sha256[:2]}/{sha256}.{KEPT_TYPES[media_type]}"


def local_url(site: str, file: Any) -> str | None:
    """The site-relative URL of a kept picture (``/<site>/assets/img/…``), or ``None`` when
    ``file`` is no kept picture of ours (a hand-edited or foreign JSON line included)."""
    if not isinstance(file, dict):
        return None
    path = file.get("path")
    if not isinstance(path, str) or not PICTURE_PATH.match(path) or not re.fullmatch(r"[a-z0-9_-]+", site):
        return None
    return f"/{site}/{path}"


def store_picture(site_dir: Path, url: str, data: bytes, media_type: str, *,
                  durable: bool = False) -> tuple[KeptPicture, bool]:
    """Store the bytes under their content address in ``site_dir``; the kept picture and
    whether the file is new (``False``: the same bytes were already stored).

    Written to a temporary file in ``assets/img/`` and renamed into place, so the final
    name only ever holds the whole picture; a killed run leaves at most a ``.tmp-*`` file
    there, which the next run removes (as it opens :class:`newscrawl.archive.Archive`)."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = picture_path(sha256, media_type)
    target = site_dir / path
    kept = KeptPicture(url=url, sha256=sha256, path=path, bytes=len(data), media_type=media_type)
    if target.is_file() and target.stat().st_size == len(data):
        return kept, False
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_chunks(target, [data], durable=durable, temp_dir=site_dir / PICTURES_DIR)
    return kept, True

