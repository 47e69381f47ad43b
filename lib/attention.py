"""Attention as a kernel smoother: softmax attention, Nadaraya–Watson and CME
attention.

All three map queries ``q`` of shape ``(..., M, d)``, keys ``K`` of shape
``(..., L, d)`` and values ``V`` of shape ``(..., L, d_v)`` to outputs of shape
``(..., M, d_v)``; leading dimensions broadcast, so a whole experiment (repetitions ×
sequences × heads) is one call. Inputs may be torch tensors or array-likes; **outputs
are torch tensors** (float64 unless the inputs are floating tensors of another dtype).

- softmax attention: ``Σ_ℓ softmax_ℓ(β q·k_ℓ) v_ℓ``;
- Nadaraya–Watson: ``Σ_ℓ κ_h(q, k_ℓ) v_ℓ / Σ_ℓ κ_h(q, k_ℓ)`` with the
  Gaussian kernel ``κ_h(q, k) = exp(-‖q - k‖² / (2h²))``; for unit-norm keys it
  equals softmax attention with ``β = 1/h²`` (Chapter 3);
- CME attention: ``k_K(q)ᵀ (G + Lλ I)⁻¹ V`` with ``G = κ_h(K, K)``: kernel ridge
  regression.

Softmax attention and Nadaraya–Watson run on torch's fused
``scaled_dot_product_attention`` (the softmax never materialises the ``(M, L)``
weights unless asked for them). Validation is cheap on the fast path: types and shapes
are checked up front, finiteness through the output and one sum of each input; only
when one of these is not finite are the inputs inspected elementwise, to name the
culprit, or the computation repeated in float64 when finite inputs overflowed.

Examples
--------
>>> import torch
>>> q = torch.tensor([[1.0, 0.0]])
>>> K = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
>>> V = torch.tensor([[1.0], [0.0]])
>>> round(float(softmax_attention(q, K, V, beta=0.0)), 6)
0.5
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lib.validation import (
    InputTypeError,
    check_bool,
    check_broadcast,
    check_positive,
    check_tensor,
)

__all__ = [
    "attention_weights",
    "cme_attention",
    "gaussian_kernel",
    "nadaraya_watson",
    "softmax_attention",
]

Tensorish = torch.Tensor | float


# ----------------------------------------------------------------------------- checks
def _as_tensor(name: str, x) -> torch.Tensor:
    """A real floating tensor with at least 2 dims; data checked only if converted."""
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise InputTypeError(f"{name} must be real, got a complex tensor")
        if x.dtype == torch.bool:
            raise InputTypeError(f"{name} must be numeric, not boolean")
        t = x if x.is_floating_point() else x.to(torch.float64)
    else:
        t = check_tensor(name, x)
    if t.ndim < 2:
        raise ValueError(
            f"{name} must have shape (..., n, d) with at least 2 dimensions,"
            f" got {tuple(t.shape)}"
        )
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
    if q.shape[-1] < 1:
        raise ValueError("q and K must have at least one coordinate (d >= 1)")
    if V.shape[-1] < 1:
        raise ValueError("V must have at least one coordinate (d_v >= 1)")
    if q.shape[-1] != K.shape[-1]:
        raise ValueError(
            "q and K must have the same dimension d,"
            f" got {q.shape[-1]} and {K.shape[-1]}"
        )
    batch = dict(q=q.shape[:-2], K=K.shape[:-2], V=V.shape[:-2])
    check_broadcast("the batch dimensions", batch)
    return q, K, V


def _bandwidth(bandwidth) -> float:
    h = check_positive("bandwidth", bandwidth)
    if h * h == 0.0 or not math.isfinite(1.0 / (h * h)):
        raise ValueError(f"bandwidth is too small: 1/h² overflows (h = {h!r})")
    return h


def _finite_output(out: torch.Tensor, named: dict[str, torch.Tensor]) -> bool:
    """True if ``out`` and the inputs are finite; else raise naming a non-finite input,
    or return False (finite inputs, non-finite output: an overflow).

    Cheap on the fast path: the inputs are checked through their sums (one reduction
    each; a ``-inf`` key entry can mask its key and leave the output finite), and only
    a non-finite sum or output leads to the elementwise diagnosis.
    """
    sums_finite = all(bool(torch.isfinite(t.sum())) for t in named.values())
    if sums_finite and bool(torch.isfinite(out).all()):
        return True
    for name, t in named.items():
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    return bool(torch.isfinite(out).all())  # finite inputs whose sum overflowed


# ----------------------------------------------------------------------------- softmax
def attention_weights(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, stable for any finite scores (the max is subtracted).

    A score of ``-inf`` masks its position (weight exactly 0), as in causal or
    masked attention; every row must keep at least one finite score.

    Parameters
    ----------
    scores : torch.Tensor
        Scores ``(..., M, L)``, finite or ``-inf``.

    Returns
    -------
    torch.Tensor
        Weights of the same shape, non-negative, summing to 1 along the last axis.

    Raises
    ------
    ValueError
        If ``scores`` holds NaN or ``+inf``, or a row is entirely ``-inf``.

    Examples
    --------
    >>> attention_weights(torch.tensor([0.0, float("-inf"), 0.0]))
    tensor([0.5000, 0.0000, 0.5000])
    """
    s = check_tensor("scores", scores, min_ndim=1, finite=False)
    if bool(torch.isnan(s).any()) or bool((s == torch.inf).any()):
        raise ValueError("scores must be finite or -inf (a masked position)")
    if s.shape[-1] == 0 or bool((s == -torch.inf).all(-1).any()):
        raise ValueError("scores must leave at least one position unmasked per row")
    return torch.softmax(s, dim=-1)


