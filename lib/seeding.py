"""Seeds for the chapters, and the seed sweep that re-runs them under other seeds.

Every chapter derives each of its seeds from a fixed *base* through
:func:`book_seed`. With the environment variable ``BOOK_SEED`` unset (or ``0``) the
base is the seed, so the published book is reproducible; with ``BOOK_SEED=s``
(``s = 1, 2, …``) every base is mapped to a fresh, independent seed, so that one
variable re-draws every generator a chapter uses (``make test-seeds`` runs each
chapter for ``s = 1..20``). A statistical check must pass for those seeds as often
as its stated false-failure probability allows.

Return types: :func:`book_seed` and :func:`seed_offset` return Python ``int``,
:func:`rng` a ``numpy.random.Generator``, :func:`torch_generator` a CPU
``torch.Generator``.

Examples
--------
>>> book_seed(7, offset=0)
7
>>> book_seed(7, offset=1) == book_seed(7, offset=1) != book_seed(8, offset=1)
True
"""

from __future__ import annotations

import os

import numpy as np
import torch

from lib.validation import check_int

__all__ = ["book_seed", "rng", "seed_offset", "torch_generator"]


def seed_offset() -> int:
    """The seed set selected by the environment: ``int(BOOK_SEED)``, 0 when unset.

    Returns
    -------
    int
        The value of the environment variable ``BOOK_SEED`` (``>= 0``), or 0 when it
        is unset or empty.

    Raises
    ------
    ValueError
        If ``BOOK_SEED`` is set to something other than a non-negative integer.

    Examples
    --------
    >>> seed_offset() == int(os.environ.get("BOOK_SEED", "").strip() or 0)
    True
    """
    raw = os.environ.get("BOOK_SEED", "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        msg = f"BOOK_SEED must be a non-negative integer, got {raw!r}"
        raise ValueError(msg) from None
    return check_int("BOOK_SEED", value, minimum=0)


def book_seed(base: int, *, offset: int | None = None) -> int:
    """The seed to use for ``base`` under seed set ``offset`` (default: ``BOOK_SEED``).

    Parameters
    ----------
    base : int
        The chapter's fixed seed for one generator (``>= 0``).
    offset : int, optional
        The seed set; 0 returns ``base`` itself. Defaults to :func:`seed_offset`.

    Returns
    -------
    int
        ``base`` for offset 0, otherwise a 63-bit seed drawn by
        ``numpy.random.SeedSequence`` from ``(base, offset)``: distinct bases and
        offsets give independent streams.

    Raises
    ------
    ValueError
        For a negative ``base`` or ``offset`` (or a bad ``BOOK_SEED``).
    lib.validation.InputTypeError
        If ``base`` or ``offset`` is not an integer.

    Examples
    --------
    >>> book_seed(42, offset=0)
    42
    >>> 0 <= book_seed(42, offset=3) < 2**63
    True
    """
    base = check_int("base", base, minimum=0)
    offset = seed_offset() if offset is None else check_int("offset", offset, minimum=0)
    if offset == 0:
        return base
    state = np.random.SeedSequence([base, offset]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def rng(base: int) -> np.random.Generator:
    """``np.random.default_rng(book_seed(base))``: a generator for this seed set.

    Parameters
    ----------
    base : int
        The chapter's fixed seed for this generator (``>= 0``).

    Returns
    -------
    numpy.random.Generator
        Seeded with :func:`book_seed` of ``base``.

    Raises
    ------
    ValueError
        For a negative ``base`` (or a bad ``BOOK_SEED``).
    lib.validation.InputTypeError
        If ``base`` is not an integer.

    Examples
    --------
    >>> float(rng(5).random()) == float(rng(5).random())
    True
    """
    return np.random.default_rng(book_seed(base))


def torch_generator(base: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``book_seed(base)``.

    Parameters
    ----------
    base : int
        The chapter's fixed seed for this generator (``>= 0``).

    Returns
    -------
    torch.Generator
        A CPU generator seeded with :func:`book_seed` of ``base``.

    Raises
    ------
    ValueError
        For a negative ``base`` (or a bad ``BOOK_SEED``).
    lib.validation.InputTypeError
        If ``base`` is not an integer.

    Examples
    --------
    >>> g1, g2 = torch_generator(5), torch_generator(5)
    >>> bool(torch.rand(2, generator=g1).equal(torch.rand(2, generator=g2)))
    True
    """
    return torch.Generator().manual_seed(book_seed(base))
