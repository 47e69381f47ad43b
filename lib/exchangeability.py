"""Exchangeability (Chapter 1): the Pólya urn, de Finetti's theorem, Diaconis–Freedman.

Conventions
-----------
- A binary sequence ``x`` has its positions on the last axis; ``1`` is a ball of the colour the
  urn starts with ``a`` of ("red"), ``0`` a ball of the colour it starts with ``b`` of.
- Every distance returned here is the *sup-distance* (total variation)
  ``d(P, Q) = sup_A |P(A) - Q(A)| = (1/2) Σ_x |P(x) - Q(x)|``, which lies in [0, 1].
  Diaconis and Freedman (1980) write their bounds for ``‖P - Q‖ = 2 sup_A |P(A) - Q(A)|``;
  :func:`diaconis_freedman_bound` converts (divides their numbers by 2).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import betainc, betaln, gammaln, xlogy

from lib.validation import (
    check_binary,
    check_int,
    check_positive,
    check_probability,
    check_rng,
)

__all__ = [
    "polya_sequence_probability",
    "beta_mixture_probability",
    "polya_count_pmf",
    "sample_polya_urn",
    "kolmogorov_distance_frequency_to_beta",
    "dkw_epsilon",
    "tv_urn_without_vs_with_replacement",
    "tv_sampling_without_vs_with_replacement",
    "tv_distinct_balls",
    "diaconis_freedman_bound",
]


# ----------------------------------------------------------------------------- helpers
def _int_array(
    name: str, value, *, minimum: int | None = None, maximum: int | None = None
) -> np.ndarray:
    """Integer-valued array (ints, or floats with integer values) within [minimum, maximum]."""
    arr = np.asarray(value)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{name} must contain integers, got {value!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must contain integers, got {value!r}")
    arr = arr.astype(np.int64)
    if minimum is not None and np.any(arr < minimum):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and np.any(arr > maximum):
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return arr


def _scalar_or_array(result: np.ndarray):
    return float(result) if result.ndim == 0 else result


# ----------------------------------------------------------------------------- Pólya urn
def polya_sequence_probability(x, a: float, b: float):
    """Probability of the binary sequence(s) ``x`` under the Pólya urn started with ``a`` red, ``b`` black.

    The urn draws a ball, returns it with one more of the drawn colour, and repeats. The
    probability is computed from the definition, as the product of the sequential conditional
    probabilities: with ``r_t`` the number of ones among ``x_1..x_{t-1}`` (``t = 0, 1, ...``),

        P(x) = Π_t [(a + r_t) / (a + b + t)]^{x_t} [(b + t - r_t) / (a + b + t)]^{1 - x_t}.

    Parameters
    ----------
    x : array of 0/1, shape ``(..., n)``; the sequence is the last axis (``n = 0`` gives 1).
    a, b : initial numbers of balls (real, > 0).

    Returns
    -------
    float or array of shape ``x.shape[:-1]``.
    """
    a = check_positive("a", a)
    b = check_positive("b", b)
    xa = np.asarray(x)
    if xa.ndim < 1:
        raise ValueError(
            f"x must have at least one dimension (the sequence axis), got shape {xa.shape}"
        )
    x = check_binary("x", xa)
    n = x.shape[-1]
    t = np.arange(n)
    reds_before = np.cumsum(x, axis=-1) - x
    total = a + b + t
    numer = np.where(x == 1, a + reds_before, b + (t - reds_before))
    # A plain product of the n quotients (not exp of a sum of logs): each quotient carries at
    # most four roundings (numerator, the two additions of a + b + t, the division) and each of
    # the n - 1 products one, so the relative error is at most gamma_{5n-1}, gamma_m = mu/(1 - mu);
    # the partial products only decrease, so nothing underflows before the result itself would.
    return _scalar_or_array(np.prod(numer / total, axis=-1))


def beta_mixture_probability(k, n, a: float, b: float):
    """``∫ θ^k (1-θ)^(n-k) Beta(θ; a, b) dθ = B(a + k, b + n - k) / B(a, b)``.

    The probability that ``n`` i.i.d. Bernoulli(θ) draws, with θ ~ Beta(a, b), equal one given
    sequence with ``k`` ones. ``k`` and ``n`` are integers (or integer arrays, broadcast
    together) with ``0 <= k <= n``; computed as ``exp(betaln(a+k, b+n-k) - betaln(a, b))``.
    """
    a = check_positive("a", a)
    b = check_positive("b", b)
    n = _int_array("n", n, minimum=0)
    k = _int_array("k", k, minimum=0)
    try:
        k, n = np.broadcast_arrays(k, n)
    except ValueError:
        raise ValueError(
            f"k and n must broadcast together, got shapes {np.shape(k)} and {np.shape(n)}"
        ) from None
    if np.any(k > n):
        raise ValueError("k must satisfy k <= n")
    return _scalar_or_array(np.exp(betaln(a + k, b + n - k) - betaln(a, b)))


def polya_count_pmf(n: int, a: float, b: float) -> np.ndarray:
    """Law of the number ``K`` of red draws among the first ``n``: the beta-binomial pmf, shape ``(n + 1,)``.

    ``P(K = k) = C(n, k) B(a + k, b + n - k) / B(a, b)`` (every sequence with ``k`` ones has the
    same probability, so the count law is the sequence probability times ``C(n, k)``).
    """
    n = check_int("n", n, minimum=0)
    k = np.arange(n + 1)
    a = check_positive("a", a)
    b = check_positive("b", b)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.exp(log_choose + betaln(a + k, b + n - k) - betaln(a, b))


def sample_polya_urn(
    n: int, a: float, b: float, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` independent Pólya-urn sequences of length ``n``, shape ``(size, n)``, entries 0/1.

    Vectorised over the ``size`` urns (the loop runs over the ``n`` draws): at draw ``t`` an
    urn with ``r`` red among ``a + b + t`` balls yields a 1 with probability ``(a + r)/(a + b + t)``.
    """
    n = check_int("n", n, minimum=0)
    a = check_positive("a", a)
    b = check_positive("b", b)
    size = check_int("size", size, minimum=0)
    rng = check_rng("rng", rng)
    out = np.empty((size, n), dtype=np.int64)
    reds = np.zeros(size)
    for t in range(n):
        draw = rng.random(size) < (a + reds) / (a + b + t)
        out[:, t] = draw
        reds += draw
    return out


