"""Exchangeability (Chapter 1): the Pólya urn, de Finetti's theorem,
Diaconis–Freedman.

Every function returns NumPy values: a ``numpy.float64`` for a scalar result, a
``numpy.ndarray`` otherwise, and a :class:`typing.NamedTuple` of such values for the
summaries the chapter checks (:class:`UrnEnumeration`, :class:`FrequencyDistances`,
:class:`BoundRatio`, :class:`EncoderPermutationErrors`). Inputs are validated with
:mod:`lib.validation`; a result that underflows is flagged with
:class:`~lib.validation.AccuracyWarning` (use the ``*_log_probability`` functions), one
that overflows raises ``FloatingPointError``.

Conventions
-----------
- A binary sequence ``x`` has its positions on the last axis; ``1`` is a ball of the
  colour the urn starts with ``a`` of ("red"), ``0`` one of the colour it starts with
  ``b`` of.
- Every distance returned here is the *sup-distance* (total variation)
  ``d(P, Q) = sup_A |P(A) - Q(A)| = (1/2) Σ_x |P(x) - Q(x)|``, which lies in [0, 1].
  Diaconis and Freedman (1980) state their bounds for the variation distance
  ``‖P - Q‖ = 2 sup_A |P(A) - Q(A)|``; :func:`diaconis_freedman_bound` returns their
  numbers divided by 2.
- Rounding: ``u = 2**-53`` is the unit roundoff of float64 and
  ``γ_m = m u / (1 - m u)`` (:func:`rounding_gamma`) bounds the relative error of
  ``m`` roundings (Higham, *Accuracy and Stability of Numerical Algorithms*, Lemma 3.1).

Examples
--------
>>> float(polya_sequence_probability([1, 1], 1.0, 1.0))  # 1/2 * 2/3
0.3333333333333333
>>> float(diaconis_freedman_bound(2, 10))  # k(k-1)/(2n)
0.1
"""

from __future__ import annotations

import itertools
import math
import warnings
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import betainc, betaln, gammaln, xlogy

from lib.transformer import sinusoidal_positions
from lib.validation import (
    AccuracyWarning,
    InputTypeError,
    check_array,
    check_binary,
    check_finite_result,
    check_int,
    check_int_array,
    check_positive,
    check_real,
    check_rng,
)

__all__ = [
    "BETALN_VALIDATED",
    "UNIT_ROUNDOFF",
    "BoundRatio",
    "EncoderPermutationErrors",
    "FrequencyDistances",
    "UrnEnumeration",
    "beta_mixture_log_probability",
    "beta_mixture_probability",
    "beta_mixture_tolerance",
    "diaconis_freedman_bound",
    "diaconis_freedman_ratio",
    "distinct_iid_probability",
    "distinct_iid_tolerance",
    "dkw_epsilon",
    "encoder_permutation_errors",
    "frequency_distances",
    "kolmogorov_distance_frequency_to_beta",
    "polya_count_pmf",
    "polya_exact_probability",
    "polya_sequence_log_probability",
    "polya_sequence_probability",
    "probability_sum_tolerance",
    "rounding_gamma",
    "sample_polya_urn",
    "tv_distinct_balls",
    "tv_rounding_tolerance",
    "tv_sampling_without_vs_with_replacement",
    "tv_urn_without_vs_with_replacement",
    "urn_enumeration",
    "urn_probability_tolerance",
    "worst_composition_tv",
]

UNIT_ROUNDOFF = np.finfo(np.float64).eps / 2
"""``u = 2**-53``, the unit roundoff of float64."""

BETALN_VALIDATED = {"a": (1e-3, 1e3), "b": (0.1, 1e3), "n": (0, 40)}
"""Parameter box on which assumption (A1) of :func:`beta_mixture_tolerance` was
validated against exact rational values (``tests/test_exchangeability.py``)."""

_INT64_MAX = 2**63 - 1
_MAX_GRID = 20_000_000


def _out(result):
    """A 0-d result as ``numpy.float64``, anything else as an ndarray."""
    result = np.asarray(result, dtype=np.float64)
    return np.float64(result) if result.ndim == 0 else result


def _warn_underflow(name: str, underflow, hint: str) -> None:
    if np.any(underflow):
        warnings.warn(
            f"{name} underflows below the smallest normal float64 for some inputs "
            f"(relative accuracy lost); use {hint}",
            AccuracyWarning,
            stacklevel=3,
        )


# ----------------------------------------------------------------------------- rounding
def rounding_gamma(m) -> np.float64:
    """``γ_m = m u / (1 - m u)``: the relative error bound of ``m`` roundings.

    Parameters
    ----------
    m : int or int array
        Number of roundings, ``0 <= m`` and ``m u < 1``.

    Returns
    -------
    numpy.float64 or ndarray
        ``γ_m`` (Higham 2002, Lemma 3.1: ``Π (1 + δ_i)^{±1} = 1 + θ_m``,
        ``|θ_m| <= γ_m`` for ``|δ_i| <= u``).

    Raises
    ------
    ValueError
        If ``m`` is negative or so large that ``m u >= 1``.

    Examples
    --------
    >>> float(rounding_gamma(70)) > 70 * 2.0**-53
    True
    """
    m = check_int_array("m", m, minimum=0, nonempty=False).astype(np.float64)
    mu = m * UNIT_ROUNDOFF
    if np.any(mu >= 1):
        raise ValueError("m must satisfy m * u < 1")
    return _out(mu / (1 - mu))


def urn_probability_tolerance(n) -> np.float64:
    """``γ_{5n}``: relative error bound of :func:`polya_sequence_probability`.

    Each of the ``n`` quotients carries at most four roundings (its numerator, the two
    additions of ``a + b + t``, the division), the ``n - 1`` products one each, and the
    exact value it is compared with one more (it is rounded to float64 once):
    ``4n + (n - 1) + 1 = 5n`` roundings.

    Parameters
    ----------
    n : int
        Sequence length, ``>= 0``.

    Returns
    -------
    numpy.float64

    Examples
    --------
    >>> bool(urn_probability_tolerance(14) == rounding_gamma(70))
    True
    """
    n = check_int("n", n, minimum=0)
    return rounding_gamma(5 * n)


