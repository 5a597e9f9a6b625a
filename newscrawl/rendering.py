"""Rendering pages with chromium (scrapy-playwright), only where a page needs it.

:class:`RenderingAddon` wires Debian's chromium into scrapy-playwright from the project's
own settings (``NEWSCRAWL_CHROMIUM_PATH``; no browser download; ``NEWSCRAWL_MIRROR`` as
its proxy). :func:`abort_request`
keeps images, fonts and media out of the browser. :func:`render_meta` is what a request
carries to be rendered.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import Settings

#: Flags for a headless chromium in a container without network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BLOCKED_RESOURCES = frozenset({"image", "font", "media"})


def abort_request(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: the browser never fetches images, fonts or media."""
    return request.resource_type in BLOCKED_RESOURCES


def render_meta(timeout_ms: int) -> dict[str, Any]:
    return {
        "playwright": True,
        "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": timeout_ms},
    }


class RenderingAddon:
    """Sets scrapy-playwright's settings from newscrawl's (runs before the crawler starts)."""

    def update_settings(self, settings: Settings) -> None:
        launch = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
        launch.setdefault("executable_path", settings.get("NEWSCRAWL_CHROMIUM_PATH"))
        launch.setdefault("headless", True)
        launch.setdefault("args", CHROMIUM_ARGS)
        launch.setdefault("timeout", settings.getint("NEWSCRAWL_RENDER_TIMEOUT") * 1000)
        if mirror := settings.get("NEWSCRAWL_MIRROR"):
            # the browser reaches the local mirror as Scrapy does, as a proxy; the mirror's
            # certificate is self-signed
            launch.setdefault("proxy", {"server": mirror})
            launch["args"] = [*launch["args"], "--ignore-certificate-errors"]
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, priority="addon")
        settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT",
                     settings.getint("NEWSCRAWL_RENDER_TIMEOUT") * 1000, priority="addon")
