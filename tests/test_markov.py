"""lib.markov against independent computations: loops, exact rational arithmetic,
quadrature, a loop-by-loop re-implementation of the two-layer attention, and a
χ² test of the sampler; hypothesis draws the sequences, k, α and β."""

import itertools
import math
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate, stats

from lib import markov as mk
from lib.validation import InputTypeError
from tests.conftest import softmax_np

FAST = settings(max_examples=40, deadline=None)


@pytest.fixture
def one_thread():
    """Training runs on one thread (as in the chapter): on a shared machine, more
    threads only spin; the previous setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------------ oracles
def counts_loop(x, k):
    N = np.zeros((k, k), dtype=int)
    for a, b in itertools.pairwise(x):
        N[a, b] += 1
    return N


def rising(a, n):
    out = Fraction(1)
    for i in range(n):
        out *= a + i
    return out


def prob_exact(x, k, alpha):
    """P(x) in rational arithmetic: X_1 uniform, then for each row the Dirichlet
    moment E ∏_j P_ij^{N_ij} = ∏_j α^(N_ij) / (kα)^(N_i·) (rising factorials)."""
    alpha = Fraction(alpha)
    p = Fraction(1, k)
    N = counts_loop(x, k)
    for i in range(k):
        for j in range(k):
            p *= rising(alpha, int(N[i, j]))
        p /= rising(k * alpha, int(N[i].sum()))
    return p


def prob_quadrature(x, alpha):
    """k = 2: integrate the chain's likelihood against the Beta(α, α) rows."""
    N = counts_loop(x, 2)
    beta = stats.beta(alpha, alpha)
    out = 0.5
    for i in range(2):
        out *= integrate.quad(
            lambda p, i=i: p ** N[i, 0] * (1 - p) ** N[i, 1] * beta.pdf(p), 0, 1
        )[0]
    return out


def two_layer_loop(x, k, alpha, beta):
    """The hand-built model, one position and one key at a time."""
    L, e = len(x), np.eye(k)
    y = np.zeros((L + 1, k))
    for s in range(1, L + 1):
        scores = np.array([beta if r == s - 1 else 0.0 for r in range(s + 1)])
        values = np.array([np.zeros(k)] + [e[x[r - 1]] for r in range(1, s + 1)])
        y[s] = softmax_np(scores) @ values
    out = []
    for t in range(1, L + 1):
        q = e[x[t - 1]]
        scores = [math.log(k * alpha)] + [
            beta * (q @ y[s] - 1) for s in range(1, t + 1)
        ]
        values = np.array([np.full(k, 1 / k)] + [e[x[s - 1]] for s in range(1, t + 1)])
        out.append(softmax_np(np.array(scores)) @ values)
    return np.array(out)


@st.composite
def chains(draw, max_k=4, max_len=12):
    k = draw(st.integers(2, max_k))
    L = draw(st.integers(1, max_len))
    x = draw(hnp.arrays(np.int64, (L,), elements=st.integers(0, k - 1)))
    return x, k


alphas = st.floats(0.05, 20.0)


# ------------------------------------------------------------------ counts and law
@FAST
@given(chains())
def test_transition_counts_match_loop(case):
    x, k = case
    N = mk.transition_counts(x, k)
    np.testing.assert_array_equal(N, counts_loop(x, k))
    assert N.sum() == len(x) - 1 and N.dtype == np.int64


def test_transition_counts_batch_shape():
    x = np.random.default_rng(0).integers(0, 3, (2, 5, 7))
    N = mk.transition_counts(x, 3)
    assert N.shape == (2, 5, 3, 3)
    np.testing.assert_array_equal(N[1, 4], counts_loop(x[1, 4], 3))


@FAST
@given(chains(max_len=8), st.sampled_from([0.5, 1.0, 2.0, 3.0]))
def test_sequence_probability_matches_exact_rational(case, alpha):
    x, k = case
    got = np.exp(mk.sequence_log_prob(x, k, alpha))
    assert got == pytest.approx(float(prob_exact(x, k, alpha)), rel=1e-12)


@pytest.mark.parametrize("alpha", [0.6, 3.0])
def test_sequence_probability_matches_quadrature(alpha):
    for x in itertools.product(range(2), repeat=4):
        got = float(np.exp(mk.sequence_log_prob(list(x), 2, alpha)))
        assert got == pytest.approx(prob_quadrature(x, alpha), rel=1e-8)