def _beta_tensor(beta, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(beta, torch.Tensor):
        if beta.is_complex() or beta.dtype == torch.bool:
            raise InputTypeError("beta must be a real number or a real tensor")
        b = beta.to(dtype)
    else:
        b = check_tensor("beta", beta, dtype=dtype)
    if not bool(torch.isfinite(b).all()):
        raise ValueError("beta must be finite")
    return b


def softmax_attention(q, K, V, beta: Tensorish = 1.0, *, return_weights: bool = False):
    """Softmax attention ``Σ_ℓ softmax_ℓ(β q·k_ℓ) v_ℓ``.

    Parameters
    ----------
    q, K, V : torch.Tensor or array_like
        Queries ``(..., M, d)``, keys ``(..., L, d)``, values ``(..., L, d_v)``;
        leading dimensions broadcast.
    beta : float or torch.Tensor
        Inverse temperature: a number, or a tensor broadcastable against the scores
        ``(..., M, L)`` (e.g. shape ``(G, 1, 1, 1)`` evaluates a grid of β in one
        call); it may require grad.
    return_weights : bool
        Also return the weights ``(..., M, L)``.

    Returns
    -------
    torch.Tensor
        Outputs ``(..., M, d_v)`` (and the weights if asked).

    Raises
    ------
    ValueError
        For mismatched or non-broadcasting shapes, an empty key set, or non-finite
        inputs (named).
    InputTypeError
        For complex, boolean or non-numeric inputs.
    FloatingPointError
        If ``β q·k`` overflows even in float64.

    Examples
    --------
    >>> import torch
    >>> q, K = torch.eye(2), torch.eye(2)
    >>> softmax_attention(q, K, K, beta=50.0).round(decimals=6)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return_weights = check_bool("return_weights", return_weights)
    q, K, V = _check_qkv(q, K, V)
    if type(beta) in (int, float) and not return_weights:
        # The common case, a plain number: it is SDPA's scale (which the kernel rounds
        # to q's precision, as a tensor β would be), and no tensor is made for it.
        if not math.isfinite(beta):
            raise ValueError("beta must be finite")
        b, qb, scale = None, q, float(beta)
    else:
        b = _beta_tensor(beta, q.dtype)
        scores_shape = (
            *torch.broadcast_shapes(q.shape[:-2], K.shape[:-2]),
            q.shape[-2],
            K.shape[-2],
        )
        check_broadcast("the shapes", dict(beta=b.shape, scores=scores_shape))
        if return_weights or (b.ndim > 0 and b.shape[-1] != 1):
            return _softmax_attention_explicit(q, K, V, b, return_weights)
        # β varies at most over queries and batches: fold it into the queries (fused).
        qb = q * b if b.ndim > 0 or b.requires_grad else q
        scale = 1.0 if b.ndim > 0 or b.requires_grad else float(b)
    out = F.scaled_dot_product_attention(qb, K, V, scale=scale)
    if _finite_output(out, {"q": q, "K": K, "V": V}):
        return out
    # finite inputs whose scores overflowed: again in float64, explicitly
    b64 = torch.tensor(scale, dtype=torch.float64) if b is None else b.double()
    out64 = _softmax_attention_explicit(q.double(), K.double(), V.double(), b64, False)
    return out64.to(q.dtype)


def _softmax_attention_explicit(q, K, V, b, return_weights):
    weights = torch.softmax(b * (q @ K.transpose(-1, -2)), dim=-1)
    out = weights @ V
    if not _finite_output(out, {"q": q, "K": K, "V": V}):
        if q.dtype != torch.float64:
            return _softmax_attention_explicit(
                q.double(), K.double(), V.double(), b.double(), return_weights
            )
        msg = "beta·q·k overflows float64: scale beta, q or K down"
        raise FloatingPointError(msg)
    return (out, weights) if return_weights else out


# ----------------------------------------------------------------------------- kernels
def gaussian_kernel(X, Y, bandwidth: float) -> torch.Tensor:
    """Gram matrix ``exp(-‖x_i - y_j‖² / (2h²))``.

    The squared distances are sums of squared differences (not
    ``‖x‖² + ‖y‖² - 2x·y``, which cancels catastrophically for points far
    from the origin).

    Parameters
    ----------
    X, Y : torch.Tensor or array_like
        Points ``(..., n, d)`` and ``(..., m, d)``.
    bandwidth : float
        ``h > 0``, with ``1/h²`` finite.

    Returns
    -------
    torch.Tensor
        ``(..., n, m)``.

    Raises
    ------
    ValueError
        For a bad bandwidth, mismatched dimensions or non-finite points.

    Examples
    --------
    >>> round(float(gaussian_kernel([[1e8, 0.0]], [[1e8 + 1, 0.0]], 1.0)), 4)
    0.6065
    """
    h = _bandwidth(bandwidth)
    X, Y = _as_tensor("X", X), _as_tensor("Y", Y)
    dtype = torch.promote_types(X.dtype, Y.dtype)
    X, Y = X.to(dtype), Y.to(dtype)
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            "X and Y must have the same dimension d,"
            f" got {X.shape[-1]} and {Y.shape[-1]}"
        )
    for name, t in (("X", X), ("Y", Y)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    sq = ((X[..., :, None, :] - Y[..., None, :, :]) ** 2).sum(-1)
    return torch.exp(-sq / (2 * h * h))


def nadaraya_watson(q, K, V, bandwidth: float, *, return_weights: bool = False):
    """Gaussian-kernel Nadaraya–Watson regression of ``V`` on ``K`` at the queries.

    Weights ``∝ exp(-‖q - k_ℓ‖²/(2h²))``, computed as the softmax of the
    equivalent scores ``(q·k_ℓ - ‖k_ℓ‖²/2)/h²`` (the ``‖q‖²`` term is
    constant in ℓ) after centring queries and keys at the keys' mean (distances are
    translation invariant; centring removes the cancellation for data far from the
    origin). The fused attention kernel computes them: scale ``1/h²`` on ``q·k_ℓ``,
    and ``-‖k_ℓ‖²/(2h²)`` as an additive mask.

    Parameters
    ----------
    q, K, V : torch.Tensor or array_like
        Queries ``(..., M, d)``, keys ``(..., L, d)``, values ``(..., L, d_v)``.
    bandwidth : float
        ``h > 0``, with ``1/h²`` finite.
    return_weights : bool
        Also return the weights ``(..., M, L)``.

    Returns
    -------
    torch.Tensor
        ``(..., M, d_v)`` (and the weights if asked).

    Raises
    ------
    ValueError
        For a bad bandwidth, mismatched shapes or non-finite inputs (named).
    FloatingPointError
        If the scores overflow even in float64.

    Examples
    --------
    >>> out = nadaraya_watson([[0.0]], [[0.0], [1.0]], [[1.0], [0.0]], bandwidth=1.0)
    >>> round(float(out), 4)  # weights ∝ 1 and exp(-1/2)
    0.6225
    """
    h = _bandwidth(bandwidth)
    return_weights = check_bool("return_weights", return_weights)
    q, K, V = _check_qkv(q, K, V)
    centre = K.mean(-2, keepdim=True)
    qc, Kc = q - centre, K - centre
    inv = 1.0 / (h * h)
    if return_weights:
        scores = (
            qc @ Kc.transpose(-1, -2) - 0.5 * (Kc * Kc).sum(-1)[..., None, :]
        ) * inv
        weights = torch.softmax(scores, dim=-1)
        out = weights @ V
        if not _finite_output(out, {"q": q, "K": K, "V": V}):
            raise FloatingPointError("the kernel scores overflow: increase bandwidth")
        return out, weights
    # -‖q - k‖²/2h² = (q·k - ‖k‖²/2)/h² - ‖q‖²/2h², and the last term
    # cancels in the softmax: the fused kernel with scale 1/h² and the keys'
    # term as an additive mask
    bias = (-0.5 * inv) * (Kc * Kc).sum(-1)[..., None, :]
    out = F.scaled_dot_product_attention(qc, Kc, V, attn_mask=bias, scale=inv)
    if _finite_output(out, {"q": q, "K": K, "V": V}):
        return out
    if q.dtype != torch.float64:
        return nadaraya_watson(q.double(), K.double(), V.double(), h).to(q.dtype)
    raise FloatingPointError("the kernel scores overflow float64: increase bandwidth")


def cme_attention(q, K, V, bandwidth: float, lam: float) -> torch.Tensor:
    """Conditional-mean-embedding attention ``k_K(q)ᵀ (G + Lλ I)⁻¹ V``.

    ``G = κ_h(K, K)`` is the ``(..., L, L)`` Gaussian Gram matrix and
    ``k_K(q) = κ_h(K, q)``: kernel ridge regression of the values on the keys with
    penalty ``λ ≥ 0``.

    Parameters
    ----------
    q, K, V : torch.Tensor or array_like
        Queries ``(..., M, d)``, keys ``(..., L, d)``, values ``(..., L, d_v)``.
    bandwidth : float
        ``h > 0``.
    lam : float
        Ridge penalty ``λ ≥ 0``.

    Returns
    -------
    torch.Tensor
        ``(..., M, d_v)``.

    Raises
    ------
    ValueError
        For bad arguments, or a singular ``G + Lλ I`` (e.g. ``lam = 0`` with repeated
        keys, or a bandwidth so large that the keys are indistinguishable).

    Examples
    --------
    >>> K = [[0.0], [1.0], [2.0]]
    >>> out = cme_attention([[1.0]], K, [[0.0], [1.0], [2.0]], bandwidth=0.5, lam=0.0)
    >>> round(float(out), 6)  # interpolates the values at the keys
    1.0
    """
    h = _bandwidth(bandwidth)
    lam = check_positive("lam", lam, allow_zero=True)
    q, K, V = _check_qkv(q, K, V)
    for name, t in (("q", q), ("K", K), ("V", V)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    L = K.shape[-2]
    G = gaussian_kernel(K, K, h)
    eye = torch.eye(L, dtype=G.dtype)
    alpha, info = torch.linalg.solve_ex(G + L * lam * eye, V)
    if torch.any(info != 0) or not bool(torch.isfinite(alpha).all()):
        raise ValueError(
            f"G + L·lam·I is singular (lam = {lam}, bandwidth = {h}):"
            " use lam > 0 or distinct keys"
        )
    return gaussian_kernel(q, K, h) @ alpha
