"""Autoregressive attention: prefix posteriors, next-token Bayes, a trained GPT (Ch. 6).

Two parts.

*Exact computations.* In the latent-atom model of Chapter 3 (atoms ``z_1..z_m``, prior
``π``, tokens i.i.d. ``p(x | z) = h(x) exp(η(z)·T(x) − A(z))``) the posterior after
the prefix ``x_1..x_t`` is ``softmax_j ⟨q_t, k_j⟩`` with
``q_t = (Σ_{ℓ≤t} T(x_ℓ), t, 1)`` and ``k_j = (η(z_j), −A(z_j), log π_j)``.
Causal attention computes it for every ``t`` at once in two layers: a first layer with
uniform weights over a start token and the prefix returns ``h_t = q_t/(t+1)``, a second
layer over the atom keys with inverse temperature ``β_t = t + 1`` undoes the averaging
(:func:`causal_atom_posteriors`); with a fixed ``β`` it returns the tempered posterior
``∝ (π_j Π_ℓ p(x_ℓ | z_j))^{β/(t+1)}`` (:func:`tempered_atom_posteriors`). For
Dirichlet–categorical (and Beta–Bernoulli) sequences the Bayes next-token predictive
is ``P(X_{t+1} = c | x_1..x_t) = (α_c + n_c)/(Σα + t)``
(:func:`dirichlet_categorical_predictive`).

*A trained model.* :func:`train_bayes_gpt` trains a
:class:`lib.transformer.CausalTransformer` by next-token prediction on sequences from
a :class:`DirichletPrior`, and :func:`excess_log_loss` measures it: per sequence and
position, the Kullback–Leibler divergence from the Bayes predictive, whose mean is the
model's excess log-loss.

Indexing is 0-based and follows the predictive convention: entry ``t`` of a predictive
uses ``x[..., :t]`` (the first ``t`` tokens), and row ``t`` of a prefix posterior is the
posterior after ``x[..., :t+1]``.

Returns: NumPy float64 arrays (or floats) for every computation, including the
50-digit reference :func:`exact_prefix_posteriors` (rounded once at the end); the one
exception is :func:`train_bayes_gpt`, which returns the trained model (a torch module)
and its :class:`lib.transformer.TrainingLog`.

Examples
--------
>>> beta_bernoulli_predictive([1, 1, 0], 1.0, 1.0)
array([0.5       , 0.66666667, 0.75      ])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import torch
from scipy import stats
from scipy.special import gammaln

from lib.attention import softmax_attention
from lib.exchangeability import rounding_gamma
from lib.transformer import (
    CausalTransformer,
    TrainingLog,
    make_model,
    train_next_token,
)
from lib.validation import (
    InputTypeError,
    check_array,
    check_binary,
    check_bool,
    check_choice,
    check_finite_result,
    check_int,
    check_int_array,
    check_positive,
    check_probability,
    check_real,
    check_rng,
)

__all__ = [
    "DirichletPrior",
    "ExcessSummary",
    "atom_keys",
    "attention_profile",
    "beta_bernoulli_martingale_defect",
    "beta_bernoulli_predictive",
    "beta_bernoulli_predictive_mse",
    "causal_atom_posteriors",
    "causal_softmax_attention",
    "dirichlet_categorical_predictive",
    "exact_prefix_posteriors",
    "excess_log_loss",
    "excess_summary",
    "expected_kl_by_position",
    "first_layer_attention",
    "kl_divergence",
    "plugin_predictive",
    "posterior_rounding_bound",
    "prefix_symmetry_defect",
    "tempered_atom_posteriors",
    "tempered_limit",
    "train_bayes_gpt",
]


# --------------------------------------------------------------------- predictives
def beta_bernoulli_predictive(x, a: float, b: float) -> np.ndarray:
    """Bayes next-token probabilities of a 1 under a Beta(a, b) prior.

    Parameters
    ----------
    x : array_like of 0/1, shape ``(..., L)``
        Binary sequences.
    a, b : float
        Beta prior parameters, ``> 0``.

    Returns
    -------
    numpy.ndarray, shape ``(..., L)``
        Entry ``t`` is
        ``P(X_{t+1} = 1 | x_1..x_t) = (a + Σ_{ℓ<t} x_ℓ)/(a + b + t)`` (0-based: it
        uses ``x[..., :t]``; entry 0 is the prior mean ``a/(a+b)``).

    Raises
    ------
    ValueError
        If ``x`` is not binary or has no axis, or ``a``, ``b`` are not positive.

    Examples
    --------
    >>> beta_bernoulli_predictive([[0, 0], [1, 0]], 2.0, 2.0)
    array([[0.5, 0.4],
           [0.5, 0.6]])
    """
    x = check_binary("x", x, min_ndim=1)
    a, b = check_positive("a", a), check_positive("b", b)
    ones_before = np.cumsum(x, axis=-1) - x
    t = np.arange(x.shape[-1])
    return (a + ones_before) / (a + b + t)


def dirichlet_categorical_predictive(x, alpha) -> np.ndarray:
    """Bayes next-token law under a Dirichlet(α) prior on the token probabilities.

    Parameters
    ----------
    x : array_like of int, shape ``(..., L)``
        Tokens in ``0..K-1``.
    alpha : array_like, shape ``(K,)``
        Dirichlet parameters, all ``> 0``, ``K ≥ 2``.

    Returns
    -------
    numpy.ndarray, shape ``(..., L, K)``
        Entry ``[..., t, c]`` is ``(α_c + n_c)/(Σ α + t)`` with ``n_c`` the number of
        ``c`` among ``x[..., :t]``. With ``alpha = (b, a)`` the entry ``c = 1`` is
        :func:`beta_bernoulli_predictive` ``(x, a, b)``.

    Raises
    ------
    ValueError
        If ``alpha`` is not positive with at least two entries, or a token is outside
        ``0..K-1``.

    Examples
    --------
    >>> dirichlet_categorical_predictive([2, 2], [1.0, 1.0, 1.0])[1]
    array([0.25, 0.25, 0.5 ])
    """
    alpha = check_array("alpha", alpha, ndim=1, low=0.0, low_open=True)
    K = alpha.shape[0]
    if K < 2:
        raise ValueError(f"alpha must have at least 2 entries, got {K}")
    x = check_int_array("x", x, min_ndim=1, minimum=0, maximum=K - 1)
    onehot = (x[..., None] == np.arange(K)).astype(np.float64)
    counts_before = np.cumsum(onehot, axis=-2) - onehot
    t = np.arange(x.shape[-1], dtype=np.float64)[:, None]
    return (alpha + counts_before) / (alpha.sum() + t)


def plugin_predictive(x, K: int, delta: float) -> np.ndarray:
    """The plug-in (maximum-likelihood) next-token law, kept off zero.

    Parameters
    ----------
    x : array_like of int, shape ``(..., L)``
        Tokens in ``0..K-1``.
    K : int
        Vocabulary size, ``≥ 2``.
    delta : float
        Floor, ``0 < δ ≤ 1/K``.

    Returns
    -------
    numpy.ndarray, shape ``(..., L, K)``
        Entry ``[..., t, c]`` is ``(1 − Kδ) n_c/t + δ`` for ``t ≥ 1`` (the
        empirical frequency of ``c`` in ``x[..., :t]``, mixed with ``Kδ`` of the
        uniform law so that the log-loss is finite) and ``1/K`` at ``t = 0``.

    Raises
    ------
    ValueError
        If ``K < 2``, ``δ`` is outside ``(0, 1/K]`` or a token is outside ``0..K-1``.

    Examples
    --------
    >>> plugin_predictive([1, 1], 2, 0.01)
    array([[0.5 , 0.5 ],
           [0.01, 0.99]])
    """
    K = check_int("K", K, minimum=2)
    delta = check_real("delta", delta, low=0.0, high=1.0 / K, low_open=True)
    x = check_int_array("x", x, min_ndim=1, minimum=0, maximum=K - 1)
    onehot = (x[..., None] == np.arange(K)).astype(np.float64)
    counts_before = np.cumsum(onehot, axis=-2) - onehot
    t = np.arange(x.shape[-1], dtype=np.float64)[:, None]
    freq = np.divide(
        counts_before, t, out=np.full_like(counts_before, 1.0 / K), where=t > 0
    )
    return np.where(t > 0, (1 - K * delta) * freq + delta, 1.0 / K)


@dataclass(frozen=True)
class DirichletPrior:
    """An exchangeable token law: ``θ ~ Dirichlet(α)``, then tokens i.i.d. ``θ``.

    Parameters
    ----------
    alpha : sequence of float
        ``K ≥ 2`` positive Dirichlet parameters; the vocabulary is ``0..K-1``.
        :meth:`beta` gives the Beta(a, b)–Bernoulli law (``alpha = (b, a)``: token 1
        has prior mean ``a/(a+b)``).

    Raises
    ------
    ValueError
        If ``alpha`` has fewer than two entries or a non-positive one.

    Examples
    --------
    >>> prior = DirichletPrior.beta(1.0, 1.0)
    >>> prior.alpha
    (1.0, 1.0)
    >>> x, theta = prior.sample(np.random.default_rng(0), 2, 5, return_latent=True)
    >>> x.shape, theta.shape
    ((2, 5), (2, 2))
    """

    alpha: tuple[float, ...]

    def __post_init__(self):
        alpha = check_array("alpha", self.alpha, ndim=1, low=0.0, low_open=True)
        if alpha.shape[0] < 2:
            raise ValueError(
                f"alpha must have at least 2 entries, got {alpha.shape[0]}"
            )
        object.__setattr__(self, "alpha", tuple(float(a) for a in alpha))

    @classmethod
    def beta(cls, a: float, b: float) -> DirichletPrior:
        """The Beta(a, b) prior on ``P(token = 1)``."""
        return cls((check_positive("b", b), check_positive("a", a)))

    @property
    def K(self) -> int:
        """Vocabulary size."""
        return len(self.alpha)

    def sample(self, rng, n: int, L: int, *, return_latent: bool = False):
        """``n`` sequences of length ``L`` (int64, ``(n, L)``); with ``return_latent``
        also the token probabilities ``θ`` of each sequence, ``(n, K)``."""
        rng = check_rng("rng", rng)
        n = check_int("n", n, minimum=1)
        L = check_int("L", L, minimum=1)
        return_latent = check_bool("return_latent", return_latent)
        theta = rng.dirichlet(np.array(self.alpha), size=n)
        u = rng.random((n, L, 1))
        edges = np.cumsum(theta, axis=-1)[:, None, :-1]
        x = (u >= edges).sum(-1).astype(np.int64)
        return (x, theta) if return_latent else x

    def predictive(self, x) -> np.ndarray:
        """The Bayes predictive under this prior, ``(..., L, K)``."""
        return dirichlet_categorical_predictive(x, self.alpha)


def _check_prior(name: str, prior) -> DirichletPrior:
    if not isinstance(prior, DirichletPrior):
        raise InputTypeError(f"{name} must be a DirichletPrior, got {prior!r}")
    return prior


def beta_bernoulli_predictive_mse(a: float, b: float, t) -> np.ndarray:
    """Mean squared distance of the Bayes predictive from the latent.

    Parameters
    ----------
    a, b : float
        Beta prior parameters, ``> 0``.
    t : int or array_like of int
        Numbers of tokens read, ``≥ 0``.

    Returns
    -------
    numpy.ndarray
        ``E[(p_t − θ)²] = ab / ((a+b)(a+b+1)(a+b+t))``, with ``p_t`` the entry ``t``
        of :func:`beta_bernoulli_predictive`: the prior mean of the posterior variance.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not positive or ``t`` is negative.

    Examples
    --------
    >>> float(beta_bernoulli_predictive_mse(1.0, 1.0, 0))  # Var of Uniform(0, 1)
    0.08333333333333333
    """
    a, b = check_positive("a", a), check_positive("b", b)
    t = check_int_array("t", t, minimum=0).astype(np.float64)
    return a * b / ((a + b) * (a + b + 1) * (a + b + t))


# ------------------------------------------------------------- causal attention
def causal_softmax_attention(
    q, K, V, beta: float = 1.0, *, return_weights: bool = False
) -> np.ndarray:
    """Softmax attention with a causal mask: position ``t`` attends to ``s ≤ t``.

    Parameters
    ----------
    q, K : array_like, shape ``(..., L, d)``
        Queries and keys, one per position.
    V : array_like, shape ``(..., L, d_v)``
        Values.
    beta : float
        Inverse temperature.
    return_weights : bool
        Also return the weights ``(..., L, L)`` (zero above the diagonal).

    Returns
    -------
    numpy.ndarray, shape ``(..., L, d_v)``
        Row ``t`` is ``Σ_{s≤t} softmax_s(β q_t·k_s) v_s`` (the maximum over
        ``s ≤ t`` is subtracted before exponentiating).

    Raises
    ------
    ValueError
        If shapes disagree or an input is not finite.

    Examples
    --------
    >>> V = np.array([[1.0], [3.0], [5.0]])
    >>> causal_softmax_attention(np.zeros((3, 1)), np.zeros((3, 1)), V)[:, 0]
    array([1., 2., 3.])
    """
    q = check_array("q", q, min_ndim=2)
    K = check_array("K", K, min_ndim=2)
    V = check_array("V", V, min_ndim=2)
    beta = check_real("beta", beta)
    return_weights = check_bool("return_weights", return_weights)
    L = q.shape[-2]
    if K.shape[-2] != L or V.shape[-2] != L:
        raise ValueError(
            f"q, K and V must have the same length, got {q.shape}, {K.shape}, {V.shape}"
        )
    if q.shape[-1] != K.shape[-1]:
        raise ValueError(f"q and K must have the same width, got {q.shape}, {K.shape}")
    scores = beta * (q @ np.swapaxes(K, -1, -2))
    future = np.triu(np.ones((L, L), dtype=bool), k=1)
    scores = np.where(future, -np.inf, scores)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    out = check_finite_result("causal attention", weights @ V)
    return (out, weights) if return_weights else out


def atom_keys(eta, A, log_prior) -> np.ndarray:
    """The atom keys ``k_j = (η(z_j), −A(z_j), log π_j)``.

    Parameters
    ----------
    eta : array_like, shape ``(m, p)``
        Natural parameters.
    A : array_like, shape ``(m,)``
        Log-partition values.
    log_prior : array_like, shape ``(m,)``
        Log prior weights (finite; adding a constant does not change a softmax, so
        they need not be normalised).

    Returns
    -------
    numpy.ndarray, shape ``(m, p + 2)``

    Raises
    ------
    ValueError
        If the shapes disagree or an entry is not finite.

    Examples
    --------
    >>> atom_keys([[0.5], [1.0]], [0.1, 0.2], [-1.0, -2.0])
    array([[ 0.5, -0.1, -1. ],
           [ 1. , -0.2, -2. ]])
    """
    eta = check_array("eta", eta, ndim=2)
    m = eta.shape[0]
    A = check_array("A", A, shape=(m,), ndim=1)
    log_prior = check_array("log_prior", log_prior, shape=(m,), ndim=1)
    return np.concatenate([eta, -A[:, None], log_prior[:, None]], axis=-1)


def _prefix_values(T: np.ndarray) -> np.ndarray:
    """Layer-1 values: start ``(0, 0, 1)``, token ``ℓ`` ``(T(x_ℓ), 1, 0)``."""
    lead = T.shape[:-2]
    p = T.shape[-1]
    start = np.zeros((*lead, 1, p + 2))
    start[..., 0, -1] = 1.0
    tokens = np.concatenate(
        [T, np.ones((*T.shape[:-1], 1)), np.zeros((*T.shape[:-1], 1))], axis=-1
    )
    return np.concatenate([start, tokens], axis=-2)


def _two_layers(T, eta, A, log_prior, beta_rows: np.ndarray) -> np.ndarray:
    T = check_array("T", T, min_ndim=2)
    keys = atom_keys(eta, A, log_prior)
    if T.shape[-1] != keys.shape[-1] - 2:
        raise ValueError(
            f"T has p = {T.shape[-1]} statistics but eta has p = {keys.shape[-1] - 2}"
        )
    V = _prefix_values(T)
    zeros = np.zeros((*V.shape[:-1], 1))
    # layer 1: equal scores, causal mask: uniform average over the start and the prefix
    h = causal_softmax_attention(zeros, zeros, V)[..., 1:, :]  # = q_t / (t + 2)
    # layer 2: attention over the atom keys, one inverse temperature per position
    m = keys.shape[0]
    beta_t = torch.from_numpy(beta_rows[:, None])
    _, w = softmax_attention(
        torch.from_numpy(h),
        torch.from_numpy(keys),
        torch.eye(m, dtype=torch.float64),
        beta=beta_t,
        return_weights=True,
    )
    return check_finite_result("prefix posteriors", w.numpy())


def causal_atom_posteriors(T, eta, A, log_prior) -> np.ndarray:
    """Every prefix posterior ``π(z_j | x_1..x_{t+1})`` in one causal pass.

    Layer 1 averages the values ``(0, 0, 1)`` (start token) and ``(T(x_ℓ), 1, 0)``
    uniformly over the start token and the prefix; at the position of token ``t``
    (0-based) it returns ``q/(t + 2)`` with ``q = (Σ_{ℓ≤t} T(x_ℓ), t + 1, 1)``.
    Layer 2 attends to the atom keys of :func:`atom_keys` with inverse temperature
    ``β = t + 2`` (the number of averaged entries: ``β_t = t + 1`` in 1-based terms).

    Parameters
    ----------
    T : array_like, shape ``(..., L, p)``
        Sufficient statistic ``T(x_ℓ)`` of each token.
    eta : array_like, shape ``(m, p)``
        Natural parameters ``η(z_j)``.
    A : array_like, shape ``(m,)``
        Log-partition values ``A(z_j)``.
    log_prior : array_like, shape ``(m,)``
        ``log π_j`` (finite; unnormalised is fine).

    Returns
    -------
    numpy.ndarray, shape ``(..., L, m)``
        Row ``t`` is the posterior after ``x_1..x_{t+1}`` (tokens ``0..t``).

    Raises
    ------
    ValueError
        If shapes disagree or inputs are not finite; ``FloatingPointError`` if the
        scores overflow.

    Examples
    --------
    >>> eta, A = np.array([[-1.0], [1.0]]), np.log1p(np.exp([-1.0, 1.0]))
    >>> post = causal_atom_posteriors([[1.0], [1.0]], eta, A, np.log([0.5, 0.5]))
    >>> np.round(post, 4)
    array([[0.2689, 0.7311],
           [0.1192, 0.8808]])
    """
    T = check_array("T", T, min_ndim=2)
    return _two_layers(T, eta, A, log_prior, np.arange(T.shape[-2]) + 2.0)


def tempered_atom_posteriors(T, eta, A, log_prior, beta) -> np.ndarray:
    """The two layers of :func:`causal_atom_posteriors` with a given temperature.

    Parameters
    ----------
    T, eta, A, log_prior
        As in :func:`causal_atom_posteriors`.
    beta : float or array_like, shape ``(L,)``
        Inverse temperature of layer 2, ``> 0``: one number, or one per position.

    Returns
    -------
    numpy.ndarray, shape ``(..., L, m)``
        Row ``t`` is ``softmax_j(β ⟨q, k_j⟩/(t + 2))``: the posterior after
        ``x_1..x_{t+1}`` raised to the power ``β/(t + 2)`` and renormalised;
        ``beta = t + 2`` at every position gives the exact posteriors.

    Raises
    ------
    ValueError
        If ``beta`` is not positive or has the wrong length, or as in
        :func:`causal_atom_posteriors`.

    Examples
    --------
    >>> eta, A = np.array([[-1.0], [1.0]]), np.log1p(np.exp([-1.0, 1.0]))
    >>> flat = tempered_atom_posteriors([[1.0], [1.0]], eta, A, [0.0, 0.0], 1e-9)
    >>> np.round(flat, 6)
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    T = check_array("T", T, min_ndim=2)
    L = T.shape[-2]
    b = check_array("beta", beta, low=0.0, low_open=True)
    if b.ndim == 0:
        b = np.full(L, float(b))
    elif b.shape != (L,):
        raise ValueError(f"beta must be a number or have shape ({L},), got {b.shape}")
    return _two_layers(T, eta, A, log_prior, b)