def test_law_sums_to_one_and_is_not_exchangeable():
    seqs = mk.all_sequences(5, 3)
    p = np.exp(mk.sequence_log_prob(seqs, 3, 0.7))
    assert p.sum() == pytest.approx(1.0, abs=1e-13)
    a, b = [0, 1, 0, 1], [0, 0, 1, 1]  # a permutation of each other
    pa, pb = (float(prob_exact(s, 3, Fraction(1, 2))) for s in (a, b))
    assert mk.sequence_log_prob(a, 3, 0.5) - mk.sequence_log_prob(b, 3, 0.5) == (
        pytest.approx(math.log(pa / pb))
    )
    assert pa != pb


def test_all_sequences_is_the_product():
    got = mk.all_sequences(3, 3)
    assert got.tolist() == [list(t) for t in itertools.product(range(3), repeat=3)]


# ------------------------------------------------------------------ predictives
@pytest.mark.parametrize("k,L,alpha", [(2, 6, 0.5), (3, 5, 1.0), (4, 4, 2.0)])
def test_predictive_is_ratio_of_exact_joint_probabilities(k, L, alpha):
    seqs = mk.all_sequences(L, k)
    pred = mk.dirichlet_markov_predictive(seqs, k, alpha)
    for x, rows in zip(
        seqs[:: max(1, len(seqs) // 60)], pred[:: max(1, len(seqs) // 60)], strict=True
    ):
        for t in range(L):
            prefix = list(x[: t + 1])
            den = prob_exact(prefix, k, alpha)
            want = [float(prob_exact(prefix + [j], k, alpha) / den) for j in range(k)]
            np.testing.assert_allclose(rows[t], want, rtol=1e-13)


@FAST
@given(chains(), alphas)
def test_predictive_formula_by_loops(case, alpha):
    x, k = case
    got = mk.dirichlet_markov_predictive(x, k, alpha)
    for t in range(len(x)):
        N = counts_loop(x[: t + 1], k)
        row = N[x[t]]
        np.testing.assert_allclose(got[t], (row + alpha) / (row.sum() + k * alpha))


@FAST
@given(chains(), alphas)
def test_unigram_by_loops(case, alpha):
    x, k = case
    got = mk.unigram_predictive(x, k, alpha)
    for t in range(len(x)):
        n = np.bincount(x[: t + 1], minlength=k)
        np.testing.assert_allclose(got[t], (n + alpha) / (t + 1 + k * alpha))


# ------------------------------------------------------------------ sampling
def test_sampler_matches_exact_law_chi_square():
    # Pearson's test at level 1e-4 on a fixed seed: deterministic; under the law it
    # would fail for at most 1e-4 of the seeds.
    rng = np.random.default_rng(2024)
    x = mk.sample_dirichlet_markov(60_000, 3, 3, 0.8, rng)
    seqs = mk.all_sequences(3, 3)
    expected = 60_000 * np.array(
        [float(prob_exact(s, 3, Fraction(4, 5))) for s in seqs]
    )
    index = x @ np.array([9, 3, 1])
    observed = np.bincount(index, minlength=27)
    stat, p = stats.chisquare(observed, expected)
    assert p > 1e-4
    ours = mk.chi_square_sequence_law(x, 3, 0.8)
    assert ours.statistic == pytest.approx(stat, rel=1e-10)
    assert ours.p_value == pytest.approx(p, rel=1e-8) and ours.dof == 26


def test_sampler_is_deterministic_and_in_range():
    a = mk.sample_dirichlet_markov(5, 9, 4, 0.1, np.random.default_rng(3))
    b = mk.sample_dirichlet_markov(5, 9, 4, 0.1, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 9) and a.min() >= 0 and a.max() <= 3


def test_chi_square_detects_a_wrong_prior():
    x = mk.sample_dirichlet_markov(20_000, 3, 2, 0.3, np.random.default_rng(5))
    assert mk.chi_square_sequence_law(x, 2, 3.0).p_value < 1e-6


# ------------------------------------------------------------------ one layer
def order_blind_loop(t, k, alpha):
    groups = defaultdict(list)
    for x in itertools.product(range(k), repeat=t):
        w = float(prob_exact(list(x), k, alpha))
        N = counts_loop(x, k)[x[-1]]
        p = (N + alpha) / (N.sum() + k * alpha)
        groups[(tuple(sorted(x)), x[-1])].append((w, p))
    best = 0.0
    for members in groups.values():
        mass = sum(w for w, _ in members)
        mix = sum(w * p for w, p in members) / mass
        best += sum(w * np.sum(p * np.log(p / mix)) for w, p in members)
    return best


@pytest.mark.parametrize(
    "t,k,alpha", [(1, 2, 1.0), (3, 2, 0.5), (4, 3, 1.0), (5, 2, 2)]
)
def test_order_blind_excess_matches_grouping_loop(t, k, alpha):
    got = mk.order_blind_excess(t, k, alpha)
    assert got.best == pytest.approx(order_blind_loop(t, k, alpha), abs=1e-14)
    assert got.unigram >= got.best


def test_order_blind_excess_positive_from_three_tokens():
    assert mk.order_blind_excess(2, 3, 1.0).best == 0.0
    assert mk.order_blind_excess(3, 2, 1.0).best > 1e-3


# ------------------------------------------------------------------ two layers
@FAST
@given(chains(max_len=9), alphas, st.floats(0.1, 40.0))
def test_two_layer_matches_loop_implementation(case, alpha, beta):
    x, k = case
    got = mk.two_layer_markov_attention(x, k, alpha, beta)
    np.testing.assert_allclose(got.probs, two_layer_loop(x, k, alpha, beta), atol=1e-12)
    np.testing.assert_allclose(got.probs.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(got.layer1.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(got.layer2.sum(-1), 1.0, atol=1e-12)
    assert np.all(np.triu(got.layer1, 2) == 0) and np.all(np.triu(got.layer2, 2) == 0)


@FAST
@given(chains(max_len=30), alphas)
def test_two_layer_infinite_beta_is_the_predictive(case, alpha):
    x, k = case
    got = mk.two_layer_markov_attention(x, k, alpha, np.inf).probs
    np.testing.assert_allclose(
        got, mk.dirichlet_markov_predictive(x, k, alpha), rtol=1e-13, atol=1e-15
    )


@FAST
@given(chains(max_len=40), alphas, st.floats(1.0, 35.0))
def test_two_layer_error_within_bound(case, alpha, beta):
    x, k = case
    out = mk.two_layer_markov_attention(x, k, alpha, beta).probs
    tv = 0.5 * np.abs(out - mk.dirichlet_markov_predictive(x, k, alpha)).sum(-1)
    bound = mk.two_layer_error_bound(np.arange(1, len(x) + 1), k, alpha, beta)
    assert np.all(tv <= bound + 1e-14)


def test_two_layer_batched_equals_single_and_maps():
    x = np.random.default_rng(1).integers(0, 3, (2, 3, 6))
    out = mk.two_layer_markov_attention(x, 3, 1.0, 5.0)
    assert out.probs.shape == (2, 3, 6, 3) and out.layer2.shape == (2, 3, 6, 7)
    single = mk.two_layer_markov_attention(x[1, 2], 3, 1.0, 5.0)
    np.testing.assert_allclose(out.probs[1, 2], single.probs)
    hard = mk.two_layer_markov_attention(x[0, 0], 3, 1.0, np.inf).layer1
    np.testing.assert_array_equal(hard, np.eye(6, 7))  # the previous position


def test_error_bound_formula_and_monotone():
    t = np.array([1, 10, 48])
    eta = t * math.exp(-9.0)
    want = eta * np.exp(9.0 * eta) * (9.0 + 1 / (3 * 0.5))
    np.testing.assert_allclose(mk.two_layer_error_bound(t, 3, 0.5, 9.0), want)
    b8, b12 = (mk.two_layer_error_bound(48, 3, 1.0, b) for b in (8.0, 12.0))
    assert b8 > b12


# ------------------------------------------------------------------ strategies
def test_strategy_kl_by_loops():
    rng = np.random.default_rng(4)
    x = mk.sample_dirichlet_markov(3, 7, 3, 1.0, rng)
    q = rng.dirichlet(np.ones(3), size=(3, 6))
    got = mk.strategy_kl(x, q, 3, 1.0)
    per = mk.strategy_kl(x, q, 3, 1.0, per_position=True)
    np.testing.assert_allclose(per.mean(1), got)
    uni, bi = (
        mk.unigram_predictive(x, 3, 1.0),
        mk.dirichlet_markov_predictive(x, 3, 1.0),
    )
    for b in range(3):
        for t in range(6):
            for col, p in enumerate((np.full(3, 1 / 3), uni[b, t], bi[b, t])):
                kl = float(np.sum(p * np.log(p / q[b, t])))
                assert per[b, t, col] == pytest.approx(kl, rel=1e-12, abs=1e-15)


def test_training_is_deterministic_given_the_seeds(one_thread):
    ev = mk.sample_dirichlet_markov(8, 6, 2, 1.0, np.random.default_rng(0))
    kw = dict(
        k=2,
        L=6,
        alpha=1.0,
        steps=6,
        model_seed=1,
        data_seed=2,
        eval_x=ev,
        eval_every=3,
        batch_size=4,
        d_model=8,
    )
    a, b = mk.train_markov_transformer(**kw), mk.train_markov_transformer(**kw)
    np.testing.assert_array_equal(a.kl, b.kl)
    assert a.steps.tolist() == [0, 3, 6] and a.per_sequence.shape == (3, 8, 3)


# The training claim, for three training seeds, in a smaller configuration than the
# chapter's (L = 24, batch 32, lr 5e-3, 300 steps, instead of L = 48, batch 64,
# lr 3e-3, 400 steps) so that it runs in a few seconds. The chapter's own
# configuration is checked by its seed sweep.
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_goes_uniform_unigram_bigram(seed, one_thread):
    ev = mk.sample_dirichlet_markov(96, 24, 3, 1.0, np.random.default_rng(99))
    run = mk.train_markov_transformer(
        k=3,
        L=24,
        alpha=1.0,
        steps=300,
        model_seed=seed,
        data_seed=100 + seed,
        eval_x=ev,
        eval_every=25,
        batch_size=32,
        lr=5e-3,
    )
    phases = run.phases()
    assert phases["unigram"] is not None and phases["bigram"] is not None
    assert phases["unigram"][0] < phases["bigram"][0]
    assert run.nearest()[-1] == 2
    margin = (
        run.per_sequence[-1, :, 1] - run.per_sequence[-1, :, 2]
    )  # KL to unigram − KL to Bayes
    se = margin.std(ddof=1) / math.sqrt(margin.size)
    assert margin.mean() - 3.1 * se > 0  # one-sided, level 1e-3


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    "call",
    [
        lambda: mk.transition_counts([0, 3], 3),
        lambda: mk.transition_counts([], 3),
        lambda: mk.transition_counts([0, 1], 1),
        lambda: mk.sequence_log_prob([0, 1], 2, 0.0),
        lambda: mk.sequence_log_prob([0, 1], 2, float("nan")),
        lambda: mk.dirichlet_markov_predictive([0, -1], 2, 1.0),
        lambda: mk.unigram_predictive([0, 1], 2, -1.0),
        lambda: mk.all_sequences(0, 2),
        lambda: mk.all_sequences(30, 3),
        lambda: mk.sample_dirichlet_markov(0, 3, 2, 1.0, np.random.default_rng(0)),
        lambda: mk.sample_dirichlet_markov(2, 3, 2, 1.0, 0),
        lambda: mk.chi_square_sequence_law([[0, 1]], 2, 1.0),
        lambda: mk.order_blind_excess(0, 2, 1.0),
        lambda: mk.two_layer_markov_attention([0, 1], 2, 1.0, 0.0),
        lambda: mk.two_layer_markov_attention([0, 1], 2, 1.0, -np.inf),
        lambda: mk.two_layer_error_bound(0, 2, 1.0, 3.0),
        lambda: mk.two_layer_error_bound(1, 2, 1.0, np.inf),
        lambda: mk.strategy_kl([[0, 1]], [[[1.0, 0.0]]], 2, 1.0),
        lambda: mk.strategy_kl([[0, 1]], [[[0.5, 0.5]]] * 2, 2, 1.0),
        lambda: mk.train_markov_transformer(
            k=2,
            L=4,
            alpha=1.0,
            steps=1,
            model_seed=0,
            data_seed=0,
            eval_x=[[0, 1, 0]],
            positional="none",
        ),
    ],
)
def test_bad_values_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: mk.transition_counts([0.5, 1], 2),
        lambda: mk.transition_counts([True, False], 2),
        lambda: mk.sequence_log_prob([0, 1], 2.0, 1.0),
        lambda: mk.dirichlet_markov_predictive([0, 1], 2, "1"),
        lambda: mk.two_layer_markov_attention([0, 1], 2, 1.0, None),
        lambda: mk.strategy_kl([[0, 1]], [[[0.5, 0.5]]], 2, 1.0, per_position=1),
        lambda: mk.sample_dirichlet_markov(2, 3, 2, 1.0, None),
    ],
)
def test_bad_types_raise_input_type_error(call):
    with pytest.raises(InputTypeError):
        call()


# ------------------------------------------------------------ chapter helpers
def test_two_layer_tv_is_half_l1():
    x = np.random.default_rng(6).integers(0, 3, (4, 9))
    out = mk.two_layer_markov_attention(x, 3, 0.7, 6.0).probs
    want = 0.5 * np.abs(out - mk.dirichlet_markov_predictive(x, 3, 0.7)).sum(-1)
    np.testing.assert_allclose(mk.two_layer_tv(x, 3, 0.7, 6.0), want, rtol=0, atol=0)


def pattern_loop(w1, w2, x):
    B, T, _ = w1.shape
    out = np.zeros((B, 4))
    for b in range(B):
        rows = []
        for t in range(1, T):
            matches = [s + 1 for s in range(1, t + 1) if x[b, s - 1] == x[b, t]]
            rows.append(
                [
                    w1[b, t, t],
                    sum(w2[b, t, c] for c in matches),
                    w2[b, t, 0],
                    len(matches) / (t + 2),
                ]
            )
        out[b] = np.mean(rows, axis=0)
    return out


@FAST
@given(chains(max_len=10), alphas, st.floats(0.5, 20.0))
def test_attention_pattern_stats_by_loops(case, alpha, beta):
    x, k = case
    if len(x) < 2:
        return
    out = mk.two_layer_markov_attention(x[None], k, alpha, beta)
    got = mk.attention_pattern_stats(out.layer1, out.layer2, x[None])
    want = pattern_loop(out.layer1, out.layer2, x[None])
    np.testing.assert_allclose(got, want, atol=1e-14)


def test_hand_built_pattern_at_infinite_beta():
    x = np.array([[0, 0, 1, 0, 0, 1, 1, 0]])
    out = mk.two_layer_markov_attention(x, 2, 1.0, np.inf)
    prev, match, sink, _ = mk.attention_pattern_stats(out.layer1, out.layer2, x)[0]
    assert prev == 1.0 and match + sink == pytest.approx(1.0, abs=1e-15)


def test_trained_maps_align_with_the_transformer(one_thread):
    from lib.transformer import make_model

    model = make_model(3, 6, seed=0, n_layers=2, mlp=False)
    x = np.random.default_rng(0).integers(0, 3, (2, 6))
    a1, a2 = mk.trained_attention_maps(model, x)
    raw = model.attention_maps(x)
    assert a1.shape == (2, 5, 6) and a1.dtype == np.float64
    np.testing.assert_allclose(a1, raw[0][:, 0, 1:].numpy(), rtol=1e-6)
    np.testing.assert_allclose(a2, raw[1][:, 0, 1:].numpy(), rtol=1e-6)
    probs = mk.model_predictive(model, x)
    assert probs.shape == (2, 5, 3)
    with pytest.raises(ValueError):
        mk.trained_attention_maps(make_model(3, 6, seed=0, n_layers=1), x)


def test_nearest_with_significance():
    rng = np.random.default_rng(8)
    base = np.array([[0.5, 0.2, 0.1], [0.5, 0.3, 0.31], [0.1, 0.3, 0.2]])
    per = base[:, None, :] + 0.01 * rng.standard_normal((3, 400, 3))
    mean, se = per.mean(1), per.std(1, ddof=1) / 20
    run = mk.MarkovTraining(np.array([0, 5, 10]), per, mean, se, model=None)
    assert run.nearest().tolist() == [2, 1, 0]
    assert run.nearest(z=3.0).tolist() == [2, 1, 0]
    tight = per.copy()
    tight[1, :, 2] = tight[1, :, 1] + 1e-4 * rng.standard_normal(400)  # a tie
    run = mk.MarkovTraining(run.steps, tight, tight.mean(1), se, model=None)
    assert run.nearest(z=3.0)[1] == -1
    assert run.phases(z=3.0) == {"uniform": (10, 10), "unigram": None, "bigram": (0, 0)}
