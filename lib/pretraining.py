"""Masked-token pretraining and transfer to a downstream task (Chapter 5).

Tokens come from the circle model of :mod:`lib.circle`: angles ``t_ℓ``, keys
``k_ℓ = (cos t_ℓ, sin t_ℓ)``, values ``v_ℓ = z·φ(t_ℓ) + ε_ℓ``. The
parameter is the inverse temperature β of softmax attention, passed as a number or a
1-d grid of ``G`` values; outputs carry that grid as their leading axis.

- **Masked prediction** (pretraining). The positions are cut into ``⌊L/m⌋``
  consecutive blocks of ``m = n_mask`` tokens; each block is masked in turn and each of
  its tokens is predicted by attention queried with its own key over the ``L − m``
  tokens outside the block,
  ``attn_β(k_ℓ; X_{−b(ℓ)}) = Σ_{j∉b(ℓ)} softmax_j(β k_ℓ·k_j) v_j``
  (``m = 1`` is leave-one-out). The masked scores are set to ``−∞`` before torch's
  softmax (which subtracts the row maximum); every row keeps ``L − m ≥ 1`` finite
  scores. The per-sequence loss is the mean of ``(v_ℓ − attn)²`` over the masked
  positions; the pretraining risk ``R_pre(β)`` is its expectation.
- **Given the keys**, both risks are quadratic forms in ``(z, ε)``, so their
  conditional expectations need only ``Var z = s_z² I`` and ``Var ε = s_ε²``;
  averaging them over key draws estimates the risks with Monte Carlo error over the keys
  only (Rao–Blackwellisation), and the same keys serve every β (common random
  numbers).
- **Downstream.** ``y = a·z + η``; the representation is
  ``r_β(X) = (attn_β(q_h; X))_{h≤H}`` at fixed query angles; the head is the best
  ridge-penalised linear head,
  ``R_down(β) = min_w E[(y − wᵀr_β)²] + λ‖w‖²``
  ``= E y² − bᵀ(A + λI)⁻¹b``.
- **Transfer constants** relative to the pretraining optimum θ°:
  ``κ = sup ΔR_down/ΔR_pre``, ``κ' = sup |ΔR_down|/√ΔR_pre``, the misalignment
  ``μ = R_down(θ°) − min R_down``, and their local (derivative) versions with
  delta-method Monte Carlo errors.
- **Experiments** of Chapter 5 in tested form: Monte Carlo errors of the global
  constants (:func:`transfer_constants_se`); the transfer ratios near θ°
  (:func:`transfer_ratios`); sampled against Rao–Blackwellised risks
  (:func:`sampled_downstream_loss`, :func:`mc_agreement`); grid ERM on a pool of
  sequences and its rates in ``N`` (:func:`refine_grid`, :func:`extend_curves`,
  :func:`erm_rates`, :func:`erm_sandwich`, :func:`rate_floor_bias`,
  :func:`asymptotic_changes`, :func:`tracking_pairs`); the uniform deviation against
  the sequence length (:func:`length_trend`); one point of a design sweep
  (:func:`sweep_point`).

**Return type.** Every function returns NumPy arrays (``float64``, or ``int64``/``bool``
for indices and masks), Python numbers, or named tuples of them; torch is used inside
for the batched softmax only. Inputs are
validated with :mod:`lib.validation` (named errors; NaN, inf, complex, bool, ragged and
non-integral sizes are rejected), and a result that cannot be computed in floating
point raises ``FloatingPointError`` instead of returning NaN.

Examples
--------
>>> import numpy as np
>>> t = np.array([[0.0, 0.1, 3.0, 3.2]])
>>> masked_loss(t, np.array([[1.0, 1.0, -1.0, -1.0]]), [0.0, 20.0]).round(3)
array([[1.778],
       [0.   ]])
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import torch
from scipy.stats import norm

from lib import learning
from lib.attention import softmax_attention
from lib.circle import (
    CircleSample,
    fourier_features,
    linear_gaussian_posterior,
    sample_circle_model,
    unit_circle,
)
from lib.montecarlo import loglog_coefficients, loglog_slope, mean_se
from lib.validation import (
    InputTypeError,
    check_array,
    check_choice,
    check_finite_result,
    check_int,
    check_int_array,
    check_positive,
    check_real,
    check_rng,
)

__all__ = [
    "Agreement",
    "AsymptoticChanges",
    "DownstreamFit",
    "ErmRates",
    "LengthTrend",
    "LocalTransfer",
    "LocalTransferMC",
    "RefinedGrid",
    "RiskCurves",
    "SweepPoint",
    "TransferConstants",
    "TransferConstantsSE",
    "TransferRatios",
    "asymptotic_changes",
    "downstream_moments_given_keys",
    "downstream_per_sequence",
    "downstream_risk",
    "erm_rates",
    "erm_sandwich",
    "extend_curves",
    "length_trend",
    "local_transfer_constants",
    "local_transfer_mc",
    "mask_blocks",
    "masked_attention_weights",
    "masked_bayes_risk_given_keys",
    "masked_loss",
    "masked_predictions",
    "masked_risk_given_keys",
    "mc_agreement",
    "pretraining_optimum",
    "rate_floor_bias",
    "refine_grid",
    "representation",
    "risk_curves",
    "sample_key_angles",
    "sample_pretraining_sequences",
    "sampled_downstream_loss",
    "sweep_point",
    "tracking_pairs",
    "transfer_constants",
    "transfer_constants_se",
    "transfer_ratios",
]


# --- inputs
def _grid(beta) -> np.ndarray:
    """β as a non-empty 1-d float64 array of finite values >= 0."""
    b = check_array("beta", beta, low=0.0)
    if b.ndim == 0:
        return b.reshape(1)
    if b.ndim != 1:
        raise ValueError(f"beta must be a number or a 1-d grid, got shape {b.shape}")
    return b


def _angles(name: str, t, *, min_len: int = 1, ndim: int | None = None) -> np.ndarray:
    arr = check_array(name, t, min_ndim=1, ndim=ndim)
    if arr.shape[-1] < min_len:
        raise ValueError(
            f"{name} must have shape (..., L) with L >= {min_len}, got {arr.shape}"
        )
    return arr


def _same_shape(name: str, x, shape: tuple[int, ...], of: str) -> np.ndarray:
    """``x`` as an array of exactly ``shape``, set by the argument(s) ``of``."""
    arr = check_array(name, x)
    if arr.shape != shape:
        raise ValueError(
            f"{name} must have the shape {shape} set by {of}, got {arr.shape}"
        )
    return arr


def _queries(query_angles) -> np.ndarray:
    q = check_array("query_angles", query_angles)
    if q.ndim == 0:
        q = q.reshape(1)
    if q.ndim != 1:
        raise ValueError(f"query_angles must be 1-d, got shape {q.shape}")
    return q


def _latent_vector(a, p: int) -> np.ndarray:
    return check_array("a", a, ndim=1, shape=(p,))


def _fpp(value) -> float:
    """A false-alarm probability: a number in (0, 1)."""
    return check_real("fpp", value, low=0.0, high=1.0, low_open=True, high_open=True)


def _variance(name: str, value) -> float:
    return check_positive(name, value, allow_zero=True)


def _torch_dtype(dtype) -> torch.dtype:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise InputTypeError(
            f"dtype must be 'float32' or 'float64', got {dtype!r}"
        ) from None
    check_choice("dtype", name, ("float32", "float64"))
    return torch.float32 if name == "float32" else torch.float64


def _size(size) -> tuple[int, ...]:
    if isinstance(size, (tuple, list)):
        return tuple(check_int("size", s, minimum=0) for s in size)
    return (check_int("size", size, minimum=0),)


def _lead(b: np.ndarray, ndim: int) -> torch.Tensor:
    """β as a tensor of shape (G, 1, ..., 1) with ``ndim`` trailing singleton axes."""
    return torch.as_tensor(b).reshape((-1,) + (1,) * ndim)


# --- data
def sample_key_angles(
    size,
    L: int,
    rng: np.random.Generator,
    *,
    concentration: float = 0.0,
    center: float = 0.0,
) -> np.ndarray:
    """Key angles in ``[0, 2π)``: uniform, or von Mises around ``center``.

    Parameters
    ----------
    size : int or tuple of int
        Leading shape (number of sequences, or a tuple).
    L : int
        Sequence length (``>= 1``).
    rng : numpy.random.Generator
        The generator to draw from.
    concentration : float
        ``c >= 0``; ``0`` gives uniform angles, ``c > 0`` the von Mises density
        ``∝ exp(c cos(t − center))``.
    center : float
        Mean direction of the von Mises law.

    Returns
    -------
    numpy.ndarray
        Angles of shape ``(*size, L)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> t = sample_key_angles(3, 4, np.random.default_rng(0), concentration=2.0)
    >>> t.shape, bool(np.all((0 <= t) & (t < 2 * np.pi)))
    ((3, 4), True)
    """
    rng = check_rng("rng", rng)
    shape = _size(size)
    L = check_int("L", L, minimum=1)
    c = check_positive("concentration", concentration, allow_zero=True)
    mu = check_real("center", center)
    if c == 0:
        return rng.uniform(0.0, 2 * np.pi, (*shape, L))
    return np.mod(rng.vonmises(mu, c, (*shape, L)), 2 * np.pi)


def sample_pretraining_sequences(
    size,
    L: int,
    rng: np.random.Generator,
    *,
    concentration: float = 0.0,
    center: float = 0.0,
    tau: float = 1.0,
    sigma: float = 0.5,
    degree: int = 2,
    latent: str = "uniform",
    noise: str = "uniform",
) -> CircleSample:
    """Sequences of the circle model whose key angles follow :func:`sample_key_angles`.

    The latent ``z`` and the noise ``ε`` are drawn by
    :func:`lib.circle.sample_circle_model`; the angles are then redrawn from the key
    law and the values recomputed, ``v = φ(t)·z + ε`` with the same ``z`` and ``ε``.

    Parameters
    ----------
    size, L, rng, concentration, center
        As in :func:`sample_key_angles`.
    tau, sigma, degree, latent, noise
        As in :func:`lib.circle.sample_circle_model` (here bounded laws by default:
        ``z ~ U[−τ, τ]^p``, ``ε ~ U[−σ, σ]``).

    Returns
    -------
    lib.circle.CircleSample
        ``z (*size, p)``, ``t (*size, L)``, ``K (*size, L, 2)``, ``v (*size, L)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> X = sample_pretraining_sequences(2, 5, np.random.default_rng(0), tau=2.0)
    >>> X.v.shape, bool(np.all(np.abs(X.z) <= 2.0))
    ((2, 5), True)
    """
    shape = _size(size)
    base = sample_circle_model(
        shape, L, rng, tau=tau, sigma=sigma, degree=degree, latent=latent, noise=noise
    )
    eps = base.v - np.einsum(
        "...lp,...p->...l", fourier_features(base.t, degree), base.z
    )
    t = sample_key_angles(shape, L, rng, concentration=concentration, center=center)
    v = np.einsum("...lp,...p->...l", fourier_features(t, degree), base.z) + eps
    return CircleSample(z=base.z, t=t, K=unit_circle(t), v=v)


# --- masking
def mask_blocks(L: int, n_mask: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Masked positions and the blocked pairs of the block-masking scheme.

    Parameters
    ----------
    L : int
        Sequence length (``>= 2``).
    n_mask : int
        Block size ``m``, ``1 <= m <= L − 1`` so that every row sees a token.

    Returns
    -------
    targets : numpy.ndarray
        The ``n_t = m⌊L/m⌋`` predicted positions (int64).
    blocked : numpy.ndarray
        Boolean ``(n_t, L)``: True where position ``j`` lies in target ``ℓ``'s block
        (those scores are set to −∞).

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> targets, blocked = mask_blocks(5, 2)
    >>> targets
    array([0, 1, 2, 3])
    >>> blocked.astype(int)
    array([[1, 1, 0, 0, 0],
           [1, 1, 0, 0, 0],
           [0, 0, 1, 1, 0],
           [0, 0, 1, 1, 0]])
    """
    L = check_int("L", L, minimum=2)
    m = check_int("n_mask", n_mask, minimum=1, maximum=L - 1)
    n_t = m * (L // m)
    targets = np.arange(n_t)
    block = np.arange(L) // m
    blocked = block[targets][:, None] == block[None, :]
    return targets, blocked


def _masked_weights(
    t: torch.Tensor, b: np.ndarray, n_mask: int, dtype: torch.dtype
) -> torch.Tensor:
    """Masked softmax weights ``(G, ..., n_t, L)`` in ``dtype`` (inputs validated)."""
    targets, blocked = mask_blocks(t.shape[-1], n_mask)
    cos = torch.cos(t[..., targets, None] - t[..., None, :]).to(dtype)
    scores = _lead(b, cos.ndim).to(dtype) * cos
    scores = scores.masked_fill(torch.as_tensor(blocked), -torch.inf)
    return torch.softmax(scores, dim=-1)


def masked_attention_weights(
    t, beta, n_mask: int = 1, *, dtype="float64"
) -> np.ndarray:
    """Weights of masked attention, ``softmax_j(β cos(t_ℓ − t_j))`` off ℓ's
    block.

    Parameters
    ----------
    t : array_like
        Angles ``(..., L)``, ``L >= 2``.
    beta : float or array_like
        Inverse temperature(s), a number or a 1-d grid of ``G`` values ``>= 0``.
    n_mask : int
        Block size ``m`` (see :func:`mask_blocks`).
    dtype : {"float64", "float32"}
        Precision of the computation (the result is float64).

    Returns
    -------
    numpy.ndarray
        Weights ``(G, ..., n_t, L)``; each row sums to 1 and is 0 on its block.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> masked_attention_weights([0.0, 1.0, 2.0], 0.0)
    array([[[0. , 0.5, 0.5],
            [0.5, 0. , 0.5],
            [0.5, 0.5, 0. ]]])
    """
    tt = torch.as_tensor(_angles("t", t, min_len=2))
    b = _grid(beta)
    W = _masked_weights(tt, b, n_mask, _torch_dtype(dtype))
    return W.double().numpy()


def masked_predictions(t, v, beta, n_mask: int = 1) -> np.ndarray:
    """Masked-token predictions ``attn_β(k_ℓ; X_{−b(ℓ)})`` of every target.

    Parameters
    ----------
    t, v : array_like
        Angles and values, both ``(..., L)``.
    beta, n_mask
        As in :func:`masked_attention_weights`.

    Returns
    -------
    numpy.ndarray
        Predictions ``(G, ..., n_t)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> masked_predictions([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], 0.0)
    array([[2.5, 2. , 1.5]])
    """
    tt = _angles("t", t, min_len=2)
    vv = torch.as_tensor(_same_shape("v", v, tt.shape, "t"))
    W = _masked_weights(torch.as_tensor(tt), _grid(beta), n_mask, torch.float64)
    return (W @ vv[..., None])[..., 0].numpy()


def masked_loss(
    t, v, beta, n_mask: int = 1, *, chunk: int = 32, dtype="float64"
) -> np.ndarray:
    """Empirical masked-prediction loss of each sequence.

    ``(1/n_t) Σ_ℓ (v_ℓ − attn_β(k_ℓ; X_{−b(ℓ)}))²``: one bounded term per
    sequence, whose mean over sequences is the empirical risk ``R̂_pre``.

    Parameters
    ----------
    t, v : array_like
        Angles and values, shape ``(n, L)``.
    beta, n_mask
        As in :func:`masked_attention_weights`.
    chunk : int
        Sequences processed at a time (memory only).
    dtype : {"float64", "float32"}
        Precision; float32 halves the cost (relative error ~1e-7).

    Returns
    -------
    numpy.ndarray
        Losses ``(G, n)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> t = np.array([[0.0, 0.1, 3.0, 3.2]])
    >>> masked_loss(t, [[1.0, 1.0, -1.0, -1.0]], [0.0, 20.0]).round(3)
    array([[1.778],
           [0.   ]])
    """
    tt = torch.as_tensor(_angles("t", t, min_len=2, ndim=2))
    vv = torch.as_tensor(_same_shape("v", v, tuple(tt.shape), "t"))
    chunk = check_int("chunk", chunk, minimum=1)
    targets, _ = mask_blocks(tt.shape[-1], n_mask)
    b = _grid(beta)
    dt = _torch_dtype(dtype)
    out = []
    for s in range(0, tt.shape[0], chunk):  # bounds memory; each call is vectorised
        tc, vc = tt[s : s + chunk], vv[s : s + chunk].to(dt)
        W = _masked_weights(tc, b, n_mask, dt)
        pred = (W @ vc[..., None])[..., 0]
        out.append(((vc[..., targets] - pred) ** 2).mean(-1).double())
    return check_finite_result("masked loss", torch.cat(out, dim=1).numpy())


def _risk_given_keys(tt: np.ndarray, b, vz, ve, degree, n_mask) -> torch.Tensor:
    targets, _ = mask_blocks(tt.shape[-1], n_mask)
    W = _masked_weights(torch.as_tensor(tt), b, n_mask, torch.float64)
    W[..., np.arange(len(targets)), targets] -= 1.0  # W − E: minus the residual map
    Phi = torch.as_tensor(fourier_features(tt, degree))
    out = vz * ((W @ Phi) ** 2).sum((-1, -2)) + ve * (W**2).sum((-1, -2))
    return out / len(targets)


def masked_risk_given_keys(
    t,
    beta,
    *,
    var_z: float,
    var_eps: float,
    degree: int = 2,
    n_mask: int = 1,
    chunk: int = 64,
) -> np.ndarray:
    """``E[masked loss | keys]`` for ``Var z = var_z·I`` and ``Var ε = var_eps``.

    ``(1/n_t) Σ_ℓ [var_z ‖(e_ℓ − w_ℓ)ᵀΦ‖²``
    ``+ var_eps ‖e_ℓ − w_ℓ‖²]``
    with ``Φ = φ(t)`` and ``w_ℓ`` the masked weights: exact for any zero-mean latent
    and noise laws with these second moments, independent of the keys and of each other.

    Parameters
    ----------
    t : array_like
        Angles ``(..., L)``.
    beta, n_mask
        As in :func:`masked_attention_weights`.
    var_z, var_eps : float
        Variances (``>= 0``) of each latent coordinate and of the noise.
    degree : int
        Number of harmonics of ``φ``.
    chunk : int
        Key sets processed at a time (memory only).

    Returns
    -------
    numpy.ndarray
        Conditional risks ``(G, ...)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> t = np.array([[0.0, 2.0, 4.0]])
    >>> r = masked_risk_given_keys(t, [0.0], var_z=1.0, var_eps=0.0, degree=0)
    >>> float(r[0, 0])  # predicting z from z: no error
    0.0
    >>> float(masked_risk_given_keys(t, 0.0, var_z=0.0, var_eps=1.0)[0, 0])
    1.5
    """
    vz, ve = _variance("var_z", var_z), _variance("var_eps", var_eps)
    tt = _angles("t", t, min_len=2)
    b = _grid(beta)
    degree = check_int("degree", degree, minimum=0)
    chunk = check_int("chunk", chunk, minimum=1)
    mask_blocks(tt.shape[-1], n_mask)
    flat = tt.reshape(-1, tt.shape[-1])
    parts = [
        _risk_given_keys(flat[s : s + chunk], b, vz, ve, degree, n_mask)
        for s in range(0, flat.shape[0], chunk)
    ]
    out = torch.cat(parts, dim=1).numpy().reshape((len(b),) + tt.shape[:-1])
    return check_finite_result("conditional risk", out)


def masked_bayes_risk_given_keys(
    t, *, var_z: float, var_eps: float, degree: int = 2, n_mask: int = 1
) -> np.ndarray:
    """Risk of the posterior predictive ``φ(t_ℓ)·μ_{X−b(ℓ)}`` given the keys.

    ``(1/n_t) Σ_ℓ φ_ℓᵀ Σ_{X−b(ℓ)} φ_ℓ + var_eps`` with ``Σ`` the
    linear-Gaussian posterior covariance (prior variance ``var_z``, noise variance
    ``var_eps``): the Bayes risk for Gaussian ``z, ε``, and for any law with these
    second moments the smallest risk of a predictor linear in the values (attention is
    one).

    Parameters
    ----------
    t : array_like
        Angles ``(..., L)``.
    var_z, var_eps : float
        Variances (``> 0``).
    degree, n_mask
        As in :func:`masked_risk_given_keys`.

    Returns
    -------
    numpy.ndarray
        Floors ``(...)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> t = np.array([0.0, 2.0, 4.0])
    >>> f = masked_bayes_risk_given_keys(t, var_z=1.0, var_eps=0.5, degree=0)
    >>> round(float(f), 12)  # Var(z | two values) + var_eps = 1/(1 + 2/0.5) + 0.5
    0.7
    """
    vz, ve = check_positive("var_z", var_z), check_positive("var_eps", var_eps)
    for name, var in (("var_z", vz), ("var_eps", ve)):
        if not math.isfinite(1 / var):
            raise ValueError(f"{name} is too small: 1/{name} overflows")
    tt = _angles("t", t, min_len=2)
    targets, blocked = mask_blocks(tt.shape[-1], n_mask)
    keep = np.stack([np.flatnonzero(~row) for row in blocked])  # (n_t, L − m)
    ctx = tt[..., keep]  # (..., n_t, L − m)
    try:
        _, Sigma = linear_gaussian_posterior(
            ctx, np.zeros_like(ctx), tau=math.sqrt(vz), sigma=math.sqrt(ve),
            degree=degree,
        )  # fmt: skip
    except np.linalg.LinAlgError:
        raise FloatingPointError(
            "the posterior precision is singular in floating point for these"
            " var_z and var_eps"
        ) from None
    phi = fourier_features(tt[..., targets], degree)  # (..., n_t, p)
    quad = np.einsum(
        "...i,...ij,...j->...", phi, check_finite_result("Sigma", Sigma), phi
    )
    return check_finite_result("Bayes risk", quad.mean(-1) + ve)


# --- downstream
def representation(t, v, beta, query_angles, *, chunk: int = 1024) -> np.ndarray:
    """Multi-head representation ``r_β(X) = (attn_β(q_h; X))_h``.

    Head ``h`` queries with ``q_h = (cos ϑ_h, sin ϑ_h)`` over all ``L`` tokens,
    through :func:`lib.attention.softmax_attention`.

    Parameters
    ----------
    t, v : array_like
        Angles and values, both ``(..., L)``.
    beta : float or array_like
        Inverse temperature(s), ``G`` values.
    query_angles : array_like
        The ``H`` query angles ``ϑ_h``.
    chunk : int
        Sequences (along the flattened leading axes) processed at a time.

    Returns
    -------
    numpy.ndarray
        Representations ``(G, ..., H)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> representation([0.0, np.pi], [1.0, -1.0], [0.0, 50.0], [0.0]).round(6)
    array([[0.],
           [1.]])
    """
    tt = _angles("t", t)
    vv = _same_shape("v", v, tt.shape, "t")
    b = _grid(beta)
    Q = torch.as_tensor(unit_circle(_queries(query_angles)))  # (H, 2)
    chunk = check_int("chunk", chunk, minimum=1)
    ft, fv = tt.reshape(-1, tt.shape[-1]), vv.reshape(-1, tt.shape[-1])
    parts = []
    for s in range(0, ft.shape[0], chunk):
        K = torch.as_tensor(unit_circle(ft[s : s + chunk]))  # (n, L, 2)
        V = torch.as_tensor(fv[s : s + chunk])[..., None]
        parts.append(softmax_attention(Q, K, V, _lead(b, 3))[..., 0])
    out = torch.cat(parts, dim=1).numpy()
    return out.reshape((len(b),) + tt.shape[:-1] + (Q.shape[0],))


def sampled_downstream_loss(
    t, v, y, beta, query_angles, head, ridge: float
) -> np.ndarray:
    """Per-sequence penalised loss of a fixed head,
    ``(y − wᵀr_β(X))² + λ‖w‖²``.

    Parameters
    ----------
    t, v : array_like
        Angles and values ``(n, L)``.
    y : array_like
        Labels ``(n,)``.
    beta, query_angles
        As in :func:`representation` (``G`` values of β).
    head : array_like
        One head per β, ``(G, H)``.
    ridge : float
        ``λ >= 0``.

    Returns
    -------
    numpy.ndarray
        Losses ``(G, n)``; their mean estimates
        ``E y² − 2wᵀb + wᵀAw + λ‖w‖²``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> sampled_downstream_loss([[0.0, np.pi]], [[1.0, -1.0]], [2.0], 50.0,
    ...                         [0.0], [[1.0]], 0.5).round(6)
    array([[1.5]])
    """
    tt = _angles("t", t, min_len=1, ndim=2)
    yy = _same_shape("y", y, tt.shape[:1], "t")
    b = _grid(beta)
    H = _queries(query_angles).size
    w = _same_shape("head", head, (b.size, H), "beta and query_angles")
    lam = check_positive("ridge", ridge, allow_zero=True)
    r = representation(tt, v, b, query_angles)  # (G, n, H)
    pred = np.einsum("gnh,gh->gn", r, w)
    out = (yy[None, :] - pred) ** 2 + lam * (w * w).sum(-1)[:, None]
    return check_finite_result("loss", out)


def downstream_moments_given_keys(
    t, beta, query_angles, a, *, var_z: float, var_eps: float, degree: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Second moments of ``(r_β, y)`` given the keys, for ``y = a·z + η``.

    With ``W_Q`` the ``(H, L)`` head weights and ``Φ = φ(t)``:
    ``A = E[r rᵀ | t] = var_z (W_QΦ)(W_QΦ)ᵀ + var_eps W_Q W_Qᵀ`` and
    ``b = E[r y | t] = var_z W_Q Φ a`` (η, independent of ``X``, drops out).

    Parameters
    ----------
    t : array_like
        Angles ``(..., L)``.
    beta, query_angles
        As in :func:`representation`.
    a : array_like
        Label weights, length ``p = 2·degree + 1``.
    var_z, var_eps : float
        Variances (``>= 0``).
    degree : int
        Number of harmonics.

    Returns
    -------
    A : numpy.ndarray
        ``(G, ..., H, H)``.
    b : numpy.ndarray
        ``(G, ..., H)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> A, b = downstream_moments_given_keys([0.0, np.pi], 0.0, [0.0], [1.0],
    ...                                      var_z=1.0, var_eps=1.0, degree=0)
    >>> float(A[0, 0, 0]), float(b[0, 0])  # r = z + mean noise of two tokens
    (1.5, 1.0)
    """
    vz, ve = _variance("var_z", var_z), _variance("var_eps", var_eps)
    tt = _angles("t", t)
    b = _grid(beta)
    degree = check_int("degree", degree, minimum=0)
    q = torch.as_tensor(_queries(query_angles))
    Phi = torch.as_tensor(fourier_features(tt, degree))  # (..., L, p)
    av = torch.as_tensor(_latent_vector(a, Phi.shape[-1]))
    cos = torch.cos(q[:, None] - torch.as_tensor(tt)[..., None, :])  # (..., H, L)
    WQ = torch.softmax(_lead(b, cos.ndim) * cos, dim=-1)  # (G, ..., H, L)
    F = WQ @ Phi  # (G, ..., H, p)
    A = vz * F @ F.transpose(-1, -2) + ve * WQ @ WQ.transpose(-1, -2)
    return A.numpy(), (vz * F @ av).numpy()


class DownstreamFit(NamedTuple):
    """Best ridge head for each β: ``risk`` ``(...)`` and ``head`` ``(..., H)``."""

    risk: np.ndarray
    head: np.ndarray


def _moments(A, b) -> tuple[np.ndarray, np.ndarray]:
    A = check_array("A", A, min_ndim=2)
    if A.shape[-1] != A.shape[-2]:
        raise ValueError(f"A must have shape (..., H, H), got {A.shape}")
    b = _same_shape("b", b, A.shape[:-1], "A")
    scale = max(1.0, float(np.abs(A).max()))
    if np.abs(A - np.swapaxes(A, -1, -2)).max() > 1e-10 * scale:
        raise ValueError("A must be symmetric (a second-moment matrix)")
    return A, b


def downstream_risk(A, b, ey2: float, ridge: float) -> DownstreamFit:
    """``R_down = min_w E y² − 2wᵀb + wᵀAw + λ‖w‖²``
    ``= E y² − bᵀ(A + λI)⁻¹b``.

    Parameters
    ----------
    A : array_like
        Second moments ``E[r rᵀ]``, ``(..., H, H)``, symmetric positive semi-definite.
    b : array_like
        Cross moments ``E[r y]``, ``(..., H)``.
    ey2 : float
        ``E y² > 0``.
    ridge : float
        ``λ >= 0``; ``λ = 0`` uses the pseudo-inverse.

    Returns
    -------
    DownstreamFit
        ``risk (...)`` and the minimising ``head (..., H)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named), including ``A`` not positive semi-definite.

    Examples
    --------
    >>> fit = downstream_risk(np.eye(2), np.array([1.0, 0.0]), 2.0, 1.0)
    >>> float(fit.risk), fit.head
    (1.5, array([0.5, 0. ]))
    """
    A, b = _moments(A, b)
    ey2 = check_positive("ey2", ey2)
    lam = check_positive("ridge", ridge, allow_zero=True)
    scale = max(1.0, float(np.abs(A).max()))
    try:
        lowest = np.linalg.eigvalsh(A / scale).min()
    except np.linalg.LinAlgError:
        raise FloatingPointError("the eigenvalues of A did not converge") from None
    if lowest < -1e-10:
        raise ValueError("A must be positive semi-definite (a second-moment matrix)")
    H = A.shape[-1]
    try:
        if lam > 0:
            w = np.linalg.solve(A + lam * np.eye(H), b[..., None])[..., 0]
        else:
            w = (np.linalg.pinv(A, hermitian=True) @ b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise FloatingPointError(
            "A + ridge·I is singular in floating point (scale A, or raise ridge)"
        ) from None
    risk = (
        ey2
        - 2 * (w * b).sum(-1)
        + np.einsum("...i,...ij,...j->...", w, A, w)
        + lam * (w * w).sum(-1)
    )
    return DownstreamFit(
        risk=check_finite_result("risk", risk), head=check_finite_result("head", w)
    )


def downstream_per_sequence(A_seq, b_seq, head, ey2: float, ridge: float) -> np.ndarray:
    """Per-sequence risk of a fixed head,
    ``E y² − 2wᵀb_i + wᵀA_i w + λ‖w‖²``.

    Its mean over sequences is :func:`downstream_risk` at the averaged moments; since
    that head is optimal, first-order changes of the head do not move the risk
    (envelope theorem), so the standard deviation of these terms over ``√n`` is the
    delta-method Monte Carlo error of ``R_down``.

    Parameters
    ----------
    A_seq : array_like
        ``(G, n, H, H)``.
    b_seq : array_like
        ``(G, n, H)``.
    head : array_like
        ``(G, H)``.
    ey2, ridge : float
        As in :func:`downstream_risk`.

    Returns
    -------
    numpy.ndarray
        ``(G, n)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> A = np.ones((1, 2, 1, 1)); b = np.array([[[1.0], [0.0]]])
    >>> downstream_per_sequence(A, b, [[1.0]], 2.0, 0.0)
    array([[1., 3.]])
    """
    A_seq = check_array("A_seq", A_seq, ndim=4)
    if A_seq.shape[-1] != A_seq.shape[-2]:
        raise ValueError(f"A_seq must have shape (G, n, H, H), got {A_seq.shape}")
    b_seq = _same_shape("b_seq", b_seq, A_seq.shape[:-1], "A_seq")
    w = _same_shape("head", head, (A_seq.shape[0], A_seq.shape[-1]), "A_seq")
    ey2 = check_positive("ey2", ey2)
    lam = check_positive("ridge", ridge, allow_zero=True)
    quad = np.einsum("gi,gnij,gj->gn", w, A_seq, w)
    out = ey2 - 2 * np.einsum("gi,gni->gn", w, b_seq) + quad
    return check_finite_result("risk", out + lam * (w * w).sum(-1)[:, None])


# --- curves
class RiskCurves(NamedTuple):
    """Monte Carlo population risks on a grid from ``n`` key draws (common to every β).

    ``r_pre``, ``r_down`` ``(G,)``; per-sequence terms ``pre_seq``, ``down_seq``
    ``(G, n)`` whose means are the curves; ``head`` ``(G, H)``.
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
    chunk: int = 100,
) -> RiskCurves:
    """``R_pre`` and ``R_down`` on the grid ``beta`` from key angles ``t``.

    Both average conditional risks given the keys (:func:`masked_risk_given_keys`,
    :func:`downstream_moments_given_keys`); ``E y² = var_z ‖a‖² + var_y``; the
    head is fitted to the averaged moments (:func:`downstream_risk`).

    Parameters
    ----------
    t : array_like
        Key angles ``(n, L)``, ``n >= 2``.
    beta, query_angles, a
        As in :func:`downstream_moments_given_keys`.
    var_z, var_eps, var_y : float
        Variances of a latent coordinate, the token noise and the label noise.
    ridge : float
        ``λ >= 0``.
    degree, n_mask : int
        As in :func:`masked_risk_given_keys`.
    chunk : int
        Key sets processed at a time (memory only).

    Returns
    -------
    RiskCurves

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> t = sample_key_angles(20, 6, np.random.default_rng(0))
    >>> c = risk_curves(t, [1.0, 5.0], [0.0, 3.0], np.ones(5), var_z=1 / 3,
    ...                 var_eps=0.1, var_y=0.01, ridge=1e-3)
    >>> c.pre_seq.shape, bool(np.allclose(c.pre_seq.mean(1), c.r_pre))
    ((2, 20), True)
    """
    tt = _angles("t", t, min_len=2, ndim=2)
    if tt.shape[0] < 2:
        raise ValueError("t must hold at least 2 key sets (a Monte Carlo average)")
    chunk = check_int("chunk", chunk, minimum=1)
    vz, vy = _variance("var_z", var_z), _variance("var_y", var_y)
    _variance("var_eps", var_eps)
    check_positive("ridge", ridge, allow_zero=True)
    _queries(query_angles)
    _grid(beta)
    degree = check_int("degree", degree, minimum=0)
    mask_blocks(tt.shape[1], n_mask)
    av = _latent_vector(a, 2 * degree + 1)
    ey2 = vz * (av @ av) + vy
    ey2 = float(check_finite_result("E y² = var_z·‖a‖² + var_y", ey2))
    kw = dict(var_z=var_z, var_eps=var_eps, degree=degree)
    pre, A, b = [], [], []
    for s in range(0, tt.shape[0], chunk):  # bounds memory; each call is vectorised
        pre.append(masked_risk_given_keys(tt[s : s + chunk], beta, n_mask=n_mask, **kw))
        Ac, bc = downstream_moments_given_keys(
            tt[s : s + chunk], beta, query_angles, av, **kw
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
    h: float = 1e-3,
    tol: float = 1e-5,
    max_steps: int = 8,
) -> float:
    """Minimiser θ° of the Monte Carlo curve ``R_pre`` (keys ``t`` fixed), by Newton.

    Derivatives by central differences of step ``h`` on the common-random-number
    curve, which is smooth in β; the root of the central difference is off the
    minimiser by ``h²R'''/(6R'')``, negligible for the default ``h``.

    Parameters
    ----------
    t : array_like
        Key angles ``(n, L)``.
    beta_init : float
        Starting point (``> h``).
    var_z, var_eps, degree, n_mask
        As in :func:`masked_risk_given_keys`.
    h, tol : float
        Difference step and the Newton step size at which to stop.
    max_steps : int
        Newton steps allowed.

    Returns
    -------
    float
        θ°.

    Raises
    ------
    ValueError
        If the curvature is not positive, Newton leaves ``β > h`` or does not
        converge; or for a bad argument (named).

    Examples
    --------
    >>> t = sample_key_angles(200, 8, np.random.default_rng(1))
    >>> th = pretraining_optimum(t, 5.0, var_z=1 / 3, var_eps=1 / 12)
    >>> r = masked_risk_given_keys(t, [th - 0.1, th, th + 0.1], var_z=1 / 3,
    ...                            var_eps=1 / 12).mean(1)
    >>> bool(r[1] < r[0] and r[1] < r[2])
    True
    """
    b = check_positive("beta_init", beta_init)
    h = check_positive("h", h)
    tol = check_positive("tol", tol)
    steps = check_int("max_steps", max_steps, minimum=1)
    t = _angles("t", t, min_len=2, ndim=2)
    if b <= h:
        raise ValueError("beta_init must exceed h")
    step = math.inf
    for _ in range(steps):
        r = (
            masked_risk_given_keys(
                t,
                [b - h, b, b + h],
                var_z=var_z,
                var_eps=var_eps,
                degree=degree,
                n_mask=n_mask,
            )
            .reshape(3, -1)
            .mean(-1)
        )
        d1, d2 = (r[2] - r[0]) / (2 * h), (r[2] - 2 * r[1] + r[0]) / h**2
        if not d2 > 0:
            raise ValueError(
                f"R_pre of these t has non-positive curvature near beta={b:.4g}"
                f" (Newton from beta_init={beta_init}): no minimum there"
            )
        step = d1 / d2
        b = b - step
        if b <= h:
            raise ValueError(
                f"Newton from beta_init={beta_init} left the range beta > h"
            )
        if abs(step) < tol:
            return float(b)
    raise ValueError(
        f"Newton from beta_init={beta_init} did not converge in max_steps={steps}"
        f" steps (last step {step:.3g})"
    )


