"""The book's Sphinx extension: citable figures and an HTML book that works offline.

Registered in ``_config.yml`` under ``sphinx: local_extensions: {book_site: _ext/}``.
Each part is a small module with its own ``setup``:

:mod:`.domain`
    the figure data: the ``book`` Sphinx domain keeps every figure of every
    document (label, caption, line), with purge and merge; helpers read it
    (reading order, numbers, chapter titles).
:mod:`.checks`
    every figure has a stable label ``fig-<name>`` (``mystnb: figure: name:`` cell
    metadata, or ``:name:`` of a ``{figure}``), a caption, a number and its three
    files ``<name>.{svg,pdf,png}`` written by :func:`lib.figures.save_figure`; each
    missing piece is a ``book_figures`` warning, fatal under ``-W``.
:mod:`.figures_page`
    the ``{book-figures}`` directive (the generated Figures page) and the copy of
    the figure files, ``figures.bib`` and ``figures.json`` into ``<html>/figures/``.
:mod:`.citation`
    BibTeX for each figure and for the book (``{book-citation}``, from
    ``CITATION.cff``).
:mod:`.offline`
    MathJax served from the build, network assets dropped or reported.
:mod:`.alt_text`
    every figure's image gets its caption's first sentence as alt text.
:mod:`.references`
    the References in author–year style (a pybtex style), as a proper list.
:mod:`.style`
    the book's stylesheet (math never cut off, link contrast in theorem boxes) and
    an accessible name for the code-cell toggles.
:mod:`.execution`
    the ``{book-bench}`` directive of the execution page (``make bench``'s table).
:mod:`.api`
    the ``{book-api}`` directive of the API reference page: ``automodule`` for
    every public module of ``lib``.

Unless ``BOOK_FIGURES_DIR`` is already set, the build sets it to
``<build>/_build/figures`` (next to the execution cache), so that the kernels that
execute the chapters write their figures where the cache of those executions lives:
a cached rebuild finds them again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from . import (
    alt_text,
    api,
    checks,
    citation,
    domain,
    execution,
    figures_page,
    offline,
    references,
    style,
)


def _set_figures_dir(app: Sphinx, config: Any) -> None:
    """Make the kernels write figures next to this build's execution cache."""
    if not os.environ.get("BOOK_FIGURES_DIR"):
        os.environ["BOOK_FIGURES_DIR"] = str(Path(app.outdir).parent / "figures")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _set_figures_dir)
    parts = (domain, checks, citation, figures_page, offline)
    for part in parts + (alt_text, references, style, execution, api):
        part.setup(app)
    app.setup_extension("book_site.downloads")  # chapter notebooks, runnable bundle
    return {
        "version": "2.0",
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
