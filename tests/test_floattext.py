"""`floattext.float64_texts` gives exactly repr's texts (the shortest that read back to the
same float64), with orjson and without it, on values from every part of the float64 range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model_files import DATASETS
from nncli import floattext
from nncli.cli import app

pytest_plugins = ["model_fixtures"]


def awkward_values() -> np.ndarray:
    """Random bit patterns (subnormals, huge and tiny exponents, NaN payloads, infinities),
    values of every decade, the neighbours of every power of ten and of two, integers,
    short decimals, zeros of both signs."""
    rng = np.random.default_rng(20240607)
    with np.errstate(all="ignore"):  # the suite raises on underflow; these are meant
        return _awkward_values(rng)


def _awkward_values(rng: np.random.Generator) -> np.ndarray:
    bits = rng.integers(0, 2**64, size=100_000, dtype=np.uint64).view(np.float64)
    decades = rng.standard_normal(100_000) * 10.0 ** rng.integers(-20, 22, size=100_000)
    powers = np.concatenate([10.0 ** np.arange(-323, 309), 2.0 ** np.arange(-1074, 1024)])
    neighbours = np.concatenate([np.nextafter(powers, 0), np.nextafter(powers, np.inf)])
    near_range = rng.uniform(1e-12, 2e-4, 20_000) * rng.choice([-1.0, 1.0], 20_000)
    integers = np.arange(-5000, 5000, dtype=np.float64) * 1e3
    scales = 10.0 ** rng.integers(0, 8, 20_000)
    decimals = np.round(rng.standard_normal(20_000) * scales) / scales
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308,
                        1.7976931348623157e308, 9999999999999998.0, 1e16, 0.1, 1e-4, 1e-5, 1e-9, 1e-10])
    return np.concatenate(
        [bits, decades, powers, neighbours, -neighbours, near_range, integers, decimals, special]
    )


def test_orjson_is_installed_for_the_suite() -> None:
    """A dependency, so that the tests below check the fast path."""
    assert floattext.fast()


def test_texts_are_exactly_reprs_texts() -> None:
    values = awkward_values()
    texts = floattext.float64_texts(values)
    assert texts == [repr(value) for value in values.tolist()]


def test_texts_read_back_to_the_same_float64() -> None:
    values = awkward_values()
    values = values[~np.isnan(values)]
    back = np.array([float(text) for text in floattext.float64_texts(values)])
    assert np.array_equal(back.view(np.uint64), values.view(np.uint64))  # -0.0 too


def test_strided_and_empty_vectors() -> None:
    matrix = np.arange(12.0).reshape(3, 4) / 7
    assert floattext.float64_texts(matrix[:, 1]) == [repr(v) for v in matrix[:, 1].tolist()]
    assert floattext.float64_texts(np.zeros(0)) == []


def test_without_orjson_the_texts_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    values = awkward_values()[::10]
    fast = floattext.float64_texts(values)
    monkeypatch.setattr(floattext, "orjson", None)
    assert not floattext.fast()
    assert floattext.float64_texts(values) == fast


@pytest.mark.parametrize("dataset", ["iris", "diabetes"])
def test_predict_writes_the_same_file_without_orjson(
    dataset: str, iris_model: Path, diabetes_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = {"iris": iris_model, "diabetes": diabetes_model}[dataset]
    runner = CliRunner()
    args = ["predict", str(model), str(DATASETS / f"{dataset}.csv"), "--chunk-rows", "50"]
    fast = runner.invoke(app, args)
    monkeypatch.setattr(floattext, "orjson", None)
    slow = runner.invoke(app, args)
    assert fast.exit_code == slow.exit_code == 0, fast.stderr
    assert fast.stdout == slow.stdout


def test_small_numbers_in_another_notation_go_through_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below 1e-4 orjson's notation is rewritten as repr's; should an orjson write those
    numbers some other way, repr writes them."""

    class Positional:
        """Writes every number as NumPy's shortest positional text (0.000000123)."""

        OPT_SERIALIZE_NUMPY = 0

        @staticmethod
        def dumps(values: np.ndarray, option: int) -> bytes:
            texts = [np.format_float_positional(v, unique=True) for v in values.tolist()]
            return ("[" + ",".join(texts) + "]").encode()

    rng = np.random.default_rng(5)
    values = rng.uniform(1e-11, 1e-4, 3000) * rng.choice([-1.0, 1.0], 3000)
    values = np.concatenate([values, 10.0 ** -rng.uniform(5, 11, 3000)])
    assert floattext.float64_texts(values) == [repr(v) for v in values.tolist()]
    monkeypatch.setattr(floattext, "orjson", Positional)
    assert floattext.float64_texts(values) == [repr(v) for v in values.tolist()]


def test_an_orjson_writing_other_texts_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """orjson before 3.11.7 wrote 1e16 where repr writes 1e+16: such an orjson fails the
    check made at import, and repr is used instead."""
    real = floattext.orjson

    class OldNotation:
        OPT_SERIALIZE_NUMPY = real.OPT_SERIALIZE_NUMPY

        @staticmethod
        def dumps(values, option=0):  # type: ignore[no-untyped-def]
            return real.dumps(values, option=option).replace(b"e+", b"e")

    monkeypatch.setattr(floattext, "orjson", OldNotation)
    floattext._check_orjson()
    assert not floattext.fast()
    assert floattext.float64_texts(np.array([1e16, 0.5])) == ["1e+16", "0.5"]
    monkeypatch.setattr(floattext, "orjson", real)
    floattext._check_orjson()
    assert floattext.fast()
