"""Progress bars for the longer runs: on a terminal or in Jupyter, not in the book."""

from __future__ import annotations

from collections.abc import Iterable

from tqdm import tqdm

from lib.validation import InputTypeError

__all__ = ["progress"]


def progress(iterable: Iterable, desc: str, **kwargs) -> Iterable:
    """Wrap ``iterable`` in a text progress bar written to stderr.

    The book's build drops stderr output (``stderr_output: remove`` in
    ``_config.yml``), so the bar appears when a reader executes a chapter but not in
    the HTML.

    Parameters
    ----------
    iterable : Iterable
        What to iterate over; its items are yielded unchanged.
    desc : str
        A short label shown before the bar.
    **kwargs
        Passed to ``tqdm``.

    Returns
    -------
    Iterable
        The wrapped iterable.

    Raises
    ------
    InputTypeError
        If ``iterable`` is not iterable or ``desc`` is not a string.

    Examples
    --------
    >>> list(progress(range(3), desc="demo", disable=True))
    [0, 1, 2]
    """
    if not isinstance(desc, str):
        raise InputTypeError(f"desc must be a string, got {desc!r}")
    if isinstance(iterable, (str, bytes)) or not isinstance(iterable, Iterable):
        raise InputTypeError(f"iterable must be an iterable, got {iterable!r}")
    return tqdm(iterable, desc=desc, leave=False, ascii=True, **kwargs)