def probability_sum_tolerance(n, count) -> np.float64:
    """Bound on ``|Σ q - 1|`` for ``count`` computed urn probabilities ``q``.

    The ``count`` sequences have length ``n``; each computed ``q`` is ``p (1 + θ)``
    with ``|θ| <= γ_{5n}`` (:func:`urn_probability_tolerance`) and the exact ``p``
    sum to one; summing ``count`` non-negative floats adds a relative error at most
    ``γ_{count-1}``, so ``|Σ q - 1| <= γ_{5n} + γ_{count-1}(1 + γ_{5n})``.

    Parameters
    ----------
    n : int
        Sequence length, ``>= 0``.
    count : int
        Number of probabilities summed, ``>= 1``.

    Returns
    -------
    numpy.float64

    Examples
    --------
    >>> float(probability_sum_tolerance(3, 8)) < 1e-14
    True
    """
    n = check_int("n", n, minimum=0)
    count = check_int("count", count, minimum=1)
    g_n, g_s = rounding_gamma(5 * n), rounding_gamma(count - 1)
    return np.float64(g_n + g_s * (1 + g_n))


# ------------------------------------------------------------------------ Pólya urn
def _polya_factors(x, a, b):
    a = check_positive("a", a)
    b = check_positive("b", b)
    x = check_binary("x", x, min_ndim=1)
    n = x.shape[-1]
    t = np.arange(n)
    reds_before = np.cumsum(x, axis=-1) - x
    total = a + b + t
    numer = np.where(x == 1, a + reds_before, b + (t - reds_before))
    check_finite_result("a + b + n", total)
    return numer, total


def polya_sequence_probability(x, a, b):
    """Probability of ``x`` under the Pólya urn (``a`` red, ``b`` black).

    The urn draws a ball, returns it with one more of the drawn colour, and repeats.
    The probability is the product of the sequential conditional probabilities: with
    ``r_t`` the number of ones among ``x_0 .. x_{t-1}``,
    ``P(x) = Π_t [(a + r_t)/(a + b + t)]^{x_t} [(b + t - r_t)/(a + b + t)]^{1 - x_t}``,
    computed as a plain product, so its relative error is at most ``γ_{5n - 1}``
    (:func:`urn_probability_tolerance`) while the result is a normal float64.

    Parameters
    ----------
    x : array_like of 0/1, shape ``(..., n)``
        The sequences, positions on the last axis (``n = 0`` gives 1).
    a, b : float
        Initial numbers of red and black balls, real and ``> 0``.

    Returns
    -------
    numpy.float64 or ndarray of shape ``x.shape[:-1]``

    Raises
    ------
    ValueError, InputTypeError
        For entries other than 0/1, a 0-d ``x``, or ``a, b`` not positive reals.

    Warns
    -----
    AccuracyWarning
        If a probability falls below the smallest normal float64 (it underflows):
        use :func:`polya_sequence_log_probability`.

    Examples
    --------
    >>> float(polya_sequence_probability([1, 0, 1], 2.0, 3.0))  # 2/5 * 3/6 * 3/7
    0.08571428571428572
    """
    numer, total = _polya_factors(x, a, b)
    p = np.prod(numer / total, axis=-1)
    _warn_underflow(
        "polya_sequence_probability",
        p < np.finfo(np.float64).tiny,
        "polya_sequence_log_probability",
    )
    return _out(p)


def polya_sequence_log_probability(x, a, b):
    """Natural logarithm of :func:`polya_sequence_probability`, without underflow.

    ``log P(x) = Σ_t log(numerator_t) - log(a + b + t)`` with the same factors as the
    product form; for long sequences (``n = 2000``) where the probability itself is
    below ``1e-308``.

    Parameters
    ----------
    x : array_like of 0/1, shape ``(..., n)``
    a, b : float
        Positive reals.

    Returns
    -------
    numpy.float64 or ndarray of shape ``x.shape[:-1]``

    Raises
    ------
    ValueError, InputTypeError
        As :func:`polya_sequence_probability`.

    Examples
    --------
    >>> x = [1] * 2000
    >>> float(polya_sequence_log_probability(x, 1.0, 1.0))  # log(1/2001)
    -7.601402334583733
    """
    numer, total = _polya_factors(x, a, b)
    return _out(np.sum(np.log(numer) - np.log(total), axis=-1))


def polya_exact_probability(k, n, a, b):
    """``a^(k) b^(n-k) / (a+b)^(n)`` in exact rational arithmetic, rounded once.

    ``x^(m) = x (x + 1) ... (x + m - 1)`` is the rising factorial. The floats ``a`` and
    ``b`` are converted exactly to fractions, the value is computed exactly and rounded
    to the nearest float64 (``float(Fraction)`` rounds correctly): a reference value for
    any length-``n`` sequence with ``k`` ones.

    Parameters
    ----------
    k : int or int array
        Numbers of ones, ``0 <= k <= n``.
    n : int
        Sequence length, ``0 <= n <= 10_000``.
    a, b : float
        Positive reals.

    Returns
    -------
    numpy.float64 or ndarray of ``k``'s shape

    Examples
    --------
    >>> float(polya_exact_probability(2, 2, 2.0, 2.0))  # 2*3 / (4*5)
    0.3
    """
    n = check_int("n", n, minimum=0, maximum=10_000)
    k = check_int_array("k", k, minimum=0, maximum=n, nonempty=False)
    fa = Fraction(check_positive("a", a))
    fb = Fraction(check_positive("b", b))
    red = [Fraction(1)]
    black = [Fraction(1)]
    for i in range(n):
        red.append(red[-1] * (fa + i))
        black.append(black[-1] * (fb + i))
    both = math.prod((fa + fb + t for t in range(n)), start=Fraction(1))
    values = {int(j): float(red[j] * black[n - j] / both) for j in np.unique(k)}
    return _out(np.vectorize(values.__getitem__, otypes=[float])(k))


