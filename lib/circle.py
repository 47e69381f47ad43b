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
    """``φ(t) = (1, cos t, sin t, …, cos(D t), sin(D t))``, shape ``(..., 2D + 1)``.

    Only ``cos t`` and ``sin t`` are evaluated; the higher harmonics follow from the
    angle-addition recurrence ``e^{i(n+1)t} = e^{int} e^{it}`` (error ≲ n × machine epsilon).
    """
    D = check_int("degree", degree, minimum=0)
    t = np.asarray(t, dtype=float)
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
    v = (fourier_features(t, degree) @ z[..., None])[..., 0] + eps
    return CircleSample(z=z, t=t, K=unit_circle(t), v=v)


def linear_gaussian_posterior(t, v, *, tau: float, sigma: float, degree: int = 2):
    """Exact posterior N(μ_X, Σ_X) of z given angles ``t`` (..., L) and values ``v`` (..., L).

    ``Σ_X = (ΦᵀΦ/σ² + I/τ²)⁻¹`` and ``μ_X = Σ_X Φᵀ v / σ²``; returns ``(mu (..., p), Sigma (..., p, p))``.
    """
    tau = check_positive("tau", tau)
    sigma = check_positive("sigma", sigma)
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    if t.shape != v.shape:
        raise ValueError(
            f"t and v must have the same shape, got {t.shape} and {v.shape}"
        )
    Phi = fourier_features(t, degree)
    p = Phi.shape[-1]
    precision = np.swapaxes(Phi, -1, -2) @ Phi / sigma**2 + np.eye(p) / tau**2
    Sigma = np.linalg.inv(precision)
    mu = (
        np.einsum("...ij,...j->...i", Sigma, np.einsum("...lp,...l->...p", Phi, v))
        / sigma**2
    )
    return mu, Sigma


class AttentionErrorTerms(NamedTuple):
    """Coefficients of the mean squared error of softmax attention at one query (Chapter 3).

    With ``z ~ N(0, τ² I)``, uniform keys and Gaussian noise, for a sequence of length L
    (averaged over z, keys and noise):

    - ``E(attn − m_β(q))²          = s2/L + c2/L² + O(L⁻³)``  (second-order delta method);
    - ``E(attn − g_X(q))²          = bias2 + (s2 + posterior + cross)/L + c2/L² + …``,

    where ``g_X(q) = φ(q)·μ_X`` is the posterior predictive mean. The ``posterior`` coefficient
    follows from the Pythagorean identity ``E(attn − g_X)² = E(attn − f_z(q))² − E(f_z(q) − g_X)²``
    (``g_X = E[f_z(q) | X]`` and attention is a function of X) and ``E Σ_X = σ² M⁻¹/L + O(L⁻²)``.
    Split term by term, it is the noise variance ``σ² φᵀM⁻¹φ``, its covariance with the
    attention error ``−2σ² (D_β φ)ᵀM⁻¹φ``, and the covariance of the bias ``zᵀ(D_β − I)φ`` with
    the prior shrinkage ``φᵀΣ_X z/τ²`` of ``f_z(q) − g_X(q)``, ``2σ² ((D_β − I)φ)ᵀM⁻¹φ``.
    """

    bias2: float  # E_z (m_β(q) − f_z(q))²  = τ² ‖(D_β − I) φ(q)‖²
    s2: float  # E_z E[w²(v − m_β)²] / E[w]²
    c2: float  # E_z [−2 E(U²E) + 3 σ_UU σ_EE + 6 σ_UE²] / E[w]²
    posterior: float  # −σ² φ(q)ᵀM⁻¹φ(q) = −lim L·E(f_z(q) − g_X(q))²,  M = E φφᵀ
    cross: float  # −2 τ² ((D_β − I)φ(q))ᵀ E[w² ψ] / E[w]²


