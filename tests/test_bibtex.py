"""BibTeX the book hands out compiles with pdflatex + BibTeX; CITATION.cff is valid.

Without a build: the converter of ``_ext/book_site/latex.py`` on the characters that
broke entries before (ε σ τ Φ β ⁺ Θ, a bare ``N^(-1/2)``), an entry made from every
chapter's figure captions the way the build makes them, and ``references.bib``, each
compiled in a minimal LaTeX document; ``cffconvert --validate`` on CITATION.cff. The
entries of a built book are compiled by ``tests/browser/check_bibtex.py``.

Needs ``texlive-latex-base`` (``make latex``) and cffconvert in its own virtualenv
(``make cffconvert``; cffconvert 2.0.0 requires jsonschema < 4, which the book's
environment cannot have).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(Path(__file__).parent))

from bibtex_compile import compile_bib, missing_tools  # noqa: E402
from book_site.latex import (  # noqa: E402
    UnsupportedCharacter,
    formula,
    math_to_latex,
    text_to_latex,
)

CFFCONVERT = ROOT / ".venv" / "cffconvert" / "bin" / "cffconvert"
PROBLEMS = [
    "Posterior N(μ, σ²) with τ = 1, ε-net of size Θ(1/ε)",
    "Multi-head readout ẑ = (Φ_Q D_β)⁺ at β = 4",
    "with an N^(-1/2) guide and rate L^(−1/2), κ'_loc and x_i^2",
    "50% of #tokens & 1_000 {braces} ~tilde \\backslash $5",
    "Pólya urns, Grünewälder et al., Nadaraya–Watson, ‖x‖ ≤ √n",
]


@pytest.fixture(scope="module")
def latex():
    missing = missing_tools()
    if missing:
        pytest.fail(f"{missing} not found: run `make latex` (texlive-latex-base)")


def _entry(key: str, title: str) -> str:
    return (
        f"@misc{{{key},\n  author = {{{{The executable-book team}}}},\n"
        f"  title = {{{{{title}}}}},\n  year = {{2026}},\n"
        f"  url = {{https://example.org/a_b/c.html#fig-x}}\n}}"
    )


def test_problem_characters_become_latex():
    assert text_to_latex("τ = 1") == "{$\\tau$} = 1"
    assert text_to_latex("N^(-1/2)") == "{$N^{-1/2}$}"
    assert text_to_latex("Φ⁺") == "{$\\Phi^{+}$}"
    assert text_to_latex("a_b & 5%") == "a\\_b \\& 5\\%"
    assert text_to_latex("Pólya") == "P{\\'o}lya"
    assert math_to_latex("L^{−1/2}") == "L^{-1/2}"
    assert formula(" x ") == "{$x$}"
    for text in PROBLEMS:
        assert all(ord(c) < 128 for c in text_to_latex(text)), text
    with pytest.raises(UnsupportedCharacter, match="U\\+2603"):
        text_to_latex("snow ☃")


def test_problem_characters_compile(latex, tmp_path):
    bib = "\n\n".join(
        _entry(f"probe{i}", text_to_latex(text)) for i, text in enumerate(PROBLEMS)
    )
    bbl = compile_bib(bib, tmp_path)
    assert "\\tau" in bbl and "N^{-1/2}" in bbl


def _captions() -> list[tuple[str, str]]:
    out = []
    for md in sorted((ROOT / "book").glob("[0-9][0-9]-*.md")):
        for cell in jupytext.read(md).cells:
            fig = cell.metadata.get("mystnb", {}).get("figure", {})
            if fig.get("caption"):
                out.append((fig.get("name", md.stem), fig["caption"]))
    return out


def _caption_latex(caption: str) -> str:
    """As the build does: ``$...$`` formulas kept (converted), text converted."""
    parts = re.split(r"(?<!\\)\$([^$]+)\$", caption.strip())
    return " ".join(
        (formula(p) if i % 2 else text_to_latex(p)).strip()
        for i, p in enumerate(parts)
        if p.strip()
    )


def test_every_chapter_caption_compiles(latex, tmp_path):
    captions = _captions()
    assert captions, "no figure captions found in book/*.md"
    bib = "\n\n".join(
        _entry(f"cap:{name}", _caption_latex(caption)) for name, caption in captions
    )
    compile_bib(bib, tmp_path)


def test_references_bib_compiles(latex, tmp_path):
    compile_bib((ROOT / "references.bib").read_text(encoding="utf8"), tmp_path)


def test_citation_cff_is_valid():
    if not CFFCONVERT.is_file():
        pytest.fail(f"{CFFCONVERT} is missing: run `make cffconvert`")
    proc = subprocess.run(
        [str(CFFCONVERT), "--validate", "-i", str(ROOT / "CITATION.cff")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout


def test_citation_cff_has_date_and_the_configured_url():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))
    assert cff["url"] == config["html"]["baseurl"]
    assert cff["url"].startswith("https://") and cff["url"].endswith("/")
