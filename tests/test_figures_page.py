"""Citable figures: the build checks every figure and generates the Figures page.

Small probe books are built with the repository's _config.yml and its local extension
(_ext/book_site/). A good book gets a Figures page with number, caption, chapter, files
and BibTeX for each figure, the files in html/figures/, and MathJax served from the
build; a figure without a caption, without a stable name, or without saved files fails
the strict build.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
JB = Path(sys.executable).parent / "jupyter-book"
_spec = importlib.util.spec_from_file_location(
    "book_figure_tool", ROOT / "tools" / "figure.py"
)
figure_tool = importlib.util.module_from_spec(
    _spec
)  # tools/figure.py (`make figure NAME=...`)
_spec.loader.exec_module(figure_tool)

NOTEBOOK_HEADER = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""
# 1x1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4e1"
    "0000000049454e44ae426082"
)


def _book(
    tmp_path: Path, chapters: dict[str, str], with_figures_page: bool = True
) -> Path:
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "_ext", book / "_ext")
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    shutil.copy(ROOT / "CITATION.cff", book / "CITATION.cff")
    (book / "intro.md").write_text("# Probe\n\nA probe book with $x^2$ in it.\n")
    for name, text in chapters.items():
        (book / f"{name}.md").write_text(text)
    (book / "pic.png").write_bytes(PNG)
    toc = [
        "format: jb-book",
        "root: intro",
        "parts:",
        "  - caption: Chapters",
        "    numbered: true",
        "    chapters:",
    ] + [f"      - file: {name}" for name in chapters]
    if with_figures_page:
        (book / "figures.md").write_text("# Figures\n\n```{book-figures}\n```\n")
        toc += ["  - caption: Back matter", "    chapters:", "      - file: figures"]
    (book / "_toc.yml").write_text("\n".join(toc) + "\n")
    return book


def _build(book: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOOK_FIGURES_DIR"}
    env.pop("BOOK_BASEURL", None)
    env.update(extra_env)
    return subprocess.run(
        [str(JB), "build", str(book), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def _static_figure(name: str | None, caption: str | None) -> str:
    opts = f":name: {name}\n" if name else ""
    return f"```{{figure}} pic.png\n{opts}\n{caption or ''}\n```\n"


needs_jb = pytest.mark.skipif(not JB.exists(), reason="jupyter-book is not installed")


@needs_jb
def test_figures_page_lists_every_figure(tmp_path):
    chapter_a = (
        NOTEBOOK_HEADER
        + """# First chapter

See {numref}`fig-probe-curve`.

