"""Markov chains with a Dirichlet prior on the transition matrix (Chapter 7).

Model: ``k`` states; ``X_1`` uniform on ``0..k-1``; the rows of the transition matrix
``P`` i.i.d. ``Dirichlet(α·1)``; given ``P``, the sequence is a Markov chain.
Sequences are integer arrays with positions on the last axis, 0-based: ``x[t]`` is the
book's ``X_{t+1}``.

- :func:`transition_counts`, :func:`sequence_log_prob`: the sufficient statistic and the
  exact law of a sequence;
- :func:`dirichlet_markov_predictive` (the Bayes, "bigram", strategy),
  :func:`unigram_predictive` and the uniform strategy: the three reference predictors;
- :func:`sample_dirichlet_markov`, :func:`chi_square_sequence_law`: sampling, and a
  goodness-of-fit test of samples against the exact law;
- :func:`order_blind_excess`: the least expected excess log-loss of any predictor that
  sees only the multiset of the prefix and its last token (exact enumeration);
- :func:`two_layer_markov_attention`, :func:`two_layer_tv`,
  :func:`two_layer_error_bound`: the hand-built two-layer attention (previous-token
  head, then an induction head with an attention sink), its error, and the bound on
  that error at finite inverse temperature ``β``;
- :func:`strategy_kl`, :func:`train_markov_transformer`, :func:`model_predictive`:
  the distance of a model's predictions to the three strategies, and a training run
  of :mod:`lib.transformer`'s model (used as it is) that records it;
- :func:`trained_attention_maps`, :func:`attention_pattern_stats`: a trained model's
  attention weights in the hand-built model's layout, and how much they look like
  it.

Returns: NumPy arrays (int64 counts and sequences, float64 probabilities) for every
exact computation; :func:`train_markov_transformer` returns a :class:`MarkovTraining`
record whose fields are NumPy arrays, plus the trained torch model.

Examples
--------
>>> transition_counts([0, 1, 1, 0], k=2).tolist()
[[0, 1], [1, 1]]
>>> dirichlet_markov_predictive([0, 1, 1, 0], k=2, alpha=1.0)[-1].tolist()
[0.3333333333333333, 0.6666666666666666]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats
from scipy.special import gammaln, xlogy

from lib.montecarlo import mean_se
from lib.transformer import make_model, next_token_probs, train_next_token
from lib.validation import (
    InputTypeError,
    check_array,
    check_choice,
    check_int,
    check_int_array,
    check_positive,
    check_rng,
)

__all__ = [
    "STRATEGIES",
    "MarkovTraining",
    "TwoLayerAttention",
    "all_sequences",
    "attention_pattern_stats",
    "chi_square_sequence_law",
    "dirichlet_markov_predictive",
    "model_predictive",
    "order_blind_excess",
    "sample_dirichlet_markov",
    "sequence_log_prob",
    "strategy_kl",
    "train_markov_transformer",
    "trained_attention_maps",
    "transition_counts",
    "two_layer_error_bound",
    "two_layer_markov_attention",
    "two_layer_tv",
    "unigram_predictive",
]

#: The three predictors training is compared with, in the order of the columns of
#: :func:`strategy_kl`: uniform, in-context unigram, bigram Bayes predictive.
STRATEGIES = ("uniform", "unigram", "bigram")


# ------------------------------------------------------------------ helpers
def _tokens(x, k: int) -> np.ndarray:
    return check_int_array("x", x, min_ndim=1, minimum=0, maximum=k - 1)


def _k(k) -> int:
    return check_int("k", k, minimum=2)


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, x.shape[-1])


# ------------------------------------------------------------------ exact law
def transition_counts(x, k: int) -> np.ndarray:
    """Transition counts ``N[i, j] = #{s : x[s] = i, x[s+1] = j}``.

    Parameters
    ----------
    x : array_like of int, shape (..., L)
        Sequences with values in ``0..k-1`` (``L >= 1``).
    k : int
        Number of states (``>= 2``).

    Returns
    -------
    numpy.ndarray of int64, shape (..., k, k)

    Raises
    ------
    ValueError
        If ``x`` is empty or has values outside ``0..k-1``; ``InputTypeError`` if it is
        not an integer array or ``k`` not an integer.

    Examples
    --------
    >>> transition_counts([[0, 0, 1], [1, 0, 1]], k=2).tolist()
    [[[1, 1], [0, 0]], [[0, 1], [1, 0]]]
    """
    k = _k(k)
    x = _tokens(x, k)
    flat = _flat(x)
    B = flat.shape[0]
    pair = flat[:, :-1] * k + flat[:, 1:]
    index = (np.arange(B)[:, None] * k * k + pair).ravel()
    counts = np.bincount(index, minlength=B * k * k)
    return counts.reshape(x.shape[:-1] + (k, k)).astype(np.int64)


def sequence_log_prob(x, k: int, alpha: float) -> np.ndarray:
    """Log-probability of each sequence under the Dirichlet–Markov mixture.

    ``log P(x) = -log k + Σ_i [log Γ(kα) - log Γ(kα + N_i·)
    + Σ_j (log Γ(α + N_ij) - log Γ(α))]`` with ``N`` the transition counts.

    Parameters
    ----------
    x : array_like of int, shape (..., L)
        Sequences with values in ``0..k-1``.
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration of each row of ``P`` (``> 0``).

    Returns
    -------
    numpy.ndarray of float64, shape (...)

    Raises
    ------
    ValueError
        For values outside ``0..k-1`` or ``alpha <= 0``.

    Examples
    --------
    >>> float(np.exp(sequence_log_prob([0, 1], k=2, alpha=1.0)))
    0.25
    """
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    N = transition_counts(x, k).astype(np.float64)
    rows = gammaln(k * alpha) - gammaln(k * alpha + N.sum(-1))
    cells = (gammaln(alpha + N) - gammaln(alpha)).sum(-1)
    return -math.log(k) + (rows + cells).sum(-1)


def dirichlet_markov_predictive(x, k: int, alpha: float) -> np.ndarray:
    """Posterior predictive (the Bayes, "bigram", strategy) after every prefix.

    Row ``t`` is the law of the token after ``x[t]`` given ``x[0..t]``:
    ``(N⁽ᵗ⁾[x[t], j] + α) / (N⁽ᵗ⁾[x[t], ·] + kα)``, with ``N⁽ᵗ⁾``
    the counts of the transitions inside ``x[0..t]``.

    Parameters
    ----------
    x : array_like of int, shape (..., L)
        Sequences with values in ``0..k-1``.
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).

    Returns
    -------
    numpy.ndarray of float64, shape (..., L, k)
        Rows sum to 1.

    Raises
    ------
    ValueError
        For values outside ``0..k-1`` or ``alpha <= 0``.

    Examples
    --------
    >>> dirichlet_markov_predictive([0, 0, 1, 0], k=2, alpha=0.5)[-1].tolist()
    [0.5, 0.5]
    """
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    x = _tokens(x, k)
    flat = _flat(x)
    B, L = flat.shape
    pair = flat[:, :-1] * k + flat[:, 1:]
    onehot = (pair[..., None] == np.arange(k * k)).astype(np.float64)
    cum = np.zeros((B, L, k * k))
    cum[:, 1:] = np.cumsum(onehot, axis=1)  # transitions inside x[0..t]
    cum = cum.reshape(B, L, k, k)
    rows = cum[np.arange(B)[:, None], np.arange(L)[None, :], flat]  # row x[t]
    probs = (rows + alpha) / (rows.sum(-1, keepdims=True) + k * alpha)
    return probs.reshape(x.shape + (k,))


def unigram_predictive(x, k: int, alpha: float) -> np.ndarray:
    """The in-context unigram strategy: ``(n⁽ᵗ⁾_j + α) / (t + 1 + kα)``.

    Row ``t`` predicts the token after ``x[t]`` from the counts ``n⁽ᵗ⁾`` of the
    states in ``x[0..t]`` (the Dirichlet–categorical predictive, blind to order).

    Parameters
    ----------
    x : array_like of int, shape (..., L)
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).

    Returns
    -------
    numpy.ndarray of float64, shape (..., L, k)

    Raises
    ------
    ValueError
        For values outside ``0..k-1`` or ``alpha <= 0``.

    Examples
    --------
    >>> unigram_predictive([0, 0, 1], k=2, alpha=1.0)[-1].tolist()
    [0.6, 0.4]
    """
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    x = _tokens(x, k)
    counts = np.cumsum((x[..., None] == np.arange(k)).astype(np.float64), axis=-2)
    return (counts + alpha) / (counts.sum(-1, keepdims=True) + k * alpha)


def all_sequences(length: int, k: int) -> np.ndarray:
    """Every sequence of ``length`` tokens over ``0..k-1``, in lexicographic order.

    Parameters
    ----------
    length : int
        ``>= 1``; at most ``k**length <= 10**6`` sequences are enumerated.
    k : int
        Number of states (``>= 2``).

    Returns
    -------
    numpy.ndarray of int64, shape (k**length, length)

    Raises
    ------
    ValueError
        If there would be more than ``10**6`` sequences.

    Examples
    --------
    >>> all_sequences(2, k=2).tolist()
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    length = check_int("length", length, minimum=1)
    k = _k(k)
    if k**length > 10**6:
        raise ValueError(f"k**length = {k}**{length} sequences are too many (> 1e6)")
    grid = np.indices((k,) * length).reshape(length, -1).T
    return np.ascontiguousarray(grid, dtype=np.int64)