def tempered_limit(mean_T, eta, A, beta: float) -> np.ndarray:
    """Limit of the fixed-β tempered posterior along a sequence.

    Parameters
    ----------
    mean_T : array_like, shape ``(p,)``
        Limit of ``Σ_{ℓ≤t} T(x_ℓ)/t``.
    eta : array_like, shape ``(m, p)``
    A : array_like, shape ``(m,)``
    beta : float
        Fixed inverse temperature, ``> 0``.

    Returns
    -------
    numpy.ndarray, shape ``(m,)``
        ``softmax_j(β (η(z_j)·mean_T − A(z_j)))``: the prior's weight
        ``log π_j/(t+2)`` vanishes and the averaged log-likelihood converges, so a
        fixed temperature never concentrates.

    Raises
    ------
    ValueError
        If the shapes disagree or ``beta`` is not positive.

    Examples
    --------
    >>> eta, A = np.array([[-1.0], [1.0]]), np.log1p(np.exp([-1.0, 1.0]))
    >>> np.round(tempered_limit([0.5], eta, A, 1.0), 3)
    array([0.5, 0.5])
    """
    eta = check_array("eta", eta, ndim=2)
    mean_T = check_array("mean_T", mean_T, ndim=1, shape=(eta.shape[1],))
    A = check_array("A", A, ndim=1, shape=(eta.shape[0],))
    beta = check_positive("beta", beta)
    s = beta * (eta @ mean_T - A)
    w = np.exp(s - s.max())
    return w / w.sum()