# --- constants
class TransferConstants(NamedTuple):
    """Global transfer constants on a grid (last axis), relative to θ° = argmin R_pre.

    ``index0`` of θ°; ``kappa`` = sup ΔR_down/ΔR_pre (+inf if some ΔR_pre = 0 with
    ΔR_down > 0 off θ°, or if the ratio exceeds the float range); ``kappa_sqrt`` =
    sup |ΔR_down|/√ΔR_pre; ``kappa_sqrt_plus`` the one-sided sup
    (ΔR_down)₊/√ΔR_pre; ``misalignment`` = R_down(θ°) − min R_down;
    ``index_sqrt`` the grid index where ``kappa_sqrt`` is attained.
    """

    index0: np.ndarray
    kappa: np.ndarray
    kappa_sqrt: np.ndarray
    kappa_sqrt_plus: np.ndarray
    misalignment: np.ndarray
    index_sqrt: np.ndarray


def _curves(r_pre, r_down) -> tuple[np.ndarray, np.ndarray]:
    rp = check_array("r_pre", r_pre, min_ndim=1)
    rd = _same_shape("r_down", r_down, rp.shape, "r_pre")
    if rp.shape[-1] < 2:
        raise ValueError(f"r_pre must have a grid of >= 2 points, got {rp.shape}")
    return rp, rd


