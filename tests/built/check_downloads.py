"""The downloads of the HTML build: each chapter's notebook and the runnable bundle.

Run by ``make test-pdf`` after the HTML build (``_build/html``, or
``BOOK_HTML_DIR``): ``.venv/bin/python -m pytest tests/built/check_downloads.py``.
Every chapter page links its executed notebook and the bundle, the introduction
links all of them, every link resolves to a file of the build, and the bundle holds
the very notebooks the pages link, the repository's ``lib``, ``requirements.txt``,
``pyproject.toml`` and a README (``tests/test_bundle.py`` runs a chapter from it).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from pages import CHAPTER_PAGES, HTML, ROOT, soup

sys.path.insert(0, str(ROOT / "tools"))
from book_kernel import KERNEL_NAME, declared_kernel  # noqa: E402

DOWNLOADS = HTML / "downloads"
BUNDLE = DOWNLOADS / "attention-book.zip"


def _targets(page: Path, selector: str) -> list[Path]:
    links = soup(page).select(f"{selector} a[href]")
    return [(page.parent / a["href"]).resolve() for a in links]


@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=lambda p: p.stem)
def test_a_chapter_page_links_its_notebook_and_the_bundle(page):
    targets = _targets(page, "p.book-downloads")
    notebook = (DOWNLOADS / f"{page.stem}.ipynb").resolve()
    assert notebook in targets and BUNDLE.resolve() in targets, targets
    nb = nbformat.read(notebook, as_version=4)
    assert declared_kernel(nb) == KERNEL_NAME
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "not an executed notebook"
    assert "source_map" not in nb.metadata


def test_the_introduction_links_every_download():
    targets = _targets(HTML / "book" / "intro.html", "ul.book-downloads")
    wanted = {BUNDLE, DOWNLOADS / "attention-book.pdf"}
    wanted |= {DOWNLOADS / f"{p.stem}.ipynb" for p in CHAPTER_PAGES}
    assert {p.resolve() for p in wanted} <= set(targets)
    for target in targets:
        assert target.is_file(), f"the introduction links a missing {target}"


def test_the_bundle_holds_the_linked_notebooks_and_lib():
    with zipfile.ZipFile(BUNDLE) as zf:
        names = set(zf.namelist())
        for page in CHAPTER_PAGES:
            member = f"attention-book/book/{page.stem}.ipynb"
            assert zf.read(member) == (DOWNLOADS / f"{page.stem}.ipynb").read_bytes()
        for src in (ROOT / "lib").glob("*.py"):
            assert zf.read(f"attention-book/lib/{src.name}") == src.read_bytes()
        for name in ("requirements.txt", "pyproject.toml"):
            assert zf.read(f"attention-book/{name}") == (ROOT / name).read_bytes()
    assert "attention-book/README.md" in names