def attention_error_terms(
    beta: float,
    t_q: float,
    *,
    tau: float,
    sigma: float,
    degree: int = 2,
    n_grid: int = 4096,
) -> AttentionErrorTerms:
    """The coefficients of :class:`AttentionErrorTerms`, by quadrature over the key angle.

    Notation: ``w(t) = exp(β cos(t − t_q))`` (scaled by ``e^{−β}``, which cancels),
    ``a = E w``, ``ψ(t) = φ(t) − D_β φ(t_q)`` so that ``f_z(t) − m_β(t_q) = zᵀψ(t)``;
    per token ``U = w (v − m_β)`` and ``E = (w − a)/a``. The expectations over the uniform
    angle are computed with the periodic trapezoidal rule on ``n_grid`` nodes (exponentially
    accurate for these analytic periodic integrands), those over z and ε in closed form.
    """
    beta = check_positive("beta", beta, allow_zero=True)
    tau = check_positive("tau", tau)
    sigma = check_positive("sigma", sigma)
    n_grid = check_int("n_grid", n_grid, minimum=16)
    t = 2 * np.pi * np.arange(n_grid) / n_grid
    w = np.exp(beta * (np.cos(t - t_q) - 1.0))
    a = w.mean()
    D = smoothing_factors(beta, degree)
    phq = fourier_features(t_q, degree)
    psi = fourier_features(t, degree) - D * phq  # (n_grid, p)
    b = (D - 1.0) * phq  # m_β − f_z(q) = zᵀ b
    d2 = tau**2 * (psi**2).sum(-1) + sigma**2  # E_{z,ε} (v − m_β)²  given t
    s_uu = (w**2 * d2).mean()
    s_ee = (w**2).mean() / a**2 - 1.0
    g = (w[:, None] ** 2 * psi).mean(0) / a  # σ_UE = gᵀz
    k_uue = (w**2 * d2 * (w - a)).mean() / a
    m_inv = np.concatenate([[1.0], np.full(2 * degree, 2.0)])  # M⁻¹ (diagonal)
    return AttentionErrorTerms(
        bias2=float(tau**2 * b @ b),
        s2=float(s_uu / a**2),
        c2=float((-2 * k_uue + 3 * s_uu * s_ee + 6 * tau**2 * g @ g) / a**2),
        # σ²(φᵀM⁻¹φ − 2(Dφ)ᵀM⁻¹φ) [noise] + 2σ² bᵀM⁻¹φ [bias × shrinkage] = −σ² φᵀM⁻¹φ
        posterior=float(
            sigma**2 * (phq @ (m_inv * phq) - 2 * (D * phq) @ (m_inv * phq))
            + 2 * sigma**2 * (b @ (m_inv * phq))
        ),
        cross=float(-2 * tau**2 * (b @ g) / a),
    )


def predicted_attention_mse(
    L, terms: AttentionErrorTerms, target: str = "smoothed"
) -> np.ndarray:
    """MSE of softmax attention predicted by :func:`attention_error_terms`, for lengths ``L``.

    ``target="smoothed"``: ``s2/L + c2/L²`` (error to m_β(q));
    ``target="posterior"``: ``bias2 + (s2 + posterior + cross)/L + c2/L²`` (error to g_X(q)).
    """
    L = np.asarray(L, dtype=float)
    if np.any(L < 1):
        raise ValueError("L must be >= 1")
    if target == "smoothed":
        return terms.s2 / L + terms.c2 / L**2
    if target == "posterior":
        return (
            terms.bias2
            + (terms.s2 + terms.posterior + terms.cross) / L
            + terms.c2 / L**2
        )
    raise ValueError(f"target must be 'smoothed' or 'posterior', got {target!r}")


