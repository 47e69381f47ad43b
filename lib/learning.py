"""Supervised learning of the attention parameter: ERM on a grid, uniform convergence, Rademacher.

Chapter 4 learns the inverse temperature β ∈ [0, B] of softmax attention by empirical risk
minimisation. Everything here works on a precomputed **loss matrix**: ``losses[..., i, g]`` is the
loss of the i-th example under the g-th grid value of the parameter. With it, ERM for many datasets
at once is an ``argmin`` over the last axis, the sup-gap is a ``max`` of ``|R̂ − R|``, and the
empirical Rademacher complexity is a matrix product with random signs: no optimiser, no Python loop
over datasets.

The uniform-convergence bound (the chapter's theorem): if the loss takes values in ``[0, M]`` and is
``Λ``-Lipschitz in a scalar parameter ranging over ``[0, B]``, then with probability ``≥ 1 − δ``

    sup_β |R(β) − R̂_N(β)| ≤ Λ ε + M sqrt( log(2 ⌈B/ε⌉ / δ) / (2N) )

for every ``ε > 0``. Proof sketch: the ``n = ⌈B/ε⌉`` midpoints ``(j − ½) ε`` (clipped to ``B``) are
within ``ε/2`` of every β; ``R − R̂_N`` is ``2Λ``-Lipschitz, which costs ``2Λ · ε/2 = Λε``; Hoeffding's
two-sided inequality and a union bound over the ``n`` points give the second term.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from lib.attention import softmax_attention
from lib.montecarlo import loglog_slope  # re-exported: chapters 4–5 import it from here
from lib.validation import check_int, check_positive, check_rng

__all__ = [
    "uniform_convergence_bound",
    "net_size",
    "squared_loss_constants",
    "grid_erm",
    "block_empirical_risks",
    "attention_loss_matrix",
    "linear_model_risk_matrix",
    "sup_gap",
    "excess_risk",
    "empirical_rademacher",
    "beta_derivative_autograd",
    "beta_derivative_covariance",
    "loglog_slope",
    "bootstrap_loglog_slope",
    "tightest_uniform_convergence_bound",
]


def _check_open_probability(name: str, value) -> float:
    v = check_positive(name, value)
    if not v < 1:
        raise ValueError(f"{name} must lie in (0, 1), got {value!r}")
    return v


def _check_sizes(name: str, N) -> np.ndarray:
    arr = np.asarray(N)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(
            f"{name} must be a positive integer or an array of them, got {N!r}"
        )
    arr = arr.astype(float)
    if (
        arr.size == 0
        or not np.all(np.isfinite(arr))
        or np.any(arr < 1)
        or np.any(arr != np.round(arr))
    ):
        raise ValueError(
            f"{name} must be a positive integer or an array of them, got {N!r}"
        )
    return arr


def net_size(param_range: float, eps: float) -> int:
    """Number ``⌈B/ε⌉`` of points of the ε-net of ``[0, B]`` used by the bound (covering radius ``ε/2``)."""
    B = check_positive("param_range", param_range)
    e = check_positive("eps", eps)
    # guard against B/ε = 3.0000000000000004 rounding up to 4 through floating point
    return max(1, math.ceil(B / e - 1e-12))


def uniform_convergence_bound(
    N, delta: float, loss_bound: float, lipschitz: float, param_range: float, eps: float
):
    """High-probability bound on ``sup_{β∈[0,B]} |R(β) − R̂_N(β)|``, vectorised over ``N``.

    Returns ``Λ ε + M sqrt(log(2 ⌈B/ε⌉ / δ) / (2N))`` with ``M = loss_bound`` (losses in ``[0, M]``),
    ``Λ = lipschitz`` (per-example Lipschitz constant of the loss in β), ``B = param_range``.
    A float for scalar ``N``, an array of the shape of ``N`` otherwise.
    """
    Ns = _check_sizes("N", N)
    delta = _check_open_probability("delta", delta)
    M = check_positive("loss_bound", loss_bound)
    lam = check_positive("lipschitz", lipschitz, allow_zero=True)
    eps = check_positive("eps", eps)
    n = net_size(param_range, eps)
    out = lam * eps + M * np.sqrt(np.log(2 * n / delta) / (2 * Ns))
    return float(out) if np.ndim(N) == 0 else out


def squared_loss_constants(
    value_bound: float,
    label_bound: float,
    query_norm: float = 1.0,
    key_norm: float = 1.0,
):
    """Constants ``(M, Λ)`` of the squared loss ``(y − attn_β(q; X))²`` for ``|v| ≤ B_V``, ``|y| ≤ B_Y``.

    The prediction is a convex combination of values, so ``|y − attn| ≤ B_Y + B_V`` and
    ``M = (B_Y + B_V)²``. By the covariance lemma ``|∂attn/∂β| ≤ B_V B_Q B_K``, hence
    ``Λ = 2 (B_Y + B_V) B_V B_Q B_K``. Independent of the sequence length L.
    """
    bv = check_positive("value_bound", value_bound)
    by = check_positive("label_bound", label_bound, allow_zero=True)
    bq = check_positive("query_norm", query_norm)
    bk = check_positive("key_norm", key_norm)
    err = by + bv
    return err**2, 2 * err * bv * bq * bk


def _as_array(name: str, x, min_ndim: int = 1) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x, dtype=float)
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def grid_erm(risks, axis: int = -1) -> np.ndarray:
    """Index of the empirical risk minimiser on the parameter grid, for every dataset at once.

    ``risks`` has the grid along ``axis`` (e.g. shape ``(..., G)``); returns the integer indices of
    the (first) minimiser, shape ``risks.shape`` without ``axis``.
    """
    r = _as_array("risks", risks)
    return np.argmin(r, axis=axis)


def block_empirical_risks(losses, N: int) -> np.ndarray:
    """Empirical risks of the disjoint datasets of ``N`` consecutive examples (a reshape, no loop).

    ``losses`` has shape ``(..., n, G)``; the first ``⌊n/N⌋·N`` examples are cut into ``⌊n/N⌋``
    datasets of size ``N``. Returns shape ``(..., ⌊n/N⌋, G)`` with entries
    ``R̂[..., r, g] = (1/N) Σ_{i<N} losses[..., rN + i, g]``.
    """
    ls = _as_array("losses", losses, min_ndim=2)
    n = ls.shape[-2]
    N = check_int("N", N, minimum=1, maximum=n)
    R = n // N
    blocks = ls[..., : R * N, :].reshape(*ls.shape[:-2], R, N, ls.shape[-1])
    return blocks.mean(axis=-2)


def attention_loss_matrix(
    q, K, V, y, betas, *, chunk_elements: int = 1_000_000, dtype=torch.float32
) -> np.ndarray:
    """Squared losses ``(y_i − attn_β(q; K_i, V_i))²`` for every sequence i and grid value β, shape ``(n, G)``.

    ``q`` is one query ``(d,)`` or ``(1, d)``; ``K (n, L, d)``; ``V (n, L)`` (scalar values); ``y (n,)``;
    ``betas`` a 1-d grid. Calls :func:`lib.attention.softmax_attention` with ``β`` of shape
    ``(G, 1, 1, 1)`` on chunks of sequences holding about ``chunk_elements`` scores each (cache
    sized); the attention runs in ``dtype`` (float32 by default: ~1e-7 relative error, far below
    the statistical errors of the book) and the losses are returned in float64.
    """
    b = _beta_tensor(betas)
    if torch.any(b < 0):
        raise ValueError("betas must be >= 0")
    qa = _as_array("q", q)
    if qa.ndim == 1:
        qa = qa[None, :]
    if qa.shape[0] != 1 or qa.ndim != 2:
        raise ValueError(
            f"q must be a single query of shape (d,) or (1, d), got {qa.shape}"
        )
    Ka = _as_array("K", K, min_ndim=3)
    Va = _as_array("V", V, min_ndim=2)
    ya = _as_array("y", y)
    if (
        Ka.ndim != 3
        or Va.shape != Ka.shape[:2]
        or ya.shape != Ka.shape[:1]
        or Ka.shape[2] != qa.shape[1]
    ):
        raise ValueError(
            f"need q (d,), K (n, L, d), V (n, L), y (n,) with matching n, L, d; got q {qa.shape}, "
            f"K {Ka.shape}, V {Va.shape}, y {ya.shape}"
        )
    chunk_elements = check_int("chunk_elements", chunk_elements, minimum=1)
    n, L, _ = Ka.shape
    G = b.numel()
    step = max(1, chunk_elements // (G * L))
    qt = torch.as_tensor(qa, dtype=dtype)
    beta = b.to(dtype).reshape(G, 1, 1, 1)
    out = np.empty((n, G))
    with torch.no_grad():
        for start in range(
            0, n, step
        ):  # chunks only bound the memory; each call is vectorised
            Kc = torch.as_tensor(Ka[start : start + step], dtype=dtype)
            Vc = torch.as_tensor(Va[start : start + step, :, None], dtype=dtype)
            pred = softmax_attention(qt, Kc, Vc, beta)[..., 0, 0]  # (G, chunk)
            out[start : start + step] = pred.T.double().numpy()
    return (ya[:, None] - out) ** 2


def linear_model_risk_matrix(
    q,
    K,
    Phi,
    target,
    betas,
    *,
    latent_var: float,
    noise_var: float,
    label_noise_var: float,
    chunk_elements: int = 1_000_000,
    dtype=torch.float32,
) -> np.ndarray:
    """Risk of ``attn_β(q; X)`` for the label ``y = target·z + η`` given only the keys, shape ``(n, G)``.

    Model: values ``v_ℓ = Φ_ℓ·z + ε_ℓ`` with ``E z = 0``, ``Cov z = a I`` (``a = latent_var``),
    ``ε_ℓ`` independent with mean 0 and variance ``s`` (``noise_var``), label noise ``η`` with mean 0,
    variance ``c`` (``label_noise_var``), all independent of the keys. The prediction
    ``Σ_ℓ w_ℓ v_ℓ`` is linear in ``(z, ε)`` with key-dependent weights ``w = softmax(β q·k)``, so
    its conditional risk given the keys is exactly

        r(β; K) = E[(y − Σ_ℓ w_ℓ v_ℓ)² | K] = a ‖target − Φᵀw‖² + s ‖w‖² + c.

    Averaging ``r`` over key draws estimates ``R(β)`` with a far smaller Monte Carlo error than
    averaging losses (z, ε and η are integrated out exactly: Rao–Blackwellisation).
    ``q (d,)``, ``K (n, L, d)``, ``Phi (n, L, p)``, ``target (p,)``; ``betas`` a 1-d grid.
    """
    b = _beta_tensor(betas)
    if torch.any(b < 0):
        raise ValueError("betas must be >= 0")
    qa = _as_array("q", q)
    qa = qa[None, :] if qa.ndim == 1 else qa
    Ka = _as_array("K", K, min_ndim=3)
    Pa = _as_array("Phi", Phi, min_ndim=3)
    ta = _as_array("target", target)
    if qa.shape[0] != 1 or qa.ndim != 2 or Ka.ndim != 3 or Pa.ndim != 3 or ta.ndim != 1:
        raise ValueError(
            f"need q (d,), K (n, L, d), Phi (n, L, p), target (p,); got {qa.shape}, {Ka.shape}, {Pa.shape}, {ta.shape}"
        )
    if (
        Pa.shape[:2] != Ka.shape[:2]
        or Pa.shape[2] != ta.size
        or Ka.shape[2] != qa.shape[1]
    ):
        raise ValueError(
            f"shapes do not match: q {qa.shape}, K {Ka.shape}, Phi {Pa.shape}, target {ta.shape}"
        )
    a = check_positive("latent_var", latent_var, allow_zero=True)
    s = check_positive("noise_var", noise_var, allow_zero=True)
    c = check_positive("label_noise_var", label_noise_var, allow_zero=True)
    chunk_elements = check_int("chunk_elements", chunk_elements, minimum=1)
    n, L, _ = Ka.shape
    G = b.numel()
    step = max(1, chunk_elements // (G * L))
    qt = torch.as_tensor(qa, dtype=dtype)
    tt = torch.as_tensor(ta, dtype=torch.float64)
    beta = b.to(dtype).reshape(G, 1, 1, 1)
    out = np.empty((n, G))
    with torch.no_grad():
        for start in range(0, n, step):  # chunks only bound the memory
            Kc = torch.as_tensor(Ka[start : start + step], dtype=dtype)
            Pc = torch.as_tensor(Pa[start : start + step], dtype=dtype)
            mean_phi, w = softmax_attention(
                qt, Kc, Pc, beta, return_weights=True
            )  # (G,c,1,p), (G,c,1,L)
            bias2 = ((tt - mean_phi[:, :, 0].double()) ** 2).sum(-1)  # (G, c)
            w2 = (w[:, :, 0].double() ** 2).sum(-1)
            out[start : start + step] = (a * bias2 + s * w2 + c).T.numpy()
    return out


def sup_gap(emp_risks, pop_risk) -> np.ndarray:
    """``sup_g |R̂(β_g) − R(β_g)|`` over the grid (last axis); ``pop_risk`` broadcasts against ``emp_risks``."""
    e = _as_array("emp_risks", emp_risks)
    p = _as_array("pop_risk", pop_risk)
    try:
        d = e - p
    except ValueError:
        raise ValueError(
            f"pop_risk {p.shape} does not broadcast against emp_risks {e.shape}"
        ) from None
    return np.max(np.abs(d), axis=-1)


def excess_risk(emp_risks, pop_risk) -> np.ndarray:
    """``R(β̂) − min_g R(β_g)`` where ``β̂`` minimises the empirical risk on the grid (last axis)."""
    e = _as_array("emp_risks", emp_risks)
    p = _as_array("pop_risk", pop_risk)
    if p.shape[-1] != e.shape[-1]:
        raise ValueError(
            f"pop_risk and emp_risks must share the grid axis, got {p.shape} and {e.shape}"
        )
    p_b = np.broadcast_to(p, e.shape)
    chosen = np.take_along_axis(p_b, grid_erm(e)[..., None], axis=-1)[..., 0]
    return chosen - p.min(axis=-1)


def empirical_rademacher(losses, n_signs: int, rng: np.random.Generator):
    """Monte Carlo estimate of ``E_σ sup_g (1/N) Σ_i σ_i losses[..., i, g]`` (exact sup over the grid).

    ``losses`` has shape ``(..., N, G)``; ``σ`` are i.i.d. Rademacher signs, ``n_signs`` draws per
    sample. Returns ``(estimate, standard_error)``, each of shape ``(...)``: the mean over sign draws
    and its Monte Carlo standard error.
    """
    ls = _as_array("losses", losses, min_ndim=2)
    S = check_int("n_signs", n_signs, minimum=2)
    rng = check_rng("rng", rng)
    N = ls.shape[-2]
    signs = rng.integers(0, 2, size=(*ls.shape[:-2], S, N)) * 2.0 - 1.0
    sups = np.max(signs @ ls, axis=-1) / N  # (..., S)
    return sups.mean(axis=-1), sups.std(axis=-1, ddof=1) / math.sqrt(S)


def _beta_tensor(betas) -> torch.Tensor:
    b = torch.as_tensor(
        np.asarray(betas, dtype=float) if not isinstance(betas, torch.Tensor) else betas
    )
    b = b.to(torch.float64).reshape(-1)
    if b.numel() == 0 or not torch.all(torch.isfinite(b)):
        raise ValueError("betas must be a non-empty finite 1-d array")
    return b


def beta_derivative_autograd(q, K, V, betas) -> torch.Tensor:
    """``∂/∂β attn_β(q; K, V)`` by torch autograd, for a grid of β, shape ``(G, ..., M, d_v)``.

    Shapes as in :func:`lib.attention.softmax_attention`: ``q (..., M, d)``, ``K (..., L, d)``,
    ``V (..., L, d_v)``; ``betas`` a 1-d grid of G values. β is given one independent copy per
    output row, so a backward pass of the sum returns every row's own derivative.
    """
    b = _beta_tensor(betas)
    q, K, V = (torch.as_tensor(x, dtype=torch.float64) for x in (q, K, V))
    batch = torch.broadcast_shapes(q.shape[:-2], K.shape[:-2], V.shape[:-2])
    M = q.shape[-2]
    shape = (b.numel(), *batch, M, 1)
    beta = (
        b.reshape((-1,) + (1,) * (len(shape) - 1))
        .expand(shape)
        .clone()
        .requires_grad_(True)
    )
    out = softmax_attention(q, K, V, beta)  # (G, ..., M, d_v)
    cols = []
    for j in range(out.shape[-1]):  # d_v backward passes (d_v = 1 in the book)
        (g,) = torch.autograd.grad(
            out[..., j].sum(), beta, retain_graph=j + 1 < out.shape[-1]
        )
        cols.append(g)
    return torch.cat(cols, dim=-1)


def beta_derivative_covariance(q, K, V, betas) -> torch.Tensor:
    """The covariance form of the same derivative: ``Cov_p(v, q·k)`` under the attention weights ``p``.

    ``∂/∂β Σ_ℓ p_ℓ v_ℓ = Σ_ℓ p_ℓ v_ℓ s_ℓ − (Σ_ℓ p_ℓ v_ℓ)(Σ_ℓ p_ℓ s_ℓ)`` with ``s_ℓ = q·k_ℓ`` and
    ``p = softmax(β s)``. Shape ``(G, ..., M, d_v)``, like :func:`beta_derivative_autograd`.
    """
    b = _beta_tensor(betas)
    q, K, V = (torch.as_tensor(x, dtype=torch.float64) for x in (q, K, V))
    nd = max(q.ndim, K.ndim, V.ndim)
    beta = b.reshape((-1,) + (1,) * nd)
    mean_v, p = softmax_attention(
        q, K, V, beta, return_weights=True
    )  # (G,...,M,d_v), (G,...,M,L)
    s = q @ K.transpose(-1, -2)  # (..., M, L)
    mean_s = (p * s).sum(-1, keepdim=True)  # (G, ..., M, 1)
    mean_vs = (p * s) @ V  # (G, ..., M, d_v)
    return mean_vs - mean_v * mean_s


def bootstrap_loglog_slope(x, samples, n_boot: int, rng: np.random.Generator):
    """Slope of ``log(column mean)`` against ``log x`` and its bootstrap standard error.

    ``samples`` has shape ``(R, n)``: R replicates (rows) of a non-negative statistic at each of the
    n abscissae ``x``. Rows are resampled as wholes, so the standard error stays valid when the
    columns of a row are dependent (e.g. the same datasets observed at several sequence lengths).
    Returns ``(slope, standard_error)``; the slope is the ordinary least-squares slope.
    """
    xs = _as_array("x", x)
    ys = _as_array("samples", samples, min_ndim=2)
    if xs.ndim != 1 or ys.ndim != 2 or ys.shape[1] != xs.size:
        raise ValueError(
            f"samples must have shape (R, len(x)) = (R, {xs.size}), got {ys.shape}"
        )
    if ys.shape[0] < 2:
        raise ValueError("samples must hold at least 2 replicates (rows)")
    if xs.size < 2 or np.unique(xs).size < 2:
        raise ValueError("x must hold at least 2 distinct abscissae")
    if np.any(xs <= 0) or np.any(ys < 0) or np.any(ys.mean(axis=0) <= 0):
        raise ValueError("x must be > 0 and samples >= 0 with positive column means")
    B = check_int("n_boot", n_boot, minimum=2)
    rng = check_rng("rng", rng)
    R = ys.shape[0]
    lx = np.log(xs)
    lxc = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)  # slope = lxc · log(mean)
    slope = float(lxc @ np.log(ys.mean(axis=0)))
    idx = rng.integers(0, R, size=(B, R))
    means = ys[idx].mean(axis=1)  # (B, n)
    with np.errstate(divide="ignore"):
        boot = np.log(means) @ lxc
    boot = boot[
        np.isfinite(boot)
    ]  # a resample whose mean is 0 has no log; vanishingly rare
    if boot.size < 2:
        raise ValueError(
            "samples are too degenerate for a bootstrap (column means vanish in resamples)"
        )
    return slope, float(boot.std(ddof=1))


def tightest_uniform_convergence_bound(
    N, delta: float, loss_bound: float, lipschitz: float, param_range: float, eps_grid
):
    """The bound of :func:`uniform_convergence_bound` minimised over a fixed grid of ε, for each N.

    Legitimate because ε is chosen from N and the constants only, never from the data: the bound
    holds for each fixed ε, and the minimiser is a deterministic function of N. Returns
    ``(bound, eps)`` with the shape of ``N``.
    """
    Ns = _check_sizes("N", N)
    eps = _as_array("eps_grid", eps_grid)
    if eps.ndim != 1 or np.any(eps <= 0):
        raise ValueError("eps_grid must be a 1-d array of positive numbers")
    table = np.stack(
        [
            uniform_convergence_bound(
                Ns.reshape(-1), delta, loss_bound, lipschitz, param_range, float(e)
            )
            for e in eps
        ]
    )
    best = np.argmin(table, axis=0)
    bound = table[best, np.arange(table.shape[1])].reshape(Ns.shape)
    eps_best = eps[best].reshape(Ns.shape)
    if np.ndim(N) == 0:
        return float(bound), float(eps_best)
    return bound, eps_best
