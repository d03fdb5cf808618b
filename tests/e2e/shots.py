"""Screenshots of a page in both languages and at both widths, for people to look at
(/tmp/wt11b-shots by default, SCREENSHOT_DIR to change). Nothing is asserted on them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "wt11b-shots")
WIDTHS = {"desk": (1366, 900), "phone": (390, 844)}


def shoot(page, name: str, url: str | None = "") -> None:
    """Save `name`-{ko,en}-{desk,phone}.png of the page (reloaded in each language). With
    `url=None` (a page a POST answered, which cannot be reloaded) only as it is, in its language."""
    SHOT_DIR.mkdir(parents=True, exist_ok=True)
    if url is None:
        lang = page.locator("html").get_attribute("lang") or "ko"
        for label, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(SHOT_DIR / f"{name}-{lang}-{label}.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
        return
    url = url or page.url
    context = page.context
    base = url.split("/", 3)
    origin = "/".join(base[:3]) if url.startswith("http") else None
    for lang in ("ko", "en"):
        if origin:
            context.add_cookies([{"name": "django_language", "value": lang, "url": origin}])
        page.goto(url)
        for label, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(SHOT_DIR / f"{name}-{lang}-{label}.png"), full_page=True)
    if origin:
        context.add_cookies([{"name": "django_language", "value": "ko", "url": origin}])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(url)
