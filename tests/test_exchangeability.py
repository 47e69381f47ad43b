"""lib.exchangeability against independent computations (enumeration, scipy, quadrature)."""

import itertools
from collections import Counter
from fractions import Fraction
from math import factorial, perm

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from lib.exchangeability import (
    beta_mixture_probability,
    diaconis_freedman_bound,
    dkw_epsilon,
    kolmogorov_distance_frequency_to_beta,
    polya_count_pmf,
    polya_sequence_probability,
    sample_polya_urn,
    tv_distinct_balls,
    tv_sampling_without_vs_with_replacement,
    tv_urn_without_vs_with_replacement,
)


def all_sequences(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=int).reshape(
        2**n, n
    )


def polya_exact(x, a, b):
    """Exact rational urn probability, by simulating the urn's contents step by step."""
    red, black, p = Fraction(a), Fraction(b), Fraction(1)
    for xi in x:
        if xi == 1:
            p *= red / (red + black)
            red += 1
        else:
            p *= black / (red + black)
            black += 1
    return p


# ----------------------------------------------------------------------------- Pólya urn
@pytest.mark.parametrize("a,b", [(1, 1), (2, 3), (5, 1)])
def test_polya_probability_matches_exact_rational_urn(a, b):
    seqs = all_sequences(6)
    got = polya_sequence_probability(seqs, a, b)
    want = np.array([float(polya_exact(x, a, b)) for x in seqs])
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_polya_vectorised_over_leading_axes_and_empty_sequence():
    seqs = all_sequences(4).reshape(2, 8, 4)
    got = polya_sequence_probability(seqs, 1.5, 0.5)
    assert got.shape == (2, 8)
    np.testing.assert_allclose(
        got.reshape(-1), polya_sequence_probability(seqs.reshape(16, 4), 1.5, 0.5)
    )
    assert polya_sequence_probability(np.zeros(0), 1.0, 1.0) == 1.0


@pytest.mark.parametrize("a,b", [(0.5, 0.5), (2.0, 3.0), (7.0, 1.5)])
def test_beta_mixture_matches_quadrature_and_urn(a, b):
    n = 7
    beta = stats.beta(a, b)
    for k in range(n + 1):
        quad, _ = integrate.quad(
            lambda t: t**k * (1 - t) ** (n - k) * beta.pdf(t), 0, 1, epsabs=1e-14
        )
        assert beta_mixture_probability(k, n, a, b) == pytest.approx(quad, rel=1e-7)
    seqs = all_sequences(n)
    np.testing.assert_allclose(
        polya_sequence_probability(seqs, a, b),
        beta_mixture_probability(seqs.sum(1), n, a, b),
        rtol=1e-12,
    )


def test_polya_count_pmf_is_scipy_betabinom():
    for n, a, b in [(10, 2.0, 3.0), (50, 0.5, 4.0)]:
        np.testing.assert_allclose(
            polya_count_pmf(n, a, b),
            stats.betabinom.pmf(np.arange(n + 1), n, a, b),
            rtol=1e-11,
        )


@settings(max_examples=60, deadline=None)
@given(
    x=st.lists(st.integers(0, 1), min_size=0, max_size=12),
    a=st.floats(0.05, 20),
    b=st.floats(0.05, 20),
    seed=st.integers(0, 2**32 - 1),
)
def test_polya_probability_is_permutation_invariant(x, a, b, seed):
    x = np.array(x, dtype=int)
    perm_ = np.random.default_rng(seed).permutation(x.size)
    assert polya_sequence_probability(x[perm_], a, b) == pytest.approx(
        polya_sequence_probability(x, a, b), rel=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 10), a=st.floats(0.05, 20), b=st.floats(0.05, 20))
def test_polya_probabilities_sum_to_one(n, a, b):
    assert polya_sequence_probability(all_sequences(n), a, b).sum() == pytest.approx(
        1.0, abs=1e-12
    )


def test_sample_polya_urn_shape_and_law():
    rng = np.random.default_rng(11)
    n, a, b, size = 4, 2.0, 1.0, 40_000
    x = sample_polya_urn(n, a, b, size, rng)
    assert x.shape == (size, n) and set(np.unique(x)) <= {0, 1}
    # chi-square goodness of fit of the 16 sequence frequencies to the exact urn law
    codes = x @ (2 ** np.arange(n)[::-1])
    observed = np.bincount(codes, minlength=2**n)
    expected = size * polya_sequence_probability(all_sequences(n), a, b)
    pvalue = stats.chisquare(observed, expected).pvalue
    assert pvalue > 1e-4  # false-failure probability 1e-4 under the null


def test_sample_polya_urn_is_reproducible():
    x1 = sample_polya_urn(5, 1.0, 1.0, 7, np.random.default_rng(3))
    x2 = sample_polya_urn(5, 1.0, 1.0, 7, np.random.default_rng(3))
    np.testing.assert_array_equal(x1, x2)


