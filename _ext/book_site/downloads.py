"""Take the book with you: each chapter's executed notebook and a runnable bundle.

- At the top of every chapter page of the HTML build, a line links that chapter's
  executed notebook (``downloads/NN-slug.ipynb``) and the runnable bundle
  (``downloads/attention-book.zip``).
- ``{book-downloads}`` (used by the introduction) lists the bundle, the PDF of the
  whole book (``downloads/attention-book.pdf``, written by ``make pdf``) and the
  chapter notebooks.
- After a successful HTML build, ``<html>/downloads/`` receives the notebooks as
  this build executed them (:func:`executed_notebook`: the outputs shown on the
  pages, from the execution cache) and the bundle made from them by
  :func:`make_bundle`: every chapter notebook, ``lib/``, ``requirements.txt``,
  ``pyproject.toml`` (``requirements.txt`` installs ``lib`` from it) and a README
  with the two commands that set up and run a chapter. Nothing is fetched.

Only the ``html`` builder writes the files and links them; the ``singlehtml``
build (printed as the PDF) names them without links, or links the published site
when ``html_baseurl`` is set.
"""

from __future__ import annotations

import json
import posixpath
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docutils import nodes
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .domain import WARN

logger = logging.getLogger(__name__)

DOWNLOADS = "downloads"
BUNDLE = "attention-book.zip"
BUNDLE_ROOT = "attention-book"
PDF = "attention-book.pdf"
# what the bundle takes from the repository besides the notebooks
_BUNDLED = ("requirements.txt", "pyproject.toml", "lib")
CHAPTER = re.compile(r"^\d\d-[a-z0-9-]+$")
# a fixed date for every member: the same sources give the same archive
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)

BUNDLE_README = """\
# {title}: runnable chapters

Every chapter of the book as a Jupyter notebook (`book/`, with the outputs of the
published build), the package `lib` they import, and the pinned requirements. You need
Python 3.11 and access to the Python package index.

Set up once, in this folder (a virtualenv `.venv` with the pinned packages, and the
Jupyter kernel `attention-book` that every chapter declares):

```bash
python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt && \\
  .venv/bin/python -m ipykernel install --sys-prefix --name attention-book \\
  --display-name "Python (attention-book)"
```

Run a chapter (here the first; its outputs are written back into the notebook, and a
failed check stops it with an error):

```bash
.venv/bin/jupyter nbconvert --to notebook --execute --inplace \\
  book/{example}
```

Or read and run them in JupyterLab, where the MyST (theorems, proofs, references) is
rendered: `.venv/bin/jupyter lab book/`. Figures are written to `_build/figures/`.

Chapters: {chapters}.
"""


def chapter_docs(docnames: Iterable[str]) -> list[str]:
    """The chapters among ``docnames`` (``…/NN-slug``), in order."""
    return sorted(d for d in docnames if CHAPTER.match(posixpath.basename(d)))


def clean_notebook(text: str) -> str:
    """An executed notebook as handed out: without myst-nb's ``source_map``."""
    nb = json.loads(text)
    nb.get("metadata", {}).pop("source_map", None)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def make_bundle(
    root: Path, notebooks: Iterable[Path], dest: Path, title: str = "The book"
) -> Path:
    """Write the runnable bundle ``dest`` (a zip with one folder, ``attention-book``).

    Parameters
    ----------
    root
        The book's repository: ``lib/``, ``requirements.txt`` and ``pyproject.toml``
        are taken from it.
    notebooks
        The chapter notebooks to ship, as ``book/<name>.ipynb``.
    dest
        The archive to write (replaced).
    title
        The book's title, for the README.
    """
    notebooks = sorted(notebooks, key=lambda p: p.name)
    members: list[tuple[str, bytes]] = []
    for rel in _BUNDLED[:2]:
        members.append((rel, (root / rel).read_bytes()))
    for src in sorted((root / "lib").rglob("*")):
        if src.is_file() and "__pycache__" not in src.parts and src.suffix != ".pyc":
            members.append((src.relative_to(root).as_posix(), src.read_bytes()))
    for nb in notebooks:
        text = clean_notebook(nb.read_text(encoding="utf8"))
        members.append((f"book/{nb.name}", text.encode("utf8")))
    names = ", ".join(f"`book/{nb.name}`" for nb in notebooks)
    example = notebooks[0].name if notebooks else "NN-slug.ipynb"
    readme = BUNDLE_README.format(
        title=title, chapters=names or "none", example=example
    )
    members.append(("README.md", readme.encode("utf8")))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(members):
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{name}", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    tmp.replace(dest)
    return dest


# -- links ---------------------------------------------------------------------------


class downloads_list(nodes.General, nodes.Element):
    """Placeholder for ``{book-downloads}``, replaced per builder."""


