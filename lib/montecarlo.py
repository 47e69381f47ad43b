"""Monte Carlo summaries shared by the chapters: a mean with its standard error, and log–log slopes.

Every rate in the book is a least-squares slope of ``log y`` on ``log x``; every Monte Carlo
average comes with the standard error ``sd/√n`` of its independent terms.
"""

from __future__ import annotations

import math

import numpy as np


def _finite_array(name: str, x) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def mean_se(samples, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean of independent ``samples`` along ``axis`` and its standard error ``sd(ddof=1)/√n``."""
    s = _finite_array("samples", samples)
    if s.ndim == 0:
        raise ValueError("samples must have at least one axis")
    n = s.shape[axis]
    if n < 2:
        raise ValueError(
            f"samples need at least 2 values along axis {axis} for a standard error, got {n}"
        )
    return s.mean(axis=axis), s.std(axis=axis, ddof=1) / math.sqrt(n)


def loglog_slope(x, y, se=None, *, weighted: bool = True):
    """Least-squares slope of ``log y`` against ``log x``, with its standard error.

    ``x``, ``y`` 1-d and positive. Without ``se`` the fit is ordinary least squares with the
    residual standard error (needs at least 3 points). With ``se`` (standard errors of ``y``,
    independent across points), ``log y`` has delta-method standard error ``se/y``; the fit is then
    weighted by that precision ``(y/se)²`` (``weighted=True``) or unweighted (``weighted=False``),
    and the slope's standard error is propagated from ``se/y`` treated as known.
    Returns ``(slope, standard_error, intercept)``.
    """
    xs, ys = _finite_array("x", x), _finite_array("y", y)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValueError(
            f"x and y must be 1-d of the same length, got {xs.shape} and {ys.shape}"
        )
    if xs.size < 2 or np.unique(xs).size < 2:
        raise ValueError("x must hold at least 2 distinct abscissae")
    if np.any(xs <= 0) or np.any(ys <= 0):
        raise ValueError("x and y must be > 0 for a log-log fit")
    lx, ly = np.log(xs), np.log(ys)
    if se is None:
        if xs.size < 3:
            raise ValueError(
                "an unweighted fit needs at least 3 points for a standard error"
            )
        w = np.ones_like(lx)
    else:
        ses = _finite_array("se", se)
        if ses.shape != ys.shape or np.any(ses <= 0):
            raise ValueError(f"se must be positive with the shape of y {ys.shape}")
        w = (ys / ses) ** 2 if weighted else np.ones_like(lx)
    xbar = np.sum(w * lx) / w.sum()
    sxx = np.sum(w * (lx - xbar) ** 2)
    coef = w * (lx - xbar) / sxx  # slope = coef · log y
    slope = float(coef @ ly)
    intercept = float(np.sum(w * ly) / w.sum() - slope * xbar)
    if se is None:
        resid = ly - intercept - slope * lx
        stderr = math.sqrt(np.sum(resid**2) / (xs.size - 2) / sxx)
    else:
        stderr = math.sqrt(float(coef**2 @ (ses / ys) ** 2))  # = 1/√sxx when weighted
    return slope, float(stderr), intercept