def transfer_constants(r_pre, r_down) -> TransferConstants:
    """κ, κ', κ'_+ and the misalignment for curves on a common grid (last axis).

    Parameters
    ----------
    r_pre, r_down : array_like
        Risk curves ``(..., G)``, ``G >= 2``; leading axes are independent curves.

    Returns
    -------
    TransferConstants
        Each field of shape ``(...)``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> g = np.linspace(-1.0, 1.0, 5)
    >>> tc = transfer_constants(g**2, 0.3 * g)
    >>> float(tc.kappa_sqrt), float(tc.misalignment)
    (0.3, 0.3)
    """
    rp, rd = _curves(r_pre, r_down)
    i0 = np.argmin(rp, axis=-1)
    dp = check_finite_result("r_pre differences", rp - rp.min(-1, keepdims=True))
    dd = rd - np.take_along_axis(rd, i0[..., None], -1)
    check_finite_result("r_down differences", dd)
    off = np.ones(rp.shape, dtype=bool)
    np.put_along_axis(off, i0[..., None], False, -1)
    pos = off & (dp > 0)
    safe = np.where(pos, dp, 1.0)
    with np.errstate(over="ignore"):  # a ratio beyond the float range is unbounded
        lin = np.where(pos, dd / safe, -np.inf)
        sq = np.where(pos, np.abs(dd) / np.sqrt(safe), 0.0)
    lin = np.where(off & (dp == 0) & (dd > 0), np.inf, lin)
    sq = np.where(off & (dp == 0) & (dd != 0), np.inf, sq)
    sq_plus = np.where(dd > 0, sq, 0.0)
    mis = np.take_along_axis(rd, i0[..., None], -1)[..., 0] - rd.min(-1)
    kappa, kappa_sqrt = lin.max(-1), sq.max(-1)
    if not (np.all(np.isfinite(kappa)) and np.all(np.isfinite(kappa_sqrt))):
        warnings.warn(
            "a transfer constant is unbounded on this grid (r_pre ties with its"
            " minimum, or a ratio beyond the float range): returned as inf",
            stacklevel=2,
        )
    return TransferConstants(
        index0=i0,
        kappa=kappa,
        kappa_sqrt=kappa_sqrt,
        kappa_sqrt_plus=sq_plus.max(-1),
        misalignment=mis,
        index_sqrt=np.argmax(sq, axis=-1),
    )


