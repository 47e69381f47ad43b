"""The posterior over finitely many latent atoms is softmax attention (Chapter 3A).

Model: a latent ``z`` takes one of ``m`` values ``z_1..z_m`` with prior ``π_j`` and,
given ``z``, tokens are i.i.d. from an exponential family
``p(x | z) = h(x) exp(η(z)·T(x) - A(z))``. Then::

    π(z_j | X) ∝ π_j Π_ℓ p(x_ℓ | z_j) ∝ exp(⟨q(X), k_j⟩),
    q(X) = (Σ_ℓ T(x_ℓ), L, 1),     k_j = (η(z_j), -A(z_j), log π_j),

because ``Σ_ℓ log h(x_ℓ)`` does not depend on ``j`` and cancels in the
normalisation. The posterior is the softmax of the scores ``⟨q(X), k_j⟩``
(inverse temperature 1), and the posterior mean of any ``g(z)`` is softmax
attention with values ``g(z_j)``.

Natural parameters of the families used in the book:

- Bernoulli(p): ``T(x) = x``, ``η = log(p/(1-p))``, ``A = -log(1-p)``;
- Normal(μ, σ²), σ known: ``T(x) = x``, ``η = μ/σ²``, ``A = μ²/(2σ²)``;
- Categorical(p_1..p_C): ``T(x) = onehot(x)``, ``η = (log p_1..log p_C)``, ``A = 0``.

A continuous Normal prior is approximated by atoms at the midpoints of ``m`` cells
of ``[-R, R]`` carrying the cells' prior masses (:func:`binned_normal_prior`); the
resulting attention posterior mean has an exact closed form up to an aliasing and
a truncation term (:func:`binned_posterior_mean`, :func:`grid_remainder_bounds`).

Every function returns NumPy arrays (or floats and named tuples of them); the
softmax itself is :func:`lib.attention.softmax_attention`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import log_ndtr, logsumexp, ndtr

from lib.attention import softmax_attention
from lib.exchangeability import UNIT_ROUNDOFF, rounding_gamma
from lib.validation import (
    check_array,
    check_finite_result,
    check_int,
    check_int_array,
    check_positive,
    check_probability,
    check_real,
)

__all__ = [
    "BinnedPrior",
    "GridBounds",
    "atom_posterior",
    "atom_posterior_mean",
    "attention_rounding_bound",
    "bernoulli_natural",
    "binned_normal_prior",
    "binned_posterior_mean",
    "categorical_natural",
    "gaussian_natural",
    "grid_remainder_bounds",
    "posterior_keys",
    "posterior_query",
]

_EPS = float(UNIT_ROUNDOFF)  # unit roundoff of float64
# Range of a prior or noise standard deviation: its square and inverse square, and
# sums of a few of them, stay finite and normal.
_SCALES = (1e-150, 1e150)


def _scale(name: str, value) -> float:
    return check_real(name, value, low=_SCALES[0], high=_SCALES[1])


# ------------------------------------------------------------------------- attention
def posterior_query(suff_stat, L) -> np.ndarray:
    """The query ``q(X) = (Σ_ℓ T(x_ℓ), L, 1)``.

    Parameters
    ----------
    suff_stat : array_like
        ``Σ_ℓ T(x_ℓ)``, shape ``(..., d_T)``, finite.
    L : int or array_like of int
        Number of tokens ``>= 0``, broadcastable to ``(...)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., d_T + 2)``.

    Raises
    ------
    ValueError
        For NaN/inf statistics, a negative ``L``, or shapes that do not broadcast.
    lib.validation.InputTypeError
        For non-numeric input or a non-integer ``L`` (``2.5``).

    Examples
    --------
    >>> posterior_query([3.0], 5)
    array([3., 5., 1.])
    """
    S = check_array("suff_stat", suff_stat, min_ndim=1)
    Larr = check_int_array("L", L, minimum=0).astype(float)
    try:
        Larr = np.broadcast_to(Larr, S.shape[:-1])[..., None]
    except ValueError:
        raise ValueError(
            f"L of shape {Larr.shape} does not broadcast to {S.shape[:-1]}"
        ) from None
    return np.concatenate([S, Larr, np.ones_like(Larr)], axis=-1)


def posterior_keys(eta, log_partition, prior) -> np.ndarray:
    """The keys ``k_j = (η(z_j), -A(z_j), log π_j)``.

    Parameters
    ----------
    eta : array_like
        Natural parameters, shape ``(m, d_T)``.
    log_partition : array_like
        ``A(z_j)``, shape ``(m,)``.
    prior : array_like
        Prior probabilities ``(m,)``, non-negative, summing to one (within 1e-9).
        A zero gives the key a score of ``-1e300`` (weight exactly 0).

    Returns
    -------
    numpy.ndarray
        Shape ``(m, d_T + 2)``.

    Raises
    ------
    ValueError
        For shapes that do not match, NaN/inf, or a prior that is not a
        probability vector.

    Examples
    --------
    >>> posterior_keys([[0.0], [1.0]], [0.0, 0.5], [0.5, 0.5]).round(3)
    array([[ 0.   , -0.   , -0.693],
           [ 1.   , -0.5  , -0.693]])
    """
    eta = check_array("eta", eta, ndim=2)
    A = check_array("log_partition", log_partition, ndim=1)
    prior = check_probability("prior", prior)
    m = eta.shape[0]
    if A.shape != (m,):
        raise ValueError(f"log_partition must have shape ({m},), got {A.shape}")
    if np.shape(prior) != (m,):
        raise ValueError(f"prior must have shape ({m},), got {np.shape(prior)}")
    if not np.isclose(prior.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"prior must sum to one, got {prior.sum()!r}")
    with np.errstate(divide="ignore"):
        log_prior = np.where(prior > 0, np.log(prior), -1e300)
    return np.concatenate([eta, -A[:, None], log_prior[:, None]], axis=-1)


def _attend(suff_stat, L, eta, log_partition, prior, V):
    q = torch.from_numpy(posterior_query(suff_stat, L))[..., None, :]
    K = torch.from_numpy(posterior_keys(eta, log_partition, prior))
    if q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"suff_stat has d_T = {q.shape[-1] - 2} but eta has d_T = {K.shape[-1] - 2}"
        )
    return softmax_attention(q, K, torch.from_numpy(V), beta=1.0)[..., 0, :].numpy()


def atom_posterior(suff_stat, L, eta, log_partition, prior) -> np.ndarray:
    """Posterior probabilities ``π(z_j | X) = softmax_j(⟨q(X), k_j⟩)``.

    Computed by :func:`lib.attention.softmax_attention` with one query per
    sequence, the keys of :func:`posterior_keys` and the identity as values.

    Parameters
    ----------
    suff_stat, L
        As in :func:`posterior_query`.
    eta, log_partition, prior
        As in :func:`posterior_keys`.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., m)``; each row sums to one.

    Raises
    ------
    ValueError
        As :func:`posterior_query` and :func:`posterior_keys`, or if the
        dimensions ``d_T`` of ``suff_stat`` and ``eta`` differ.

    Examples
    --------
    >>> eta, A = bernoulli_natural([0.2, 0.8])
    >>> atom_posterior([3.0], 4, eta, A, [0.5, 0.5]).round(4)
    array([0.0588, 0.9412])
    """
    m = check_array("eta", eta, ndim=2).shape[0]
    return _attend(suff_stat, L, eta, log_partition, prior, np.eye(m))


def atom_posterior_mean(suff_stat, L, eta, log_partition, prior, values) -> np.ndarray:
    """Posterior mean ``E[g(z) | X] = Σ_j softmax_j(⟨q(X), k_j⟩) g(z_j)``.

    This is softmax attention with the query, keys and values ``g(z_j)``.

    Parameters
    ----------
    suff_stat, L, eta, log_partition, prior
        As in :func:`atom_posterior`.
    values : array_like
        ``g(z_j)``, shape ``(m, d_v)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., d_v)``.

    Raises
    ------
    ValueError
        As :func:`atom_posterior`, or for ``values`` of the wrong shape.

    Examples
    --------
    >>> eta, A = gaussian_natural([-1.0, 1.0], 1.0)
    >>> atom_posterior_mean([0.0], 3, eta, A, [0.5, 0.5], [[-1.0], [1.0]])
    array([0.])
    """
    m = check_array("eta", eta, ndim=2).shape[0]
    V = check_array("values", values, ndim=2)
    if V.shape[0] != m:
        raise ValueError(f"values must have shape ({m}, d_v), got {V.shape}")
    return _attend(suff_stat, L, eta, log_partition, prior, V)


def attention_rounding_bound(q, K, values, *, key_error: float = 0.0) -> float:
    """Bound on the float64 rounding error of one softmax-attention output.

    For scores ``s_j = q·k_j`` (a ``d``-term dot product, absolute error at most
    ``γ_d Σ_i |q_i k_ji|`` plus ``key_error`` from computing the keys), weights
    ``exp(s_j - max s)`` (the subtraction adds ``u |s_j - max s|``, the
    exponential two units of roundoff ``u``) and two ``m``-term sums, every weight
    carries a relative error at most ``ρ = exp(2E + u Δ + 2u) - 1``, with ``E`` the
    largest score error and ``Δ`` the score range, and each sum ``γ_m``. The
    weighted mean then moves by at most
    ``(ρ + γ_m)(max|v| + |out|)/(1 - ρ - γ_m) + u |out|``.

    Parameters
    ----------
    q : array_like
        The query, shape ``(d,)``.
    K : array_like
        The keys, shape ``(m, d)``.
    values : array_like
        One value per key, shape ``(m,)``.
    key_error : float, default 0
        Bound on the absolute error of each score caused by rounding in the keys.

    Returns
    -------
    float
        The bound (absolute).

    Raises
    ------
    ValueError
        For shapes that do not match or non-finite input.

    Examples
    --------
    >>> b = attention_rounding_bound([1.0, 2.0], [[0.0, 1.0], [1.0, 0.0]], [0.0, 1.0])
    >>> 0 < b < 1e-14
    True
    """
    q = check_array("q", q, ndim=1)
    K = check_array("K", K, ndim=2, shape=(q.size,))
    v = check_array("values", values, shape=(K.shape[0],), ndim=1)
    key_error = check_positive("key_error", key_error, allow_zero=True)
    m, d = K.shape
    with np.errstate(over="ignore", invalid="ignore"):
        s = K @ q
        E = float(rounding_gamma(d)) * float(np.max(np.abs(K * q).sum(-1))) + key_error
        arg = 2 * E + _EPS * float(s.max() - s.min()) + 2 * _EPS
    if not arg <= 1.0:  # then ρ > 0.5 (or the scores overflow): no useful bound
        raise ValueError(
            "the rounding bound is not small: the scores of q and K (or key_error)"
            " are too large"
        )
    rho = math.expm1(arg)
    w = np.exp(s - s.max())
    out = abs(float(w @ v / w.sum()))
    g = rho + float(rounding_gamma(m))
    if g >= 0.5:
        raise ValueError("the rounding bound is not small: the scores are too large")
    return (g * (float(np.abs(v).max()) + out) / (1 - g)) + _EPS * out


# ----------------------------------------------------------------------------- families
def bernoulli_natural(p) -> tuple[np.ndarray, np.ndarray]:
    """Natural parameters of Bernoulli atoms.

    Parameters
    ----------
    p : float or array_like
        Success probabilities strictly between 0 and 1, one per atom (a number is
        one atom), at most 1-d.

    Returns
    -------
    eta : numpy.ndarray
        ``log(p/(1-p))``, shape ``(m, 1)``.
    log_partition : numpy.ndarray
        ``-log(1-p)``, shape ``(m,)``.

    Raises
    ------
    ValueError
        For a probability outside ``(0, 1)`` or NaN, or a ``p`` of 2 or more
        dimensions.
    lib.validation.InputTypeError
        For a ``p`` that is not real and numeric.

    Examples
    --------
    >>> eta, A = bernoulli_natural([0.5])
    >>> eta, A.round(4)
    (array([[0.]]), array([0.6931]))
    """
    p = np.atleast_1d(check_probability("p", p, open_interval=True))
    if p.ndim != 1:
        raise ValueError(f"p must be a number or 1-d (one per atom), got {p.shape}")
    return np.log(p / (1 - p))[:, None], -np.log1p(-p)


def gaussian_natural(mu, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Natural parameters of Normal(μ_j, σ²) atoms with σ known.

    Parameters
    ----------
    mu : float or array_like
        Means, one per atom (a number is one atom), at most 1-d, finite.
    sigma : float
        Noise standard deviation ``> 0`` (a ``σ`` so large that ``σ²`` overflows
        gives the limit ``η = 0``, ``A = 0``).

    Returns
    -------
    eta : numpy.ndarray
        ``μ/σ²``, shape ``(m, 1)``.
    log_partition : numpy.ndarray
        ``μ²/(2σ²)``, shape ``(m,)``.

    Raises
    ------
    ValueError
        For NaN/inf means, a ``mu`` of 2 or more dimensions or a non-positive
        ``sigma``.
    lib.validation.InputTypeError
        For a ``mu`` or ``sigma`` that is not real and numeric.
    FloatingPointError
        If ``σ`` is so small that ``μ/σ²`` overflows.

    Examples
    --------
    >>> gaussian_natural([2.0], 2.0)
    (array([[0.5]]), array([0.5]))
    """
    s = np.float64(check_positive("sigma", sigma))
    mu = np.atleast_1d(check_array("mu", mu))
    if mu.ndim != 1:
        raise ValueError(f"mu must be a number or 1-d (one per atom), got {mu.shape}")
    with np.errstate(over="ignore"):
        s2 = s**2  # inf for σ > 1.3e154: then η = A = 0, the limit
    return check_finite_result("eta", (mu / s2)[:, None]), check_finite_result(
        "log_partition", mu**2 / (2 * s2)
    )


