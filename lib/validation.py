"""Input validation shared by every module: each check raises ``ValueError`` naming the argument."""
from __future__ import annotations

import numbers

import numpy as np


def check_positive(name: str, value, *, allow_zero: bool = False, allow_inf: bool = False) -> float:
    """Return ``float(value)`` if it is a finite number > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if np.isnan(v) or (np.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return v


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``int(value)`` if it is an integer in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {v}")
    return v


def check_probability(name: str, value) -> np.ndarray:
    """Return ``value`` as an array if every entry lies in [0, 1]."""
    p = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return p


def check_binary(name: str, value) -> np.ndarray:
    """Return ``value`` as an integer array if every entry is 0 or 1."""
    x = np.asarray(value)
    if x.size and not np.all((x == 0) | (x == 1)):
        raise ValueError(f"{name} must contain only 0 and 1")
    return x.astype(np.int64)


def check_rng(name: str, rng) -> np.random.Generator:
    """Require an explicitly seeded ``numpy.random.Generator`` (no global random state)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0)")
    return rng