class TransferConstantsSE(NamedTuple):
    """Batch-means standard errors of κ', κ'_+ and the misalignment."""

    kappa_sqrt: float
    kappa_sqrt_plus: float
    misalignment: float


def transfer_constants_se(
    pre_seq, down_seq, n_batches: int = 10
) -> TransferConstantsSE:
    """Monte Carlo standard errors of the global constants, by batch means.

    The key sets are split into ``B`` consecutive batches; the constants of each
    batch's mean curves are computed and their standard deviation over ``√B`` is the
    standard error of the full-sample constants.

    Parameters
    ----------
    pre_seq, down_seq : array_like
        Per-key-set terms ``(G, n)`` (see :class:`RiskCurves`).
    n_batches : int
        ``2 <= B <= n``.

    Returns
    -------
    TransferConstantsSE

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> g = np.linspace(-1.0, 1.0, 5)[:, None]
    >>> noise = np.random.default_rng(0).normal(0, 0.01, (5, 40))
    >>> se = transfer_constants_se(g**2 + 0 * noise, 0.3 * g + noise, 4)
    >>> 0 < se.kappa_sqrt < 0.05
    True
    """
    P = check_array("pre_seq", pre_seq, ndim=2)
    D = _same_shape("down_seq", down_seq, P.shape, "pre_seq")
    B = check_int("n_batches", n_batches, minimum=2, maximum=P.shape[1])
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unbounded batch constant raises below
        for idx in np.array_split(np.arange(P.shape[1]), B):
            tb = transfer_constants(P[:, idx].mean(1), D[:, idx].mean(1))
            out.append([tb.kappa_sqrt, tb.kappa_sqrt_plus, tb.misalignment])
    out = np.array(out, dtype=float)
    if not np.all(np.isfinite(out)):
        raise FloatingPointError(
            "a batch of pre_seq, down_seq has unbounded constants (ties with the"
            " minimum of its R_pre): no standard error"
        )
    _, se = mean_se(out, axis=0)
    return TransferConstantsSE(*(float(x) for x in se))


class LocalTransfer(NamedTuple):
    """Local constants from quadratic fits at the grid minimum of ``R_pre``.

    ``theta0``; ``slope_down`` = R'_down(θ°); ``curv_pre`` = R''_pre(θ°);
    ``curv_down`` = R''_down(θ°); ``kappa_local`` = R''_down/R''_pre;
    ``kappa_sqrt_local`` = |R'_down| √(2/R''_pre).
    """

    theta0: float
    slope_down: float
    curv_pre: float
    curv_down: float
    kappa_local: float
    kappa_sqrt_local: float


