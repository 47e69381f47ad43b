"""The book's figure data: one Sphinx domain, ``book``, holds it.

For every document the domain keeps the list of its figures as read from the
doctree (:class:`FigureRecord` dictionaries), and the set of documents that show the
generated list of figures (the ``{book-figures}`` directive). Sphinx stores the data in
``env.domaindata["book"]``, clears a document's entries when it is re-read
(:meth:`BookDomain.clear_doc`) and merges them after a parallel read
(:meth:`BookDomain.merge_domaindata`). Everything else reads it through
:func:`book_domain` and :func:`book_figures`.

A *record* is a dict with

``names``, ``ids``
    the figure node's names and ids;
``label``
    its stable label ``fig-<name>`` (``None`` when it has none);
``caption``
    a copy of its caption node (``None`` when empty);
``line``
    its source line.

:func:`book_figures` adds, for labelled figures, ``docname``, ``figid``, ``name``
(the label without ``fig-``, the stem of its files) and ``number`` (``"3.2"``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger("book_site")

FIGURE_FORMATS = ("svg", "pdf", "png")
LABEL = re.compile(r"^fig-([a-z0-9]+(?:-[a-z0-9]+)*)$")
HTML_FORMATS = ("html",)
# every warning of the extension has this type (``suppress_warnings`` can name it)
WARN = {"type": "book_figures"}

FigureRecord = dict[str, Any]


def figures_dir() -> Path:
    """The folder :func:`lib.figures.save_figure` writes to: ``BOOK_FIGURES_DIR``,
    which the extension's ``setup`` sets for the build. (Read here rather than by
    importing lib, which would import torch into every rebuild.)"""
    return Path(os.environ.get("BOOK_FIGURES_DIR", Path.cwd() / "_build" / "figures"))


class BookDomain(Domain):
    """Figures per document, and the documents that list them (see module doc)."""

    name = "book"
    label = "Book"
    data_version = 1
    initial_data: dict[str, Any] = {"figures": {}, "figure_lists": set()}

    @property
    def figures(self) -> dict[str, list[FigureRecord]]:
        """``docname`` → the records of its figures, in document order."""
        return self.data["figures"]

    @property
    def figure_lists(self) -> set[str]:
        """The documents that show the generated list of figures."""
        return self.data["figure_lists"]

    def clear_doc(self, docname: str) -> None:
        self.figures.pop(docname, None)
        self.figure_lists.discard(docname)

    def merge_domaindata(self, docnames: set[str], otherdata: dict[str, Any]) -> None:
        for doc, records in otherdata["figures"].items():
            if doc in docnames:
                self.figures[doc] = records
        self.figure_lists.update(set(otherdata["figure_lists"]) & set(docnames))

    def process_doc(
        self, env: BuildEnvironment, docname: str, document: nodes.document
    ) -> None:
        """Record every figure of ``document`` (called by Sphinx after reading it)."""
        records = []
        for fig in document.findall(nodes.figure):
            captions = [c for c in fig.children if isinstance(c, nodes.caption)]
            caption = (
                captions[0].deepcopy()
                if captions and captions[0].astext().strip()
                else None
            )
            labels = [n for n in fig["names"] if LABEL.match(n)]
            records.append(
                {
                    "names": list(fig["names"]),
                    "ids": list(fig["ids"]),
                    "label": labels[0] if labels else None,
                    "caption": caption,
                    "line": fig.line,
                }
            )
        self.figures[docname] = records

    def note_figure_list(self, docname: str) -> None:
        self.figure_lists.add(docname)


def book_domain(env: BuildEnvironment) -> BookDomain:
    return env.get_domain("book")  # type: ignore[return-value]


def doc_order(env: BuildEnvironment) -> list[str]:
    """Documents in reading order (depth-first through the toctrees from the root)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(doc: str) -> None:
        if doc in seen:
            return
        seen.add(doc)
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            visit(child)

    visit(env.config.root_doc)
    order += sorted(d for d in book_domain(env).figures if d not in seen)
    return order


def figure_number(env: BuildEnvironment, docname: str, figid: str) -> str | None:
    number = env.toc_fignumbers.get(docname, {}).get("figure", {}).get(figid)
    return ".".join(map(str, number)) if number else None


def book_figures(env: BuildEnvironment) -> list[FigureRecord]:
    """Every correctly labelled figure, in reading order, with its number."""
    figures = book_domain(env).figures
    out = []
    for doc in doc_order(env):
        for rec in figures.get(doc, []):
            if rec["label"]:
                figid = rec["ids"][0] if rec["ids"] else rec["label"]
                out.append(
                    dict(
                        rec,
                        docname=doc,
                        figid=figid,
                        name=LABEL.match(rec["label"]).group(1),
                        number=figure_number(env, doc, figid),
                    )
                )
    return out


def chapter_title(env: BuildEnvironment, docname: str) -> str:
    return env.titles[docname].astext() if docname in env.titles else docname


def chapter_number(env: BuildEnvironment, docname: str) -> str:
    """``"3"`` for a numbered chapter, ``""`` for front and back matter."""
    secnum = env.toc_secnumbers.get(docname, {}).get("")
    return ".".join(map(str, secnum)) if secnum else ""


def _outdated(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """The figure list depends on every page: rebuild it whenever anything changes."""
    if added or changed or removed:
        return sorted(book_domain(env).figure_lists - set(removed))
    return []


def setup(app: Sphinx) -> None:
    app.add_domain(BookDomain)
    app.connect("env-get-outdated", _outdated)
