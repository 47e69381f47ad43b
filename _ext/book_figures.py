"""Citable figures and an HTML book that works offline (a local Sphinx extension).

Registered in ``_config.yml`` under ``sphinx: local_extensions: {book_figures: _ext/}``.

Figures
    Every figure in the book must have a stable label ``fig-<name>`` (``mystnb: figure: name:``
    cell metadata, or ``:name:`` of a ``{figure}`` directive), a caption and a number, and its
    chapter must have written ``<name>.svg``, ``.pdf`` and ``.png`` with
    :func:`lib.figures.save_figure`. Each missing piece is a Sphinx warning (``book_figures``
    type), hence fatal under ``-W``. After a successful HTML build the files are copied into
    ``<html>/figures/`` together with ``figures.bib`` (a BibTeX entry per figure).

    The ``{book-figures}`` directive (used by ``book/figures.md``) is replaced at write time by
    the list of all figures, generated from the Sphinx environment: thumbnail, number, caption,
    chapter, links to the files and a ready-to-paste BibTeX entry. ``{book-citation}`` renders
    the BibTeX entry of the whole book from ``CITATION.cff``.

    Unless ``BOOK_FIGURES_DIR`` is already set, the build sets it to ``<build>/_build/figures``
    (next to the execution cache), so that the kernels that execute the chapters write their
    figures where the cache of those executions lives: a cached rebuild finds them again.

Offline HTML
    MathJax 3 is served from the build (``_static/mathjax``, copied from the pinned PyPI package
    ``django-static-mathjax``; ``mathjax_path`` in ``_config.yml`` points to it). The assets of
    sphinx-thebe (disabled in this book, but loaded from a CDN on demand) are dropped from every
    page, and any remaining script or stylesheet with an absolute ``http(s)://`` URL is a
    warning. The theme's colour mode defaults to ``auto`` (without a default, the theme logs a
    console error in a fresh browser).
"""

from __future__ import annotations

import html
import json
import os
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

FIGURE_FORMATS = ("svg", "pdf", "png")
LABEL = re.compile(r"^fig-([a-z0-9]+(?:-[a-z0-9]+)*)$")
HTML_FORMATS = ("html",)
WARN = {"type": "book_figures"}


# --------------------------------------------------------------------------------------------
# where the figure files are


def figures_dir() -> Path:
    """The folder :func:`lib.figures.save_figure` writes to (same rule as lib.figures)."""
    try:
        from lib.figures import figures_dir as lib_figures_dir
    except ImportError:  # the book's package is not installed: same default by hand
        return Path(
            os.environ.get("BOOK_FIGURES_DIR", Path.cwd() / "_build" / "figures")
        )
    return lib_figures_dir()


def _set_figures_dir(app: Sphinx, config: Any) -> None:
    """Make the kernels write figures next to this build's execution cache (see module doc)."""
    if not os.environ.get("BOOK_FIGURES_DIR"):
        os.environ["BOOK_FIGURES_DIR"] = str(Path(app.outdir).parent / "figures")


# --------------------------------------------------------------------------------------------
# collecting figures from the doctrees


class figure_list(nodes.General, nodes.Element):
    """Placeholder for the generated list of figures."""


