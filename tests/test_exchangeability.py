"""lib.exchangeability against independent computations.

Oracles: exact rational arithmetic (``fractions``, ``math.comb``), brute-force
enumeration, ``math.lgamma``, ``mpmath`` at high precision, scipy's distributions and
quadrature. Hypothesis draws the data (sequences, urn sizes, compositions, probability
vectors, huge integers), not only seeds.
"""

import itertools
import math
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import gammaln

from lib import exchangeability as ex
from lib.validation import AccuracyWarning

U = 2.0**-53
FAST = settings(max_examples=25, deadline=None)


def all_sequences(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=int).reshape(
        2**n, n
    )


def urn_exact(x, a, b):
    """Exact rational urn probability, by following the urn's contents draw by draw."""
    red, black, p = Fraction(a), Fraction(b), Fraction(1)
    for xi in x:
        if xi == 1:
            p *= red / (red + black)
            red += 1
        else:
            p *= black / (red + black)
            black += 1
    return p


def tv_two_colour_exact(n, m, k):
    """Exact sup-distance Hypergeometric(n, m, k) vs Binomial(k, m/n), as a Fraction."""
    total = Fraction(0)
    for s in range(k + 1):
        hyp = Fraction(math.comb(m, s) * math.comb(n - m, k - s), math.comb(n, k))
        binom = Fraction(math.comb(k, s) * m**s * (n - m) ** (k - s), n**k)
        total += abs(hyp - binom)
    return total / 2


def distinct_brute_force(rho, k):
    """Σ over ordered k-tuples of distinct indices of the product of rho."""
    return sum(
        math.prod(rho[i] for i in idx)
        for idx in itertools.permutations(range(len(rho)), k)
    )


positive = st.floats(1e-3, 1e3)
probability_vectors = st.lists(
    st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), min_size=1, max_size=6
).filter(lambda v: sum(v) > 0)


# ----------------------------------------------------------------------------- urn
@FAST
@given(x=st.lists(st.integers(0, 1), max_size=30), a=positive, b=positive)
def test_polya_probability_within_gamma_5n_of_exact(x, a, b):
    got = ex.polya_sequence_probability(x, a, b)
    exact = float(urn_exact(x, a, b))
    assert abs(got / exact - 1) <= ex.urn_probability_tolerance(len(x))


@FAST
@given(data=st.data(), a=positive, b=positive)
def test_polya_probability_is_permutation_invariant(data, a, b):
    x = data.draw(st.lists(st.integers(0, 1), min_size=1, max_size=20))
    perm = data.draw(st.permutations(range(len(x))))
    tol = 2 * ex.urn_probability_tolerance(len(x))
    got = ex.polya_sequence_probability(np.array(x)[perm], a, b)
    assert got == pytest.approx(ex.polya_sequence_probability(x, a, b), rel=tol)


@FAST
@given(n=st.integers(0, 10), a=positive, b=positive)
def test_polya_probabilities_sum_to_one(n, a, b):
    total = ex.polya_sequence_probability(all_sequences(n), a, b).sum()
    assert abs(total - 1) <= ex.probability_sum_tolerance(n, 2**n)


def test_polya_vectorised_over_leading_axes_and_empty_sequence():
    seqs = all_sequences(4).reshape(2, 8, 4)
    got = ex.polya_sequence_probability(seqs, 1.5, 0.5)
    assert got.shape == (2, 8)
    flat = ex.polya_sequence_probability(seqs.reshape(16, 4), 1.5, 0.5)
    np.testing.assert_array_equal(got.reshape(-1), flat)
    assert ex.polya_sequence_probability(np.zeros(0), 1.0, 1.0) == 1.0
    assert isinstance(ex.polya_sequence_probability([1], 1.0, 1.0), np.float64)


