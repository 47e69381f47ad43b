"""The book's one matplotlib style, and the helper that writes citable figure files.

Every chapter calls :func:`use_book_style` once and :func:`save_figure` for each
figure. Files go to ``_build/figures/<name>.{svg,pdf,png}`` at the repository root
(override with the environment variable ``BOOK_FIGURES_DIR``), under a stable,
human-chosen name.

During ``jupyter-book build`` the book's extension (``_ext/``) sets
``BOOK_FIGURES_DIR`` to ``<build>/_build/figures`` (next to that build's execution
cache) unless it is already set, checks that every figure label ``fig-<name>`` has its
three files, and copies them to ``<build>/_build/html/figures/`` for the Figures page.
``make figure NAME=<name>`` re-executes the chapter that saves one figure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

REPO_ROOT = Path(__file__).resolve().parents[1]
FIGURE_FORMATS = ("svg", "pdf", "png")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

BOOK_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": mpl.cycler(
        color=[
            "#1f4e79",
            "#c0504d",
            "#4f8a3c",
            "#8064a2",
            "#d98c1f",
            "#2c9fa6",
            "#7f7f7f",
        ]
    ),
    # text as outlines: an SVG renders the same in every browser, whatever its fonts
    "svg.fonttype": "path",
    "svg.hashsalt": "attention-book",  # deterministic SVG ids
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (idempotent).

    In a notebook, figures are also displayed as SVG (vector, sharp on any screen;
    dates dropped so re-running a chapter reproduces them byte for byte).
    """
    mpl.rcParams.update(BOOK_STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - IPython is a dependency of the book
        return
    if get_ipython() is not None:
        set_matplotlib_formats("svg", metadata={"Date": None})


def figures_dir() -> Path:
    """Folder the figure files are written to (created if missing)."""
    folder = Path(os.environ.get("BOOK_FIGURES_DIR", REPO_ROOT / "_build" / "figures"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig: plt.Figure, name: str) -> dict[str, Path]:
    """Write ``fig`` as ``<name>.svg``, ``.pdf`` and ``.png``; return the paths.

    ``name`` is the figure's stable citation name: lower-case words joined by hyphens,
    conventionally the chapter's figure label without its ``fig-`` prefix
    (e.g. ``"polya-limit-frequency"``). Metadata dates are dropped so the vector files
    are reproducible byte for byte.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"name must be lower-case words joined by hyphens, got {name!r}"
        )
    folder = figures_dir()
    paths = {}
    for fmt in FIGURE_FORMATS:
        path = folder / f"{name}.{fmt}"
        metadata = {
            "svg": {"Date": None},
            "pdf": {"CreationDate": None, "ModDate": None},
        }.get(fmt)
        fig.savefig(path, format=fmt, metadata=metadata)
        paths[fmt] = path
    return paths
