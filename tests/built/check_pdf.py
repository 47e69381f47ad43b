"""The book as one PDF (``make pdf``) against the HTML build.

Run by ``make test-pdf`` (part of ``make test``, after the strict HTML build):
``.venv/bin/python -m pytest tests/built/check_pdf.py``. The text of the PDF comes
from ``pdftotext`` (Debian's poppler-utils, which ``make test-pdf`` installs if
missing). The PDF must sit where the introduction links it, hold every chapter's
numbered title, and give every figure and theorem-like element of the HTML the same
number, beside the same caption or title; no number may appear in it that the HTML
does not have.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from pages import CHAPTER_PAGES, HTML, NUMBERED, chapter_title, numbered, soup, squash

PDF = HTML / "downloads" / "attention-book.pdf"
FOOTER = re.compile(r"^\s*\d+ / \d+\s*$", flags=re.MULTILINE)

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is missing"
)


@pytest.fixture(scope="module")
def text() -> str:
    assert PDF.is_file(), f"{PDF} is missing: run `make pdf`"
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(PDF), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return squash(FOOTER.sub(" ", out))  # page footers can fall inside a sentence


def test_the_introduction_links_the_pdf():
    intro = soup(HTML / "book" / "intro.html")
    hrefs = [a["href"] for a in intro.select("ul.book-downloads a[href]")]
    pdf = [h for h in hrefs if h.endswith(".pdf")]
    assert pdf, "the introduction has no link to the PDF"
    assert ((HTML / "book" / pdf[0]).resolve()) == PDF.resolve()


def test_the_pdf_is_a_whole_book():
    info = subprocess.run(
        ["pdfinfo", str(PDF)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.MULTILINE).group(1))
    assert pages >= 2 * len(CHAPTER_PAGES), f"only {pages} pages"


def test_every_chapter_title_is_in_the_pdf(text):
    assert CHAPTER_PAGES, "no chapter page in the HTML build"
    missing = [t for t in map(chapter_title, CHAPTER_PAGES) if t not in text]
    assert not missing, f"chapter titles missing from the PDF: {missing}"


def test_figures_and_theorems_have_the_html_numbers(text):
    items = [item for page in CHAPTER_PAGES for item in numbered(page)]
    assert any(i.number.startswith("Figure") for i in items)
    assert any(i.number.startswith("Theorem") for i in items)
    missing = []
    for item in items:
        # "Theorem 3.1 (The atom posterior ...": number and title, in that order
        sep = " " if item.number.startswith("Figure") else " ("
        if f"{item.number}{sep}{item.lead}" not in text:
            missing.append(f"{item.label}: {item.number}{sep}{item.lead}")
    assert not missing, "not in the PDF with the HTML's number:\n" + "\n".join(missing)
    html_numbers = {i.number for i in items}
    pdf_numbers = {" ".join(m) for m in NUMBERED.findall(text)}
    assert pdf_numbers <= html_numbers, (
        f"numbers not in the HTML: {pdf_numbers - html_numbers}"
    )