def _mixture_args(k, n, a, b):
    a = check_positive("a", a)
    b = check_positive("b", b)
    n = check_int_array("n", n, minimum=0, nonempty=False)
    k = check_int_array("k", k, minimum=0, nonempty=False)
    try:
        k, n = np.broadcast_arrays(k, n)
    except ValueError:
        msg = f"k and n must broadcast together, got shapes {k.shape} and {n.shape}"
        raise ValueError(msg) from None
    if np.any(k > n):
        raise ValueError("k must satisfy k <= n")
    return k, n, a, b


def beta_mixture_log_probability(k, n, a, b):
    """``log B(a + k, b + n - k) - log B(a, b)``: the log Beta-mixture probability.

    Parameters
    ----------
    k, n : int or int array
        Broadcast together, ``0 <= k <= n``.
    a, b : float
        Positive reals.

    Returns
    -------
    numpy.float64 or ndarray

    Examples
    --------
    >>> round(float(beta_mixture_log_probability(1, 1, 2.0, 3.0)), 12)  # log(2/5)
    -0.916290731874
    """
    k, n, a, b = _mixture_args(k, n, a, b)
    out = betaln(a + k, b + n - k) - betaln(a, b)
    return _out(check_finite_result("beta_mixture_log_probability", out))


def beta_mixture_probability(k, n, a, b):
    """``∫ θ^k (1-θ)^(n-k) Beta(θ; a, b) dθ = B(a + k, b + n - k) / B(a, b)``.

    The probability that ``n`` i.i.d. Bernoulli(θ) draws with θ ~ Beta(a, b) equal a
    given sequence with ``k`` ones, computed as
    ``exp(betaln(a + k, b + n - k) - betaln(a, b))`` (its accuracy is discussed in
    :func:`beta_mixture_tolerance`).

    Parameters
    ----------
    k, n : int or int array
        Broadcast together, ``0 <= k <= n``.
    a, b : float
        Positive reals.

    Returns
    -------
    numpy.float64 or ndarray

    Raises
    ------
    ValueError, InputTypeError
        For ``k > n``, negative or non-integer counts, non-positive ``a, b``.

    Warns
    -----
    AccuracyWarning
        If the probability underflows: use :func:`beta_mixture_log_probability`.

    Examples
    --------
    >>> round(float(beta_mixture_probability(1, 1, 2.0, 3.0)), 15)  # a / (a + b)
    0.4
    """
    logp = beta_mixture_log_probability(k, n, a, b)
    _warn_underflow(
        "beta_mixture_probability",
        logp < np.log(np.finfo(np.float64).tiny),
        "beta_mixture_log_probability",
    )
    return _out(np.exp(logp))


def beta_mixture_tolerance(k, n, a, b):
    """Relative tolerance ``4u(1 + G_k) + γ_{5n}`` of :func:`beta_mixture_probability`.

    ``G_k = |lnΓ(a+k)| + |lnΓ(b+n-k)| + |lnΓ(a+b+n)|
    + |lnΓ(a)| + |lnΓ(b)| + |lnΓ(a+b)|``.
    The value is ``exp`` of a difference of two ``betaln`` values, so its error is set
    by the size of the log-Gamma values, not by ``n``. **Assumption (A1):** scipy's
    ``betaln`` and ``exp`` together contribute a relative error at most ``4u(1 + G_k)``;
    ``γ_{5n}`` covers the rounding of the exact reference value. (A1) is an assumption
    about scipy, validated against exact rational values on
    :data:`BETALN_VALIDATED` (``1e-3 <= a <= 1e3``, ``0.1 <= b <= 1e3``, ``n <= 40``),
    where the measured error stays below ``2.5 u (1 + G_k)``. It is false outside: for
    ``b = 1e-3`` the error exceeds this tolerance about ten- to fifteenfold.

    Parameters
    ----------
    k, n : int or int array
        Broadcast together, ``0 <= k <= n``.
    a, b : float
        Positive reals.

    Returns
    -------
    numpy.float64 or ndarray

    Warns
    -----
    AccuracyWarning
        If ``(a, b, n)`` lies outside :data:`BETALN_VALIDATED`.

    Examples
    --------
    >>> float(beta_mixture_tolerance(0, 0, 1.0, 1.0)) == 4 * 2.0**-53
    True
    """
    k, n, a, b = _mixture_args(k, n, a, b)
    (alo, ahi), (blo, bhi) = BETALN_VALIDATED["a"], BETALN_VALIDATED["b"]
    nlo, nhi = BETALN_VALIDATED["n"]
    if not (alo <= a <= ahi and blo <= b <= bhi and np.all((n >= nlo) & (n <= nhi))):
        warnings.warn(
            "beta_mixture_tolerance: (a, b, n) outside the range on which its "
            f"assumption about scipy's betaln was validated, {BETALN_VALIDATED}",
            AccuracyWarning,
            stacklevel=2,
        )
    g_k = sum(
        np.abs(gammaln(v))
        for v in (a + k, b + n - k, a + b + n, np.full(k.shape, a), b, a + b)
    )
    return _out(4 * UNIT_ROUNDOFF * (1 + g_k) + rounding_gamma(5 * n))


class UrnEnumeration(NamedTuple):
    """Worst discrepancies of :func:`urn_enumeration`, as fractions of their bounds."""

    urn: np.float64
    """max ``|p_urn / p_exact - 1| / γ_{5n}`` over urns, sequences and orders."""
    mixture: np.float64
    """max ``|p_mix / p_exact - 1| / beta_mixture_tolerance``."""
    total: np.float64
    """max ``|Σ_x p_urn(x) - 1| / probability_sum_tolerance`` over urns."""
    urn_tol: np.float64
    """``γ_{5n}``."""