```{code-cell} ipython3
:mystnb:
:  figure:
:    name: fig-probe-curve
:    caption: |
:      A parabola $y = x^2$ on $[0, 1]$. Second sentence.
import matplotlib.pyplot as plt
from lib.figures import save_figure, use_book_style
use_book_style()
fig, ax = plt.subplots()
ax.plot([0, 0.5, 1], [0, 0.25, 1])
save_figure(fig, "probe-curve")
plt.show()
```
"""
    )
    chapter_b = "# Second chapter\n\n" + _static_figure(
        "fig-probe-static", "A static picture."
    )
    book = _book(tmp_path, {"ch-a": chapter_a, "ch-b": chapter_b})
    saved = book / "_build" / "figures"
    saved.mkdir(parents=True)
    for fmt in (
        "svg",
        "pdf",
        "png",
    ):  # the static figure's files, as save_figure would write them
        (saved / f"probe-static.{fmt}").write_bytes(PNG)
    # the publisher's base URL, given at build time, replaces _config.yml's
    result = _build(book, BOOK_BASEURL="https://books.example.net/attention")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = book / "_build" / "html"
    base = "https://books.example.net/attention/"

    # the files of both figures, in the build, and nothing else
    files = sorted(p.name for p in (html / "figures").iterdir())
    assert files == sorted(
        [
            f"probe-{n}.{fmt}"
            for n in ("curve", "static")
            for fmt in ("pdf", "png", "svg")
        ]
        + ["figures.bib", "figures.json"]
    )
    assert (html / "figures" / "probe-curve.svg").read_bytes() == (
        saved / "probe-curve.svg"
    ).read_bytes()

    # the generated page: number, caption, chapter, files, thumbnail, BibTeX, anchor
    page = (html / "figures.html").read_text()
    for fig, number, doc, chapter in (
        ("probe-curve", "1.1", "ch-a", "First chapter"),
        ("probe-static", "2.1", "ch-b", "Second chapter"),
    ):
        assert f"Figure {number}" in page
        assert f'href="{doc}.html#fig-{fig}"' in page
        assert f'src="figures/{fig}.svg"' in page
        for fmt in ("svg", "pdf", "png"):
            assert f'href="figures/{fig}.{fmt}"' in page
        assert f"@misc{{attention-book:fig-{fig}," in page
        assert chapter in page
    assert "A static picture." in page
    bib = (html / "figures" / "figures.bib").read_text()
    assert bib.count("@misc{") == 2
    assert "title        = {{Figure 1.1: A parabola {$y = x^2$} on {$[0, 1]$}}}" in bib
    assert f"url          = {{{base}ch-a.html#fig-probe-curve}}" in bib
    assert f"\\url{{{base}figures/probe-curve.svg}}" in bib
    assert "month        = " in bib
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["title"] in bib and cff["version"] in bib

    # captions are numbered as on the Figures page; its math is typeset by local MathJax
    chapter_html = (html / "ch-a.html").read_text()
    assert "Figure 1.1" in chapter_html
    # the image's alt text is the caption's first sentence, its math as text
    assert 'alt="A parabola y = x^2 on [0, 1]."' in chapter_html
    assert 'alt="Figure 1.1: A parabola y = x^2 on [0, 1]."' in page
    assert f'<link rel="canonical" href="{base}ch-a.html"' in chapter_html
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert (
        html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    ).is_dir()
    for name in ("figures.html", "ch-a.html", "intro.html"):
        text = (html / name).read_text()
        assert 'src="_static/mathjax/tex-mml-chtml.js"' in text, name
        head = re.sub(r'<link rel="canonical"[^>]*>', "", text.split("<body")[0])
        assert not re.search(r"""(src|href)=["']https?://""", head), name
        assert "unpkg.com" not in text and "thebe" not in text.lower(), name


@needs_jb
def test_a_figure_without_caption_name_or_files_fails_the_build(tmp_path):
    """Each defect is a Sphinx WARNING (fatal under the strict build's ``-W``), even
    in a book without a Figures page: the checks do not depend on the page."""
    chapter = "# Broken figures\n\n" + "\n".join(
        [
            _static_figure("fig-no-caption", None),
            _static_figure(None, "A figure that nobody can cite: it has no name."),
            _static_figure(
                "fig-never-saved", "A figure whose files were never written."
            ),
        ]
    )
    book = _book(tmp_path, {"ch": chapter}, with_figures_page=False)
    saved = book / "_build" / "figures"
    saved.mkdir(parents=True)
    for fmt in ("svg", "pdf", "png"):
        (saved / f"no-caption.{fmt}").write_bytes(PNG)
    result = _build(book)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    assert re.search(
        r"ch\.md:\d+: WARNING: figure fig-no-caption has no caption", out
    ), out[-3000:]
    assert "WARNING: figure without a stable name" in out, out[-3000:]
    assert re.search(
        r"WARNING: figure fig-never-saved: no saved file never-saved\.svg, "
        r"never-saved\.pdf, "
        r"never-saved\.png",
        out,
    ), out[-3000:]
    assert "no-caption.svg" not in out  # its files exist: no complaint about them


def test_citation_cff_agrees_with_the_book():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["message"]
    assert cff["title"] == config["title"]
    assert [a.get("name") for a in cff["authors"]] == [config["author"]]
    version = re.search(
        r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M
    )
    assert cff["version"] == version.group(1)
    assert any("2212.14852" in str(ref) for ref in cff["references"])


