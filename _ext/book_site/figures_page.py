"""The Figures page, and the figure files copied into the HTML build.

``{book-figures}`` (used by ``book/figures.md``) is replaced, at write time, by the
list of every figure of the book generated from the ``book`` domain: thumbnail,
number, caption, chapter, links to the files and a ready-to-paste BibTeX entry.
After a successful HTML build the files of exactly the book's figures are copied
from :func:`~book_site.domain.figures_dir` into ``<html>/figures/``, together with
``figures.bib`` (every entry) and ``figures.json`` (a manifest).
"""

from __future__ import annotations

import html
import json
import posixpath
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

from .alt_text import short_caption
from .checks import check_files
from .citation import citation_data, figure_bibtex
from .domain import (
    FIGURE_FORMATS,
    HTML_FORMATS,
    book_domain,
    book_figures,
    chapter_number,
    chapter_title,
    figures_dir,
)


class figure_list(nodes.General, nodes.Element):
    """Placeholder for the generated list of figures."""


class FigureListDirective(SphinxDirective):
    """``{book-figures}``: the list of every figure (generated at write time)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        book_domain(self.env).note_figure_list(self.env.docname)
        return [figure_list("")]


# the entries are styled by static/book.css

# Without html_baseurl the entries hold site-relative URLs: make them absolute for
# the reader.
_SCRIPT = """<script>
document.addEventListener("DOMContentLoaded", function () {
  var root = new URL(document.documentElement.dataset.content_root || "./",
                     window.location.href);
  document.querySelectorAll(".book-figure-bibtex pre").forEach(function (pre) {
    pre.textContent = pre.textContent.replace(
      /(url\\s*=\\s*\\{|\\\\url\\{)(?!https?:)([^}]*)\\}/g,
      function (m, head, rel) { return head + new URL(rel, root).href + "}"; });
  });
});
</script>"""


def _target_uri(app: Sphinx, docname: str) -> str:
    if hasattr(app.builder, "get_target_uri"):
        return app.builder.get_target_uri(docname)
    return docname


class FigureListTransform(SphinxPostTransform):
    """Replace ``{book-figures}`` by the generated list (before references resolve)."""

    default_priority = 5

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(figure_list)):
            node.replace_self(self.build_list())

    def build_list(self) -> list[nodes.Node]:
        app, env = self.app, self.env
        figs = book_figures(env)
        if not figs:
            return [nodes.paragraph(text="The book has no figures yet.")]
        base_dir = posixpath.dirname(_target_uri(app, env.docname))
        site = citation_data(app)["url"]

        def rel(path: str) -> str:
            return posixpath.relpath(path, base_dir or ".")

        out: list[nodes.Node] = [self.entry(fig, rel, site) for fig in figs]
        if not site:
            out.append(nodes.raw("", _SCRIPT, format="html"))
        return out

    def entry(self, fig: dict[str, Any], rel, site: str) -> nodes.Element:
        app, env = self.app, self.env
        page = _target_uri(app, fig["docname"])
        anchor = f"{page}#{fig['figid']}"
        number = fig["number"] or "?"
        entry = nodes.container(
            classes=["book-figure-entry"], ids=[f"list-{fig['label']}"]
        )
        alt = f"Figure {number}"
        if fig["caption"] is not None:
            alt += ": " + short_caption(fig["caption"])
        thumb = (
            f'<a class="book-figure-thumb" href="{html.escape(rel(anchor))}">'
            f'<img src="{html.escape(rel("figures/" + fig["name"] + ".svg"))}" '
            f'alt="{html.escape(alt)}"></a>'
        )
        entry += nodes.raw("", thumb, format="html")
        text = nodes.container(classes=["book-figure-text"])
        head = nodes.paragraph()
        head += nodes.strong(
            "",
            "",
            nodes.reference("", f"Figure {number}", refuri=rel(anchor), internal=True),
        )
        secnum = chapter_number(env, fig["docname"])
        head += nodes.Text(" · ")
        head += nodes.reference(
            "",
            (f"Chapter {secnum}. " if secnum else "")
            + chapter_title(env, fig["docname"]),
            refuri=rel(page),
            internal=True,
        )
        head += nodes.Text(" · label ")
        head += nodes.literal("", fig["label"])
        text += head
        caption = nodes.paragraph(classes=["book-figure-caption"])
        if fig["caption"] is not None:
            caption.extend(child.deepcopy() for child in fig["caption"].children)
        text += caption
        files = nodes.paragraph(text="Files: ")
        for i, fmt in enumerate(FIGURE_FORMATS):
            if i:
                files += nodes.Text(" · ")
            files += nodes.reference(
                "", fmt.upper(), refuri=rel(f"figures/{fig['name']}.{fmt}")
            )
        text += files
        bib = figure_bibtex(
            app, fig, page_url=f"{site}{anchor}", files_url=f"{site}figures/"
        )
        box = nodes.container(classes=["book-figure-bibtex"])
        box += nodes.literal_block(bib, bib, language="none")
        text += box
        entry += text
        return entry


def _mathjax_on_figure_list(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Captions with math on the figure list: that page needs MathJax too (runs
    before sphinx.ext.mathjax decides, at priority 500)."""
    env = app.env
    domain = book_domain(env)
    if pagename in domain.figure_lists and any(
        rec["caption"] is not None and any(rec["caption"].findall(nodes.math))
        for recs in domain.figures.values()
        for rec in recs
    ):
        env.get_domain("math").data["has_equations"][pagename] = True


def copy_figure_files(app: Sphinx, exc: Exception | None) -> None:
    """Copy the book's figure files, ``figures.bib`` and ``figures.json``."""
    if exc is not None or app.builder.format not in HTML_FORMATS:
        return
    env = app.env
    if not getattr(app, "book_site_files_checked", False):
        check_files(app, env)
    app.book_site_files_checked = False
    target = Path(app.outdir) / "figures"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    folder = figures_dir()
    site = citation_data(app)["url"]
    bib, manifest = [], []
    for fig in book_figures(env):
        for fmt in FIGURE_FORMATS:
            src_file = folder / f"{fig['name']}.{fmt}"
            if src_file.is_file():
                shutil.copy2(src_file, target / f"{fig['name']}.{fmt}")
        anchor = f"{app.builder.get_target_uri(fig['docname'])}#{fig['figid']}"
        bib.append(
            figure_bibtex(
                app, fig, page_url=f"{site}{anchor}", files_url=f"{site}figures/"
            )
        )
        caption = fig["caption"].astext() if fig["caption"] is not None else ""
        manifest.append(
            {
                "label": fig["label"],
                "number": fig["number"],
                "page": anchor,
                "caption": caption,
                "files": [f"figures/{fig['name']}.{fmt}" for fmt in FIGURE_FORMATS],
            }
        )
    (target / "figures.bib").write_text(
        "\n\n".join(bib) + ("\n" if bib else ""), encoding="utf8"
    )
    (target / "figures.json").write_text(
        json.dumps(manifest, indent=1) + "\n", encoding="utf8"
    )


def setup(app: Sphinx) -> None:
    app.add_node(figure_list)
    app.add_directive("book-figures", FigureListDirective)
    app.add_post_transform(FigureListTransform)
    app.connect("html-page-context", _mathjax_on_figure_list, priority=400)
    app.connect("build-finished", copy_figure_files)
