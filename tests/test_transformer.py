"""lib.transformer against independent computations.

Oracles: the sinusoidal table written out entry by entry with ``math.sin``/``math.cos``
in Python floats; causality checked by changing a later token; the predictive of
``next_token_probs`` against a softmax of the logits in NumPy. Hypothesis draws the
lengths, widths and token sequences.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from conftest import softmax_np
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.transformer import make_model, next_token_probs, sinusoidal_positions
from lib.validation import InputTypeError

FAST = settings(max_examples=20, deadline=None)


@FAST
@given(
    length=st.integers(0, 40),
    half=st.integers(1, 16),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_sinusoidal_positions_entry_by_entry(length, half, dtype):
    d = 2 * half
    table = sinusoidal_positions(length, d, dtype=dtype)
    assert table.shape == (length, d) and table.dtype == dtype
    want = np.empty((length, d))
    for t in range(length):
        for i in range(half):
            w = 10_000.0 ** (-2 * i / d)
            want[t, 2 * i], want[t, 2 * i + 1] = math.sin(t * w), math.cos(t * w)
    # float32 carries t·ω with relative error ~u32, so the angle is off by up to t·u32
    tol = 1e-12 if dtype == torch.float64 else 4e-7 * max(1, length)
    np.testing.assert_allclose(table.double().numpy(), want, atol=tol, rtol=0)


def test_sinusoidal_positions_rejects_bad_sizes():
    with pytest.raises(ValueError, match="d_model"):
        sinusoidal_positions(4, 5)
    with pytest.raises(InputTypeError, match="dtype"):
        sinusoidal_positions(4, 4, dtype=torch.int64)
    with pytest.raises(InputTypeError, match="length"):
        sinusoidal_positions(2.5, 4)


@functools.cache
def _model(positional: str):
    return make_model(3, 6, seed=0, d_model=8, n_layers=1, positional=positional)


@FAST
@given(
    x=st.lists(st.integers(0, 2), min_size=2, max_size=6),
    positional=st.sampled_from(["learned", "sinusoidal", "none"]),
    data=st.data(),
)
def test_predictions_are_causal_softmaxes_of_the_logits(x, positional, data):
    model = _model(positional)
    tokens = np.array([x])
    probs = next_token_probs(model, tokens)
    with torch.no_grad():
        logits = model(tokens).double().numpy()
    np.testing.assert_allclose(probs, softmax_np(logits), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-12)
    # row t is the law of x[t] given x[:t]: changing x[j] leaves rows 0..j alone
    j = data.draw(st.integers(0, len(x) - 1))
    changed = tokens.copy()
    changed[0, j] = (changed[0, j] + 1) % 3
    np.testing.assert_allclose(
        next_token_probs(model, changed)[:, : j + 1], probs[:, : j + 1], atol=1e-6
    )
