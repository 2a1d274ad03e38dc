"""float64 values as text, fast: exactly the texts of Python's repr.

repr writes the shortest decimal that reads back to the same float64 (David Gay's dtoa),
which is what `predict` promises, but it costs about 0.6 µs a value: most of the time of a
large predict. orjson (a dependency) writes a whole NumPy array
with the same shortest digits at about 0.05 µs a value (checked against repr on 20 million
values: random bit patterns and every decade).
Its notation differs from repr's in one range only, 1e-9 ≤ |x| < 1e-4 (``0.00001`` or
``1e-6`` where repr writes ``1e-05``, ``1e-06``), where its texts are rewritten in
repr's notation (the digits are the same), and it writes inf and NaN as ``null``: those
go through repr. So the result is repr's text for every value; tests/test_floattext.py
checks that on 850,000 values of every kind.
"""

from __future__ import annotations

import numpy as np

try:  # a dependency; should it fail to load, repr value by value gives the same texts
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

# orjson's notation differs from repr's for 1e-9 <= |x| < 1e-4 (with a margin below, for
# values whose shortest digits round up a decade): from SMALL to MIDDLE it writes d.ddde-N
# where repr writes d.ddde-0N; from MIDDLE to REPR_BELOW 0.0000ddd for d.ddde-05. Both
# are rewritten here.
SMALL = 1e-11
MIDDLE = 1e-5
REPR_BELOW = 1e-4


def fast() -> bool:
    """True when orjson is installed and `float64_texts` uses it."""
    return orjson is not None


def float64_texts(values: np.ndarray) -> list[str]:
    """[repr(v) for v in values] for a float64 vector, computed faster where possible."""
    if orjson is None or len(values) == 0:
        return [repr(value) for value in values.tolist()]
    values = np.ascontiguousarray(values, dtype=np.float64)
    cells = _texts(values)
    size = np.abs(values)
    small = np.flatnonzero((size >= SMALL) & (size < MIDDLE))
    if len(small):
        _put(cells, small, _padded_exponents(values[small]))
    middle = np.flatnonzero((size >= MIDDLE) & (size < REPR_BELOW))
    if len(middle):
        _put(cells, middle, _shifted_point(values[middle]))
    infinite = np.flatnonzero(~np.isfinite(values))
    if len(infinite):  # orjson writes null
        _put(cells, infinite, list(map(repr, values[infinite].tolist())))
    return cells


def _texts(values: np.ndarray) -> list[str]:
    return orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode("ascii").split(",")


def _put(cells: list[str], where: np.ndarray, texts: list[str]) -> None:
    for index, text in zip(where.tolist(), texts):
        cells[index] = text


def _padded_exponents(values: np.ndarray) -> list[str]:
    """Texts of values with SMALL <= |x| < MIDDLE: orjson's d.ddde-N with repr's two
    exponent digits, d.ddde-0N. (Should orjson write one of them otherwise, they all go
    through repr.)"""
    text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1] + b","
    if text.count(b"e-") != len(values):
        return list(map(repr, values.tolist()))
    for digit in b"56789":
        text = text.replace(b"e-%c," % digit, b"e-0%c," % digit)
    return text[:-1].decode("ascii").split(",")


def _shifted_point(values: np.ndarray) -> list[str]:
    """Texts of values with MIDDLE <= |x| < REPR_BELOW: orjson's 0.0000ddd as repr writes
    it, d.dde-05. (Should orjson write one of them otherwise, they all go through repr.)"""
    text = orjson.dumps(np.abs(values), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
    if b"e" in text or text.count(b"0.0000") != len(values):
        return list(map(repr, values.tolist()))
    digits = text.replace(b"0.0000", b"").decode("ascii").split(",")
    signs = np.where(values < 0, "-", "").tolist()
    return [
        f"{sign}{d[0]}.{d[1:]}e-05" if len(d) > 1 else f"{sign}{d}e-05"
        for sign, d in zip(signs, digits)
    ]


def _probe_values() -> np.ndarray:
    """Values whose texts differ most between notations: every decade from the smallest
    subnormal to the largest float64, with several digit counts, both signs, and ±0, ±inf,
    nan."""
    with np.errstate(all="ignore"):  # the subnormal decades underflow, 1.5e308 overflows
        decades = 10.0 ** np.arange(-323, 309, dtype=np.float64)
        values = np.concatenate([decades, decades * 1.5, decades * 1.2345678901234567, [5e-324, 0.0]])
        values = values[np.isfinite(values)]
    return np.concatenate([values, -values, [np.inf, -np.inf, np.nan, 2.0**53 + 2, 0.1 + 0.2]])


def _check_orjson() -> None:
    """Use orjson only if it writes repr's texts for the probe values (versions before 3.11.7
    wrote 1e16 where repr writes 1e+16); otherwise repr, value by value."""
    global orjson
    if orjson is None:
        return
    values = _probe_values()
    try:
        same = float64_texts(values) == [repr(value) for value in values.tolist()]
    except Exception:  # pragma: no cover - an orjson that cannot serialize NumPy arrays
        same = False
    if not same:
        orjson = None


_check_orjson()