def local_transfer_constants(grid, r_pre, r_down, window: int = 2) -> LocalTransfer:
    """Fit quadratics to both curves on the ``2·window + 1`` points around
    argmin R_pre.

    θ° is the vertex of the ``R_pre`` quadratic; ``R'_down``, ``R''_down`` are read
    off the ``R_down`` quadratic at θ°.

    Parameters
    ----------
    grid : array_like
        Strictly increasing grid ``(G,)``.
    r_pre, r_down : array_like
        Curves ``(G,)``.
    window : int
        Half-width of the fit (``>= 1``).

    Returns
    -------
    LocalTransfer

    Raises
    ------
    ValueError
        Without an interior minimum of positive fitted curvature; or for a bad
        argument (named).

    Examples
    --------
    >>> g = np.linspace(0.0, 4.0, 9)
    >>> loc = local_transfer_constants(g, (g - 1.7) ** 2, 0.2 * (g - 1.7))
    >>> round(loc.theta0, 6), round(loc.kappa_sqrt_local, 6)
    (1.7, 0.2)
    """
    rp, rd = _curves(r_pre, r_down)
    g = _same_shape("grid", grid, rp.shape, "r_pre")
    if rp.ndim != 1:
        raise ValueError(f"r_pre and r_down must be 1-d, got {rp.shape}")
    if not np.all(np.diff(g) > 0):
        raise ValueError("grid must be strictly increasing")
    w = check_int("window", window, minimum=1)
    i0 = int(np.argmin(rp))
    if i0 - w < 0 or i0 + w >= len(g):
        raise ValueError(
            f"argmin of r_pre (index {i0}) is within window={w} of the grid's end:"
            " no interior minimum"
        )
    sl = slice(i0 - w, i0 + w + 1)
    x0 = g[i0]
    x = g[sl] - x0
    with np.errstate(over="ignore", under="ignore"):
        x4 = x[x != 0] ** 4
    if not (np.all(np.isfinite(x4)) and np.all(x4 > np.finfo(float).tiny)):
        raise ValueError("grid spacing is out of range for a quadratic fit (x⁴)")
    cp = np.polyfit(x, rp[sl], 2)
    cd = np.polyfit(x, rd[sl], 2)
    if cp[0] <= 0:
        raise ValueError("r_pre has non-positive fitted curvature at its minimum")
    u = -cp[1] / (2 * cp[0])
    curv_pre, curv_down = 2 * cp[0], 2 * cd[0]
    slope = 2 * cd[0] * u + cd[1]
    return LocalTransfer(
        theta0=float(x0 + u),
        slope_down=float(slope),
        curv_pre=float(curv_pre),
        curv_down=float(curv_down),
        kappa_local=float(curv_down / curv_pre),
        kappa_sqrt_local=float(abs(slope) * math.sqrt(2 / curv_pre)),
    )


