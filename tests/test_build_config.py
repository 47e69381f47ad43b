"""The book's build configuration makes a raising chapter fatal.

myst-nb by default renders a failing cell instead of failing the build; _config.yml
turns that off. This test builds a one-page book with the repository's _config.yml and a
chapter that raises (no ``-W``: the configuration alone must make it fatal), and
requires the build to fail with the chapter's own error in its log, so that the failure
is the cell's and not the set-up's. That the same configuration builds an executed
chapter cleanly (under ``-W``, even) is the first test of tests/test_figures_page.py.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JB = Path(sys.executable).parent / "jupyter-book"

CHAPTER = """---
jupytext:
  text_representation: {{extension: .md, format_name: myst}}
kernelspec: {{display_name: Python 3, language: python, name: python3}}
---
# Probe

```{{code-cell}} ipython3
{body}
```
"""


def _build(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    tmp_path.mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(
        ROOT / "_ext", tmp_path / "_ext"
    )  # the local Sphinx extension _config.yml names
    (tmp_path / "references.bib").write_text((ROOT / "references.bib").read_text())
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: probe\n")
    (tmp_path / "probe.md").write_text(CHAPTER.format(body=body))
    return subprocess.run(
        [str(JB), "build", str(tmp_path)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(
    not JB.exists(), reason="jupyter-book is not installed in this environment"
)
def test_a_raising_chapter_fails_the_build(tmp_path):
    bad = _build(tmp_path / "bad", "raise AssertionError('a theorem check failed')")
    log = bad.stdout + bad.stderr
    assert bad.returncode != 0, "a chapter that raises must fail the build"
    assert "AssertionError" in log and "a theorem check failed" in log, log[-3000:]
    assert "CellExecutionError" in log, log[-3000:]  # failed in execution, as meant