# ------------------------------------------------------------------ sampling
def sample_dirichlet_markov(
    size: int, L: int, k: int, alpha: float, rng: np.random.Generator
) -> np.ndarray:
    """Draw sequences: one ``P`` per sequence (rows i.i.d. Dirichlet(α·1)), ``X_1``
    uniform, then the chain.

    Parameters
    ----------
    size : int
        Number of sequences (``>= 1``).
    L : int
        Length of each sequence (``>= 1``).
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).
    rng : numpy.random.Generator
        The source of randomness (explicitly seeded).

    Returns
    -------
    numpy.ndarray of int64, shape (size, L)

    Raises
    ------
    ValueError
        For a non-positive ``size``, ``L`` or ``alpha``, or ``k < 2``;
        ``InputTypeError`` if ``rng`` is not a ``Generator``.

    Examples
    --------
    >>> sample_dirichlet_markov(2, 5, 3, 1.0, np.random.default_rng(0)).shape
    (2, 5)
    """
    size = check_int("size", size, minimum=1)
    L = check_int("L", L, minimum=1)
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    rng = check_rng("rng", rng)
    P = rng.dirichlet(np.full(k, alpha), size=(size, k))
    cdf = np.cumsum(P, axis=-1)
    cdf[..., -1] = np.inf  # the last state takes all the remaining mass
    x = np.empty((size, L), dtype=np.int64)
    x[:, 0] = rng.integers(k, size=size)
    rows = np.arange(size)
    for t in range(1, L):
        u = rng.random(size)
        x[:, t] = (cdf[rows, x[:, t - 1]] <= u[:, None]).sum(-1)
    return x