def urn_enumeration(n, urns, rng):
    """Compare urn, Beta mixture and exact values over all ``2**n`` binary sequences.

    For each urn ``(a, b)``: the sequential product
    (:func:`polya_sequence_probability`) of every sequence, in its own order, after one
    random permutation of the positions (the same for all sequences) and reversed,
    against the exact rational value (:func:`polya_exact_probability`), which depends
    on ``k`` only; and the Beta mixture (:func:`beta_mixture_probability`) against the
    same exact value. Each discrepancy is divided by its tolerance, so every ratio is at
    most 1 if the theorem and (A1) hold.

    Parameters
    ----------
    n : int
        Sequence length, ``1 <= n <= 20``.
    urns : sequence of (a, b)
        Urns with positive ``a, b``.
    rng : numpy.random.Generator
        Draws the permutation of the positions.

    Returns
    -------
    UrnEnumeration

    Examples
    --------
    >>> res = urn_enumeration(4, [(2.0, 3.0)], np.random.default_rng(0))
    >>> bool(res.urn <= 1 and res.mixture <= 1 and res.total <= 1)
    True
    """
    n = check_int("n", n, minimum=1, maximum=20)
    urns = check_array("urns", urns, ndim=2, shape=(2,), low=0.0, low_open=True)
    rng = check_rng("rng", rng)
    seqs = np.array(list(itertools.product([0, 1], repeat=n)))
    k = seqs.sum(axis=1)
    orders = (np.arange(n), rng.permutation(n), np.arange(n)[::-1])
    tol_urn = urn_probability_tolerance(n)
    tol_sum = probability_sum_tolerance(n, 2**n)
    worst_urn = worst_mix = worst_sum = 0.0
    for a, b in urns:
        exact = polya_exact_probability(np.arange(n + 1), n, a, b)[k]
        for order in orders:
            p_urn = polya_sequence_probability(seqs[:, order], a, b)
            worst_urn = max(worst_urn, np.max(np.abs(p_urn / exact - 1)) / tol_urn)
            worst_sum = max(worst_sum, abs(p_urn.sum() - 1) / tol_sum)
        p_mix = beta_mixture_probability(k, n, a, b)
        err = np.abs(p_mix / exact - 1) / beta_mixture_tolerance(k, n, a, b)
        worst_mix = max(worst_mix, np.max(err))
    return UrnEnumeration(
        np.float64(worst_urn), np.float64(worst_mix), np.float64(worst_sum), tol_urn
    )


def polya_count_pmf(n, a, b) -> np.ndarray:
    """Law of the number ``K`` of red draws among the first ``n``: beta-binomial pmf.

    ``P(K = k) = C(n, k) B(a + k, b + n - k) / B(a, b)``: every sequence with ``k``
    ones has the same probability. Entries below ``1e-308`` underflow to 0 (an
    absolute error below ``1e-308``).

    Parameters
    ----------
    n : int
        Number of draws, ``>= 0``.
    a, b : float
        Positive reals.

    Returns
    -------
    ndarray of shape ``(n + 1,)``

    Examples
    --------
    >>> polya_count_pmf(2, 1.0, 1.0).round(12).tolist()  # uniform on {0, 1, 2}
    [0.333333333333, 0.333333333333, 0.333333333333]
    """
    n = check_int("n", n, minimum=0)
    a = check_positive("a", a)
    b = check_positive("b", b)
    k = np.arange(n + 1)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    out = np.exp(log_choose + betaln(a + k, b + n - k) - betaln(a, b))
    return check_finite_result("polya_count_pmf", out)


def sample_polya_urn(n, a, b, size, rng) -> np.ndarray:
    """``size`` independent Pólya-urn sequences of length ``n``, entries 0/1.

    Vectorised over the urns (the loop runs over the ``n`` draws): at draw ``t`` an
    urn holding ``r`` red among ``a + b + t`` balls yields a 1 with probability
    ``(a + r) / (a + b + t)``.

    Parameters
    ----------
    n : int
        Draws per urn, ``>= 0``.
    a, b : float
        Positive reals.
    size : int
        Number of urns, ``>= 0``.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int64, shape ``(size, n)``

    Examples
    --------
    >>> sample_polya_urn(3, 1.0, 1.0, 2, np.random.default_rng(0)).shape
    (2, 3)
    """
    n = check_int("n", n, minimum=0)
    a = check_positive("a", a)
    b = check_positive("b", b)
    size = check_int("size", size, minimum=0)
    rng = check_rng("rng", rng)
    check_finite_result("a + b + n", a + b + n)
    out = np.empty((size, n), dtype=np.int64)
    reds = np.zeros(size)
    for t in range(n):
        draw = rng.random(size) < (a + reds) / (a + b + t)
        out[:, t] = draw
        reds += draw
    return out


def kolmogorov_distance_frequency_to_beta(n, a, b) -> np.float64:
    """Exact ``sup_t |P(K_n / n <= t) - F_Beta(a,b)(t)|`` for the urn frequency.

    The step function jumps only at ``j / n`` and the Beta cdf is continuous and
    increasing, so the supremum is attained at a jump, from the left or the right:
    ``max_j max(|P(K <= j) - F(j/n)|, |P(K <= j - 1) - F(j/n)|)``. Since the two
    one-sided values at ``j`` differ by ``P(K = j)``, the result is at least
    ``max_j P(K = j) / 2``.

    Parameters
    ----------
    n : int
        Number of draws, ``>= 1``.
    a, b : float
        Positive reals.

    Returns
    -------
    numpy.float64

    Examples
    --------
    >>> float(kolmogorov_distance_frequency_to_beta(1, 1.0, 1.0))  # jump 1/2 at 0
    0.5
    """
    n = check_int("n", n, minimum=1)
    pmf = polya_count_pmf(n, a, b)
    cdf_right = np.cumsum(pmf)
    cdf_left = cdf_right - pmf
    beta_cdf = betainc(a, b, np.arange(n + 1) / n)
    right = np.max(np.abs(cdf_right - beta_cdf))
    left = np.max(np.abs(cdf_left - beta_cdf))
    return np.float64(max(right, left))


class FrequencyDistances(NamedTuple):
    """Kolmogorov distances of the empirical law of urn frequencies."""

    to_exact: np.float64
    """``sup_t |F_N(t) - P(K_n/n <= t)|`` (exact beta-binomial law)."""
    to_beta: np.float64
    """``sup_t |F_N(t) - F_Beta(a,b)(t)|`` (the limit law)."""
    d_n: np.float64
    """``sup_t |P(K_n/n <= t) - F_Beta(a,b)(t)|``."""


