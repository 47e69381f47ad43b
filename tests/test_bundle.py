"""The runnable bundle: unpacked anywhere, a chapter executes as its README says.

The build (``_ext/book_site/downloads.py``) packs the executed notebooks it shows;
here the same :func:`make_bundle` packs the repository's executed pairs
(``book/NN-slug.ipynb``, the same cells: ``test_notebook_pairs``). The archive is
unpacked into a temporary folder and one chapter (``BOOK_BUNDLE_CHAPTER``, default
the first) is executed there with the README's command, by this environment's
Jupyter, with the bundle's own ``lib`` first on the path: the chapter's figures land
in the bundle's ``_build/figures``, which only the bundle's ``lib`` writes to.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
from book_kernel import KERNEL_NAME, declared_kernel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
from book_site.downloads import BUNDLE_ROOT, make_bundle  # noqa: E402

BIN = Path(sys.executable).parent
PAIRS = sorted((ROOT / "book").glob("[0-9][0-9]-*.ipynb"))


def _bundle(tmp_path: Path) -> Path:
    archive = make_bundle(ROOT, PAIRS, tmp_path / "bundle.zip", title="Test")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "unpacked")
    return tmp_path / "unpacked" / BUNDLE_ROOT


def test_the_bundle_holds_what_a_chapter_needs(tmp_path):
    root = _bundle(tmp_path)
    for name in ("requirements.txt", "pyproject.toml"):
        assert (root / name).read_bytes() == (ROOT / name).read_bytes()
    ours = {p.relative_to(ROOT) for p in (ROOT / "lib").glob("*.py")}
    assert {p.relative_to(root) for p in (root / "lib").glob("*.py")} == ours
    assert sorted(p.name for p in (root / "book").glob("*.ipynb")) == [
        p.name for p in PAIRS
    ]
    for nb in (root / "book").glob("*.ipynb"):
        assert declared_kernel(nbformat.read(nb, as_version=4)) == KERNEL_NAME
    readme = (root / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme
    assert f"--name {KERNEL_NAME}" in readme
    assert "jupyter nbconvert --to notebook --execute --inplace" in readme


def test_a_chapter_executes_from_the_unpacked_bundle(tmp_path):
    root = _bundle(tmp_path)
    wanted = os.environ.get("BOOK_BUNDLE_CHAPTER", PAIRS[0].name[:2])
    (chapter,) = (root / "book").glob(f"{wanted}-*.ipynb")
    env = {k: v for k, v in os.environ.items() if k != "BOOK_FIGURES_DIR"}
    env.update(PYTHONPATH=str(root), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute"]
        + ["--inplace", str(chapter.relative_to(root))],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(chapter, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "some cells did not run"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]
    original = nbformat.read(ROOT / "book" / chapter.name, as_version=4)
    if any("save_figure(" in c.source for c in original.cells):
        assert list((root / "_build" / "figures").glob("*.svg")), (
            "the chapter's figures were not written by the bundle's lib"
        )
