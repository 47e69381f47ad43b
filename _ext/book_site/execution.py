"""The execution page's timings: ``{book-bench}`` shows ``make bench``'s table.

``make bench`` (``tools/bench.py``) writes its Markdown table to
``_build/bench.md``, next to the HTML folder. ``{book-bench}`` parses that file as
MyST where it stands; without it, one sentence says how to produce it. The file is
a dependency of the page, so the next build shows a new table (and a missing file
keeps the page re-read, so that it appears as soon as the bench has run).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def bench_file(app: Sphinx) -> Path:
    """``_build/bench.md`` of this build (``<outdir>/../bench.md``)."""
    return Path(app.outdir).parent / "bench.md"


class BookBenchDirective(SphinxDirective):
    """``{book-bench}``: the table of ``make bench``, or how to produce it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        path = bench_file(self.env.app)
        self.env.note_dependency(str(path))
        if not path.is_file():
            para = nodes.paragraph()
            para += nodes.Text("No measurements yet: run ")
            para += nodes.literal("", "make bench")
            para += nodes.Text(" (about six minutes), which writes its table to ")
            para += nodes.literal("", "_build/bench.md")
            para += nodes.Text(", then rebuild the book to show it here.")
            return [para]
        text = path.read_text(encoding="utf8")
        box = nodes.container(classes=["book-bench"])
        self.state.nested_parse(
            StringList(text.splitlines(), source=str(path)), self.content_offset, box
        )
        return [box]


def setup(app: Sphinx) -> None:
    app.add_directive("book-bench", BookBenchDirective)
