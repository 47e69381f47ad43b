"""The token model on the unit circle (Chapters 3–5).

A sequence ``X = (x_1, …, x_L)`` has tokens ``x_ℓ = (k_ℓ, v_ℓ)``: keys on the
unit circle ``k = (cos t, sin t)`` with angle ``t ~ Uniform[0, 2π)`` and values
``v = f_z(t) + ε`` where ``f_z(t) = z · φ(t)`` and
``φ(t) = (1, cos t, sin t, …, cos Dt, sin Dt)`` are Fourier features. In the
linear-Gaussian case (``z ~ N(0, τ² I)``, ``ε ~ N(0, σ²)``) the posterior of ``z``
is exact: ``Σ_X = (ΦᵀΦ/σ² + I/τ²)⁻¹``, ``μ_X = Σ_X Φᵀ v / σ²``.

The module has four parts:

- the model: :func:`fourier_features`, :func:`unit_circle`,
  :func:`feature_moment_inverse`, :func:`sample_circle_model`,
  :func:`linear_gaussian_posterior`;
- softmax attention on the circle (Chapter 3, Part B): :func:`bessel_ratio`,
  :func:`smoothing_factors`, :func:`attention_error_terms`,
  :func:`predicted_attention_mse`, :func:`temperature_schedule`;
- multi-head read-out (Part C): :func:`readout_matrix`,
  :func:`multihead_error_covariance`, :func:`multihead_error_terms`,
  :func:`gaussian_tv`;
- the Monte Carlo experiment: :func:`attention_errors`, :func:`multihead_errors`
  (its bands are those of :mod:`lib.montecarlo`).

Every function returns NumPy arrays, Python floats, or named tuples of them (never
torch tensors), and validates its inputs with :mod:`lib.validation`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import erf, ive

from lib.attention import softmax_attention
from lib.validation import (
    InputTypeError,
    check_array,
    check_broadcast,
    check_choice,
    check_finite_result,
    check_int,
    check_int_array,
    check_positive,
    check_real,
    check_rng,
)

__all__ = [
    "AttentionErrorTerms",
    "AttentionErrors",
    "CircleSample",
    "MultiheadErrors",
    "attention_error_terms",
    "attention_errors",
    "bessel_ratio",
    "feature_moment_inverse",
    "fourier_features",
    "gaussian_tv",
    "linear_gaussian_posterior",
    "multihead_error_covariance",
    "multihead_error_terms",
    "multihead_errors",
    "multihead_tv_limit",
    "predicted_attention_mse",
    "readout_matrix",
    "sample_circle_model",
    "smoothing_factors",
    "temperature_schedule",
    "unit_circle",
]

# Above this β / max(1, n²) the ratio I_n/I_0 comes from Hankel's series (8 terms,
# relative error below 1e-30) instead of scipy's scaled Bessel functions.
_HANKEL_FROM = 1e4
_HANKEL_TERMS = 8
# Largest number of quadrature nodes the multi-head integrals may use.
_MAX_NODES = 2**20
# Largest prior or noise scale: τ² and σ² (and sums of a few of them) stay finite.
_MAX_SCALE = 1e150


def _scale(name: str, value, *, allow_zero: bool = False) -> float:
    """A prior or noise scale: a float in ``(0, 1e150]`` (its square stays finite)."""
    return check_real(name, value, low=0.0, low_open=not allow_zero, high=_MAX_SCALE)


# ----------------------------------------------------------------------------- model
def fourier_features(t, degree: int = 2) -> np.ndarray:
    """Fourier features ``φ(t) = (1, cos t, sin t, …, cos Dt, sin Dt)``.

    Parameters
    ----------
    t : array_like
        Angles (radians), any shape; finite reals.
    degree : int, default 2
        The highest harmonic ``D >= 0``.

    Returns
    -------
    numpy.ndarray
        Shape ``t.shape + (2D + 1,)``. Only ``cos t`` and ``sin t`` are evaluated;
        the higher harmonics follow from ``e^{i(n+1)t} = e^{int} e^{it}`` (error at
        most a few ``n`` units in the last place).

    Raises
    ------
    ValueError
        If ``t`` holds NaN or ±inf, or ``degree < 0``.
    lib.validation.InputTypeError
        If ``t`` is not real and numeric, or ``degree`` is not an integer.

    Examples
    --------
    >>> fourier_features(0.0)
    array([1., 1., 0., 1., 0.])
    >>> fourier_features([0.1, 0.2], degree=1).shape
    (2, 3)
    """
    D = check_int("degree", degree, minimum=0)
    t = check_array("t", t, nonempty=False)
    out = np.empty(t.shape + (2 * D + 1,))
    out[..., 0] = 1.0
    if D >= 1:
        c1, s1 = np.cos(t), np.sin(t)
        out[..., 1], out[..., 2] = c1, s1
        for n in range(2, D + 1):
            c, s = out[..., 2 * n - 3], out[..., 2 * n - 2]
            out[..., 2 * n - 1] = c * c1 - s * s1
            out[..., 2 * n] = s * c1 + c * s1
    return out


def unit_circle(t) -> np.ndarray:
    """Keys ``(cos t, sin t)`` on the unit circle.

    Parameters
    ----------
    t : array_like
        Angles (radians), any shape; finite reals.

    Returns
    -------
    numpy.ndarray
        Shape ``t.shape + (2,)``.

    Raises
    ------
    ValueError
        If ``t`` holds NaN or ±inf.
    lib.validation.InputTypeError
        If ``t`` is not real and numeric.

    Examples
    --------
    >>> unit_circle([0.0, np.pi / 2]).round(12)
    array([[1., 0.],
           [0., 1.]])
    """
    t = check_array("t", t, nonempty=False)
    return np.stack([np.cos(t), np.sin(t)], axis=-1)


def feature_moment_inverse(degree: int = 2) -> np.ndarray:
    """Diagonal of ``M⁻¹``, ``M = E φ(t) φ(t)ᵀ`` for a uniform angle ``t``.

    The Fourier features are orthogonal under the uniform law, with
    ``E 1 = 1`` and ``E cos² nt = E sin² nt = 1/2``, so ``M = diag(1, 1/2, …, 1/2)``
    and ``M⁻¹ = diag(1, 2, …, 2)``.

    Parameters
    ----------
    degree : int, default 2
        The highest harmonic ``D >= 0``.

    Returns
    -------
    numpy.ndarray
        Shape ``(2D + 1,)``: the diagonal ``(1, 2, …, 2)``.

    Raises
    ------
    ValueError
        If ``degree < 0``.
    lib.validation.InputTypeError
        If ``degree`` is not an integer.

    Examples
    --------
    >>> feature_moment_inverse()
    array([1., 2., 2., 2., 2.])
    """
    D = check_int("degree", degree, minimum=0)
    return np.concatenate([[1.0], np.full(2 * D, 2.0)])


class CircleSample(NamedTuple):
    """A batch of sequences of the circle model.

    ``z`` (..., p) latents, ``t`` (..., L) key angles, ``K`` (..., L, 2) keys and
    ``v`` (..., L) values; the noise is ``v - fourier_features(t) @ z``.
    """

    z: np.ndarray
    t: np.ndarray
    K: np.ndarray
    v: np.ndarray


def _size(size) -> tuple[int, ...]:
    if isinstance(size, (tuple, list)):
        return tuple(check_int("size", s, minimum=1) for s in size)
    return (check_int("size", size, minimum=1),)


def sample_circle_model(
    size: int | tuple[int, ...],
    L: int,
    rng: np.random.Generator,
    *,
    tau: float = 1.0,
    sigma: float = 0.5,
    degree: int = 2,
    latent: str = "gaussian",
    noise: str = "gaussian",
) -> CircleSample:
    """Draw ``size`` independent sequences of length ``L`` from the circle model.

    Parameters
    ----------
    size : int or tuple of int
        Batch shape (each entry ``>= 1``).
    L : int
        Sequence length ``>= 1``.
    rng : numpy.random.Generator
        The source of randomness (from :func:`lib.seeding.rng`).
    tau, sigma : float
        Prior scale ``τ > 0`` of ``z`` and noise scale ``σ >= 0``, at most ``1e150``.
    degree : int, default 2
        Highest harmonic ``D``; ``z`` has ``p = 2D + 1`` entries.
    latent : {"gaussian", "uniform"}
        ``z ~ N(0, τ² I)`` or ``z ~ Uniform[-τ, τ]^p`` (bounded).
    noise : {"gaussian", "uniform"}
        ``ε ~ N(0, σ²)`` or ``ε ~ Uniform[-σ, σ]`` (bounded).

    Returns
    -------
    CircleSample
        NumPy arrays ``z (*size, p)``, ``t (*size, L)``, ``K (*size, L, 2)``,
        ``v (*size, L)``. The draws are made in the order z, t, ε.

    Raises
    ------
    ValueError
        For a size or length below 1, a non-positive ``tau``, a negative ``sigma``,
        or an unknown ``latent``/``noise``.
    lib.validation.InputTypeError
        For a non-integer size, length or degree, or ``rng`` not a Generator.

    Examples
    --------
    >>> s = sample_circle_model(3, 10, np.random.default_rng(0))
    >>> s.z.shape, s.t.shape, s.K.shape, s.v.shape
    ((3, 5), (3, 10), (3, 10, 2), (3, 10))
    """
    rng = check_rng("rng", rng)
    L = check_int("L", L, minimum=1)
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma, allow_zero=True)
    shape = _size(size)
    p = 2 * check_int("degree", degree, minimum=0) + 1
    latent = check_choice("latent", latent, ("gaussian", "uniform"))
    noise = check_choice("noise", noise, ("gaussian", "uniform"))
    if latent == "gaussian":
        z = tau * rng.standard_normal((*shape, p))
    else:
        z = rng.uniform(-tau, tau, (*shape, p))
    t = rng.uniform(0.0, 2 * np.pi, (*shape, L))
    if noise == "gaussian":
        eps = sigma * rng.standard_normal((*shape, L))
    else:
        eps = rng.uniform(-sigma, sigma, (*shape, L))
    v = np.einsum("...lp,...p->...l", fourier_features(t, degree), z) + eps
    return CircleSample(z=z, t=t, K=unit_circle(t), v=v)


def _posterior_from_moments(gram, phi_v, tau, sigma):
    """``(μ, Σ)`` from ``ΦᵀΦ`` (..., p, p) and ``Φᵀv`` (..., p), in scaled
    form."""
    p = gram.shape[-1]
    with np.errstate(over="ignore"):
        ratio2, sigma2 = np.float64(sigma / tau) ** 2, np.float64(sigma) ** 2
    if not (np.isfinite(ratio2) and np.isfinite(sigma2)):
        raise FloatingPointError(
            f"(sigma/tau)² or sigma² overflows (sigma = {sigma}, tau = {tau}):"
            " the posterior cannot be computed in floating point"
        )
    scaled = gram + ratio2 * np.eye(p)  # σ² Σ_X⁻¹
    try:
        inv = np.linalg.inv(scaled)
    except np.linalg.LinAlgError:
        raise FloatingPointError(
            "the posterior precision is singular in floating point"
            " (sigma/tau too small for this design)"
        ) from None
    Sigma = check_finite_result("Sigma", sigma2 * inv)
    mu = check_finite_result("mu", np.einsum("...ij,...j->...i", inv, phi_v))
    return mu, Sigma


def linear_gaussian_posterior(t, v, *, tau: float, sigma: float, degree: int = 2):
    """Exact posterior ``N(μ_X, Σ_X)`` of ``z`` given angles and values.

    ``Σ_X = (ΦᵀΦ/σ² + I/τ²)⁻¹`` and ``μ_X = Σ_X Φᵀ v / σ²``, computed
    in the scaled form ``Σ_X = σ² (ΦᵀΦ + (σ/τ)² I)⁻¹``,
    ``μ_X = (ΦᵀΦ + (σ/τ)² I)⁻¹ Φᵀ v``.

    Parameters
    ----------
    t, v : array_like
        Angles and values of the same shape ``(..., L)`` (``L = 0`` gives the prior).
    tau, sigma : float
        Prior and noise scales, both in ``(0, 1e150]``.
    degree : int, default 2
        Highest harmonic ``D``; ``p = 2D + 1``.

    Returns
    -------
    mu : numpy.ndarray
        Shape ``(..., p)``.
    Sigma : numpy.ndarray
        Shape ``(..., p, p)``.

    Raises
    ------
    ValueError
        For NaN/inf data, mismatched shapes, or non-positive scales.
    lib.validation.InputTypeError
        For non-numeric, boolean or complex data.
    FloatingPointError
        If the posterior cannot be represented in floating point (e.g. ``σ/τ``
        below ``1e-154`` with fewer than ``p`` tokens).

    Examples
    --------
    >>> mu, Sigma = linear_gaussian_posterior([0.0], [1.0], tau=1.0, sigma=1.0)
    >>> mu
    array([0.25, 0.25, 0.  , 0.25, 0.  ])
    """
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma)
    t = check_array("t", t, min_ndim=1, nonempty=False)
    v = check_array("v", v, min_ndim=1, nonempty=False)
    if t.shape != v.shape:
        raise ValueError(
            f"t and v must have the same shape, got {t.shape} and {v.shape}"
        )
    Phi = fourier_features(t, degree)
    gram = np.swapaxes(Phi, -1, -2) @ Phi
    return _posterior_from_moments(
        gram, np.einsum("...lp,...l->...p", Phi, v), tau, sigma
    )


# ----------------------------------------------------------------------------- Bessel
def _hankel_sums(n, x):
    """Hankel's series ``Σ_k (-1)^k a_k(n) x^-k`` for ``I_n(x) e^-x √(2πx)``.

    Returns the sums for order ``n`` and order 0, and their difference
    ``S_0 - S_n`` summed term by term (no cancellation of the leading 1).
    """
    s_n, s_0, diff = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    a_n, a_0 = np.ones_like(x), np.ones_like(x)
    for k in range(1, _HANKEL_TERMS + 1):
        a_n = a_n * (4 * n**2 - (2 * k - 1) ** 2) / (8 * k * x)
        a_0 = a_0 * (-((2 * k - 1) ** 2)) / (8 * k * x)
        sign = -1.0 if k % 2 else 1.0
        s_n, s_0 = s_n + sign * a_n, s_0 + sign * a_0
        diff = diff + sign * (a_0 - a_n)
    return s_n, s_0, diff


def _bessel_ratio_and_complement(n, beta):
    """``(I_n/I_0, 1 - I_n/I_0)`` for broadcastable integer ``n`` and ``beta >= 0``."""
    n, beta = np.broadcast_arrays(np.asarray(n, dtype=float), beta)
    ratio, comp = np.empty(n.shape), np.empty(n.shape)
    big = beta >= _HANKEL_FROM * np.maximum(1.0, n**2)
    if np.any(big):
        s_n, s_0, diff = _hankel_sums(n[big], beta[big])
        ratio[big], comp[big] = s_n / s_0, diff / s_0
    small = ~big
    if np.any(small):
        i0, i_n = ive(0.0, beta[small]), ive(n[small], beta[small])
        ratio[small], comp[small] = i_n / i0, (i0 - i_n) / i0
    check_finite_result("bessel_ratio", ratio)
    return ratio, comp


def bessel_ratio(n, beta) -> np.ndarray:
    """``I_n(β) / I_0(β)``, the damping of Fourier mode ``n`` by softmax attention.

    For uniform keys, softmax attention with inverse temperature ``β`` multiplies the
    ``n``-th Fourier mode of the regression function by exactly this factor
    (Chapter 3). Computed with scaled Bessel functions, and for
    ``β >= 10⁴ max(1, n²)`` from Hankel's asymptotic series (8 terms).

    Parameters
    ----------
    n : array_like of int
        Orders ``>= 0`` (``2.0`` is accepted, ``2.5`` is not).
    beta : array_like
        Inverse temperatures ``>= 0``, finite; broadcast against ``n``.

    Returns
    -------
    numpy.ndarray
        The ratios, of the broadcast shape.

    Raises
    ------
    ValueError
        For a negative order or ``beta``, NaN/inf, or shapes that do not broadcast.
    lib.validation.InputTypeError
        For a non-integer order, or non-real input.
    FloatingPointError
        If scipy's Bessel functions fail (orders above ~100 with ``β > 10⁸``).

    Examples
    --------
    >>> float(bessel_ratio(1, 2.0).round(6))
    0.697775
    >>> float(bessel_ratio(1, 1e300))
    1.0
    """
    n = check_int_array("n", n, minimum=0, nonempty=False)
    beta = check_array("beta", beta, low=0.0, nonempty=False)
    check_broadcast("the shapes", dict(n=n.shape, beta=beta.shape))
    return _bessel_ratio_and_complement(n, beta)[0]


def _orders(degree: int) -> np.ndarray:
    return np.concatenate([[0], np.repeat(np.arange(1, degree + 1), 2)])


def smoothing_factors(beta, degree: int = 2) -> np.ndarray:
    """Diagonal of ``D_β``: ``(1, r_1, r_1, …, r_D, r_D)``,
    ``r_n = I_n(β)/I_0(β)``.

    Ordered like :func:`fourier_features`, so the smoothed mean of ``f_z`` is
    ``(smoothing_factors(β) * fourier_features(t_q)) @ z``.

    Parameters
    ----------
    beta : array_like
        Inverse temperatures ``>= 0``, any shape.
    degree : int, default 2
        Highest harmonic ``D``.

    Returns
    -------
    numpy.ndarray
        Shape ``beta.shape + (2D + 1,)``.

    Raises
    ------
    ValueError
        For negative or non-finite ``beta``, or ``degree < 0``.
    lib.validation.InputTypeError
        For non-real ``beta`` or non-integer ``degree``.

    Examples
    --------
    >>> smoothing_factors(0.0)
    array([1., 0., 0., 0., 0.])
    >>> smoothing_factors([1.0, 2.0], degree=1).shape
    (2, 3)
    """
    D = check_int("degree", degree, minimum=0)
    beta = check_array("beta", beta, low=0.0, nonempty=False)
    return _bessel_ratio_and_complement(_orders(D), beta[..., None])[0]


# ----------------------------------------------------------------------------- errors
class AttentionErrorTerms(NamedTuple):
    """Coefficients of the mean squared error of softmax attention at one query.

    With ``z ~ N(0, τ² I)``, uniform keys and Gaussian noise, for a sequence of
    length ``L`` (averaged over ``z``, keys and noise):

    - ``E(attn - m_β(q))² = s2/L + c2/L² + O(L⁻³)`` (second-order delta method);
    - ``E(attn - g_X(q))² = bias2 + (s2 + posterior + cross)/L + c2/L² + …``,

    where ``g_X(q) = φ(q)·μ_X`` is the posterior predictive mean. ``posterior`` is
    ``-σ² φ(q)ᵀM⁻¹φ(q)`` (Pythagoras:
    ``E(attn - g_X)² = E(attn - f_z(q))² - E(f_z(q) - g_X)²`` and
    ``E Σ_X = σ² M⁻¹/L + O(L⁻²)``). Split term by term it is the noise variance
    ``σ² φᵀM⁻¹φ``, its covariance with the attention error
    ``-2σ² (D_β φ)ᵀM⁻¹φ``, and the covariance of the bias ``zᵀ(D_β - I)φ``
    with the prior shrinkage ``φᵀΣ_X z/τ²``, ``2σ² ((D_β - I)φ)ᵀM⁻¹φ``.

    Fields: ``bias2 = τ² ‖(D_β - I) φ(q)‖²``;
    ``s2 = E[w²(v - m_β)²]/E[w]²``;
    ``c2 = E_z[-2 E(U²Δ) + 3 σ_UU σ_ΔΔ + 6 σ_UΔ²]/E[w]²``; ``posterior`` as
    above; ``cross = -2 τ² ((D_β - I)φ(q))ᵀ E[w² ψ] / E[w]²``.
    """

    bias2: float
    s2: float
    c2: float
    posterior: float
    cross: float


def _kernel(beta: float, u) -> np.ndarray:
    """``exp(β (cos u - 1)) = exp(-2β sin²(u/2))``, without cancellation near 0."""
    return np.exp(-2.0 * beta * np.sin(u / 2) ** 2)


def _angle_quadrature(beta: float, n_grid: int):
    """Nodes, weights for ``(1/2π)∫ f(u) w(u)^k du``, ``w = e^{β(cos u - 1)}``,
    k >= 1.

    For ``β > 17`` the integrand lives within ``|u| <= 13/√β`` (outside it
    ``w < e^{-80}``), so the trapezoidal rule runs on that window with ``n_grid``
    nodes; otherwise on the whole circle (periodic, spectrally accurate).
    """
    width = 13.0 / math.sqrt(beta) if beta > 0 else math.inf
    if width >= math.pi:
        u = 2 * np.pi * np.arange(n_grid) / n_grid - np.pi
        return u, np.full(n_grid, 1.0 / n_grid)
    u = np.linspace(-width, width, n_grid)
    w = np.full(n_grid, 2 * width / (n_grid - 1) / (2 * np.pi))
    w[[0, -1]] /= 2
    return u, w


def _feature_increment(t_q: float, u: np.ndarray, D: int) -> np.ndarray:
    """``φ(t_q + u) - φ(t_q)`` without cancellation for small ``u``, shape
    (n, 2D+1)."""
    out = np.zeros(u.shape + (2 * D + 1,))
    for n in range(1, D + 1):
        half = np.sin(n * u / 2)
        mid = n * t_q + n * u / 2
        out[:, 2 * n - 1] = -2 * np.sin(mid) * half
        out[:, 2 * n] = 2 * np.cos(mid) * half
    return out


def attention_error_terms(
    beta: float,
    t_q: float,
    *,
    tau: float,
    sigma: float,
    degree: int = 2,
    n_grid: int = 4096,
) -> AttentionErrorTerms:
    """The coefficients of :class:`AttentionErrorTerms`, by quadrature over the key.

    Notation: ``w(t) = exp(β (cos(t - t_q) - 1))`` (the factor ``e^{-β}`` cancels),
    ``a = E w``, ``ψ(t) = φ(t) - D_β φ(t_q)`` so that
    ``f_z(t) - m_β(t_q) = zᵀψ(t)``; per token ``U = w (v - m_β)`` and
    ``Δ = (w - a)/a``. The expectations over the angle use the trapezoidal rule on
    ``n_grid`` nodes, on the circle for ``β <= 17`` and on the window
    ``|t - t_q| <= 13/√β`` outside which ``w`` is below ``e^{-80}`` (accurate to
    rounding for every finite ``β``); those over ``z`` and ``ε`` are in closed form.

    Parameters
    ----------
    beta : float
        Inverse temperature ``>= 0``.
    t_q : float
        Query angle.
    tau, sigma : float
        Prior and noise scales in ``(0, 1e150]``.
    degree : int, default 2
        Highest harmonic ``D``.
    n_grid : int, default 4096
        Quadrature nodes, ``>= 64``.

    Returns
    -------
    AttentionErrorTerms
        Five Python floats.

    Raises
    ------
    ValueError
        For out-of-range or non-finite arguments.
    lib.validation.InputTypeError
        For non-numeric arguments.

    Examples
    --------
    >>> terms = attention_error_terms(4.0, 0.7, tau=1.0, sigma=0.5)
    >>> round(terms.s2, 4), terms.posterior
    (2.787, -1.25)
    """
    beta = check_positive("beta", beta, allow_zero=True)
    t_q = check_real("t_q", t_q)
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma)
    D = check_int("degree", degree, minimum=0)
    n_grid = check_int("n_grid", n_grid, minimum=64)
    u, wts = _angle_quadrature(beta, n_grid)
    w = _kernel(beta, u)
    a = wts @ w
    r, comp = _bessel_ratio_and_complement(_orders(D), np.asarray(beta))
    phq = fourier_features(t_q, D)
    psi = _feature_increment(t_q, u, D) + comp * phq  # φ(t) − D_β φ(t_q)
    b = -comp * phq  # m_β − f_z(q) = zᵀb
    d2 = tau**2 * (psi**2).sum(-1) + sigma**2  # E_{z,ε}(v − m_β)² given t
    s_uu = wts @ (w**2 * d2)
    s_ee = (wts @ w**2) / a**2 - 1.0
    g = (wts * w**2) @ psi / a  # σ_UΔ = gᵀz
    k_uue = wts @ (w**2 * d2 * (w - a)) / a
    m_inv = feature_moment_inverse(D)
    noise = sigma**2 * (phq @ (m_inv * phq) - 2 * (r * phq) @ (m_inv * phq))
    shrinkage = 2 * sigma**2 * (b @ (m_inv * phq))
    return AttentionErrorTerms(
        bias2=float(tau**2 * b @ b),
        s2=float(s_uu / a**2),
        c2=float((-2 * k_uue + 3 * s_uu * s_ee + 6 * tau**2 * g @ g) / a**2),
        posterior=float(noise + shrinkage),
        cross=float(-2 * tau**2 * (b @ g) / a),
    )


def predicted_attention_mse(
    L, terms: AttentionErrorTerms, target: str = "smoothed"
) -> np.ndarray:
    """Mean squared error of softmax attention predicted by its expansion.

    Parameters
    ----------
    L : int or array_like of int
        Sequence lengths ``>= 1`` (``2.0`` is accepted, ``2.5`` is not).
    terms : AttentionErrorTerms
        From :func:`attention_error_terms`.
    target : {"smoothed", "posterior"}
        ``"smoothed"``: ``s2/L + c2/L²`` (error to ``m_β(q)``); ``"posterior"``:
        ``bias2 + (s2 + posterior + cross)/L + c2/L²`` (error to ``g_X(q)``).

    Returns
    -------
    numpy.ndarray
        The predicted errors, shape of ``L``.

    Raises
    ------
    ValueError
        For ``L < 1`` or an unknown target.
    lib.validation.InputTypeError
        If ``terms`` is not an :class:`AttentionErrorTerms`, or ``L`` is not an
        integer.

    Examples
    --------
    >>> terms = AttentionErrorTerms(0.1, 2.0, 4.0, -1.0, 0.5)
    >>> predicted_attention_mse([1, 2], terms)
    array([6., 2.])
    """
    L = check_int_array("L", L, minimum=1, nonempty=False).astype(np.float64)
    if not isinstance(terms, AttentionErrorTerms):
        raise InputTypeError(
            f"terms must be an AttentionErrorTerms, got {type(terms).__name__}"
        )
    target = check_choice("target", target, ("smoothed", "posterior"))
    if target == "smoothed":
        return terms.s2 / L + terms.c2 / L**2
    first = terms.s2 + terms.posterior + terms.cross
    return terms.bias2 + first / L + terms.c2 / L**2


def temperature_schedule(L, *, tau: float, sigma: float, degree: int = 2):
    """The inverse temperature that minimises the leading error terms.

    The squared bias is ``τ² Σ_{n<=D} n⁴/(4β²)`` and the variance
    ``σ² √(πβ)/L`` to leading order (Chapter 3); their sum is smallest at
    ``β_L = (S₄ τ² L / (σ² √π))^{2/5}`` with ``S₄ = Σ_{n=1}^D n⁴`` (17
    for ``D = 2``).

    Parameters
    ----------
    L : array_like
        Sequence lengths ``>= 1``.
    tau, sigma : float
        Prior and noise scales in ``(0, 1e150]``.
    degree : int, default 2
        Highest harmonic ``D >= 1``.

    Returns
    -------
    numpy.ndarray
        ``β_L``, shape of ``L``.

    Raises
    ------
    ValueError
        For ``L < 1``, non-positive scales, or ``degree < 1``.

    Examples
    --------
    >>> temperature_schedule([1.0, 32.0], tau=1.0, sigma=1.0).round(3)
    array([2.47 , 9.881])
    """
    L = check_array("L", L, low=1.0, nonempty=False)
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma)
    D = check_int("degree", degree, minimum=1)
    s4 = float(sum(n**4 for n in range(1, D + 1)))
    beta = (s4 * tau**2 * L / (sigma**2 * math.sqrt(math.pi))) ** 0.4
    return check_finite_result("temperature_schedule", beta)


# ----------------------------------------------------------------------------- heads
def _heads(t_heads) -> np.ndarray:
    return check_array("t_heads", t_heads, ndim=1)


def readout_matrix(t_heads, beta: float, degree: int = 2) -> np.ndarray:
    """The multi-head linear read-out ``A = (Φ_Q D_β)⁺``.

    Row ``h`` of ``Φ_Q`` is ``φ(t_h)`` for the query angle of head ``h``. For uniform
    keys the smoothed means of the heads are exactly ``Φ_Q D_β z``, so
    ``ẑ = A (attn_h)_h`` recovers the component of ``z`` in the row space of
    ``Φ_Q D_β`` (all of ``z`` when ``H >= 2D + 1`` and ``Φ_Q`` has full column rank).

    Parameters
    ----------
    t_heads : array_like
        The ``H`` query angles, 1-d.
    beta : float
        Inverse temperature ``>= 0``.
    degree : int, default 2
        Highest harmonic ``D``.

    Returns
    -------
    numpy.ndarray
        Shape ``(2D + 1, H)``.

    Raises
    ------
    ValueError
        For an empty, non-1-d or non-finite ``t_heads`` or a negative ``beta``.

    Examples
    --------
    >>> t5 = 2 * np.pi * np.arange(5) / 5
    >>> A = readout_matrix(t5, 3.0)
    >>> bool(np.allclose(A @ (fourier_features(t5) * smoothing_factors(3.0)),
    ...                  np.eye(5)))
    True
    """
    t_heads = _heads(t_heads)
    beta = check_positive("beta", beta, allow_zero=True)
    return np.linalg.pinv(
        fourier_features(t_heads, degree) * smoothing_factors(beta, degree)
    )


def multihead_error_covariance(
    t_heads,
    beta: float,
    *,
    tau: float,
    sigma: float,
    degree: int = 2,
    n_grid: int = 4096,
    z=None,
) -> np.ndarray:
    """First-order covariance ``V`` of the multi-head read-out error.

    To first order ``ẑ - μ_X = (P - I) z + (1/L) Σ_ℓ ψ(t_ℓ, ε_ℓ)`` with
    ``P = A Φ_Q D_β`` and ``ψ = A u - M⁻¹ φ(t) ε``,
    ``u_h = w_h(t)(zᵀψ_h(t) + ε)/a``, ``w_h = e^{β cos(t - t_h)}``, ``a = E w_h``,
    ``ψ_h = φ(t) - D_β φ(t_h)``, ``M = E φφᵀ``. Averaging over
    ``z ~ N(0, τ² I)`` and ``ε``: ``V = E_t[τ² (A B)(A B)ᵀ + σ² e eᵀ]`` with
    ``B_h = w_h ψ_hᵀ/a`` and ``e = A c - M⁻¹φ(t)``, ``c_h = w_h/a``. The integral
    over ``t`` uses the trapezoidal rule on ``max(n_grid, 16√(2β) + 64)`` nodes
    (exact to rounding).

    Parameters
    ----------
    t_heads : array_like
        Query angles of the ``H`` heads, 1-d.
    beta : float
        Inverse temperature, ``0 <= β <= 4·10⁹``.
    tau, sigma : float
        Prior and noise scales in ``(0, 1e150]``.
    degree : int, default 2
        Highest harmonic ``D``.
    n_grid : int, default 4096
        Minimum number of quadrature nodes, ``>= 64``.
    z : array_like, optional
        Latents ``(..., p)``: return instead the covariance conditional on ``z``,
        ``V(z) = E_t[(A B z)(A B z)ᵀ + σ² e eᵀ]``, whose average over
        ``z ~ N(0, τ² I)`` is ``V``.

    Returns
    -------
    numpy.ndarray
        ``V`` of shape ``(p, p)``, or ``V(z)`` of shape ``(..., p, p)``.

    Raises
    ------
    ValueError
        For invalid angles, scales, a ``β`` too large for the node budget, or a
        ``z`` whose last axis is not ``p``.
    lib.validation.InputTypeError
        For non-numeric arguments.
    FloatingPointError
        If the covariance overflows (e.g. for a huge ``z``).

    Examples
    --------
    >>> t8 = 2 * np.pi * np.arange(8) / 8
    >>> V = multihead_error_covariance(t8, 4.0, tau=1.0, sigma=0.5)
    >>> V.shape, bool(np.allclose(V, V.T))
    ((5, 5), True)
    """
    t_heads = _heads(t_heads)
    beta = check_positive("beta", beta, allow_zero=True)
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma)
    D = check_int("degree", degree, minimum=0)
    n_grid = check_int("n_grid", n_grid, minimum=64)
    nodes = max(n_grid, int(16 * math.sqrt(2 * beta)) + 64)
    if nodes > _MAX_NODES:
        raise ValueError(
            f"beta must be <= 4e9 for the multi-head integrals, got {beta}"
        )
    A = readout_matrix(t_heads, beta, D)  # (p, H)
    Dq = fourier_features(t_heads, D) * smoothing_factors(beta, D)  # (H, p)
    t = 2 * np.pi * np.arange(nodes) / nodes
    phi = fourier_features(t, D)  # (N, p)
    w = _kernel(beta, t[:, None] - t_heads[None, :])  # (N, H)
    c = w / w.mean(0)
    B = c[:, :, None] * (phi[:, None, :] - Dq[None, :, :])  # (N, H, p)
    AB = np.einsum("ph,nhk->npk", A, B)  # (N, p, p)
    e = c @ A.T - feature_moment_inverse(D) * phi  # (N, p)
    noise = sigma**2 * e.T @ e / nodes
    if z is None:
        V = tau**2 * np.einsum("npk,nqk->pq", AB, AB) / nodes + noise
        return check_finite_result("the error covariance V", V)
    z = check_array("z", z, shape=(A.shape[0],))
    T4 = np.einsum("npk,nql->pkql", AB, AB) / nodes
    with np.errstate(over="ignore", invalid="ignore"):
        Vz = np.einsum("pkql,...k,...l->...pq", T4, z, z) + noise
    return check_finite_result("V(z) (z too large?)", Vz)


def multihead_error_terms(
    t_heads,
    beta: float,
    *,
    tau: float,
    sigma: float,
    degree: int = 2,
    n_grid: int = 4096,
) -> tuple[float, float]:
    """``(floor, v)`` with ``E‖ẑ - μ_X‖² = floor + v/L + o(1/L)``.

    ``floor = τ² (p - rank(Φ_Q D_β))`` is the part of ``z`` the heads cannot see and
    ``v = tr V - 2σ² tr((I - P) M⁻¹)``, with ``V`` of
    :func:`multihead_error_covariance` and ``P = A Φ_Q D_β``. The second term is the
    covariance of the floor ``(P - I) z`` with the prior shrinkage
    ``Σ_X z/τ² ≈ σ² M⁻¹ z/(τ² L)`` inside ``z - μ_X``; it vanishes when
    ``P = I``.

    Parameters
    ----------
    t_heads, beta, tau, sigma, degree, n_grid
        As in :func:`multihead_error_covariance`.

    Returns
    -------
    tuple of float
        ``(floor, v)``.

    Raises
    ------
    ValueError
        As :func:`multihead_error_covariance`.

    Examples
    --------
    >>> t4 = 2 * np.pi * np.arange(4) / 4
    >>> floor, v = multihead_error_terms(t4, 4.0, tau=1.5, sigma=0.5)
    >>> floor
    2.25
    """
    V = multihead_error_covariance(
        t_heads, beta, tau=tau, sigma=sigma, degree=degree, n_grid=n_grid
    )
    t_heads = _heads(t_heads)
    Dq = fourier_features(t_heads, degree) * smoothing_factors(beta, degree)
    P = readout_matrix(t_heads, beta, degree) @ Dq
    m_inv = feature_moment_inverse(degree)
    shrink = -2 * sigma**2 * float(np.sum((1.0 - P.diagonal()) * m_inv))
    floor = float(tau**2 * (V.shape[0] - np.linalg.matrix_rank(Dq)))
    return floor, float(np.trace(V)) + shrink


def gaussian_tv(mean_difference, precision) -> np.ndarray:
    """Total-variation distance between ``N(m₁, Σ)`` and ``N(m₂, Σ)``.

    With ``δ² = (m₁ - m₂)ᵀ Σ⁻¹ (m₁ - m₂)`` the distance is that of two
    unit normals ``δ`` apart, ``2Φ(δ/2) - 1 = erf(δ/(2√2))``.

    Parameters
    ----------
    mean_difference : array_like
        ``m₁ - m₂``, shape ``(..., p)``.
    precision : array_like
        ``Σ⁻¹``, shape ``(..., p, p)`` (broadcast against the differences),
        symmetric positive definite.

    Returns
    -------
    numpy.ndarray
        Distances in ``[0, 1]``, shape ``(...)``.

    Raises
    ------
    ValueError
        For NaN/inf, mismatched shapes, or a negative quadratic form.

    Examples
    --------
    >>> float(gaussian_tv([0.0], [[1.0]]))
    0.0
    >>> round(float(gaussian_tv([2.0], [[1.0]])), 4)
    0.6827
    """
    d = check_array("mean_difference", mean_difference, min_ndim=1)
    prec = check_array("precision", precision, shape=(d.shape[-1], d.shape[-1]))
    q = np.einsum("...i,...ij,...j->...", d, prec, d)
    if np.any(q < -1e-12 * np.einsum("...i,...i->...", d, d) * np.abs(prec).max()):
        raise ValueError("precision must be positive semi-definite")
    return erf(np.sqrt(np.maximum(q, 0.0)) / (2 * math.sqrt(2)))


def multihead_tv_limit(
    t_heads,
    beta: float,
    rng: np.random.Generator,
    size: int,
    *,
    tau: float,
    sigma: float,
    degree: int = 2,
) -> np.ndarray:
    """Draws of the limit of the TV distance between the posterior and ``N(ẑ, Σ_X)``.

    With full-rank heads, ``√L (ẑ - μ_X) → ξ`` where, given
    ``z ~ N(0, τ² I)``, ``ξ ~ N(0, V(z))`` (:func:`multihead_error_covariance` with
    ``z``), and ``L Σ_X → σ² M⁻¹``; so ``δ² → ξᵀ M ξ / σ²`` and the
    distance tends in law to ``erf(δ/(2√2))`` (:func:`gaussian_tv`). Its mean is
    estimated by the mean of these draws.

    Parameters
    ----------
    t_heads : array_like
        Query angles of the heads (full column rank), 1-d.
    beta : float
        Inverse temperature ``>= 0``.
    rng : numpy.random.Generator
        Source of the draws (first ``z``, then ``ξ``).
    size : int
        Number of draws ``>= 1``.
    tau, sigma : float
        Prior and noise scales in ``(0, 1e150]``.
    degree : int, default 2
        Highest harmonic ``D``.

    Returns
    -------
    numpy.ndarray
        Shape ``(size,)``, values in ``[0, 1)``.

    Raises
    ------
    ValueError
        For invalid arguments, or heads that cannot recover ``z``
        (``rank(Φ_Q D_β) < 2D + 1``).
    lib.validation.InputTypeError
        For non-numeric arguments or an ``rng`` that is not a Generator.
    FloatingPointError
        If ``σ`` is so small that the precision ``1/σ²`` overflows.

    Examples
    --------
    >>> t5 = 2 * np.pi * np.arange(5) / 5
    >>> d = multihead_tv_limit(t5, 4.0, np.random.default_rng(0), 100, tau=1.0,
    ...                        sigma=0.5)
    >>> d.shape, bool(np.all((d >= 0) & (d < 1)))
    ((100,), True)
    """
    rng = check_rng("rng", rng)
    size = check_int("size", size, minimum=1)
    t_heads = _heads(t_heads)
    beta = check_positive("beta", beta, allow_zero=True)
    sigma = _scale("sigma", sigma)
    D = check_int("degree", degree, minimum=0)
    p = 2 * D + 1
    with np.errstate(over="ignore"):
        precision = np.diag(1.0 / feature_moment_inverse(D)) / np.float64(sigma) ** 2
    if not np.all(np.isfinite(precision)):
        raise FloatingPointError(
            f"sigma is too small: the precision 1/sigma² overflows (sigma = {sigma})"
        )
    Dq = fourier_features(t_heads, D) * smoothing_factors(beta, D)
    if np.linalg.matrix_rank(Dq) < p:
        raise ValueError(f"t_heads must give rank {p}; these heads cannot recover z")
    z = _scale("tau", tau) * rng.standard_normal((size, p))
    Vz = multihead_error_covariance(t_heads, beta, tau=tau, sigma=sigma, degree=D, z=z)
    xi = np.einsum("rij,rj->ri", np.linalg.cholesky(Vz), rng.standard_normal((size, p)))
    return gaussian_tv(xi, precision)


# ------------------------------------------------------------------------- experiment
class AttentionErrors(NamedTuple):
    """Per-sequence errors of softmax attention on nested prefixes of sequences.

    Arrays are indexed ``[length, sequence, query]`` (``[length, sequence, :]`` for
    vectors). With ``A = attn - m_β``, ``B = m_β - f_z``, ``C = f_z - g_X`` the error
    to the posterior predictive is ``attn - g_X = A + B + C``.

    Fields: ``lengths`` (n_L,), ``beta`` (n_L,), ``error`` = A, ``linear`` = ``Ū/a``
    (the first-order term of A, ``Ū = L⁻¹ Σ_ℓ w_ℓ (v_ℓ - m_β)``,
    ``a = E w``), ``bias`` = B, ``gap`` = C, ``gap_noise`` (the noise part of C,
    ``-φ_qᵀ Σ_X Φᵀε/σ²``), ``gap_var`` = ``φ_qᵀ Σ_X φ_q = E[C² | X]``,
    ``z`` (R, p), ``mu`` and ``noise_moment`` = ``Φᵀε/L`` (n_L, R, p), ``Sigma``
    (n_L, R, p, p).
    """

    lengths: np.ndarray
    beta: np.ndarray
    error: np.ndarray
    linear: np.ndarray
    bias: np.ndarray
    gap: np.ndarray
    gap_noise: np.ndarray
    gap_var: np.ndarray
    z: np.ndarray
    mu: np.ndarray
    noise_moment: np.ndarray
    Sigma: np.ndarray


def attention_errors(
    sample: CircleSample,
    query_angles,
    beta,
    *,
    tau: float,
    sigma: float,
    lengths=None,
    degree: int = 2,
    linear: bool = True,
    chunk: int = 2**22,
) -> AttentionErrors:
    """Softmax attention on the first ``L`` tokens of each sequence, and its errors.

    For every length ``L`` in ``lengths`` (nested prefixes of the same sequences)
    and every query angle, computes attention with
    :func:`lib.attention.softmax_attention` at inverse temperature ``beta`` (one
    value, or one per length), and the quantities of :class:`AttentionErrors`:
    the error to the smoothed mean, its linear term, the bias, the gap between
    ``f_z`` and the posterior predictive, and the exact posterior.

    Parameters
    ----------
    sample : CircleSample
        Sequences with ``z`` of shape ``(R, p)`` and ``t``, ``v`` of shape
        ``(R, L_max)``, drawn with Gaussian latent and noise.
    query_angles : array_like
        The ``Q`` query angles, 1-d.
    beta : float or array_like
        Inverse temperature(s) ``>= 0``: a number, or one per length.
    tau, sigma : float
        The model's prior and noise scales, in ``(0, 1e150]``.
    lengths : array_like of int, optional
        Increasing prefix lengths in ``[1, L_max]``; default ``[L_max]``.
    degree : int, default 2
        Highest harmonic of the model.
    linear : bool, default True
        Whether to compute the linear term (``W̄`` is evaluated as
        ``exp(β(q·k - 1))``, relative error at most ``4βu``); if not, the field
        ``linear`` is ``None``.
    chunk : int, default 2**22
        Largest number of (sequence, query, token) triples held at once.

    Returns
    -------
    AttentionErrors
        NumPy arrays.

    Raises
    ------
    ValueError
        For inconsistent shapes or lengths, or invalid scales.
    lib.validation.InputTypeError
        If ``sample`` is not a :class:`CircleSample`.
    FloatingPointError
        If a result is not finite (e.g. ``β`` so large that ``W̄/a`` overflows).

    Examples
    --------
    >>> s = sample_circle_model(4, 64, np.random.default_rng(1), tau=1.0, sigma=0.5)
    >>> e = attention_errors(s, [0.0, 1.0], 4.0, tau=1.0, sigma=0.5, lengths=[16, 64])
    >>> e.error.shape, e.mu.shape
    ((2, 4, 2), (2, 4, 5))
    """
    if not isinstance(sample, CircleSample):
        raise InputTypeError(f"sample must be a CircleSample, got {type(sample)}")
    tau = _scale("tau", tau)
    sigma = _scale("sigma", sigma)
    D = check_int("degree", degree, minimum=0)
    chunk = check_int("chunk", chunk, minimum=1)
    if not isinstance(linear, bool):
        raise InputTypeError(f"linear must be True or False, got {linear!r}")
    z = check_array("sample.z", sample.z, ndim=2, shape=(2 * D + 1,))
    t = check_array("sample.t", sample.t, ndim=2)
    v = check_array("sample.v", sample.v, shape=t.shape)
    if z.shape[0] != t.shape[0]:
        raise ValueError("sample.z and sample.t must hold the same sequences")
    R, L_max = t.shape
    Ls = check_int_array(
        "lengths", [L_max] if lengths is None else lengths, ndim=1, minimum=1
    )
    if Ls.max() > L_max or np.any(np.diff(Ls) <= 0):
        raise ValueError(f"lengths must increase within [1, {L_max}], got {Ls}")
    qa = check_array("query_angles", query_angles, ndim=1)
    betas = check_array("beta", beta, low=0.0)
    if betas.ndim == 0:
        betas = np.full(len(Ls), float(betas))
    if betas.shape != Ls.shape:
        raise ValueError(f"beta must be a number or have shape {Ls.shape}")
    nL, Q, p = len(Ls), len(qa), 2 * D + 1
    phq = fourier_features(qa, D)  # (Q, p)
    error, lin = np.empty((nL, R, Q)), np.empty((nL, R, Q)) if linear else None
    gram, phi_v = np.empty((nL, R, p, p)), np.empty((nL, R, p))
    nm = np.empty((nL, R, p))
    ratios = [_bessel_ratio_and_complement(_orders(D), np.asarray(b)) for b in betas]
    uq = unit_circle(qa)
    q = torch.from_numpy(uq)
    step = max(1, chunk // (Q * L_max))
    for lo in range(0, R, step):
        sl = slice(lo, lo + step)
        keys, Phi = unit_circle(t[sl]), fourier_features(t[sl], D)
        eps = v[sl] - (Phi @ z[sl, :, None])[..., 0]
        g, pv, pe, start = 0.0, 0.0, 0.0, 0
        for i, (L, b) in enumerate(zip(Ls, betas, strict=True)):
            new = slice(start, L)  # tokens added to the prefix
            Pt = np.swapaxes(Phi[:, new], 1, 2)  # (r, p, ΔL)
            g = g + Pt @ Phi[:, new]
            pv = pv + (Pt @ v[sl, new, None])[..., 0]
            pe = pe + (Pt @ eps[:, new, None])[..., 0]
            gram[i, sl], phi_v[i, sl], nm[i, sl], start = g, pv, pe / L, L
            kk = torch.from_numpy(keys[:, :L])
            vv = torch.from_numpy(v[sl, :L, None])
            attn = softmax_attention(q, kk, vv, b)[..., 0].numpy()
            error[i, sl] = attn - z[sl] @ (ratios[i][0] * phq).T
            if linear:  # Ū/a = (attn − m_β) W̄/a, W̄ = mean of e^{β(q·k − 1)}
                cos = keys[:, :L] @ uq.T  # (r, L, Q)
                wbar = np.exp(b * (cos - 1.0)).mean(1)
                lin[i, sl] = error[i, sl] * wbar / float(ive(0.0, b))
    mu, Sigma = _posterior_from_moments(gram, phi_v, tau, sigma)
    bias = np.stack([-z @ (c * phq).T for _, c in ratios])
    proj = np.einsum("qi,nrij->nrqj", phq, Sigma)  # φ_qᵀ Σ_X
    gap_noise = -np.einsum("nrqj,nrj->nrq", proj, nm) * Ls[:, None, None] / sigma**2
    out = AttentionErrors(
        lengths=Ls,
        beta=betas,
        error=error,
        linear=lin,
        bias=bias,
        gap=(z - mu) @ phq.T,
        gap_noise=gap_noise,
        gap_var=np.einsum("nrqj,qj->nrq", proj, phq),
        z=z,
        mu=mu,
        noise_moment=nm,
        Sigma=Sigma,
    )
    for field, value in out._asdict().items():
        if value is not None:  # e.g. β so large that W̄/a overflows, σ below 1e-150
            check_finite_result(f"attention_errors' {field}", value)
    return out


class MultiheadErrors(NamedTuple):
    """Per-sequence errors of the multi-head read-out ``ẑ = A (attn_h)_h``.

    Fields (arrays over ``[length, sequence]``): ``sq_error`` = ``‖ẑ - μ_X‖²``;
    ``linear`` (…, p) = ``ψ̄ = A Ū/a - M⁻¹ Φᵀε/L``, the first-order term of
    ``ẑ - μ_X - (P - I) z``; ``floor`` = ``‖(I - P) z‖²`` (per sequence);
    ``floor_cross`` = ``2((I - P) z)ᵀ ψ̄``, of mean zero; ``tv`` = TV between
    ``N(μ_X, Σ_X)`` and ``N(ẑ, Σ_X)``.
    """

    sq_error: np.ndarray
    linear: np.ndarray
    floor: np.ndarray
    floor_cross: np.ndarray
    tv: np.ndarray


def multihead_errors(errors: AttentionErrors, heads, query_angles) -> MultiheadErrors:
    """Read out ``ẑ`` from the heads ``heads`` (indices into the query angles).

    Parameters
    ----------
    errors : AttentionErrors
        From :func:`attention_errors`.
    heads : array_like of int
        Indices of the queries used as heads.
    query_angles : array_like
        The query angles passed to :func:`attention_errors`.

    Returns
    -------
    MultiheadErrors
        NumPy arrays.

    Raises
    ------
    ValueError
        For head indices out of range or angles of the wrong length.
    lib.validation.InputTypeError
        If ``errors`` is not an :class:`AttentionErrors`.

    Examples
    --------
    >>> s = sample_circle_model(3, 32, np.random.default_rng(2), tau=1.0, sigma=0.5)
    >>> qa = 2 * np.pi * np.arange(5) / 5
    >>> e = attention_errors(s, qa, 4.0, tau=1.0, sigma=0.5)
    >>> multihead_errors(e, range(5), qa).sq_error.shape
    (1, 3)
    """
    if not isinstance(errors, AttentionErrors):
        raise InputTypeError(f"errors must be an AttentionErrors, got {type(errors)}")
    qa = check_array("query_angles", query_angles, ndim=1)
    if qa.shape != errors.error.shape[-1:]:
        raise ValueError("query_angles must be those of the experiment")
    if isinstance(heads, range):
        heads = list(heads)
    idx = check_int_array("heads", heads, ndim=1, minimum=0, maximum=len(qa) - 1)
    p = errors.z.shape[-1]
    D = (p - 1) // 2
    m_inv = feature_moment_inverse(D)
    sq, lin, tv = [], [], []
    for i, b in enumerate(errors.beta):
        A = readout_matrix(qa[idx], b, D)  # (p, H)
        P = A @ (fourier_features(qa[idx], D) * smoothing_factors(b, D))
        z_hat = errors.z @ P.T + errors.error[i][:, idx] @ A.T
        diff = z_hat - errors.mu[i]
        sq.append((diff**2).sum(-1))
        lin.append(errors.linear[i][:, idx] @ A.T - m_inv * errors.noise_moment[i])
        prec = np.linalg.inv(errors.Sigma[i])
        tv.append(gaussian_tv(diff, prec))
    b0 = errors.beta[0]
    A0 = readout_matrix(qa[idx], b0, D)
    P0 = A0 @ (fourier_features(qa[idx], D) * smoothing_factors(b0, D))
    hidden = errors.z - errors.z @ P0.T  # (I − P) z
    lin = np.array(lin)
    cross = 2 * np.einsum("rp,nrp->nr", hidden, lin)
    return MultiheadErrors(np.array(sq), lin, (hidden**2).sum(-1), cross, np.array(tv))