def kolmogorov_distance_frequency_to_beta(n: int, a: float, b: float) -> float:
    """Exact ``sup_t |P(K_n / n <= t) - F_Beta(a,b)(t)|`` for the Pólya-urn frequency after ``n`` draws.

    The step function jumps only at ``j / n`` and the Beta cdf is continuous and increasing, so
    the supremum is attained at a jump, from the left or the right:
    ``max_j max(|P(K <= j) - F(j/n)|, |P(K <= j - 1) - F(j/n)|)``.
    """
    n = check_int("n", n, minimum=1)
    pmf = polya_count_pmf(n, a, b)
    cdf_right = np.cumsum(pmf)
    cdf_left = cdf_right - pmf
    beta_cdf = betainc(a, b, np.arange(n + 1) / n)
    return float(
        max(np.max(np.abs(cdf_right - beta_cdf)), np.max(np.abs(cdf_left - beta_cdf)))
    )


def dkw_epsilon(num_samples: int, delta: float) -> float:
    """Dvoretzky–Kiefer–Wolfowitz (Massart) radius ``sqrt(log(2/δ) / (2N))``.

    For ``N`` i.i.d. draws from *any* distribution on the line,
    ``P(sup_t |F_N(t) - F(t)| > ε) <= 2 exp(-2 N ε²) = δ``.
    """
    num_samples = check_int("num_samples", num_samples, minimum=1)
    delta = float(check_probability("delta", delta))
    if delta == 0.0:
        raise ValueError("delta must be > 0")
    return float(np.sqrt(np.log(2.0 / delta) / (2.0 * num_samples)))


# ----------------------------------------------------------------------------- sampling with/without replacement
_MAX_GRID = 20_000_000


def tv_urn_without_vs_with_replacement(composition, k):
    """Exact sup-distance between ``k`` ordered draws from an urn without and with replacement.

    ``composition`` (shape ``(c,)``, non-negative integers summing to ``n >= 1``) gives the number
    of balls of each of ``c`` colours. Without replacement the colour counts ``s`` of ``k`` draws
    are multivariate hypergeometric, ``Π_i C(ℓ_i, s_i) / C(n, k)``; with replacement they are
    multinomial, ``k!/Π s_i! Π (ℓ_i/n)^{s_i}``. Both ordered laws are exchangeable, so given the
    counts every arrangement is equally likely under each and the ordered-sequence distance
    equals the count distance ``(1/2) Σ_s |hyp(s) - mult(s)|``.

    ``k`` is an integer or integer array with ``0 <= k <= n``; returns a float or an array of
    ``k``'s shape. Exact enumeration of the ``(max k + 1)^c`` count vectors.
    """
    comp = _int_array("composition", composition, minimum=0)
    if comp.ndim != 1 or comp.size < 1:
        raise ValueError(
            f"composition must be a 1-D array of colour counts, got shape {comp.shape}"
        )
    n = int(comp.sum())
    if n < 1:
        raise ValueError("composition must contain at least one ball")
    k = _int_array("k", k, minimum=0, maximum=n)
    kmax = int(k.max()) if k.size else 0
    c = comp.size
    if float(kmax + 1) ** c > _MAX_GRID:
        raise ValueError(
            f"composition has too many colours ({c}) for exact enumeration with k up to {kmax}"
        )
    logfact = gammaln(np.arange(n + 1) + 1.0)
    grids = np.meshgrid(*([np.arange(kmax + 1)] * c), indexing="ij")
    s = np.stack([g.ravel() for g in grids], axis=1)  # (G, c)
    total = s.sum(axis=1)
    keep = total <= kmax
    s, total = s[keep], total[keep]
    # multinomial (with replacement)
    p = comp / n
    log_mult = logfact[total] - logfact[s].sum(axis=1) + xlogy(s, p).sum(axis=1)
    mult = np.exp(log_mult)
    # multivariate hypergeometric (without replacement)
    feasible = np.all(s <= comp, axis=1)
    s_f = np.where(s <= comp, s, 0)
    log_choose_parts = (
        logfact[comp] - logfact[s_f] - logfact[np.where(s <= comp, comp - s, 0)]
    )
    log_hyp = log_choose_parts.sum(axis=1) - (
        logfact[n] - logfact[total] - logfact[n - total]
    )
    hyp = np.where(feasible, np.exp(np.where(feasible, log_hyp, 0.0)), 0.0)
    tv_by_k = 0.5 * np.bincount(total, weights=np.abs(hyp - mult), minlength=kmax + 1)
    return _scalar_or_array(tv_by_k[k])


