"""Every BibTeX entry the built book hands out compiles with pdflatex + BibTeX.

Run by ``make test-browser`` after the build (like ``check_offline_book.py``, it is
not collected by ``pytest tests``): the entries on the Figures page, the file
``figures/figures.bib`` (the same entries), the book's own entry (``How to cite`` on
the first page) and ``references.bib`` are compiled, together and then each alone
if that fails, in a minimal LaTeX document (``tests/bibtex_compile.py``). Every URL in
them is absolute and starts with the book's base URL (``html_baseurl``, read back
from the pages' canonical links), and the book's entry carries a URL and a date.
"""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from bibtex_compile import compile_bib, entry_keys, missing_tools  # noqa: E402

HTML = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html")).resolve()
ENTRY = re.compile(r"@\w+\{[^@]*?\n\}", re.S)
PRE = re.compile(r"<pre[^>]*>(.*?)</pre>", re.S)
URLS = re.compile(r"(?:\burl\s*=\s*\{|\\url\{)([^}]*)\}")


def _pre_blocks(page: Path) -> list[str]:
    text = page.read_text(encoding="utf8")
    return [html.unescape(re.sub(r"<[^>]+>", "", m)) for m in PRE.findall(text)]


def _base_url() -> str:
    intro = (HTML / "book" / "intro.html").read_text(encoding="utf8")
    m = re.search(r'<link rel="canonical" href="([^"]+)"', intro)
    assert m, "the pages have no canonical link: html_baseurl is not set"
    return m.group(1).removesuffix("book/intro.html")


@pytest.fixture(scope="module")
def handed_out() -> dict[str, list[str]]:
    if not (HTML / "figures" / "figures.bib").is_file():
        pytest.fail(f"no built book in {HTML}: run `make test-build` first")
    page = [
        e
        for block in _pre_blocks(HTML / "book" / "figures.html")
        for e in ENTRY.findall(block.strip() + "\n")
    ]
    book = [
        e
        for block in _pre_blocks(HTML / "book" / "intro.html")
        if "@misc{attention-book," in block
        for e in ENTRY.findall(block.strip() + "\n")
    ]
    return {
        "figures page": page,
        "figures.bib": ENTRY.findall(
            (HTML / "figures" / "figures.bib").read_text(encoding="utf8")
        ),
        "book": book,
        "references.bib": ENTRY.findall(
            (ROOT / "references.bib").read_text(encoding="utf8")
        ),
    }


def test_the_figures_page_hands_out_figures_bib(handed_out):
    assert handed_out["figures page"], "no BibTeX on the Figures page"
    assert handed_out["figures page"] == handed_out["figures.bib"]
    assert len(handed_out["book"]) == 1, "the book's entry is not on the first page"


def test_urls_are_absolute_from_the_base_url(handed_out):
    base = _base_url()
    assert base.startswith(("https://", "http://")), base
    ours = handed_out["figures.bib"] + handed_out["book"]
    urls = [u for entry in ours for u in URLS.findall(entry)]
    assert len(urls) >= 4 * len(handed_out["figures.bib"]) + 1
    wrong = [u for u in urls if not u.startswith(base)]
    assert not wrong, f"URLs not under {base}: {wrong[:5]}"


def test_the_book_entry_has_url_and_date(handed_out):
    (entry,) = handed_out["book"]
    assert re.search(r"\burl\s*=\s*\{https?://", entry), entry
    assert re.search(r"\byear\s*=\s*\{\d{4}\}", entry), entry
    assert re.search(r"\bdate\s*=\s*\{\d{4}-\d{2}-\d{2}\}", entry), entry


def test_every_handed_out_entry_compiles(handed_out, tmp_path):
    missing = missing_tools()
    if missing:
        pytest.fail(f"{missing} not found: run `make latex` (texlive-latex-base)")
    entries = (
        handed_out["figures.bib"] + handed_out["book"] + handed_out["references.bib"]
    )
    keys = [k for e in entries for k in entry_keys(e)]
    assert len(keys) == len(set(keys)), "duplicate BibTeX keys"
    try:
        compile_bib("\n\n".join(entries), tmp_path / "all")
    except AssertionError as whole:
        failing = []
        for i, entry in enumerate(entries):
            try:
                compile_bib(entry, tmp_path / f"entry{i}")
            except AssertionError as err:
                failing.append(f"{entry_keys(entry)}: {str(err)[-600:]}")
        raise AssertionError(
            "entries that do not compile:\n" + "\n".join(failing)
        ) from whole