def test_kolmogorov_distance_frequency_to_beta_against_fine_grid():
    n, a, b = 20, 2.0, 3.0
    t = np.linspace(0, 1, 200_001)
    step = stats.betabinom.cdf(np.floor(n * t + 1e-12), n, a, b)
    grid_sup = np.max(np.abs(step - stats.beta.cdf(t, a, b)))
    exact = kolmogorov_distance_frequency_to_beta(n, a, b)
    assert grid_sup <= exact + 1e-12
    # the grid approaches each left limit within (largest Beta density) × (grid step)
    pdf_max = stats.beta.pdf((a - 1) / (a + b - 2), a, b)
    assert exact - grid_sup <= pdf_max * (t[1] - t[0]) * (1 + 1e-9)


def test_dkw_epsilon():
    assert dkw_epsilon(100, 0.05) == pytest.approx(np.sqrt(np.log(40) / 200))
    # independent: the exact two-sided Kolmogorov tail at that radius is within the DKW bound
    for N, delta in [(50, 0.1), (1000, 1e-3), (20_000, 1e-3)]:
        assert stats.kstwo.sf(dkw_epsilon(N, delta), N) <= delta


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_urn_frequencies_follow_the_exact_law_for_other_seeds(seed):
    # Chapter 1's DKW check of the urn sampler, repeated with seeds other than the chapter's
    n_draws, a, b, n_urns, delta = 1000, 2.0, 3.0, 20_000, 1e-3
    counts = sample_polya_urn(n_draws, a, b, n_urns, np.random.default_rng(seed)).sum(
        axis=1
    )
    emp_cdf = np.cumsum(np.bincount(counts, minlength=n_draws + 1)) / n_urns
    exact_cdf = np.cumsum(polya_count_pmf(n_draws, a, b))
    assert np.max(np.abs(emp_cdf - exact_cdf)) <= dkw_epsilon(
        n_urns, delta
    )  # fails w.p. <= 1e-3 each


# ----------------------------------------------------------------------------- sampling with and without replacement
def brute_force_ordered_tv(composition, k):
    """Enumerate labelled balls: ordered draws without / with replacement, mapped to colours."""
    colours = [c for c, cnt in enumerate(composition) for _ in range(cnt)]
    n = len(colours)
    without = Counter(
        tuple(colours[i] for i in idx) for idx in itertools.permutations(range(n), k)
    )
    with_ = Counter(
        tuple(colours[i] for i in idx) for idx in itertools.product(range(n), repeat=k)
    )
    keys = set(without) | set(with_)
    return 0.5 * sum(
        abs(Fraction(without[s], perm(n, k)) - Fraction(with_[s], n**k)) for s in keys
    )


@pytest.mark.parametrize(
    "composition", [(2, 3), (1, 4), (0, 5), (2, 2, 1), (1, 1, 1, 1), (3, 0, 2)]
)
def test_ordered_tv_equals_count_tv_brute_force(composition):
    n = sum(composition)
    ks = np.arange(n + 1)
    got = tv_urn_without_vs_with_replacement(composition, ks)
    want = np.array([float(brute_force_ordered_tv(composition, int(k))) for k in ks])
    np.testing.assert_allclose(got, want, atol=1e-13)
    if len(composition) == 2:
        np.testing.assert_allclose(
            tv_sampling_without_vs_with_replacement(n, composition[0], ks),
            want,
            atol=1e-13,
        )


