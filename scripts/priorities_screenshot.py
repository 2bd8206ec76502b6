"""The priorities page's screenshot for docs/images, taken on a seeded database.

    python scripts/priorities_screenshot.py --database-url URL [--query "rank=cost"]

Serves central's real app on a loopback port in this process (no migration: the
database must already be at this version), opens a viewer's session the way the
dashboard benchmark does (user `bench-pages`), and has headless Chromium
(/usr/bin/chromium, or LTA_TEST_CHROMIUM) take the full page. The docs' picture
is taken on the 1,000,000-track seeded year; the browser test takes its own on a
small seeded database.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from werkzeug.serving import make_server

from benchmarks.dashboard import BENCH_USER
from central.auth.audit import CLI
from central.auth.sessions import create_session
from central.auth.users import Role, add_user, get_user
from central.db import open_database
from central.web import create_app
from central.web.auth import SESSION_COOKIE
from central.web.context import AuthSettings, CentralContext, IngestLimits

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "central-priorities.png"
CHROMIUM = os.environ.get("LTA_TEST_CHROMIUM", "/usr/bin/chromium")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--query", default="", help="the page's URL query, e.g. rank=cost")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    db = open_database(args.database_url, Path(tempfile.gettempdir()) / "lta-unused", 1, 4)
    from playwright.sync_api import sync_playwright

    user = get_user(db, BENCH_USER) or add_user(
        db, BENCH_USER, Role.VIEWER, os.urandom(18).hex(), CLI
    )
    session = create_session(db, user.pk, timedelta(hours=1), "127.0.0.1")
    app = create_app(CentralContext(db=db, limits=IngestLimits(), auth=AuthSettings()))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
            )
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.add_cookies([{"name": SESSION_COOKIE, "value": session.token, "url": base}])
            page = context.new_page()
            page.goto(f"{base}/priorities{'?' + args.query if args.query else ''}")
            page.wait_for_selector("#rank-models")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            print(f"{args.out} ({page.locator('#recommendations li').count()} recommendations)")
            browser.close()
    finally:
        server.shutdown()
        db.close()


if __name__ == "__main__":
    main()
