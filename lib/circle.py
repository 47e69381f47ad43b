"""The token model on the unit circle (Chapters 3–5).

A sequence X = (x_1..x_L) has tokens x_ℓ = (k_ℓ, v_ℓ): keys on the unit circle
``k = (cos t, sin t)`` with angle ``t ~ Uniform[0, 2π)`` and values ``v = f_z(t) + ε`` where
``f_z(t) = z · φ(t)`` and ``φ(t) = (1, cos t, sin t, cos 2t, sin 2t, …)`` are Fourier features.
In the linear-Gaussian case (``z ~ N(0, τ² I)``, ``ε ~ N(0, σ²)``) the posterior of z is exact:
``Σ_X = (ΦᵀΦ/σ² + I/τ²)⁻¹``, ``μ_X = Σ_X Φᵀ v / σ²``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import ive

from lib.validation import check_int, check_positive, check_rng


def fourier_features(t, degree: int = 2) -> np.ndarray:
    """``φ(t) = (1, cos t, sin t, …, cos(D t), sin(D t))``, shape ``(..., 2D + 1)``."""
    D = check_int("degree", degree, minimum=0)
    t = np.asarray(t, dtype=float)[..., None]
    n = np.arange(1, D + 1)
    cos, sin = np.cos(n * t), np.sin(n * t)
    harmonics = np.stack([cos, sin], axis=-1).reshape(*t.shape[:-1], 2 * D)
    return np.concatenate([np.ones_like(t), harmonics], axis=-1)


def unit_circle(t) -> np.ndarray:
    """Keys ``(cos t, sin t)`` of shape ``(..., 2)`` for angles ``t``."""
    t = np.asarray(t, dtype=float)
    return np.stack([np.cos(t), np.sin(t)], axis=-1)


def bessel_ratio(n, beta) -> np.ndarray:
    """``I_n(β) / I_0(β)`` (modified Bessel functions), computed stably with scaled Bessels.

    For uniform keys, softmax attention with inverse temperature β damps the n-th Fourier
    mode of the regression function by exactly this factor (Chapter 3).
    """
    beta = np.asarray(beta, dtype=float)
    if np.any(beta < 0) or not np.all(np.isfinite(beta)):
        raise ValueError("beta must be finite and >= 0")
    return ive(np.asarray(n, dtype=float), beta) / ive(0.0, beta)


def smoothing_factors(beta, degree: int = 2) -> np.ndarray:
    """Diagonal of ``D_β`` matching :func:`fourier_features`: ``(1, r_1, r_1, …, r_D, r_D)``, ``r_n = I_n(β)/I_0(β)``.

    Shape ``(..., 2D + 1)`` for ``beta`` of shape ``(...)``.
    """
    D = check_int("degree", degree, minimum=0)
    orders = np.concatenate([[0], np.repeat(np.arange(1, D + 1), 2)])
    return bessel_ratio(orders, np.asarray(beta, dtype=float)[..., None])


class CircleSample(NamedTuple):
    """A batch of sequences: ``z`` (..., p), angles ``t`` (..., L), keys ``K`` (..., L, 2), values ``v`` (..., L)."""

    z: np.ndarray
    t: np.ndarray
    K: np.ndarray
    v: np.ndarray


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

    ``latent="gaussian"``: z ~ N(0, τ² I); ``latent="uniform"``: z ~ Uniform[-τ, τ]^p (bounded).
    ``noise="gaussian"``: ε ~ N(0, σ²); ``noise="uniform"``: ε ~ Uniform[-σ, σ] (bounded).
    """
    rng = check_rng("rng", rng)
    L = check_int("L", L, minimum=1)
    tau = check_positive("tau", tau)
    sigma = check_positive("sigma", sigma, allow_zero=True)
    size = (size,) if np.isscalar(size) else tuple(size)
    p = 2 * check_int("degree", degree, minimum=0) + 1
    if latent == "gaussian":
        z = tau * rng.standard_normal((*size, p))
    elif latent == "uniform":
        z = rng.uniform(-tau, tau, (*size, p))
    else:
        raise ValueError(f"latent must be 'gaussian' or 'uniform', got {latent!r}")
    t = rng.uniform(0.0, 2 * np.pi, (*size, L))
    if noise == "gaussian":
        eps = sigma * rng.standard_normal((*size, L))
    elif noise == "uniform":
        eps = rng.uniform(-sigma, sigma, (*size, L))
    else:
        raise ValueError(f"noise must be 'gaussian' or 'uniform', got {noise!r}")
    v = np.einsum("...lp,...p->...l", fourier_features(t, degree), z) + eps
    return CircleSample(z=z, t=t, K=unit_circle(t), v=v)


def linear_gaussian_posterior(t, v, *, tau: float, sigma: float, degree: int = 2):
    """Exact posterior N(μ_X, Σ_X) of z given angles ``t`` (..., L) and values ``v`` (..., L).

    ``Σ_X = (ΦᵀΦ/σ² + I/τ²)⁻¹`` and ``μ_X = Σ_X Φᵀ v / σ²``; returns ``(mu (..., p), Sigma (..., p, p))``.
    """
    tau = check_positive("tau", tau)
    sigma = check_positive("sigma", sigma)
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    if t.shape != v.shape:
        raise ValueError(f"t and v must have the same shape, got {t.shape} and {v.shape}")
    Phi = fourier_features(t, degree)
    p = Phi.shape[-1]
    precision = np.swapaxes(Phi, -1, -2) @ Phi / sigma**2 + np.eye(p) / tau**2
    Sigma = np.linalg.inv(precision)
    mu = np.einsum("...ij,...j->...i", Sigma, np.einsum("...lp,...l->...p", Phi, v)) / sigma**2
    return mu, Sigma
