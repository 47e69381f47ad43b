"""Attention as a kernel smoother: softmax attention, Nadaraya–Watson and CME attention.

All three map queries ``q`` of shape ``(..., M, d)``, keys ``K`` of shape ``(..., L, d)`` and
values ``V`` of shape ``(..., L, d_v)`` to outputs of shape ``(..., M, d_v)``; leading
dimensions broadcast, so a whole experiment (repetitions × sequences × heads) is one call.
Inputs may be torch tensors or array-likes; outputs are torch tensors.

- softmax attention: ``Σ_ℓ softmax_ℓ(β q·k_ℓ) v_ℓ``;
- Nadaraya–Watson:   ``Σ_ℓ κ_h(q, k_ℓ) v_ℓ / Σ_ℓ κ_h(q, k_ℓ)`` with the Gaussian kernel
  ``κ_h(q, k) = exp(-‖q - k‖² / (2h²))``; for unit-norm keys it equals softmax attention with
  ``β = 1/h²`` (Chapter 3);
- CME attention:     ``k_K(q)ᵀ (G + Lλ I)⁻¹ V`` with ``G = κ_h(K, K)``: kernel ridge regression.
"""

from __future__ import annotations

import torch

from lib.validation import check_positive

Tensorish = torch.Tensor | float


def _as_tensor(name: str, x) -> torch.Tensor:
    t = torch.as_tensor(x)
    if not (t.is_floating_point() or t.is_complex()):
        t = t.to(torch.float64)
    if t.ndim < 2:
        raise ValueError(
            f"{name} must have shape (..., n, d) with at least 2 dimensions, got {tuple(t.shape)}"
        )
    if not torch.all(torch.isfinite(t)):
        raise ValueError(f"{name} must be finite")
    return t


def _check_qkv(q, K, V) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    q, K, V = _as_tensor("q", q), _as_tensor("K", K), _as_tensor("V", V)
    dtype = torch.promote_types(torch.promote_types(q.dtype, K.dtype), V.dtype)
    q, K, V = q.to(dtype), K.to(dtype), V.to(dtype)
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(
            f"K and V must have the same length L, got {K.shape[-2]} and {V.shape[-2]}"
        )
    if K.shape[-2] < 1:
        raise ValueError("K must contain at least one key (L >= 1)")
    if q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"q and K must have the same dimension d, got {q.shape[-1]} and {K.shape[-1]}"
        )
    try:
        torch.broadcast_shapes(q.shape[:-2], K.shape[:-2], V.shape[:-2])
    except RuntimeError as err:
        raise ValueError(
            f"leading (batch) dimensions of q, K, V do not broadcast: {err}"
        ) from None
    return q, K, V


def attention_weights(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, stable for any finite scores (the max is subtracted)."""
    return torch.softmax(scores, dim=-1)


def softmax_attention(q, K, V, beta: Tensorish = 1.0, *, return_weights: bool = False):
    """Softmax attention ``Σ_ℓ softmax_ℓ(β q·k_ℓ) v_ℓ``, shape ``(..., M, d_v)``.

    ``beta`` is the inverse temperature: a number or a tensor broadcastable against the
    scores ``(..., M, L)`` (e.g. shape ``(G, 1, 1, 1)`` to evaluate a grid of β in one call;
    it may require grad). With ``return_weights`` also returns the weights ``(..., M, L)``.
    """
    q, K, V = _check_qkv(q, K, V)
    beta = torch.as_tensor(beta, dtype=q.dtype)
    if not torch.all(torch.isfinite(beta)):
        raise ValueError("beta must be finite")
    scores = q @ K.transpose(-1, -2)
    try:
        torch.broadcast_shapes(beta.shape, scores.shape)
    except RuntimeError:
        raise ValueError(
            f"beta of shape {tuple(beta.shape)} does not broadcast against the scores of shape {tuple(scores.shape)}"
        ) from None
    weights = attention_weights(beta * scores)
    out = weights @ V
    return (out, weights) if return_weights else out


def gaussian_kernel(X, Y, bandwidth: float) -> torch.Tensor:
    """Gram matrix ``exp(-‖x_i - y_j‖² / (2h²))`` of shape ``(..., n, m)`` for X ``(..., n, d)``, Y ``(..., m, d)``."""
    h = check_positive("bandwidth", bandwidth)
    X, Y = _as_tensor("X", X), _as_tensor("Y", Y)
    dtype = torch.promote_types(X.dtype, Y.dtype)
    X, Y = X.to(dtype), Y.to(dtype)
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"X and Y must have the same dimension d, got {X.shape[-1]} and {Y.shape[-1]}"
        )
    sq = (
        (X * X).sum(-1)[..., :, None]
        + (Y * Y).sum(-1)[..., None, :]
        - 2 * X @ Y.transpose(-1, -2)
    )
    return torch.exp(-sq.clamp_min(0) / (2 * h * h))


def nadaraya_watson(q, K, V, bandwidth: float, *, return_weights: bool = False):
    """Gaussian-kernel Nadaraya–Watson regression of V on K at the queries, shape ``(..., M, d_v)``.

    Weights ``∝ exp(-‖q - k_ℓ‖²/(2h²))``, computed as a softmax of the equivalent scores
    ``(q·k_ℓ - ‖k_ℓ‖²/2)/h²`` (the ``‖q‖²`` term is constant in ℓ), so it never underflows.
    """
    h = check_positive("bandwidth", bandwidth)
    q, K, V = _check_qkv(q, K, V)
    scores = (q @ K.transpose(-1, -2) - 0.5 * (K * K).sum(-1)[..., None, :]) / (h * h)
    weights = attention_weights(scores)
    out = weights @ V
    return (out, weights) if return_weights else out


def cme_attention(q, K, V, bandwidth: float, lam: float) -> torch.Tensor:
    """Conditional-mean-embedding attention ``k_K(q)ᵀ (G + Lλ I)⁻¹ V``, shape ``(..., M, d_v)``.

    ``G = κ_h(K, K)`` is the ``(..., L, L)`` Gaussian Gram matrix and ``k_K(q) = κ_h(K, q)``;
    this is kernel ridge regression of the values on the keys with penalty ``λ ≥ 0``.
    With ``lam = 0`` the Gram matrix must be invertible: a singular ``G + Lλ I`` (e.g. repeated
    keys, or a bandwidth so large that the keys are indistinguishable) raises ``ValueError``.
    """
    h = check_positive("bandwidth", bandwidth)
    lam = check_positive("lam", lam, allow_zero=True)
    q, K, V = _check_qkv(q, K, V)
    L = K.shape[-2]
    G = gaussian_kernel(K, K, h)
    eye = torch.eye(L, dtype=G.dtype)
    alpha, info = torch.linalg.solve_ex(G + L * lam * eye, V)
    if torch.any(info != 0) or not torch.all(torch.isfinite(alpha)):
        raise ValueError(
            f"G + L·lam·I is singular (lam = {lam}, bandwidth = {h}): use lam > 0 or distinct keys"
        )
    return gaussian_kernel(q, K, h) @ alpha
