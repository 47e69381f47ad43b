"""Monte Carlo summaries shared by the chapters: means with standard errors, log–log
slopes, and the bands that decide a statistical check.

Every rate in the book is a least-squares slope of ``log y`` on ``log x``; every Monte
Carlo average comes with the standard error ``sd/√n`` of its independent terms; a
check of a Monte Carlo mean against theory is a band
``|measured - expected| <= z·se + allowance`` whose multiplier ``z`` holds the
two-sided false-alarm probability to second order in ``1/n`` (an Edgeworth expansion of
the studentized mean).

Return types: :func:`mean_se` returns NumPy ``float64`` arrays (``np.float64``
scalars for 1-d input); :func:`loglog_slope` returns a :class:`SlopeFit` and
:func:`mean_band`, :func:`sum_band`, :func:`nested_slope_band` return a :class:`Band`,
named tuples of Python floats (so ``slope, se, intercept = loglog_slope(...)`` and
``myst_nb.glue`` of a slope keep working); :func:`edgeworth_z` and
:func:`edgeworth_tail` return a Python ``float``, :func:`latent_controls` a NumPy
array. Inputs are validated with :mod:`lib.validation`; a result that overflows raises
``FloatingPointError``.

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
from scipy import optimize, stats

from lib.validation import (
    InputTypeError,
    check_array,
    check_finite_result,
    check_int,
    check_positive,
    check_real,
)

__all__ = [
    "Band",
    "SlopeFit",
    "edgeworth_tail",
    "edgeworth_z",
    "latent_controls",
    "loglog_coefficients",
    "loglog_slope",
    "mean_band",
    "mean_se",
    "nested_slope_band",
    "sum_band",
]


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


def loglog_coefficients(x) -> np.ndarray:
    """Least-squares coefficients ``c`` of a log–log slope: ``slope = c · log y``.

    ``c_i = (log x_i - m) / Σ_j (log x_j - m)²`` with ``m`` the mean of ``log x``: the
    ordinary least-squares slope of ``log y`` on ``log x`` is linear in ``log y`` with
    these weights, whatever ``y`` (so its delta-method or bootstrap error follows).

    Parameters
    ----------
    x : array_like, shape (k,)
        Positive abscissae, at least 2 distinct.

    Returns
    -------
    numpy.ndarray
        Shape ``(k,)``, summing to 0, with ``c · log x = 1``.

    Raises
    ------
    ValueError
        If ``x`` is not 1-d, finite and positive, or has fewer than 2 distinct values.
    InputTypeError
        If ``x`` is not a real array.

    Examples
    --------
    >>> c = loglog_coefficients([1.0, 2.0, 4.0])
    >>> float(c @ np.log([3.0, 1.5, 0.75]))  # y = 3/x: slope -1
    -1.0
    """
    xs = check_array("x", x, ndim=1, low=0.0, low_open=True)
    if np.unique(xs).size < 2:
        raise ValueError("x must hold at least 2 distinct abscissae")
    lx = np.log(xs)
    return (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)


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


# ----------------------------------------------------------------------------- bands
class Band(NamedTuple):
    """A Monte Carlo estimate, what theory expects, and the band that decides.

    The check holds when ``|measured - expected| <= tol`` with
    ``tol = z·se + allowance``; ``z`` is set so that, to second order in ``1/n``,
    the two-sided false-alarm probability is ``fpp`` (:func:`edgeworth_z`).
    """

    measured: float
    se: float
    expected: float
    tol: float
    z: float
    allowance: float
    fpp: float
    n: int


def edgeworth_z(fpp: float, n: int, skew: float = 0.0, exkurt: float = 0.0) -> float:
    """Multiplier ``z`` of a two-sided band for a studentized mean of ``n`` values.

    The Edgeworth expansion of the studentized mean ``T`` (Hall 1992, §2.6) gives
    ``P(|T| > z) = 2Φ(-z) - (2/n) q₂(z) φ(z) + O(n⁻²)`` with
    ``q₂(z) = z[κ(z² - 3)/12 - γ²(z⁴ + 2z² - 3)/18 - (z² + 3)/4]`` for
    skewness ``γ`` and excess kurtosis ``κ`` of the values. Returns the smallest ``z``
    not below the normal quantile at which this second-order tail is at most ``fpp``.

    Parameters
    ----------
    fpp : float
        Two-sided false-alarm probability, in ``(0, 0.5)``.
    n : int
        Number of independent values, ``>= 2``.
    skew, exkurt : float
        Skewness and excess kurtosis (``>= -2``) of one value, with ``|skew|/√n``
        and ``exkurt/n`` at most ``1e100``.

    Returns
    -------
    float
        The multiplier.

    Raises
    ------
    ValueError
        For ``fpp`` outside ``(0, 0.5)``, ``n < 2``, or cumulants out of range.
    lib.validation.InputTypeError
        For non-numeric arguments.

    Examples
    --------
    >>> round(edgeworth_z(0.05, 10**6), 3)
    1.96
    >>> edgeworth_z(1e-4, 300, skew=3.4, exkurt=21) > edgeworth_z(1e-4, 300)
    True
    """
    fpp = check_real("fpp", fpp, low=0.0, high=0.5, low_open=True, high_open=True)
    n = check_int("n", n, minimum=2)
    k3, k4 = _cumulants(n, skew, exkurt)
    return _edgeworth_z(fpp, k3, k4, 1.0 / n)


def edgeworth_tail(z: float, n: int, skew: float = 0.0, exkurt: float = 0.0) -> float:
    """Second-order two-sided tail ``P(|T| > z)`` of a studentized mean.

    The expansion of :func:`edgeworth_z`:
    ``2Φ(-z) - (2/n) q₂(z) φ(z)``.

    Parameters
    ----------
    z : float
        The band's multiplier ``> 0``.
    n : int
        Number of independent values, ``>= 2``.
    skew, exkurt : float
        Skewness and excess kurtosis (``>= -2``) of one value, with ``|skew|/√n``
        and ``exkurt/n`` at most ``1e100``.

    Returns
    -------
    float
        The approximate false-alarm probability of the band ``|T| <= z``.

    Raises
    ------
    ValueError
        For ``z <= 0``, ``n < 2``, or cumulants out of range.
    lib.validation.InputTypeError
        For non-numeric arguments.

    Examples
    --------
    >>> round(edgeworth_tail(1.959964, 10**9), 4)
    0.05
    >>> edgeworth_tail(3.9, 300, 3.4, 21) > 5 * edgeworth_tail(3.9, 10**9)
    True
    """
    z = check_positive("z", z)
    n = check_int("n", n, minimum=2)
    k3, k4 = _cumulants(n, skew, exkurt)
    return _edgeworth_tail(z, k3, k4, 1.0 / n)


# The expansion's standardised cumulants γ/√n and κ/n stay below this (far beyond
# any meaningful value), so that no term of the second-order tail overflows.
_MAX_CUMULANT = 1e100


def _cumulants(n: int, skew, exkurt) -> tuple[float, float]:
    """``(γ/√n, κ/n)`` from validated skewness and excess kurtosis."""
    g = check_real("skew", skew)
    k = check_real("exkurt", exkurt, low=-2.0)
    k3, k4 = g / math.sqrt(n), k / n
    if abs(k3) > _MAX_CUMULANT or k4 > _MAX_CUMULANT:
        raise ValueError(
            "skew and exkurt are too large for the Edgeworth expansion:"
            f" |skew|/√n and exkurt/n must be <= {_MAX_CUMULANT:g}"
        )
    return k3, k4


def _edgeworth_tail(z: float, k3: float, k4: float, inv_n: float) -> float:
    if z > 40.0:  # φ(z) and Φ(-z) underflow to 0 in float64 (and z⁴ may overflow)
        return 0.0
    q2 = k4 * (z * z - 3) / 12 - k3 * k3 * (z**4 + 2 * z * z - 3) / 18
    q2 -= inv_n * (z * z + 3) / 4
    return float(2 * stats.norm.sf(z) - 2 * z * q2 * stats.norm.pdf(z))


def _edgeworth_z(fpp: float, k3: float, k4: float, inv_n: float) -> float:
    """:func:`edgeworth_z` from the standardised cumulants ``γ/√n``, ``κ/n``,
    1/n."""

    def tail(z: float) -> float:
        return _edgeworth_tail(z, k3, k4, inv_n)

    z0 = float(stats.norm.isf(fpp / 2))
    if tail(z0) <= fpp:
        return z0
    hi = z0 + 1.0
    while tail(hi) > fpp:
        hi += 1.0
    return float(optimize.brentq(lambda z: tail(z) - fpp, z0, hi, xtol=1e-10))


def latent_controls(z, tau: float) -> np.ndarray:
    """Control variates with known mean zero: ``z_j z_k - τ² 1{j = k}``, ``j <= k``.

    For ``z ~ N(0, τ² I)`` every second moment is known exactly, so these
    ``p(p + 1)/2`` functions of the latent have mean zero whatever the model's
    other parts; a squared error that depends on ``z`` through a quadratic form
    loses that part of its variance when regressed on them (:func:`mean_band`).

    Parameters
    ----------
    z : array_like
        Latents, shape ``(n, p)``.
    tau : float
        Their prior scale ``> 0``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, p(p + 1)/2)``.

    Raises
    ------
    ValueError
        For a ``z`` that is not 2-d and finite, or ``tau <= 0``.
    lib.validation.InputTypeError
        For non-numeric arguments.
    FloatingPointError
        If a product overflows (``z`` or ``tau`` near the float range's end).

    Examples
    --------
    >>> latent_controls([[1.0, 2.0]], 1.0)
    array([[0., 2., 3.]])
    """
    z = check_array("z", z, ndim=2)
    tau = check_positive("tau", tau)
    j, k = np.triu_indices(z.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        out = z[:, j] * z[:, k] - np.float64(tau) ** 2 * (j == k)
    return check_finite_result("latent_controls (z or tau too large)", out)


def _fpp(fpp) -> float:
    """A two-sided false-alarm probability, in ``(0, 1)``."""
    return check_real("fpp", fpp, low=0.0, high=1.0, low_open=True, high_open=True)


def _group_mean(i: int, samples, controls):
    """Regression estimate of one group's mean: (mean, se, n, skew, exkurt)."""
    x = check_array(f"samples[{i}]", samples, ndim=1)
    if x.size < 30:
        raise ValueError(f"samples[{i}] must hold at least 30 values, got {x.size}")
    n, k, mean, resid = x.size, 0, float(x.mean()), x - x.mean()
    if controls is not None:
        c = check_array(f"controls[{i}]", controls, ndim=2)
        if c.shape[0] != n or 10 * c.shape[1] >= n:
            raise ValueError(f"controls[{i}] must have shape ({n}, k), k < n/10")
        k = c.shape[1]
        design = np.column_stack([np.ones(n), c])
        coef = np.linalg.lstsq(design, x, rcond=None)[0]
        mean = float(coef[0])  # = ȳ − b̂ᵀc̄, the controls' means being 0
        resid = x - design @ coef
    with np.errstate(over="ignore", invalid="ignore"):
        se = float(np.sqrt((resid**2).sum() / (n - k - 1) / n))
    if not (math.isfinite(mean) and math.isfinite(se)):
        raise FloatingPointError(
            f"samples[{i}] are too large: their mean or standard error overflows"
        )
    skew, exkurt = (0.0, 0.0) if se == 0 else _shape(resid)
    return mean, se, n, skew, exkurt


def sum_band(groups, expected: float, fpp: float, *, allowance: float = 0.0) -> Band:
    """Band for a sum of means of independent groups of samples.

    Each group is ``samples`` or ``(samples, controls)``; its mean is estimated as in
    :func:`mean_band` and the estimates are added, ``se² = Σ_g se_g²``. The band's
    ``z`` is that of :func:`edgeworth_z` with the standardised cumulants of the sum,
    ``Σ_g w_g³ γ_g/√n_g`` and ``Σ_g w_g⁴ κ_g/n_g`` (``w_g = se_g/se``), and
    ``Σ_g w_g⁴/n_g`` in place of ``1/n`` (Satterthwaite).

    Parameters
    ----------
    groups : sequence
        Each item a 1-d array of independent values (at least 30) or a pair
        ``(values, controls)`` with controls of shape ``(n, k)`` and mean zero.
    expected : float
        What theory predicts for the sum of the groups' means.
    fpp : float
        Two-sided false-alarm probability of the Monte Carlo part.
    allowance : float, default 0
        Deterministic allowance for terms the theory does not compute.

    Returns
    -------
    Band
        ``n`` is the total number of values.

    Raises
    ------
    ValueError
        For an empty ``groups``, a group of fewer than 30 values, NaN/inf or an
        invalid ``fpp``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> b = sum_band([rng.normal(1, 1, 500), rng.normal(2, 1, 800)], 3.0, 1e-3)
    >>> abs(b.measured - 3.0) <= b.tol, b.n
    (True, 1300)
    """
    if not isinstance(groups, (list, tuple)) or not groups:
        raise InputTypeError("groups must be a non-empty list of sample groups")
    expected = check_real("expected", expected)
    allowance = check_positive("allowance", allowance, allow_zero=True)
    fpp = _fpp(fpp)
    parts = [
        _group_mean(i, *(g if isinstance(g, tuple) else (g, None)))
        for i, g in enumerate(groups)
    ]
    mean = sum(p[0] for p in parts)
    se = math.sqrt(sum(p[1] ** 2 for p in parts))
    n = sum(p[2] for p in parts)
    if se == 0:
        z = float(stats.norm.isf(fpp / 2))
    else:
        w = np.array([p[1] / se for p in parts])
        n_g, g_g, k_g = (np.array([p[i] for p in parts]) for i in (2, 3, 4))
        k3 = float(np.sum(w**3 * g_g / np.sqrt(n_g)))
        k4 = float(np.sum(w**4 * k_g / n_g))
        inv_n = float(np.sum(w**4 / n_g))
        z = _edgeworth_z(fpp, k3, k4, inv_n)
    return Band(mean, se, expected, z * se + allowance, z, allowance, fpp, n)


def mean_band(
    samples, expected: float, fpp: float, *, allowance: float = 0.0, controls=None
) -> Band:
    """Band for the mean of independent ``samples`` around ``expected``.

    ``tol = z·se + allowance`` with ``se = sd/√n`` and ``z`` from
    :func:`edgeworth_z` with the sample skewness and excess kurtosis. With
    ``controls`` (columns of mean zero, e.g. :func:`latent_controls`) the mean is
    the regression estimator ``ȳ - b̂ᵀc̄`` (``b̂`` by least squares), whose
    standard error is that of the residuals with ``n - k - 1`` degrees of freedom.

    Parameters
    ----------
    samples : array_like
        Independent values, 1-d, at least 30.
    expected : float
        The value theory predicts for their mean.
    fpp : float
        Two-sided false-alarm probability of the Monte Carlo part.
    allowance : float, default 0
        Deterministic allowance for terms the theory does not compute.
    controls : array_like, optional
        Shape ``(n, k)``, ``k < n/10``: functions of each sample's randomness
        whose means are exactly zero.

    Returns
    -------
    Band
        Floats and the sample size.

    Raises
    ------
    ValueError
        For fewer than 30 values, NaN/inf, invalid ``fpp``, or controls of the
        wrong shape.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(1.0, 1.0, 10_000)
    >>> b = mean_band(x, 1.0, 1e-3)
    >>> abs(b.measured - b.expected) <= b.tol
    True
    """
    group = samples if controls is None else (samples, controls)
    return sum_band([group], expected, fpp, allowance=allowance)


def _shape(x: np.ndarray) -> tuple[float, float]:
    """Sample skewness and excess kurtosis (both scale-free; 0 for constant data)."""
    if np.ptp(x) == 0:
        return 0.0, 0.0
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        skew, kurt = stats.skew(x), stats.kurtosis(x)
        if not (np.isfinite(skew) and np.isfinite(kurt)):  # x⁴ left the float range
            scaled = x / np.max(np.abs(x))
            skew, kurt = stats.skew(scaled), stats.kurtosis(scaled)
    return float(skew), float(max(kurt, -2.0))


def nested_slope_band(
    lengths, sq_errors, expected: float, fpp: float, *, allowance: float = 0.0
) -> Band:
    """Band for the log–log slope of the RMSE measured on nested prefixes.

    ``sq_errors[k, r]`` is the squared error of sequence ``r`` at length
    ``lengths[k]``; the same sequences appear at every length, so the mean squared
    errors are dependent. The slope of ``½ log MSE`` on ``log L`` is
    ``b = ½ Σ_k c_k log ȳ_k`` with least-squares weights ``c_k``; its delta-method
    influence values ``u_r = ½ Σ_k c_k y_{kr}/ȳ_k`` are independent across
    sequences, so ``se = sd(u)/√R`` and ``z`` comes from :func:`edgeworth_z` with
    the skewness and kurtosis of ``u``.

    Parameters
    ----------
    lengths : array_like
        At least two distinct lengths ``> 0``.
    sq_errors : array_like
        Shape ``(len(lengths), R)``, ``R >= 30``, with positive means (single
        values may be negative when a control variate has been subtracted).
    expected : float
        Slope predicted by theory over these lengths.
    fpp : float
        Two-sided false-alarm probability.
    allowance : float, default 0
        Deterministic allowance for terms the prediction omits.

    Returns
    -------
    Band
        ``measured`` is the fitted slope.

    Raises
    ------
    ValueError
        For shapes that do not match, non-positive values or too few sequences.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> L = np.array([100.0, 400.0, 1600.0])
    >>> y = rng.chisquare(3, (3, 500)) / 3 / L[:, None]
    >>> b = nested_slope_band(L, y, -0.5, 1e-3)
    >>> abs(b.measured + 0.5) <= b.tol
    True
    """
    L = check_array("lengths", lengths, ndim=1, low=0.0, low_open=True)
    y = check_array("sq_errors", sq_errors, ndim=2)
    if np.any(y.mean(1) <= 0):
        raise ValueError("sq_errors must have a positive mean at every length")
    if y.shape[0] != L.size or np.unique(L).size < 2:
        raise ValueError("sq_errors must have one row per length, >= 2 lengths")
    if y.shape[1] < 30:
        raise ValueError("sq_errors must hold at least 30 sequences")
    expected = check_real("expected", expected)
    allowance = check_positive("allowance", allowance, allow_zero=True)
    fpp = _fpp(fpp)
    c = loglog_coefficients(L)
    ybar = y.mean(1)
    slope = float(0.5 * c @ np.log(ybar))
    u = 0.5 * (c / ybar) @ y
    se = float(u.std(ddof=1) / math.sqrt(u.size))
    if se == 0:
        z = float(stats.norm.isf(fpp / 2))
    else:
        z = edgeworth_z(fpp, u.size, *_shape(u))
    return Band(slope, se, expected, z * se + allowance, z, allowance, fpp, u.size)