def exact_prefix_posteriors(T, eta, A, log_prior, *, dps: int = 50) -> np.ndarray:
    """Brute-force Bayes per prefix in ``dps``-digit arithmetic (the reference).

    For every prefix ``x_1..x_{t+1}`` and atom ``j`` the unnormalised posterior
    ``π_j Π_{ℓ≤t+1} exp(η_j·T(x_ℓ) − A_j)`` is formed by multiplying the
    prior by each token's likelihood (``h(x)`` cancels), then normalised; only the
    result is rounded to float64.

    Parameters
    ----------
    T, eta, A, log_prior
        As in :func:`causal_atom_posteriors` (meant for small inputs).
    dps : int
        Decimal digits of the arithmetic, ``≥ 20``.

    Returns
    -------
    numpy.ndarray, shape ``(..., L, m)``

    Raises
    ------
    ValueError
        If the shapes disagree or an entry is not finite.

    Examples
    --------
    >>> eta, A = np.array([[-1.0], [1.0]]), np.log1p(np.exp([-1.0, 1.0]))
    >>> np.round(exact_prefix_posteriors([[1.0]], eta, A, [0.0, 0.0]), 4)
    array([[0.2689, 0.7311]])
    """
    T = check_array("T", T, min_ndim=2)
    eta = check_array("eta", eta, ndim=2)
    m, p = eta.shape
    A = check_array("A", A, ndim=1, shape=(m,))
    log_prior = check_array("log_prior", log_prior, ndim=1, shape=(m,))
    dps = check_int("dps", dps, minimum=20)
    if T.shape[-1] != p:
        raise ValueError(f"T has p = {T.shape[-1]} statistics but eta has p = {p}")
    flat = T.reshape(-1, *T.shape[-2:])
    out = np.empty((*flat.shape[:-1], m))
    with mpmath.workdps(dps):
        mp = mpmath.mpf
        eta_mp = [[mp(float(v)) for v in row] for row in eta]
        A_mp = [mp(float(v)) for v in A]
        for n, seq in enumerate(flat):
            unnorm = [mpmath.exp(mp(float(v))) for v in log_prior]  # the prior
            for t, stat in enumerate(seq):
                s = [mp(float(v)) for v in stat]
                for j in range(m):  # times the likelihood of token t under atom j
                    eta_s = mpmath.fsum(eta_mp[j][i] * s[i] for i in range(p))
                    unnorm[j] *= mpmath.exp(eta_s - A_mp[j])
                total = mpmath.fsum(unnorm)
                out[n, t] = [float(w / total) for w in unnorm]
    return out.reshape(*T.shape[:-1], m)


