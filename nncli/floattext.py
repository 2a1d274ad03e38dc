"""float64 values as text, fast: exactly the texts of Python's repr.

repr writes the shortest decimal that reads back to the same float64 (David Gay's dtoa),
which is what `predict` promises, but it costs about 0.6 µs a value: most of the time of a
large predict. orjson (optional, ``pip install 'nncli[fast]'``) writes a whole NumPy array
with the Ryū algorithm, which finds the same shortest digits, at about 0.05 µs a value.
Its notation differs from repr's in one range only, 1e-9 ≤ |x| < 1e-4 (``0.00001`` or
``1e-5`` where repr writes ``1e-05``), and it writes inf and NaN as ``null``: those values
(and a margin around the range) are written by repr itself, so the result is repr's text
for every value. tests/test_floattext.py checks that on millions of values.
"""

from __future__ import annotations

import numpy as np

try:  # the optional accelerator
    import orjson
except ImportError:  # without it: repr, value by value
    orjson = None

# |x| in [REPR_BELOW_LOW, REPR_BELOW) is written by repr: orjson's notation differs there
# (from 1e-9 to 1e-4; the margin covers values whose shortest digits round up a decade).
REPR_BELOW = 1e-4
REPR_BELOW_LOW = 1e-11


def fast() -> bool:
    """True when orjson is installed and `float64_texts` uses it."""
    return orjson is not None


def float64_texts(values: np.ndarray) -> list[str]:
    """[repr(v) for v in values] for a float64 vector, computed faster where possible."""
    if orjson is None or len(values) == 0:
        return [repr(value) for value in values.tolist()]
    values = np.ascontiguousarray(values, dtype=np.float64)
    cells = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode("ascii").split(",")
    size = np.abs(values)
    ours = ((size >= REPR_BELOW) & (size < np.inf)) | (size < REPR_BELOW_LOW)  # NaN: False
    for index in np.flatnonzero(~ours).tolist():
        cells[index] = repr(float(values[index]))
    return cells
