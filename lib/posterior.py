"""The posterior over finitely many latent atoms is softmax attention (Chapter 3, Part A).

Model: a latent ``z`` takes one of ``m`` values ``z_1..z_m`` with prior ``π_j`` and, given ``z``,
tokens are i.i.d. from an exponential family ``p(x | z) = h(x) exp(η(z)·T(x) − A(z))``. Then

    π(z_j | X) ∝ π_j Π_ℓ p(x_ℓ | z_j) ∝ exp(⟨q(X), k_j⟩),
    q(X) = (Σ_ℓ T(x_ℓ), L, 1),     k_j = (η(z_j), −A(z_j), log π_j),

because ``Σ_ℓ log h(x_ℓ)`` does not depend on ``j`` and cancels in the normalisation. The
posterior is therefore the softmax of the scores ``⟨q(X), k_j⟩`` (inverse temperature 1), and
the posterior mean of any ``g(z)`` is softmax attention with values ``g(z_j)``.

Natural parameters of the families used in the book:

- Bernoulli(p):        ``T(x) = x``,      ``η = log(p/(1−p))``, ``A = −log(1−p)``;
- Normal(μ, σ²), σ known: ``T(x) = x``, ``η = μ/σ²``,        ``A = μ²/(2σ²)``
  (``h(x) = exp(−x²/(2σ²))/√(2πσ²)``);
- Categorical(p_1..p_C): ``T(x) = onehot(x)``, ``η = (log p_1..log p_C)``, ``A = 0``.
"""

from __future__ import annotations

import numpy as np
import torch

from lib.attention import softmax_attention
from lib.validation import check_positive, check_probability


def posterior_query(suff_stat, L) -> np.ndarray:
    """The query ``q(X) = (Σ_ℓ T(x_ℓ), L, 1)``, shape ``(..., d_T + 2)``.

    ``suff_stat`` is ``Σ_ℓ T(x_ℓ)`` of shape ``(..., d_T)``; ``L`` (number of tokens) is a
    non-negative number or an array broadcastable to ``(...)``.
    """
    S = np.asarray(suff_stat, dtype=float)
    if S.ndim < 1:
        raise ValueError(f"suff_stat must have shape (..., d_T), got {S.shape}")
    Larr = np.asarray(L, dtype=float)
    if np.any(Larr < 0) or not np.all(np.isfinite(Larr)):
        raise ValueError("L must be finite and >= 0")
    Larr = np.broadcast_to(Larr, S.shape[:-1])[..., None]
    return np.concatenate([S, Larr, np.ones_like(Larr)], axis=-1)


def posterior_keys(eta, log_partition, prior) -> np.ndarray:
    """The keys ``k_j = (η(z_j), −A(z_j), log π_j)``, shape ``(m, d_T + 2)``.

    ``eta`` (m, d_T) natural parameters, ``log_partition`` (m,) the ``A(z_j)``, ``prior`` (m,)
    prior probabilities (non-negative, summing to one; a zero gives the key ``−inf`` weight,
    represented by a very negative finite score so that the softmax stays finite).
    """
    eta = np.asarray(eta, dtype=float)
    A = np.asarray(log_partition, dtype=float)
    prior = check_probability("prior", prior)
    if eta.ndim != 2:
        raise ValueError(f"eta must have shape (m, d_T), got {eta.shape}")
    m = eta.shape[0]
    if A.shape != (m,):
        raise ValueError(f"log_partition must have shape ({m},), got {A.shape}")
    if prior.shape != (m,):
        raise ValueError(f"prior must have shape ({m},), got {prior.shape}")
    if not np.isclose(prior.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"prior must sum to one, got {prior.sum()!r}")
    if not (np.all(np.isfinite(eta)) and np.all(np.isfinite(A))):
        raise ValueError("eta and log_partition must be finite")
    with np.errstate(divide="ignore"):
        log_prior = np.where(prior > 0, np.log(prior), -1e300)
    return np.concatenate([eta, -A[:, None], log_prior[:, None]], axis=-1)


def atom_posterior(suff_stat, L, eta, log_partition, prior) -> np.ndarray:
    """Posterior probabilities ``π(z_j | X) = softmax_j(⟨q(X), k_j⟩)``, shape ``(..., m)``.

    Computed by :func:`lib.attention.softmax_attention` with one query per sequence, the keys
    of :func:`posterior_keys` and the identity matrix as values.
    """
    q = torch.from_numpy(posterior_query(suff_stat, L))[..., None, :]
    K = torch.from_numpy(posterior_keys(eta, log_partition, prior))
    if q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"suff_stat has d_T = {q.shape[-1] - 2} but eta has d_T = {K.shape[-1] - 2}"
        )
    _, w = softmax_attention(
        q, K, torch.eye(K.shape[0], dtype=K.dtype), beta=1.0, return_weights=True
    )
    return w[..., 0, :].numpy()


def atom_posterior_mean(suff_stat, L, eta, log_partition, prior, values) -> np.ndarray:
    """Posterior mean ``E[g(z) | X] = Σ_j softmax_j(⟨q(X), k_j⟩) g(z_j)``: softmax attention.

    ``values`` (m, d_v) are ``g(z_j)``; returns shape ``(..., d_v)``.
    """
    q = torch.from_numpy(posterior_query(suff_stat, L))[..., None, :]
    K = torch.from_numpy(posterior_keys(eta, log_partition, prior))
    V = np.asarray(values, dtype=float)
    if V.ndim != 2 or V.shape[0] != K.shape[0]:
        raise ValueError(f"values must have shape ({K.shape[0]}, d_v), got {V.shape}")
    if q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"suff_stat has d_T = {q.shape[-1] - 2} but eta has d_T = {K.shape[-1] - 2}"
        )
    return softmax_attention(q, K, torch.from_numpy(V), beta=1.0)[..., 0, :].numpy()


def bernoulli_natural(p) -> tuple[np.ndarray, np.ndarray]:
    """Bernoulli atoms ``p_j ∈ (0, 1)``: ``η = log(p/(1−p))`` (m, 1) and ``A = −log(1−p)`` (m,)."""
    p = check_probability("p", p).reshape(-1)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("p must lie strictly between 0 and 1")
    return np.log(p / (1 - p))[:, None], -np.log1p(-p)


def gaussian_natural(mu, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Normal(μ_j, σ²) atoms, σ known: ``η = μ/σ²`` (m, 1) and ``A = μ²/(2σ²)`` (m,)."""
    s = check_positive("sigma", sigma)
    mu = np.asarray(mu, dtype=float).reshape(-1)
    if not np.all(np.isfinite(mu)):
        raise ValueError("mu must be finite")
    return (mu / s**2)[:, None], mu**2 / (2 * s**2)


def categorical_natural(probs) -> tuple[np.ndarray, np.ndarray]:
    """Categorical atoms with probabilities ``probs`` (m, C), all > 0: ``η = log p`` (m, C), ``A = 0``."""
    P = check_probability("probs", probs)
    if P.ndim != 2:
        raise ValueError(f"probs must have shape (m, C), got {P.shape}")
    if np.any(P <= 0):
        raise ValueError(
            "probs must be > 0 (a zero probability has natural parameter −inf)"
        )
    if not np.allclose(P.sum(-1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("each row of probs must sum to one")
    return np.log(P), np.zeros(P.shape[0])
