"""lib.validation: accepts good input, names the argument when it refuses."""

import numpy as np
import pytest

from lib.validation import (
    check_binary,
    check_int,
    check_positive,
    check_probability,
    check_rng,
)


def test_check_positive():
    assert check_positive("a", 2) == 2.0
    assert check_positive("a", 0, allow_zero=True) == 0.0
    for bad in (0, -1, float("nan"), float("inf"), "1", True, None):
        with pytest.raises(ValueError, match="^a "):
            check_positive("a", bad)


def test_check_int():
    assert check_int("n", np.int64(3), minimum=0) == 3
    for bad, kw in ((2.5, {}), (-1, {"minimum": 0}), (5, {"maximum": 4}), (True, {})):
        with pytest.raises(ValueError, match="^n "):
            check_int("n", bad, **kw)


def test_check_probability_and_binary():
    np.testing.assert_array_equal(check_probability("p", [0, 0.5, 1]), [0, 0.5, 1])
    with pytest.raises(ValueError, match="^p "):
        check_probability("p", [0.5, 1.1])
    np.testing.assert_array_equal(check_binary("x", [[0, 1], [1, 1]]), [[0, 1], [1, 1]])
    with pytest.raises(ValueError, match="^x "):
        check_binary("x", [0, 2])


def test_check_rng():
    rng = np.random.default_rng(0)
    assert check_rng("rng", rng) is rng
    with pytest.raises(ValueError, match="^rng "):
        check_rng("rng", 0)


def test_check_broadcast_names_every_argument_and_rejects_non_shapes():
    from lib.validation import InputTypeError, check_broadcast

    assert check_broadcast("s", {"a": (2, 1), "b": (3,), "c": ()}) == (2, 3)
    with pytest.raises(ValueError, match=r"the shapes of a \(3,\), b \(4,\)"):
        check_broadcast("the shapes", {"a": (3,), "b": (4,)})
    for bad in ({}, {"a": "ab"}, {"a": (2.5,)}, {"a": (-1,)}, {"a": (True,)}):
        with pytest.raises(InputTypeError, match="shape"):
            check_broadcast("s", bad)
