"""The built HTML book, opened in a real browser with no network.

Run by ``make test-browser`` (part of ``make test``, after the book is built):

    .venv/bin/python -m pytest tests/browser/check_offline_book.py

It is not collected by ``pytest tests`` (the file name does not start with ``test_``): it
needs a built book (``_build/html``, or the folder in ``BOOK_HTML_DIR``) and Debian's
Chromium at ``/usr/bin/chromium`` (``make chromium`` installs it), driven by Playwright's
Python client; Playwright's own browsers are never downloaded.

The book is served by a local ``http.server`` on 127.0.0.1 (``file://`` would break the
search page). Every request to anything else is aborted and recorded. Each page must load with
no failed request, no console error, the mathematics typeset by the book's own MathJax (no raw
TeX left in the text, a MathJax container in every math element, no MathJax error) and every
image decoded. A screenshot of each page goes to ``_build/screenshots/<page>.png``. The search
box is used as a reader would: type a word, press Enter, results appear.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
SHOTS = HTML.parent / "screenshots"
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_DIRS = {"_static", "_sources", "_images", "figures"}
SEARCH_WORD = os.environ.get("BOOK_SEARCH_WORD", "exchangeability")


REDIRECT = re.compile(
    r"""<meta\s+http-equiv=["']?refresh["']?\s+content=["']?\d+;\s*url=([^"'>\s]+)""",
    re.I,
)


def built_pages() -> tuple[list[str], dict[str, str]]:
    """Every HTML page of the build relative to its root (assets aside), and the redirect
    stubs (``index.html`` → the root page) with their targets."""
    if not (HTML / "index.html").is_file():
        return [], {}
    pages, redirects = [], {}
    for path in sorted(HTML.rglob("*.html")):
        name = path.relative_to(HTML).as_posix()
        if SKIP_DIRS & set(path.relative_to(HTML).parts[:-1]):
            continue
        head = path.read_text(encoding="utf8", errors="replace")[:2000]
        match = REDIRECT.search(head) if "<body" not in head.lower() else None
        if match:
            redirects[name] = (
                (path.parent / match.group(1)).resolve().relative_to(HTML).as_posix()
            )
        else:
            pages.append(name)
    return pages, redirects


PAGES, REDIRECTS = built_pages()

# Visible text outside code, scripts and typeset math: where raw TeX would show.
_VISIBLE_TEXT = """() => {
  const skip = "PRE,CODE,SCRIPT,STYLE,TEXTAREA,NOSCRIPT,MJX-CONTAINER,MJX-ASSISTIVE-MML,TEMPLATE,DIALOG";
  const skipSet = new Set(skip.split(","));
  const out = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) out.push(child.textContent);
      else if (child.nodeType === Node.ELEMENT_NODE && !skipSet.has(child.tagName)
               && !child.classList.contains("highlight")) walk(child);
    }
  };
  walk(document.querySelector("main") || document.body);
  return out.join(" ");
}"""
RAW_TEX = re.compile(r"\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac|\\mathbb")


@pytest.fixture(scope="session")
def server():
    if not PAGES:
        pytest.fail(
            f"no built book in {HTML}: run `make test-build` (or `make book`) first"
        )
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


@pytest.fixture(scope="session")
def browser_context(server):
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="book-chromium-")
    blocked: list[str] = []
    origin = urlsplit(server).netloc
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )

        def gate(route):
            url = route.request.url
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob") or parts.netloc == origin:
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        context.set_default_timeout(15000)
        context.route("**/*", gate)
        context.blocked = blocked
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _open(context, url: str):
    """Open ``url`` in a new tab, recording failures, error responses and console errors."""
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "requestfailed",
        lambda r: problems.append(f"request failed: {r.url} ({r.failure})"),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"),
    )
    page.on(
        "console",
        lambda m: m.type == "error" and problems.append(f"console error: {m.text}"),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url, wait_until="load")
    return page, problems


