"""Supervised learning of the attention temperature: grid ERM, bounds, Rademacher.

Chapter 4 learns the inverse temperature ``β ∈ [0, B]`` of one softmax-attention head
by empirical risk minimisation (ERM) over a grid. Everything works on a precomputed
**loss matrix**: ``losses[..., i, g]`` is the loss of example ``i`` at grid point ``g``.
ERM for many datasets at once is then an ``argmin`` over the last axis, the uniform
deviation a ``max`` of ``|R̂ − R|``, and the empirical Rademacher complexity a matrix
product with random signs: no optimiser and no Python loop over datasets.

The bounds (proved in the chapter):

- :func:`uniform_convergence_bound`: losses in ``[0, M]``, ``Λ``-Lipschitz in
  ``β ∈ [0, B]``; with probability ``≥ 1 − δ``,
  ``sup_β |R − R̂_N| ≤ Λε + M √(log(2⌈B/ε⌉/δ) / (2N))``. The sequence
  length does not appear; the range ``B`` does, through ``log⌈B/ε⌉``.
- :func:`rademacher_bound`: with probability ``≥ 1 − δ`` over the data and the
  signs, ``sup_{β∈G} |R − R̂_N| ≤ 2 R̂ad + M √((9 + 16/S) log(1/δ) / (2N))``
  for a finite grid ``G`` and the absolute-value complexity estimated with ``S`` sign
  vectors.

**Return types.** Every function returns NumPy arrays (float64 unless stated), or
Python ``float``/``int`` for scalar results, or a ``NamedTuple`` of those; never torch
tensors (torch is used inside, for attention and autograd). Inputs are validated with
:mod:`lib.validation`: a bad input raises an error naming the argument, and a result
that overflows raises ``FloatingPointError`` instead of returning inf or NaN.

Examples
--------
>>> losses = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
>>> block_empirical_risks(losses, 2)
array([[0.5, 0.5],
       [0.5, 0.5]])
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import ive
from scipy.stats import t as student_t

from lib.attention import softmax_attention
from lib.circle import (
    fourier_features,
    linear_gaussian_posterior,
    sample_circle_model,
    smoothing_factors,
    unit_circle,
)
from lib.montecarlo import loglog_coefficients
from lib.validation import (
    check_array,
    check_bool,
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
    "AttentionDerivative",
    "ERMStudy",
    "LengthSweep",
    "SizeSweep",
    "attention_derivative_terms",
    "attention_loss_matrix",
    "beta_derivative_autograd",
    "beta_derivative_covariance",
    "block_empirical_risks",
    "bootstrap_band",
    "bootstrap_loglog_slope",
    "empirical_rademacher",
    "erm_size_sweep",
    "erm_study",
    "excess_risk",
    "grid_erm",
    "lemma_by_length",
    "limit_risk",
    "limit_score_variance",
    "linear_model_risk_matrix",
    "net_size",
    "optimisation_error",
    "rademacher_bound",
    "score_matrix_gradient",
    "squared_loss_constants",
    "sup_gap",
    "tightest_uniform_convergence_bound",
    "uniform_convergence_bound",
]

_DTYPES = (torch.float32, torch.float64)


# ----------------------------------------------------------------------------- checks
def _sizes(name: str, N) -> np.ndarray:
    """Positive integer sample size(s) as a float array (scalar or array input)."""
    if not isinstance(N, (list, tuple)) and np.ndim(N) == 0:
        return np.asarray(float(check_int(name, N, minimum=1)))
    return check_int_array(name, N, minimum=1).astype(float)


def _delta(delta) -> float:
    return check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)


def _betas(betas, *, nonnegative: bool = True) -> np.ndarray:
    return check_array("betas", betas, ndim=1, low=0.0 if nonnegative else None)


# ----------------------------------------------------------------------------- bounds
def _log_net_size(B: float, eps: float) -> float:
    """``log⌈B/ε⌉`` computed without forming a huge integer (exact when it is
    small)."""
    ratio = B / eps
    if math.isfinite(ratio) and ratio < 2.0**52:
        return math.log(max(1, math.ceil(ratio * (1.0 - 1e-12))))
    return math.log(B) - math.log(eps)  # ⌈x⌉/x = 1 + O(2⁻⁵²) here


def net_size(param_range: float, eps: float) -> int:
    """Number of points ``⌈B/ε⌉`` of the ε-net of ``[0, B]`` used by the bound.

    The midpoints ``(j − ½)ε``, ``j = 1..⌈B/ε⌉`` (clipped to ``B``), are within
    ``ε/2`` of every point of ``[0, B]``.

    Parameters
    ----------
    param_range : float
        ``B > 0``.
    eps : float
        ``ε > 0``.

    Returns
    -------
    int
        ``max(1, ⌈B/ε⌉)``; a relative guard of ``1e-12`` keeps ``0.9/0.3`` at 3.

    Raises
    ------
    ValueError
        If an argument is not a positive finite number, or ``B/ε`` overflows (use
        :func:`uniform_convergence_bound`, which works with ``log⌈B/ε⌉``).

    Examples
    --------
    >>> net_size(1.0, 0.25), net_size(0.9, 0.3)
    (4, 3)
    """
    B = check_positive("param_range", param_range)
    e = check_positive("eps", eps)
    ratio = B / e
    if not math.isfinite(ratio):
        raise ValueError(
            f"param_range/eps overflows ({B!r}/{e!r}): the net size is not a float"
        )
    return max(1, math.ceil(ratio * (1.0 - 1e-12)))


def uniform_convergence_bound(
    N, delta: float, loss_bound: float, lipschitz: float, param_range: float, eps: float
):
    """High-probability bound on ``sup_{β∈[0,B]} |R(β) − R̂_N(β)|``.

    ``U_N = Λε + M √(log(2⌈B/ε⌉/δ) / (2N))``, computed with ``log⌈B/ε⌉``
    so that huge ranges do not overflow.

    Parameters
    ----------
    N : int or array_like of int
        Sample size(s) ``≥ 1``; the bound is vectorised over ``N``.
    delta : float
        Failure probability in ``(0, 1)``.
    loss_bound : float
        ``M > 0``: the losses lie in ``[0, M]``.
    lipschitz : float
        ``Λ ≥ 0``: each loss is ``Λ``-Lipschitz in β.
    param_range : float
        ``B > 0``: β ranges over ``[0, B]``.
    eps : float
        Net resolution ``ε > 0``.

    Returns
    -------
    float or numpy.ndarray
        A float for scalar ``N``, else an array of the shape of ``N``.

    Raises
    ------
    ValueError
        For a bad argument (named). ``FloatingPointError`` if the bound overflows.

    Examples
    --------
    >>> round(uniform_convergence_bound(100, 0.1, 2.0, 3.0, 1.0, 0.25), 6)
    1.046041
    """
    Ns = _sizes("N", N)
    d = _delta(delta)
    M = check_positive("loss_bound", loss_bound)
    lam = check_positive("lipschitz", lipschitz, allow_zero=True)
    B = check_positive("param_range", param_range)
    e = check_positive("eps", eps)
    log_term = math.log(2.0) + _log_net_size(B, e) - math.log(d)
    with np.errstate(over="ignore"):
        out = lam * e + M * np.sqrt(log_term / (2.0 * Ns))
    check_finite_result("uniform_convergence_bound", out)
    return float(out) if out.ndim == 0 else out


def tightest_uniform_convergence_bound(
    N, delta: float, loss_bound: float, lipschitz: float, param_range: float, eps_grid
):
    """:func:`uniform_convergence_bound` minimised over a fixed grid of ε, for each N.

    Legitimate because ε is a function of N and the constants only, never of the data:
    the bound holds for each fixed ε.

    Parameters
    ----------
    N, delta, loss_bound, lipschitz, param_range
        As in :func:`uniform_convergence_bound`.
    eps_grid : array_like
        1-d grid of positive ε.

    Returns
    -------
    tuple
        ``(bound, eps)``: floats for scalar ``N``, arrays of the shape of ``N``
        otherwise.

    Raises
    ------
    ValueError
        For a bad argument (named).

    Examples
    --------
    >>> b, e = tightest_uniform_convergence_bound(100, 0.1, 2.0, 3.0, 1.0, [0.1, 0.25])
    >>> e
    0.1
    """
    Ns = _sizes("N", N)
    eps = check_array("eps_grid", eps_grid, ndim=1, low=0.0, low_open=True)
    flat = Ns.reshape(-1).astype(np.int64)
    table = np.stack(
        [
            uniform_convergence_bound(
                flat, delta, loss_bound, lipschitz, param_range, float(e)
            )
            for e in eps
        ]
    )
    best = np.argmin(table, axis=0)
    bound = table[best, np.arange(table.shape[1])].reshape(Ns.shape)
    eps_best = eps[best].reshape(Ns.shape)
    if Ns.ndim == 0:
        return float(bound), float(eps_best)
    return bound, eps_best


def squared_loss_constants(
    value_bound: float,
    label_bound: float,
    query_norm: float = 1.0,
    key_norm: float = 1.0,
):
    """Constants ``(M, Λ)`` of the loss ``(y − attn_β(q; X))²``, independent of L.

    The prediction is a convex combination of values with ``|v| ≤ B_V``, so
    ``|y − attn| ≤ B_Y + B_V`` and ``M = (B_Y + B_V)²``. By the covariance lemma
    ``|∂attn/∂β| ≤ B_V B_Q B_K``, hence ``Λ = 2 (B_Y + B_V) B_V B_Q B_K``.

    Parameters
    ----------
    value_bound : float
        ``B_V > 0``.
    label_bound : float
        ``B_Y ≥ 0``.
    query_norm, key_norm : float
        ``B_Q, B_K > 0``.

    Returns
    -------
    tuple of float
        ``(M, Λ)``.

    Raises
    ------
    ValueError
        For a bad argument (named). ``FloatingPointError`` on overflow.

    Examples
    --------
    >>> squared_loss_constants(2.0, 1.0)
    (9.0, 12.0)
    """
    bv = check_positive("value_bound", value_bound)
    by = check_positive("label_bound", label_bound, allow_zero=True)
    bq = check_positive("query_norm", query_norm)
    bk = check_positive("key_norm", key_norm)
    err = np.float64(by + bv)
    with np.errstate(over="ignore"):
        M, lam = err**2, 2 * err * bv * bq * bk
    check_finite_result("squared_loss_constants", np.array([M, lam]))
    return float(M), float(lam)


def rademacher_bound(
    rademacher, N, n_signs: int, loss_bound: float, delta: float
) -> np.ndarray:
    """Data-dependent bound ``2 R̂ad + M √((9 + 16/S) log(1/δ) / (2N))``.

    With probability ``≥ 1 − δ`` over the ``N`` examples and the ``S`` sign
    vectors, ``sup_{g∈G} |R(β_g) − R̂_N(β_g)|`` is at most this, where ``R̂ad``
    is the estimate of :func:`empirical_rademacher` with ``absolute=True`` (McDiarmid's
    inequality applied to ``sup|R − R̂_N| − 2 R̂ad``, whose mean is ``≤ 0`` by
    symmetrisation).

    Parameters
    ----------
    rademacher : array_like
        Estimates ``R̂ad ≥ 0`` (any shape).
    N : int
        Sample size of each dataset.
    n_signs : int
        ``S ≥ 1`` sign vectors behind each estimate.
    loss_bound : float
        ``M``: losses in ``[0, M]``.
    delta : float
        In ``(0, 1)``.

    Returns
    -------
    numpy.ndarray
        The bound, with the shape of ``rademacher``.

    Raises
    ------
    ValueError
        For a bad argument (named).

    Examples
    --------
    >>> float(rademacher_bound(0.0, 5, 16, 1.0, math.exp(-1.0)))
    1.0
    """
    r = check_array("rademacher", rademacher, low=0.0)
    n = check_int("N", N, minimum=1)
    S = check_int("n_signs", n_signs, minimum=1)
    M = check_positive("loss_bound", loss_bound)
    d = _delta(delta)
    return check_finite_result(
        "rademacher_bound",
        2 * r + M * math.sqrt((9 + 16 / S) * math.log(1 / d) / (2 * n)),
    )


# ----------------------------------------------------------------------------- ERM
def grid_erm(risks, axis: int = -1) -> np.ndarray:
    """Index of the (first) empirical risk minimiser on the grid, for every dataset.

    Parameters
    ----------
    risks : array_like
        Empirical risks with the grid along ``axis``.
    axis : int
        The grid axis.

    Returns
    -------
    numpy.ndarray
        Integer indices, shape ``risks.shape`` without ``axis``.

    Raises
    ------
    ValueError
        For non-finite risks or an axis out of range.

    Examples
    --------
    >>> grid_erm([[1.0, 0.5, 0.5], [0.0, 2.0, 1.0]])
    array([1, 0])
    """
    r = check_array("risks", risks, min_ndim=1)
    ax = check_int("axis", axis, minimum=-r.ndim, maximum=r.ndim - 1)
    return np.argmin(r, axis=ax)


def optimisation_error(emp_risks, chosen) -> np.ndarray:
    """``R̂(β_chosen) − min_g R̂(β_g)``: zero for an exact ERM, per dataset.

    Parameters
    ----------
    emp_risks : array_like
        Empirical risks ``(..., G)``.
    chosen : array_like of int
        Chosen grid indices, shape ``(...)``.

    Returns
    -------
    numpy.ndarray
        Non-negative, shape ``(...)``.

    Raises
    ------
    ValueError
        For mismatched shapes or indices outside the grid.

    Examples
    --------
    >>> optimisation_error([[1.0, 0.5, 0.7]], [2])
    array([0.2])
    """
    e = check_array("emp_risks", emp_risks, min_ndim=1)
    c = check_int_array(
        "chosen", chosen, minimum=0, maximum=e.shape[-1] - 1, nonempty=False
    )
    if c.shape != e.shape[:-1]:
        raise ValueError(
            f"chosen must have the shape of emp_risks without its grid axis,"
            f" {e.shape[:-1]}, got {c.shape}"
        )
    picked = np.take_along_axis(e, c[..., None], axis=-1)[..., 0]
    return picked - e.min(axis=-1)


def block_empirical_risks(losses, N: int) -> np.ndarray:
    """Empirical risks of the disjoint datasets of ``N`` consecutive examples.

    Parameters
    ----------
    losses : array_like
        ``(..., n, G)``; the first ``⌊n/N⌋·N`` examples form ``⌊n/N⌋``
        datasets.
    N : int
        Dataset size, ``1 ≤ N ≤ n``.

    Returns
    -------
    numpy.ndarray
        ``(..., ⌊n/N⌋, G)`` with
        ``R̂[..., r, g] = (1/N) Σ_{i<N} losses[..., rN+i, g]``.

    Raises
    ------
    ValueError
        For a bad shape or size (named).

    Examples
    --------
    >>> block_empirical_risks(np.arange(6.0).reshape(3, 2), 2)
    array([[1., 2.]])
    """
    ls = check_array("losses", losses, min_ndim=2)
    n = ls.shape[-2]
    N = check_int("N", N, minimum=1, maximum=n)
    R = n // N
    blocks = ls[..., : R * N, :].reshape(*ls.shape[:-2], R, N, ls.shape[-1])
    return blocks.mean(axis=-2)


def _risk_pair(emp_risks, pop_risk) -> tuple[np.ndarray, np.ndarray]:
    e = check_array("emp_risks", emp_risks, min_ndim=1)
    p = check_array("pop_risk", pop_risk, min_ndim=1)
    if p.shape[-1] != e.shape[-1]:
        raise ValueError(
            "pop_risk and emp_risks must share the grid (last) axis,"
            f" got {p.shape} and {e.shape}"
        )
    check_broadcast("the shapes", dict(pop_risk=p.shape, emp_risks=e.shape))
    return e, p


def sup_gap(emp_risks, pop_risk) -> np.ndarray:
    """Uniform deviation ``max_g |R̂(β_g) − R(β_g)|`` over the grid (last axis).

    Parameters
    ----------
    emp_risks : array_like
        ``(..., G)``.
    pop_risk : array_like
        ``(..., G)``, broadcasting against ``emp_risks``.

    Returns
    -------
    numpy.ndarray
        Shape of the broadcast without the grid axis.

    Raises
    ------
    ValueError
        For shapes that do not broadcast or non-finite input.

    Examples
    --------
    >>> sup_gap([[0.5, 1.0]], [0.4, 1.5])
    array([0.5])
    """
    e, p = _risk_pair(emp_risks, pop_risk)
    return np.max(np.abs(e - p), axis=-1)


def excess_risk(emp_risks, pop_risk) -> np.ndarray:
    """``R(β̂) − min_g R(β_g)`` where ``β̂`` minimises the empirical risk on the
    grid.

    Parameters
    ----------
    emp_risks : array_like
        ``(..., G)``.
    pop_risk : array_like
        ``(..., G)``, broadcasting against ``emp_risks``.

    Returns
    -------
    numpy.ndarray
        Non-negative, shape of the broadcast without the grid axis.

    Raises
    ------
    ValueError
        For shapes that do not broadcast or non-finite input.

    Examples
    --------
    >>> excess_risk([[0.5, 0.4]], [0.1, 0.3])
    array([0.2])
    """
    e, p = _risk_pair(emp_risks, pop_risk)
    shape = np.broadcast_shapes(e.shape, p.shape)
    e_b, p_b = np.broadcast_to(e, shape), np.broadcast_to(p, shape)
    chosen = np.take_along_axis(p_b, grid_erm(e_b)[..., None], axis=-1)[..., 0]
    return chosen - p_b.min(axis=-1)


class SizeSweep(NamedTuple):
    """ERM on disjoint datasets of several sizes N (see :func:`erm_size_sweep`)."""

    gap: np.ndarray  # (n_super, n_L, n_N): super-block means of the uniform deviation
    excess: np.ndarray  # (n_super, n_L, n_N): super-block means of the excess risk
    # largest R̂(β̂) − min R̂ over all datasets (0: exact)
    optimisation_error: float
    excess_minus_twice_gap: float  # largest excess − 2·gap over all datasets (≤ 0)
    violations: np.ndarray  # (n_L, n_N): datasets whose gap exceeds the bound
    n_datasets: np.ndarray  # (n_N,): datasets of each size at each L


def erm_size_sweep(losses, pop_risk, sizes, n_super: int, bounds=None) -> SizeSweep:
    """Grid ERM on every disjoint dataset of every size, summarised per super-block.

    The ``n`` examples are cut into ``n_super`` super-blocks of ``n // n_super``
    consecutive examples (the bootstrap unit for slopes in N); each size must divide
    the super-block length, so every dataset lies inside one super-block.

    Parameters
    ----------
    losses : array_like
        ``(n_L, n, G)`` loss matrices (one per sequence length).
    pop_risk : array_like
        ``(n_L, G)`` population risks.
    sizes : array_like of int
        Dataset sizes ``N``.
    n_super : int
        Number of super-blocks ``≥ 2``.
    bounds : array_like, optional
        One bound per size; ``violations`` counts the datasets with a larger gap.

    Returns
    -------
    SizeSweep

    Raises
    ------
    ValueError
        For bad shapes or sizes that do not divide the super-block length.

    Examples
    --------
    >>> losses = np.zeros((1, 8, 3))
    >>> erm_size_sweep(losses, np.zeros((1, 3)), [2, 4], 2).gap.shape
    (2, 1, 2)
    """
    ls = check_array("losses", losses, ndim=3)
    pop = check_array("pop_risk", pop_risk, ndim=2)
    if pop.shape != (ls.shape[0], ls.shape[2]):
        raise ValueError(
            f"pop_risk must have shape {(ls.shape[0], ls.shape[2])}, got {pop.shape}"
        )
    Ns = check_int_array("sizes", sizes, ndim=1, minimum=1)
    S = check_int("n_super", n_super, minimum=2, maximum=ls.shape[1])
    per = ls.shape[1] // S
    if np.any(per % Ns):
        raise ValueError(f"every size must divide the super-block length {per}")
    bnd = None
    if bounds is not None:
        bnd = check_array("bounds", bounds, shape=(Ns.size,), ndim=1, low=0.0)
    nL = ls.shape[0]
    gap = np.empty((S, nL, Ns.size))
    exc = np.empty_like(gap)
    viol = np.zeros((nL, Ns.size), dtype=np.int64)
    opt, slack = 0.0, -np.inf
    for k, N in enumerate(Ns):  # a few sizes; each step is batched over datasets
        emp = block_empirical_risks(ls[:, : S * per], int(N))  # (n_L, datasets, G)
        g = sup_gap(emp, pop[:, None, :])
        x = excess_risk(emp, pop[:, None, :])
        opt = max(opt, float(optimisation_error(emp, grid_erm(emp)).max()))
        slack = max(slack, float((x - 2 * g).max()))
        gap[:, :, k] = g.reshape(nL, S, -1).mean(-1).T
        exc[:, :, k] = x.reshape(nL, S, -1).mean(-1).T
        if bnd is not None:
            viol[:, k] = np.sum(g > bnd[k], axis=1)
    return SizeSweep(gap, exc, opt, slack, viol, S * per // Ns)


# ----------------------------------------------------------------------------- data
def _working_dtype(dt: torch.dtype, betas, q, K, values) -> torch.dtype:
    """float64 instead of float32 when scores or values would leave float32's range."""
    if dt == torch.float64:
        return dt
    score = np.max(np.abs(betas)) * np.max(np.abs(q)) * np.max(np.abs(K))
    if max(score, np.max(np.abs(values))) > 1e30:  # float32 overflows at 3.4e38
        return torch.float64
    return dt