def tv_sampling_without_vs_with_replacement(n: int, m, k):
    """Sup-distance between ``k`` ordered draws without and with replacement, two colours.

    The urn has ``n`` balls of which ``m`` are of colour 1. Because both ordered laws are
    exchangeable (see :func:`tv_urn_without_vs_with_replacement`), this equals the distance
    between the counts of colour 1, Hypergeometric(n, m, k) and Binomial(k, m/n):

        (1/2) Σ_s |C(m, s) C(n-m, k-s) / C(n, k) - C(k, s) (m/n)^s (1-m/n)^(k-s)|.

    ``m``: integer or integer array in ``[0, n]``; ``k``: integer or integer array in ``[0, n]``.
    Returns an array of shape ``m.shape + k.shape`` (a float if both are scalars).
    """
    n = check_int("n", n, minimum=1)
    m = _int_array("m", m, minimum=0, maximum=n)
    k = _int_array("k", k, minimum=0, maximum=n)
    kmax = int(k.max()) if k.size else 0
    logfact = gammaln(np.arange(n + 1) + 1.0)
    kk, ss = np.tril_indices(kmax + 1)  # all pairs 0 <= s <= k <= kmax
    log_choose_ks = logfact[kk] - logfact[ss] - logfact[kk - ss]
    log_choose_nk = logfact[n] - logfact[kk] - logfact[n - kk]
    out = np.empty((m.size, kmax + 1))
    for i, mi in enumerate(m.ravel()):
        p = mi / n
        binom = np.exp(log_choose_ks + xlogy(ss, p) + xlogy(kk - ss, 1.0 - p))
        feasible = (ss <= mi) & (kk - ss <= n - mi)
        s_f = np.where(feasible, ss, 0)
        r_f = np.where(feasible, kk - ss, 0)
        log_hyp = (
            logfact[mi]
            - logfact[s_f]
            - logfact[mi - s_f]
            + logfact[n - mi]
            - logfact[r_f]
            - logfact[n - mi - r_f]
            - log_choose_nk
        )
        hyp = np.where(feasible, np.exp(np.where(feasible, log_hyp, 0.0)), 0.0)
        out[i] = 0.5 * np.bincount(kk, weights=np.abs(hyp - binom), minlength=kmax + 1)
    result = out.reshape(m.shape + (kmax + 1,))[..., k]
    return _scalar_or_array(result)


def tv_distinct_balls(n: int, k):
    """Sup-distance for an urn of ``n`` distinct balls: ``1 - n! / ((n - k)! n^k)``.

    Without replacement the ordered draws are uniform on the ``n!/(n-k)!`` injective sequences,
    with replacement uniform on all ``n^k``; the event "no ball repeats" attains the supremum.
    Computed as ``-expm1(Σ_{i<k} log1p(-i/n))``. ``k``: integer or integer array in ``[0, n]``.
    """
    n = check_int("n", n, minimum=1)
    k = _int_array("k", k, minimum=0, maximum=n)
    log_terms = np.concatenate(
        [[0.0], np.cumsum(np.log1p(-np.arange(n) / n))]
    )  # index k -> Σ_{i<k}
    return _scalar_or_array(-np.expm1(log_terms[k]))


def diaconis_freedman_bound(k, n: int, c: int | None = None):
    """Diaconis–Freedman bound on the *sup-distance* from the first ``k`` of ``n`` exchangeable values to a mixture of i.i.d. laws.

    Diaconis & Freedman (1980) state ``‖P_k - Q_k‖ <= 2 c k / n`` (``c`` possible values) and
    ``<= k (k - 1) / n`` (any number of values) for ``‖P - Q‖ = 2 sup_A |P(A) - Q(A)|``; on the
    sup-distance used throughout this module the bounds are therefore

        c k / n              (``c`` a positive integer),
        k (k - 1) / (2 n)    (``c=None``: infinitely many values).

    ``k``: integer or integer array in ``[0, n]``. Returns the raw formula (it may exceed 1).
    """
    n = check_int("n", n, minimum=1)
    k = _int_array("k", k, minimum=0, maximum=n)
    if c is None:
        return _scalar_or_array(k * (k - 1) / (2.0 * n))
    if not isinstance(c, numbers.Integral) or isinstance(c, bool):
        raise ValueError(f"c must be a positive integer or None, got {c!r}")
    c = check_int("c", c, minimum=1)
    return _scalar_or_array(c * k / float(n))
