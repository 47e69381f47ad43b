"""lib.attention against independent NumPy/SciPy computations, plus property tests."""

import numpy as np
import pytest
import torch
from conftest import gaussian_gram_np, softmax_attention_np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.linalg import solve as scipy_solve
from scipy.spatial.distance import cdist

from lib.attention import (
    cme_attention,
    gaussian_kernel,
    nadaraya_watson,
    softmax_attention,
)

FAST = settings(max_examples=40, deadline=None)


_np_softmax_attention = softmax_attention_np


def _draw(rng, M=3, L=7, d=2, dv=3):
    return (
        rng.standard_normal((M, d)),
        rng.standard_normal((L, d)),
        rng.standard_normal((L, dv)),
    )


def test_softmax_attention_matches_numpy():
    rng = np.random.default_rng(0)
    q, K, V = _draw(rng)
    out, w = softmax_attention(q, K, V, beta=1.7, return_weights=True)
    ref, wref = _np_softmax_attention(q, K, V, 1.7)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w.numpy(), wref, rtol=1e-12, atol=1e-14)


def test_batched_equals_loop():
    rng = np.random.default_rng(1)
    q, K, V = (
        rng.standard_normal((4, 2, 3)),
        rng.standard_normal((4, 6, 3)),
        rng.standard_normal((4, 6, 2)),
    )
    out = softmax_attention(q, K, V, beta=0.8).numpy()
    for b in range(4):
        np.testing.assert_allclose(
            out[b], _np_softmax_attention(q[b], K[b], V[b], 0.8)[0], rtol=1e-12
        )
    # a grid of beta in one call
    betas = torch.tensor([0.5, 2.0], dtype=torch.float64).reshape(2, 1, 1, 1)
    grid = softmax_attention(q, K, V, beta=betas).numpy()
    np.testing.assert_allclose(
        grid[1], softmax_attention(q, K, V, beta=2.0).numpy(), rtol=1e-12
    )


@FAST
@given(seed=st.integers(0, 2**31 - 1), L=st.integers(1, 12), beta=st.floats(-5, 5))
def test_permutation_invariance_over_L(seed, L, beta):
    rng = np.random.default_rng(seed)
    q, K, V = _draw(rng, L=L)
    perm = rng.permutation(L)
    for f in (
        lambda K, V: softmax_attention(q, K, V, beta=beta),
        lambda K, V: nadaraya_watson(q, K, V, bandwidth=0.7),
        lambda K, V: cme_attention(q, K, V, bandwidth=0.7, lam=0.1),
    ):
        np.testing.assert_allclose(
            f(K, V).numpy(), f(K[perm], V[perm]).numpy(), rtol=1e-9, atol=1e-10
        )


@FAST
@given(seed=st.integers(0, 2**31 - 1), L=st.integers(1, 20), beta=st.floats(-50, 50))
def test_weights_sum_to_one_and_convex(seed, L, beta):
    rng = np.random.default_rng(seed)
    q, K, V = _draw(rng, L=L)
    out, w = softmax_attention(q, K, V, beta=beta, return_weights=True)
    np.testing.assert_allclose(w.sum(-1).numpy(), 1.0, atol=1e-12)
    assert torch.all(w >= 0)
    # a convex combination stays inside the range of the values
    assert torch.all(out <= torch.as_tensor(V).max(0).values + 1e-12)
    assert torch.all(out >= torch.as_tensor(V).min(0).values - 1e-12)


@FAST
@given(
    tq=st.lists(st.floats(0, 2 * np.pi), min_size=1, max_size=4),
    tk=st.lists(st.floats(0, 2 * np.pi), min_size=1, max_size=9),
    beta=st.floats(0.01, 300),
)
def test_softmax_equals_nadaraya_watson_on_the_circle(tq, tk, beta):
    """For unit-norm keys, exp(β q·k) = e^β exp(−β‖q − k‖²/2): β ↔ h = β^(−1/2)."""
    q = np.stack([np.cos(tq), np.sin(tq)], -1)
    K = np.stack([np.cos(tk), np.sin(tk)], -1)
    V = np.arange(len(tk), dtype=float)[:, None] ** 2
    a = softmax_attention(q, K, V, beta=beta).numpy()
    b = nadaraya_watson(q, K, V, bandwidth=beta**-0.5).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * V.max())


