"""The book's one matplotlib style, and the helper that writes citable figure files.

Every chapter calls :func:`use_book_style` once and :func:`save_figure` for each
figure. Files go to ``_build/figures/<name>.{svg,pdf,png}`` at the repository root
(override with the environment variable ``BOOK_FIGURES_DIR``), under a stable,
human-chosen name.

During ``jupyter-book build`` the book's extension (``_ext/book_site/``) sets
``BOOK_FIGURES_DIR`` to ``<build>/_build/figures`` (next to that build's execution
cache) unless it is already set, checks that every figure label ``fig-<name>`` has its
three files, and copies them to ``<build>/_build/html/figures/`` for the Figures page.
``make figure NAME=<name>`` re-executes the chapter that saves one figure.

Returns: :func:`figures_dir` a ``pathlib.Path``, :func:`save_figure` a dict of
paths; :func:`use_book_style` changes matplotlib's settings and returns ``None``.

The style's font is 10.5 pt (14 CSS px at natural size); a figure at most ~7.5 in
wide is shown at full size in the book's 717 px column, so its text stays ≥ 11 px.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from lib.validation import InputTypeError

__all__ = [
    "BOOK_STYLE",
    "FIGURE_FORMATS",
    "figures_dir",
    "save_figure",
    "use_book_style",
]

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
_METADATA = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (idempotent).

    In a notebook, figures are also displayed as SVG (vector, sharp on any screen;
    dates dropped so re-running a chapter reproduces them byte for byte).

    Returns
    -------
    None
        ``matplotlib.rcParams`` is updated with ``BOOK_STYLE``.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> use_book_style()
    >>> mpl.rcParams["font.size"], mpl.rcParams["svg.fonttype"]
    (10.5, 'path')
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
    """The folder figure files are written to (created if missing).

    Returns
    -------
    pathlib.Path
        ``$BOOK_FIGURES_DIR`` if set, else ``_build/figures`` at the repository root.

    Examples
    --------
    >>> figures_dir().is_dir()
    True
    """
    folder = Path(os.environ.get("BOOK_FIGURES_DIR", REPO_ROOT / "_build" / "figures"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig: Figure, name: str, folder: Path | None = None) -> dict[str, Path]:
    """Write ``fig`` as ``<name>.svg``, ``.pdf`` and ``.png``; return the paths.

    Metadata dates are dropped so that the vector files are reproducible byte for
    byte.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write.
    name : str
        Its stable citation name: lower-case words joined by hyphens,
        conventionally the chapter's figure label without ``fig-``
        (e.g. ``"polya-limit-frequency"``).
    folder : pathlib.Path or str, optional
        Where to write; default :func:`figures_dir`.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"svg": ..., "pdf": ..., "png": ...}``.

    Raises
    ------
    InputTypeError
        If ``fig`` is not a matplotlib figure or ``name`` not a string.
    ValueError
        If ``name`` is not lower-case words joined by hyphens.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1.5))
    >>> _ = fig.add_subplot().plot([0, 1], [0, 1])
    >>> paths = save_figure(fig, "example-line", folder=tempfile.mkdtemp())
    >>> sorted(paths), paths["svg"].name
    (['pdf', 'png', 'svg'], 'example-line.svg')
    """
    if not isinstance(fig, Figure):
        raise InputTypeError(
            f"fig must be a matplotlib Figure, got {type(fig).__name__}"
        )
    if not isinstance(name, str):
        raise InputTypeError(
            "name must be a string (lower-case words joined by hyphens), "
            f"got {type(name).__name__}"
        )
    if not _NAME.match(name):
        raise ValueError(
            f"name must be lower-case words joined by hyphens, got {name!r}"
        )
    if folder is None:
        target = figures_dir()
    elif isinstance(folder, str | os.PathLike):
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
    else:
        raise InputTypeError(
            f"folder must be a path or None, got {type(folder).__name__}"
        )
    paths = {}
    for fmt in FIGURE_FORMATS:
        path = target / f"{name}.{fmt}"
        fig.savefig(path, format=fmt, metadata=_METADATA.get(fmt))
        paths[fmt] = path
    return paths