class FigureListDirective(SphinxDirective):
    """``{book-figures}``: the list of every figure of the book (generated at write time)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.book_figure_list_docs = getattr(
            self.env, "book_figure_list_docs", set()
        )
        self.env.book_figure_list_docs.add(self.env.docname)
        return [figure_list("")]


def _env_figures(env: BuildEnvironment) -> dict[str, list[dict[str, Any]]]:
    if not hasattr(env, "book_figures"):
        env.book_figures = {}
    if not hasattr(env, "book_figure_list_docs"):
        env.book_figure_list_docs = set()
    return env.book_figures


def _collect(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    records = []
    for fig in doctree.findall(nodes.figure):
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
    _env_figures(env)[env.docname] = records


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _env_figures(env).pop(docname, None)
    env.book_figure_list_docs.discard(docname)


def _merge(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    _env_figures(env).update(
        {d: r for d, r in _env_figures(other).items() if d in docnames}
    )
    env.book_figure_list_docs |= other.book_figure_list_docs & docnames


def _outdated(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """The figure list depends on every other page: rebuild it whenever anything changes."""
    _env_figures(env)
    if added or changed or removed:
        return sorted(env.book_figure_list_docs - set(removed))
    return []


# --------------------------------------------------------------------------------------------
# the checks


def _doc_order(env: BuildEnvironment) -> list[str]:
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
    order += sorted(d for d in _env_figures(env) if d not in seen)
    return order


def figure_number(env: BuildEnvironment, docname: str, figid: str) -> str | None:
    number = env.toc_fignumbers.get(docname, {}).get("figure", {}).get(figid)
    return ".".join(map(str, number)) if number else None


def book_figures(env: BuildEnvironment) -> list[dict[str, Any]]:
    """Every correctly labelled figure, in reading order, with its number."""
    out = []
    for doc in _doc_order(env):
        for rec in _env_figures(env).get(doc, []):
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


def _check(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (fatal under -W) about a figure without a stable name, a caption or a number."""
    for doc in _doc_order(env):
        records = _env_figures(env).get(doc, [])
        for rec in records:
            where = (doc, rec["line"])
            if not rec["label"]:
                twin = rec["caption"] is not None and any(
                    other is not rec
                    and other["caption"] is not None
                    and other["caption"].astext() == rec["caption"].astext()
                    for other in records
                )
                hint = (
                    " Another figure here has the same caption: a cell with figure metadata "
                    "that displays more than one image (e.g. both `fig` and plt.show(), or "
                    "display(fig)) makes one figure per image, and the duplicate names "
                    "are dropped."
                    if twin
                    else ""
                )
                logger.warning(
                    "figure without a stable name: give it a label 'fig-<name>' (lower-case "
                    "words joined by hyphens; got names %s) and save it with "
                    "lib.figures.save_figure(fig, '<name>').%s",
                    rec["names"] or "none",
                    hint,
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
    _check_files(app, env)


def _check_files(app: Sphinx, env: BuildEnvironment) -> None:
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
                "lib.figures.save_figure(fig, %r); if it does, the execution cache predates "
                "the files: run `BOOK_FIGURES_DIR=%s make figure NAME=%s`, or delete the "
                "execution cache (%s) and build again.",
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
    app.env.book_figures_checked = True


# --------------------------------------------------------------------------------------------
# citation data


def _citation(app: Sphinx) -> dict[str, Any]:
    """Book-level citation data: CITATION.cff when present, else the Sphinx configuration."""
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
                authors.append(
                    f"{a.get('family-names', '')}, {a.get('given-names', '')}".strip(
                        ", "
                    )
                )
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


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text).rstrip(".")


def bibtex_entry(
    app: Sphinx, fig: dict[str, Any], page_url: str, files_url: str
) -> str:
    """A ``@misc`` entry that cites the book and one figure of it."""
    book = _citation(app)
    env = app.env
    chapter = (
        env.titles[fig["docname"]].astext() if fig["docname"] in env.titles else ""
    )
    secnum = env.toc_secnumbers.get(fig["docname"], {}).get("")
    where = f"Chapter {'.'.join(map(str, secnum))}, " if secnum else ""
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
    fields += [
        ("url", page_url),
        (
            "note",
            "Figure files: "
            + ", ".join(
                f"\\url{{{files_url}{fig['name']}.{fmt}}}" for fmt in FIGURE_FORMATS
            ),
        ),
    ]
    body = ",\n".join(f"  {key:<12} = {{{value}}}" for key, value in fields)
    return f"@misc{{attention-book:{fig['label']},\n{body}\n}}"


def book_bibtex(app: Sphinx) -> str:
    """A ``@misc`` entry for the whole book, from CITATION.cff (or the configuration)."""
    book = _citation(app)
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


# --------------------------------------------------------------------------------------------
# the generated list


_STYLE = """<style>
.book-figure-entry{display:flex;gap:1.2rem;align-items:flex-start;margin:1.6rem 0;
  padding-top:1.2rem;border-top:1px solid var(--pst-color-border,#ddd)}
.book-figure-entry .book-figure-thumb{width:220px;max-width:35%;flex:none}
.book-figure-entry .book-figure-thumb img{width:100%;height:auto;border:1px solid var(--pst-color-border,#ddd)}
.book-figure-entry .book-figure-text{flex:1;min-width:0}
.book-figure-entry .book-figure-text p{margin:.2rem 0 .5rem 0}
.book-figure-bibtex pre{font-size:.78em;white-space:pre-wrap}
</style>"""