class DownloadsDirective(SphinxDirective):
    """``{book-downloads}``: the bundle, the PDF and every chapter's notebook."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        return [downloads_list("")]


def _base(app: Sphinx, docname: str) -> str | None:
    """The URL prefix of the downloads folder seen from ``docname``; None: no links."""
    if app.builder.name == "html":
        here = posixpath.dirname(app.builder.get_target_uri(docname))
        return posixpath.relpath(DOWNLOADS, here or ".") + "/"
    baseurl = app.config.html_baseurl
    return f"{baseurl.rstrip('/')}/{DOWNLOADS}/" if baseurl else None


def _link(href: str | None, text: str, download: bool = True) -> str:
    """A link to ``href``; without one (a PDF of the book), just the text."""
    if href is None:
        return text
    attr = " download" if download else ""
    return f'<a class="reference external" href="{href}"{attr}>{text}</a>'


def _chapter_line(base: str, docname: str) -> str:
    name = posixpath.basename(docname)
    return (
        '<p class="book-downloads">Run it yourself: '
        + _link(f"{base}{name}.ipynb", f"this chapter as a notebook ({name}.ipynb)")
        + " · "
        + _link(f"{base}{BUNDLE}", f"every chapter with <code>lib</code> ({BUNDLE})")
        + "</p>"
    )


def _list_html(app: Sphinx, base: str | None) -> str:
    """The ``{book-downloads}`` list; ``base`` None: file names, no links."""
    chapters = chapter_docs(app.env.found_docs)

    def url(name: str) -> str | None:
        return None if base is None else f"{base}{name}"

    items = [
        _link(url(BUNDLE), f"<strong>Runnable bundle</strong> ({BUNDLE})")
        + ": every chapter notebook, <code>lib</code>, the pinned"
        " <code>requirements.txt</code> and a README with the two commands that"
        " set up and run a chapter;",
        _link(url(PDF), f"<strong>The book as one PDF</strong> ({PDF})", False)
        + ": the same chapter, theorem and figure numbers as these pages;",
        "each chapter as an executed notebook: "
        + ", ".join(
            _link(url(f"{posixpath.basename(d)}.ipynb"), posixpath.basename(d))
            for d in chapters
        )
        + ".",
    ]
    body = "".join(f"<li>{item}</li>" for item in items)
    return f'<ul class="book-downloads">{body}</ul>'


def insert_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """The chapter line under each chapter's title; ``{book-downloads}`` filled in."""
    base = _base(app, docname)
    for node in list(doctree.findall(downloads_list)):
        if app.builder.format == "html":
            node.replace_self(nodes.raw("", _list_html(app, base), format="html"))
        else:
            node.replace_self([])
    if base is None or not chapter_docs([docname]):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    section.insert(1, nodes.raw("", _chapter_line(base, docname), format="html"))


# -- files ---------------------------------------------------------------------------


def executed_notebook(app: Sphinx, docname: str) -> str | None:
    """The executed notebook of ``docname`` as this build shows it, or None.

    With ``execute_notebooks: cache`` the outputs come from the execution cache,
    merged into the notebook myst-nb reads from the source (myst-nb's own copy in
    ``<build>/jupyter_execute`` lacks them after a cache hit); otherwise that copy
    holds them.
    """
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    env = app.env
    path = Path(env.doc2path(docname))
    text = path.read_text(encoding="utf8")
    reader = create_nb_reader(str(path), env.myst_config, env.mystnb_config, text)
    cache_path = env.mystnb_config.execution_cache_path
    if reader is not None and cache_path and Path(cache_path).is_dir():
        try:
            _, nb = get_cache(cache_path).merge_match_into_notebook(reader.read(text))
        except KeyError:
            pass
        else:
            return json.dumps(nb)
    written = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"
    if written.is_file():
        nb = json.loads(written.read_text("utf8"))
        code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
        if all(c.get("execution_count") for c in code):
            return json.dumps(nb)
    return None


def write_downloads(app: Sphinx, exc: Exception | None) -> None:
    """``<html>/downloads/``: the executed chapter notebooks and the bundle."""
    if exc is not None or app.builder.name != "html":
        return
    target = Path(app.outdir) / DOWNLOADS
    target.mkdir(parents=True, exist_ok=True)
    shipped = []
    for docname in chapter_docs(app.env.found_docs):
        if NbMetadataCollector.get_exec_data(app.env, docname) is None:
            continue  # not a notebook (a chapter of prose only): nothing to run
        text = executed_notebook(app, docname)
        if text is None:
            logger.warning(
                f"no executed notebook for {docname}: not in the downloads",
                location=docname,
                **WARN,
            )
            continue
        dest = target / f"{posixpath.basename(docname)}.ipynb"
        dest.write_text(clean_notebook(text), encoding="utf8")
        shipped.append(dest)
    for stale in target.glob("*.ipynb"):
        if stale not in shipped:
            stale.unlink()
    root = Path(app.srcdir)
    if shipped and all((root / f).exists() for f in _BUNDLED):
        make_bundle(root, shipped, target / BUNDLE, title=app.config.project)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(downloads_list)
    app.add_directive("book-downloads", DownloadsDirective)
    app.connect("doctree-resolved", insert_links)
    app.connect("build-finished", write_downloads)
    return {"env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
