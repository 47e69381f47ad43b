"""The figure checks: every figure has a stable name, a caption, a number and files.

Each missing piece is a Sphinx warning of type ``book_figures`` (fatal under ``-W``),
located at the figure. Run once per build, when the environment is complete
(``env-check-consistency``); the files are checked again before they are copied if
the environment was pickled from an earlier build (no consistency check then).
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from .domain import (
    FIGURE_FORMATS,
    WARN,
    book_domain,
    book_figures,
    doc_order,
    figure_number,
    figures_dir,
    logger,
)

_TWIN_HINT = (
    " Another figure here has the same caption: a cell with figure metadata that "
    "displays more than one image (e.g. both `fig` and plt.show(), or display(fig)) "
    "makes one figure per image, and the duplicate names are dropped."
)


def check_figures(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn about a figure without a stable name, a caption, a number or files."""
    figures = book_domain(env).figures
    for doc in doc_order(env):
        records = figures.get(doc, [])
        for rec in records:
            where = (doc, rec["line"])
            if not rec["label"]:
                twin = rec["caption"] is not None and any(
                    other is not rec
                    and other["caption"] is not None
                    and other["caption"].astext() == rec["caption"].astext()
                    for other in records
                )
                logger.warning(
                    "figure without a stable name: give it a label 'fig-<name>' "
                    "(lower-case words joined by hyphens; got names %s) and save it "
                    "with lib.figures.save_figure(fig, '<name>').%s",
                    rec["names"] or "none",
                    _TWIN_HINT if twin else "",
                    location=where,
                    subtype="name",
                    **WARN,
                )
            if rec["caption"] is None:
                logger.warning(
                    "figure %s has no caption: every figure needs one",
                    rec["label"] or "(unnamed)",
                    location=where,
                    subtype="caption",
                    **WARN,
                )
            elif rec["label"] and not figure_number(
                env, doc, rec["ids"][0] if rec["ids"] else ""
            ):
                logger.warning(
                    "figure %s has no number (numfig off, or its page is unnumbered)",
                    rec["label"],
                    location=where,
                    subtype="number",
                    **WARN,
                )
    check_files(app, env)


def check_files(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn about each labelled figure whose saved files are missing."""
    folder = figures_dir()
    for fig in book_figures(env):
        missing = [
            f"{fig['name']}.{fmt}"
            for fmt in FIGURE_FORMATS
            if not (folder / f"{fig['name']}.{fmt}").is_file()
        ]
        if missing:
            logger.warning(
                "figure %s: no saved file %s in %s. The cell that draws it must call "
                "lib.figures.save_figure(fig, %r); if it does, the execution cache "
                "predates the files: run `BOOK_FIGURES_DIR=%s make figure NAME=%s`, "
                "or delete the execution cache (%s) and build again.",
                fig["label"],
                ", ".join(missing),
                folder,
                fig["name"],
                folder,
                fig["name"],
                Path(app.outdir).parent / ".jupyter_cache",
                location=(fig["docname"], fig["line"]),
                subtype="files",
                **WARN,
            )
    app.book_site_files_checked = True  # this build checked them (see module doc)


def setup(app: Sphinx) -> None:
    app.connect("env-check-consistency", check_figures)
