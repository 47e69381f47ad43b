"""Self-supervised masked-token prediction and transfer to a downstream task (Chapter 5).

Tokens come from the circle model of :mod:`lib.circle`: angles ``t_ℓ``, keys ``k_ℓ = (cos t_ℓ, sin t_ℓ)``,
values ``v_ℓ = z·φ(t_ℓ) + ε_ℓ``. The parameter is the inverse temperature β of softmax attention,
always passed as a 1-d grid of ``G`` values; outputs carry that grid as their leading axis.

- **Masked prediction** (pretraining). The positions are cut into ``⌊L/m⌋`` consecutive blocks of
  ``m = n_mask`` tokens; each block is masked in turn and each of its tokens is predicted by
  attention queried with its own key over the ``L − m`` tokens outside the block:
  ``attn_β(k_ℓ; X_{−b(ℓ)}) = Σ_{j∉b(ℓ)} softmax_j(β k_ℓ·k_j) v_j`` (scores of the block set to −∞;
  ``m = 1`` is leave-one-out with the diagonal masked). The per-sequence loss is the mean of
  ``(v_ℓ − attn)²`` over the masked positions, and the pretraining risk is its expectation
  ``R_pre(β)``.
- **Given the keys**, both risks are quadratic forms in ``(z, ε)``, so their conditional expectation
  needs only ``Var z = s_z² I`` and ``Var ε = s_ε²``: with ``W`` the masked weight matrix,
  ``E[loss | t] = (1/n_t) Σ_ℓ s_z² ‖(e_ℓ − w_ℓ)ᵀΦ‖² + s_ε² ‖e_ℓ − w_ℓ‖²``. Averaging this over many key
  draws estimates ``R_pre`` with Monte Carlo error over the keys only (Rao–Blackwellisation).
- **Downstream.** ``y = a·z + η``; the representation is ``r_β(X) = (attn_β(q_h; X))_{h≤H}`` at fixed
  query angles; the head is the best ridge-penalised linear head,
  ``R_down(β) = min_w E[(y − wᵀr_β)²] + λ‖w‖² = E y² − bᵀ(A + λI)⁻¹b`` with ``A = E[r rᵀ]``,
  ``b = E[r y]``.
- **Transfer constants** on a parameter grid with pretraining optimum θ°:
  ``κ = sup_θ ΔR_down/ΔR_pre`` and ``κ' = sup_θ |ΔR_down|/sqrt(ΔR_pre)`` (``Δ`` = difference with θ°),
  and their local (curvature) versions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from lib.attention import attention_weights, softmax_attention
from lib.circle import (
    CircleSample,
    fourier_features,
    linear_gaussian_posterior,
    sample_circle_model,
    unit_circle,
)
from lib.validation import check_int, check_positive, check_rng

__all__ = [
    "sample_key_angles",
    "sample_pretraining_sequences",
    "mask_blocks",
    "masked_attention_weights",
    "masked_predictions",
    "masked_loss",
    "masked_risk_given_keys",
    "masked_bayes_risk_given_keys",
    "representation",
    "downstream_moments_given_keys",
    "DownstreamFit",
    "downstream_risk",
    "downstream_per_sequence",
    "RiskCurves",
    "risk_curves",
    "pretraining_optimum",
    "LocalTransferMC",
    "local_transfer_mc",
    "TransferConstants",
    "transfer_constants",
    "LocalTransfer",
    "local_transfer_constants",
]


# ----------------------------------------------------------------------------- input checks
def _grid(beta) -> torch.Tensor:
    b = np.atleast_1d(np.asarray(beta, dtype=float))
    if b.ndim != 1 or b.size == 0:
        raise ValueError(
            f"beta must be a number or a non-empty 1-d grid, got shape {b.shape}"
        )
    if not np.all(np.isfinite(b)) or np.any(b < 0):
        raise ValueError("beta must be finite and >= 0")
    return torch.as_tensor(b, dtype=torch.float64)


def _angles(name: str, t, min_len: int = 1) -> torch.Tensor:
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    arr = np.array(t, dtype=float)  # a copy: torch needs a writable array
    if arr.ndim < 1 or arr.shape[-1] < min_len:
        raise ValueError(
            f"{name} must have shape (..., L) with L >= {min_len}, got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return torch.as_tensor(arr, dtype=torch.float64)


def _values(v, t: torch.Tensor) -> torch.Tensor:
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().numpy()
    arr = np.array(v, dtype=float)
    if arr.shape != tuple(t.shape):
        raise ValueError(
            f"v must have the shape of t {tuple(t.shape)}, got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("v must be finite")
    return torch.as_tensor(arr, dtype=torch.float64)


# ----------------------------------------------------------------------------- data
def sample_key_angles(
    size,
    L: int,
    rng: np.random.Generator,
    *,
    concentration: float = 0.0,
    center: float = 0.0,
) -> np.ndarray:
    """Key angles in ``[0, 2π)``, shape ``(*size, L)``: uniform if ``concentration == 0``, else von Mises.

    The von Mises density ``∝ exp(c cos(t − center))`` with ``c = concentration`` concentrates the
    keys on an arc around ``center`` (the ill-conditioned designs of Chapter 5).
    """
    rng = check_rng("rng", rng)
    L = check_int("L", L, minimum=1)
    c = check_positive("concentration", concentration, allow_zero=True)
    if not np.isfinite(center):
        raise ValueError("center must be finite")
    size = (size,) if np.isscalar(size) else tuple(size)
    if c == 0:
        return rng.uniform(0.0, 2 * np.pi, (*size, L))
    return np.mod(rng.vonmises(float(center), c, (*size, L)), 2 * np.pi)


def sample_pretraining_sequences(
    size,
    L: int,
    rng: np.random.Generator,
    *,
    concentration: float = 0.0,
    center: float = 0.0,
    degree: int = 2,
    **model,
) -> CircleSample:
    """Sequences of the circle model whose key angles follow :func:`sample_key_angles`.

    The latent ``z`` and the noise ``ε`` are drawn by :func:`lib.circle.sample_circle_model`
    (``model`` passes ``tau``, ``sigma``, ``latent``, ``noise``); the angles are then redrawn from the
    chosen key law and the values recomputed, ``v = φ(t)·z + ε`` with the same ``z`` and ``ε``.
    """
    base = sample_circle_model(size, L, rng, degree=degree, **model)
    eps = base.v - np.einsum(
        "...lp,...p->...l", fourier_features(base.t, degree), base.z
    )
    t = sample_key_angles(
        base.t.shape[:-1], L, rng, concentration=concentration, center=center
    )
    v = np.einsum("...lp,...p->...l", fourier_features(t, degree), base.z) + eps
    return CircleSample(z=base.z, t=t, K=unit_circle(t), v=v)


# ----------------------------------------------------------------------------- masked prediction
def mask_blocks(L: int, n_mask: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Masked positions and the blocked pairs of the block-masking scheme.

    Returns ``(targets, blocked)``: ``targets`` the ``n_t = m⌊L/m⌋`` predicted positions and
    ``blocked`` a boolean ``(n_t, L)`` matrix, True where position j lies in the same block as target ℓ
    (those scores are set to −∞). Requires ``1 ≤ m ≤ L − 1`` so that every row sees a token.
    """
    L = check_int("L", L, minimum=2)
    m = check_int("n_mask", n_mask, minimum=1, maximum=L - 1)
    n_t = m * (L // m)
    targets = np.arange(n_t)
    block = np.arange(L) // m
    blocked = block[targets][:, None] == block[None, :]
    return targets, blocked


def masked_attention_weights(
    t, beta, n_mask: int = 1, dtype=torch.float64
) -> torch.Tensor:
    """Weights of masked attention, shape ``(G, ..., n_t, L)``, for angles ``t`` (..., L), grid ``beta`` (G,).

    Row ℓ is ``softmax_j(β cos(t_ℓ − t_j))`` with the scores of ℓ's own block set to −∞ (softmax of
    :func:`lib.attention.attention_weights`, which subtracts the row maximum), computed in ``dtype``.
    """
    t = _angles("t", t, min_len=2)
    b = _grid(beta)
    targets, blocked = mask_blocks(t.shape[-1], n_mask)
    cos = torch.cos(t[..., targets, None] - t[..., None, :]).to(
        dtype
    )  # (..., n_t, L), cast once
    scores = (
        b.to(dtype).reshape((-1,) + (1,) * cos.ndim) * cos
    )  # (G, ..., n_t, L) in dtype
    scores = scores.masked_fill(torch.as_tensor(blocked), -torch.inf)
    return attention_weights(scores)


def masked_predictions(t, v, beta, n_mask: int = 1) -> torch.Tensor:
    """Masked-token predictions ``attn_β(k_ℓ; X_{−b(ℓ)})``, shape ``(G, ..., n_t)``."""
    tt = _angles("t", t, min_len=2)
    vv = _values(v, tt)
    W = masked_attention_weights(tt, beta, n_mask)
    return (W @ vv[..., None])[..., 0]


def masked_loss(
    t, v, beta, n_mask: int = 1, *, chunk: int = 512, dtype=torch.float64
) -> np.ndarray:
    """Empirical masked-prediction loss of each sequence, ``(1/n_t) Σ_ℓ (v_ℓ − attn_β(k_ℓ; X_{−b(ℓ)}))²``.

    ``t``, ``v`` of shape ``(n, L)``; returns shape ``(G, n)``: one bounded term per sequence, whose
    mean over sequences is ``R̂_pre``. Sequences are processed ``chunk`` at a time (memory only);
    ``dtype=torch.float32`` halves the cost (relative error ~1e-7, enough for grid ERM).
    """
    tt = _angles("t", t, min_len=2)
    vv = _values(v, tt)
    if tt.ndim != 2:
        raise ValueError(f"t must have shape (n, L), got {tuple(tt.shape)}")
    chunk = check_int("chunk", chunk, minimum=1)
    targets, _ = mask_blocks(tt.shape[-1], n_mask)
    b = _grid(beta)
    out = []
    for s in range(0, tt.shape[0], chunk):  # bounds memory; each call is vectorised
        tc, vc = tt[s : s + chunk].to(dtype), vv[s : s + chunk].to(dtype)
        W = masked_attention_weights(tc, b, n_mask, dtype=dtype)
        pred = (W @ vc[..., None])[..., 0]
        out.append(((vc[..., targets] - pred) ** 2).mean(-1).double())
    return torch.cat(out, dim=1).numpy()


def _check_var(name: str, value) -> float:
    return check_positive(name, value, allow_zero=True)


def masked_risk_given_keys(
    t, beta, *, var_z: float, var_eps: float, degree: int = 2, n_mask: int = 1
) -> np.ndarray:
    """``E[masked loss | keys]`` for z with covariance ``var_z·I`` and noise variance ``var_eps``, shape ``(G, ...)``.

    ``(1/n_t) Σ_ℓ [ var_z ‖(e_ℓ − w_ℓ)ᵀ Φ‖² + var_eps ‖e_ℓ − w_ℓ‖² ]`` with ``Φ = φ(t)`` (L, p) and
    ``w_ℓ`` the masked weights; exact for any latent/noise law with these second moments.
    """
    vz, ve = _check_var("var_z", var_z), _check_var("var_eps", var_eps)
    tt = _angles("t", t, min_len=2)
    targets, _ = mask_blocks(tt.shape[-1], n_mask)
    W = masked_attention_weights(tt, beta, n_mask)
    E = torch.zeros(len(targets), tt.shape[-1], dtype=torch.float64)
    E[np.arange(len(targets)), targets] = 1.0
    R = E - W  # (G, ..., n_t, L): residual operator v ↦ v_ℓ − attn
    Phi = torch.as_tensor(fourier_features(tt.numpy(), degree))
    out = vz * ((R @ Phi) ** 2).sum((-1, -2)) + ve * (R**2).sum((-1, -2))
    return (out / len(targets)).numpy()


def masked_bayes_risk_given_keys(
    t, *, var_z: float, var_eps: float, degree: int = 2, n_mask: int = 1
) -> np.ndarray:
    """Risk of the posterior predictive ``φ(t_ℓ)·μ_{X−b(ℓ)}`` given the keys, shape ``(...)``.

    ``(1/n_t) Σ_ℓ φ_ℓᵀ Σ_{X−b(ℓ)} φ_ℓ + var_eps`` with ``Σ`` the linear-Gaussian posterior covariance
    (``τ² = var_z``, ``σ² = var_eps``): the Bayes risk for Gaussian z, ε, and for any law with these
    second moments the smallest risk of a predictor linear in the values (attention is one).
    """
    vz, ve = check_positive("var_z", var_z), check_positive("var_eps", var_eps)
    tt = _angles("t", t, min_len=2).numpy()
    L = tt.shape[-1]
    targets, blocked = mask_blocks(L, n_mask)
    keep = np.stack(
        [np.flatnonzero(~row) for row in blocked]
    )  # (n_t, L - m) context of each target
    ctx = tt[..., keep]  # (..., n_t, L - m)
    _, Sigma = linear_gaussian_posterior(
        ctx, np.zeros_like(ctx), tau=np.sqrt(vz), sigma=np.sqrt(ve), degree=degree
    )
    phi = fourier_features(tt[..., targets], degree)  # (..., n_t, p)
    quad = np.einsum("...i,...ij,...j->...", phi, Sigma, phi)
    return quad.mean(-1) + ve


# ----------------------------------------------------------------------------- downstream
def _queries(query_angles) -> np.ndarray:
    q = np.atleast_1d(np.asarray(query_angles, dtype=float))
    if q.ndim != 1 or q.size == 0 or not np.all(np.isfinite(q)):
        raise ValueError("query_angles must be a non-empty finite 1-d array of angles")
    return q


def representation(t, v, beta, query_angles) -> torch.Tensor:
    """Multi-head representation ``r_β(X) = (attn_β(q_h; X))_h``, shape ``(G, ..., H)``.

    Head h queries with ``q_h = (cos θ_h, sin θ_h)`` over all L tokens, through
    :func:`lib.attention.softmax_attention`.
    """
    tt = _angles("t", t)
    vv = _values(v, tt)
    b = _grid(beta)
    Q = torch.as_tensor(unit_circle(_queries(query_angles)))  # (H, 2)
    K = torch.stack([torch.cos(tt), torch.sin(tt)], -1)  # (..., L, 2)
    out = softmax_attention(Q, K, vv[..., None], b.reshape((-1,) + (1,) * (K.ndim)))
    return out[..., 0]


def downstream_moments_given_keys(
    t, beta, query_angles, a, *, var_z: float, var_eps: float, degree: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Second moments of ``(r_β, y)`` given the keys, for ``y = a·z + η``.

    With ``W_Q`` the (H, L) head weights and ``Φ = φ(t)``: ``A = E[r rᵀ | t] = var_z (W_QΦ)(W_QΦ)ᵀ +
    var_eps W_Q W_Qᵀ`` of shape ``(G, ..., H, H)`` and ``b = E[r y | t] = var_z W_Q Φ a`` of shape
    ``(G, ..., H)`` (η independent of X drops out).
    """
    vz, ve = _check_var("var_z", var_z), _check_var("var_eps", var_eps)
    tt = _angles("t", t)
    b = _grid(beta)
    q = torch.as_tensor(_queries(query_angles))
    Phi = torch.as_tensor(fourier_features(tt.numpy(), degree))  # (..., L, p)
    a = np.asarray(a, dtype=float)
    if a.shape != (Phi.shape[-1],) or not np.all(np.isfinite(a)):
        raise ValueError(
            f"a must be a finite vector of length {Phi.shape[-1]}, got shape {a.shape}"
        )
    cos = torch.cos(q[:, None] - tt[..., None, :])  # (..., H, L)
    WQ = attention_weights(b.reshape((-1,) + (1,) * cos.ndim) * cos)  # (G, ..., H, L)
    F = WQ @ Phi  # (G, ..., H, p)
    A = vz * F @ F.transpose(-1, -2) + ve * WQ @ WQ.transpose(-1, -2)
    bb = vz * F @ torch.as_tensor(a)
    return A.numpy(), bb.numpy()


class DownstreamFit(NamedTuple):
    """Best ridge head for each β: ``risk`` (G,), ``head`` (G, H)."""

    risk: np.ndarray
    head: np.ndarray


def downstream_risk(A, b, ey2: float, ridge: float) -> DownstreamFit:
    """``R_down = min_w E y² − 2wᵀb + wᵀAw + λ‖w‖² = E y² − bᵀ(A + λI)⁻¹b``, at ``w = (A + λI)⁻¹ b``.

    ``A`` (..., H, H) and ``b`` (..., H) are population moments (means over sequences of
    :func:`downstream_moments_given_keys`); ``ey2 = E y²``; ``ridge = λ ≥ 0`` (λ = 0 uses the
    pseudo-inverse: the heads become collinear as β → 0).
    """
    A, b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2] or b.shape != A.shape[:-1]:
        raise ValueError(
            f"A must be (..., H, H) and b (..., H), got {A.shape} and {b.shape}"
        )
    ey2 = check_positive("ey2", ey2)
    lam = check_positive("ridge", ridge, allow_zero=True)
    H = A.shape[-1]
    if lam > 0:
        w = np.linalg.solve(A + lam * np.eye(H), b[..., None])[..., 0]
    else:
        w = (np.linalg.pinv(A, hermitian=True) @ b[..., None])[..., 0]
    risk = (
        ey2
        - 2 * (w * b).sum(-1)
        + np.einsum("...i,...ij,...j->...", w, A, w)
        + lam * (w * w).sum(-1)
    )
    return DownstreamFit(risk=risk, head=w)


def downstream_per_sequence(A_seq, b_seq, head, ey2: float, ridge: float) -> np.ndarray:
    """Per-sequence risk of a fixed head, ``E y² − 2wᵀb_i + wᵀA_i w + λ‖w‖²``, shape ``(G, n)``.

    Its mean over sequences is :func:`downstream_risk`; since the head is optimal, first-order
    changes of the head do not move the risk (envelope theorem), so the standard deviation of these
    terms over √n is the delta-method Monte Carlo error of ``R_down``. ``A_seq`` (G, n, H, H),
    ``b_seq`` (G, n, H), ``head`` (G, H).
    """
    A_seq, b_seq, w = (np.asarray(x, dtype=float) for x in (A_seq, b_seq, head))
    if (
        A_seq.ndim != 4
        or b_seq.shape != A_seq.shape[:-1]
        or w.shape != (A_seq.shape[0], A_seq.shape[-1])
    ):
        raise ValueError(
            f"need A_seq (G, n, H, H), b_seq (G, n, H), head (G, H); got {A_seq.shape}, "
            f"{b_seq.shape}, {w.shape}"
        )
    lam = check_positive("ridge", ridge, allow_zero=True)
    ey2 = check_positive("ey2", ey2)
    quad = np.einsum("gi,gnij,gj->gn", w, A_seq, w)
    return (
        ey2
        - 2 * np.einsum("gi,gni->gn", w, b_seq)
        + quad
        + lam * (w * w).sum(-1)[:, None]
    )


# ----------------------------------------------------------------------------- transfer constants
class TransferConstants(NamedTuple):
    """Global transfer constants on a grid (last axis), relative to θ° = argmin R_pre.

    ``index0`` of θ°; ``kappa`` = sup ΔR_down/ΔR_pre (+inf if the ratio is unbounded: some ΔR_pre = 0
    with ΔR_down > 0); ``kappa_sqrt`` = sup |ΔR_down|/sqrt(ΔR_pre); ``kappa_sqrt_plus`` the one-sided
    sup (ΔR_down)₊/sqrt(ΔR_pre); ``misalignment`` = R_down(θ°) − min R_down.
    """

    index0: np.ndarray
    kappa: np.ndarray
    kappa_sqrt: np.ndarray
    kappa_sqrt_plus: np.ndarray
    misalignment: np.ndarray


def _curves(r_pre, r_down) -> tuple[np.ndarray, np.ndarray]:
    rp, rd = np.asarray(r_pre, dtype=float), np.asarray(r_down, dtype=float)
    if rp.shape != rd.shape or rp.ndim < 1 or rp.shape[-1] < 2:
        raise ValueError(
            f"r_pre and r_down must have the same shape (..., G) with G >= 2, got {rp.shape}, {rd.shape}"
        )
    if not (np.all(np.isfinite(rp)) and np.all(np.isfinite(rd))):
        raise ValueError("r_pre and r_down must be finite")
    return rp, rd


def transfer_constants(r_pre, r_down) -> TransferConstants:
    """κ, κ' and the misalignment for risk curves on a common parameter grid (last axis, vectorised)."""
    rp, rd = _curves(r_pre, r_down)
    i0 = np.argmin(rp, axis=-1)
    dp = rp - np.take_along_axis(rp, i0[..., None], -1)
    dd = rd - np.take_along_axis(rd, i0[..., None], -1)
    off = np.ones(rp.shape, dtype=bool)
    np.put_along_axis(off, i0[..., None], False, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lin = np.where(off & (dp > 0), dd / np.where(dp > 0, dp, 1.0), -np.inf)
        lin = np.where(off & (dp == 0) & (dd > 0), np.inf, lin)
        sq = np.where(
            off & (dp > 0), np.abs(dd) / np.sqrt(np.where(dp > 0, dp, 1.0)), 0.0
        )
        sq = np.where(off & (dp == 0) & (dd != 0), np.inf, sq)
    sq_plus = np.where(dd > 0, sq, 0.0)
    mis = np.take_along_axis(rd, i0[..., None], -1)[..., 0] - rd.min(-1)
    return TransferConstants(
        index0=i0,
        kappa=lin.max(-1),
        kappa_sqrt=sq.max(-1),
        kappa_sqrt_plus=sq_plus.max(-1),
        misalignment=mis,
    )


class LocalTransfer(NamedTuple):
    """Local (curvature) transfer constants at the continuous pretraining optimum θ°.

    ``theta0``; ``slope_down`` = R'_down(θ°); ``curv_pre`` = R''_pre(θ°); ``curv_down`` = R''_down(θ°);
    ``kappa_local`` = R''_down/R''_pre (the aligned-regime κ); ``kappa_sqrt_local`` =
    |R'_down| sqrt(2/R''_pre) (the limit of |ΔR_down|/sqrt(ΔR_pre) as θ → θ°).
    """

    theta0: float
    slope_down: float
    curv_pre: float
    curv_down: float
    kappa_local: float
    kappa_sqrt_local: float


def local_transfer_constants(grid, r_pre, r_down, window: int = 2) -> LocalTransfer:
    """Fit quadratics to both curves on the ``2·window + 1`` grid points around argmin R_pre.

    θ° is the vertex of the R_pre quadratic; R'_down, R''_down are read off the R_down quadratic at θ°.
    Requires an interior minimum with positive fitted curvature (else ValueError).
    """
    g = np.asarray(grid, dtype=float)
    rp, rd = _curves(r_pre, r_down)
    if rp.ndim != 1 or g.shape != rp.shape:
        raise ValueError(
            f"grid, r_pre, r_down must be 1-d of equal length, got {g.shape}, {rp.shape}"
        )
    if not np.all(np.diff(g) > 0):
        raise ValueError("grid must be strictly increasing")
    w = check_int("window", window, minimum=1)
    i0 = int(np.argmin(rp))
    if i0 - w < 0 or i0 + w >= len(g):
        raise ValueError(
            f"argmin of r_pre at index {i0} is within window={w} of the grid's end: no interior minimum"
        )
    sl = slice(i0 - w, i0 + w + 1)
    x0 = g[i0]
    cp = np.polyfit(g[sl] - x0, rp[sl], 2)
    cd = np.polyfit(g[sl] - x0, rd[sl], 2)
    if cp[0] <= 0:
        raise ValueError("r_pre has non-positive fitted curvature at its minimum")
    u = -cp[1] / (2 * cp[0])
    theta0 = x0 + u
    curv_pre, curv_down = 2 * cp[0], 2 * cd[0]
    slope = 2 * cd[0] * u + cd[1]
    return LocalTransfer(
        theta0=float(theta0),
        slope_down=float(slope),
        curv_pre=float(curv_pre),
        curv_down=float(curv_down),
        kappa_local=float(curv_down / curv_pre),
        kappa_sqrt_local=float(abs(slope) * np.sqrt(2 / curv_pre)),
    )


# ----------------------------------------------------------------------------- population curves
class RiskCurves(NamedTuple):
    """Monte Carlo population risks on a grid from ``n`` key draws (common to every β).

    ``r_pre``, ``r_down`` (G,); per-sequence terms ``pre_seq``, ``down_seq`` (G, n) whose means are the
    curves (their standard deviations over √n are the Monte Carlo errors); ``head`` (G, H).
    """

    r_pre: np.ndarray
    r_down: np.ndarray
    pre_seq: np.ndarray
    down_seq: np.ndarray
    head: np.ndarray


def risk_curves(
    t,
    beta,
    query_angles,
    a,
    *,
    var_z: float,
    var_eps: float,
    var_y: float,
    ridge: float,
    degree: int = 2,
    n_mask: int = 1,
    chunk: int = 1000,
) -> RiskCurves:
    """``R_pre`` and ``R_down`` on the grid ``beta`` from key angles ``t`` (n, L), exact in (z, ε, η).

    Both average conditional risks given the keys (:func:`masked_risk_given_keys`,
    :func:`downstream_moments_given_keys`); ``E y² = var_z ‖a‖² + var_y``; the downstream head is fitted
    to the averaged moments (:func:`downstream_risk`). The same keys serve every β (common random
    numbers), so the curves are smooth in β.
    """
    tt = np.asarray(t, dtype=float)
    if tt.ndim != 2:
        raise ValueError(f"t must have shape (n, L), got {tt.shape}")
    chunk = check_int("chunk", chunk, minimum=1)
    vy = _check_var("var_y", var_y)
    ey2 = (
        _check_var("var_z", var_z) * float(np.sum(np.asarray(a, dtype=float) ** 2)) + vy
    )
    pre, A, b = [], [], []
    for s in range(0, tt.shape[0], chunk):  # bounds memory; each call is vectorised
        pre.append(
            masked_risk_given_keys(
                tt[s : s + chunk],
                beta,
                var_z=var_z,
                var_eps=var_eps,
                degree=degree,
                n_mask=n_mask,
            )
        )
        Ac, bc = downstream_moments_given_keys(
            tt[s : s + chunk],
            beta,
            query_angles,
            a,
            var_z=var_z,
            var_eps=var_eps,
            degree=degree,
        )
        A.append(Ac)
        b.append(bc)
    pre_seq, A_seq, b_seq = (np.concatenate(x, axis=1) for x in (pre, A, b))
    fit = downstream_risk(A_seq.mean(1), b_seq.mean(1), ey2, ridge)
    down_seq = downstream_per_sequence(A_seq, b_seq, fit.head, ey2, ridge)
    return RiskCurves(
        r_pre=pre_seq.mean(1),
        r_down=fit.risk,
        pre_seq=pre_seq,
        down_seq=down_seq,
        head=fit.head,
    )


def pretraining_optimum(
    t,
    beta_init: float,
    *,
    var_z: float,
    var_eps: float,
    degree: int = 2,
    n_mask: int = 1,
    h: float = 1e-2,
    tol: float = 1e-5,
    max_steps: int = 6,
) -> float:
    """Minimiser θ° of the Monte Carlo curve ``R_pre`` (keys ``t`` fixed) by Newton's method.

    Derivatives by central differences of step ``h`` on the common-random-number curve (which is
    smooth in β). Raises ValueError if the curvature is not positive or Newton does not converge.
    """
    b = check_positive("beta_init", beta_init)
    h = check_positive("h", h)
    for _ in range(check_int("max_steps", max_steps, minimum=1)):
        r = masked_risk_given_keys(
            t,
            [b - h, b, b + h],
            var_z=var_z,
            var_eps=var_eps,
            degree=degree,
            n_mask=n_mask,
        ).mean(-1)
        d1, d2 = (r[2] - r[0]) / (2 * h), (r[2] - 2 * r[1] + r[0]) / h**2
        if not d2 > 0:
            raise ValueError(
                f"R_pre has non-positive curvature near beta={b:.4g}: no local minimum there"
            )
        step = d1 / d2
        b = b - step
        if b <= h:
            raise ValueError("Newton left the parameter range (beta <= h)")
        if abs(step) < tol:
            return float(b)
    raise ValueError(
        f"Newton did not converge in {max_steps} steps (last step {step:.3g})"
    )


class LocalTransferMC(NamedTuple):
    """Local transfer constants at θ° with delta-method Monte Carlo standard errors (suffix ``_se``)."""

    theta0: float
    theta0_se: float
    slope_down: float
    slope_down_se: float
    curv_pre: float
    curv_pre_se: float
    curv_down: float
    third_pre: float
    kappa_local: float
    kappa_sqrt_local: float
    kappa_sqrt_local_se: float


def local_transfer_mc(
    t,
    theta0: float,
    query_angles,
    a,
    *,
    var_z: float,
    var_eps: float,
    var_y: float,
    ridge: float,
    degree: int = 2,
    n_mask: int = 1,
    h: float = 1e-2,
) -> LocalTransferMC:
    """Slope and curvatures at θ° by central differences (step ``h``) on the key sample ``t`` (n, L).

    The curves are evaluated at ``θ° + (−2, −1, 0, 1, 2)·h``: first and second derivatives from the
    three central points, the third derivative of ``R_pre`` (``third_pre``) from the five-point stencil
    ``[R(θ+2h) − 2R(θ+h) + 2R(θ−h) − R(θ−2h)] / (2h³)``.

    Standard errors by the delta method on the per-sequence terms ``ψ`` (first, second, third differences),
    with θ̂° solving ``R̂'_pre = 0``, so that its own error ``−ψ1_pre,i / c_pre`` propagates. The influences:

    - ``θ̂°``: ``−ψ1_pre,i / c_pre``;
    - slope ``S = R'_down(θ̂°)``: ``ψ1_down,i − (c_down/c_pre) ψ1_pre,i``;
    - curvature ``c_pre = R''_pre(θ̂°)``: ``ψ2_pre,i − (third_pre/c_pre) ψ1_pre,i``;
    - ``κ'_loc = |S| sqrt(2/c_pre)``: ``κ'_loc (infl_S/S − infl_c/(2 c_pre))`` (their correlation included);

    each standard error is the standard deviation of its influence over √n.
    """
    th = check_positive("theta0", theta0)
    h = check_positive("h", h)
    if th <= 2 * h:
        raise ValueError("theta0 must exceed 2h")
    c = risk_curves(
        t,
        th + h * np.arange(-2.0, 3.0),
        query_angles,
        a,
        var_z=var_z,
        var_eps=var_eps,
        var_y=var_y,
        ridge=ridge,
        degree=degree,
        n_mask=n_mask,
    )
    n = c.pre_seq.shape[1]
    P = c.pre_seq
    dp1 = (P[3] - P[1]) / (2 * h)
    dp2 = (P[3] - 2 * P[2] + P[1]) / h**2
    dp3 = (P[4] - 2 * P[3] + 2 * P[1] - P[0]) / (2 * h**3)
    dd1 = (c.down_seq[3] - c.down_seq[1]) / (2 * h)
    cp, cd, d3 = (
        dp2.mean(),
        (c.r_down[3] - 2 * c.r_down[2] + c.r_down[1]) / h**2,
        dp3.mean(),
    )
    if not cp > 0:
        raise ValueError("R_pre has non-positive curvature at theta0")
    slope = (c.r_down[3] - c.r_down[1]) / (2 * h)
    infl_s = dd1 - (cd / cp) * dp1
    infl_c = dp2 - (d3 / cp) * dp1
    ks = abs(slope) * np.sqrt(2 / cp)
    infl_k = (
        ks * (infl_s / slope - infl_c / (2 * cp)) if slope != 0 else np.full(n, np.inf)
    )
    se = lambda x: float(np.std(x, ddof=1) / np.sqrt(n))  # noqa: E731
    return LocalTransferMC(
        theta0=th,
        theta0_se=se(dp1) / cp,
        slope_down=float(slope),
        slope_down_se=se(infl_s),
        curv_pre=float(cp),
        curv_pre_se=se(infl_c),
        curv_down=float(cd),
        third_pre=float(d3),
        kappa_local=float(cd / cp),
        kappa_sqrt_local=float(ks),
        kappa_sqrt_local_se=se(infl_k),
    )