# Without html_baseurl the entries hold site-relative URLs; make them absolute for the reader.
_SCRIPT = """<script>
document.addEventListener("DOMContentLoaded", function () {
  var root = new URL(document.documentElement.dataset.content_root || "./", window.location.href);
  document.querySelectorAll(".book-figure-bibtex pre").forEach(function (pre) {
    pre.textContent = pre.textContent.replace(/(url\\s*=\\s*\\{|\\\\url\\{)(?!https?:)([^}]*)\\}/g,
      function (m, head, rel) { return head + new URL(rel, root).href + "}"; });
  });
});
</script>"""


class FigureListTransform(SphinxPostTransform):
    """Replace ``{book-figures}`` by the generated list (before references are resolved)."""

    default_priority = 5

    def run(self, **kwargs: Any) -> None:
        placeholders = list(self.document.findall(figure_list))
        if not placeholders:
            return
        for node in placeholders:
            node.replace_self(self.build_list())

    def build_list(self) -> list[nodes.Node]:
        app, env = self.app, self.env
        here = env.docname
        figs = book_figures(env)
        if not figs:
            return [nodes.paragraph(text="The book has no figures yet.")]
        target = (
            app.builder.get_target_uri(here)
            if hasattr(app.builder, "get_target_uri")
            else here
        )
        base_dir = posixpath.dirname(target)
        site = _citation(app)["url"]

        def rel(path: str) -> str:
            return posixpath.relpath(path, base_dir or ".")

        out: list[nodes.Node] = [nodes.raw("", _STYLE, format="html")]
        for fig in figs:
            page = (
                app.builder.get_target_uri(fig["docname"])
                if hasattr(app.builder, "get_target_uri")
                else fig["docname"]
            )
            anchor = f"{page}#{fig['figid']}"
            number = fig["number"] or "?"
            entry = nodes.container(
                classes=["book-figure-entry"], ids=[f"list-{fig['label']}"]
            )
            thumb = (
                f'<a class="book-figure-thumb" href="{html.escape(rel(anchor))}">'
                f'<img src="{html.escape(rel("figures/" + fig["name"] + ".png"))}" '
                f'alt="Thumbnail of Figure {number}"></a>'
            )
            entry += nodes.raw("", thumb, format="html")
            text = nodes.container(classes=["book-figure-text"])
            head = nodes.paragraph()
            head += nodes.strong(
                "",
                "",
                nodes.reference(
                    "", f"Figure {number}", refuri=rel(anchor), internal=True
                ),
            )
            title = (
                env.titles[fig["docname"]].astext()
                if fig["docname"] in env.titles
                else fig["docname"]
            )
            secnum = env.toc_secnumbers.get(fig["docname"], {}).get("")
            head += nodes.Text(" · ")
            head += nodes.reference(
                "",
                (f"Chapter {'.'.join(map(str, secnum))}. " if secnum else "") + title,
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
            bib = bibtex_entry(
                app, fig, page_url=f"{site}{anchor}", files_url=f"{site}figures/"
            )
            box = nodes.container(classes=["book-figure-bibtex"])
            box += nodes.literal_block(bib, bib, language="none")
            text += box
            entry += text
            out.append(entry)
        if not site:
            out.append(nodes.raw("", _SCRIPT, format="html"))
        return out


# --------------------------------------------------------------------------------------------
# offline HTML


def mathjax_source() -> Path:
    """MathJax 3 (es5 bundles, fonts, extensions) from the pinned django-static-mathjax."""
    import mathjax  # the package of django-static-mathjax

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _theme_defaults(app: Sphinx, config: Any) -> None:
    """pydata-sphinx-theme logs a console error on a fresh browser profile unless the colour
    mode has a default ("Got invalid theme mode: ."); jupyter-book's _config.yml cannot set it."""
    if not config.html_context.get("default_mode"):
        config.html_context["default_mode"] = "auto"


def _check_mathjax_path(app: Sphinx) -> None:
    path = app.config.mathjax_path or ""
    if "://" in path or path.startswith("//"):
        logger.warning(
            "mathjax_path %r loads MathJax from the network: the book must work "
            "offline (set it to 'mathjax/tex-mml-chtml.js')",
            path,
            subtype="offline",
            **WARN,
        )


def _drop_network_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Drop sphinx-thebe's assets (thebe is disabled here and would come from a CDN); warn
    about any other script or stylesheet that is not served by the book itself."""
    if app.builder.format not in HTML_FORMATS:
        return

    def is_thebe(asset: Any) -> bool:
        name = getattr(asset, "filename", None) or ""
        body = (getattr(asset, "attributes", None) or {}).get("body", "") or ""
        return "sphinx-thebe" in name or "THEBE_JS_URL" in body

    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if not assets:
            continue
        kept = [a for a in assets if not is_thebe(a)]
        assets[:] = kept
        for asset in kept:
            name = getattr(asset, "filename", None) or str(asset)
            if isinstance(name, str) and re.match(r"^(https?:)?//", name):
                logger.warning(
                    "page %s loads %s from the network: the book must work offline",
                    pagename,
                    name,
                    subtype="offline",
                    **WARN,
                )


def _mathjax_on_figure_list(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Captions with math on the figure list: that page needs MathJax too (runs before
    sphinx.ext.mathjax decides, at priority 500)."""
    env = app.env
    if (
        pagename in _env_figures(env)
        and pagename in env.book_figure_list_docs
        and any(
            rec["caption"] is not None and any(rec["caption"].findall(nodes.math))
            for recs in env.book_figures.values()
            for rec in recs
        )
    ):
        env.get_domain("math").data["has_equations"][pagename] = True


def _drop_thebe_config(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """sphinx-thebe appends an (inert) Binder configuration to pages with code: drop it too."""
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if "text/x-thebe-config" in text or text.startswith("<script>kernelName ="):
            raw.parent.remove(raw)


def _copy_outputs(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format not in HTML_FORMATS:
        return
    outdir = Path(app.outdir)
    # MathJax, once per build folder (and again if the pinned package changes)
    src = mathjax_source()
    dest = outdir / "_static" / "mathjax"
    stamp = dest / ".book-mathjax-source"
    if not stamp.is_file() or stamp.read_text() != str(src):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        stamp.write_text(str(src))
    # the figure files: exactly the book's figures, nothing stale
    env = app.env
    if not getattr(env, "book_figures_checked", False):
        _check_files(app, env)
    env.book_figures_checked = False
    figs = book_figures(env)
    target = outdir / "figures"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    folder = figures_dir()
    site = _citation(app)["url"]
    bib, manifest = [], []
    for fig in figs:
        for fmt in FIGURE_FORMATS:
            src_file = folder / f"{fig['name']}.{fmt}"
            if src_file.is_file():
                shutil.copy2(src_file, target / f"{fig['name']}.{fmt}")
        anchor = f"{app.builder.get_target_uri(fig['docname'])}#{fig['figid']}"
        bib.append(
            bibtex_entry(
                app, fig, page_url=f"{site}{anchor}", files_url=f"{site}figures/"
            )
        )
        manifest.append(
            {
                "label": fig["label"],
                "number": fig["number"],
                "page": anchor,
                "caption": fig["caption"].astext()
                if fig["caption"] is not None
                else "",
                "files": [f"figures/{fig['name']}.{fmt}" for fmt in FIGURE_FORMATS],
            }
        )
    (target / "figures.bib").write_text(
        "\n\n".join(bib) + ("\n" if bib else ""), encoding="utf8"
    )
    (target / "figures.json").write_text(
        json.dumps(manifest, indent=1) + "\n", encoding="utf8"
    )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(figure_list)
    app.add_directive("book-figures", FigureListDirective)
    app.add_directive("book-citation", BookCitationDirective)
    app.add_post_transform(FigureListTransform)
    app.connect("config-inited", _set_figures_dir)
    app.connect("config-inited", _theme_defaults)
    app.connect("builder-inited", _check_mathjax_path)
    app.connect("doctree-read", _collect)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-check-consistency", _check)
    app.connect("doctree-resolved", _drop_thebe_config, priority=900)
    app.connect("html-page-context", _mathjax_on_figure_list, priority=400)
    app.connect("html-page-context", _drop_network_assets, priority=900)
    app.connect("build-finished", _copy_outputs)
    return {
        "version": "1.0",
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