class ChiSquare(NamedTuple):
    """Pearson's goodness-of-fit statistic, its degrees of freedom and p-value."""

    statistic: float
    dof: int
    p_value: float
    min_expected: float


def chi_square_sequence_law(x, k: int, alpha: float) -> ChiSquare:
    """Pearson's χ² test of sampled sequences against the exact law.

    Each row of ``x`` (all of one length ``L``, ``k**L <= 10**6``) is one of the
    ``k**L`` cells; expected counts come from :func:`sequence_log_prob`. Under the law,
    the statistic is asymptotically χ² with ``k**L - 1`` degrees of freedom.

    Parameters
    ----------
    x : array_like of int, shape (n, L)
        ``n >= 2`` independent sequences.
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).

    Returns
    -------
    ChiSquare
        ``(statistic, dof, p_value, min_expected)``; the asymptotics are reliable when
        ``min_expected`` (the smallest expected cell count) is at least about 5.

    Raises
    ------
    ValueError
        For values outside ``0..k-1``, fewer than 2 rows, or too many cells.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> test = chi_square_sequence_law(sample_dirichlet_markov(
    ...     4000, 2, 2, 1.0, rng), k=2, alpha=1.0)
    >>> test.dof, test.p_value > 1e-3
    (3, True)
    """
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    x = check_int_array("x", x, ndim=2, minimum=0, maximum=k - 1)
    n, L = x.shape
    if n < 2:
        raise ValueError(f"x must hold at least 2 sequences, got {n}")
    cells = all_sequences(L, k)
    expected = n * np.exp(sequence_log_prob(cells, k, alpha))
    index = x @ (k ** np.arange(L - 1, -1, -1))  # lexicographic cell of each row
    observed = np.bincount(index, minlength=k**L)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = k**L - 1
    return ChiSquare(
        statistic, dof, float(stats.chi2.sf(statistic, dof)), float(expected.min())
    )


