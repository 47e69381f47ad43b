"""The built HTML book, opened in a real browser with no network, as a reader sees it.

Run by ``make test-browser`` (part of ``make test``, after the book is built):

    .venv/bin/python -m pytest tests/browser/check_offline_book.py

It is not collected by ``pytest tests`` (the file name does not start with
``test_``): it needs a built book (``_build/html``, or the folder in
``BOOK_HTML_DIR``), Debian's Chromium at ``/usr/bin/chromium`` (``make chromium``
installs it), driven by Playwright's Python client (Playwright's own browsers are
never downloaded), and axe-core from npm in ``.venv/npm`` (``make axe``; or the
file in ``BOOK_AXE_JS``), injected from that local file, never from a CDN.

The book is served by a local ``http.server`` on 127.0.0.1 (``file://`` would break
the search page). Every request to anything else is aborted and recorded. Each page
is opened once; then, at 1400 px and 390 px wide and in light and dark mode:

- it loads with no failed request and no console error, its mathematics typeset by
  the book's own MathJax (no raw TeX left in the text, no MathJax error) and every
  image decoded;
- no math element is clipped: typeset math that sticks out of the box that holds it
  must be inside a scroll container (``overflow-x: auto``) between it and the
  article column, never cut off by ``overflow: hidden`` or spilling out of the
  column;
- every image's alt text is prose (the figure's caption), never a file name; every
  figure is an SVG, shown at 1400 px at least at :data:`MIN_FIGURE_SCALE` of its
  natural size, so that the book style's 10.5 pt text (14 px at natural size) stays near
  11 px or larger;
- axe-core (at 1400 px light and 390 px dark, :data:`AXE_RUNS`) finds no serious or
  critical violation in the book's own content (the article); violations in the
  theme's widgets around it are listed in the report (:data:`THEME_WIDGET_RULES`
  says which and why) but do not fail the test.

Screenshots go to ``_build/screenshots/<page>.png`` (1400 px, light) and
``<page>@390-dark.png`` (390 px, dark): the first screen of each page, or the whole
page with ``BOOK_FULL_SCREENSHOTS=1`` (``make screenshots``); the measurements
(clipped math, figure scales, axe counts by rule) to ``_build/browser-report.json``.
The search box is used as a reader would: type a word, press Enter, results appear.

Pages that are known to fail a check until their chapter is rewritten are listed
in :data:`KNOWN_FAILURES`: their test is a strict xfail, so it turns red as soon as
the page passes and must be removed from the list.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
SHOTS = HTML.parent / "screenshots"
REPORT = HTML.parent / "browser-report.json"
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
AXE_VERSION = "4.14.1"  # pinned; installed by `make axe`
AXE_JS = Path(
    os.environ.get("BOOK_AXE_JS", ROOT / ".venv/npm/node_modules/axe-core/axe.min.js")
)
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
WIDTHS = (1400, 390)
MODES = ("light", "dark")
HEIGHT = 900
# 10.5 pt = 14 px at natural size; at 0.75 it is 10.5 px, i.e. ~11 px
MIN_FIGURE_SCALE = 0.75
# axe-core runs twice per page, covering both widths and both modes (contrast does
# not depend on the width, nor layout on the mode); each run costs seconds.
AXE_RUNS = {(WIDTHS[0], "light"), (WIDTHS[-1], "dark")}
# Screenshots are pictures for a person, not checks: by default the first screen of
# each page; BOOK_FULL_SCREENSHOTS=1 (`make screenshots`) takes whole pages, which costs
# several seconds per chapter (a chapter is ~30 screens long).
FULL_PAGE_SHOTS = os.environ.get("BOOK_FULL_SCREENSHOTS", "") not in ("", "0")
ARTICLE = "article.bd-article"

# axe rules whose violations come from the theme's widgets (pydata-sphinx-theme,
# sphinx-book-theme), outside the article: reported, not failed on. Anything these
# rules find inside the article still fails.
THEME_WIDGET_RULES = {
    "label-content-name-mismatch": (
        "pydata-sphinx-theme's search button (aria-label 'Search', visible text "
        "'Search… Ctrl+K'), colour-mode switch and navigation links"
    ),
    "region": "the theme's header controls sit outside a landmark (moderate)",
}

# Checks that a page fails today until its chapter is rewritten (strict xfail).
# Keys: "clipped-math", "figure-size", "alt-text", "axe".
KNOWN_FAILURES: dict[str, set[str]] = {
    "clipped-math": set(),
    "figure-size": set(),
    "alt-text": set(),
    "axe": set(),
}

REDIRECT = re.compile(
    r"""<meta\s+http-equiv=["']?refresh["']?\s+content=["']?\d+;\s*url=([^"'>\s]+)""",
    re.I,
)


def built_pages() -> tuple[list[str], dict[str, str]]:
    """Every HTML page of the build relative to its root (assets aside), and the
    redirect stubs (``index.html`` → the root page) with their targets."""
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
            target = (path.parent / match.group(1)).resolve().relative_to(HTML)
            redirects[name] = target.as_posix()
        else:
            pages.append(name)
    return pages, redirects


PAGES, REDIRECTS = built_pages()

# Visible text outside code, scripts and typeset math: where raw TeX would show.
_VISIBLE_TEXT = """() => {
  const skip = ["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "NOSCRIPT",
                "MJX-CONTAINER", "MJX-ASSISTIVE-MML", "TEMPLATE", "DIALOG"];
  const skipSet = new Set(skip);
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

_UNTYPESET = """() => [...document.querySelectorAll('.math')]
  .filter(e => !e.querySelector('mjx-container'))
  .map(e => e.textContent.slice(0, 80))"""
_BROKEN_IMAGES = """() => [...document.images]
  .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"""

# Typeset math that sticks out of its box with no scroll container to reach it.
# For each rendered formula (mjx-math), walk up from its container to the article
# column. What must be visible is the formula itself until a scroll container
# (overflow auto/scroll) holds it, then that container. It is clipped if an
# ancestor with overflow hidden/clip cuts it, or if it spills out of the column.
_CLIPPED_MATH = """(column) => {
  const col = document.querySelector(column) || document.body;
  const out = (r, a) => r.left < a.left - 1 || r.right > a.right + 1;
  const found = [];
  for (const math of document.querySelectorAll("mjx-container > mjx-math")) {
    const box = math.parentElement;
    const r = math.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not displayed (collapsed)
    if (!col.contains(box)) continue;
    let verdict = "ok";
    let seen = r;  // what must be visible: the formula, or the box it scrolls in
    for (let a = box; a; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      const ar = a.getBoundingClientRect();
      const clips = ox === "hidden" || ox === "clip";
      if (clips && out(seen, ar)) { verdict = "hidden"; break; }
      if (a === col) { if (out(seen, ar)) verdict = "spills"; break; }
      if (ox === "auto" || ox === "scroll") seen = ar;
    }
    if (verdict !== "ok") {
      found.push({
        display: box.getAttribute("display") === "true",
        width: Math.round(r.width),
        how: verdict,
        where: (box.closest("[id]") || {}).id || "",
        text: (box.closest(".math") || box).textContent.slice(0, 60),
      });
    }
  }
  return found;
}"""

# Images of the article: alt text, natural and rendered width, in a figure or not.
_IMAGES = """(column) => {
  const col = document.querySelector(column) || document.body;
  return [...col.querySelectorAll("img")].map(i => ({
    src: i.getAttribute("src") || "",
    alt: i.getAttribute("alt"),
    figure: (i.closest("figure") || {}).id || null,
    natural: i.naturalWidth,
    shown: Math.round(i.getBoundingClientRect().width * 10) / 10,
  }));
}"""
FILE_NAME = re.compile(r"(^|/)[^\s/]+\.(svg|png|jpe?g|gif|webp|pdf)$|_images/", re.I)

_AXE = """async (column) => {
  const res = await axe.run(document, {resultTypes: ["violations"]});
  return res.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({
      target: n.target.join(" "),
      impact: n.impact,
      content: !!document.querySelector(column)?.contains(
        document.querySelector(n.target[n.target.length - 1])),
      html: n.html.slice(0, 160),
      summary: (n.failureSummary || "").slice(0, 200),
    })),
  }));
}"""

_SET_MODE = """(mode) => {
  document.documentElement.dataset.theme = mode;
  document.documentElement.dataset.mode = mode;
}"""
# after a resize: the theme's debounced (300 ms) update of scrollable regions' tab
# stops; after a colour-mode switch: a frame
_SETTLE = "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 400)))"
_FRAME = "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


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
            viewport={"width": WIDTHS[0], "height": HEIGHT},
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

        context.set_default_timeout(60000)  # a busy 2-core machine
        context.route("**/*", gate)
        context.blocked = blocked
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _open(context, url: str):
    """Open ``url`` in a new tab, recording failures, error responses and console
    errors."""
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


def _shot(page, name: str, suffix: str = "") -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = name.removesuffix(".html").replace("/", "__")
    page.screenshot(path=str(SHOTS / f"{stem}{suffix}.png"), full_page=FULL_PAGE_SHOTS)


def inspect_page(context, server: str, name: str) -> dict[str, Any]:
    """Open ``name`` once and measure everything the tests below assert on."""
    before = len(context.blocked)
    page, problems = _open(context, server + name)
    rep: dict[str, Any] = {"page": name, "clipped": {}, "axe": {}, "images": {}}
    clock = {"open": time.perf_counter()}
    try:
        n_math = page.evaluate("document.querySelectorAll('.math').length")
        if n_math:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=60000,
            )
            page.evaluate("() => MathJax.startup.promise")
        rep["untypeset"] = page.evaluate(_UNTYPESET) if n_math else []
        rep["merror"] = page.evaluate(
            "[...document.querySelectorAll('mjx-merror')].map(e => e.textContent)"
        )
        text = page.evaluate(_VISIBLE_TEXT)
        rep["raw_tex"] = sorted(
            {
                text[max(0, m.start() - 30) : m.end() + 30]
                for m in RAW_TEX.finditer(text)
            }
        )
        rep["broken_images"] = page.evaluate(_BROKEN_IMAGES)
        rep["figures_without_image"] = page.evaluate(
            "[...document.querySelectorAll('figure')]"
            ".filter(f => !f.querySelector('img')).map(f => f.id)"
        )
        clock["loaded"] = time.perf_counter()
        axe_ready = AXE_JS.is_file()
        if axe_ready:
            page.add_script_tag(path=str(AXE_JS))
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.evaluate(_SETTLE)
            for mode in MODES:
                page.evaluate(_SET_MODE, mode)
                page.evaluate(_FRAME)
                key = f"{width}-{mode}"
                rep["clipped"][key] = page.evaluate(_CLIPPED_MATH, ARTICLE)
                if mode == MODES[0]:
                    rep["images"][str(width)] = page.evaluate(_IMAGES, ARTICLE)
                t0 = time.perf_counter()
                if (width, mode) == (WIDTHS[0], "light"):
                    _shot(page, name)
                if (width, mode) == (WIDTHS[-1], "dark"):
                    _shot(page, name, f"@{width}-dark")
                clock["shots"] = clock.get("shots", 0) + time.perf_counter() - t0
                if axe_ready and (width, mode) in AXE_RUNS:
                    t0 = time.perf_counter()
                    rep["axe"][key] = page.evaluate(_AXE, ARTICLE)
                    clock["axe"] = clock.get("axe", 0) + time.perf_counter() - t0
        page.wait_for_load_state("networkidle")
        rep["problems"] = list(problems)
        now = time.perf_counter()
        rep["seconds"] = {
            "load": round(clock["loaded"] - clock["open"], 1),
            "axe": round(clock.get("axe", 0), 1),
            "screenshots": round(clock.get("shots", 0), 1),
            "total": round(now - clock["open"], 1),
        }
        rep["blocked"] = context.blocked[before:]
    finally:
        page.close()
    return rep


@pytest.fixture(scope="session")
def reports(browser_context, server):
    """Page name → its measurements (each page is opened once, on first use)."""
    cache: dict[str, dict[str, Any]] = {}
    start = time.perf_counter()

    def get(name: str) -> dict[str, Any]:
        if name not in cache:
            cache[name] = inspect_page(browser_context, server, name)
        return cache[name]

    yield get
    if cache:
        summary = {
            "seconds": round(time.perf_counter() - start, 1),
            "axe_version": AXE_VERSION,
            "pages": {name: _summary(rep) for name, rep in sorted(cache.items())},
        }
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        path = REPORT.with_name(f"{REPORT.stem}-{worker}.json") if worker else REPORT
        path.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf8")


def _summary(rep: dict[str, Any]) -> dict[str, Any]:
    """Counts for the report: clipped math per width/mode, axe nodes per rule."""
    out: dict[str, Any] = {
        "seconds": rep.get("seconds"),
        "clipped": {},
        "axe_content": {},
        "axe_theme": {},
    }
    for key, found in rep["clipped"].items():
        out["clipped"][key] = {
            "display": sum(f["display"] for f in found),
            "inline": sum(not f["display"] for f in found),
        }
    for key, violations in rep["axe"].items():
        for part, want in (("axe_content", True), ("axe_theme", False)):
            counts = {
                f"{v['id']} ({v['impact']})": n
                for v in violations
                if (n := sum(node["content"] == want for node in v["nodes"]))
            }
            out[part][key] = counts
    out["figure_scales_1400"] = {
        img["figure"]: round(img["shown"] / img["natural"], 3)
        for img in rep["images"].get(str(WIDTHS[0]), [])
        if img["figure"] and img["natural"]
    }
    return out


def _known(request, check: str, name: str) -> None:
    """Mark the running test a strict xfail if ``name`` is in KNOWN_FAILURES[check]."""
    if name in KNOWN_FAILURES[check]:
        request.node.add_marker(
            pytest.mark.xfail(
                strict=True,
                reason=f"{name} is listed in KNOWN_FAILURES[{check!r}]: remove it "
                "from the list once the page passes",
            )
        )


class PageChecks:
    """The checks of one built page (:attr:`page`).

    Every page gets its own subclass (made below), so that pytest-xdist's
    ``--dist loadscope`` runs a page's checks on one worker, which opens the page
    once. (``xdist_group`` marks would say the same, but pytest-xdist 3.8 implements
    them by rewriting a private node attribute that pytest 9.2 no longer reads: every
    worker then opened every page.)
    """

    page = ""

    def test_page_renders_offline(self, reports):
        rep = reports(self.page)
        assert not rep["untypeset"], f"math not typeset: {rep['untypeset'][:5]}"
        assert not rep["merror"], f"MathJax errors: {rep['merror'][:5]}"
        assert not rep["raw_tex"], f"raw TeX left in the text: {rep['raw_tex'][:5]}"
        assert not rep["broken_images"], f"images not loaded: {rep['broken_images']}"
        assert not rep["figures_without_image"], (
            f"figures without an image: {rep['figures_without_image']}"
        )
        assert not rep["problems"], "; ".join(rep["problems"])
        assert not rep["blocked"], f"tried to reach the network: {rep['blocked']}"

    def test_no_math_is_clipped(self, reports, request):
        """At 1400 px and 390 px, light and dark: every formula is fully visible or
        inside a scroll container of its own box."""
        _known(request, "clipped-math", self.page)
        clipped = {k: v for k, v in reports(self.page)["clipped"].items() if v}
        assert not clipped, "clipped math (width-mode: formulas):\n" + "\n".join(
            f"{key}: {json.dumps(found[:4], ensure_ascii=False)}"
            for key, found in clipped.items()
        )

    def test_images_have_prose_alt_text(self, reports, request):
        _known(request, "alt-text", self.page)
        images = reports(self.page)["images"][str(WIDTHS[0])]
        bad = [
            img
            for img in images
            if not (img["alt"] or "").strip() or FILE_NAME.search(img["alt"].strip())
        ]
        assert not bad, "images whose alt text is empty or a file name: " + ", ".join(
            f"{img['src']} (alt={img['alt']!r})" for img in bad
        )

    def test_figures_are_vector_graphics(self, reports):
        """Figures are shown as SVG (sharp on any screen), never as PNG."""
        images = reports(self.page)["images"][str(WIDTHS[0])]
        raster = [img["src"] for img in images if img["figure"]]
        raster = [src for src in raster if not src.lower().endswith(".svg")]
        assert not raster, f"figures shown as raster images: {raster}"

    def test_figures_are_shown_legibly(self, reports, request):
        """At 1400 px every figure is shown at ≥ MIN_FIGURE_SCALE of its natural
        size."""
        _known(request, "figure-size", self.page)
        images = reports(self.page)["images"][str(WIDTHS[0])]
        small = {
            img["figure"]: round(img["shown"] / img["natural"], 2)
            for img in images
            if img["figure"]
            and img["natural"]
            and img["shown"] / img["natural"] < MIN_FIGURE_SCALE
        }
        assert not small, (
            f"figures shown below {MIN_FIGURE_SCALE} of their natural size at "
            f"{WIDTHS[0]} px (their text is then under ~11 px): {small}; make the "
            "figure narrower (at most ~7.5 in at the book style's font size)"
        )

    def test_axe_finds_no_serious_violation_in_the_content(self, reports, request):
        """axe-core (AXE_RUNS: 1400 px light, 390 px dark): no serious or critical
        violation whose element is in the article, and none outside it but from the
        rules of THEME_WIDGET_RULES."""
        _known(request, "axe", self.page)
        if not AXE_JS.is_file():
            pytest.fail(f"axe-core is missing ({AXE_JS}): run `make axe`")
        failures = []
        for key, violations in reports(self.page)["axe"].items():
            for v in violations:
                for node in v["nodes"]:
                    impact = node["impact"] or v["impact"]
                    if impact not in ("serious", "critical"):
                        continue
                    if node["content"] or v["id"] not in THEME_WIDGET_RULES:
                        failures.append(
                            f"{key} {v['id']} ({impact}): {node['target']}: "
                            f"{node['summary']} | {node['html']}"
                        )
        assert not failures, f"{len(failures)} violations:\n" + "\n".join(failures[:12])


def _page_class_name(page: str) -> str:
    return "TestPage_" + re.sub(r"\W", "_", page.removesuffix(".html"))


# One class per page, the largest pages first (a worker takes the next page when it
# is free, so the long ones should not come last).
for _page in sorted(PAGES, key=lambda n: -(HTML / n).stat().st_size):
    globals()[_page_class_name(_page)] = type(
        _page_class_name(_page), (PageChecks,), {"page": _page}
    )


def test_axe_core_is_the_pinned_version():
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `make axe`")
    head = AXE_JS.read_text(encoding="utf8", errors="replace")[:300]
    assert f"axe v{AXE_VERSION}" in head, head[:120]


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
            "() => /Search finished, found/"
            ".test(document.querySelector('#search-results').innerText)",
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
    """Static check of the build: no <script>, stylesheet, image or font from
    http(s)://."""
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
