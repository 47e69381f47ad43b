"""Progress bars for the longer sweeps: shown on a terminal or in Jupyter, removed from the book."""

from __future__ import annotations

from collections.abc import Iterable

from tqdm import tqdm


def progress(iterable: Iterable, desc: str, **kwargs) -> Iterable:
    """Wrap ``iterable`` in a text progress bar written to stderr.

    The book's build drops stderr output (``stderr_output: remove`` in ``_config.yml``), so the
    bar appears when a reader executes a chapter but not in the HTML.
    """
    return tqdm(iterable, desc=desc, leave=False, ascii=True, **kwargs)