# ------------------------------------------------------------------ one layer
class OrderBlindExcess(NamedTuple):
    """Expected excess log-loss (nats) at one position, exactly."""

    best: float  # least excess of any function of (multiset, last token)
    unigram: float  # excess of the unigram strategy, one such function


def order_blind_excess(t: int, k: int, alpha: float) -> OrderBlindExcess:
    """Least expected excess log-loss of a predictor blind to the order of the prefix.

    For prefixes ``x[0..t-1]`` of ``t`` tokens, any predictor of the next token that
    is a function of ``S = (multiset of the prefix, last token)`` has expected
    log-loss at least that of ``P(next | S) = E[p_Bayes | S]``; its excess over the
    Bayes predictive ``p_Bayes`` is ``E KL(p_Bayes ‖ E[p_Bayes | S])``, computed here
    by enumerating all ``k**t`` prefixes with their exact probabilities.

    Parameters
    ----------
    t : int
        Prefix length (``>= 1``; ``k**t <= 10**6``).
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).

    Returns
    -------
    OrderBlindExcess
        ``best`` (the least excess) and ``unigram`` (the excess of
        :func:`unigram_predictive`, which is such a function), in nats.

    Raises
    ------
    ValueError
        For invalid ``t``, ``k``, ``alpha`` or too many prefixes.

    Examples
    --------
    >>> order_blind_excess(2, k=2, alpha=1.0).best  # (multiset, last) fixes x
    0.0
    """
    t = check_int("t", t, minimum=1)
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    x = all_sequences(t, k)
    weight = np.exp(sequence_log_prob(x, k, alpha))
    bayes = dirichlet_markov_predictive(x, k, alpha)[:, -1]
    counts = (x[..., None] == np.arange(k)).sum(-2)
    key = np.concatenate([counts, x[:, -1:]], axis=1)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.ravel()
    mass = np.bincount(group, weights=weight)
    mixed = np.stack(
        [np.bincount(group, weights=weight * bayes[:, j]) for j in range(k)], -1
    )
    best = mixed[group] / mass[group, None]
    unigram = unigram_predictive(x, k, alpha)[:, -1]

    def excess(q):
        kl = (xlogy(bayes, bayes) - xlogy(bayes, q)).sum(-1)
        return max(float(weight @ kl), 0.0)  # ≥ 0 exactly; clip rounding

    return OrderBlindExcess(excess(best), excess(unigram))


# ------------------------------------------------------------------ two layers
class TwoLayerAttention(NamedTuple):
    """Output of :func:`two_layer_markov_attention` (NumPy float64 arrays).

    ``probs[..., t, :]`` predicts the token after ``x[t]`` from ``x[0..t]``.
    ``layer1[..., s, r]``: weight of position ``s+1`` (token ``x[s]``) on key ``r``,
    ``r = 0`` the start (BOS) position, ``r >= 1`` the token ``x[r-1]``.
    ``layer2[..., t, r]``: weight of the query ``x[t]`` on the sink (``r = 0``) and on
    the positions ``r >= 1`` (key: the copied token before ``x[r-1]``).
    """

    probs: np.ndarray
    layer1: np.ndarray
    layer2: np.ndarray