def posterior_rounding_bound(T, eta, A, log_prior) -> np.ndarray:
    """Elementwise bound on ``|causal_atom_posteriors − exact|`` from rounding.

    With unit roundoff ``u`` and ``γ_n = nu/(1 − nu)``: layer 1 sums at most
    ``L + 1`` products with weights ``1/(t+2)`` rounded once; rescaling by ``β``, the
    score's dot product of length ``p + 2``, the product with ``β`` and the subtraction
    of the maximum add ``p + 6`` roundings, so each score is off by at most
    ``Δ_t = γ_{L+p+7} M_t`` with
    ``M_t = max_j Σ_i (Σ_{s≤t} |v_{s,i}|) |k_{j,i}|``. A score perturbation ``Δ``
    moves every softmax weight by a factor within ``e^{±2Δ}``; the exponential (at
    most 1 ulp), the sum of ``m`` terms and the division add ``γ_{m+5}``. Hence
    ``|ŵ_j − w_j| ≤ r_t w_j`` with ``r_t = e^{2Δ_t}(1 + γ_{m+5}) − 1``, i.e.
    ``|ŵ_j − w_j| ≤ ŵ_j r_t/(1 − r_t)`` in terms of the computed ``ŵ``, plus
    ``4·tiny`` for underflow.

    Parameters
    ----------
    T, eta, A, log_prior
        As in :func:`causal_atom_posteriors`.

    Returns
    -------
    numpy.ndarray, shape ``(..., L, m)``

    Raises
    ------
    FloatingPointError
        If the scores are so large that ``r_t ≥ 1/2`` (no useful bound).

    Examples
    --------
    >>> eta, A = np.array([[-1.0], [1.0]]), np.log1p(np.exp([-1.0, 1.0]))
    >>> bool(posterior_rounding_bound([[1.0]], eta, A, [0.0, 0.0]).max() < 1e-13)
    True
    """
    T = check_array("T", T, min_ndim=2)
    keys = atom_keys(eta, A, log_prior)
    computed = causal_atom_posteriors(T, eta, A, log_prior)
    L, p, m = T.shape[-2], T.shape[-1], keys.shape[0]
    abs_values = np.cumsum(np.abs(_prefix_values(T)), axis=-2)[..., 1:, :]
    M = (abs_values @ np.abs(keys).T).max(axis=-1, keepdims=True)
    rel = np.exp(2 * rounding_gamma(L + p + 7) * M) * (1 + rounding_gamma(m + 5)) - 1
    if np.any(rel >= 0.5):
        raise FloatingPointError("scores too large for a useful rounding bound")
    return computed * rel / (1 - rel) + 4 * np.finfo(np.float64).tiny


