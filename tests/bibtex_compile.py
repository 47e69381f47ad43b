"""Compile BibTeX entries with pdflatex + BibTeX, as a reader who cites the book would.

Not a test module: a helper for ``tests/test_bibtex.py`` (entries made from the
chapters' captions, ``references.bib``) and ``tests/browser/check_bibtex.py`` (every
entry the built book hands out). Needs Debian's ``texlive-latex-base`` (pdflatex,
bibtex, natbib, url, amsmath): ``make latex`` installs it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

# A minimal document: the packages any paper that cites a URL and writes math
# loads; natbib's plainnat prints every field the book uses (url, note,
# howpublished, month).
DOCUMENT = r"""\documentclass{article}
\usepackage{amsmath,amssymb}
\usepackage{url}
\usepackage{natbib}
\begin{document}
%(cites)s
\bibliographystyle{plainnat}
\bibliography{refs}
\end{document}
"""
TOOLS = ("pdflatex", "bibtex")
KEY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def entry_keys(bib: str) -> list[str]:
    return KEY.findall(bib)


def compile_bib(bib: str, workdir: Path) -> str:
    """Cite every entry of ``bib`` in the minimal document; return the bibliography
    as LaTeX (the ``.bbl``). Raises AssertionError with the log on any error."""
    workdir.mkdir(parents=True, exist_ok=True)
    keys = entry_keys(bib)
    assert keys, "no BibTeX entry to compile"
    (workdir / "refs.bib").write_text(bib, encoding="utf8")
    cites = "\n".join(rf"\nocite{{{key}}}" for key in keys)
    (workdir / "main.tex").write_text(DOCUMENT % {"cites": cites}, encoding="utf8")
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex"]
    _run(latex, workdir, "pdflatex (first pass)")
    _run(["bibtex", "main"], workdir, "bibtex", ok=(0, 1))  # 1: warnings only
    blg = (workdir / "main.blg").read_text(encoding="utf8", errors="replace")
    assert "error message" not in blg, f"bibtex errors:\n{blg[-3000:]}"
    for n in (2, 3):
        _run(latex, workdir, f"pdflatex (pass {n})")
    log = (workdir / "main.log").read_text(encoding="utf8", errors="replace")
    bad = [
        line
        for line in log.splitlines()
        if line.startswith("!")
        or "Missing character" in line
        or "Citation" in line
        and "undefined" in line
    ]
    assert not bad, "LaTeX problems:\n" + "\n".join(bad[:20])
    assert (workdir / "main.pdf").is_file()
    bbl = (workdir / "main.bbl").read_text(encoding="utf8", errors="replace")
    missing = [key for key in keys if f"{{{key}}}" not in bbl]
    assert not missing, f"entries missing from the bibliography: {missing}"
    return bbl


def _run(cmd: list[str], cwd: Path, what: str, ok: tuple[int, ...] = (0,)) -> None:
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=120
    )
    if proc.returncode not in ok:
        log = cwd / "main.log"
        tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
        raise AssertionError(
            f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{tail}"
        )
