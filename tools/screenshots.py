"""Regenerate the README's screenshots of the preview in docs/ (the test suite never writes them).

    python tools/screenshots.py

Serves a copy of templates/ on 127.0.0.1 and photographs it in Debian's chromium: the index, an email
at desktop and mobile width, the dark view, and a template error.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailtpl import Environment  # noqa: E402
from mailtpl.preview import create_app  # noqa: E402

DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "templates"
        shutil.copytree(ROOT / "templates", folder)
        app = create_app(Environment(folder))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            shoot(url, folder)
        finally:
            server.shutdown()
            app.config["MAILTPL_WATCHER"].stop()


def shoot(url: str, folder: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 860})

        def email(fragment: str, path: str, ready: str = "div.code") -> None:
            page.goto(f"{url}/email/verification#{fragment}")
            page.frame_locator("#frame").locator(ready).wait_for()
            page.wait_for_timeout(300)
            page.screenshot(path=str(DOCS / path))

        page.goto(url)
        page.locator("#email-list li").first.wait_for()
        page.screenshot(path=str(DOCS / "index.png"))
        email("view=html&width=375&look=light", "mobile.png")
        email("view=html&width=600&look=invert", "dark.png")
        email("view=html&width=600&look=light", "preview.png")
        template = folder / "verification.hbs"
        template.write_text(template.read_text().replace("{{code}}", "{{#if code}}{{code}}"))
        page.locator("#overlay").wait_for(state="visible")
        page.screenshot(path=str(DOCS / "error.png"))
        browser.close()
    print("wrote", ", ".join(f"docs/{name}" for name in ("index.png", "preview.png", "mobile.png", "dark.png", "error.png")))


if __name__ == "__main__":
    main()
