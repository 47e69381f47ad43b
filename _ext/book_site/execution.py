"""The execution page's timings: ``{book-bench}`` shows ``make bench``'s table.

``make bench`` (``tools/bench.py``) writes its Markdown table to
``_build/bench.md``, next to the HTML folder. ``{book-bench}`` parses that file as
MyST where it stands; without it, one sentence says how to produce it. The file is
a dependency of the page, so the next build shows a new table; the page is also
re-read when the file appears or disappears (:func:`_outdated`: a missing file is not
made a dependency, which Sphinx would count as missing on every build).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from . import reread


def bench_file(app: Sphinx) -> Path:
    """``_build/bench.md`` of this build (``<outdir>/../bench.md``)."""
    return Path(app.outdir).parent / "bench.md"


class BookBenchDirective(SphinxDirective):
    """``{book-bench}``: the table of ``make bench``, or how to produce it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        path = bench_file(self.env.app)
        bench_pages(self.env)[self.env.docname] = path.is_file()
        if not path.is_file():
            para = nodes.paragraph()
            para += nodes.Text("No measurements yet: run ")
            para += nodes.literal("", "make bench")
            para += nodes.Text(" (about six minutes), which writes its table to ")
            para += nodes.literal("", "_build/bench.md")
            para += nodes.Text(", then rebuild the book to show it here.")
            return [para]
        self.env.note_dependency(str(path))
        text = path.read_text(encoding="utf8")
        box = nodes.container(classes=["book-bench"])
        self.state.nested_parse(
            StringList(text.splitlines(), source=str(path)), self.content_offset, box
        )
        return [box]


def bench_pages(env) -> dict[str, bool]:
    """Page → whether the bench file existed when it was read."""
    return reread.records(env, "book_bench_pages")


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages read before the bench file appeared (or while it was there, if gone)."""
    return reread.outdated(env, "book_bench_pages", bench_file(app).is_file(), removed)


def setup(app: Sphinx) -> None:
    app.add_directive("book-bench", BookBenchDirective)
    app.connect("env-get-outdated", _outdated)
    reread.forget_purged_pages(app, "book_bench_pages")