# ------------------------------------------------------------- KL and excess loss
def kl_divergence(p, q) -> np.ndarray:
    """Kullback–Leibler divergence along the last axis.

    Parameters
    ----------
    p, q : array_like, shape ``(..., K)``
        Probability vectors (entries in ``[0, 1]``).

    Returns
    -------
    numpy.ndarray, shape ``(...)``
        ``KL(p ‖ q) = Σ_c p_c log(p_c/q_c)`` with ``0 log 0 = 0``.

    Raises
    ------
    ValueError
        If the shapes differ or an entry is outside ``[0, 1]``.
    FloatingPointError
        If ``q_c = 0 < p_c`` (the divergence is infinite).

    Examples
    --------
    >>> round(float(kl_divergence([0.5, 0.5], [0.25, 0.75])), 6)
    0.143841
    """
    p = check_probability("p", p)
    q = check_probability("q", q)
    if np.ndim(p) == 0 or np.shape(p) != np.shape(q):
        raise ValueError(
            "p and q must have the same shape (..., K),"
            f" got {np.shape(p)} and {np.shape(q)}"
        )
    if np.any((q == 0) & (p > 0)):
        raise FloatingPointError("KL(p ‖ q) is infinite: q is 0 where p is not")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return check_finite_result("KL divergence", terms.sum(axis=-1))


