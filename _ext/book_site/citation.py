"""BibTeX for the book and for each of its figures.

The book-level data (title, authors, year, version, URL) comes from ``CITATION.cff``
when present, else from the Sphinx configuration (:func:`citation_data`).
:func:`figure_bibtex` makes the ``@misc`` entry of one figure (used by the Figures
page and ``figures/figures.bib``), :func:`book_bibtex` the entry of the whole book,
rendered by the ``{book-citation}`` directive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .domain import FIGURE_FORMATS, chapter_number, chapter_title


def citation_data(app: Sphinx) -> dict[str, Any]:
    """Book-level citation data: CITATION.cff when present, else the configuration."""
    cfg = app.config
    data: dict[str, Any] = {
        "title": cfg.html_title or cfg.project,
        "authors": ["{" + str(cfg.author) + "}"],
        "year": str(cfg.copyright).split(",")[0].strip()[:4],
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
                authors.append("{" + a["name"] + "}")
            else:
                family, given = a.get("family-names", ""), a.get("given-names", "")
                authors.append(f"{family}, {given}".strip(", "))
        data["authors"] = authors or data["authors"]
        if meta.get("date-released"):
            data["year"] = str(meta["date-released"])[:4]
        data["version"] = str(meta.get("version", "") or "")
        data["url"] = cfg.html_baseurl or meta.get("url", "") or ""
    if data["url"] and not data["url"].endswith("/"):
        data["url"] += "/"
    return data


_BIB_ESCAPE = str.maketrans(
    {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "$": r"\$"}
)


def caption_latex(caption: nodes.Element) -> str:
    """The caption as BibTeX-safe text, math kept as ``$...$``."""
    parts = []
    for node in caption.findall(lambda n: isinstance(n, (nodes.Text, nodes.math))):
        if isinstance(node, nodes.math):
            parts.append(f"${node.astext()}$")
        elif not any(isinstance(p, nodes.math) for p in _ancestors(node)):
            parts.append(str(node).translate(_BIB_ESCAPE))
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _ancestors(node: nodes.Node) -> Iterator[nodes.Node]:
    while node.parent is not None:
        node = node.parent
        yield node


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text).rstrip(".")


def figure_bibtex(
    app: Sphinx, fig: dict[str, Any], page_url: str, files_url: str
) -> str:
    """A ``@misc`` entry that cites the book and one figure of it."""
    book = citation_data(app)
    env = app.env
    chapter = chapter_title(env, fig["docname"]) if fig["docname"] in env.titles else ""
    secnum = chapter_number(env, fig["docname"])
    where = f"Chapter {secnum}, " if secnum else ""
    caption = caption_latex(fig["caption"]) if fig["caption"] is not None else ""
    title = (
        f"{{Figure {fig['number']}}}: {_first_sentence(caption)}"
        if caption
        else f"Figure {fig['number']}"
    )
    fields = [
        ("author", " and ".join(book["authors"])),
        ("title", title),
        (
            "howpublished",
            f"Figure {fig['number']} in {where}\\emph{{{book['title']}}} "
            f"({chapter.translate(_BIB_ESCAPE)})",
        ),
        ("year", book["year"]),
    ]
    if book["version"]:
        fields.append(("version", book["version"]))
    files = ", ".join(
        f"\\url{{{files_url}{fig['name']}.{fmt}}}" for fmt in FIGURE_FORMATS
    )
    fields += [("url", page_url), ("note", "Figure files: " + files)]
    body = ",\n".join(f"  {key:<12} = {{{value}}}" for key, value in fields)
    return f"@misc{{attention-book:{fig['label']},\n{body}\n}}"


def book_bibtex(app: Sphinx) -> str:
    """A ``@misc`` entry for the whole book (CITATION.cff, or the configuration)."""
    book = citation_data(app)
    fields = [
        ("author", " and ".join(book["authors"])),
        ("title", book["title"]),
        ("year", book["year"]),
    ]
    if book["version"]:
        fields.append(("version", book["version"]))
    if book["url"]:
        fields.append(("url", book["url"]))
    fields.append(("note", "Executable companion to arXiv:2212.14852"))
    body = ",\n".join(f"  {key:<7} = {{{value}}}" for key, value in fields)
    return f"@misc{{attention-book,\n{body}\n}}"


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
    app.add_directive("book-citation", BookCitationDirective)