def frequency_distances(counts, n, a, b) -> FrequencyDistances:
    """Kolmogorov distances of the empirical cdf ``F_N`` of ``counts / n``.

    ``F_N`` and the exact law are step functions with jumps at ``j / n``, so their
    distance is a maximum over ``j``; the distance to the continuous Beta cdf is
    attained at a jump, from the left or the right.

    Parameters
    ----------
    counts : array_like of int, shape ``(N,)``
        Red counts ``K_n`` of ``N`` urns, each in ``[0, n]``.
    n : int
        Draws per urn, ``>= 1``.
    a, b : float
        Positive reals.

    Returns
    -------
    FrequencyDistances

    Examples
    --------
    >>> frequency_distances([0, 1], 1, 1.0, 1.0).to_exact  # F_N = exact law
    np.float64(0.0)
    """
    n = check_int("n", n, minimum=1)
    counts = check_int_array("counts", counts, ndim=1, minimum=0, maximum=n)
    pmf = polya_count_pmf(n, a, b)
    emp_right = np.cumsum(np.bincount(counts, minlength=n + 1)) / counts.size
    emp_left = np.concatenate([[0.0], emp_right[:-1]])
    beta_cdf = betainc(a, b, np.arange(n + 1) / n)
    to_exact = np.max(np.abs(emp_right - np.cumsum(pmf)))
    to_beta = max(
        np.max(np.abs(emp_right - beta_cdf)), np.max(np.abs(emp_left - beta_cdf))
    )
    return FrequencyDistances(
        np.float64(to_exact),
        np.float64(to_beta),
        kolmogorov_distance_frequency_to_beta(n, a, b),
    )


def dkw_epsilon(num_samples, delta) -> np.float64:
    """Dvoretzky–Kiefer–Wolfowitz (Massart) radius ``sqrt(log(2/δ) / (2N))``.

    For ``N`` i.i.d. draws from *any* distribution on the line,
    ``P(sup_t |F_N(t) - F(t)| > ε) <= 2 exp(-2 N ε²) = δ``.

    Parameters
    ----------
    num_samples : int
        ``N >= 1``.
    delta : float
        False-alarm probability, ``0 < δ <= 1``.

    Returns
    -------
    numpy.float64

    Examples
    --------
    >>> round(float(dkw_epsilon(20_000, 1e-3)), 4)
    0.0138
    """
    num_samples = check_int("num_samples", num_samples, minimum=1)
    delta = check_real("delta", delta, low=0.0, low_open=True, high=1.0)
    return np.float64(np.sqrt(np.log(2.0 / delta) / (2.0 * num_samples)))


# ----------------------------------------------------------------------------- urns
def tv_urn_without_vs_with_replacement(composition, k):
    """Exact sup-distance between ``k`` ordered draws without and with replacement.

    Without replacement the colour counts ``s`` of ``k`` draws are multivariate
    hypergeometric, ``Π_i C(ℓ_i, s_i) / C(n, k)``; with replacement multinomial,
    ``k!/Π s_i! Π (ℓ_i/n)^{s_i}``. Both ordered laws are exchangeable, so given the
    counts every arrangement is equally likely under each, and the ordered-sequence
    distance equals the count distance ``(1/2) Σ_s |hyp(s) - mult(s)|``. Exact
    enumeration of the ``(max k + 1)^c`` count vectors; accuracy in
    :func:`tv_rounding_tolerance`.

    Parameters
    ----------
    composition : array_like of int, shape ``(c,)``
        Numbers of balls of each colour, ``>= 0``, summing to ``n >= 1``.
    k : int or int array
        Numbers of draws, ``0 <= k <= n``.

    Returns
    -------
    numpy.float64 or ndarray of ``k``'s shape

    Examples
    --------
    >>> float(tv_urn_without_vs_with_replacement([1, 1], 2))  # P(no repeat) = 1/2
    0.5
    """
    comp = check_int_array("composition", composition, ndim=1, minimum=0)
    n = int(comp.sum())
    if n < 1:
        raise ValueError("composition must contain at least one ball")
    k = check_int_array("k", k, minimum=0, maximum=n, nonempty=False)
    kmax = int(k.max()) if k.size else 0
    c = comp.size
    if float(kmax + 1) ** c > _MAX_GRID:
        raise ValueError(
            f"composition has too many colours ({c}) for exact enumeration with k "
            f"up to {kmax}"
        )
    logfact = gammaln(np.arange(n + 1) + 1.0)
    grids = np.meshgrid(*([np.arange(kmax + 1)] * c), indexing="ij")
    s = np.stack([g.ravel() for g in grids], axis=1)  # (G, c)
    total = s.sum(axis=1)
    keep = total <= kmax
    s, total = s[keep], total[keep]
    p = comp / n
    log_mult = logfact[total] - logfact[s].sum(axis=1) + xlogy(s, p).sum(axis=1)
    mult = np.exp(log_mult)
    feasible = np.all(s <= comp, axis=1)
    s_f = np.where(s <= comp, s, 0)
    rest = np.where(s <= comp, comp - s, 0)
    log_hyp = (logfact[comp] - logfact[s_f] - logfact[rest]).sum(axis=1) - (
        logfact[n] - logfact[total] - logfact[n - total]
    )
    hyp = np.where(feasible, np.exp(np.where(feasible, log_hyp, 0.0)), 0.0)
    tv_by_k = 0.5 * np.bincount(total, weights=np.abs(hyp - mult), minlength=kmax + 1)
    return _out(tv_by_k[k])