def test_make_figure_finds_the_chapter_that_saves_a_figure(tmp_path):
    (tmp_path / "01-a.md").write_text(
        'x\nsave_figure(fig, "ch1-a")\nsave_figure(fig2, name="ch1-b")\n'
    )
    (tmp_path / "02-b.md").write_text(
        "save_figure(fig, 'ch2-a')\n# save_figure(fig, \"ch1-a-extra\")\n"
    )
    (tmp_path / "notes.md").write_text('save_figure(fig, "ch1-a")\n')  # not a chapter
    assert figure_tool.owners("ch1-a", tmp_path) == [tmp_path / "01-a.md"]
    assert figure_tool.owners("ch1-b", tmp_path) == [tmp_path / "01-a.md"]
    assert figure_tool.owners("ch2-a", tmp_path) == [tmp_path / "02-b.md"]
    assert figure_tool.owners("ch9-none", tmp_path) == []
    assert figure_tool.known_names(tmp_path) == [
        "ch1-a",
        "ch1-a-extra",
        "ch1-b",
        "ch2-a",
    ]


def test_every_figure_label_in_the_book_is_saved_by_its_chapter():
    """Static cross-check of the sources: each ``name: fig-X`` has a
    ``save_figure(..., "X")`` in the same chapter (the build checks the files)."""
    for md in sorted((ROOT / "book").glob("[0-9]*.md")):
        text = md.read_text(encoding="utf8")
        labels = set(re.findall(r"name:\s*fig-([a-z0-9-]+)", text))
        saved = set(figure_tool.names_in(text))
        assert labels <= saved, (
            f"{md.name}: labelled but never saved: {sorted(labels - saved)}"
        )


def test_figure_tool_executes_every_cell_and_stops_on_an_error(tmp_path):
    import nbclient.exceptions

    ok = tmp_path / "01-ok.md"
    ok.write_text(
        NOTEBOOK_HEADER
        + "```{code-cell} ipython3\nopen('ran.txt', 'w').write('a')\n```\n\n"
        "```{code-cell} ipython3\nopen('ran.txt', 'a').write('b')\n```\n"
    )
    figure_tool.execute(ok)
    assert (
        tmp_path / "ran.txt"
    ).read_text() == "ab"  # both cells, in order, in the chapter's folder
    bad = tmp_path / "02-bad.md"
    bad.write_text(
        NOTEBOOK_HEADER + "```{code-cell} ipython3\nraise RuntimeError('boom')\n```\n\n"
        "```{code-cell} ipython3\nopen('after.txt', 'w').write('x')\n```\n"
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="boom"):
        figure_tool.execute(bad)
    assert not (tmp_path / "after.txt").exists()


def test_extension_helpers():
    """Small pure functions of the extension: alt text, labels, docstring bars."""
    import sys

    sys.path.insert(0, str(ROOT / "_ext"))
    from book_site.alt_text import latex_to_text
    from book_site.api import ORDER, escape_bars, lib_modules
    from book_site.references import author_year_label
    from pybtex.database import Entry, Person

    assert latex_to_text(r"\beta_L \propto L^{2/5}") == "β_L ∝ L^(2/5)"
    assert latex_to_text(r"\hat z = \frac{\sigma^2}{L}") == "ẑ = (σ^2)/L"
    assert escape_bars("gap |R - R_N| and ``|x|``") == "gap \\|R - R_N\\| and ``|x|``"
    assert escape_bars("| a line block") == "| a line block"
    names = lib_modules(ROOT / "lib")
    assert names[: len(names)] and set(names) >= {"validation", "figures"}
    known = [n for n in ORDER if n in names]
    assert names[: len(known)] == known  # the reading order first
    people = [Person("Zhang, Yufeng"), Person("Liu, Boyi"), Person("Cai, Qi")]
    entry = Entry("article", fields={"year": "2022"}, persons={"author": people})
    assert author_year_label(entry) == "Zhang et al., 2022"
    two = Entry(
        "article",
        fields={"year": "1980"},
        persons={"author": [Person("Diaconis, Persi"), Person("Freedman, David")]},
    )
    assert author_year_label(two) == "Diaconis and Freedman, 1980"
    one = Entry(
        "article",
        fields={"year": "1937"},
        persons={"author": [Person("de Finetti, B.")]},
    )
    assert author_year_label(one) == "de Finetti, 1937"
