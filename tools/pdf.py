"""The book as one PDF: the single-page HTML build, printed by Debian's Chromium.

``make pdf`` builds the book with Sphinx's ``singlehtml`` builder (same sources,
same execution cache and same parsed documents as the HTML build, so the same
chapter, theorem and figure numbers: "Figure 3.2" in both) and then runs this tool,
which

1. serves ``_build/singlehtml`` on 127.0.0.1 (fonts and MathJax's components load
   over HTTP; every request elsewhere is aborted),
2. opens the page in headless ``/usr/bin/chromium`` through Playwright (never
   ``playwright install``), waits for MathJax to typeset every formula and for every
   image to decode, and fails if a formula is left untypeset,
3. prints it to ``_build/pdf/attention-book.pdf`` (A4, page numbers, an outline of
   the headings; figures are the build's SVG files, so they stay vector graphics,
   also the Figures page's thumbnails, whose SVG twins replace the PNGs; the math
   is MathJax's font glyphs), each chapter starting on a new page, with
   the screen-only parts (navigation, buttons, download links) left out,
4. copies it to ``_build/html/downloads/attention-book.pdf``, where the
   introduction links it.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SINGLE = ROOT / "_build" / "singlehtml"
OUT = ROOT / "_build" / "pdf" / "attention-book.pdf"
HTML_COPY = ROOT / "_build" / "html" / "downloads" / "attention-book.pdf"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
# A4 (210 mm) less the margins of PRINT_CSS, in CSS pixels (96 per inch)
COLUMN_PX = round((210 - 30) / 25.4 * 96)
MATHJAX_TIMEOUT_MS = 300_000

# Print-only layout, on top of the theme's own print styles.
PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 16mm 15mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article,
.prev-next-area, .bd-footer, .bd-footer-content, .bd-footer-article,
#pst-back-to-top, .headerlink, p.book-downloads, .search-button-field,
.theme-switch-button, .toggle-secondary-sidebar, .primary-toggle,
.secondary-toggle, .sidebar-toggle, .article-header-buttons
  { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article
  { max-width: 100% !important; width: 100% !important; padding: 0 !important;
    margin: 0 !important; }
html { font-size: 13px; }
span[id^="document-"] + section, span[id^="document-"] + div > section
  { break-before: page; }
figure, .cell_output img, .proof, .admonition, table { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
img { max-width: 100% !important; height: auto; }
pre { white-space: pre-wrap !important; word-break: break-word; }
.cell details.hide { display: none !important; }
/* shadows would be printed as raster images; :not(#_) outranks the theme's rules */
*:not(#_), *:not(#_)::before, *:not(#_)::after
  { box-shadow: none !important; text-shadow: none !important; }
mjx-container[display="true"] { overflow: visible !important; }
"""

FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)

_UNTYPESET = """() => [...document.querySelectorAll('.math')]
  .filter(e => !e.querySelector('mjx-container'))
  .map(e => e.textContent.slice(0, 60))"""
# Display formulas wider than the printed column are scaled down to fit it (on
# screen they scroll); the viewport has the column's width, so the layout matches.
_FIT_DISPLAYS = """() => {
  let n = 0;
  for (const el of document.querySelectorAll('mjx-container[display="true"]')) {
    const math = el.querySelector('mjx-math');
    const box = el.closest('.admonition, .proof, .bd-article') || document.body;
    const style = getComputedStyle(box), edge = box.getBoundingClientRect();
    const left = Math.max(el.getBoundingClientRect().left,
                          edge.left + (parseFloat(style.paddingLeft) || 0));
    const room = edge.right - (parseFloat(style.paddingRight) || 0) - left;
    const need = math ? math.getBoundingClientRect().width : 0;
    if (room > 0 && need > room) {
      el.style.fontSize = (97 * room / need) + '%';
      n += 1;
    }
  }
  return n;
}"""
# The Figures page shows PNG thumbnails; print their SVG twins (same name).
_VECTOR_THUMBNAILS = """() => {
  for (const img of document.querySelectorAll('img[src*="figures/"][src$=".png"]')) {
    img.src = img.getAttribute('src').replace(/[.]png$/, '.svg');
  }
}"""
_BROKEN_IMAGES = """() => [...document.images]
  .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"""


def entry_page(folder: Path) -> str:
    """The single page, at the top of ``folder``.

    Jupyter Book's ``index.html`` only redirects to ``<root doc>.html``
    (``book/intro.html``), whose links are written relative to the top of the build
    (Sphinx's single-page builder places every page there): a copy at the top,
    ``book.html``, finds its styles, scripts and images.
    """
    index = (folder / "index.html").read_text(encoding="utf8", errors="replace")
    match = re.search(r"url=([^\"'>\s]+)", index) if "<body" not in index else None
    if not match:
        return "index.html"
    shutil.copy2(folder / match.group(1), folder / "book.html")
    return "book.html"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request log on the terminal
        pass


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def page_count(pdf: Path) -> int:
    """Pages of a PDF written by Chromium (its page tree's ``/Count``)."""
    counts = re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf.read_bytes())
    if not counts:
        counts = re.findall(rb"/Count\s+(\d+)", pdf.read_bytes())
    return max(int(c) for c in counts) if counts else 0


def print_pdf(folder: Path, out: Path) -> dict[str, float]:
    """Print the single page in ``folder`` to ``out``; timings of the phases."""
    from playwright.sync_api import sync_playwright

    server, base = serve(folder)
    blocked: list[str] = []
    times: dict[str, float] = {}
    start = time.perf_counter()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
            )
            page = browser.new_page(viewport={"width": COLUMN_PX, "height": 1000})

            def route(r):
                if urlsplit(r.request.url).hostname == "127.0.0.1":
                    return r.continue_()
                blocked.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.emulate_media(media="print")
            page.goto(base + entry_page(folder), wait_until="load", timeout=120_000)
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=60_000,
            )
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            page.evaluate(_VECTOR_THUMBNAILS)
            page.wait_for_function(
                "() => [...document.images].every(i => i.complete)", timeout=60_000
            )
            times["load and typeset"] = time.perf_counter() - start
            untypeset = page.evaluate(_UNTYPESET)
            if untypeset:
                raise RuntimeError(f"formulas left untypeset: {untypeset[:5]}")
            broken = page.evaluate(_BROKEN_IMAGES)
            if broken:
                raise RuntimeError(f"images that did not load: {broken[:5]}")
            page.add_style_tag(content=PRINT_CSS)
            fitted = page.evaluate(_FIT_DISPLAYS)
            print(f"{fitted} display formula(s) scaled down to the column's width")
            out.parent.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            page.pdf(
                path=str(out),
                prefer_css_page_size=True,
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
            )
            times["print"] = time.perf_counter() - start
            browser.close()
    finally:
        server.shutdown()
    if blocked:
        print(f"blocked {len(blocked)} request(s) off this machine: {blocked[:3]}")
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=SINGLE, help="singlehtml build")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--copy-to", type=Path, default=HTML_COPY)
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        print(f"no single-page build in {args.html}: run `make pdf`", file=sys.stderr)
        return 2
    times = print_pdf(args.html, args.out)
    args.copy_to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(args.out, args.copy_to)
    size = args.out.stat().st_size / 1e6
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
    print(f"{args.out}: {page_count(args.out)} pages, {size:.1f} MB ({phases})")
    print(f"copied to {args.copy_to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