def test_nadaraya_watson_matches_direct_kernel_smoother():
    rng = np.random.default_rng(2)
    q, K, V = _draw(rng, L=9, d=3)
    h = 1.3
    W = np.exp(-cdist(q, K, "sqeuclidean") / (2 * h * h))
    ref = W @ V / W.sum(-1, keepdims=True)
    np.testing.assert_allclose(
        nadaraya_watson(q, K, V, bandwidth=h).numpy(), ref, rtol=1e-12
    )


@pytest.mark.parametrize("fn", ["softmax", "nw", "cme"])
def test_single_token_returns_its_value(fn):
    q, K, V = (
        np.array([[0.3, -1.0], [2.0, 0.5]]),
        np.array([[1.0, 2.0]]),
        np.array([[4.0, -7.0]]),
    )
    if fn == "softmax":
        out = softmax_attention(q, K, V, beta=3.0)
    elif fn == "nw":
        out = nadaraya_watson(q, K, V, bandwidth=0.1)
    else:  # kernel ridge with lam = 0 interpolates the single value at its own key
        out = cme_attention(K, K, V, bandwidth=0.5, lam=0.0)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(V, out.shape), rtol=1e-12)


def test_cme_matches_independent_kernel_ridge_solve():
    rng = np.random.default_rng(3)
    L, h, lam = 40, 0.8, 0.05
    q, K, V = (
        rng.standard_normal((5, 2)),
        rng.standard_normal((L, 2)),
        rng.standard_normal((L, 2)),
    )
    G = np.exp(-cdist(K, K, "sqeuclidean") / (2 * h * h))
    kq = np.exp(-cdist(q, K, "sqeuclidean") / (2 * h * h))
    ref = kq @ scipy_solve(G + L * lam * np.eye(L), V, assume_a="pos")
    np.testing.assert_allclose(
        cme_attention(q, K, V, bandwidth=h, lam=lam).numpy(),
        ref,
        rtol=1e-10,
        atol=1e-12,
    )
    np.testing.assert_allclose(gaussian_kernel(q, K, h).numpy(), kq, rtol=1e-12)


def test_cme_is_batched():
    rng = np.random.default_rng(4)
    q, K, V = (
        rng.standard_normal((3, 4, 2)),
        rng.standard_normal((3, 10, 2)),
        rng.standard_normal((3, 10, 1)),
    )
    out = cme_attention(q, K, V, bandwidth=0.6, lam=0.01).numpy()
    for b in range(3):
        np.testing.assert_allclose(
            out[b],
            cme_attention(q[b], K[b], V[b], bandwidth=0.6, lam=0.01).numpy(),
            rtol=1e-10,
        )


def test_stable_at_huge_scores():
    """|β q·k| ~ 1e4: no overflow; the softmax becomes hard attention on the best."""
    q = np.array([[1.0, 0.0]])
    K = np.array([[1.0, 0.0], [0.99, 0.141], [-1.0, 0.0]])
    V = np.array([[1.0], [2.0], [3.0]])
    for beta in (1e4, -1e4, 1e6):
        out, w = softmax_attention(q, K, V, beta=beta, return_weights=True)
        assert torch.all(torch.isfinite(out)) and torch.all(torch.isfinite(w))
        best = np.argmax(beta * (K @ q[0]))
        np.testing.assert_allclose(out.numpy(), V[best][None], rtol=1e-12)
    out = nadaraya_watson(q, K * 100, V, bandwidth=1e-3)
    assert torch.all(torch.isfinite(out))