def _masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    s = np.where(mask, scores, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    w = np.where(mask, np.exp(s), 0.0)
    return w / w.sum(axis=-1, keepdims=True)


def two_layer_markov_attention(x, k: int, alpha: float, beta: float):
    """The hand-built two-layer attention that computes the Dirichlet predictive.

    Positions ``0..L``: position 0 is a start token (value 0), position ``s >= 1``
    holds ``x[s-1]`` (value ``e_{x[s-1]}``, its one-hot vector).

    - Layer 1 (previous-token head): query ``β e_{s-1}``, key ``e_r`` (one-hot
      positions), causal; its output ``y_s`` is ``e`` of the token at ``s - 1``, up to
      a leak ``ε_s = s / (e^β + s)``.
    - Layer 2 (induction head with a sink): query ``(β e_{x_t}, 1)``, key
      ``(y_s, -β)`` at positions ``1..t`` and ``(0, log kα)`` for the sink; values
      ``e_{x_s}`` and ``1/k`` (uniform) for the sink. Matches ``x_{s-1} = x_t`` get
      weight about 1, the others about ``e^{-β}``, the sink ``kα``.

    As ``β → ∞`` (``beta=np.inf`` computes the limit) the output is exactly
    :func:`dirichlet_markov_predictive`; :func:`two_layer_error_bound` bounds the
    error at finite ``β``.

    Parameters
    ----------
    x : array_like of int, shape (..., L)
        Sequences with values in ``0..k-1``.
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``): the sink's score is ``log(kα)``.
    beta : float
        Inverse temperature of both layers (``> 0``, ``np.inf`` allowed).

    Returns
    -------
    TwoLayerAttention
        ``probs`` ``(..., L, k)``, ``layer1`` and ``layer2`` ``(..., L, L + 1)``.

    Raises
    ------
    ValueError
        For values outside ``0..k-1``, ``alpha <= 0`` or ``beta <= 0``.

    Examples
    --------
    >>> out = two_layer_markov_attention([0, 1, 0, 1], k=2, alpha=1.0, beta=np.inf)
    >>> out.probs[-1].tolist()  # after 1: one transition 1 -> 0 seen
    [0.6666666666666666, 0.3333333333333333]
    """
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta, allow_inf=True)
    x = _tokens(x, k)
    flat = _flat(x)
    B, L = flat.shape
    eye = np.eye(k)
    # layer 1: previous-token head over positions 0..L (0 = start token)
    causal = np.tril(np.ones((L, L + 1), dtype=bool), k=1)  # query s+1 sees r <= s+1
    previous = np.eye(L, L + 1, dtype=bool)  # query s+1 -> key s (the token before)
    if np.isinf(beta):
        w1 = previous.astype(np.float64)
    else:
        w1 = _masked_softmax(beta * previous, causal)
    values1 = np.concatenate([np.zeros((B, 1, k)), eye[flat]], axis=1)  # (B, L+1, k)
    y = w1 @ values1  # (B, L, k): y[s] ≈ e of the token before x[s]
    # layer 2: query (β e_{x_t}, 1); keys (y_s, -β) and the sink (0, log kα)
    match = np.einsum("btk,bsk->bts", eye[flat], y)  # ⟨e_{x_t}, y_s⟩ ∈ [0, 1]
    if np.isinf(beta):
        scores = np.where(match == 1.0, 0.0, -np.inf)
    else:
        scores = beta * (match - 1.0)
    sink = np.full((B, L, 1), math.log(k * alpha))
    scores2 = np.concatenate([sink, scores], axis=-1)
    causal2 = np.tril(np.ones((L, L + 1), dtype=bool), k=1)
    causal2 = causal2 & np.isfinite(scores2)
    w2 = _masked_softmax(scores2, causal2)
    values2 = np.concatenate([np.full((B, 1, k), 1.0 / k), eye[flat]], axis=1)
    probs = w2 @ values2
    lead = x.shape[:-1]
    return TwoLayerAttention(
        probs.reshape(lead + (L, k)),
        np.broadcast_to(w1, (B, L, L + 1)).reshape(lead + (L, L + 1)).copy(),
        w2.reshape(lead + (L, L + 1)),
    )


def two_layer_tv(x, k: int, alpha: float, beta: float) -> np.ndarray:
    """Total-variation distance of the hand-built model's output to the predictive.

    ``TV_t = (1/2) Σ_j |output_t(j) - predictive_t(j)|`` for every position, with
    the output of :func:`two_layer_markov_attention` and the predictive of
    :func:`dirichlet_markov_predictive`.

    Parameters
    ----------
    x : array_like of int, shape (..., L)
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).
    beta : float
        Inverse temperature (``> 0``, ``np.inf`` allowed).

    Returns
    -------
    numpy.ndarray of float64, shape (..., L)

    Raises
    ------
    ValueError
        As :func:`two_layer_markov_attention`.

    Examples
    --------
    >>> float(two_layer_tv([0, 1, 0, 1], 2, 1.0, np.inf).max())
    0.0
    """
    out = two_layer_markov_attention(x, k, alpha, beta).probs
    exact = dirichlet_markov_predictive(x, k, alpha)
    return 0.5 * np.abs(out - exact).sum(-1)


