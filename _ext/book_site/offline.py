"""An HTML book that works offline: nothing is loaded from the network.

- MathJax 3 is served from the build (``_static/mathjax``, copied from the pinned
  PyPI package ``django-static-mathjax``; ``mathjax_path`` in ``_config.yml`` points
  to it); a ``mathjax_path`` on the network is a warning.
- The assets of sphinx-thebe (disabled in this book, but loaded from a CDN on
  demand) and its inert Binder configuration are dropped from every page; any
  remaining script or stylesheet with an absolute ``http(s)://`` URL is a warning.
- The theme's colour mode defaults to ``auto`` (without a default, the theme logs a
  console error in a fresh browser).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

from .domain import HTML_FORMATS, WARN, logger


def mathjax_source() -> Path:
    """MathJax 3 (es5 bundles, fonts, extensions) from django-static-mathjax."""
    import mathjax  # the package of django-static-mathjax

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _theme_defaults(app: Sphinx, config: Any) -> None:
    """pydata-sphinx-theme logs a console error on a fresh browser profile unless the
    colour mode has a default ("Got invalid theme mode: ."); jupyter-book's
    _config.yml cannot set it."""
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
    """Drop sphinx-thebe's assets (thebe is disabled here and would come from a CDN);
    warn about any other script or stylesheet that the book does not serve."""
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


def _drop_thebe_config(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """sphinx-thebe appends an (inert) Binder configuration to pages with code."""
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if "text/x-thebe-config" in text or text.startswith("<script>kernelName ="):
            raw.parent.remove(raw)


def copy_mathjax(app: Sphinx, exc: Exception | None) -> None:
    """MathJax into ``_static/mathjax``, once per build folder (again if the pinned
    package changes)."""
    if exc is not None or app.builder.format not in HTML_FORMATS:
        return
    src = mathjax_source()
    dest = Path(app.outdir) / "_static" / "mathjax"
    stamp = dest / ".book-mathjax-source"
    if not stamp.is_file() or stamp.read_text() != str(src):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        stamp.write_text(str(src))


def setup(app: Sphinx) -> None:
    app.connect("config-inited", _theme_defaults)
    app.connect("builder-inited", _check_mathjax_path)
    app.connect("doctree-resolved", _drop_thebe_config, priority=900)
    app.connect("html-page-context", _drop_network_assets, priority=900)
    app.connect("build-finished", copy_mathjax)