def _count_vectors(t: int, K: int) -> np.ndarray:
    """All ``n ∈ ℕ^K`` with ``Σ n = t`` (stars and bars), shape
    ``(C(t+K-1, K-1), K)``."""
    rows = []
    for bars in itertools.combinations(range(t + K - 1), K - 1):
        edges = (-1, *bars, t + K - 1)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(K)])
    return np.array(rows, dtype=np.int64).reshape(-1, K)


def expected_kl_by_position(
    prior: DirichletPrior, L: int, predictor, *, delta: float = 0.01
) -> np.ndarray:
    """Exact ``E[KL(Bayes_t ‖ predictor_t)]`` at each position ``t = 0..L-1``.

    The expectation is over sequences from ``prior``; ``Bayes_t`` is its predictive.
    The sum runs over every count vector ``n`` of the prefix, weighted by its
    Dirichlet-multinomial probability ``t!/Π n_c! · B(α + n)/B(α)``. By Proposition
    ``prop-ch6-proper`` the result is the predictor's expected excess log-loss at
    position ``t``.

    Parameters
    ----------
    prior : DirichletPrior
        The law of the sequences.
    L : int
        Number of positions, ``≥ 1``.
    predictor : {"uniform", "plugin"} or DirichletPrior
        A predictor that depends on the prefix through its counts only: the uniform
        law, :func:`plugin_predictive` with floor ``delta``, or the Bayes predictive
        under another prior.
    delta : float
        Floor of the plug-in predictor.

    Returns
    -------
    numpy.ndarray, shape ``(L,)``

    Raises
    ------
    ValueError
        If ``predictor`` is unknown or has another vocabulary size, or there are too
        many count vectors to enumerate.

    Examples
    --------
    >>> prior = DirichletPrior.beta(1.0, 1.0)
    >>> np.round(expected_kl_by_position(prior, 2, "uniform"), 4)  # log 2 − H(1/3)
    array([0.    , 0.0566])
    """
    prior = _check_prior("prior", prior)
    L = check_int("L", L, minimum=1)
    if isinstance(predictor, DirichletPrior):
        if predictor.K != prior.K:
            raise ValueError(f"predictor has K = {predictor.K}, prior has {prior.K}")
    else:
        predictor = check_choice("predictor", predictor, ("uniform", "plugin"))
    K = prior.K
    alpha = np.array(prior.alpha)
    if math.comb(L + K - 2, K - 1) > 2_000_000:
        raise ValueError(f"too many count vectors for L = {L}, K = {K}")
    out = np.empty(L)
    for t in range(L):
        n = _count_vectors(t, K)
        log_w = (
            gammaln(t + 1)
            - gammaln(n + 1).sum(-1)
            + gammaln(alpha + n).sum(-1)
            - gammaln(alpha.sum() + t)
            - gammaln(alpha).sum()
            + gammaln(alpha.sum())
        )
        bayes = (alpha + n) / (alpha.sum() + t)
        if isinstance(predictor, DirichletPrior):
            other = np.array(predictor.alpha)
            q = (other + n) / (other.sum() + t)
        elif predictor == "uniform" or t == 0:
            q = np.full_like(bayes, 1.0 / K)
        else:
            check_real("delta", delta, low=0.0, high=1.0 / K, low_open=True)
            q = (1 - K * delta) * n / t + delta
        out[t] = np.exp(log_w) @ kl_divergence(bayes, q)
    return out


def excess_log_loss(model_probs, x, prior: DirichletPrior) -> np.ndarray:
    """``KL(Bayes ‖ model)`` per sequence and position.

    Conditionally on the prefix this is the expected excess log-loss of the
    prediction at that position (Proposition ``prop-ch6-proper``), so its mean over
    fresh sequences estimates the excess log-loss without the noise of the realised
    next token.

    Parameters
    ----------
    model_probs : array_like, shape ``(n, L, K)``
        A predictor's next-token laws on the sequences ``x``.
    x : array_like of int, shape ``(n, L)``
        Sequences with tokens in ``0..K-1``.
    prior : DirichletPrior
        Defines the Bayes predictive.

    Returns
    -------
    numpy.ndarray, shape ``(n, L)``

    Raises
    ------
    ValueError
        If the shapes disagree or ``model_probs`` is not a probability array.

    Examples
    --------
    >>> prior = DirichletPrior.beta(1.0, 1.0)
    >>> x = np.array([[1, 0]])
    >>> excess_log_loss(prior.predictive(x), x, prior)
    array([[0., 0.]])
    """
    prior = _check_prior("prior", prior)
    x = check_int_array("x", x, ndim=2, minimum=0, maximum=prior.K - 1)
    q = check_probability("model_probs", model_probs)
    if q.shape != (*x.shape, prior.K):
        raise ValueError(f"model_probs must have shape {(*x.shape, prior.K)}")
    return kl_divergence(prior.predictive(x), q)