def two_layer_error_bound(t, k: int, alpha: float, beta: float) -> np.ndarray:
    """Bound on the total-variation error of the hand-built model after ``t`` tokens.

    ``TV(output_t, predictive_t) <= η e^{βη} (β + 1/(kα))`` with
    ``η = t e^{-β}``, for every sequence (Chapter 7, the finite-β theorem).

    Parameters
    ----------
    t : int or array_like of int
        Number of tokens in the prefix (``>= 1``).
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).
    beta : float
        Inverse temperature (``> 0``, finite).

    Returns
    -------
    numpy.ndarray of float64, shape of ``t``
        The bound (``inf`` where ``βη`` overflows: no bound).

    Raises
    ------
    ValueError
        For ``t < 1``, ``k < 2``, ``alpha <= 0`` or ``beta <= 0``.

    Examples
    --------
    >>> float(two_layer_error_bound(1, k=2, alpha=0.5, beta=10.0)) < 6e-4
    True
    """
    t = check_int_array("t", t, minimum=1).astype(np.float64)
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta)
    eta = t * math.exp(-beta)
    with np.errstate(over="ignore"):
        return eta * np.exp(beta * eta) * (beta + 1.0 / (k * alpha))


# ------------------------------------------------------------------ training
def strategy_kl(
    x, probs, k: int, alpha: float, *, per_position: bool = False
) -> np.ndarray:
    """Per-sequence mean of ``KL(strategy ‖ model)`` over positions, per strategy.

    Parameters
    ----------
    x : array_like of int, shape (B, L)
        Evaluation sequences.
    probs : array_like, shape (B, T, k), ``1 <= T <= L``
        The model's predictions: row ``t`` is its law of ``x[t + 1]`` given
        ``x[0..t]`` (the convention of :func:`dirichlet_markov_predictive`); entries
        must be positive.
    k : int
        Number of states (``>= 2``).
    alpha : float
        Dirichlet concentration of the strategies (``> 0``).
    per_position : bool
        If true, do not average over positions.

    Returns
    -------
    numpy.ndarray of float64, shape (B, 3), or (B, T, 3) with ``per_position``
        Columns in the order of :data:`STRATEGIES` (uniform, unigram, bigram =
        Bayes), in nats per token.

    Raises
    ------
    ValueError
        For mismatched shapes or non-positive probabilities.

    Examples
    --------
    >>> x = [[0, 1, 1]]
    >>> strategy_kl(x, dirichlet_markov_predictive(x, 2, 1.0), 2, 1.0)[0, 2].item()
    0.0
    """
    k = _k(k)
    alpha = check_positive("alpha", alpha)
    if not isinstance(per_position, bool):
        raise InputTypeError(
            f"per_position must be True or False, got {per_position!r}"
        )
    x = check_int_array("x", x, ndim=2, minimum=0, maximum=k - 1)
    q = check_array("probs", probs, ndim=3, low=0.0, low_open=True, high=1.0)
    B, L = x.shape
    if q.shape[0] != B or q.shape[2] != k or not 1 <= q.shape[1] <= L:
        raise ValueError(f"probs must have shape ({B}, T <= {L}, {k}), got {q.shape}")
    T = q.shape[1]
    references = (
        np.full((B, T, k), 1.0 / k),
        unigram_predictive(x, k, alpha)[:, :T],
        dirichlet_markov_predictive(x, k, alpha)[:, :T],
    )
    logq = np.log(q)
    out = np.stack([(xlogy(p, p) - p * logq).sum(-1) for p in references], -1)
    return out if per_position else out.mean(axis=1)


@dataclass
class MarkovTraining:
    """A training run of :func:`train_markov_transformer`.

    ``steps`` (E,): evaluation steps, 0 = the initial weights; ``per_sequence``
    (E, n, 3): ``KL(strategy ‖ model)`` per evaluation sequence (mean over
    positions), columns :data:`STRATEGIES`; ``kl`` and ``se`` (E, 3): their mean and
    standard error; ``model``: the trained model."""

    steps: np.ndarray
    per_sequence: np.ndarray
    kl: np.ndarray
    se: np.ndarray
    model: object

    def nearest(self, z: float | None = None) -> np.ndarray:
        """Index (into :data:`STRATEGIES`) of the nearest strategy at each step.

        With ``z``, a strategy counts only if it is nearer than each other strategy
        by more than ``z`` paired standard errors (over the evaluation sequences);
        steps where none is ``-1``.
        """
        near = np.argmin(self.kl, axis=1)
        if z is None:
            return near
        z = check_positive("z", z)
        d = self.per_sequence[:, :, None, :] - self.per_sequence[:, :, :, None]
        mean, se = mean_se(d, axis=1)  # (E, 3, 3): KL_j - KL_i for row i, col j
        clear = mean - z * se > 0
        clear[:, np.arange(3), np.arange(3)] = True
        rows = np.arange(near.size)
        return np.where(clear[rows, near].all(-1), near, -1)

    def phases(self, z: float | None = None) -> dict[str, tuple[int, int] | None]:
        """For each strategy, the first and last evaluation step at which it is the
        nearest (see :meth:`nearest`), or ``None`` if never."""
        near = self.nearest(z)
        out = {}
        for i, name in enumerate(STRATEGIES):
            at = self.steps[near == i]
            out[name] = (int(at[0]), int(at[-1])) if at.size else None
        return out