def categorical_natural(probs) -> tuple[np.ndarray, np.ndarray]:
    """Natural parameters of categorical atoms.

    Parameters
    ----------
    probs : array_like
        Shape ``(m, C)``: each row a probability vector with all entries ``> 0``.

    Returns
    -------
    eta : numpy.ndarray
        ``log p``, shape ``(m, C)``.
    log_partition : numpy.ndarray
        Zeros, shape ``(m,)``.

    Raises
    ------
    ValueError
        For a zero probability, a row not summing to one, or a wrong shape.

    Examples
    --------
    >>> eta, A = categorical_natural([[0.5, 0.5]])
    >>> eta.round(4), A
    (array([[-0.6931, -0.6931]]), array([0.]))
    """
    P = check_probability("probs", probs)
    if np.ndim(P) != 2:
        raise ValueError(f"probs must have shape (m, C), got {np.shape(P)}")
    if np.any(P <= 0):
        raise ValueError("probs must be > 0 (a zero probability has η = -inf)")
    if not np.allclose(P.sum(-1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("each row of probs must sum to one")
    return np.log(P), np.zeros(P.shape[0])


# ----------------------------------------------------------------------------- grid
class BinnedPrior(NamedTuple):
    """Atoms at the midpoints of ``m`` cells of ``[-R, R]`` and the cells' masses.

    ``atoms`` (m,) are ``c_j = -R + h(j + 1/2)``, ``h = 2R/m``; ``prior`` (m,) are the
    cell masses of ``N(0, τ²)`` divided by ``P(|z| <= R)``; ``mass_error`` bounds
    the relative rounding error of each mass.
    """

    atoms: np.ndarray
    prior: np.ndarray
    mass_error: float
    h: float


def binned_normal_prior(m: int, R: float, tau: float) -> BinnedPrior:
    """Bin the prior ``N(0, τ²)`` into ``m`` cells of ``[-R, R]``.

    Parameters
    ----------
    m : int
        Number of cells ``>= 1``.
    R : float
        Half-width ``> 0``.
    tau : float
        Prior standard deviation, in ``[1e-150, 1e150]``.

    Returns
    -------
    BinnedPrior
        Atoms, normalised masses, their rounding bound and the cell width.

    Raises
    ------
    ValueError
        For ``m < 1`` or non-positive ``R``, ``tau``.

    Examples
    --------
    >>> b = binned_normal_prior(4, 2.0, 1.0)
    >>> b.atoms, round(float(b.prior.sum()), 12)
    (array([-1.5, -0.5,  0.5,  1.5]), 1.0)
    """
    m = check_int("m", m, minimum=1)
    R = check_positive("R", R)
    tau = _scale("tau", tau)
    h = 2 * R / m
    atoms = -R + h * (np.arange(m) + 0.5)
    lo, hi = (atoms - h / 2) / tau, (atoms + h / 2) / tau
    # the smaller tail on each side: Φ(b) − Φ(a) = Φ(−a) − Φ(−b) for cells
    # right of 0
    right = atoms > 0
    big = np.where(right, ndtr(-lo), ndtr(hi))
    mass = np.where(right, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))
    if np.any(mass <= 0):
        raise ValueError("R/tau is too large: some cell masses underflow to zero")
    # ndtr to 4u relative, one subtraction, then a normalising m-term sum
    err = float(np.max(9 * _EPS * big / mass)) + float(rounding_gamma(m)) + _EPS
    return BinnedPrior(atoms, mass / mass.sum(), err, h)


class GridBounds(NamedTuple):
    """Bounds on the three terms between the grid posterior mean and its closed form.

    ``aliasing`` (midpoint rule on the whole line), ``truncation`` (cells outside
    ``[-R, R]``), ``rounding`` (float64 evaluation of the attention); all absolute.
    """

    aliasing: float
    truncation: float
    rounding: float


def _normal_posterior(x_sum: float, L: int, tau: float, sigma: float):
    s2 = 1.0 / (1.0 / tau**2 + L / sigma**2)
    return s2 * x_sum / sigma**2, s2


def binned_posterior_mean(x_sum, L: int, h, *, tau: float, sigma: float) -> np.ndarray:
    """Closed form of the binned-prior posterior mean on the whole line.

    Binning ``N(0, τ²)`` into cells of width ``h`` gives atom ``c`` the mass
    ``h p̄(c)`` with ``p̄ = p * Uniform[-h/2, h/2]``. On the whole line the
    posterior mean under ``p̄`` is ``μ + (s²/τ²) E[U | |U| <= h/2]`` with
    ``U ~ N(x̄, τ² + σ²/L)``, ``μ`` and ``s²`` the exact posterior mean and
    variance (Chapter 3). The truncated-normal mean is computed by 64-node
    Gauss–Legendre quadrature of ``u sinh(κu) e^{-u²/2v}`` and
    ``cosh(κu) e^{-u²/2v}`` on ``[0, h/2]`` (no cancellation, ``κ = x̄/v``).

    Parameters
    ----------
    x_sum : float
        ``Σ_ℓ x_ℓ``.
    L : int
        Number of tokens ``>= 1``.
    h : array_like
        Cell widths ``> 0``.
    tau, sigma : float
        Prior and noise standard deviations, in ``[1e-150, 1e150]``.

    Returns
    -------
    numpy.ndarray
        The posterior means, shape of ``h``.

    Raises
    ------
    ValueError
        For invalid arguments, or a cell so wide that the quadrature would lose
        accuracy (``|κ| h/2 > 30`` or ``h²/(8v) > 30``).

    Examples
    --------
    >>> mu_h = binned_posterior_mean(5.0, 10, [1e-6, 0.5], tau=1.0, sigma=1.0)
    >>> mu_h.round(6)
    array([0.454545, 0.455399])
    """
    x_sum = check_real("x_sum", x_sum)
    L = check_int("L", L, minimum=1)
    h = check_array("h", h, low=0.0, low_open=True, nonempty=False)
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma)
    mu, s2 = _normal_posterior(x_sum, L, tau, sigma)
    v = tau**2 + sigma**2 / L
    kappa = x_sum / L / v
    half = h / 2
    if np.any(np.abs(kappa) * half > 30) or np.any(half**2 / (2 * v) > 30):
        raise ValueError("h is too wide for the quadrature of the cell average")
    nodes, weights = np.polynomial.legendre.leggauss(64)
    u = half[..., None] * (nodes + 1) / 2  # (…, 64) on [0, h/2]
    g = np.exp(-(u**2) / (2 * v))
    num = (weights * u * np.sinh(kappa * u) * g).sum(-1)
    den = (weights * np.cosh(kappa * u) * g).sum(-1)
    return mu + s2 / tau**2 * num / den