@dataclass(frozen=True)
class ExcessSummary:
    """Mean of per-sequence excess log-losses, its standard error, and the one-sided
    upper confidence bound ``mean + z_α se`` (CLT over ``n`` independent sequences)."""

    mean: float
    se: float
    upper: float
    n: int
    alpha: float


def excess_summary(kl, alpha: float) -> ExcessSummary:
    """Mean excess over sequences, its standard error and an upper bound.

    Parameters
    ----------
    kl : array_like, shape ``(n, L)``
        Per-sequence, per-position excess (e.g. from :func:`excess_log_loss`); each
        sequence's mean over positions is one independent term.
    alpha : float
        One-sided level of the upper bound, in ``(0, 1/2]``.

    Returns
    -------
    ExcessSummary
        ``mean``, ``se = sd/√n`` and ``upper = mean + z_α se`` (central limit theorem
        over the ``n`` sequences).

    Raises
    ------
    ValueError
        If ``kl`` is not 2-d with at least two sequences, or ``alpha`` is out of range.

    Examples
    --------
    >>> s = excess_summary(np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]]), 0.05)
    >>> (s.mean, s.se, s.n)
    (1.0, 0.0, 3)
    """
    kl = check_array("kl", kl, ndim=2)
    alpha = check_real("alpha", alpha, low=0.0, high=0.5, low_open=True)
    per_seq = kl.mean(axis=1)
    if per_seq.size < 2:
        raise ValueError("kl needs at least 2 sequences for a standard error")
    mean = float(per_seq.mean())
    se = float(per_seq.std(ddof=1) / math.sqrt(per_seq.size))
    z = float(stats.norm.isf(alpha))
    return ExcessSummary(mean, se, mean + z * se, int(per_seq.size), alpha)


# ------------------------------------------------------------- exchangeability
def beta_bernoulli_martingale_defect(a: float, b: float, t_max: int) -> float:
    """Largest martingale defect of the Beta–Bernoulli predictive.

    Parameters
    ----------
    a, b : float
        Beta prior parameters, ``> 0``.
    t_max : int
        Prefixes of every length ``0..t_max-1`` are enumerated (``1 ≤ t_max ≤ 20``).

    Returns
    -------
    float
        ``max |p_t p_{t+1}(x, 1) + (1 − p_t) p_{t+1}(x, 0) − p_t|`` over all binary
        prefixes ``x`` shorter than ``t_max``, with ``p`` from
        :func:`beta_bernoulli_predictive`. Zero up to rounding for a martingale.

    Raises
    ------
    ValueError
        If ``a``, ``b`` are not positive or ``t_max`` is out of range.

    Examples
    --------
    >>> beta_bernoulli_martingale_defect(2.0, 3.0, 6) < 1e-15
    True
    """
    a, b = check_positive("a", a), check_positive("b", b)
    t_max = check_int("t_max", t_max, minimum=1, maximum=20)
    worst = 0.0
    for t in range(t_max):
        prefixes = np.array(list(itertools.product([0, 1], repeat=t)), dtype=np.int64)
        prefixes = prefixes.reshape(2**t, t)
        n = prefixes.shape[0]
        ones = np.concatenate([prefixes, np.ones((n, 2), np.int64)], axis=1)
        zeros = np.concatenate([prefixes, np.zeros((n, 2), np.int64)], axis=1)
        p_t = beta_bernoulli_predictive(ones, a, b)[:, t]
        up = beta_bernoulli_predictive(ones, a, b)[:, t + 1]
        down = beta_bernoulli_predictive(zeros, a, b)[:, t + 1]
        worst = max(worst, float(np.abs(p_t * up + (1 - p_t) * down - p_t).max()))
    return worst


def prefix_symmetry_defect(predict: Callable, x, rng, n_perm: int = 4) -> np.ndarray:
    """How much a predictor's last prediction moves when its prefix is shuffled.

    Parameters
    ----------
    predict : callable
        Maps ``(n, L)`` tokens to next-token laws ``(n, L, K)``; the prediction at
        position ``L − 1`` depends on ``x[:, :L-1]``.
    x : array_like of int, shape ``(n, L)``
        Sequences.
    rng : numpy.random.Generator
        Draws the permutations.
    n_perm : int
        Number of random permutations of positions ``0..L-2``.

    Returns
    -------
    numpy.ndarray, shape ``(n_perm, n)``
        ``max_c |Δ P(c)|`` per permutation and sequence; zero for a symmetric
        (exchangeable) predictive.

    Raises
    ------
    ValueError
        If ``x`` is not a 2-d integer array, ``rng`` is not a Generator or
        ``predict`` is not callable.

    Examples
    --------
    >>> prior = DirichletPrior.beta(1.0, 1.0)
    >>> x = prior.sample(np.random.default_rng(0), 3, 6)
    >>> gap = prefix_symmetry_defect(prior.predictive, x, np.random.default_rng(1))
    >>> float(gap.max())
    0.0
    """
    x = check_int_array("x", x, ndim=2, minimum=0)
    rng = check_rng("rng", rng)
    n_perm = check_int("n_perm", n_perm, minimum=1)
    if not callable(predict):
        raise InputTypeError(f"predict must be callable, got {predict!r}")
    L = x.shape[1]
    base = np.asarray(predict(x))[:, -1]
    gaps = []
    for _ in range(n_perm):
        order = np.concatenate([rng.permutation(L - 1), [L - 1]])
        moved = np.asarray(predict(x[:, order]))[:, -1]
        gaps.append(np.abs(moved - base).max(axis=-1))
    return np.array(gaps)


