"""BibTeX for the book and for each of its figures.

The book-level data (title, authors, date, version, URL) comes from
``CITATION.cff`` when present, else from the Sphinx configuration
(:func:`citation_data`). Every URL is absolute, from one base URL: ``html_baseurl``
(``html: baseurl:`` in ``_config.yml``), which the environment variable
``BOOK_BASEURL`` overrides at build time for whoever publishes the book. Text is
converted to LaTeX that pdflatex + BibTeX compile (:mod:`.latex`).
:func:`figure_bibtex` makes the ``@misc`` entry of one figure (used by the Figures
page and ``figures/figures.bib``), :func:`book_bibtex` the entry of the whole book,
rendered by the ``{book-citation}`` directive.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .domain import FIGURE_FORMATS, WARN, chapter_number, chapter_title, logger
from .latex import UnsupportedCharacter, formula, text_to_latex

MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
BASEURL_ENV = "BOOK_BASEURL"


def _set_baseurl(app: Sphinx, config: Any) -> None:
    """``BOOK_BASEURL`` (when set) overrides ``html_baseurl`` of _config.yml."""
    override = os.environ.get(BASEURL_ENV, "").strip()
    if override:
        config.html_baseurl = override
    if config.html_baseurl and not config.html_baseurl.endswith("/"):
        config.html_baseurl += "/"


def citation_data(app: Sphinx) -> dict[str, Any]:
    """Book-level citation data: CITATION.cff when present, else the configuration.

    Title and authors as LaTeX; ``year``, ``month`` (a BibTeX macro) and ``date``
    (ISO) from ``date-released``; ``url`` is ``html_baseurl`` (one base URL for
    every link the book hands out), else the CFF ``url``.
    """
    cfg = app.config
    data: dict[str, Any] = {
        "title": cfg.html_title or cfg.project,
        "authors": ["{" + str(cfg.author) + "}"],
        "year": str(cfg.copyright).split(",")[0].strip()[:4],
        "month": "",
        "date": "",
        "version": "",
        "url": cfg.html_baseurl or "",
    }
    cff = Path(app.confdir) / "CITATION.cff"
    if cff.is_file():
        import yaml

        meta = yaml.safe_load(cff.read_text(encoding="utf8")) or {}
        data["title"] = meta.get("title", data["title"])
        authors = []
        for a in meta.get("authors", []):
            if "name" in a:
                authors.append("{" + text_to_latex(a["name"]) + "}")
            else:
                family, given = a.get("family-names", ""), a.get("given-names", "")
                name = f"{family}, {given}".strip(", ")
                authors.append(text_to_latex(name))
        data["authors"] = authors or data["authors"]
        released = meta.get("date-released")
        if released:
            iso = str(released)
            data["year"], data["date"] = iso[:4], iso
            data["month"] = MONTHS[int(iso[5:7]) - 1] if len(iso) >= 7 else ""
        data["version"] = str(meta.get("version", "") or "")
        data["url"] = cfg.html_baseurl or meta.get("url", "") or ""
    data["title"] = text_to_latex(data["title"])
    if data["url"] and not data["url"].endswith("/"):
        data["url"] += "/"
    return data


def caption_latex(caption: nodes.Element, first_sentence: bool = False) -> str:
    """The caption as LaTeX for BibTeX (see :mod:`.latex`): text converted,
    formulas as ``{$...$}``; with ``first_sentence``, up to its first full stop.

    Raises :class:`~book_site.latex.UnsupportedCharacter` for a character with
    no LaTeX form.
    """
    parts = []
    for node in caption.findall(lambda n: isinstance(n, (nodes.Text, nodes.math))):
        if isinstance(node, nodes.math):
            parts.append(formula(node.astext()))
            continue
        if any(isinstance(p, nodes.math) for p in _ancestors(node)):
            continue
        text = str(node)
        end = re.search(r"[.!?](\s|$)", text) if first_sentence else None
        if end:
            parts.append(text_to_latex(text[: end.start()]))
            break
        parts.append(text_to_latex(text))
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _ancestors(node: nodes.Node) -> Iterator[nodes.Node]:
    while node.parent is not None:
        node = node.parent
        yield node


def _bib(fields: list[tuple[str, str]], width: int) -> str:
    """Entry body: values braced, except month macros (``nov``)."""
    lines = []
    for key, value in fields:
        braced = value if key == "month" else f"{{{value}}}"
        lines.append(f"  {key:<{width}} = {braced}")
    return ",\n".join(lines)


def figure_bibtex(
    app: Sphinx, fig: dict[str, Any], page_url: str, files_url: str
) -> str:
    """A ``@misc`` entry that cites the book and one figure of it."""
    book = citation_data(app)
    env = app.env
    chapter = chapter_title(env, fig["docname"]) if fig["docname"] in env.titles else ""
    secnum = chapter_number(env, fig["docname"])
    where = f"Chapter {secnum}, " if secnum else ""
    try:
        caption = (
            caption_latex(fig["caption"], first_sentence=True)
            if fig["caption"] is not None
            else ""
        )
        chapter = text_to_latex(chapter)
    except UnsupportedCharacter as err:
        logger.warning(
            "figure %s: its BibTeX entry would not compile: %s (add it to "
            "_ext/book_site/latex.py)",
            fig["label"],
            err,
            location=(fig["docname"], fig["line"]),
            subtype="bibtex",
            **WARN,
        )
        caption, chapter = "", ""
    title = f"Figure {fig['number']}" + (f": {caption}" if caption else "")
    fields = [
        ("author", " and ".join(book["authors"])),
        ("title", "{" + title + "}"),
        (
            "howpublished",
            f"Figure {fig['number']} in {where}\\emph{{{book['title']}}}"
            + (f" ({chapter})" if chapter else ""),
        ),
        ("year", book["year"]),
    ]
    if book["month"]:
        fields.append(("month", book["month"]))
    if book["version"]:
        fields.append(("version", book["version"]))
    files = ", ".join(
        f"\\url{{{files_url}{fig['name']}.{fmt}}}" for fmt in FIGURE_FORMATS
    )
    fields += [("url", page_url), ("note", "Figure files: " + files)]
    return f"@misc{{attention-book:{fig['label']},\n{_bib(fields, 12)}\n}}"


def book_bibtex(app: Sphinx) -> str:
    """A ``@misc`` entry for the whole book (CITATION.cff, or the configuration)."""
    book = citation_data(app)
    fields = [
        ("author", " and ".join(book["authors"])),
        ("title", "{" + book["title"] + "}"),
        ("year", book["year"]),
    ]
    if book["month"]:
        fields.append(("month", book["month"]))
    if book["date"]:
        fields.append(("date", book["date"]))
    if book["version"]:
        fields.append(("version", book["version"]))
    if book["url"]:
        fields.append(("url", book["url"]))
    fields.append(("note", "Executable companion to arXiv:2212.14852"))
    return f"@misc{{attention-book,\n{_bib(fields, 7)}\n}}"


class BookCitationDirective(SphinxDirective):
    """``{book-citation}``: the book's BibTeX entry, generated from CITATION.cff."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        cff = Path(self.env.app.confdir) / "CITATION.cff"
        if cff.is_file():
            self.env.note_dependency(str(cff))
        text = book_bibtex(self.env.app)
        return [nodes.literal_block(text, text, language="none")]


def setup(app: Sphinx) -> None:
    app.connect("config-inited", _set_baseurl)
    app.add_directive("book-citation", BookCitationDirective)
