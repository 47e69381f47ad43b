"""Tests of lib.circle against independent computations.

Oracles: direct trigonometry, scipy's Bessel functions and quadrature, mpmath,
sequential (Kalman) conjugate updates, the NumPy softmax of tests/conftest.py, and
closed forms. Hypothesis draws the data (angles, scales, lengths, extremes).
"""

import math

import mpmath
import numpy as np
import pytest
from conftest import softmax_attention_np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import optimize, stats
from scipy.integrate import quad
from scipy.special import iv, ive

from lib import circle
from lib.validation import InputTypeError

FAST = settings(max_examples=25, deadline=None)
angles = st.floats(-1e3, 1e3, allow_nan=False)
scales = st.floats(0.05, 20.0)


# ----------------------------------------------------------------------------- model
@FAST
@given(
    t=arrays(
        np.float64, st.tuples(st.integers(0, 3), st.integers(1, 4)), elements=angles
    ),
    D=st.integers(0, 6),
)
def test_fourier_features_against_direct_trigonometry(t, D):
    cols = [np.ones_like(t)]
    for n in range(1, D + 1):
        cols += [np.cos(n * t), np.sin(n * t)]
    got = circle.fourier_features(t, D)
    assert got.shape == t.shape + (2 * D + 1,)
    np.testing.assert_allclose(got, np.stack(cols, -1), atol=1e-12 * (D + 1))


@FAST
@given(t=arrays(np.float64, st.integers(1, 5), elements=angles))
def test_unit_circle_is_on_the_circle_at_the_angle(t):
    k = circle.unit_circle(t)
    np.testing.assert_allclose(np.linalg.norm(k, axis=-1), 1.0, rtol=1e-15)
    back = np.arctan2(k[..., 1], k[..., 0])
    np.testing.assert_allclose(np.cos(back - t), 1.0, atol=1e-12)


@pytest.mark.parametrize("D", [0, 1, 2, 4])
def test_feature_moment_inverse_inverts_the_second_moment(D):
    t = 2 * np.pi * np.arange(256) / 256  # exact for trigonometric polynomials
    phi = circle.fourier_features(t, D)
    M = phi.T @ phi / t.size
    np.testing.assert_allclose(
        np.diag(circle.feature_moment_inverse(D)), np.linalg.inv(M), atol=1e-12
    )


@pytest.mark.parametrize(
    "bad, err",
    [
        (np.nan, ValueError),
        (np.inf, ValueError),
        (1 + 2j, InputTypeError),
        (True, InputTypeError),
        ("0.3", InputTypeError),
        ([[0.1, 0.2], [0.3]], InputTypeError),
        (None, InputTypeError),
    ],
)
def test_angle_functions_reject_bad_angles(bad, err):
    for f in (circle.fourier_features, circle.unit_circle):
        with pytest.raises(err, match="t"):
            f(bad)


def test_bad_degrees_are_named():
    for bad, err in [(2.5, InputTypeError), (True, InputTypeError), (-1, ValueError)]:
        with pytest.raises(err, match="degree"):
            circle.fourier_features(0.1, bad)
        with pytest.raises(err, match="degree"):
            circle.feature_moment_inverse(bad)


def test_sample_circle_model_shapes_order_and_noise():
    a = circle.sample_circle_model((3, 2), 50, np.random.default_rng(7), sigma=0.3)
    b = circle.sample_circle_model((3, 2), 50, np.random.default_rng(7), sigma=0.3)
    assert a.z.shape == (3, 2, 5) and a.K.shape == (3, 2, 50, 2)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert np.all((a.t >= 0) & (a.t < 2 * np.pi))
    # draws in the order z, t, ε
    r = np.random.default_rng(7)
    z = r.standard_normal((3, 2, 5))
    t = r.uniform(0, 2 * np.pi, (3, 2, 50))
    eps = 0.3 * r.standard_normal((3, 2, 50))
    np.testing.assert_array_equal(a.z, z)
    np.testing.assert_allclose(
        a.v, np.einsum("...lp,...p->...l", circle.fourier_features(t), z) + eps
    )
    u = circle.sample_circle_model(
        4,
        9,
        np.random.default_rng(1),
        tau=2.0,
        sigma=0.1,
        latent="uniform",
        noise="uniform",
    )
    assert np.all(np.abs(u.z) <= 2.0)
    res = u.v - np.einsum("...lp,...p->...l", circle.fourier_features(u.t), u.z)
    assert np.all(np.abs(res) <= 0.1)