class LocalTransferMC(NamedTuple):
    """Local transfer constants at θ° with delta-method standard errors (``_se``).

    ``kappa_signed`` = R'_down(θ°)·√(2/R''_pre) is κ'_loc with the slope's sign:
    smooth in the estimates even where the slope is near zero, so its delta-method
    error is valid there too (that of ``kappa_sqrt_local`` = |kappa_signed| is not).
    """

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
    kappa_signed: float
    kappa_signed_se: float


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
    """Slope and curvatures at θ° by central differences, with delta-method errors.

    The curves are evaluated at ``θ° + (−2, −1, 0, 1, 2)·h``: first and second
    derivatives from the three central points, the third derivative of ``R_pre`` from
    ``[R(θ+2h) − 2R(θ+h) + 2R(θ−h) − R(θ−2h)] / (2h³)``. With ``ψ`` the
    per-key-set differences and θ̂° solving ``R̂'_pre = 0``, the influences are:
    θ̂°: ``−ψ1_pre/c_pre``; slope ``S``: ``ψ1_down − (c_down/c_pre) ψ1_pre``;
    ``c_pre``: ``ψ2_pre − (third_pre/c_pre) ψ1_pre``; ``κ_s = S √(2/c_pre)``:
    ``√(2/c_pre) infl_S − κ_s infl_c/(2 c_pre)``; each standard error is the
    standard deviation of its influence over ``√n``.

    Parameters
    ----------
    t : array_like
        Key angles ``(n, L)``.
    theta0 : float
        θ° (``> 2h``), e.g. from :func:`pretraining_optimum` on the same keys.
    query_angles, a, var_z, var_eps, var_y, ridge, degree, n_mask
        As in :func:`risk_curves`.
    h : float
        Difference step.

    Returns
    -------
    LocalTransferMC

    Raises
    ------
    ValueError
        If ``R_pre`` is not convex at θ°; or for a bad argument (named).

    Examples
    --------
    >>> t = sample_key_angles(300, 8, np.random.default_rng(2))
    >>> kw = dict(var_z=1 / 3, var_eps=1 / 12, var_y=0.0, ridge=1e-3)
    >>> th = pretraining_optimum(t, 5.0, var_z=1 / 3, var_eps=1 / 12)
    >>> m = local_transfer_mc(t, th, [0.0, 2.0, 4.0], np.ones(5), **kw)
    >>> m.curv_pre > 0 and m.kappa_sqrt_local == abs(m.kappa_signed)
    True
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
    P, D = c.pre_seq, c.down_seq
    with np.errstate(over="ignore", invalid="ignore"):
        dp1 = (P[3] - P[1]) / (2 * h)
        dp2 = (P[3] - 2 * P[2] + P[1]) / h**2
        dp3 = (P[4] - 2 * P[3] + 2 * P[1] - P[0]) / (2 * h**3)
        dd1 = (D[3] - D[1]) / (2 * h)
    check_finite_result(
        "difference quotients of step h", np.stack([dp1, dp2, dp3, dd1])
    )
    cp, d3 = float(dp2.mean()), float(dp3.mean())
    cd = float((c.r_down[3] - 2 * c.r_down[2] + c.r_down[1]) / h**2)
    if not cp > 0:
        raise ValueError(
            f"R_pre of these t has non-positive curvature at theta0={th}: not a minimum"
        )
    slope = float((c.r_down[3] - c.r_down[1]) / (2 * h))
    with np.errstate(over="ignore", invalid="ignore"):
        infl_s = dd1 - (cd / cp) * dp1
        infl_c = dp2 - (d3 / cp) * dp1
        root = math.sqrt(2 / cp)
        ks = slope * root
        infl_k = root * infl_s - ks * infl_c / (2 * cp)
        check_finite_result(
            "influence terms (var_z, var_eps too large?)",
            np.stack([infl_s, infl_c, infl_k, (infl_k - infl_k.mean()) ** 2]),
        )

    def se(x):
        return float(mean_se(x)[1])

    return LocalTransferMC(
        theta0=th,
        theta0_se=se(dp1) / cp,
        slope_down=slope,
        slope_down_se=se(infl_s),
        curv_pre=cp,
        curv_pre_se=se(infl_c),
        curv_down=cd,
        third_pre=d3,
        kappa_local=cd / cp,
        kappa_sqrt_local=abs(ks),
        kappa_sqrt_local_se=se(infl_k),
        kappa_signed=ks,
        kappa_signed_se=se(infl_k),
    )


# --- experiments
class TransferRatios(NamedTuple):
    """Transfer ratios at ``θ° + side·h`` on one key sample
    (:func:`transfer_ratios`).

    ``h`` ``(K,)`` the distances ``h0·2^k``; ``side`` = ±1, the side where
    ``R_down`` increases; ``linear`` = ΔR_down/ΔR_pre and ``sqrt`` =
    |ΔR_down|/√ΔR_pre at those points; ``slope`` the least-squares slope of
    ``log linear`` on ``log h`` over ``h >= 2h0``; ``k`` the first-order coefficient of
    ``h·linear``; ``locality`` = ``|k| h_max``; ``slope_band`` = locality/(1 −
    locality); ``sqrt_limit`` the Richardson limit ``r(h_j) = 2q(h_j) − q(2h_j)`` of
    the square-root ratio ``q`` and ``sqrt_limit_band`` = ``|r(h_j) − r(2h_j)|``,
    three times its estimated remainder.
    """

    h: np.ndarray
    side: float
    linear: np.ndarray
    sqrt: np.ndarray
    slope: float
    k: float
    locality: float
    slope_band: float
    sqrt_limit: float
    sqrt_limit_band: float


def transfer_ratios(
    t,
    local: LocalTransferMC,
    query_angles,
    a,
    *,
    h0: float = 0.01,
    n_steps: int = 6,
    richardson: int = 2,
    var_z: float,
    var_eps: float,
    var_y: float,
    ridge: float,
    degree: int = 2,
    n_mask: int = 1,
) -> TransferRatios:
    """The linear and square-root transfer ratios near θ°, with their predicted
    limits.

    In the misaligned regime (``s = R'_down(θ°) ≠ 0``) the expansions of the chapter
    give ``h·ρ(h) = (2|s|/c_pre)(1 + kh + O(h²))`` for ``ρ = ΔR_down/ΔR_pre`` at
    ``θ° + side·h``, with ``k = c_down/(2|s|) − g3/(3 c_pre)`` (``g3`` the third
    derivative of ``R_pre`` along ``side``), so the log–log slope of ``ρ`` is
    ``−1`` up to ``|k| h_max/(1 − |k| h_max)``; and
    ``q(h) = |ΔR_down|/√ΔR_pre → κ'_loc`` linearly in ``h``, so the Richardson
    value ``r(h_j) = 2q(h_j) − q(2h_j)`` approaches κ'_loc with a remainder
    ``e ≈ c h_j²``; as ``r(2h_j) − r(h_j) ≈ 3e``, the band
    ``|r(2h_j) − r(h_j)|`` is three times the remainder. It also covers the
    central-difference error of κ'_loc itself (step ``h ≤ h_j/4`` in
    :func:`local_transfer_mc`: order ``h²``, a sixteenth of the remainder's scale).
    θ° must be the minimiser to much better than ``h0`` (a shift ``ε`` adds
    ``−ε/h`` to ``q``): :func:`pretraining_optimum` gives that.

    Parameters
    ----------
    t : array_like
        The key sample ``(n, L)`` that ``local`` was computed on.
    local : LocalTransferMC
        Its local constants (:func:`local_transfer_mc`).
    query_angles, a, var_z, var_eps, var_y, ridge, degree, n_mask
        As in :func:`risk_curves`.
    h0 : float
        Smallest distance; the distances are ``h0·2^k``, ``k < n_steps``.
    n_steps : int
        Number of distances (``>= 4``).
    richardson : int
        Index ``j`` of the distance ``h_j = h0·2^j`` of the Richardson value
        (``j + 3 <= n_steps``).

    Returns
    -------
    TransferRatios

    Raises
    ------
    ValueError
        If θ° is not a minimiser of this sample's ``R_pre`` along ``side`` or the
        ratios are not positive; or for a bad argument (named).

    Examples
    --------
    >>> t = sample_key_angles(100, 6, np.random.default_rng(3), concentration=2.0)
    >>> q, kw = np.pi + np.array([-0.6, 0.0, 0.6]), dict(var_z=1 / 3, var_eps=1 / 12)
    >>> th = pretraining_optimum(t, 10.0, **kw)
    >>> kw.update(var_y=0.0, ridge=1e-3)
    >>> loc = local_transfer_mc(t, th, q, np.ones(5), **kw)
    >>> tr = transfer_ratios(t, loc, q, np.ones(5), **kw)
    >>> bool(abs(tr.slope + 1) <= tr.slope_band)
    True
    """
    if not isinstance(local, LocalTransferMC):
        raise InputTypeError(f"local must be a LocalTransferMC, got {type(local)}")
    h0 = check_positive("h0", h0)
    K = check_int("n_steps", n_steps, minimum=4)
    j = check_int("richardson", richardson, minimum=0, maximum=K - 3)
    if local.slope_down == 0:
        raise ValueError("local.slope_down is 0: no side on which R_down increases")
    side = float(np.sign(local.slope_down))
    h = check_finite_result("h0·2^k", h0 * 2.0 ** np.arange(K))
    c = risk_curves(
        t,
        local.theta0 + np.concatenate([[0.0], side * h]),
        query_angles,
        a,
        var_z=var_z,
        var_eps=var_eps,
        var_y=var_y,
        ridge=ridge,
        degree=degree,
        n_mask=n_mask,
    )
    dpre, ddown = c.r_pre[1:] - c.r_pre[0], c.r_down[1:] - c.r_down[0]
    if not np.all(dpre > 0):
        raise ValueError(
            "local.theta0 is not the minimiser of R_pre for these t (within h0·2^k)"
        )
    lin, sq = ddown / dpre, np.abs(ddown) / np.sqrt(dpre)
    check_finite_result("transfer ratios", np.concatenate([lin, sq]))
    if not np.all(lin[1:] > 0):
        raise ValueError(
            "R_down (of t, query_angles, a) does not increase on the side of"
            " local.slope_down at every h0·2^k: h0 or n_steps too large"
        )
    slope = loglog_slope(h[1:], lin[1:])[0]
    g3 = side * local.third_pre
    k = local.curv_down / (2 * abs(local.slope_down)) - g3 / (3 * local.curv_pre)
    loc = abs(k) * h[-1]
    if not loc < 1:
        raise ValueError(
            f"|k|·h0·2^(n_steps-1) = {loc:.3g} >= 1: the window of distances is not"
            " local (lower h0 or n_steps)"
        )
    rich = 2 * sq[:-1] - sq[1:]  # Richardson values at h0, 2h0, ...
    return TransferRatios(
        h=h,
        side=side,
        linear=lin,
        sqrt=sq,
        slope=float(slope),
        k=float(k),
        locality=float(loc),
        slope_band=float(loc / (1 - loc)),
        sqrt_limit=float(rich[j]),
        sqrt_limit_band=float(abs(rich[j + 1] - rich[j])),
    )


class RefinedGrid(NamedTuple):
    """A refined grid ``grid`` ``(G',)`` and the index ``index0`` of its centre."""

    grid: np.ndarray
    index0: int


def refine_grid(grid, center: float, step: float, half_width: float) -> RefinedGrid:
    """Replace the points of ``grid`` near ``center`` by a finer grid.

    The new points are ``center + step·j`` for ``|step·j| <= half_width`` (inside the
    range of ``grid``), so ``center`` itself is a grid point.

    Parameters
    ----------
    grid : array_like
        Strictly increasing 1-d grid.
    center : float
        Inside ``[grid[0], grid[-1]]``.
    step, half_width : float
        The fine step and the half-width of the refined window (``> 0``).

    Returns
    -------
    RefinedGrid

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> refine_grid(np.arange(0.0, 5.0), 2.2, 0.5, 1.0)
    RefinedGrid(grid=array([0. , 1. , 1.2, 1.7, 2.2, 2.7, 3.2, 4. ]), index0=4)
    """
    g = check_array("grid", grid, ndim=1)
    if g.size < 2 or not np.all(np.diff(g) > 0):
        raise ValueError("grid must be strictly increasing with >= 2 points")
    c = check_real("center", center, low=g[0], high=g[-1])
    h = check_positive("step", step)
    w = check_positive("half_width", half_width)
    if not w / h <= 1e6:
        raise ValueError(
            f"half_width/step = {w / h:.3g}: a window of more than 2e6 points"
        )
    n = int(math.floor(w / h + 1e-9))
    win = c + h * np.arange(-n, n + 1)
    win = win[(win >= g[0]) & (win <= g[-1])]
    outside = g[np.abs(g - c) > w]
    fine = np.union1d(outside, win)
    return RefinedGrid(grid=fine, index0=int(np.argmin(np.abs(fine - c))))


def erm_sandwich(losses, grid, index0: int, curv_pre: float) -> float:
    """Asymptotic variance ``ς² = Var(∂_β loss)/c_pre²`` of
    ``√N (β̂_N − θ°)``.

    The per-sequence derivative at θ° = ``grid[index0]`` is the central difference of
    the losses at the neighbouring grid points.

    Parameters
    ----------
    losses : array_like
        Per-sequence losses ``(n, G)`` on ``grid``.
    grid : array_like
        ``(G,)``.
    index0 : int
        Interior index of θ°.
    curv_pre : float
        ``R''_pre(θ°) > 0``.

    Returns
    -------
    float
        ``ς²``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> g = np.array([-1.0, 0.0, 1.0]); s = np.array([-1.0, 1.0])[:, None]
    >>> erm_sandwich(0.5 * g**2 + s * g, g, 1, 1.0)  # derivatives ±1
    2.0
    """
    g = check_array("grid", grid, ndim=1)
    ls = check_array("losses", losses, ndim=2, shape=(None, g.size))
    i = check_int("index0", index0, minimum=1, maximum=g.size - 2)
    c = check_positive("curv_pre", curv_pre)
    d = (ls[:, i + 1] - ls[:, i - 1]) / (g[i + 1] - g[i - 1])
    return float(
        check_finite_result("varsigma²", np.var(d, ddof=1) / np.float64(c) ** 2)
    )


def rate_floor_bias(sizes, varsigma2: float, floor_var: float, weight: float = 1.0):
    """Slope bias of ``log E`` against ``log N`` from a floor under ``ς²/N``.

    If ``E[change_N] ∝ (ς²/N)(1 + w·φN/ς²)`` (a floor ``φ`` in the variance of
    the estimator's distance to the reference optimum: grid rounding ``h²/12``, the
    reference optimum's own error), the least-squares log–log slope over ``sizes``
    exceeds the floor-free slope by the slope of ``log(1 + w·φN/ς²)``, returned
    here. ``w = 1`` for the pretraining excess (quadratic in the distance) and
    ``w = ½`` for a change dominated by a linear term
    (``E|δ + e| ≈ E|δ|(1 + e²/2Var δ)``).

    Parameters
    ----------
    sizes : array_like
        At least 2 distinct sample sizes ``> 0``.
    varsigma2, floor_var : float
        ``ς² > 0`` and ``φ >= 0``.
    weight : float
        ``w >= 0``.

    Returns
    -------
    float
        The slope bias (``>= 0``).

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> rate_floor_bias([8, 16, 32], 1.0, 0.0)
    0.0
    >>> round(rate_floor_bias([8, 16, 32], 100.0, 0.1), 4)
    0.017
    """
    N = check_int_array("sizes", sizes, ndim=1, minimum=1).astype(float)
    if np.unique(N).size < 2:
        raise ValueError("sizes must hold at least 2 distinct values")
    s2 = check_positive("varsigma2", varsigma2)
    phi = check_positive("floor_var", floor_var, allow_zero=True)
    w = check_positive("weight", weight, allow_zero=True)
    return float(loglog_coefficients(N) @ np.log1p(w * phi * N / s2))


class ErmRates(NamedTuple):
    """Grid ERM on disjoint datasets of each size, and the rates of its changes.

    Per size ``N`` (tuples over ``sizes``): ``pre`` = R_pre(β̂_N) − R_pre(θ°),
    ``down`` = R_down(β̂_N) − R_down(θ°), ``sup_gap`` = sup_β |R̂_N − R_pre|,
    one entry per dataset. ``basic_slack`` = min over all datasets of
    ``R̂_N(θ°) − R̂_N(β̂_N)`` (ERM's basic inequality: ``>= 0``). ``mean_pre``
    and ``mean_down`` (of ``|down|``) per size; ``slope_*`` the least-squares log–log
    slopes in ``N`` with block-bootstrap standard errors ``se_*``. ``varsigma2`` the
    sandwich variance ``ς²`` of ``√N(β̂_N − θ°)``; ``floor_var`` the variance
    floor ``φ`` (grid rounding and the reference optimum's error); ``bias_*`` the
    largest slope bias (from ``φ``, or from ``E log(mean) < log E``); ``band_*`` =
    ``z·se_* + bias_*`` with ``z = Φ⁻¹(1 − fpp/4)``.
    """

    sizes: np.ndarray
    pre: tuple
    down: tuple
    sup_gap: tuple
    basic_slack: float
    mean_pre: np.ndarray
    mean_down: np.ndarray
    slope_pre: float
    se_pre: float
    slope_down: float
    se_down: float
    varsigma2: float
    floor_var: float
    bias_pre: float
    bias_down: float
    band_pre: float
    band_down: float


def _erm_at(losses: np.ndarray, N: int, r_pre, r_down, index0: int):
    emp = learning.block_empirical_risks(losses, N)  # (n / N, G)
    j = learning.grid_erm(emp)
    slack = emp[:, index0] - emp[np.arange(emp.shape[0]), j]
    gap = learning.sup_gap(emp, r_pre)
    return r_pre[j] - r_pre[index0], r_down[j] - r_down[index0], gap, slack


def _log_mean_bias(coef: np.ndarray, xs) -> float:
    """Slope bias from ``E log(mean) − log E ≈ −CV²/(2R)`` at each point."""
    cv2 = np.array([np.var(x, ddof=1) / np.mean(x) ** 2 for x in xs])
    return float(coef @ (-cv2 / (2 * np.array([x.size for x in xs]))))


def erm_rates(
    losses,
    sizes,
    grid,
    r_pre,
    r_down,
    index0: int,
    *,
    curv_pre: float,
    theta0_se: float,
    fpp: float,
    n_boot: int,
    rng,
) -> ErmRates:
    """Grid ERM for every disjoint dataset of each size, with rates in ``N``.

    The pool of ``n`` sequences is cut into ``n/N`` consecutive datasets of each size
    ``N``; changes are measured on the reference curves from ``θ° = grid[index0]``,
    which must minimise ``r_pre``. Slopes are least-squares fits of ``log(mean)`` on
    ``log N``; their standard errors resample whole blocks of ``max(sizes)``
    consecutive sequences (each block holds the same datasets at every size), so the
    dependence between sizes is respected.

    Bands. Asymptotically ``β̂_N − θ°`` is centred normal with variance
    ``ς²/N``, ``ς² = Var(∂_β loss)/c_pre²`` (estimated from the pool by
    :func:`erm_sandwich`). Measured from the reference optimum, the distance has the
    extra variance ``φ = h²/12 + e²`` (rounding to the grid step ``h`` at θ°, and
    the reference optimum's error ``e``, bounded by ``z·theta0_se``). That bends the
    curves by :func:`rate_floor_bias` (weight 1 for the pretraining excess, ½ for the
    downstream change); the log of a mean of ``R`` skewed terms is low by about
    ``CV²/(2R)``. Each band is ``z·se`` plus the larger of these biases, with
    ``z = Φ⁻¹(1 − fpp/4)``: ``fpp/2`` for the slope's error (two-sided) and
    ``fpp/2`` for the bound on ``e``.

    Parameters
    ----------
    losses : array_like
        Per-sequence losses ``(n, G)``; ``n`` a multiple of ``max(sizes)``, with at
        least 2 blocks.
    sizes : array_like
        Increasing dataset sizes, each dividing ``max(sizes)``.
    grid : array_like
        The parameter grid ``(G,)``, with θ° = ``grid[index0]`` interior.
    r_pre, r_down : array_like
        Reference curves ``(G,)``.
    index0 : int
        Index of θ°.
    curv_pre, theta0_se : float
        ``R''_pre(θ°) > 0`` of the reference curve and the standard error of its θ°.
    fpp : float
        False-alarm probability of each band.
    n_boot : int
        Bootstrap resamples.
    rng : numpy.random.Generator
        For the bootstrap.

    Returns
    -------
    ErmRates

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = np.linspace(-2.0, 2.0, 81)
    >>> losses = (g - rng.normal(0.0, 1.0, (512, 1))) ** 2  # ς² = 1
    >>> out = erm_rates(losses, [4, 16, 64], g, g**2, g, 40, curv_pre=2.0,
    ...                 theta0_se=0.0, fpp=1e-3, n_boot=200, rng=rng)
    >>> bool(abs(out.slope_pre + 1) < out.band_pre), round(out.varsigma2, 1)
    (True, 1.0)
    """
    rp, rd = _curves(r_pre, r_down)
    if rp.ndim != 1:
        raise ValueError(f"r_pre must be 1-d, got shape {rp.shape}")
    g = _same_shape("grid", grid, rp.shape, "r_pre")
    ls = check_array("losses", losses, ndim=2, shape=(None, rp.size))
    N = check_int_array("sizes", sizes, ndim=1, minimum=1)
    if N.size < 2 or not np.all(np.diff(N) > 0):
        raise ValueError("sizes must be increasing with at least 2 values")
    if np.any(N[-1] % N) or ls.shape[0] % N[-1]:
        raise ValueError("each size must divide max(sizes), which must divide n")
    i0 = check_int("index0", index0, minimum=1, maximum=rp.size - 2)
    if rp[i0] != rp.min():
        raise ValueError("r_pre must be smallest at index0 (theta° a minimiser)")
    cp = check_positive("curv_pre", curv_pre)
    se0 = check_positive("theta0_se", theta0_se, allow_zero=True)
    z = float(norm.isf(_fpp(fpp) / 4))
    n_boot = check_int("n_boot", n_boot, minimum=2)
    rng = check_rng("rng", rng)
    B = ls.shape[0] // N[-1]
    if B < 2:
        raise ValueError("n must hold at least 2 blocks of max(sizes) sequences")
    pre, down, gaps, slack = [], [], [], math.inf
    for n in N:
        p, d, gap, s = _erm_at(ls, int(n), rp, rd, i0)
        pre.append(p)
        down.append(d)
        gaps.append(gap)
        slack = min(slack, float(s.min()))
    absd = [np.abs(d) for d in down]
    blocks_pre = np.stack([p.reshape(B, -1).mean(1) for p in pre], axis=1)
    blocks_down = np.stack([d.reshape(B, -1).mean(1) for d in absd], axis=1)
    for what, blocks in (("r_pre", blocks_pre), ("r_down", blocks_down)):
        if not np.all(blocks.mean(0) > 0):
            raise ValueError(
                f"with these losses the ERM of every dataset of some size lands where"
                f" {what} equals its value at index0: no change to fit a rate to"
            )
    s_pre, se_pre = learning.bootstrap_loglog_slope(N, blocks_pre, n_boot, rng)
    s_down, se_down = learning.bootstrap_loglog_slope(N, blocks_down, n_boot, rng)
    vs2 = erm_sandwich(ls, g, i0, cp)
    if not vs2 > 0:
        raise ValueError(
            "varsigma² of these losses and curv_pre is 0 (no spread of the derivative"
            " at index0, or underflow): the floor bias is undefined"
        )
    phi = check_finite_result(
        "floor variance from theta0_se",
        ((g[i0 + 1] - g[i0 - 1]) / 2) ** 2 / 12 + (z * np.float64(se0)) ** 2,
    )
    coef = loglog_coefficients(N.astype(float))
    bias_pre = max(rate_floor_bias(N, vs2, phi), abs(_log_mean_bias(coef, pre)))
    bias_down = max(rate_floor_bias(N, vs2, phi, 0.5), abs(_log_mean_bias(coef, absd)))
    return ErmRates(
        sizes=N,
        pre=tuple(pre),
        down=tuple(down),
        sup_gap=tuple(gaps),
        basic_slack=slack,
        mean_pre=np.array([p.mean() for p in pre]),
        mean_down=np.array([d.mean() for d in absd]),
        slope_pre=float(s_pre),
        se_pre=float(se_pre),
        slope_down=float(s_down),
        se_down=float(se_down),
        varsigma2=vs2,
        floor_var=float(phi),
        bias_pre=bias_pre,
        bias_down=bias_down,
        band_pre=z * float(se_pre) + bias_pre,
        band_down=z * float(se_down) + bias_down,
    )


class LengthTrend(NamedTuple):
    """The uniform deviation against the sequence length (see :func:`length_trend`).

    ``lengths`` ``(K,)``; ``gaps`` ``(R, K)`` the sup-gaps of ``R`` datasets at each
    length; ``mean_gap`` ``(K,)``; ``pop_se`` ``(K,)`` the largest Monte Carlo standard
    error of the population curve; ``slope`` the log–log slope of the mean gap in
    ``L``; ``se`` its standard error, the bootstrap's over datasets combined with
    ``se_pop``, the slope's sensitivity to the population curves' Monte Carlo error;
    ``band`` = ``z_{1−fpp}·se``; ``alt_slope`` the slope of a ``√(log L)`` growth;
    ``power`` the probability of detecting it.
    """

    lengths: np.ndarray
    gaps: np.ndarray
    mean_gap: np.ndarray
    pop_se: np.ndarray
    slope: float
    se: float
    se_pop: float
    band: float
    alt_slope: float
    power: float


def length_trend(
    X: CircleSample,
    keys,
    lengths,
    N: int,
    beta,
    *,
    n_keys,
    var_z: float,
    var_eps: float,
    degree: int = 2,
    n_boot: int,
    rng,
    fpp: float,
) -> LengthTrend:
    """Sup-gap ``sup_β |R̂_{pre,N} − R_pre|`` at several lengths, and its trend
    in L.

    A sequence of length ``L`` is the first ``L`` tokens of the pool's sequences (an
    exchangeable sequence stays exchangeable when cut), so the same datasets serve every
    length. ``R_pre`` at length ``L`` is the Rao–Blackwellised curve from the first
    ``n_keys[k]`` rows of ``keys``. The test of "the deviation does not grow" is
    one-sided, ``slope <= z_{1−fpp}·se``; its power against a growth like
    ``√(log L)`` (log–log slope ``alt_slope``) is ``Φ(alt_slope/se − z)``. The
    population curve at length ``L_k`` is off by at most about its standard error
    ``p_k``, which moves ``log(mean gap)`` by at most ``p_k/gap_k``; treating these as
    independent errors adds ``Σ c_k² (p_k/gap_k)²`` (``c_k`` the least-squares
    weights) to the bootstrap variance.

    Parameters
    ----------
    X : lib.circle.CircleSample
        The pool, ``(n, L_max)``; ``n`` a multiple of ``N`` with ``n/N >= 2``.
    keys : array_like
        Key angles ``(m, L_max)`` for the population curves.
    lengths : array_like
        Increasing lengths ``2 <= L <= L_max``.
    N : int
        Dataset size.
    beta : array_like
        The parameter grid.
    n_keys : array_like
        Key sets used at each length (``<= m``).
    var_z, var_eps, degree
        As in :func:`masked_risk_given_keys`.
    n_boot : int
        Bootstrap resamples (whole datasets).
    rng : numpy.random.Generator
        For the bootstrap.
    fpp : float
        False-alarm probability of the one-sided test.

    Returns
    -------
    LengthTrend

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = sample_pretraining_sequences(64, 8, rng)
    >>> keys = sample_key_angles(100, 8, rng)
    >>> lt = length_trend(X, keys, [4, 8], 8, [1.0, 5.0], n_keys=[100, 50],
    ...                   var_z=1 / 3, var_eps=1 / 12, n_boot=50, rng=rng, fpp=0.01)
    >>> lt.gaps.shape
    (8, 2)
    """
    if not isinstance(X, CircleSample):
        raise InputTypeError(f"X must be a CircleSample, got {type(X)}")
    tt = _angles("X.t", X.t, min_len=2, ndim=2)
    vv = _same_shape("X.v", X.v, tt.shape, "X.t")
    kk = _angles("keys", keys, min_len=tt.shape[1], ndim=2)
    Ls = check_int_array("lengths", lengths, ndim=1, minimum=2, maximum=tt.shape[1])
    if Ls.size < 2 or not np.all(np.diff(Ls) > 0):
        raise ValueError("lengths must be increasing with at least 2 values")
    nk = check_int_array("n_keys", n_keys, ndim=1, minimum=2, maximum=kk.shape[0])
    if nk.shape != Ls.shape:
        raise ValueError(f"n_keys must have shape {Ls.shape}, got {nk.shape}")
    N = check_int("N", N, minimum=1)
    if tt.shape[0] % N or tt.shape[0] // N < 2:
        raise ValueError("the pool size must be a multiple of N with >= 2 datasets")
    b = _grid(beta)
    alpha = _fpp(fpp)
    n_boot = check_int("n_boot", n_boot, minimum=2)
    rng = check_rng("rng", rng)
    _variance("var_z", var_z), _variance("var_eps", var_eps)
    check_int("degree", degree, minimum=0)
    gaps, pop_se = [], []
    for L, m in zip(Ls, nk, strict=True):
        loss = masked_loss(tt[:, :L], vv[:, :L], b, dtype="float32").T
        pop = masked_risk_given_keys(
            kk[:m, :L], b, var_z=var_z, var_eps=var_eps, degree=degree
        )
        mean, se = mean_se(pop, axis=1)
        gaps.append(learning.sup_gap(learning.block_empirical_risks(loss, N), mean))
        pop_se.append(float(se.max()))
    G = check_finite_result("sup-gaps", np.stack(gaps, axis=1))
    check_finite_result("population standard errors", np.array(pop_se))
    slope, se_boot = learning.bootstrap_loglog_slope(Ls, G, n_boot, rng)
    coef = loglog_coefficients(Ls.astype(float))
    se_pop = float(np.sqrt(np.sum((coef * np.array(pop_se) / G.mean(0)) ** 2)))
    se = math.hypot(se_boot, se_pop)
    alt = float(coef @ (0.5 * np.log(np.log(Ls))))
    z = float(norm.isf(alpha))
    return LengthTrend(
        lengths=Ls,
        gaps=G,
        mean_gap=G.mean(0),
        pop_se=np.array(pop_se),
        slope=float(slope),
        se=se,
        se_pop=se_pop,
        band=z * se,
        alt_slope=alt,
        power=float(norm.cdf(alt / se - z)),
    )


class SweepPoint(NamedTuple):
    """Transfer constants of one design: κ'_loc with its error, μ, θ°, β*_down."""

    kappa: float
    kappa_se: float
    misalignment: float
    theta0: float
    beta_down: float


def sweep_point(
    t,
    grid,
    query_angles,
    a,
    *,
    var_z: float,
    var_eps: float,
    var_y: float,
    ridge: float,
    degree: int = 2,
    n_mask: int = 1,
) -> SweepPoint:
    """κ'_loc (delta-method error), misalignment, θ° and the downstream grid optimum.

    θ° by Newton (:func:`pretraining_optimum`) from the grid minimum, the local
    constants by :func:`local_transfer_mc`, the misalignment on ``grid``.

    Parameters
    ----------
    t : array_like
        Key angles ``(n, L)``.
    grid : array_like
        Parameter grid with an interior minimum of ``R_pre``.
    query_angles, a, var_z, var_eps, var_y, ridge, degree, n_mask
        As in :func:`risk_curves`.

    Returns
    -------
    SweepPoint

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named), or no interior minimum.

    Examples
    --------
    >>> t = sample_key_angles(100, 8, np.random.default_rng(4))
    >>> sp = sweep_point(t, np.arange(0.0, 20.0, 2.0), [0.0, 2.0, 4.0], np.ones(5),
    ...                  var_z=1 / 3, var_eps=1 / 12, var_y=0.0, ridge=1e-3)
    >>> sp.kappa_se > 0
    True
    """
    kw = dict(var_z=var_z, var_eps=var_eps, degree=degree, n_mask=n_mask)
    g = check_array("grid", grid, ndim=1, low=0.0)
    c = risk_curves(t, g, query_angles, a, var_y=var_y, ridge=ridge, **kw)
    start = local_transfer_constants(g, c.r_pre, c.r_down, window=1).theta0
    th = pretraining_optimum(t, start, tol=1e-3, **kw)
    lm = local_transfer_mc(t, th, query_angles, a, var_y=var_y, ridge=ridge, **kw)
    return SweepPoint(
        kappa=lm.kappa_sqrt_local,
        kappa_se=lm.kappa_sqrt_local_se,
        misalignment=float(transfer_constants(c.r_pre, c.r_down).misalignment),
        theta0=lm.theta0,
        beta_down=float(g[np.argmin(c.r_down)]),
    )


def extend_curves(
    curves: RiskCurves,
    grid,
    new_grid,
    t,
    query_angles,
    a,
    *,
    var_z: float,
    var_eps: float,
    var_y: float,
    ridge: float,
    degree: int = 2,
    n_mask: int = 1,
) -> RiskCurves:
    """The curves of :func:`risk_curves` on a new grid, reusing the points they share.

    Each β has its own optimal head, so points can be computed separately: the points
    of ``new_grid`` that are not in ``grid`` are evaluated on the same keys ``t``, the
    others copied.

    Parameters
    ----------
    curves : RiskCurves
        The curves of ``t`` on ``grid``.
    grid, new_grid : array_like
        Increasing 1-d grids.
    t, query_angles, a, var_z, var_eps, var_y, ridge, degree, n_mask
        As in :func:`risk_curves` (the same as for ``curves``).

    Returns
    -------
    RiskCurves
        On ``new_grid``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> t = sample_key_angles(10, 6, np.random.default_rng(0))
    >>> kw = dict(var_z=1 / 3, var_eps=0.1, var_y=0.01, ridge=1e-3)
    >>> q, a = [0.0, 3.0], np.ones(5)
    >>> c = risk_curves(t, [1.0, 3.0], q, a, **kw)
    >>> e = extend_curves(c, [1.0, 3.0], [1.0, 2.0, 3.0], t, q, a, **kw)
    >>> d = risk_curves(t, [1.0, 2.0, 3.0], q, a, **kw)
    >>> bool(np.allclose(e.r_down, d.r_down) and np.allclose(e.pre_seq, d.pre_seq))
    True
    """
    if not isinstance(curves, RiskCurves):
        raise InputTypeError(f"curves must be a RiskCurves, got {type(curves)}")
    g = check_array("grid", grid, ndim=1)
    if g.shape != curves.r_pre.shape:
        raise ValueError(f"grid must have the curves' shape {curves.r_pre.shape}")
    ng = check_array("new_grid", new_grid, ndim=1, low=0.0)
    new = ~np.isin(ng, g)
    old = np.searchsorted(g, ng[~new])
    fields = {}
    if new.any():
        cn = risk_curves(
            t,
            ng[new],
            query_angles,
            a,
            var_z=var_z,
            var_eps=var_eps,
            var_y=var_y,
            ridge=ridge,
            degree=degree,
            n_mask=n_mask,
        )
    for name in RiskCurves._fields:
        have = getattr(curves, name)
        arr = np.empty((ng.size,) + have.shape[1:])
        arr[~new] = have[old]
        if new.any():
            arr[new] = getattr(cn, name)
        fields[name] = arr
    return RiskCurves(**fields)


class Agreement(NamedTuple):
    """Largest ``|z|`` of two independent Monte Carlo estimates over a grid.

    ``z`` ``(G,)`` the standardised differences; ``z_max``; ``z_crit`` the
    Bonferroni critical value for the stated false-alarm probability.
    """

    z: np.ndarray
    z_max: float
    z_crit: float


def mc_agreement(sampled, population, fpp: float) -> Agreement:
    """Compare a sampled mean with a Rao–Blackwellised one, at every grid point.

    ``z_g = (mean(sampled_g) − mean(population_g)) / √(se_s² + se_p²)`` from the
    independent terms of each; if both estimate the same curve, ``max |z| > z_crit``
    with ``z_crit = Φ⁻¹(1 − fpp/(2G))`` has probability at most ``fpp``
    (Bonferroni, normal approximation).

    Parameters
    ----------
    sampled : array_like
        Terms ``(G, n)`` (e.g. losses of sampled sequences).
    population : array_like
        Terms ``(G, m)`` (e.g. conditional risks of key sets).
    fpp : float
        False-alarm probability in ``(0, 1)``.

    Returns
    -------
    Agreement

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ag = mc_agreement(rng.normal(size=(3, 400)), rng.normal(size=(3, 100)), 1e-3)
    >>> bool(ag.z_max < ag.z_crit), round(ag.z_crit, 2)
    (True, 3.59)
    """
    S = check_array("sampled", sampled, ndim=2)
    Pp = check_array("population", population, ndim=2, shape=(S.shape[0], None))
    for name, arr in (("sampled", S), ("population", Pp)):
        if arr.shape[1] < 2:
            raise ValueError(f"{name} needs at least 2 terms per grid point")
    alpha = _fpp(fpp)
    ms, ss = mean_se(S, axis=1)
    mp, sp_ = mean_se(Pp, axis=1)
    se = np.sqrt(ss**2 + sp_**2)
    if np.any(se == 0):
        raise ValueError("a grid point has zero Monte Carlo error in both estimates")
    z = (ms - mp) / se
    return Agreement(
        z=z,
        z_max=float(np.abs(z).max()),
        z_crit=float(norm.isf(alpha / (2 * S.shape[0]))),
    )


def _mean_abs_quadratic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``E|aZ + bZ²|`` for ``Z ~ N(0, 1)``, in closed form (``a``, ``b`` broadcast).

    With ``f = aZ + bZ²`` (``b > 0``; ``b < 0`` by symmetry), ``f < 0`` exactly between
    the roots ``0`` and ``−a/b``, and ``E|f| = E f − 2 E[f; f < 0]`` with
    ``∫ z² φ = Φ − zφ`` and ``∫ z φ = −φ``.
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    sign = np.where(b < 0, -1.0, 1.0)
    a, b = a * sign, b * sign
    out = np.abs(a) * math.sqrt(2 / math.pi)  # b = 0
    nz = b > 0
    with np.errstate(over="ignore"):
        r = np.clip(-a[nz] / b[nz], -40.0, 40.0)  # beyond ±40 the normal mass is nil
    lo, hi = np.minimum(r, 0.0), np.maximum(r, 0.0)
    z2 = (norm.cdf(hi) - hi * norm.pdf(hi)) - (norm.cdf(lo) - lo * norm.pdf(lo))
    z1 = norm.pdf(lo) - norm.pdf(hi)
    out[nz] = b[nz] - 2 * (b[nz] * z2 + a[nz] * z1)
    return out


class AsymptoticChanges(NamedTuple):
    """Asymptotic means of the pretraining excess and of the downstream change."""

    pre: np.ndarray
    down: np.ndarray


def asymptotic_changes(sizes, varsigma2: float, local) -> AsymptoticChanges:
    """``E ΔR_pre(β̂_N) ≈ c_pre ς²/(2N)`` and
    ``E|ΔR_down(β̂_N)| ≈ E|sδ + c_down δ²/2|``.

    With ``δ = ς Z/√N``, ``Z ~ N(0, 1)``: the quadratic approximations of the two
    curves at θ° evaluated at the asymptotic law of ERM's estimate.

    Parameters
    ----------
    sizes : array_like
        Sample sizes ``N > 0``.
    varsigma2 : float
        ``ς² > 0`` (:func:`erm_sandwich`).
    local : LocalTransferMC or LocalTransfer
        ``slope_down``, ``curv_pre``, ``curv_down`` of the curves the changes are
        measured on.

    Returns
    -------
    AsymptoticChanges
        ``pre`` and ``down``, each with the shape of ``sizes``.

    Raises
    ------
    ValueError, InputTypeError
        For a bad argument (named).

    Examples
    --------
    >>> loc = LocalTransfer(0.0, 1.0, 2.0, 0.0, 0.0, 1.0)
    >>> out = asymptotic_changes([1, 4], 1.0, loc)
    >>> out.pre, out.down.round(4)  # E|Z|/√N = √(2/π)/√N
    (array([1.  , 0.25]), array([0.7979, 0.3989]))
    """
    N = check_int_array("sizes", sizes, ndim=1, minimum=1).astype(float)
    s2 = check_positive("varsigma2", varsigma2)
    if not isinstance(local, (LocalTransferMC, LocalTransfer)):
        raise InputTypeError(f"local must hold local constants, got {type(local)}")
    cp = check_positive("local.curv_pre", local.curv_pre)
    s = check_real("local.slope_down", local.slope_down)
    cd = check_real("local.curv_down", local.curv_down)
    sd = np.sqrt(s2 / N)
    return AsymptoticChanges(
        pre=cp * s2 / (2 * N), down=_mean_abs_quadratic(s * sd, cd * sd**2 / 2)
    )


def tracking_pairs(rates: ErmRates) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs ``(ΔR_pre(β̂), |ΔR_down(β̂)|)`` of every dataset with
    ``β̂ ≠ θ°``.

    Parameters
    ----------
    rates : ErmRates
        The output of :func:`erm_rates`.

    Returns
    -------
    x, y : numpy.ndarray
        The positive pretraining excesses and the matching downstream changes.
    n_zero : int
        Datasets whose ERM is θ° itself (zero excess).

    Raises
    ------
    InputTypeError
        If ``rates`` is not an :class:`ErmRates`.

    Examples
    --------
    >>> r = ErmRates(*([None] * 17))._replace(
    ...     pre=(np.array([0.0, 0.5]),), down=(np.array([0.0, -0.1]),))
    >>> tracking_pairs(r)
    (array([0.5]), array([0.1]), 1)
    """
    if not isinstance(rates, ErmRates):
        raise InputTypeError(f"rates must be an ErmRates, got {type(rates)}")
    x = np.concatenate(rates.pre)
    y = np.abs(np.concatenate(rates.down))
    pos = x > 0
    return x[pos], y[pos], int(np.sum(~pos))
