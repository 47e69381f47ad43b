"""The book's stylesheet and small accessibility fixes of the generated HTML.

``static/book.css`` (added to every page) keeps mathematics from being cut off
(formulas wider than their box scroll inside it), gives links in theorem and proof
boxes WCAG AA contrast in light and dark mode, and styles the Figures page and the
References list.

The "Show code cell source" toggle of myst-nb's ``hide-input`` cells has the
accessible name "Toggle hidden content", which does not contain its visible text
(axe: ``label-content-name-mismatch``, serious): the ``aria-label`` is dropped so
that the visible text names it.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"
_TOGGLE = '<summary aria-label="Toggle hidden content">\n'


def _add_static(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def _visit_hide_cell(self, node) -> None:
    from myst_nb.sphinx_ import visit_HideCellInput

    start = len(self.body)
    visit_HideCellInput(self, node)
    for i in range(start, len(self.body)):
        if self.body[i] == _TOGGLE:
            self.body[i] = "<summary>\n"


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", _add_static)
    app.add_css_file("book.css")
    try:
        from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput
    except ImportError:  # pragma: no cover - myst-nb is part of jupyter-book
        return
    app.add_node(
        HideCodeCellNode, override=True, html=(_visit_hide_cell, depart_HideCellInput)
    )
