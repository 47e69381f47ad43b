"""Monte Carlo summaries shared by the chapters: a mean with its standard error, and
log–log slopes.

Every rate in the book is a least-squares slope of ``log y`` on ``log x``; every Monte
Carlo average comes with the standard error ``sd/√n`` of its independent terms.

Return types: :func:`mean_se` returns NumPy ``float64`` arrays (``np.float64``
scalars for 1-d input); :func:`loglog_slope` returns a :class:`SlopeFit`, a named
tuple of three Python floats (so ``slope, se, intercept = loglog_slope(...)`` and
``myst_nb.glue`` of a slope keep working). Inputs are validated with
:mod:`lib.validation`; a result that overflows raises ``FloatingPointError``.

Examples
--------
>>> m, se = mean_se([1.0, 2.0, 3.0, 4.0])
>>> float(m), round(float(se), 4)
(2.5, 0.6455)
>>> fit = loglog_slope([1.0, 2.0, 4.0], [1.0, 0.5, 0.25])
>>> round(float(fit.slope), 12), round(float(fit.se), 12)
(-1.0, 0.0)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lib.validation import InputTypeError, check_array, check_int

__all__ = ["SlopeFit", "loglog_slope", "mean_se"]


def mean_se(samples, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean of independent ``samples`` along ``axis`` and its standard error.

    The standard error is ``sd/√n`` with the ``ddof = 1`` standard deviation. The
    samples are first scaled by a power of two near their largest magnitude, which is
    exact, so values near ``1e200`` (whose squares overflow) give a finite answer and
    ordinary values give the same bits as the unscaled formula.

    Parameters
    ----------
    samples : array_like
        Finite real values, at least 2 along ``axis``.
    axis : int, optional
        The axis of the independent replicates (default: the last).

    Returns
    -------
    mean, se : numpy.ndarray
        Of the shape of ``samples`` without ``axis`` (``np.float64`` for 1-d input).

    Raises
    ------
    ValueError
        If ``samples`` is empty, a scalar, not finite, or has fewer than 2 values
        along ``axis``, or ``axis`` is out of range.
    InputTypeError
        If ``samples`` is not a real array (bool, complex, ragged, strings) or
        ``axis`` is not an integer.
    FloatingPointError
        If the mean or standard error overflows.

    Examples
    --------
    >>> mean_se([[0.0, 2.0], [1.0, 1.0]])
    (array([1., 1.]), array([1., 0.]))
    """
    s = check_array("samples", samples, min_ndim=1)
    axis = check_int("axis", axis)
    if not -s.ndim <= axis < s.ndim:
        raise ValueError(f"axis must be in [{-s.ndim}, {s.ndim}), got {axis}")
    n = s.shape[axis]
    if n < 2:
        raise ValueError(
            f"samples need at least 2 values along axis {axis} for a standard error,"
            f" got {n}"
        )
    peak = np.max(np.abs(s), axis=axis, keepdims=True)
    _, exponent = np.frexp(np.where(peak > 0, peak, 1.0))
    scale = np.ldexp(1.0, exponent - 1)  # a power of two ≤ peak: dividing is exact
    t = s / scale
    scale = np.squeeze(scale, axis=axis)
    with np.errstate(over="ignore"):
        mean = t.mean(axis=axis) * scale
        se = t.std(axis=axis, ddof=1) * scale / math.sqrt(n)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(se))):
        raise FloatingPointError(
            "samples are too large: their mean or standard error overflows"
        )
    return mean, se


class SlopeFit(NamedTuple):
    """A least-squares slope of ``log y`` on ``log x``."""

    slope: float
    se: float
    intercept: float


def loglog_slope(x, y, se=None, *, weighted: bool = True) -> SlopeFit:
    """Least-squares slope of ``log y`` against ``log x``, with its standard error.

    Without ``se`` the fit is ordinary least squares with the residual standard error
    (needs at least 3 points). With ``se`` (standard errors of ``y``, independent
    across points), ``log y`` has delta-method standard error ``r = se/y``; the fit is
    weighted by the precision ``1/r²`` (``weighted=True``) or unweighted
    (``weighted=False``), and the slope's standard error is propagated from ``r``
    treated as known: ``√(Σ c_i² r_i²)`` for the slope ``Σ c_i log y_i``.

    Parameters
    ----------
    x, y : array_like, shape (k,)
        Positive abscissae (at least 2 distinct) and ordinates.
    se : array_like, shape (k,), optional
        Positive standard errors of ``y``.
    weighted : bool, optional
        Precision weights when ``se`` is given (default ``True``).

    Returns
    -------
    SlopeFit
        ``(slope, se, intercept)`` of ``log y ≈ intercept + slope · log x``.

    Raises
    ------
    ValueError
        If an array is not 1-d, finite and positive, the shapes differ, there are
        fewer than 2 distinct ``x`` (3 points without ``se``), or the weights sit on
        a single abscissa.
    InputTypeError
        If an array is not real, or ``weighted`` is not a bool.

    Examples
    --------
    >>> fit = loglog_slope([1.0, 10.0, 100.0], [2.0, 0.2, 0.02], se=[0.1, 0.01, 0.001])
    >>> round(float(fit.slope), 12), round(float(fit.intercept), 12)
    (-1.0, 0.69314718056)
    """
    xs = check_array("x", x, ndim=1, low=0.0, low_open=True)
    ys = check_array("y", y, ndim=1, low=0.0, low_open=True)
    if not isinstance(weighted, (bool, np.bool_)):
        raise InputTypeError(f"weighted must be a bool, got {weighted!r}")
    if xs.shape != ys.shape:
        raise ValueError(
            f"x and y must have the same length, got {xs.shape} and {ys.shape}"
        )
    if np.unique(xs).size < 2:
        raise ValueError("x must hold at least 2 distinct abscissae")
    lx, ly = np.log(xs), np.log(ys)
    if se is None:
        if xs.size < 3:
            raise ValueError(
                "an unweighted fit needs at least 3 points for a standard error"
            )
        w = np.ones_like(lx)
        log_rel = None
    else:
        ses = check_array("se", se, ndim=1, low=0.0, low_open=True)
        if ses.shape != ys.shape:
            raise ValueError(f"se must have the shape of y {ys.shape}, got {ses.shape}")
        log_rel = np.log(ses) - ly  # log of the delta-method sd of log y
        # precision weights, scaled so that the largest is 1 (no overflow)
        w = np.exp(-2.0 * (log_rel - log_rel.min())) if weighted else np.ones_like(lx)
    xbar = np.sum(w * lx) / w.sum()
    sxx = np.sum(w * (lx - xbar) ** 2)
    if not sxx > 0:
        raise ValueError("the weights sit on a single abscissa: no slope")
    coef = w * (lx - xbar) / sxx  # slope = coef · log y
    slope = coef @ ly
    intercept = np.sum(w * ly) / w.sum() - slope * xbar
    if log_rel is None:
        resid = ly - intercept - slope * lx
        stderr = np.sqrt(np.sum(resid**2) / (xs.size - 2) / sxx)
    else:
        top = log_rel.max()  # factor the largest relative error out of the sum
        with np.errstate(over="ignore"):
            stderr = np.exp(top) * np.sqrt(np.sum((coef * np.exp(log_rel - top)) ** 2))
    fit = SlopeFit(float(slope), float(stderr), float(intercept))
    if not np.all(np.isfinite(fit)):
        raise FloatingPointError(
            "se is too large: the slope's standard error overflows"
        )
    return fit