# ------------------------------------------------------------- the trained model
def train_bayes_gpt(
    prior: DirichletPrior,
    L: int,
    *,
    steps: int,
    init_seed: int,
    data_seed: int,
    batch_size: int = 64,
    lr: float = 3e-3,
    positional: str = "none",
    d_model: int = 32,
    n_layers: int = 2,
    n_heads: int = 1,
    warmup: int | None = None,
) -> tuple[CausalTransformer, TrainingLog]:
    """Train a small decoder-only transformer by next-token prediction on ``prior``.

    Every step draws a fresh batch of ``batch_size`` sequences of length ``L`` from
    ``prior`` (generator seeded with ``data_seed``); the initial weights depend on
    ``init_seed`` only (:func:`lib.transformer.make_model`). Adam with a linear warm-up
    and a cosine decay (:func:`lib.transformer.train_next_token`). On CPU with a fixed
    thread count the run is deterministic.

    Parameters
    ----------
    prior : DirichletPrior
        The training law; its ``K`` is the vocabulary size.
    L : int
        Training length.
    steps, batch_size : int
        Adam steps and sequences per step.
    init_seed, data_seed : int
        Seeds of the initial weights and of the training data.
    lr : float
        Peak learning rate.
    positional : {"none", "sinusoidal", "learned"}
        Positional encodings (:class:`lib.transformer.CausalTransformer`).
    d_model, n_layers, n_heads : int
        Width, depth and heads of the model.
    warmup : int, optional
        Warm-up steps, default ``steps // 20``.

    Returns
    -------
    model : lib.transformer.CausalTransformer
        The trained model, in eval mode (a torch module).
    log : lib.transformer.TrainingLog
        Training losses.

    Raises
    ------
    ValueError
        If an argument is out of range (checked by :mod:`lib.transformer`).

    Examples
    --------
    >>> from lib.transformer import next_token_probs
    >>> model, log = train_bayes_gpt(DirichletPrior.beta(1.0, 1.0), 4, steps=2,
    ...                              init_seed=0, data_seed=1, d_model=8)
    >>> next_token_probs(model, [[0, 1, 1, 0]]).shape
    (1, 4, 2)
    """
    prior = _check_prior("prior", prior)
    L = check_int("L", L, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    init_seed = check_int("init_seed", init_seed, minimum=0)
    data_seed = check_int("data_seed", data_seed, minimum=0)
    warmup = steps // 20 if warmup is None else warmup
    model = make_model(
        prior.K,
        L,
        seed=init_seed,
        d_model=d_model,
        n_layers=n_layers,
        n_heads=n_heads,
        positional=positional,
    )

    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        return prior.sample(rng, n, L)

    log = train_next_token(
        model,
        sample,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=data_seed,
        warmup=warmup,
    )
    return model, log


def first_layer_attention(model: CausalTransformer, x) -> np.ndarray:
    """The first layer's attention weights, averaged over heads.

    Parameters
    ----------
    model : lib.transformer.CausalTransformer
    x : array_like of int, shape ``(n, L)``
        Token sequences.

    Returns
    -------
    numpy.ndarray, shape ``(n, L, L)``
        Row ``t`` is the law over the inputs ``0..t`` read at position ``t`` (input 0
        is the start token, input ``s ≥ 1`` the token ``x[:, s-1]``).

    Raises
    ------
    ValueError
        If ``x`` is invalid for the model.
    lib.validation.InputTypeError
        If ``model`` is not a CausalTransformer.

    Examples
    --------
    >>> from lib.transformer import make_model
    >>> model = make_model(vocab_size=2, max_len=3, seed=0, d_model=8)
    >>> w = first_layer_attention(model, [[0, 1, 1]])
    >>> w.shape, bool(np.allclose(w.sum(-1), 1.0, atol=1e-6)), float(w[0, 0, 1])
    ((1, 3, 3), True, 0.0)
    """
    if not isinstance(model, CausalTransformer):
        raise InputTypeError(f"model must be a CausalTransformer, got {model!r}")
    maps = model.attention_maps(x)[0]
    return maps.mean(dim=1).double().numpy()


def attention_profile(weights) -> tuple[np.ndarray, np.ndarray]:
    """How far causal attention rows are from the uniform average.

    Parameters
    ----------
    weights : array_like, shape ``(n, L, L)``
        Causal attention rows (e.g. from :func:`first_layer_attention`).

    Returns
    -------
    tv : numpy.ndarray, shape ``(L,)``
        Per position ``t``, the mean total-variation distance of row ``t`` from the
        uniform law over ``0..t``.
    start : numpy.ndarray, shape ``(L,)``
        Per position ``t``, the mean weight on input 0 (the start token) times
        ``t + 1``: 1 for the uniform average.

    Raises
    ------
    ValueError
        If ``weights`` is not ``(n, L, L)`` with non-negative entries.

    Examples
    --------
    >>> uniform = np.tril(np.ones((3, 3))) / np.arange(1, 4)[:, None]
    >>> tv, start = attention_profile(uniform[None])
    >>> tv, start
    (array([0., 0., 0.]), array([1., 1., 1.]))
    """
    w = check_array("weights", weights, ndim=3, low=0.0)
    L = w.shape[-1]
    if w.shape[-2] != L:
        raise ValueError(f"weights must have shape (n, L, L), got {w.shape}")
    uniform = np.tril(np.ones((L, L))) / np.arange(1, L + 1)[:, None]
    tv = 0.5 * np.abs(w - uniform).sum(-1).mean(0)
    start = w[:, :, 0].mean(0) * np.arange(1, L + 1)
    return tv, start
