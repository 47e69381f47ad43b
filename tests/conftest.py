"""Oracles shared by the tests: plain NumPy computations that do not use lib.

Each is written from its defining formula, independently of the code under test.
Chapter-specific oracles stay in their own test module; one that two modules need
moves here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import settings
from scipy.spatial.distance import cdist

# The tests run on two pytest-xdist workers sharing two cores, on tiny tensors: torch's
# default (one thread per core, per worker) oversubscribes the machine and makes small
# kernels 10-100 times slower. This module is imported before any test or doctest runs.
torch.set_num_threads(1)

# Property tests check values, not speed. Hypothesis's default 200 ms deadline per
# example fails a test whose first example ran while the machine was busy (a worker
# running a chapter beside it): no deadlines, in every test module.
settings.register_profile("book", deadline=None)
settings.load_profile("book")


def softmax_np(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(s) / Σ exp(s)`` along ``axis``, with the max subtracted."""
    s = np.asarray(scores, dtype=float)
    w = np.exp(s - s.max(axis=axis, keepdims=True))
    return w / w.sum(axis=axis, keepdims=True)


def softmax_attention_np(q, K, V, beta: float):
    """``softmax(β q Kᵀ) V`` for 2-d ``q (M, d)``, ``K (L, d)``, ``V (L, d_v)``."""
    w = softmax_np(beta * np.asarray(q) @ np.asarray(K).T)
    return w @ np.asarray(V), w


def gaussian_gram_np(X, Y, h: float) -> np.ndarray:
    """``exp(-‖x_i - y_j‖² / (2h²))`` from scipy's pairwise distances."""
    return np.exp(
        -cdist(np.atleast_2d(X), np.atleast_2d(Y), "sqeuclidean") / (2 * h * h)
    )


@pytest.fixture
def oracles():
    """The shared oracles as a namespace, for tests that prefer a fixture."""

    class Oracles:
        softmax = staticmethod(softmax_np)
        softmax_attention = staticmethod(softmax_attention_np)
        gaussian_gram = staticmethod(gaussian_gram_np)

    return Oracles
