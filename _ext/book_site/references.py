"""References in the same author–year style as the in-text citations.

The text cites with sphinxcontrib-bibtex's ``author_year`` style, e.g.
"[Zhang *et al.*, 2022]"; the References page uses the pybtex formatting style
``authoryear`` registered here: entries sorted by author, then year, then title,
and labelled "Zhang et al., 2022", "Diaconis and Freedman, 1980",
"de Finetti, 1937" (a, b, … appended when two labels coincide). ``_config.yml``
makes it the default (``bibtex_default_style: authoryear``).

The HTML writer of docutils marks the reference list as ``role="list"`` with
``role="doc-biblioentry"`` entries, which axe reports as
``aria-required-children`` (a list needs list items): the entries are written as
``role="listitem"`` here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import pybtex.plugin
from docutils import nodes
from pybtex.backends.plaintext import Backend as PlainTextBackend
from pybtex.database import Entry, Person
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx


def _plain(latex: str) -> str:
    """LaTeX (accents, braces) as plain Unicode text."""
    # render(backend), not render_as("text"): that looks the backend up among every
    # installed package's entry points on each call (~30 ms, 80 calls per build)
    return Text.from_latex(latex).render(_TEXT_BACKEND)


_TEXT_BACKEND = PlainTextBackend()


def _surname(person: Person) -> str:
    return _plain(" ".join(person.prelast_names + person.last_names))


def author_year_label(entry: Entry) -> str:
    """``"Zhang et al., 2022"``: one or two surnames, or the first and et al."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in persons]
    if not names:
        who = _plain(entry.fields.get("key", entry.key))
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {_plain(entry.fields.get('year', 'n.d.'))}"


class AuthorYearLabelStyle(BaseLabelStyle):
    """Author–year labels, made unique by a letter after the year."""

    def format_labels(self, sorted_entries: Iterable[Entry]) -> Iterator[str]:
        labels = [author_year_label(entry) for entry in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] > 1:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] % 26]
                seen[label] += 1
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    """pybtex's ``unsrt`` entries, sorted by author and labelled author–year."""

    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


def _visit_citation(self, node: nodes.citation) -> None:
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(
        self.starttag(node, "div", classes=[node.tagname], role="listitem")
    )


def _depart_citation(self, node: nodes.citation) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def setup(app: Sphinx) -> None:
    pybtex.plugin.register_plugin(
        "pybtex.style.labels", "authoryear", AuthorYearLabelStyle, force=True
    )
    pybtex.plugin.register_plugin(
        "pybtex.style.formatting", "authoryear", AuthorYearStyle, force=True
    )
    app.add_node(
        nodes.citation, override=True, html=(_visit_citation, _depart_citation)
    )