def train_markov_transformer(
    *,
    k: int,
    L: int,
    alpha: float,
    steps: int,
    model_seed: int,
    data_seed: int,
    eval_x,
    eval_every: int = 10,
    batch_size: int = 64,
    lr: float = 3e-3,
    d_model: int = 32,
    n_layers: int = 2,
    positional: str = "learned",
) -> MarkovTraining:
    """Train an attention-only :class:`lib.transformer.CausalTransformer` on
    sequences from the prior and record its distance to the three strategies.

    The model (``n_layers`` layers, one head, no MLP) is trained with
    :func:`lib.transformer.train_next_token` (Adam, cosine decay) on fresh batches
    from :func:`sample_dirichlet_markov`; at step 0 and every ``eval_every`` steps
    :func:`strategy_kl` is evaluated on ``eval_x``. Deterministic on CPU given the
    seeds.

    Parameters
    ----------
    k, L : int
        States (``>= 2``) and sequence length (``>= 2``).
    alpha : float
        Dirichlet concentration (``> 0``).
    steps : int
        Optimiser steps (``>= 1``).
    model_seed, data_seed : int
        Seeds of the initial weights and of the training batches (``>= 0``).
    eval_x : array_like of int, shape (n, L)
        Evaluation sequences (``n >= 2``).
    eval_every, batch_size : int
        Evaluation period and batch size (``>= 1``).
    lr : float
        Peak learning rate (``> 0``).
    d_model, n_layers : int
        Width and depth of the model.
    positional : {"learned", "sinusoidal", "none"}
        Positional information.

    Returns
    -------
    MarkovTraining

    Raises
    ------
    ValueError
        For invalid arguments (named in the message).

    Examples
    --------
    >>> ev = sample_dirichlet_markov(4, 6, 2, 1.0, np.random.default_rng(0))
    >>> run = train_markov_transformer(k=2, L=6, alpha=1.0, steps=2, model_seed=0,
    ...                                data_seed=0, eval_x=ev, eval_every=1)
    >>> run.steps.tolist(), run.kl.shape
    ([0, 1, 2], (3, 3))
    """
    k = _k(k)
    L = check_int("L", L, minimum=2)
    alpha = check_positive("alpha", alpha)
    model_seed = check_int("model_seed", model_seed, minimum=0)
    data_seed = check_int("data_seed", data_seed, minimum=0)
    eval_every = check_int("eval_every", eval_every, minimum=1)
    positional = check_choice(
        "positional", positional, ("learned", "sinusoidal", "none")
    )
    eval_x = check_int_array("eval_x", eval_x, ndim=2, minimum=0, maximum=k - 1)
    if eval_x.shape[1] != L or eval_x.shape[0] < 2:
        raise ValueError(f"eval_x must have shape (n >= 2, {L}), got {eval_x.shape}")
    model = make_model(
        k,
        L,
        seed=model_seed,
        d_model=d_model,
        n_layers=n_layers,
        n_heads=1,
        mlp=False,
        positional=positional,
    )

    def evaluate(m):
        return strategy_kl(eval_x, model_predictive(m, eval_x), k, alpha)

    def sample(rng, size):
        return sample_dirichlet_markov(size, L, k, alpha, rng)

    first = evaluate(model)
    log = train_next_token(
        model,
        sample,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=data_seed,
        eval_every=eval_every,
        evaluate=evaluate,
    )
    per_seq = np.stack([first] + log.evaluations)  # (E, n, 3)
    mean, se = mean_se(per_seq, axis=1)
    return MarkovTraining(np.array([0] + log.steps), per_seq, mean, se, model)