@pytest.mark.parametrize(
    "kwargs, err, name",
    [
        (dict(size=2.5), InputTypeError, "size"),
        (dict(size=(2, 0)), ValueError, "size"),
        (dict(L=0), ValueError, "L"),
        (dict(L=True), InputTypeError, "L"),
        (dict(rng=0), InputTypeError, "rng"),
        (dict(tau=0.0), ValueError, "tau"),
        (dict(sigma=np.nan), ValueError, "sigma"),
        (dict(latent="cauchy"), ValueError, "latent"),
        (dict(noise=["gaussian"]), InputTypeError, "noise"),
    ],
)
def test_sample_circle_model_rejects_bad_input(kwargs, err, name):
    args = dict(size=2, L=5, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(err, match=name):
        circle.sample_circle_model(**args)


@FAST
@given(
    tau=scales,
    sigma=scales,
    L=st.integers(0, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_posterior_equals_sequential_conjugate_updates(tau, sigma, L, seed):
    """Kalman: one rank-one update per token, starting from the prior."""
    rng = np.random.default_rng(seed)
    t, v = rng.uniform(0, 2 * np.pi, L), rng.normal(0, 3, L)
    mu, Sig = circle.linear_gaussian_posterior(t, v, tau=tau, sigma=sigma)
    m, P = np.zeros(5), tau**2 * np.eye(5)
    for tl, vl in zip(t, v, strict=True):
        phi = circle.fourier_features(tl)
        k = P @ phi / (phi @ P @ phi + sigma**2)
        m, P = m + k * (vl - phi @ m), P - np.outer(k, phi @ P)
    scale = tau**2
    np.testing.assert_allclose(mu, m, atol=1e-8 * (1 + np.abs(m).max()))
    np.testing.assert_allclose(Sig, P, atol=1e-8 * scale)


def test_posterior_never_returns_nan():
    with pytest.raises(FloatingPointError):  # (σ/τ)² underflows, 1 token < p
        circle.linear_gaussian_posterior([0.1], [1.0], tau=1e150, sigma=1e-200)
    with pytest.raises(FloatingPointError, match="overflows"):  # (σ/τ)² overflows
        circle.linear_gaussian_posterior([0.1], [1.0], tau=1e-200, sigma=1e150)
    with pytest.raises(ValueError, match="tau"):  # τ² would overflow
        circle.linear_gaussian_posterior([0.1], [1.0], tau=1e200, sigma=1.0)
    with pytest.raises(ValueError, match="same shape"):
        circle.linear_gaussian_posterior(np.zeros(3), np.zeros(4), tau=1.0, sigma=1.0)
    with pytest.raises(ValueError, match="v"):
        circle.linear_gaussian_posterior([0.1], [np.nan], tau=1.0, sigma=1.0)
    with pytest.raises(InputTypeError, match="t"):
        circle.linear_gaussian_posterior([1j], [1.0], tau=1.0, sigma=1.0)


# ----------------------------------------------------------------------------- Bessel
@FAST
@given(n=st.integers(0, 8), beta=st.one_of(st.just(0.0), st.floats(1e-8, 500.0)))
def test_bessel_ratio_matches_scipy_iv(n, beta):
    ref = iv(n, beta) / iv(0, beta)
    np.testing.assert_allclose(
        circle.bessel_ratio(n, beta), ref, rtol=1e-12, atol=1e-300
    )


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("beta", [2e4, 3e5, 1e9, 1e14])
def test_bessel_ratio_large_beta_against_mpmath(n, beta):
    with mpmath.workdps(40):
        ref = mpmath.besseli(n, beta) / mpmath.besseli(0, beta)
        comp = 1 - ref
    np.testing.assert_allclose(circle.bessel_ratio(n, beta), float(ref), rtol=1e-15)
    _, c = circle._bessel_ratio_and_complement(np.array(n), np.array(beta))
    np.testing.assert_allclose(c, float(comp), rtol=1e-12)


def test_bessel_ratio_at_the_largest_floats():
    beta = np.array([1e100, 1e300])
    for n in (1, 3):
        np.testing.assert_allclose(circle.bessel_ratio(n, beta), 1 - n**2 / (2 * beta))


@pytest.mark.parametrize(
    "n, beta, err",
    [
        (2.5, 1.0, InputTypeError),
        (-1, 1.0, ValueError),
        (True, 1.0, InputTypeError),
        (1, -1.0, ValueError),
        (1, np.nan, ValueError),
        (1, 1j, InputTypeError),
        (1, [[1.0], [2.0, 3.0]], InputTypeError),
    ],
)
def test_bessel_ratio_rejects_bad_input(n, beta, err):
    with pytest.raises(err):
        circle.bessel_ratio(n, beta)


@pytest.mark.parametrize("beta,tq", [(0.0, 0.3), (2.5, 1.1), (40.0, 4.0)])
def test_bessel_formula_for_the_smoothed_mean(beta, tq):
    """m_β(t_q) = ∫ e^{β cos(t−t_q)} f(t) dt / ∫ e^{β cos(t−t_q)} dt (scipy quad)."""
    z = np.array([0.3, -1.2, 0.7, 2.0, -0.4])

    def w(t):
        return np.exp(beta * (np.cos(t - tq) - 1))

    num = quad(lambda t: w(t) * circle.fourier_features(t) @ z, 0, 2 * np.pi)[0]
    den = quad(w, 0, 2 * np.pi)[0]
    got = (circle.smoothing_factors(beta) * circle.fourier_features(tq)) @ z
    np.testing.assert_allclose(num / den, got, rtol=1e-9, atol=1e-11)
    assert circle.smoothing_factors(np.array([1.0, 2.0]), 3).shape == (2, 7)


# ----------------------------------------------------------------------------- errors
def _s2_closed_form(beta, tau, sigma):
    """s² = [τ² Σ_n (I_0(2β)(1 + r_n²) − 2 r_n I_n(2β)) + σ² I_0(2β)] / I_0(β)²."""
    r = [ive(n, beta) / ive(0, beta) for n in (1, 2)]
    i0 = ive(0, 2 * beta) / ive(0, beta) ** 2
    terms = [
        (ive(0, 2 * beta) * (1 + rn**2) - 2 * rn * ive(n, 2 * beta)) / ive(0, beta) ** 2
        for n, rn in zip((1, 2), r, strict=True)
    ]
    return tau**2 * sum(terms) + sigma**2 * i0, r


@settings(max_examples=15, deadline=None)
@given(
    beta=st.one_of(st.floats(0.0, 50.0), st.sampled_from([1e3, 1e6, 1e8])),
    tq=st.floats(-7, 7),
    tau=st.floats(0.2, 3.0),
    sigma=st.floats(0.1, 2.0),
)
def test_attention_error_terms_closed_forms(beta, tq, tau, sigma):
    terms = circle.attention_error_terms(beta, tq, tau=tau, sigma=sigma)
    s2, r = _s2_closed_form(beta, tau, sigma)
    np.testing.assert_allclose(terms.s2, s2, rtol=1e-10)
    # the oracle's 1 − r_n cancels: relative error about u·2β
    np.testing.assert_allclose(
        terms.bias2,
        tau**2 * sum((1 - rn) ** 2 for rn in r),
        rtol=1e-12 + 1e-15 * beta,
        atol=1e-300,
    )
    # noise variance + its covariance with attention + bias × prior shrinkage:
    # σ²(5 − 2(1 + 2r₁ + 2r₂)) + 2σ²·2((r₁ − 1) + (r₂ − 1)) = −5σ² = −σ² φᵀM⁻¹φ
    np.testing.assert_allclose(terms.posterior, -5 * sigma**2, rtol=1e-12)


def test_attention_error_terms_second_order_against_monte_carlo():
    """L·E[(attn − m_β)² − (Ū/a)²] = c₂/L + O(L⁻²), from 3000 sequences of length 64.

    Tolerance: 5 standard errors plus c₂²/(s² L) for the next term (heuristic)."""
    tau, sigma, beta, L = 1.3, 0.5, 4.0, 64
    s = circle.sample_circle_model(
        4000, L, np.random.default_rng(3), tau=tau, sigma=sigma
    )
    e = circle.attention_errors(s, [0.7], beta, tau=tau, sigma=sigma)
    y = L * (e.error[0, :, 0] ** 2 - e.linear[0, :, 0] ** 2)
    t = circle.attention_error_terms(beta, 0.7, tau=tau, sigma=sigma)
    tol = 5 * y.std(ddof=1) / math.sqrt(y.size) + t.c2**2 / (t.s2 * L**2)
    assert abs(y.mean() - t.c2 / L) <= tol
    # and the linear statistic's second moment is s² (5 SE)
    lin = L * e.linear[0, :, 0] ** 2
    assert abs(lin.mean() - t.s2) <= 5 * lin.std(ddof=1) / math.sqrt(lin.size)


def test_attention_error_terms_rejects_bad_input():
    with pytest.raises(ValueError, match="beta"):
        circle.attention_error_terms(-1.0, 0.0, tau=1.0, sigma=1.0)
    with pytest.raises(InputTypeError, match="t_q"):
        circle.attention_error_terms(1.0, "0", tau=1.0, sigma=1.0)
    with pytest.raises(ValueError, match="n_grid"):
        circle.attention_error_terms(1.0, 0.0, tau=1.0, sigma=1.0, n_grid=8)


def test_predicted_attention_mse():
    t = circle.AttentionErrorTerms(0.1, 2.0, 4.0, -1.0, 0.5)
    L = np.array([1.0, 2.0, 10.0])
    np.testing.assert_allclose(circle.predicted_attention_mse(L, t), 2 / L + 4 / L**2)
    np.testing.assert_allclose(
        circle.predicted_attention_mse(L, t, "posterior"), 0.1 + 1.5 / L + 4 / L**2
    )
    with pytest.raises(ValueError, match="target"):
        circle.predicted_attention_mse(L, t, target="other")
    with pytest.raises(InputTypeError, match="terms"):
        circle.predicted_attention_mse(L, (0.1, 2.0, 4.0, -1.0, 0.5))
    with pytest.raises(ValueError, match="L"):
        circle.predicted_attention_mse(0.5, t)


@FAST
@given(
    L=st.floats(1.0, 1e6),
    tau=st.floats(0.1, 10),
    sigma=st.floats(0.1, 10),
    D=st.integers(1, 4),
)
def test_temperature_schedule_minimises_the_leading_terms(L, tau, sigma, D):
    s4 = sum(n**4 for n in range(1, D + 1))

    def amse(log_b):
        b = math.exp(log_b)
        return tau**2 * s4 / (4 * b * b) + sigma**2 * math.sqrt(math.pi * b) / L

    best = optimize.minimize_scalar(
        amse, bounds=(-20, 40), method="bounded", options={"xatol": 1e-10}
    )
    got = circle.temperature_schedule(L, tau=tau, sigma=sigma, degree=D)
    np.testing.assert_allclose(got, math.exp(best.x), rtol=1e-6)


# ----------------------------------------------------------------------------- heads
def test_readout_matrix_and_projection():
    beta = 3.0
    t5 = 0.4 + 2 * np.pi * np.arange(5) / 5
    A = circle.readout_matrix(t5, beta)
    M = circle.fourier_features(t5) * circle.smoothing_factors(beta)
    np.testing.assert_allclose(A @ M, np.eye(5), atol=1e-10)
    t4 = 0.4 + 2 * np.pi * np.arange(4) / 4
    P = circle.readout_matrix(t4, beta) @ (
        circle.fourier_features(t4) * circle.smoothing_factors(beta)
    )
    np.testing.assert_allclose(P @ P, P, atol=1e-10)
    np.testing.assert_allclose(P, P.T, atol=1e-10)
    np.testing.assert_allclose(np.trace(P), 4, atol=1e-10)
    with pytest.raises(ValueError, match="t_heads"):
        circle.readout_matrix(np.zeros((2, 2)), beta)


def test_multihead_covariance_identities():
    """Symmetric PSD; E_z V(z) = V (cubature exact for quadratics); v = tr V − 2σ² tr
    ((I − P)M⁻¹) with the null space from an SVD (independent of the pseudo-inverse)."""
    beta, tau, sigma = 4.0, 1.3, 0.5
    t = 2 * np.pi * np.arange(64) / 64  # E φφᵀ by the trapezoidal rule (exact here)
    phi = circle.fourier_features(t)
    m_inv = np.linalg.inv(phi.T @ phi / t.size)
    for H in (4, 5, 8):
        th = 0.7 + 2 * np.pi * np.arange(H) / H
        V = circle.multihead_error_covariance(th, beta, tau=tau, sigma=sigma)
        np.testing.assert_allclose(V, V.T, atol=1e-12)
        assert np.linalg.eigvalsh(V).min() > 0
        pts = tau * np.sqrt(5) * np.concatenate([np.eye(5), -np.eye(5)])
        Vz = circle.multihead_error_covariance(th, beta, tau=tau, sigma=sigma, z=pts)
        np.testing.assert_allclose(Vz.mean(0), V, rtol=1e-10, atol=1e-12)
        floor, v = circle.multihead_error_terms(th, beta, tau=tau, sigma=sigma)
        _, sv, Vt = np.linalg.svd(
            circle.fourier_features(th) * circle.smoothing_factors(beta)
        )
        null = Vt[(sv > 1e-10).sum() :]
        assert floor == pytest.approx(tau**2 * null.shape[0])
        shrink = 2 * sigma**2 * np.trace(null @ m_inv @ null.T)
        np.testing.assert_allclose(v, np.trace(V) - shrink, rtol=1e-12)
    with pytest.raises(ValueError, match="z"):
        circle.multihead_error_covariance(th, 3.0, tau=tau, sigma=0.5, z=np.zeros(4))
    with pytest.raises(ValueError, match="beta"):
        circle.multihead_error_covariance(th, 1e12, tau=tau, sigma=0.5)


@settings(max_examples=8, deadline=None)
@given(
    d=arrays(np.float64, st.integers(1, 3), elements=st.floats(-5, 5)),
    s=st.floats(0.1, 3.0),
)
def test_gaussian_tv_against_the_definition(d, s):
    """½∫|p − q| for N(d, s²I) and N(0, s²I): along d it is 2Φ(‖d‖/(2s)) − 1."""
    prec = np.eye(d.size) / s**2
    delta = np.linalg.norm(d) / s
    ref = 2 * stats.norm.cdf(delta / 2) - 1
    np.testing.assert_allclose(circle.gaussian_tv(d, prec), ref, atol=1e-15)
    half = (
        quad(
            lambda x: abs(stats.norm.pdf(x) - stats.norm.pdf(x - delta)),
            -12,
            12 + delta,
            points=[delta / 2],
            epsabs=1e-12,
        )[0]
        / 2
    )
    np.testing.assert_allclose(circle.gaussian_tv(d, prec), half, atol=1e-9)


# ------------------------------------------------------------------------- experiment
def test_attention_errors_against_oracles():
    tau, sigma, beta = 1.2, 0.4, 3.0
    s = circle.sample_circle_model(
        3, 40, np.random.default_rng(4), tau=tau, sigma=sigma
    )
    qa = np.array([0.2, 2.0, 4.1])
    e = circle.attention_errors(
        s, qa, [beta, beta], tau=tau, sigma=sigma, lengths=[10, 40]
    )
    phq = circle.fourier_features(qa)
    m_beta = s.z @ (circle.smoothing_factors(beta) * phq).T
    a = ive(0, beta)
    for i, L in enumerate([10, 40]):
        for r in range(3):
            K = circle.unit_circle(s.t[r, :L])
            att, w = softmax_attention_np(
                circle.unit_circle(qa), K, s.v[r, :L, None], beta
            )
            np.testing.assert_allclose(e.error[i, r], att[:, 0] - m_beta[r], atol=1e-12)
            raw = np.exp(beta * (np.cos(s.t[r, None, :L] - qa[:, None]) - 1))
            lin = (raw * (s.v[r, :L] - m_beta[r][:, None])).mean(-1) / a
            np.testing.assert_allclose(e.linear[i, r], lin, atol=1e-12)
        mu, Sig = circle.linear_gaussian_posterior(
            s.t[:, :L], s.v[:, :L], tau=tau, sigma=sigma
        )
        np.testing.assert_allclose(e.mu[i], mu, atol=1e-12)
        np.testing.assert_allclose(e.gap[i], (s.z - mu) @ phq.T, atol=1e-12)
        eps = s.v[:, :L] - np.einsum(
            "rlp,rp->rl", circle.fourier_features(s.t[:, :L]), s.z
        )
        noise = (
            -np.einsum(
                "qi,rij,rlj,rl->rq", phq, Sig, circle.fourier_features(s.t[:, :L]), eps
            )
            / sigma**2
        )
        np.testing.assert_allclose(e.gap_noise[i], noise, atol=1e-12)
        np.testing.assert_allclose(
            e.gap_var[i], np.einsum("qi,rij,qj->rq", phq, Sig, phq), atol=1e-14
        )
    np.testing.assert_allclose(e.bias[0], m_beta - s.z @ phq.T, atol=1e-14)
    with pytest.raises(ValueError, match="lengths"):
        circle.attention_errors(s, qa, beta, tau=tau, sigma=sigma, lengths=[40, 10])
    with pytest.raises(InputTypeError, match="sample"):
        circle.attention_errors(tuple(s), qa, beta, tau=tau, sigma=sigma)


def test_multihead_errors_against_a_direct_readout():
    tau, sigma, beta = 1.2, 0.4, 3.0
    s = circle.sample_circle_model(
        4, 30, np.random.default_rng(5), tau=tau, sigma=sigma
    )
    qa = 0.3 + 2 * np.pi * np.arange(5) / 5
    e = circle.attention_errors(s, qa, beta, tau=tau, sigma=sigma)
    mh = circle.multihead_errors(e, range(5), qa)
    A = np.linalg.pinv(circle.fourier_features(qa) * circle.smoothing_factors(beta))
    mu, Sig = circle.linear_gaussian_posterior(s.t, s.v, tau=tau, sigma=sigma)
    for r in range(4):
        att, _ = softmax_attention_np(
            circle.unit_circle(qa), s.K[r], s.v[r, :, None], beta
        )
        d = A @ att[:, 0] - mu[r]
        np.testing.assert_allclose(mh.sq_error[0, r], d @ d, rtol=1e-10)
        delta = math.sqrt(d @ np.linalg.solve(Sig[r], d))
        np.testing.assert_allclose(
            mh.tv[0, r], 2 * stats.norm.cdf(delta / 2) - 1, rtol=1e-9
        )
    np.testing.assert_allclose(mh.floor, 0.0, atol=1e-20)


def test_multihead_tv_limit_shape_and_rank():
    t5 = 2 * np.pi * np.arange(5) / 5
    d = circle.multihead_tv_limit(
        t5, 4.0, np.random.default_rng(0), 50, tau=1.0, sigma=0.5
    )
    assert d.shape == (50,) and np.all((d >= 0) & (d < 1))
    with pytest.raises(ValueError, match="rank"):
        circle.multihead_tv_limit(
            t5[:4], 4.0, np.random.default_rng(0), 5, tau=1.0, sigma=0.5
        )