def _attention_inputs(q, K, V, v_name: str = "V"):
    qa = check_array("q", q)
    if qa.ndim == 2 and qa.shape[0] == 1:
        qa = qa[0]
    if qa.ndim != 1:
        raise ValueError(f"q must be one query of shape (d,) or (1, d), got {qa.shape}")
    Ka = check_array("K", K, ndim=3)
    Va = check_array(v_name, V, ndim=2)
    if Va.shape != Ka.shape[:2] or Ka.shape[2] != qa.size:
        raise ValueError(
            f"need q (d,), K (n, L, d), {v_name} (n, L) with matching n, L, d; got q"
            f" {qa.shape}, K {Ka.shape}, {v_name} {Va.shape}"
        )
    return qa, Ka, Va


def attention_loss_matrix(
    q, K, V, y, betas, *, chunk_elements: int = 1_000_000, dtype=torch.float32
) -> np.ndarray:
    """Squared losses ``(y_i − attn_β(q; K_i, V_i))²`` for every sequence and β.

    Parameters
    ----------
    q : array_like
        One query ``(d,)`` or ``(1, d)``.
    K : array_like
        Keys ``(n, L, d)``.
    V : array_like
        Scalar values ``(n, L)``.
    y : array_like
        Labels ``(n,)``.
    betas : array_like
        1-d grid of ``G`` temperatures ``≥ 0``.
    chunk_elements : int
        Scores per call of :func:`lib.attention.softmax_attention` (memory bound).
    dtype : torch.dtype
        ``torch.float32`` (default: relative error ~1e-7) or ``torch.float64``.

    Returns
    -------
    numpy.ndarray
        ``(n, G)`` losses in float64.

    Raises
    ------
    ValueError
        For bad shapes or values (named). ``FloatingPointError`` on overflow.

    Examples
    --------
    >>> K = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    >>> attention_loss_matrix([1.0, 0.0], K, [[1.0, 0.0]], [1.0], [0.0])
    array([[0.25]])
    """
    b = _betas(betas)
    qa, Ka, Va = _attention_inputs(q, K, V)
    ya = check_array("y", y, ndim=1)
    if ya.shape != Ka.shape[:1]:
        raise ValueError(f"y must have shape {Ka.shape[:1]}, got {ya.shape}")
    chunk = check_int("chunk_elements", chunk_elements, minimum=1)
    dt = _working_dtype(check_choice("dtype", dtype, _DTYPES), b, qa, Ka, Va)
    n, L, _ = Ka.shape
    G = b.size
    step = max(1, chunk // (G * L))
    qt = torch.as_tensor(qa[None, :], dtype=dt)
    beta = torch.as_tensor(b, dtype=dt).reshape(G, 1, 1, 1)
    out = np.empty((n, G))
    with torch.no_grad():
        for start in range(0, n, step):  # chunks bound the memory; calls are batched
            Kc = torch.as_tensor(Ka[start : start + step], dtype=dt)
            Vc = torch.as_tensor(Va[start : start + step, :, None], dtype=dt)
            pred = softmax_attention(qt, Kc, Vc, beta)[..., 0, 0]  # (G, chunk)
            out[start : start + step] = pred.T.double().numpy()
    with np.errstate(over="ignore"):
        return check_finite_result("attention_loss_matrix", (ya[:, None] - out) ** 2)


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
    """Conditional risk of ``attn_β(q; X)`` for ``y = target·z + η`` given the keys.

    Model: ``v_ℓ = Φ_ℓ·z + ε_ℓ``, ``E z = 0``, ``Cov z = a I``, ``ε_ℓ``
    independent with mean 0 and variance ``s``, label noise ``η`` with mean 0 and
    variance ``c``, all independent of the keys. With ``w = softmax(β q·k)``,
    ``r(β; K) = E[(y − Σ_ℓ w_ℓ v_ℓ)² | K]``
    ``= a ‖target − Φᵀw‖² + s ‖w‖² + c``.
    Averaging ``r`` over key draws estimates ``R(β)`` far more precisely than averaging
    losses (Rao–Blackwellisation).

    Parameters
    ----------
    q : array_like
        One query ``(d,)``.
    K : array_like
        Keys ``(n, L, d)``.
    Phi : array_like
        Features ``(n, L, p)``.
    target : array_like
        ``(p,)``.
    betas : array_like
        1-d grid of ``G`` temperatures ``≥ 0``.
    latent_var, noise_var, label_noise_var : float
        ``a, s, c ≥ 0``.
    chunk_elements : int
        Scores per attention call (memory bound).
    dtype : torch.dtype
        ``torch.float32`` or ``torch.float64``.

    Returns
    -------
    numpy.ndarray
        ``(n, G)``.

    Raises
    ------
    ValueError
        For bad shapes or values (named).

    Examples
    --------
    >>> K = np.array([[[1.0, 0.0], [-1.0, 0.0]]])
    >>> Phi = np.ones((1, 2, 1))
    >>> linear_model_risk_matrix([1.0, 0.0], K, Phi, [1.0], [0.0], latent_var=1.0,
    ...                          noise_var=1.0, label_noise_var=0.5)
    array([[1.]])
    """
    b = _betas(betas)
    qa = check_array("q", q)
    qa = qa[0] if qa.ndim == 2 and qa.shape[0] == 1 else qa
    Ka = check_array("K", K, ndim=3)
    Pa = check_array("Phi", Phi, ndim=3)
    ta = check_array("target", target, ndim=1)
    if (
        qa.ndim != 1
        or Pa.shape[:2] != Ka.shape[:2]
        or Pa.shape[2] != ta.size
        or Ka.shape[2] != qa.size
    ):
        raise ValueError(
            f"shapes do not match: need q (d,), K (n, L, d), Phi (n, L, p), target"
            f" (p,); got {qa.shape}, {Ka.shape}, {Pa.shape}, {ta.shape}"
        )
    a = check_positive("latent_var", latent_var, allow_zero=True)
    s = check_positive("noise_var", noise_var, allow_zero=True)
    c = check_positive("label_noise_var", label_noise_var, allow_zero=True)
    chunk = check_int("chunk_elements", chunk_elements, minimum=1)
    dt = _working_dtype(check_choice("dtype", dtype, _DTYPES), b, qa, Ka, Pa)
    n, L, _ = Ka.shape
    G = b.size
    step = max(1, chunk // (G * L))
    qt = torch.as_tensor(qa[None, :], dtype=dt)
    tt = torch.as_tensor(ta, dtype=torch.float64)
    beta = torch.as_tensor(b, dtype=dt).reshape(G, 1, 1, 1)
    out = np.empty((n, G))
    with torch.no_grad():
        for start in range(0, n, step):  # chunks only bound the memory
            Kc = torch.as_tensor(Ka[start : start + step], dtype=dt)
            Pc = torch.as_tensor(Pa[start : start + step], dtype=dt)
            mean_phi, w = softmax_attention(qt, Kc, Pc, beta, return_weights=True)
            bias2 = ((tt - mean_phi[:, :, 0].double()) ** 2).sum(-1)  # (G, chunk)
            w2 = (w[:, :, 0].double() ** 2).sum(-1)
            with np.errstate(over="ignore"):
                out[start : start + step] = (a * bias2 + s * w2 + c).T.numpy()
    return check_finite_result("linear_model_risk_matrix", out)


class ERMStudy(NamedTuple):
    """Loss matrices and population risks of the design of :func:`erm_study`."""

    # (n_L, n_sequences, G): (y_i − h_β(X_i))², sequences truncated
    losses: np.ndarray
    r_pop: np.ndarray  # (n_L, n_population, G): conditional risks given key draws
    r_lin: np.ndarray  # (n_L, n_population): best linear smoother, same key draws


def erm_study(
    lengths,
    n_sequences: int,
    n_population: int,
    betas,
    rng: np.random.Generator,
    *,
    tau: float,
    sigma: float,
    sigma_y: float,
    t_star: float = 0.0,
    degree: int = 2,
) -> ERMStudy:
    """Simulate the bounded circle model and compute everything ERM needs.

    Latent ``z ~ Unif[−τ, τ]^p``, noise ``ε ~ Unif[−σ, σ]``, label
    ``y = z·φ(t*) + η`` with ``η ~ Unif[−σ_y, σ_y]``. One draw of
    ``n_sequences`` sequences of the largest length is truncated to every length
    (coupled design); the population risk comes from :func:`linear_model_risk_matrix`
    (variances ``τ²/3, σ²/3, σ_y²/3`` of the uniform laws) on ``n_population``
    independent key draws, and the best linear smoother's risk from the exact posterior
    covariance.

    Parameters
    ----------
    lengths : array_like of int
        Sequence lengths ``L`` (1-d, positive).
    n_sequences, n_population : int
        Training sequences and population key draws.
    betas : array_like
        Temperature grid ``≥ 0``.
    rng : numpy.random.Generator
        The only source of randomness.
    tau, sigma, sigma_y : float
        Half-widths ``τ > 0``, ``σ > 0``, ``σ_y ≥ 0``.
    t_star : float
        Query angle.
    degree : int
        Fourier degree ``D`` of ``φ``.

    Returns
    -------
    ERMStudy

    Raises
    ------
    ValueError
        For a bad argument (named).

    Examples
    --------
    >>> s = erm_study([2, 4], 3, 2, [0.0, 1.0], np.random.default_rng(0), tau=1.0,
    ...               sigma=0.5, sigma_y=0.5)
    >>> s.losses.shape, s.r_pop.shape, s.r_lin.shape
    ((2, 3, 2), (2, 2, 2), (2, 2))
    """
    Ls = check_int_array("lengths", lengths, ndim=1, minimum=1)
    n = check_int("n_sequences", n_sequences, minimum=1)
    n_pop = check_int("n_population", n_population, minimum=1)
    b = _betas(betas)
    rng = check_rng("rng", rng)
    tau = check_positive("tau", tau)
    sigma = check_positive("sigma", sigma)
    sigma_y = check_positive("sigma_y", sigma_y, allow_zero=True)
    t_star = check_real("t_star", t_star)
    D = check_int("degree", degree, minimum=0)
    h_z, h_e, h_y = (np.float64(h) for h in (tau, sigma, sigma_y))
    with np.errstate(over="ignore"):  # the variances of Unif[-h, h]
        a, s, c = h_z**2 / 3, h_e**2 / 3, h_y**2 / 3
    check_finite_result("erm_study", np.array([a, s, c]))
    L_max = int(Ls.max())
    q, phi = unit_circle(t_star), fourier_features(t_star, D)
    data = sample_circle_model(
        n, L_max, rng, tau=tau, sigma=sigma, degree=D, latent="uniform", noise="uniform"
    )
    y = data.z @ phi + rng.uniform(-sigma_y, sigma_y, n)
    t_pop = rng.uniform(0.0, 2 * np.pi, (n_pop, L_max))
    K_pop, Phi_pop = unit_circle(t_pop), fourier_features(t_pop, D)
    losses = np.empty((Ls.size, n, b.size))
    r_pop = np.empty((Ls.size, n_pop, b.size))
    r_lin = np.empty((Ls.size, n_pop))
    for j, L in enumerate(Ls):  # a loop over lengths; each step is batched
        losses[j] = attention_loss_matrix(q, data.K[:, :L], data.v[:, :L], y, b)
        r_pop[j] = linear_model_risk_matrix(
            q,
            K_pop[:, :L],
            Phi_pop[:, :L],
            phi,
            b,
            latent_var=a,
            noise_var=s,
            label_noise_var=c,
            dtype=torch.float64,
        )
        _, Sig = linear_gaussian_posterior(
            t_pop[:, :L], np.zeros((n_pop, L)), tau=a**0.5, sigma=s**0.5, degree=D
        )
        r_lin[j] = phi @ Sig @ phi + c
    return ERMStudy(losses, r_pop, r_lin)


# ----------------------------------------------------------------------------- limits
def limit_score_variance(betas) -> np.ndarray:
    """``Var(cos t)`` under the weights ``∝ e^{β cos t}`` (uniform keys,
    ``L → ∞``).

    Equals ``(log I₀)''(β) = 1 − A/β − A²`` with ``A = I₁(β)/I₀(β)``;
    ``1/2`` at ``β = 0`` and ``1/(2β²) + 1/(4β³) + 3/(8β⁴) + …`` as
    ``β → ∞`` (used for ``β > 10³``, where the closed form cancels).

    Parameters
    ----------
    betas : array_like
        Temperatures ``≥ 0`` (any shape).

    Returns
    -------
    numpy.ndarray
        Variances, shape of ``betas``.

    Raises
    ------
    ValueError
        For negative or non-finite ``betas``.

    Examples
    --------
    >>> limit_score_variance([0.0, 1e4]) * [1.0, 2e8]
    array([0.5       , 1.00005001])
    """
    b = check_array("betas", betas, low=0.0, nonempty=False)
    out = np.empty_like(b)
    small, large = b < 1e-8, b > 1e3
    mid = ~(small | large)
    A = ive(1, b[mid]) / ive(0, b[mid])
    out[mid] = 1.0 - A / b[mid] - A**2
    out[small] = 0.5 - 3 * b[small] ** 2 / 16
    x = 1.0 / b[large]
    out[large] = x**2 * (0.5 + x * (0.25 + x * (3 / 8 + x * (25 / 32 + x * 65 / 32))))
    return out


def limit_risk(
    betas,
    *,
    t_star: float,
    latent_var: float,
    label_noise_var: float,
    degree: int = 2,
) -> np.ndarray:
    """Risk of attention as ``L → ∞``: ``a ‖(I − D_β) φ(t*)‖² + c``.

    With uniform keys the attention output tends to ``z·D_β φ(t*)``, where
    ``D_β = diag(1, r₁, r₁, …, r_D, r_D)`` and ``r_n = I_n(β)/I₀(β)``
    (Chapter 3), so the label ``y = z·φ(t*) + η`` leaves this risk (``Cov z = aI``,
    ``Var η = c``).

    Parameters
    ----------
    betas : array_like
        Temperatures ``≥ 0`` (any shape).
    t_star : float
        Query angle.
    latent_var, label_noise_var : float
        ``a ≥ 0``, ``c ≥ 0``.
    degree : int
        Fourier degree ``D``.

    Returns
    -------
    numpy.ndarray
        Shape of ``betas``.

    Raises
    ------
    ValueError
        For a bad argument (named).

    Examples
    --------
    >>> limit_risk([0.0], t_star=0.0, latent_var=1.0, label_noise_var=0.0, degree=1)
    array([1.])
    """
    b = check_array("betas", betas, low=0.0, nonempty=False)
    t = check_real("t_star", t_star)
    a = check_positive("latent_var", latent_var, allow_zero=True)
    c = check_positive("label_noise_var", label_noise_var, allow_zero=True)
    D = check_int("degree", degree, minimum=0)
    phi = fourier_features(t, D)
    one_minus_r = np.empty((*b.shape, phi.size))
    small = b <= 1e7  # beyond, I_n/I_0 has no float ratio: Hankel's expansion
    one_minus_r[small] = 1.0 - smoothing_factors(b[small], D)
    n2 = np.concatenate([[0], np.repeat(np.arange(1, D + 1), 2)]) ** 2.0
    x = 1.0 / b[~small][..., None]
    one_minus_r[~small] = n2 * x / 2 + (2 * n2 - n2**2) * x**2 / 8
    return a * np.sum((one_minus_r * phi) ** 2, axis=-1) + c


# ----------------------------------------------------------------------------- lemma
def _tensor_qkv(q, K, V):
    q = torch.as_tensor(check_array("q", q, min_ndim=2))
    K = torch.as_tensor(check_array("K", K, min_ndim=2))
    V = torch.as_tensor(check_array("V", V, min_ndim=2))
    if K.shape[-2] != V.shape[-2] or q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"need q (..., M, d), K (..., L, d), V (..., L, d_v); got {tuple(q.shape)},"
            f" {tuple(K.shape)}, {tuple(V.shape)}"
        )
    batch = dict(q=q.shape[:-2], K=K.shape[:-2], V=V.shape[:-2])
    check_broadcast("the batch dimensions", batch)
    return q, K, V


def beta_derivative_autograd(q, K, V, betas) -> np.ndarray:
    """``∂/∂β attn_β(q; K, V)`` by torch autograd (float64), for a grid of β.

    Each output row gets its own leaf copy of β, so one backward pass of the sum
    returns every row's own derivative.

    Parameters
    ----------
    q, K, V : array_like
        ``(..., M, d)``, ``(..., L, d)``, ``(..., L, d_v)`` as in
        :func:`lib.attention.softmax_attention`.
    betas : array_like
        1-d grid of ``G`` finite temperatures.

    Returns
    -------
    numpy.ndarray
        ``(G, ..., M, d_v)``.

    Raises
    ------
    ValueError
        For bad shapes or non-finite input (named).

    Examples
    --------
    >>> q, K, V = [[1.0, 0.0]], [[1.0, 0.0], [-1.0, 0.0]], [[1.0], [0.0]]
    >>> beta_derivative_autograd(q, K, V, [0.0])  # Cov(v, q·k) at uniform weights
    array([[[0.5]]])
    """
    b = _betas(betas, nonnegative=False)
    q, K, V = _tensor_qkv(q, K, V)
    batch = torch.broadcast_shapes(q.shape[:-2], K.shape[:-2], V.shape[:-2])
    shape = (b.size, *batch, q.shape[-2], 1)
    beta = (
        torch.as_tensor(b)
        .reshape((-1,) + (1,) * (len(shape) - 1))
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
    return torch.cat(cols, dim=-1).numpy()


def beta_derivative_covariance(q, K, V, betas) -> np.ndarray:
    """The covariance form of the same derivative: ``Cov_p(v, q·k)``.

    ``∂/∂β Σ_ℓ p_ℓ v_ℓ``
    ``= Σ_ℓ p_ℓ v_ℓ s_ℓ − (Σ_ℓ p_ℓ v_ℓ)(Σ_ℓ p_ℓ s_ℓ)``
    with ``s_ℓ = q·k_ℓ`` and ``p = softmax(β s)``.

    Parameters
    ----------
    q, K, V, betas
        As in :func:`beta_derivative_autograd`.

    Returns
    -------
    numpy.ndarray
        ``(G, ..., M, d_v)``, float64.

    Raises
    ------
    ValueError
        For bad shapes or non-finite input (named).

    Examples
    --------
    >>> q, K, V = [[1.0, 0.0]], [[1.0, 0.0], [-1.0, 0.0]], [[1.0], [0.0]]
    >>> beta_derivative_covariance(q, K, V, [0.0])
    array([[[0.5]]])
    """
    b = _betas(betas, nonnegative=False)
    q, K, V = _tensor_qkv(q, K, V)
    nd = max(q.ndim, K.ndim, V.ndim)
    beta = torch.as_tensor(b).reshape((-1,) + (1,) * nd)
    mean_v, p = softmax_attention(q, K, V, beta, return_weights=True)
    s = q @ K.transpose(-1, -2)  # (..., M, L)
    mean_s = (p * s).sum(-1, keepdim=True)  # (G, ..., M, 1)
    mean_vs = (p * s) @ V  # (G, ..., M, d_v)
    return (mean_vs - mean_v * mean_s).numpy()


class AttentionDerivative(NamedTuple):
    """``∂_β attn_β(q; X)`` two ways, and the factors of its Cauchy–Schwarz
    bound."""

    autograd: np.ndarray  # (G, n)
    covariance: np.ndarray  # (G, n)
    sd_value: np.ndarray  # (G, n): sd of v under the attention weights
    sd_score: np.ndarray  # (G, n): sd of q·k under the attention weights


def attention_derivative_terms(q, K, v, betas) -> AttentionDerivative:
    """The covariance lemma's terms for one query and scalar values, per sequence.

    Parameters
    ----------
    q : array_like
        Query ``(d,)``.
    K : array_like
        Keys ``(n, L, d)``.
    v : array_like
        Values ``(n, L)``.
    betas : array_like
        1-d grid of ``G`` temperatures.

    Returns
    -------
    AttentionDerivative
        Arrays of shape ``(G, n)``.

    Raises
    ------
    ValueError
        For bad shapes or values (named).

    Examples
    --------
    >>> t = attention_derivative_terms([1.0, 0.0], [[[1.0, 0.0], [-1.0, 0.0]]],
    ...                                [[1.0, 0.0]], [0.0])
    >>> float(t.autograd[0, 0]), float(t.sd_value[0, 0] * t.sd_score[0, 0])
    (0.5, 0.5)
    """
    b = _betas(betas, nonnegative=False)
    qa, Ka, va = _attention_inputs(q, K, v, "v")
    auto = beta_derivative_autograd(qa[None, :], Ka, va[..., None], b)[..., 0, 0]
    cov = beta_derivative_covariance(qa[None, :], Ka, va[..., None], b)[..., 0, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        s = Ka @ qa  # (n, L)
        feats = np.stack([va, va**2, s, s**2], -1)
    check_finite_result("attention_derivative_terms", feats)
    moments = softmax_attention(
        qa[None, :],
        Ka,
        feats,
        torch.as_tensor(b).reshape(-1, 1, 1, 1),
    )[..., 0, :].numpy()  # (G, n, 4)
    sd_v = np.sqrt(np.clip(moments[..., 1] - moments[..., 0] ** 2, 0, None))
    sd_s = np.sqrt(np.clip(moments[..., 3] - moments[..., 2] ** 2, 0, None))
    return AttentionDerivative(auto, cov, sd_v, sd_s)


def score_matrix_gradient(q, K, v, W) -> tuple[np.ndarray, np.ndarray]:
    """``∇_W h_W``, ``h_W = Σ_ℓ softmax(qᵀW k_ℓ) v_ℓ``: autograd and
    ``q Cov_p(v,k)ᵀ``.

    Every (matrix, sequence) pair gets its own leaf copy of its matrix, so one backward
    pass of the sum returns each pair's own gradient; the same matrices are used for
    every sequence.

    Parameters
    ----------
    q : array_like
        Query ``(d,)``.
    K : array_like
        Keys ``(n, L, d)``.
    v : array_like
        Values ``(n, L)``.
    W : array_like
        Matrices ``(m, d, d)``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(autograd, formula)``, each ``(m, n, d, d)``, float64.

    Raises
    ------
    ValueError
        For bad shapes or values (named).

    Examples
    --------
    >>> g, f = score_matrix_gradient([1.0, 0.0], [[[1.0, 0.0], [-1.0, 0.0]]],
    ...                              [[1.0, 0.0]], np.zeros((1, 2, 2)))
    >>> g[0, 0]
    array([[0.5, 0. ],
           [0. , 0. ]])
    >>> bool(np.allclose(g, f))
    True
    """
    qa, Ka, va = _attention_inputs(q, K, v, "v")
    Wa = check_array("W", W, ndim=3)
    d = qa.size
    if Wa.shape[1:] != (d, d):
        raise ValueError(f"W must have shape (m, {d}, {d}), got {Wa.shape}")
    m, n = Wa.shape[0], Ka.shape[0]
    qs = torch.as_tensor(qa)
    Kt, vt = torch.as_tensor(Ka), torch.as_tensor(va)
    Wt = torch.as_tensor(Wa)[:, None].expand(m, n, d, d).clone().requires_grad_(True)
    w = torch.einsum("...ij,i->...j", Wt, qs)  # Wᵀq, (m, n, d)
    h = softmax_attention(w[..., None, :], Kt, vt[..., None])[..., 0, 0]  # (m, n)
    (grad,) = torch.autograd.grad(h.sum(), Wt)
    with torch.no_grad():
        feats = torch.cat([vt[..., None], Kt, vt[..., None] * Kt], -1)
        mom = softmax_attention(w[..., None, :], Kt, feats)[..., 0, :]
        cov_vk = mom[..., 1 + d :] - mom[..., :1] * mom[..., 1 : 1 + d]  # (m, n, d)
        formula = qs[:, None] * cov_vk[..., None, :]  # q Cov_p(v, k)ᵀ
    return grad.numpy(), formula.numpy()


class LengthSweep(NamedTuple):
    """The lemma's quantities on prefixes of the same sequences."""

    sup_derivative: np.ndarray  # (n, n_L): sup over β of |∂_β attn|, per sequence
    score_variance: np.ndarray  # (n_L, G, n): Var_p(q·k) under the attention weights
    # (n, n_L): max over the matrices of ‖∇_W h_W‖_F
    sup_matrix_gradient: np.ndarray
    autograd_error: float  # largest |autograd − covariance formula|, both derivatives
    cauchy_schwarz_slack: float  # largest |∂_β attn| − sd_p(v) sd_p(q·k)


def lemma_by_length(q, K, v, betas, W, lengths) -> LengthSweep:
    """:func:`attention_derivative_terms` and :func:`score_matrix_gradient` on prefixes.

    Each sequence is truncated to every length in ``lengths`` (the same sequences,
    longer), so that trends in ``L`` are paired.

    Parameters
    ----------
    q : array_like
        Query ``(d,)``.
    K : array_like
        Keys ``(n, L_max, d)``.
    v : array_like
        Values ``(n, L_max)``.
    betas : array_like
        1-d grid of temperatures.
    W : array_like
        Score matrices ``(m, d, d)``, the same for every sequence.
    lengths : array_like of int
        Prefix lengths ``1 ≤ L ≤ L_max``.

    Returns
    -------
    LengthSweep

    Raises
    ------
    ValueError
        For a bad argument (named).

    Examples
    --------
    >>> K = np.array([[[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]])
    >>> out = lemma_by_length([1.0, 0.0], K, [[1.0, 0.0, 0.0]], [0.0, 1.0],
    ...                       np.zeros((1, 2, 2)), [2, 3])
    >>> out.sup_derivative.shape, out.score_variance.shape
    ((1, 2), (2, 2, 1))
    """
    qa, Ka, va = _attention_inputs(q, K, v, "v")
    b = _betas(betas, nonnegative=False)
    Wa = check_array("W", W, ndim=3)
    Ls = check_int_array("lengths", lengths, ndim=1, minimum=1, maximum=Ka.shape[1])
    n = Ka.shape[0]
    sup_d, sup_w = np.empty((n, Ls.size)), np.empty((n, Ls.size))
    var_s = np.empty((Ls.size, b.size, n))
    err, slack = 0.0, -np.inf
    for j, L in enumerate(Ls):  # a few lengths; each step is batched
        t = attention_derivative_terms(qa, Ka[:, :L], va[:, :L], b)
        err = max(err, float(np.abs(t.autograd - t.covariance).max()))
        slack = max(slack, float((np.abs(t.autograd) - t.sd_value * t.sd_score).max()))
        sup_d[:, j], var_s[j] = np.abs(t.autograd).max(0), t.sd_score**2
        grad, formula = score_matrix_gradient(qa, Ka[:, :L], va[:, :L], Wa)
        err = max(err, float(np.abs(grad - formula).max()))
        sup_w[:, j] = np.linalg.norm(grad, axis=(2, 3)).max(0)
    return LengthSweep(sup_d, var_s, sup_w, err, slack)


# ------------------------------------------------------------------------- Rademacher
def empirical_rademacher(
    losses, n_signs: int, rng: np.random.Generator, *, absolute: bool = False
):
    """Monte Carlo estimate of ``E_σ sup_g (1/N) Σ_i σ_i losses[..., i, g]``.

    The supremum over the grid is exact; ``σ`` are i.i.d. Rademacher signs, ``n_signs``
    draws per sample. With ``absolute=True`` the supremum is of
    ``|(1/N) Σ σ_i ℓ_ig|`` (the complexity in :func:`rademacher_bound`).

    Parameters
    ----------
    losses : array_like
        ``(..., N, G)``.
    n_signs : int
        Sign draws ``S ≥ 2``.
    rng : numpy.random.Generator
        Source of the signs.
    absolute : bool
        Supremum of the absolute value.

    Returns
    -------
    tuple of numpy.ndarray
        ``(estimate, standard_error)``, each of shape ``(...)``: the mean over sign
        draws and its Monte Carlo standard error.

    Raises
    ------
    ValueError
        For a bad argument (named).

    Examples
    --------
    >>> est, se = empirical_rademacher(np.ones((3, 1)), 4, np.random.default_rng(0))
    >>> bool(-1.0 <= est <= 1.0)
    True
    """
    ls = check_array("losses", losses, min_ndim=2)
    S = check_int("n_signs", n_signs, minimum=2)
    rng = check_rng("rng", rng)
    absolute = check_bool("absolute", absolute)
    N = ls.shape[-2]
    signs = rng.integers(0, 2, size=(*ls.shape[:-2], S, N)) * 2.0 - 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        sums = signs @ ls  # (..., S, G)
        sups = np.max(np.abs(sums) if absolute else sums, axis=-1) / N  # (..., S)
        est, se = sups.mean(axis=-1), sups.std(axis=-1, ddof=1) / math.sqrt(S)
    check_finite_result("empirical_rademacher", np.stack([est, se]))
    return est, se


# ----------------------------------------------------------------------------- slopes
def bootstrap_loglog_slope(x, samples, n_boot: int, rng: np.random.Generator):
    """Slope of ``log(column mean)`` against ``log x``, with a bootstrap standard error.

    Rows (replicates) are resampled as wholes, so the standard error stays valid when
    the columns of a row are dependent (e.g. the same datasets at several lengths).

    Parameters
    ----------
    x : array_like
        ``n`` positive abscissae, at least 2 distinct.
    samples : array_like
        ``(R, n)`` non-negative replicates, ``R ≥ 2``, positive column means.
    n_boot : int
        Bootstrap resamples ``≥ 2``.
    rng : numpy.random.Generator
        Source of the resamples.

    Returns
    -------
    tuple of float
        ``(slope, standard_error)``; the slope is the ordinary least-squares slope.

    Raises
    ------
    ValueError
        For a bad argument (named), or data too degenerate to resample.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 4.0])
    >>> s, se = bootstrap_loglog_slope(x, np.tile(x**-0.5, (5, 1)), 10,
    ...                                np.random.default_rng(0))
    >>> round(s, 12), round(se, 12)
    (-0.5, 0.0)
    """
    xs = check_array("x", x, ndim=1, low=0.0, low_open=True)
    ys = check_array("samples", samples, ndim=2, low=0.0)
    if ys.shape[1] != xs.size:
        raise ValueError(
            f"samples must have shape (R, len(x)) = (R, {xs.size}), got {ys.shape}"
        )
    if ys.shape[0] < 2:
        raise ValueError("samples must hold at least 2 replicates (rows)")
    if np.unique(xs).size < 2:
        raise ValueError("x must hold at least 2 distinct abscissae")
    if np.any(ys.mean(axis=0) <= 0):
        raise ValueError("samples must have positive column means")
    B = check_int("n_boot", n_boot, minimum=2)
    rng = check_rng("rng", rng)
    R = ys.shape[0]
    lxc = loglog_coefficients(xs)  # slope = lxc · log(mean)
    slope = float(lxc @ np.log(ys.mean(axis=0)))
    means = ys[rng.integers(0, R, size=(B, R))].mean(axis=1)  # (B, n)
    ok = np.all(means > 0, axis=1)  # a resample with a zero mean has no log
    if ok.sum() < 2:
        raise ValueError("samples are too degenerate for a bootstrap")
    boot = np.log(means[ok]) @ lxc
    return slope, float(boot.std(ddof=1))


def bootstrap_band(se: float, n_rows: int, fpp: float, *, two_sided: bool = True):
    """Half-width ``t_{R−1}(1 − fpp/2) · se`` of a band for a bootstrap estimate.

    A Student quantile with ``R − 1`` degrees of freedom (``R`` resampled rows) allows
    for the noise of the bootstrap standard error itself.

    Parameters
    ----------
    se : float
        Standard error ``≥ 0``.
    n_rows : int
        Rows ``R ≥ 2`` behind the standard error.
    fpp : float
        False-alarm probability in ``(0, 1)``.
    two_sided : bool
        Two-sided band (``fpp/2`` in each tail) or one-sided.

    Returns
    -------
    float
        The half-width.

    Raises
    ------
    ValueError
        For a bad argument (named).

    Examples
    --------
    >>> round(bootstrap_band(1.0, 16, 1e-3), 3)
    4.073
    """
    s = check_positive("se", se, allow_zero=True)
    R = check_int("n_rows", n_rows, minimum=2)
    p = check_real("fpp", fpp, low=0.0, high=1.0, low_open=True, high_open=True)
    tail = p / 2 if check_bool("two_sided", two_sided) else p
    with np.errstate(over="ignore"):
        band = student_t.isf(tail, R - 1) * s
    return float(check_finite_result("bootstrap_band", band))
