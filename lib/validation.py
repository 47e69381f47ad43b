"""Input validation: the one set of rules every public function of ``lib`` uses.

Every check either returns a clean value (a Python ``float``/``int``, a NumPy array
or a torch tensor of the stated dtype) or raises an error whose message names the
argument and the rule it broke:

- :class:`InputTypeError` (a ``TypeError``, and also a ``ValueError`` so that callers
  who catch ``ValueError`` for every bad input keep working) for a value of the wrong
  *kind*: a string, ``None``, a ``bool`` where a number is meant, a complex number, a
  ragged list, a float where an integer is meant, an array where a scalar is meant;
- ``ValueError`` for a value of the right kind outside its domain: NaN, ±inf, a
  negative variance, a probability above 1, a wrong shape.

Nothing is coerced silently: ``True`` is not 1, ``2.5`` is not an integer, ``1 + 0j``
is not a real number. A result that overflows is the callee's to report:
:func:`check_finite_result` raises ``FloatingPointError``, and :class:`AccuracyWarning`
flags a number that is finite but known to be inaccurate.

Examples
--------
>>> check_positive("sigma", 2)
2.0
>>> check_int("L", 2.5)
Traceback (most recent call last):
...
lib.validation.InputTypeError: L must be an integer, got 2.5
>>> check_array("x", [[0.0, 1.0]], ndim=2).shape
(1, 2)
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "AccuracyWarning",
    "InputTypeError",
    "check_array",
    "check_binary",
    "check_broadcast",
    "check_bool",
    "check_choice",
    "check_finite_result",
    "check_int",
    "check_int_array",
    "check_positive",
    "check_probability",
    "check_real",
    "check_rng",
    "check_tensor",
]


class InputTypeError(TypeError, ValueError):
    """A value of the wrong kind (a ``TypeError`` that is also a ``ValueError``)."""


class AccuracyWarning(UserWarning):
    """A result is finite but known to be less accurate than the function promises."""


def _is_real_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_integer(value) -> bool:
    """A Python or NumPy integer, not a bool."""
    is_bool = isinstance(value, (bool, np.bool_))
    return isinstance(value, numbers.Integral) and not is_bool


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# The options of the checks (bounds, ndim, flags) are the developer's, not the user's:
# a bad one is still named, together with the argument whose check it configures.
def _option_real(name: str, option: str, value) -> float | None:
    if value is None:
        return None
    if not _is_real_number(value):
        raise InputTypeError(
            f"{name}: the option {option} must be a real number or None,"
            f" got {_describe(value)}"
        )
    v = float(value)
    if v != v:
        raise ValueError(f"{name}: the option {option} must not be NaN")
    return v


def _option_int(name: str, option: str, value) -> int | None:
    if value is None:
        return None
    if not _is_integer(value):
        raise InputTypeError(
            f"{name}: the option {option} must be an integer or None,"
            f" got {_describe(value)}"
        )
    return int(value)


def _option_flag(name: str, option: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(
            f"{name}: the option {option} must be True or False, got {_describe(value)}"
        )
    return bool(value)


# ----------------------------------------------------------------------------- scalars
def check_real(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``float(value)`` for a real number (not bool, not complex) in an interval.

    The interval is ``[low, high]``; ``low_open``/``high_open`` exclude an end. NaN is
    always rejected, ±inf unless ``allow_inf``. A 0-d array counts as a scalar.
    """
    low = _option_real(name, "low", low)
    high = _option_real(name, "high", high)
    low_open = _option_flag(name, "low_open", low_open)
    high_open = _option_flag(name, "high_open", high_open)
    allow_inf = _option_flag(name, "allow_inf", allow_inf)
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        value = value.item()
    if not _is_real_number(value):
        raise InputTypeError(f"{name} must be a real number, got {_describe(value)}")
    v = float(value)
    if np.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    if np.isinf(v) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {v!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(
            f"{name} must be {'<' if high_open else '<='} {high}, got {v!r}"
        )
    return v


def check_positive(
    name: str, value, *, allow_zero: bool = False, allow_inf: bool = False
) -> float:
    """Return ``float(value)`` for a number > 0 (>= 0 with ``allow_zero``)."""
    allow_zero = _option_flag(name, "allow_zero", allow_zero)
    return check_real(
        name, value, low=0.0, low_open=not allow_zero, allow_inf=allow_inf
    )


def check_probability(name: str, value, *, open_interval: bool = False):
    """A probability: a float in [0, 1] (or (0, 1)), or an array of them.

    Scalars come back as ``float``, anything else as a float64 array.
    """
    open_interval = _option_flag(name, "open_interval", open_interval)
    if isinstance(value, numbers.Number) or (
        isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0
    ):
        return check_real(
            name,
            value,
            low=0.0,
            high=1.0,
            low_open=open_interval,
            high_open=open_interval,
        )
    p = check_array(name, value)
    bad = (p <= 0) | (p >= 1) if open_interval else (p < 0) | (p > 1)
    if np.any(bad):
        rule = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must lie in {rule}, got {_describe(value)}")
    return p


def check_int(
    name: str, value, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``int(value)`` for an integer (Python or NumPy; not bool, not 2.0)."""
    minimum = _option_int(name, "minimum", minimum)
    maximum = _option_int(name, "maximum", maximum)
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        value = value.item()
    if not _is_integer(value):
        raise InputTypeError(f"{name} must be an integer, got {_describe(value)}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {v}")
    return v


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (a flag; not 0, 1 or "no")."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def check_choice(name: str, value, options: Sequence):
    """Return ``value`` if it is one of ``options``."""
    if not isinstance(value, str) and isinstance(value, Sequence):
        raise InputTypeError(f"{name} must be one of {list(options)}, got {value!r}")
    if value not in options:
        raise ValueError(
            f"{name} must be one of {list(options)}, got {_describe(value)}"
        )
    return value


def check_rng(name: str, rng) -> np.random.Generator:
    """Require an explicitly seeded ``numpy.random.Generator`` (no global state)."""
    if not isinstance(rng, np.random.Generator):
        raise InputTypeError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0),"
            f" got {_describe(rng)}"
        )
    return rng


# ----------------------------------------------------------------------------- arrays
def _shape_rule(
    name: str,
    shape: tuple[int, ...],
    ndim: int | None,
    min_ndim: int | None,
    shape_rule: tuple | None,
) -> None:
    ndim = _option_int(name, "ndim", ndim)
    min_ndim = _option_int(name, "min_ndim", min_ndim)
    if ndim is not None and len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {shape}")
    if min_ndim is not None and len(shape) < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {shape}"
        )
    if shape_rule is not None:
        tail = shape[len(shape) - len(shape_rule) :]
        if len(shape) < len(shape_rule) or any(
            want is not None and want != got
            for want, got in zip(shape_rule, tail, strict=True)
        ):
            want = tuple("*" if w is None else w for w in shape_rule)
            raise ValueError(f"{name} must have shape (..., {want}), got {shape}")


def _numeric_array(name: str, value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, (str, bytes)):
        raise InputTypeError(f"{name} must be numeric, got {_describe(value)}")
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nested lists
        raise InputTypeError(f"{name} must be a rectangular numeric array") from None
    if arr.dtype == object:
        raise InputTypeError(
            f"{name} must be a rectangular numeric array, got {_describe(value)}"
        )
    if arr.dtype.kind == "b":
        raise InputTypeError(f"{name} must be numeric, not boolean")
    if arr.dtype.kind == "c":
        raise InputTypeError(f"{name} must be real, got a complex array")
    if arr.dtype.kind not in "iuf":
        raise InputTypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr


def check_array(
    name: str,
    value,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    shape: tuple | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    nonempty: bool = True,
    finite: bool = True,
    dtype=np.float64,
) -> np.ndarray:
    """Return ``value`` as a real NumPy array (always a copy) that obeys the rules.

    ``shape`` constrains the trailing axes (``None`` for any length), e.g.
    ``shape=(None, 2)`` for ``(..., n, 2)``. Booleans, complex numbers, strings,
    ``None`` and ragged lists raise :class:`InputTypeError`; NaN/inf (with ``finite``),
    an empty array (with ``nonempty``) or values outside ``[low, high]`` raise
    ``ValueError``.
    """
    low = _option_real(name, "low", low)
    high = _option_real(name, "high", high)
    low_open = _option_flag(name, "low_open", low_open)
    nonempty = _option_flag(name, "nonempty", nonempty)
    finite = _option_flag(name, "finite", finite)
    arr = _numeric_array(name, value).astype(dtype, copy=True)
    _shape_rule(name, arr.shape, ndim, min_ndim, shape)
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if low is not None and np.any((arr <= low) if low_open else (arr < low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}")
    if high is not None and np.any(arr > high):
        raise ValueError(f"{name} must be <= {high}")
    return arr


def check_int_array(
    name: str,
    value,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    shape: tuple | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    nonempty: bool = True,
) -> np.ndarray:
    """Return ``value`` as an int64 array of integers in ``[minimum, maximum]``.

    Floats with integer values (``3.0``) are accepted, ``2.5`` is not.
    """
    minimum = _option_int(name, "minimum", minimum)
    maximum = _option_int(name, "maximum", maximum)
    nonempty = _option_flag(name, "nonempty", nonempty)
    arr = _numeric_array(name, value)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InputTypeError(
                f"{name} must contain integers, got {_describe(value)}"
            )
        if arr.size and np.max(np.abs(arr)) >= 2.0**63:
            raise ValueError(f"{name} is too large for a 64-bit integer")
    arr = arr.astype(np.int64)
    _shape_rule(name, arr.shape, ndim, min_ndim, shape)
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if minimum is not None and np.any(arr < minimum):
        raise ValueError(f"{name} must be >= {minimum}")
    if maximum is not None and np.any(arr > maximum):
        raise ValueError(f"{name} must be <= {maximum}")
    return arr


def check_binary(name: str, value, *, min_ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as an int64 array whose entries are all 0 or 1."""
    arr = check_int_array(name, value, min_ndim=min_ndim, nonempty=False)
    if np.any((arr != 0) & (arr != 1)):
        raise ValueError(f"{name} must contain only 0 and 1")
    return arr


def check_tensor(
    name: str,
    value,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    shape: tuple | None = None,
    dtype: torch.dtype | None = None,
    finite: bool = True,
    nonempty: bool = True,
) -> torch.Tensor:
    """Return ``value`` as a real floating torch tensor (float64 unless it floats).

    Cheap on tensors (no copy when the dtype already fits): this is the check on the hot
    path of attention. Non-float tensors and array-likes are converted to ``dtype`` (or
    float64); complex and boolean inputs raise :class:`InputTypeError`.
    """
    finite = _option_flag(name, "finite", finite)
    nonempty = _option_flag(name, "nonempty", nonempty)
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise InputTypeError(f"{name} must be real, got a complex tensor")
        if value.dtype == torch.bool:
            raise InputTypeError(f"{name} must be numeric, not boolean")
        t = value
        if dtype is not None and t.dtype != dtype:
            t = t.to(dtype)
        elif not t.is_floating_point():
            t = t.to(torch.float64)
    else:
        t = torch.from_numpy(_numeric_array(name, value).astype(np.float64))
        if dtype is not None:
            t = t.to(dtype)
    _shape_rule(name, tuple(t.shape), ndim, min_ndim, shape)
    if nonempty and t.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    if finite and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return t


def check_broadcast(what: str, shapes: dict) -> tuple[int, ...]:
    """The common broadcast shape of ``shapes`` (argument name → its shape).

    Raises ``ValueError`` naming every argument and its shape if they do not broadcast
    together; ``what`` says which part of the arguments is meant.

    >>> check_broadcast("the shapes", {"n": (3, 1), "beta": (4,)})
    (3, 4)
    """
    if not isinstance(what, str):
        raise InputTypeError(f"what must be a string, got {_describe(what)}")
    if not isinstance(shapes, dict) or not shapes:
        raise InputTypeError(
            f"shapes must be a non-empty dict (name → shape), got {_describe(shapes)}"
        )
    for name, shape in shapes.items():
        if not (
            isinstance(shape, tuple | list)
            and all(_is_integer(d) and d >= 0 for d in shape)
        ):
            raise InputTypeError(
                f"shapes[{name!r}] must be a tuple of non-negative integers,"
                f" got {_describe(shape)}"
            )
    try:
        return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes.values())))
    except ValueError:
        listed = ", ".join(f"{name} {tuple(s)}" for name, s in shapes.items())
        raise ValueError(f"{what} of {listed} do not broadcast together") from None


# ----------------------------------------------------------------------------- results
def check_finite_result(name: str, value):
    """Raise ``FloatingPointError`` if a result holds NaN or inf; else return it.

    For results whose inputs were valid but whose evaluation overflowed: a function says
    so instead of handing back a silent NaN.
    """
    if isinstance(value, torch.Tensor):
        ok = bool(torch.isfinite(value).all())
    else:
        try:
            arr = np.asarray(value)
        except ValueError:  # ragged nested lists
            arr = np.asarray(None)
        if arr.dtype.kind not in "biufc":
            raise InputTypeError(
                f"{name} must be a numeric result, got {_describe(value)}"
            )
        ok = bool(np.all(np.isfinite(arr)))
    if not ok:
        raise FloatingPointError(
            f"{name} could not be computed in floating point (overflow or 0/0)"
            " for these inputs"
        )
    return value