@pytest.mark.parametrize("n", [7, 40, 150])
def test_binary_tv_against_scipy(n):
    for m in [0, 1, n // 3, n // 2, n - 1, n]:
        for k in [0, 1, 2, n // 4, n // 2, n]:
            s = np.arange(k + 1)
            want = (
                0.5
                * np.abs(
                    stats.hypergeom.pmf(s, n, m, k) - stats.binom.pmf(s, k, m / n)
                ).sum()
            )
            assert tv_sampling_without_vs_with_replacement(n, m, k) == pytest.approx(
                want, abs=1e-12
            )


def test_binary_tv_vectorised_over_m_and_k():
    n = 12
    out = tv_sampling_without_vs_with_replacement(n, np.arange(n + 1), np.arange(n + 1))
    assert out.shape == (n + 1, n + 1)
    for m in range(n + 1):
        np.testing.assert_allclose(
            out[m],
            tv_urn_without_vs_with_replacement([m, n - m], np.arange(n + 1)),
            atol=1e-14,
        )


def test_three_colour_tv_against_scipy_multivariate():
    comp = np.array([3, 5, 4])
    n = comp.sum()
    for k in [2, 5, 9]:
        s = np.array(
            [v for v in itertools.product(range(k + 1), repeat=3) if sum(v) == k]
        )
        hyp = stats.multivariate_hypergeom.pmf(s, m=comp, n=k)
        mult = stats.multinomial.pmf(s, n=k, p=comp / n)
        assert tv_urn_without_vs_with_replacement(comp, k) == pytest.approx(
            0.5 * np.abs(hyp - mult).sum(), abs=1e-12
        )


def test_distinct_balls_formula():
    for n in range(1, 7):
        for k in range(n + 1):
            want = 1 - Fraction(factorial(n), factorial(n - k) * n**k)
            assert tv_distinct_balls(n, k) == pytest.approx(float(want), abs=1e-15)
        np.testing.assert_allclose(
            tv_urn_without_vs_with_replacement(np.ones(n, dtype=int), np.arange(n + 1)),
            tv_distinct_balls(n, np.arange(n + 1)),
            atol=1e-13,
        )


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 120), data=st.data())
def test_tv_in_unit_interval_monotone_and_below_bounds(n, data):
    m = data.draw(st.integers(0, n))
    ks = np.arange(n + 1)
    tv = tv_sampling_without_vs_with_replacement(n, m, ks)
    assert np.all(tv >= -1e-14) and np.all(tv <= 1)
    assert np.all(
        np.diff(tv) >= -1e-12
    )  # the first k draws are a function of the first k + 1
    assert tv[0] == pytest.approx(0, abs=1e-12) and tv[1] == pytest.approx(0, abs=1e-12)
    # labelled balls dominate (data processing) and the birthday bound dominates them
    assert np.all(tv <= tv_distinct_balls(n, ks) + 1e-12)
    assert np.all(
        tv_distinct_balls(n, ks) <= diaconis_freedman_bound(ks, n, None) + 1e-12
    )
    assert np.all(tv <= diaconis_freedman_bound(ks, n, 2) + 1e-12)


def test_diaconis_freedman_bound_values():
    assert diaconis_freedman_bound(3, 10, 2) == pytest.approx(0.6)
    assert diaconis_freedman_bound(3, 10) == pytest.approx(0.3)
    np.testing.assert_allclose(
        diaconis_freedman_bound(np.array([0, 1, 2]), 4), [0, 0, 0.25]
    )
    # k = 2 distinct balls: the sup-distance 1/n attains the bound k(k-1)/(2n)
    assert tv_distinct_balls(9, 2) == pytest.approx(diaconis_freedman_bound(2, 9))


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: polya_sequence_probability([0, 2, 1], 1, 1), "x"),
        (lambda: polya_sequence_probability(1, 1, 1), "x"),
        (lambda: polya_sequence_probability([0, 1], 0, 1), "a"),
        (lambda: polya_sequence_probability([0, 1], 1, -1), "b"),
        (lambda: beta_mixture_probability(3, 2, 1, 1), "k"),
        (lambda: beta_mixture_probability(1.5, 2, 1, 1), "k"),
        (lambda: beta_mixture_probability(1, -2, 1, 1), "n"),
        (lambda: beta_mixture_probability(1, 2, 0, 1), "a"),
        (lambda: polya_count_pmf(-1, 1, 1), "n"),
        (lambda: sample_polya_urn(3, 1, 1, 5, 0), "rng"),
        (lambda: sample_polya_urn(3, 1, 1, -5, np.random.default_rng(0)), "size"),
        (lambda: sample_polya_urn(3, -1, 1, 5, np.random.default_rng(0)), "a"),
        (lambda: tv_sampling_without_vs_with_replacement(10, 11, 2), "m"),
        (lambda: tv_sampling_without_vs_with_replacement(10, 3, 11), "k"),
        (lambda: tv_sampling_without_vs_with_replacement(0, 0, 0), "n"),
        (lambda: tv_urn_without_vs_with_replacement([2, -1], 1), "composition"),
        (lambda: tv_urn_without_vs_with_replacement([0, 0], 0), "composition"),
        (lambda: tv_urn_without_vs_with_replacement([2, 3], 6), "k"),
        (lambda: tv_distinct_balls(5, 6), "k"),
        (lambda: diaconis_freedman_bound(6, 5, 2), "k"),
        (lambda: diaconis_freedman_bound(2, 5, 0), "c"),
        (lambda: diaconis_freedman_bound(2, 5, 2.5), "c"),
        (lambda: dkw_epsilon(10, 0.0), "delta"),
        (lambda: dkw_epsilon(0, 0.1), "num_samples"),
        (lambda: kolmogorov_distance_frequency_to_beta(0, 2.0, 3.0), "n"),
        (
            lambda: tv_urn_without_vs_with_replacement([[1, 2], [3, 4]], 1),
            "composition",
        ),
        (
            lambda: tv_urn_without_vs_with_replacement(np.ones(30, dtype=int), 2),
            "composition",
        ),  # 3^30 cells
    ],
)
def test_bad_input_raises_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call()