def tv_sampling_without_vs_with_replacement(n, m, k):
    """Sup-distance between ``k`` ordered draws without and with replacement, 2 colours.

    The urn has ``n`` balls, ``m`` of colour 1. By exchangeability (see
    :func:`tv_urn_without_vs_with_replacement`) this is the distance between
    Hypergeometric(n, m, k) and Binomial(k, m/n):
    ``(1/2) Σ_s |C(m,s) C(n-m,k-s)/C(n,k) - C(k,s)(m/n)^s (1-m/n)^(k-s)|``.

    Parameters
    ----------
    n : int
        Number of balls, ``>= 1``.
    m : int or int array
        Balls of colour 1, ``0 <= m <= n``.
    k : int or int array
        Numbers of draws, ``0 <= k <= n``.

    Returns
    -------
    numpy.float64 or ndarray of shape ``m.shape + k.shape``

    Examples
    --------
    >>> float(tv_sampling_without_vs_with_replacement(2, 1, 2))
    0.5
    """
    n = check_int("n", n, minimum=1)
    m = check_int_array("m", m, minimum=0, maximum=n, nonempty=False)
    k = check_int_array("k", k, minimum=0, maximum=n, nonempty=False)
    kmax = int(k.max()) if k.size else 0
    logfact = gammaln(np.arange(n + 1) + 1.0)
    kk, ss = np.tril_indices(kmax + 1)  # all pairs 0 <= s <= k <= kmax
    rr = kk - ss
    log_choose_ks = logfact[kk] - logfact[ss] - logfact[rr]
    log_choose_nk = logfact[n] - logfact[kk] - logfact[n - kk]
    flat = m.ravel()
    out = np.empty((flat.size, kmax + 1))
    chunk = max(1, 2_000_000 // kk.size)
    for start in range(0, flat.size, chunk):
        mi = flat[start : start + chunk, None]
        p = mi / n
        binom = np.exp(log_choose_ks + xlogy(ss, p) + xlogy(rr, 1.0 - p))
        feasible = (ss <= mi) & (rr <= n - mi)
        s_f = np.where(feasible, ss, 0)
        r_f = np.where(feasible, rr, 0)
        log_hyp = (
            logfact[mi]
            - logfact[s_f]
            - logfact[np.where(feasible, mi - s_f, 0)]
            + logfact[n - mi]
            - logfact[r_f]
            - logfact[np.where(feasible, n - mi - r_f, 0)]
            - log_choose_nk
        )
        hyp = np.where(feasible, np.exp(np.where(feasible, log_hyp, 0.0)), 0.0)
        diff = np.abs(hyp - binom)
        for i in range(diff.shape[0]):
            out[start + i] = 0.5 * np.bincount(kk, weights=diff[i], minlength=kmax + 1)
    return _out(out.reshape(m.shape + (kmax + 1,))[..., k])


def tv_distinct_balls(n, k):
    """Sup-distance for an urn of ``n`` distinct balls: ``1 - n! / ((n - k)! n^k)``.

    Without replacement the ordered draws are uniform on the ``n!/(n-k)!`` injective
    sequences, with replacement uniform on all ``n^k``; the event "no ball repeats"
    attains the supremum. Computed as ``-expm1(Σ_{i<k} log1p(-i/n))``.

    Parameters
    ----------
    n : int
        Number of balls, ``1 <= n <= 10**8``.
    k : int or int array
        Numbers of draws, ``0 <= k <= n``.

    Returns
    -------
    numpy.float64 or ndarray of ``k``'s shape

    Examples
    --------
    >>> float(tv_distinct_balls(2, 2))  # 1 - 2!/2^2
    0.5
    """
    n = check_int("n", n, minimum=1, maximum=10**8)
    k = check_int_array("k", k, minimum=0, maximum=n, nonempty=False)
    kmax = int(k.max()) if k.size else 0
    log_terms = np.concatenate([[0.0], np.cumsum(np.log1p(-np.arange(kmax) / n))])
    return _out(-np.expm1(log_terms[k]))


def tv_rounding_tolerance(n, colours=2) -> np.float64:
    """Absolute rounding-error bound for the sup-distances of urns of ``n`` balls.

    Each log-probability of :func:`tv_urn_without_vs_with_replacement` (and of the two-
    colour and distinct-ball versions) is a sum of ``J = 3c + 3`` log-factorials and
    ``x log p`` terms of total size ``S = (3c + 3) log n! + n log n``.
    **Assumption (A2):** scipy's ``gammaln`` at the integers ``1 .. n + 1`` has
    relative error at most ``4u`` (measured: below ``3.1u``, ``tests/``), and ``exp``,
    ``log``, ``log1p``, ``expm1`` at most
    two units in the last place. Then each probability has relative error
    ``r <= expm1((γ_J + 4u) S) + γ_4``, and the distance
    ``(1/2) Σ_s |hyp(s) - mult(s)|`` over ``G = (n + 1)^c`` terms is off by at most
    ``r + u + γ_G (1 + r)``, the value returned.

    Parameters
    ----------
    n : int
        Number of balls, ``1 <= n <= 10**6``.
    colours : int
        Number of colours ``c >= 2`` (distinct balls: use ``c = 2``, whose bound is
        larger than theirs).

    Returns
    -------
    numpy.float64

    Examples
    --------
    >>> float(tv_rounding_tolerance(300)) < 1e-10
    True
    """
    n = check_int("n", n, minimum=1, maximum=10**6)
    c = check_int("colours", colours, minimum=2, maximum=16)
    u = UNIT_ROUNDOFF
    terms = 3 * c + 3
    size = terms * math.lgamma(n + 1) + n * math.log(n)
    r = math.expm1((rounding_gamma(terms) + 4 * u) * size) + rounding_gamma(4)
    grid = min((n + 1) ** c, int(1 / (4 * u)))
    return np.float64(r + u + rounding_gamma(grid) * (1 + r))


def worst_composition_tv(n, colours=2) -> np.ndarray:
    """``max`` over urn compositions of the sup-distance, for every ``k = 0 .. n``.

    The maximum over all ``C(n + c - 1, c - 1)`` compositions of ``n`` balls in ``c``
    colours of :func:`tv_urn_without_vs_with_replacement` (for ``c = 2``, of
    :func:`tv_sampling_without_vs_with_replacement` over ``m = 0 .. n``).

    Parameters
    ----------
    n : int
        Number of balls, ``>= 1``.
    colours : int
        ``c >= 2``; the work grows like ``n^{2c-1}``, so ``c = 3`` is practical up to
        ``n`` of a few dozen.

    Returns
    -------
    ndarray of shape ``(n + 1,)``

    Examples
    --------
    >>> worst_composition_tv(2).round(3)  # k = 2: composition (1, 1)
    array([0. , 0. , 0.5])
    """
    n = check_int("n", n, minimum=1)
    c = check_int("colours", colours, minimum=2, maximum=16)
    ks = np.arange(n + 1)
    if c == 2:
        return tv_sampling_without_vs_with_replacement(n, ks, ks).max(axis=0)
    if math.comb(n + c - 1, c - 1) * float(n + 1) ** c > 50 * _MAX_GRID:
        raise ValueError(f"too many compositions for n = {n} and colours = {c}")
    worst = np.zeros(n + 1)
    for bars in itertools.combinations(range(n + c - 1), c - 1):
        edges = np.array((-1, *bars, n + c - 1))
        composition = np.diff(edges) - 1
        worst = np.maximum(worst, tv_urn_without_vs_with_replacement(composition, ks))
    return worst


def diaconis_freedman_bound(k, n, c=None):
    """Diaconis–Freedman bound on the sup-distance, ``k`` of ``n`` exchangeable
    values.

    Diaconis & Freedman (1980) bound ``‖P_k - Q_k‖`` by ``2ck/n`` (``c`` possible
    values) and by ``k(k-1)/n`` (any number of values), for the variation distance
    ``‖P - Q‖ = 2 sup_A |P(A) - Q(A)|``. On the sup-distance the bounds are

    - ``c k / n`` for a positive integer ``c``;
    - ``k (k - 1) / (2 n)`` for ``c=None`` (infinitely many values).

    Computed in float64 from the exact integers (no integer overflow: relative error
    at most ``γ_3``). The raw formula is returned (it may exceed 1).

    Parameters
    ----------
    k : int or int array
        ``0 <= k <= n``.
    n : int
        ``1 <= n <= 2**63 - 1``.
    c : int or None
        Number of possible values, ``1 <= c <= 2**63 - 1``, or ``None``.

    Returns
    -------
    numpy.float64 or ndarray of ``k``'s shape

    Examples
    --------
    >>> float(diaconis_freedman_bound(3, 10, 2)), float(diaconis_freedman_bound(3, 10))
    (0.6, 0.3)
    >>> float(diaconis_freedman_bound(5 * 10**9, 10**10))
    1249999999.75
    """
    n = check_int("n", n, minimum=1, maximum=_INT64_MAX)
    k = check_int_array("k", k, minimum=0, maximum=n, nonempty=False)
    kf = k.astype(np.float64)
    if c is None:
        return _out(kf * (kf - 1) / (2.0 * float(n)))
    c = check_int("c", c, minimum=1, maximum=_INT64_MAX)
    return _out(float(c) * kf / float(n))


class BoundRatio(NamedTuple):
    """Largest ratio of exact sup-distances to their Diaconis–Freedman bound."""

    ratio: np.float64
    """``max d_k / bound_k`` over the urn sizes ``n`` and the ``k`` with bound > 0."""
    n: int
    """The urn size at which the maximum is attained."""
    k: int
    """The number of draws at which the maximum is attained."""
    tol: np.float64
    """Rounding tolerance on ``ratio`` (valid when the exact ratio is at most 1)."""


def diaconis_freedman_ratio(tvs, c=None, colours=2) -> BoundRatio:
    """``max_{n, k} tvs[n][k] / diaconis_freedman_bound(k, n, c)`` over bounds > 0.

    If each ``tvs[n]`` is within ``τ_n = tv_rounding_tolerance(n, colours)`` of the
    exact distances and the bound within ``γ_3`` of its value, a computed ratio exceeds
    the exact one by at most ``(τ_n / b_n)(1 + γ_4) + γ_4`` when the exact ratio is
    at most 1, with ``b_n`` the smallest positive bound for ``n``; the returned ``tol``
    is the largest of these over ``n``.

    Parameters
    ----------
    tvs : mapping of int to array_like
        For each urn size ``n >= 2``, the sup-distances for ``k = 0 .. n`` (shape
        ``(n + 1,)``).
    c : int or None
        As in :func:`diaconis_freedman_bound`.
    colours : int
        Passed to :func:`tv_rounding_tolerance`.

    Returns
    -------
    BoundRatio

    Examples
    --------
    >>> r = diaconis_freedman_ratio({5: tv_distinct_balls(5, np.arange(6))})
    >>> float(r.ratio), r.n, r.k
    (1.0, 5, 2)
    """
    if not hasattr(tvs, "items") or not tvs:
        raise InputTypeError(f"tvs must be a non-empty mapping n -> array, got {tvs!r}")
    g4 = rounding_gamma(4)
    best, tol = None, 0.0
    for n, tv in tvs.items():
        n = check_int("n (a key of tvs)", n, minimum=2, maximum=10**6)
        tv = check_array(f"tvs[{n}]", tv, ndim=1, shape=(n + 1,), low=0.0)
        bound = diaconis_freedman_bound(np.arange(n + 1), n, c)
        pos = bound > 0
        ratios = np.where(pos, tv / np.where(pos, bound, 1.0), 0.0)
        k = int(np.argmax(ratios))
        if best is None or ratios[k] > best[0]:
            best = (ratios[k], n, k)
        tol_n = tv_rounding_tolerance(n, colours) / bound[pos].min()
        tol = max(tol, tol_n * (1 + g4) + g4)
    return BoundRatio(np.float64(best[0]), best[1], best[2], np.float64(tol))


# ------------------------------------------------------------------------ positions
def distinct_iid_probability(rho, k):
    """``k! e_k(ρ)``: probability that ``k`` i.i.d. draws from ``rho`` are distinct.

    ``e_k`` is the elementary symmetric polynomial; the ordered sum over distinct
    ``(i_1, ..., i_k)`` of ``ρ_{i_1} ... ρ_{i_k}`` is ``k! e_k(ρ)``. Computed by the
    recursion ``f_j ← f_j + j ρ_i f_{j-1}`` for ``f_j = j! e_j`` (all terms
    non-negative, every ``f_j <= (Σ ρ)^j <= 1``). A ``rho`` that sums to less than 1
    puts the missing mass outside the ``L`` values (draws there count as not distinct).

    Parameters
    ----------
    rho : array_like, shape ``(..., L)``
        Non-negative, each row summing to at most ``1 + 1e-9``.
    k : int
        ``0 <= k <= L``.

    Returns
    -------
    numpy.float64 or ndarray of shape ``rho.shape[:-1]``

    Examples
    --------
    >>> float(distinct_iid_probability([0.5, 0.5], 2))  # 2! * 0.25
    0.5
    """
    rho = check_array("rho", rho, min_ndim=1, low=0.0)
    if np.any(rho.sum(axis=-1) > 1 + 1e-9):
        raise ValueError("rho must sum to at most 1 along its last axis")
    k = check_int("k", k, minimum=0, maximum=rho.shape[-1])
    f = np.zeros(rho.shape[:-1] + (k + 1,))
    f[..., 0] = 1.0
    for i in range(rho.shape[-1]):
        r = rho[..., i : i + 1]
        f[..., 1:] = f[..., 1:] + np.arange(1, k + 1) * r * f[..., :-1]
    return _out(f[..., k])


def distinct_iid_tolerance(length, k) -> np.float64:
    """Rounding tolerance ``γ_{k(L+2)+6L+2}`` on ``distinct_iid_probability`` ratios.

    For a float probability vector ``ρ̂`` (normalised from positive numbers, so
    ``Σρ̂ <= 1 + γ_{L+1}``) and the float uniform vector ``1/L``, the computed ratio
    ``f_k(ρ̂) / f_k(1/L)`` exceeds its exact value's bound ``1`` by at most this
    amount: ``f_k`` is homogeneous of degree ``k`` (factor ``(1 + γ_{L+1})^k``), the
    recursion adds at most ``3L`` roundings to each, ``1/L`` one per factor, the
    division one.

    Parameters
    ----------
    length : int
        ``L >= 1``.
    k : int
        ``0 <= k <= L``.

    Returns
    -------
    numpy.float64

    Examples
    --------
    >>> bool(distinct_iid_tolerance(12, 12) == rounding_gamma(12 * 14 + 74))
    True
    """
    length = check_int("length", length, minimum=1, maximum=10**6)
    k = check_int("k", k, minimum=0, maximum=length)
    return rounding_gamma(k * (length + 2) + 6 * length + 2)


# ----------------------------------------------------------------------------- encoder
class EncoderPermutationErrors(NamedTuple):
    """How far a transformer encoder is from permutation equivariance."""

    equivariance: np.float64
    """``max |f(ΠT) - Πf(T)|`` without a mask."""
    pooled: np.float64
    """``max |mean f(ΠT) - mean f(T)|`` without a mask."""
    causal: np.float64
    """``max |f(ΠT) - Πf(T)|`` with a causal mask."""
    causal_pooled: np.float64
    """the pooled change with a causal mask."""
    scale: np.float64
    """``max |f(T)|`` without a mask."""


def encoder_permutation_errors(
    length, generator, *, d_model=32, n_heads=4, d_ff=64, num_layers=2, batch=64
) -> EncoderPermutationErrors:
    """Permute the tokens of a random ``torch.nn.TransformerEncoder``'s input.

    The encoder (float64, dropout 0, evaluation mode) has every parameter drawn from
    ``generator``: matrices ``N(0, 1/fan_in)``, layer-norm gains ``1 + 0.1 N(0, 1)``,
    other vectors ``0.1 N(0, 1)``. It reads ``batch`` sequences of ``length`` tokens,
    each a ``N(0, I)`` content vector plus the sinusoidal encoding of its position,
    and the same sequences listed in an independent uniformly random order each.

    Parameters
    ----------
    length : int
        Tokens per sequence, ``>= 2``.
    generator : torch.Generator
        Source of every random number.
    d_model, n_heads, d_ff, num_layers, batch : int
        Width (even, divisible by ``n_heads``), heads, feed-forward width, layers and
        number of sequences.

    Returns
    -------
    EncoderPermutationErrors

    Examples
    --------
    >>> err = encoder_permutation_errors(4, torch.Generator().manual_seed(0), batch=2)
    >>> bool(err.equivariance < 1e-12 < 1e-3 < err.causal)
    True
    """
    length = check_int("length", length, minimum=2)
    d_model = check_int("d_model", d_model, minimum=2)
    n_heads = check_int("n_heads", n_heads, minimum=1)
    if d_model % 2 or d_model % n_heads:
        raise ValueError("d_model must be even and divisible by n_heads")
    d_ff = check_int("d_ff", d_ff, minimum=1)
    num_layers = check_int("num_layers", num_layers, minimum=1)
    batch = check_int("batch", batch, minimum=1)
    if not isinstance(generator, torch.Generator):
        raise InputTypeError(f"generator must be a torch.Generator, got {generator!r}")
    f64 = torch.float64
    layer = torch.nn.TransformerEncoderLayer(
        d_model, n_heads, d_ff, dropout=0.0, batch_first=True, dtype=f64
    )
    encoder = torch.nn.TransformerEncoder(
        layer, num_layers=num_layers, enable_nested_tensor=False
    )
    with torch.no_grad():
        for name, p in encoder.named_parameters():
            z = torch.randn(p.shape, generator=generator, dtype=f64)
            if p.ndim > 1:
                p.copy_(z / math.sqrt(p.shape[-1]))
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * z)
            else:
                p.copy_(0.1 * z)
    encoder.eval()
    shape = (batch, length, d_model)
    tokens = torch.randn(shape, generator=generator, dtype=f64)
    tokens = tokens + sinusoidal_positions(length, d_model, dtype=f64)
    perms = torch.argsort(torch.rand(batch, length, generator=generator), dim=1)

    def permute(y):  # row i of the result is row perms[i] of y
        return torch.gather(y, 1, perms[:, :, None].expand(-1, -1, y.shape[-1]))

    causal = torch.nn.Transformer.generate_square_subsequent_mask(length, dtype=f64)
    with torch.no_grad():
        out, out_p = encoder(tokens), encoder(permute(tokens))
        out_c = encoder(tokens, mask=causal, is_causal=True)
        out_cp = encoder(permute(tokens), mask=causal, is_causal=True)

    def gap(x, y):
        return np.float64((x - y).abs().max().item())

    return EncoderPermutationErrors(
        gap(out_p, permute(out)),
        gap(out_p.mean(1), out.mean(1)),
        gap(out_cp, permute(out_c)),
        gap(out_cp.mean(1), out_c.mean(1)),
        np.float64(out.abs().max().item()),
    )