@FAST
@given(data=st.data(), a=positive, b=positive)
def test_log_probability_of_long_sequences_against_lgamma(data, a, b):
    n = data.draw(st.one_of(st.integers(1, 50), st.integers(1900, 2100)))
    k = data.draw(st.integers(0, n))
    seed = data.draw(st.integers(0, 2**32 - 1))  # the order of the ones
    x = np.random.default_rng(seed).permutation(
        np.r_[np.ones(k, int), np.zeros(n - k, int)]
    )
    want = (
        math.lgamma(a + k)
        - math.lgamma(a)
        + math.lgamma(b + n - k)
        - math.lgamma(b)
        - math.lgamma(a + b + n)
        + math.lgamma(a + b)
    )
    got = ex.polya_sequence_log_probability(x, a, b)
    assert got == pytest.approx(want, rel=1e-11, abs=1e-9)
    mix = ex.beta_mixture_log_probability(k, n, a, b)
    assert mix == pytest.approx(want, rel=1e-11, abs=1e-9)


def test_underflow_is_flagged_and_log_version_is_finite():
    x = [0, 1] * 1000  # P = 1000! 1000! / 2001!, about 1e-603
    with pytest.warns(AccuracyWarning, match="polya_sequence_log_probability"):
        assert ex.polya_sequence_probability(x, 1.0, 1.0) == 0.0
    want = 2 * math.lgamma(1001) - math.lgamma(2002)
    got = ex.polya_sequence_log_probability(x, 1.0, 1.0)
    assert got == pytest.approx(want, rel=1e-13)
    with pytest.warns(AccuracyWarning, match="beta_mixture_log_probability"):
        ex.beta_mixture_probability(1000, 2000, 1.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.polya_sequence_probability([1] * 2000, 1.0, 1.0)  # 1/2001: no warning


def test_overflowing_urn_raises():
    with pytest.raises(FloatingPointError):
        ex.polya_sequence_probability([1, 0], 1e308, 1e308)


@FAST
@given(n=st.integers(0, 25), data=st.data(), a=positive, b=positive)
def test_polya_exact_probability_is_the_rounded_urn_value(n, data, a, b):
    k = data.draw(st.integers(0, n))
    x = [1] * k + [0] * (n - k)
    assert ex.polya_exact_probability(k, n, a, b) == float(urn_exact(x, a, b))


@pytest.mark.parametrize("a,b", [(2.0, 3.0), (7.0, 1.5)])
def test_beta_mixture_matches_quadrature(a, b):
    n, beta = 7, stats.beta(a, b)
    for k in range(n + 1):
        quad, _ = integrate.quad(
            lambda t, k=k: t**k * (1 - t) ** (n - k) * beta.pdf(t), 0, 1, epsabs=1e-13
        )
        assert ex.beta_mixture_probability(k, n, a, b) == pytest.approx(quad, rel=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(*ex.BETALN_VALIDATED["a"]),
    b=st.floats(*ex.BETALN_VALIDATED["b"]),
    n=st.integers(*ex.BETALN_VALIDATED["n"]),
)
def test_assumption_a1_holds_on_its_validated_range(a, b, n):
    k = np.arange(n + 1)
    exact = ex.polya_exact_probability(k, n, a, b)
    err = np.abs(ex.beta_mixture_probability(k, n, a, b) / exact - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside the range: no AccuracyWarning
        assert np.all(err <= ex.beta_mixture_tolerance(k, n, a, b))


@pytest.mark.parametrize("a", [0.5, 2.0, 7.0])
def test_assumption_a1_fails_for_tiny_b(a):
    n, k = 14, np.arange(15)
    with pytest.warns(AccuracyWarning):
        tol = ex.beta_mixture_tolerance(k, n, a, 1e-3)
    err = np.abs(
        ex.beta_mixture_probability(k, n, a, 1e-3)
        / (ex.polya_exact_probability(k, n, a, 1e-3))
        - 1
    )
    assert np.max(err / tol) > 5


def test_gammaln_assumption_a2_against_mpmath():
    mpmath.mp.prec = 120
    js = np.r_[np.arange(1, 400), np.geomspace(400, 10**6, 60).astype(int)]
    want = np.array([float(mpmath.loggamma(j + 1)) for j in js])
    got = gammaln(js + 1.0)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    assert np.all(rel[want != 0] <= 4 * U)


def test_rounding_gammas():
    assert ex.rounding_gamma(0) == 0
    assert ex.rounding_gamma(70) == pytest.approx(70 * U / (1 - 70 * U), rel=1e-15)
    np.testing.assert_allclose(
        ex.rounding_gamma([1, 2]), [U / (1 - U), 2 * U / (1 - 2 * U)]
    )
    assert ex.urn_probability_tolerance(14) == ex.rounding_gamma(70)
    g70, g15 = ex.rounding_gamma(70), ex.rounding_gamma(15)
    assert ex.probability_sum_tolerance(14, 16) == g70 + g15 * (1 + g70)
    with pytest.raises(ValueError, match="^m "):
        ex.rounding_gamma(2**53)


def test_urn_enumeration_ratios_against_direct_computation():
    n, urns = 5, [(2.0, 3.0), (0.5, 7.0)]
    res = ex.urn_enumeration(n, urns, np.random.default_rng(0))
    seqs = all_sequences(n)
    worst = 0.0
    for a, b in urns:
        exact = np.array([float(urn_exact(x, a, b)) for x in seqs])
        got = ex.polya_sequence_probability(seqs, a, b)
        worst = max(worst, np.max(np.abs(got / exact - 1)))
    assert res.urn >= worst / ex.rounding_gamma(5 * n)  # the identity order is one
    assert max(res.urn, res.mixture, res.total) <= 1
    assert res.urn_tol == ex.rounding_gamma(25)


# ---------------------------------------------------------------------- de Finetti
def test_polya_count_pmf_is_scipy_betabinom():
    for n, a, b in [(10, 2.0, 3.0), (50, 0.5, 4.0)]:
        want = stats.betabinom.pmf(np.arange(n + 1), n, a, b)
        np.testing.assert_allclose(ex.polya_count_pmf(n, a, b), want, rtol=1e-11)


def test_sample_polya_urn_law_and_reproducibility():
    n, a, b, size = 4, 2.0, 1.0, 20_000
    x = ex.sample_polya_urn(n, a, b, size, np.random.default_rng(11))
    assert x.shape == (size, n) and x.dtype == np.int64 and set(np.unique(x)) <= {0, 1}
    observed = np.bincount(x @ (2 ** np.arange(n)[::-1]), minlength=2**n)
    expected = size * ex.polya_sequence_probability(all_sequences(n), a, b)
    assert stats.chisquare(observed, expected).pvalue > 1e-4  # fails w.p. 1e-4
    again = ex.sample_polya_urn(n, a, b, size, np.random.default_rng(11))
    np.testing.assert_array_equal(x, again)


@pytest.mark.parametrize("n,a,b", [(10, 2.0, 3.0), (10, 3.0, 2.0), (7, 5.0, 1.5)])
def test_kolmogorov_distance_against_a_fine_grid(n, a, b):
    # (3, 2) and (5, 1.5) attain the supremum at a left limit, (2, 3) at a right one
    t = np.linspace(0, 1, 20_001)
    cdf = np.cumsum(stats.betabinom.pmf(np.arange(n + 1), n, a, b))
    step = cdf[np.floor(n * t + 1e-12).astype(int)]
    grid_sup = np.max(np.abs(step - stats.beta.cdf(t, a, b)))
    exact = ex.kolmogorov_distance_frequency_to_beta(n, a, b)
    pdf_max = np.max(stats.beta.pdf(t[1:-1], a, b))
    # the grid reaches each one-sided limit within (largest density) x (grid step)
    assert grid_sup <= exact + 1e-12
    assert exact - grid_sup <= pdf_max * (t[1] - t[0]) * (1 + 1e-9)
    assert exact >= ex.polya_count_pmf(n, a, b).max() / 2


@FAST
@given(counts=st.lists(st.integers(0, 8), min_size=1, max_size=50))
def test_frequency_distances_against_scipy(counts):
    n, a, b = 8, 2.0, 3.0
    got = ex.frequency_distances(counts, n, a, b)
    freq = np.array(counts) / n
    want_beta = stats.kstest(freq, stats.beta(a, b).cdf).statistic
    assert got.to_beta == pytest.approx(want_beta, abs=1e-12)
    emp = np.array([(np.array(counts) <= j).mean() for j in range(n + 1)])
    want_exact = np.max(np.abs(emp - stats.betabinom.cdf(np.arange(n + 1), n, a, b)))
    assert got.to_exact == pytest.approx(want_exact, abs=1e-12)
    assert got.d_n == ex.kolmogorov_distance_frequency_to_beta(n, a, b)


def test_dkw_epsilon():
    assert ex.dkw_epsilon(100, 0.05) == pytest.approx(np.sqrt(np.log(40) / 200))
    # the exact two-sided Kolmogorov tail at that radius is within the DKW bound
    for size, delta in [(50, 0.1), (1000, 1e-3), (20_000, 1e-3)]:
        assert stats.kstwo.sf(ex.dkw_epsilon(size, delta), size) <= delta


# ----------------------------------------------------------------------------- urns
def brute_force_ordered_tv(composition, k):
    """Labelled balls: ordered draws without and with replacement, as colours."""
    colours = [c for c, cnt in enumerate(composition) for _ in range(cnt)]
    n = len(colours)
    without, with_ = {}, {}
    for idx in itertools.permutations(range(n), k):
        key = tuple(colours[i] for i in idx)
        without[key] = without.get(key, 0) + 1
    for idx in itertools.product(range(n), repeat=k):
        key = tuple(colours[i] for i in idx)
        with_[key] = with_.get(key, 0) + 1
    keys = set(without) | set(with_)
    return (
        sum(
            abs(Fraction(without.get(s, 0), math.perm(n, k)) - Fraction(with_[s], n**k))
            for s in keys
        )
        / 2
    )


@pytest.mark.parametrize("composition", [(2, 3), (0, 5), (2, 2, 1), (1, 1, 1, 1)])
def test_ordered_tv_equals_count_tv_brute_force(composition):
    n = sum(composition)
    ks = np.arange(n + 1)
    got = ex.tv_urn_without_vs_with_replacement(composition, ks)
    want = [float(brute_force_ordered_tv(composition, int(k))) for k in ks]
    np.testing.assert_allclose(got, want, atol=ex.tv_rounding_tolerance(n, 4))


@FAST
@given(n=st.integers(1, 40), data=st.data())
def test_two_colour_tv_within_its_rounding_tolerance_of_exact(n, data):
    m = data.draw(st.integers(0, n))
    k = data.draw(st.integers(0, n))
    exact = float(tv_two_colour_exact(n, m, k))
    tol = ex.tv_rounding_tolerance(n)
    assert abs(ex.tv_sampling_without_vs_with_replacement(n, m, k) - exact) <= tol
    both = ex.tv_urn_without_vs_with_replacement([m, n - m], k)
    assert abs(both - exact) <= tol


def test_three_colour_tv_against_scipy_multivariate():
    comp = np.array([3, 5, 4])
    for k in [2, 5, 9]:
        s = np.array(
            [v for v in itertools.product(range(k + 1), repeat=3) if sum(v) == k]
        )
        hyp = stats.multivariate_hypergeom.pmf(s, m=comp, n=k)
        mult = stats.multinomial.pmf(s, n=k, p=comp / comp.sum())
        got = ex.tv_urn_without_vs_with_replacement(comp, k)
        assert got == pytest.approx(0.5 * np.abs(hyp - mult).sum(), abs=1e-12)


def test_binary_tv_vectorised_over_m_and_k():
    n = 12
    out = ex.tv_sampling_without_vs_with_replacement(
        n, np.arange(n + 1), np.arange(n + 1)
    )
    assert out.shape == (n + 1, n + 1)
    for m in (0, 5, 12):
        want = ex.tv_urn_without_vs_with_replacement([m, n - m], np.arange(n + 1))
        np.testing.assert_allclose(out[m], want, atol=1e-14)


@FAST
@given(n=st.integers(1, 300), data=st.data())
def test_distinct_balls_formula(n, data):
    k = data.draw(st.integers(0, n))
    want = 1 - Fraction(math.perm(n, k), n**k)
    assert abs(ex.tv_distinct_balls(n, k) - float(want)) <= ex.tv_rounding_tolerance(n)


def test_worst_composition_tv_against_brute_force():
    n, ks = 6, np.arange(7)
    want2 = np.max(
        [ex.tv_urn_without_vs_with_replacement([m, n - m], ks) for m in ks], 0
    )
    np.testing.assert_allclose(ex.worst_composition_tv(n), want2, atol=1e-14)
    comps = [c for c in itertools.product(range(n + 1), repeat=3) if sum(c) == n]
    want3 = np.max([ex.tv_urn_without_vs_with_replacement(c, ks) for c in comps], 0)
    np.testing.assert_allclose(ex.worst_composition_tv(n, 3), want3, atol=1e-14)
    assert len(comps) == math.comb(n + 2, 2)


@FAST
@given(n=st.integers(2, 60), data=st.data())
def test_tv_monotone_and_below_the_bounds(n, data):
    m = data.draw(st.integers(0, n))
    ks = np.arange(n + 1)
    tv = ex.tv_sampling_without_vs_with_replacement(n, m, ks)
    tol = ex.tv_rounding_tolerance(n)
    assert np.all(tv >= -tol) and np.all(tv <= 1 + tol)
    assert np.all(np.diff(tv) >= -2 * tol)  # the first k draws: a function of k + 1
    assert abs(tv[0]) <= tol and abs(tv[1]) <= tol
    assert np.all(tv <= ex.tv_distinct_balls(n, ks) + tol)  # data processing
    assert np.all(
        ex.tv_distinct_balls(n, ks) <= ex.diaconis_freedman_bound(ks, n) + tol
    )
    assert np.all(tv <= ex.diaconis_freedman_bound(ks, n, 2) + tol)


@FAST
@given(
    n=st.integers(1, 2**62),
    data=st.data(),
    c=st.one_of(st.none(), st.integers(1, 2**62)),
)
def test_diaconis_freedman_bound_exact_for_huge_integers(n, data, c):
    k = data.draw(st.integers(0, n))
    got = ex.diaconis_freedman_bound(k, n, c)
    want = Fraction(k * (k - 1), 2 * n) if c is None else Fraction(c * k, n)
    assert got == pytest.approx(float(want), rel=ex.rounding_gamma(4), abs=0)


def test_diaconis_freedman_bound_audit_cases():
    assert ex.diaconis_freedman_bound(5 * 10**9, 10**10) == pytest.approx(
        1.25e9, rel=1e-9
    )
    assert ex.diaconis_freedman_bound(np.array([4]), 8, 2**62)[0] == 2.0**61
    assert ex.diaconis_freedman_bound(3, 10, 2) == pytest.approx(0.6)
    np.testing.assert_allclose(ex.diaconis_freedman_bound([0, 1, 2], 4), [0, 0, 0.25])


def test_diaconis_freedman_ratio():
    tvs = {4: [0, 0, 0.1, 0.3, 0.5], 6: [0, 0, 0.1, 0.2, 0.2, 0.2, 0.7]}
    got = ex.diaconis_freedman_ratio(tvs, c=2)
    ratios = [
        (v[k] / (2 * k / n), n, k) for n, v in tvs.items() for k in range(1, n + 1)
    ]
    best = max(ratios)
    assert (got.ratio, got.n, got.k) == pytest.approx(best)
    assert got.tol >= ex.tv_rounding_tolerance(6) / (2 / 6)
    attained = ex.diaconis_freedman_ratio({9: ex.tv_distinct_balls(9, np.arange(10))})
    assert (attained.k, attained.n) == (2, 9)
    assert abs(attained.ratio - 1) <= attained.tol


# ------------------------------------------------------------------------ positions
@FAST
@given(rho=probability_vectors, data=st.data())
def test_distinct_iid_probability_brute_force(rho, data):
    rho = np.array(rho) / sum(rho)
    k = data.draw(st.integers(0, rho.size))
    want = distinct_brute_force(list(rho), k)
    assert ex.distinct_iid_probability(rho, k) == pytest.approx(
        want, rel=1e-12, abs=1e-15
    )


@FAST
@given(
    length=st.integers(1, 30),
    data=st.data(),
    spread=st.sampled_from([0.0, 1e-12, 1e-6, 1e-2, 1.0, 100.0]),
)
def test_uniform_positions_maximise_distinct_probability(length, data, spread):
    k = data.draw(st.integers(0, length))
    noise = data.draw(st.lists(st.floats(0, 1), min_size=length, max_size=length))
    weights = 1 + spread * np.array(noise)
    rho = weights / weights.sum()
    uniform = np.full(length, 1 / length)
    ratio = ex.distinct_iid_probability(rho, k) / ex.distinct_iid_probability(
        uniform, k
    )
    assert ratio <= 1 + ex.distinct_iid_tolerance(length, k)
    want = 1 - ex.tv_distinct_balls(length, k)
    got = ex.distinct_iid_probability(uniform, k)
    assert got == pytest.approx(want, abs=ex.tv_rounding_tolerance(length) + 1e-15)


def test_distinct_iid_probability_batches_and_one_hot():
    rho = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(ex.distinct_iid_probability(rho, 2), [0.0, 0.5])
    assert ex.distinct_iid_probability(rho, 0).tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------------- encoder
def test_encoder_permutation_errors():
    small = dict(d_model=8, n_heads=2, d_ff=8, batch=3)
    err = ex.encoder_permutation_errors(5, torch.Generator().manual_seed(0), **small)
    assert err.equivariance <= 1e3 * U * max(err.scale, 1)
    assert err.pooled <= 1e3 * U * max(err.scale, 1)
    assert err.causal > 1e-3 and err.causal_pooled > 1e-4
    other = ex.encoder_permutation_errors(5, torch.Generator().manual_seed(1), **small)
    assert other.causal != err.causal  # the generator drives every draw


# ----------------------------------------------------------------------- bad inputs
def _rng():
    return np.random.default_rng(0)


VALID = {
    ex.polya_sequence_probability: dict(x=[0, 1, 1], a=2.0, b=3.0),
    ex.polya_sequence_log_probability: dict(x=[0, 1, 1], a=2.0, b=3.0),
    ex.polya_exact_probability: dict(k=1, n=3, a=2.0, b=3.0),
    ex.beta_mixture_probability: dict(k=1, n=3, a=2.0, b=3.0),
    ex.beta_mixture_log_probability: dict(k=1, n=3, a=2.0, b=3.0),
    ex.beta_mixture_tolerance: dict(k=1, n=3, a=2.0, b=3.0),
    ex.polya_count_pmf: dict(n=5, a=2.0, b=3.0),
    ex.sample_polya_urn: dict(n=3, a=1.0, b=1.0, size=4, rng=_rng()),
    ex.kolmogorov_distance_frequency_to_beta: dict(n=5, a=2.0, b=3.0),
    ex.frequency_distances: dict(counts=[0, 1, 2], n=3, a=2.0, b=3.0),
    ex.dkw_epsilon: dict(num_samples=10, delta=0.1),
    ex.rounding_gamma: dict(m=3),
    ex.urn_probability_tolerance: dict(n=3),
    ex.probability_sum_tolerance: dict(n=3, count=8),
    ex.urn_enumeration: dict(n=3, urns=[(2.0, 3.0)], rng=_rng()),
    ex.tv_urn_without_vs_with_replacement: dict(composition=[2, 3], k=2),
    ex.tv_sampling_without_vs_with_replacement: dict(n=5, m=2, k=2),
    ex.tv_distinct_balls: dict(n=5, k=2),
    ex.tv_rounding_tolerance: dict(n=5, colours=2),
    ex.worst_composition_tv: dict(n=4, colours=2),
    ex.diaconis_freedman_bound: dict(k=2, n=5, c=2),
    ex.diaconis_freedman_ratio: dict(tvs={3: [0, 0, 0.1, 0.2]}, c=2, colours=2),
    ex.distinct_iid_probability: dict(rho=[0.5, 0.5], k=2),
    ex.distinct_iid_tolerance: dict(length=3, k=2),
    ex.encoder_permutation_errors: dict(
        length=3, generator=torch.Generator(), d_model=4, n_heads=2, d_ff=4, batch=1
    ),
}
REAL = [float("nan"), float("inf"), "2", None, True, 1 + 1j, [1.0, 2.0]]
INT = [2.5, "3", None, True, 1 + 0j, float("nan")]
INT_ARRAY = [2.5, "3", None, True, float("nan"), [[1], [1, 2]], 1 + 1j, -1]
BAD = {
    "a": REAL + [0.0, -1.0],
    "b": REAL + [0.0],
    "delta": REAL + [0.0, 1.5],
    "x": [[0, 2], "01", None, [[0], [0, 1]], [0.5, 1], [float("nan")], 1],
    "k": INT_ARRAY + [99],
    "m": INT_ARRAY + [99],
    "n": INT + [-1, [3]],
    "size": INT + [-1, [3]],
    "num_samples": INT + [0, [3]],
    "count": INT + [0, [3]],
    "colours": INT + [1, [3]],
    "length": INT + [0, [3]],
    "d_model": INT + [3],
    "n_heads": INT + [0, [3]],
    "d_ff": INT + [[3]],
    "batch": INT + [0, [3]],
    "c": [2.5, "3", True, 1 + 0j, float("nan"), [3], 0],
    "composition": INT_ARRAY + [[0, 0]],
    "counts": INT_ARRAY + [[0, 9]],
    "rng": [0, None, "x"],
    "generator": [0, None, _rng()],
    "urns": [[(float("nan"), 1.0)], [(1.0, 2.0, 3.0)], "x", [[1.0], [1.0, 2.0]]],
    "tvs": [None, [0.1], {3: [float("nan")] * 4}, {3: [0.1]}, {2.5: [0, 0, 0]}],
    "rho": [[float("nan"), 0.5], [-0.1, 1.1], [[0.5], [0.5, 0.5]], "x", [1 + 0j]],
}
VALID_HERE = {  # values in BAD that are valid for these functions
    (ex.beta_mixture_probability, "n"): [[3]],
    (ex.beta_mixture_log_probability, "n"): [[3]],
    (ex.beta_mixture_tolerance, "n"): [[3]],
    (ex.rounding_gamma, "m"): [99],
}
CASES = [
    pytest.param(fn, name, bad, id=f"{fn.__name__}-{name}-{i}")
    for fn, kwargs in VALID.items()
    for name in kwargs
    for i, bad in enumerate(BAD[name])
    if bad not in VALID_HERE.get((fn, name), [])
]


@pytest.mark.parametrize("fn", list(VALID))
def test_valid_calls_succeed(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(**VALID[fn])


@pytest.mark.parametrize("fn,name,bad", CASES)
def test_bad_input_raises_naming_the_argument(fn, name, bad):
    kwargs = {**VALID[fn], name: bad}
    with pytest.raises(ValueError) as info:
        fn(**kwargs)
    message = str(info.value)
    assert name in message or (name == "tvs" and "n (a key of tvs)" in message), message