@pytest.mark.parametrize("name", PAGES or ["(no pages)"])
def test_page_renders_offline(browser_context, server, name):
    context = browser_context
    before = len(context.blocked)
    page, problems = _open(context, server + name)
    try:
        n_math = page.evaluate("document.querySelectorAll('.math').length")
        if n_math:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=15000,
            )
            page.evaluate("() => MathJax.startup.promise")
        # the screenshot first, so that a failing page can be looked at
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SHOTS / (name.removesuffix(".html").replace("/", "__") + ".png")),
            full_page=True,
        )
        if n_math:
            untypeset = page.evaluate(
                "[...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container'))"
                ".map(e => e.textContent.slice(0, 80))"
            )
            assert not untypeset, (
                f"{name}: math not typeset by MathJax: {untypeset[:5]}"
            )
            errors = page.evaluate(
                "[...document.querySelectorAll('mjx-merror')].map(e => e.textContent)"
            )
            assert not errors, f"{name}: MathJax errors: {errors[:5]}"
        text = page.evaluate(_VISIBLE_TEXT)
        raw = sorted(
            {
                text[max(0, m.start() - 30) : m.end() + 30]
                for m in RAW_TEX.finditer(text)
            }
        )
        assert not raw, f"{name}: raw TeX left in the page text: {raw[:5]}"
        broken = page.evaluate(
            "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        assert not broken, f"{name}: images that did not load: {broken}"
        if page.evaluate("document.querySelectorAll('figure').length"):
            assert page.evaluate(
                "[...document.querySelectorAll('figure img')].length"
            ), f"{name}: a figure without an image"
        page.wait_for_load_state("networkidle")
        assert not problems, f"{name}: " + "; ".join(problems)
        assert len(context.blocked) == before, (
            f"{name}: tried to reach the network: {context.blocked[before:]}"
        )
    finally:
        page.close()


@pytest.mark.parametrize("name", sorted(REDIRECTS) or ["(no redirects)"])
def test_redirect_leads_to_a_checked_page(browser_context, server, name):
    if name not in REDIRECTS:
        pytest.skip("the build has no redirect page")
    target = REDIRECTS[name]
    assert target in PAGES, (
        f"{name} redirects to {target}, which the build does not have"
    )
    page, problems = _open(browser_context, server + name)
    try:
        page.wait_for_url(server + target)
        page.wait_for_load_state("load")
        assert not problems, "; ".join(problems)
    finally:
        page.close()


def test_search_box_finds_a_word(browser_context, server):
    """Type a word in the search box of the first page; the results list appears."""
    context = browser_context
    first = REDIRECTS.get("index.html", "index.html")
    page, problems = _open(context, server + first)
    try:
        page.locator("button.search-button__button:visible").first.click()
        box = page.locator("#pst-search-dialog input[type=search]")
        box.fill(SEARCH_WORD)
        box.press("Enter")
        page.wait_for_url(re.compile(r"search\.html\?q="), timeout=15000)
        results = page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=15000)
        page.wait_for_function(
            "() => /Search finished, found/.test(document.querySelector('#search-results').innerText)",
            timeout=15000,
        )
        links = results.locator("a").evaluate_all("els => els.map(a => a.href)")
        assert links, f"no search results for {SEARCH_WORD!r}"
        assert all(
            urlsplit(href).netloc == urlsplit(server).netloc for href in links
        ), links
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "search.png"))
        assert not problems, "; ".join(problems)
    finally:
        page.close()
    assert not context.blocked, (
        f"requests to the network were attempted: {context.blocked}"
    )


def test_no_page_names_a_network_asset():
    """Static check of the build: no <script>, stylesheet, image or font from http(s)://."""
    if not PAGES:
        pytest.fail(f"no built book in {HTML}")
    assert "index.html" in PAGES or "index.html" in REDIRECTS
    tag = re.compile(
        r"<(script|link|img|iframe|source|embed|object)\b[^>]*>", re.I | re.S
    )
    attr = re.compile(
        r"""\b(src|href|data)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.I
    )
    offenders = []
    for name in PAGES + sorted(REDIRECTS):
        for m in tag.finditer((HTML / name).read_text(encoding="utf8")):
            if m.group(1).lower() == "link" and not re.search(
                r"rel\s*=\s*[\"']?(stylesheet|preload|icon|modulepreload|prefetch)",
                m.group(0),
                re.I,
            ):
                continue
            for a in attr.finditer(m.group(0)):
                offenders.append(f"{name}: {a.group(2)}")
    css_url = re.compile(
        r"""(?:url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""", re.I
    )
    for css in (HTML / "_static").rglob("*.css"):
        for m in css_url.finditer(css.read_text(encoding="utf8", errors="replace")):
            offenders.append(f"{css.relative_to(HTML)}: {m.group(1)}")
    assert not offenders, "network assets:\n" + "\n".join(offenders)