def test_value_errors():
    q, K, V = np.zeros((2, 2)), np.zeros((3, 2)), np.zeros((3, 1))
    with pytest.raises(ValueError, match="K and V"):
        softmax_attention(q, K, np.zeros((4, 1)))
    with pytest.raises(ValueError, match="dimension"):
        softmax_attention(np.zeros((2, 3)), K, V)
    with pytest.raises(ValueError, match="^K must"):
        softmax_attention(q, np.zeros((0, 2)), np.zeros((0, 1)))
    with pytest.raises(ValueError, match="batch"):
        softmax_attention(np.zeros((2, 2, 2)), np.zeros((3, 3, 2)), np.zeros((3, 3, 1)))
    with pytest.raises(ValueError, match="finite"):
        softmax_attention(q, np.full((3, 2), np.nan), V)
    with pytest.raises(ValueError, match="beta"):
        softmax_attention(q, K, V, beta=float("inf"))
    with pytest.raises(ValueError, match="at least 2"):
        softmax_attention(np.zeros(2), K, V)
    for h in (0.0, -1.0):
        with pytest.raises(ValueError, match="bandwidth"):
            nadaraya_watson(q, K, V, bandwidth=h)
        with pytest.raises(ValueError, match="bandwidth"):
            cme_attention(q, K, V, bandwidth=h, lam=0.1)
        with pytest.raises(ValueError, match="bandwidth"):
            gaussian_kernel(q, K, bandwidth=h)
    with pytest.raises(ValueError, match="lam"):
        cme_attention(q, K, V, bandwidth=1.0, lam=-0.1)


def test_cme_singular_gram_raises_value_error():
    """lam = 0 with a repeated key makes G singular: a ValueError naming lam and the
    bandwidth (not torch's LinAlgError); any lam > 0 makes G + Lλ I solvable."""
    K = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    q, V = np.array([[0.6, 0.8]]), np.arange(3.0)[:, None]
    with pytest.raises(ValueError, match="lam.*bandwidth"):
        cme_attention(q, K, V, bandwidth=0.5, lam=0.0)
    assert torch.all(torch.isfinite(cme_attention(q, K, V, bandwidth=0.5, lam=1e-3)))


def test_softmax_beta_that_does_not_broadcast_raises_value_error():
    q, K, V = np.zeros((2, 2)), np.zeros((3, 2)), np.zeros((3, 1))
    with pytest.raises(ValueError, match="beta"):
        softmax_attention(q, K, V, beta=torch.ones(4, dtype=torch.float64))
    # a grid of β in leading dimensions still broadcasts
    assert softmax_attention(
        q, K, V, beta=torch.ones(5, 1, 1, dtype=torch.float64)
    ).shape == (5, 2, 1)


# ------------------------------------------------------------------------ fused path
finite = st.floats(-3, 3, allow_nan=False, width=32)


@FAST
@given(
    q=hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=2, max_dims=3, max_side=5),
        elements=finite,
    ),
    L=st.integers(1, 9),
    dv=st.integers(1, 3),
    beta=st.floats(-4, 4, width=32),
    data=st.data(),
)
def test_fused_path_equals_explicit_softmax(q, L, dv, beta, data):
    """The fused (SDPA) output equals the explicit weights' output, float32 and 64."""
    d = q.shape[-1]
    K = data.draw(hnp.arrays(np.float32, (*q.shape[:-2], L, d), elements=finite))
    V = data.draw(hnp.arrays(np.float32, (*q.shape[:-2], L, dv), elements=finite))
    for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-12)):
        args = [torch.as_tensor(a, dtype=dtype) for a in (q, K, V)]
        fused = softmax_attention(*args, beta=beta)
        explicit, _ = softmax_attention(*args, beta=beta, return_weights=True)
        assert fused.dtype == dtype
        torch.testing.assert_close(fused, explicit, rtol=tol, atol=tol)


def test_beta_grid_and_gradient_through_the_fused_path():
    rng = np.random.default_rng(3)
    q, K, V = (torch.as_tensor(a) for a in _draw(rng, M=4, L=6))
    betas = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64).reshape(3, 1, 1)
    betas.requires_grad_(True)
    out = softmax_attention(q, K, V, beta=betas)
    out.sum().backward()
    for i, b in enumerate([0.3, 1.0, 2.5]):
        ref, _ = _np_softmax_attention(q.numpy(), K.numpy(), V.numpy(), b)
        np.testing.assert_allclose(out[i].detach().numpy(), ref, rtol=1e-12)
        # d/dβ by central differences on the oracle
        eps = 1e-6
        up = _np_softmax_attention(q.numpy(), K.numpy(), V.numpy(), b + eps)[0]
        dn = _np_softmax_attention(q.numpy(), K.numpy(), V.numpy(), b - eps)[0]
        fd = (up - dn).sum() / (2 * eps)
        assert betas.grad[i].item() == pytest.approx(fd, rel=1e-6)