def grid_remainder_bounds(
    x_sum, L: int, m: int, R: float, *, tau: float, sigma: float
) -> GridBounds:
    """Bounds on ``|μ̂_m - binned_posterior_mean(h)|`` for the grid of ``m`` atoms.

    - Aliasing: by Poisson summation the midpoint sums of ``g₀ = Λ p̄`` and
      ``g₁ = z g₀`` on the infinite grid differ from their integrals by
      ``Σ_{k≠0} ĝ(2πk/h)``. Since ``Λ(z) p(z - u)`` is a Gaussian in ``z`` of
      variance ``s²`` and mean ``μ_u = μ + s² u/τ²``,
      ``|ĝ₀(ω)| <= e^{-s²ω²/2}∫g₀`` and
      ``|ĝ₁(ω)| <= (M₁ + s²|ω|) e^{-s²ω²/2} ∫g₀`` with
      ``M₁ = |μ| + s² h/(2τ²)``; so with
      ``ε₀ = 2Σ_{k>=1} e^{-2π²s²k²/h²}`` and
      ``ε₁ = 2Σ_{k>=1}(M₁ + 2πk s²/h) e^{-2π²s²k²/h²}`` the ratio moves by
      at most ``(ε₁ + |μ̃| ε₀)/(1 - ε₀)``.
    - Truncation: cells beyond ``R`` carry prior mass ``P(|z| > R)`` and likelihood
      at most ``Λ_out = exp(-L(R - |x̄|)²/(2σ²))`` (``Λ`` scaled to maximum 1),
      and ``|z|Λ(z)`` decreases beyond ``R`` when ``R(R - |x̄|) >= σ²/L``; so the
      ratio moves by at most ``(R + |μ̂|) Λ_out P(|z| > R) / F₀`` with ``F₀`` the
      grid's own normaliser (computed in log space).
    - Rounding: :func:`attention_rounding_bound` with the keys' own rounding.

    Parameters
    ----------
    x_sum : float
        ``Σ_ℓ x_ℓ``.
    L : int
        Number of tokens ``>= 1``.
    m : int
        Number of atoms.
    R : float
        Half-width of the grid; must satisfy ``R > |x̄|`` and
        ``R(R - |x̄|) >= σ²/L``.
    tau, sigma : float
        Prior and noise standard deviations, in ``[1e-150, 1e150]``.

    Returns
    -------
    GridBounds
        Three floats.

    Raises
    ------
    ValueError
        For invalid arguments, an ``R`` that violates the conditions, or a grid so
        coarse that ``ε₀ >= 1/2`` (``h`` above about ``3.7 s``).

    Examples
    --------
    >>> b = grid_remainder_bounds(5.0, 10, 200, 8.0, tau=1.0, sigma=1.0)
    >>> b.aliasing < 1e-100, b.truncation < 1e-100, b.rounding < 1e-10
    (True, True, True)
    """
    x_sum = check_real("x_sum", x_sum)
    L = check_int("L", L, minimum=1)
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma)
    grid = binned_normal_prior(m, R, tau)
    R, h = float(R), grid.h
    xbar = x_sum / L
    if R <= abs(xbar) or R * (R - abs(xbar)) < sigma**2 / L:
        raise ValueError("R must exceed |x̄| with R(R - |x̄|) >= σ²/L")
    mu, s2 = _normal_posterior(x_sum, L, tau, sigma)
    mu_t = float(binned_posterior_mean(x_sum, L, h, tau=tau, sigma=sigma))
    k = np.arange(1, 200)
    decay = np.exp(-2 * np.pi**2 * s2 * k**2 / h**2)
    eps0 = 2 * decay.sum()
    m1 = abs(mu) + s2 * h / (2 * tau**2)
    eps1 = 2 * ((m1 + 2 * np.pi * k * s2 / h) * decay).sum()
    if eps0 >= 0.5:
        raise ValueError(
            "m is too small for the aliasing bound: the cell width h = 2R/m must be"
            f" below about 3.7 posterior standard deviations (h = {h:.3g},"
            f" s = {np.sqrt(s2):.3g})"
        )
    aliasing = (eps1 + abs(mu_t) * eps0) / (1 - eps0)
    eta, A = gaussian_natural(grid.atoms, sigma)
    q = posterior_query([x_sum], L)
    K = posterior_keys(eta, A, grid.prior)
    mu_hat = abs(
        float(
            atom_posterior_mean([x_sum], L, eta, A, grid.prior, grid.atoms[:, None])[0]
        )
    )
    log_lik = -L * (grid.atoms - xbar) ** 2 / (2 * sigma**2)
    log_f0 = float(logsumexp(log_lik + np.log(grid.prior))) + math.log(
        1 - 2 * ndtr(-R / tau)
    )
    log_out = -L * (R - abs(xbar)) ** 2 / (2 * sigma**2)
    log_trunc = math.log(R + mu_hat) + log_out + math.log(2) + float(log_ndtr(-R / tau))
    truncation = math.exp(log_trunc - log_f0)
    # keys: η = c/σ² and A = c²/(2σ²) to 2u and 3u relative, log π to mass_error
    key_err = (
        float(np.max(2 * _EPS * np.abs(x_sum * eta[:, 0]) + 3 * _EPS * L * A))
        + grid.mass_error
        + _EPS * float(np.max(np.abs(np.log(grid.prior))))
    )
    rounding = attention_rounding_bound(q, K, grid.atoms, key_error=key_err)
    return GridBounds(float(aliasing), float(truncation), rounding)