def model_predictive(model, x) -> np.ndarray:
    """A trained model's predictions in the convention of this module.

    Parameters
    ----------
    model : lib.transformer.CausalTransformer
    x : array_like of int, shape (B, L)

    Returns
    -------
    numpy.ndarray of float64, shape (B, L - 1, k)
        Row ``t`` is the model's law of ``x[t + 1]`` given ``x[0..t]``.

    Examples
    --------
    >>> from lib.transformer import make_model
    >>> model_predictive(make_model(2, 4, seed=0), [[0, 1, 1, 0]]).shape
    (1, 3, 2)
    """
    return next_token_probs(model, x)[:, 1:]


def trained_attention_maps(model, x) -> tuple[np.ndarray, np.ndarray]:
    """The first two layers' attention weights (head 0) of a trained model, in the
    layout of :class:`TwoLayerAttention` restricted to ``x[0..L-2]``.

    :mod:`lib.transformer` feeds ``(start, x[0], …, x[L-2])``; its row ``t + 1`` is
    the query that reads ``x[t]``, its key 0 the start token. Returned row ``t``
    (``t = 0..L-2``) is that query; key 0 is the start token, key ``r >= 1`` the
    position holding ``x[r-1]``: the same layout as the hand-built ``layer1``,
    ``layer2`` with their last row and column dropped.

    Parameters
    ----------
    model : lib.transformer.CausalTransformer
        At least two layers.
    x : array_like of int, shape (B, L)

    Returns
    -------
    tuple of two numpy.ndarray of float64, shape (B, L - 1, L)

    Raises
    ------
    ValueError
        If the model has fewer than two layers.

    Examples
    --------
    >>> from lib.transformer import make_model
    >>> a1, a2 = trained_attention_maps(make_model(2, 4, seed=0), [[0, 1, 1, 0]])
    >>> a1.shape, bool(np.allclose(a2.sum(-1), 1.0))
    ((1, 3, 4), True)
    """
    maps = model.attention_maps(x)
    if len(maps) < 2:
        raise ValueError(f"model must have at least 2 layers, got {len(maps)}")
    return tuple(m[:, 0, 1:, :].double().numpy() for m in maps[:2])


def attention_pattern_stats(layer1, layer2, x) -> np.ndarray:
    """How much a two-layer attention looks like the hand-built one, per sequence.

    Parameters
    ----------
    layer1, layer2 : array_like, shape (B, T, T + 1)
        Weights in the layout of :class:`TwoLayerAttention` (row ``t``: the query
        reading ``x[t]``; key 0: start token or sink; key ``r >= 1``: ``x[r-1]``).
    x : array_like of int, shape (B, L), ``L >= T >= 2``

    Returns
    -------
    numpy.ndarray of float64, shape (B, 4)
        Means over the rows ``t = 1..T-1`` of: layer 1's weight on the previous
        token (key ``t``); layer 2's mass on the *matches*, the keys ``s + 1``
        (``1 <= s <= t``) with ``x[s-1] = x[t]``; layer 2's weight on key 0; and the
        mass a uniform layer 2 would put on the matches, ``n_t / (t + 2)``.

    Raises
    ------
    ValueError
        For inconsistent shapes.

    Examples
    --------
    >>> out = two_layer_markov_attention([[0, 1, 0, 1]], 2, 1.0, np.inf)
    >>> attention_pattern_stats(out.layer1, out.layer2, [[0, 1, 0, 1]])[0, :2]
    array([1.        , 0.22222222])
    """
    w1 = check_array("layer1", layer1, ndim=3, low=0.0)
    w2 = check_array("layer2", layer2, ndim=3, low=0.0)
    x = check_int_array("x", x, ndim=2, minimum=0)
    B, T, cols = w1.shape
    if (
        w2.shape != w1.shape
        or cols != T + 1
        or x.shape[0] != B
        or not (2 <= T <= x.shape[1])
    ):
        raise ValueError(
            f"layer1, layer2 must have shape (B, T, T + 1) with 2 <= T <= L, and x"
            f" shape (B, L); got {w1.shape}, {w2.shape}, {x.shape}"
        )
    rows = np.arange(1, T)
    previous = w1[:, rows, rows]
    # key s + 1 holds x[s]; it matches the query x[t] when x[s-1] = x[t], 1 <= s <= t
    s = np.arange(1, T)
    match = (x[:, None, s - 1] == x[:, rows, None]) & (s[None, :] <= rows[:, None])
    on_match = (w2[:, rows][:, :, s + 1] * match).sum(-1)
    chance = match.sum(-1) / (rows + 2)
    stats_ = np.stack([previous, on_match, w2[:, rows, 0], chance], -1)
    return stats_.mean(axis=1)
