"""Every chapter is a jupytext pair: book/NN-slug.md (source) and .ipynb (executed).

The two must never drift: same cells, same sources, and the .ipynb carries executed
outputs so that nbval can compare the marked summary cells.
"""

from pathlib import Path

import jupytext
import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(p for p in BOOK.glob("[0-9][0-9]-*.md"))


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_chapters():
    assert CHAPTERS, "no chapter found in book/"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_pair_exists_and_is_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `make notebooks`"
    from_md, from_ipynb = jupytext.read(md), jupytext.read(ipynb)
    assert _cells(from_md) == _cells(from_ipynb), (
        f"{md.name} and {ipynb.name} differ: run `make notebooks` after editing the .md"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_ipynb_is_executed(md):
    nb = jupytext.read(md.with_suffix(".ipynb"))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), (
        f"{md.stem}.ipynb has unexecuted code cells: run `make notebooks`"
    )


def test_no_orphan_notebooks():
    for ipynb in BOOK.glob("*.ipynb"):
        assert ipynb.with_suffix(".md").exists(), f"{ipynb.name} has no .md source"