def readout_matrix(t_heads, beta: float, degree: int = 2) -> np.ndarray:
    """The multi-head linear readout ``A = (Φ_Q D_β)⁺``, shape ``(2D + 1, H)``.

    Row h of ``Φ_Q`` is ``φ(t_h)`` for the query angle ``t_h`` of head h, and
    ``D_β = diag(smoothing_factors(β))``. For uniform keys the smoothed means of the heads are
    exactly ``Φ_Q D_β z``, so ``ẑ = A (attn_h)_h`` recovers the component of z in the row space
    of ``Φ_Q D_β`` (all of z when ``H ≥ 2D + 1`` and ``Φ_Q`` has full column rank).
    """
    beta = check_positive("beta", beta, allow_zero=True)
    t_heads = np.asarray(t_heads, dtype=float)
    if t_heads.ndim != 1 or t_heads.size < 1:
        raise ValueError(
            f"t_heads must be a non-empty 1-d array of angles, got shape {t_heads.shape}"
        )
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
    """First-order covariance ``V`` with ``√L (ẑ − μ_X − (P − I) z) → N(0, V)``, shape ``(p, p)``.

    To first order ``ẑ − μ_X = (P − I) z + (1/L) Σ_ℓ ψ(t_ℓ, ε_ℓ)`` with ``P = A Φ_Q D_β`` and
    ``ψ = A u − M⁻¹ φ(t) ε``, ``u_h = w_h(t)(zᵀψ_h(t) + ε)/a``, ``w_h = e^{β cos(t − t_h)}``,
    ``a = E w_h``, ``ψ_h = φ(t) − D_β φ(t_h)``, ``M = E φφᵀ`` (the second term is the
    first-order expansion of ``z − μ_X``). Averaging over ``z ~ N(0, τ² I)`` and ``ε``:
    ``V = E_t[τ² (A B)(A B)ᵀ + σ² e eᵀ]`` with ``B_h = w_h ψ_hᵀ/a`` and ``e = A c − M⁻¹φ(t)``,
    ``c_h = w_h/a`` (trapezoidal rule over t on ``n_grid`` nodes).

    With ``z`` given (shape ``(..., p)``) returns instead the covariance *conditional on z*,
    ``V(z) = E_t[(A B z)(A B z)ᵀ + σ² e eᵀ]``, shape ``(..., p, p)`` (its average over
    ``z ~ N(0, τ² I)`` is the unconditional ``V``). Given z the fluctuation is asymptotically
    ``N(0, V(z))``, so unconditionally it is a scale mixture of Gaussians, not ``N(0, V)``.
    """
    tau = check_positive("tau", tau)
    sigma = check_positive("sigma", sigma)
    n_grid = check_int("n_grid", n_grid, minimum=16)
    A = readout_matrix(t_heads, beta, degree)  # (p, H)
    t_heads = np.asarray(t_heads, dtype=float)
    Dq = fourier_features(t_heads, degree) * smoothing_factors(beta, degree)  # (H, p)
    t = 2 * np.pi * np.arange(n_grid) / n_grid
    phi = fourier_features(t, degree)  # (N, p)
    w = np.exp(beta * (np.cos(t[:, None] - t_heads[None, :]) - 1.0))  # (N, H)
    c = w / w.mean(0)  # same a for every head
    B = c[:, :, None] * (phi[:, None, :] - Dq[None, :, :])  # (N, H, p)
    AB = np.einsum("ph,nhk->npk", A, B)  # (N, p, p)
    m_inv = np.concatenate([[1.0], np.full(2 * degree, 2.0)])
    e = c @ A.T - m_inv * phi  # (N, p)
    noise = sigma**2 * e.T @ e / n_grid
    if z is None:
        return tau**2 * np.einsum("npk,nqk->pq", AB, AB) / n_grid + noise
    z = np.asarray(z, dtype=float)
    if z.shape[-1:] != (A.shape[0],):
        raise ValueError(f"z must have shape (..., {A.shape[0]}), got {z.shape}")
    T4 = np.einsum("npk,nql->pkql", AB, AB) / n_grid
    return np.einsum("pkql,...k,...l->...pq", T4, z, z) + noise


def multihead_error_terms(
    t_heads,
    beta: float,
    *,
    tau: float,
    sigma: float,
    degree: int = 2,
    n_grid: int = 4096,
) -> tuple[float, float]:
    """``(floor, v)`` with ``E‖ẑ − μ_X‖² = floor + v/L + o(1/L)`` for the readout of :func:`readout_matrix`.

    ``floor = τ² (p − rank(Φ_Q D_β))`` is the part of z the heads cannot see and
    ``v = tr V − 2σ² tr((I − P) M⁻¹)`` with V of :func:`multihead_error_covariance` and
    ``P = A Φ_Q D_β`` the projection onto the row space. The second term is the covariance of
    the floor ``(P − I) z`` with the prior shrinkage ``Σ_X z/τ² ≈ σ² M⁻¹ z/(τ² L)`` contained in
    ``z − μ_X``; it vanishes when ``P = I`` (``H ≥ 2D + 1`` heads of full rank). (The covariance
    of ``(P − I) z`` with the heads' O(1/L) ratio bias vanishes because ``(I − P) A = 0``.)
    """
    tau = check_positive("tau", tau)
    sigma = check_positive("sigma", sigma)
    Dq = fourier_features(np.asarray(t_heads, dtype=float), degree) * smoothing_factors(
        beta, degree
    )
    V = multihead_error_covariance(
        t_heads, beta, tau=tau, sigma=sigma, degree=degree, n_grid=n_grid
    )
    P = readout_matrix(t_heads, beta, degree) @ Dq
    m_inv = np.concatenate([[1.0], np.full(2 * degree, 2.0)])
    shrink = -2 * sigma**2 * float(np.sum((np.eye(P.shape[0]) - P).diagonal() * m_inv))
    return float(tau**2 * (V.shape[0] - np.linalg.matrix_rank(Dq))), float(
        np.trace(V)
    ) + shrink
