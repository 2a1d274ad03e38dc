"""Hostile configs and data files: asking for too much gets a clear error, not a crash.

A config can ask for a network no model file can hold or no machine can allocate, and a CSV
file can have one enormous line or a huge number of columns; each ends with a clear error
and a documented exit code (or works), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hostile import IRIS, assert_one_clear_error, invoke, write_config


def test_a_layer_too_large_for_a_model_file(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = invoke(["train", str(config), "-q", "--set", "network.layers[0].neurons=100000000"])
    line = assert_one_clear_error(result, 2, mentions="network.layers[0].neurons")
    assert "at most 10,000,000 per layer" in line
    assert not (tmp_path / "small.npz").exists()


def test_a_network_with_too_many_parameters(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    layers = "[{neurons: 9000000, activation: tanh}, {neurons: 9000000, activation: tanh}, {neurons: 3, activation: softmax}]"
    result = invoke(["train", str(config), "-q", "--set", f"network.layers={layers}"])
    line = assert_one_clear_error(result, 2, mentions="network.layers")
    assert "81,000,081,000,003 parameters" in line and "at most 2,147,483,648" in line


def test_out_of_memory_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A network that fits the limits but not the machine: MemoryError, exit 2, no traceback."""
    import nncli.network

    real = nncli.network.np.zeros

    def zeros(shape, *args, **kwargs):  # type: ignore[no-untyped-def]
        if np.prod(shape) > 10**6:
            raise MemoryError
        return real(shape, *args, **kwargs)

    monkeypatch.setattr(nncli.network.np, "zeros", zeros)
    config = write_config(tmp_path)
    result = invoke(["train", str(config), "-q", "--set", "network.layers[0].neurons=400000"])
    assert_one_clear_error(result, 2, mentions="out of memory")
    assert not (tmp_path / "small.npz").exists()


def _iris_rows(tmp_path: Path, first: str) -> Path:
    """iris.csv with the first feature of its first row replaced by `first`."""
    lines = IRIS.read_text().splitlines()
    cells = lines[1].split(",")
    cells[0] = first
    lines[1] = ",".join(cells)
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_value_that_overflows_once_scaled(tmp_path: Path) -> None:
    """Finite in the file, infinite after (x − center) / scale: a data error at the cell
    (it used to be a NumPy warning and an infinite feature fed to the network)."""
    config = write_config(tmp_path)
    assert invoke(["train", str(config), "-q"]).exit_code == 0
    model = tmp_path / "small.npz"
    rows = _iris_rows(tmp_path, "1.7e308")
    for args in (["predict", str(model), str(rows)], ["evaluate", str(model), str(rows)]):
        line = assert_one_clear_error(invoke(args), 3, mentions=f"{rows}, line 2, column 1 ('sepal_length')")
        assert "feature value 1.7e308 is too large" in line and "float64" in line


def test_float32_training_data_too_large_and_too_small(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    rows = _iris_rows(tmp_path, "1e39")
    args = ["train", str(config), "-q", "--set", f"data.train={rows}", "--set", "data.scaling=none",
            "--set", "training.dtype=float32"]
    result = invoke(args)
    line = assert_one_clear_error(result, 3, mentions="line 2, column 1 ('sepal_length')")
    assert "does not fit float32" in line and "training.dtype: float64" in result.stderr
    rows = _iris_rows(tmp_path, "5.7e-40")  # a float32 subnormal: fine (found by hypothesis)
    assert invoke(args).exit_code == 0