def test_overflowing_scores_fall_back_to_float64():
    """β q·k beyond float32's range: the float32 call still returns the hard maximum."""
    q = torch.tensor([[1.0, 0.0]])
    K = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    V = torch.tensor([[1.0], [2.0]])
    out = softmax_attention(q, K, V, beta=3e38)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([[1.0]]))
    with pytest.raises(FloatingPointError, match="overflow"):
        softmax_attention(q.double() * 1e200, K.double() * 1e200, V.double(), 1e100)


def test_far_from_origin_kernels_keep_their_precision():
    """‖x‖ = 1e8: distances by differences, not ‖x‖² + ‖y‖² − 2x·y (0.607, not 1.0)."""
    X = np.array([[1e8, 0.0]])
    Y = np.array([[1e8 + 1.0, 0.0], [1e8 - 2.0, 0.0]])
    np.testing.assert_allclose(
        gaussian_kernel(X, Y, 1.0).numpy(),
        gaussian_gram_np(X - 1e8, Y - 1e8, 1.0),
        rtol=1e-12,
    )
    V = np.array([[1.0], [0.0]])
    w = gaussian_gram_np(X - 1e8, Y - 1e8, 1.0)
    ref = w @ V / w.sum()
    np.testing.assert_allclose(
        nadaraya_watson(X, Y, V, bandwidth=1.0).numpy(), ref, rtol=1e-9
    )


@pytest.mark.parametrize(
    "q_shape,k_shape",
    [((5, 3), (2, 7, 3)), ((2, 5, 3), (7, 3)), ((4, 1, 5, 3), (1, 2, 7, 3))],
)
def test_nadaraya_watson_broadcasts_batches_and_has_gradients(q_shape, k_shape):
    """Batch dimensions of q and K broadcast (the keys' term reaches the fused kernel
    as a mask of the keys' batch shape); the gradient is the analytic one."""
    rng = np.random.default_rng(3)
    q, K = rng.standard_normal(q_shape), rng.standard_normal(k_shape)
    V = rng.standard_normal((*k_shape[:-1], 2))
    sq = ((q[..., :, None, :] - K[..., None, :, :]) ** 2).sum(-1)
    w = np.exp(-sq / (2 * 0.8**2))
    ref = (w / w.sum(-1, keepdims=True)) @ V
    out = nadaraya_watson(q, K, V, bandwidth=0.8)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-14)
    qt = torch.tensor(q, requires_grad=True)
    Kt = torch.tensor(K, requires_grad=True)
    Vt = torch.tensor(V)
    assert torch.autograd.gradcheck(
        lambda a, b: nadaraya_watson(a, b, Vt, bandwidth=0.8), (qt, Kt)
    )


@pytest.mark.parametrize("h", [1e-200, 1e-160])
def test_bandwidth_whose_inverse_square_overflows_is_named(h):
    q, K, V = np.zeros((1, 2)), np.zeros((2, 2)), np.zeros((2, 1))
    for call in (
        lambda: nadaraya_watson(q, K, V, bandwidth=h),
        lambda: gaussian_kernel(q, K, bandwidth=h),
        lambda: cme_attention(q, K, V, bandwidth=h, lam=1.0),
    ):
        with pytest.raises(ValueError, match="bandwidth"):
            call()


@pytest.mark.parametrize(
    "bad, name",
    [
        (torch.zeros(2, 2, dtype=torch.bool), "q"),
        (torch.zeros(2, 2, dtype=torch.complex64), "q"),
        ("abc", "q"),
        ([[1.0, 2.0], [3.0]], "q"),
    ],
)
def test_wrong_kinds_raise_type_errors_naming_the_argument(bad, name):
    K, V = np.zeros((3, 2)), np.zeros((3, 1))
    with pytest.raises(TypeError, match=name):
        softmax_attention(bad, K, V)


def test_non_finite_inputs_are_named_on_the_fused_path():
    q, K, V = torch.zeros(2, 2), torch.zeros(3, 2), torch.zeros(3, 1)
    for name, args in {
        "q": (q.clone().fill_(np.nan), K, V),
        "K": (q, K.clone().fill_(np.inf), V),
        "V": (q, K, V.clone().fill_(np.nan)),
    }.items():
        with pytest.raises(ValueError, match=f"^{name} must be finite"):
            softmax_attention(*args)
        with pytest.raises(ValueError, match=f"^{name} must be finite"):
            nadaraya_watson(*args, bandwidth=1.0)
