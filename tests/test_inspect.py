"""`nncli inspect`: the right shapes, counts and values, in tables and in JSON; --layer,
--full, --precision; the file is never modified; foreign and damaged files are one-line
errors."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from model_files import model_arrays, rewrite_model
from nncli.cli import app
from nncli.modelfile import FORMAT_VERSION
from nncli.views import SPARKS, sparkline

pytest_plugins = ["model_fixtures"]

runner = CliRunner()


def run(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def inspect_json(*args: object) -> dict[str, Any]:
    result = run("inspect", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_has_the_architecture_and_exact_matrices(iris_model: Path) -> None:
    content = inspect_json(iris_model)
    arrays, metadata = model_arrays(iris_model)
    layers = content["architecture"]["layers"]
    assert [layer["neurons"] for layer in layers] == [4, 6, 3]
    assert [layer["activation"] for layer in layers] == [None, "tanh", "softmax"]
    assert [layer["W_shape"] for layer in layers] == [None, [6, 4], [3, 6]]
    assert [layer["beta_shape"] for layer in layers] == [None, [6, 1], [3, 1]]
    assert [layer["parameters"] for layer in layers] == [0, 6 * 4 + 6, 3 * 6 + 3]
    assert content["architecture"]["parameters"] == 51
    assert content["cost"]["name"] == "categorical_cross_entropy"
    W1, W2 = (entry["W"] for entry in content["parameters"])
    assert W1["columns"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert W1["rows"] == [f"L1.{i}" for i in range(1, 7)] == W2["columns"]
    assert W2["rows"] == ["species=setosa", "species=versicolor", "species=virginica"]
    for entry in content["parameters"]:
        l = entry["layer"]
        assert np.array_equal(np.array(entry["W"]["values"]), arrays[f"W{l}"])  # exact
        assert np.array_equal(np.array(entry["beta"]["values"]), arrays[f"beta{l}"])
        assert entry["W"]["shape"] == list(arrays[f"W{l}"].shape)
        assert entry["beta"]["shape"] == [len(arrays[f"beta{l}"]), 1]
    training = content["training"]
    assert training["stop_criterion"] == "max_iterations"
    assert training["iterations"] == 150
    assert training["cost_history"] == metadata["training"]["history"]["cost"]
    assert training["final_cost"] == metadata["training"]["final_cost"]
    assert [f["name"] for f in content["features"]] == W1["columns"]
    assert content["targets"][0]["classes"] == ["setosa", "versicolor", "virginica"]
    assert content["preprocessing"]["scaling"] == "standard"


def test_tables_show_shapes_counts_and_values(iris_model: Path) -> None:
    result = run("inspect", iris_model)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    arrays, metadata = model_arrays(iris_model)
    for text in ("L0 (input)", "L2 (output)", "W1: 6 × 4", "β1: 6 × 1", "W2: 3 × 6", "β2: 3 × 1",
                 "categorical_cross_entropy", "c) maximum iterations", "150",
                 "W1: 6 × 4 (rows: neurons of L1, columns: neurons of L0)", "L2 \\ L1",
                 "species=versicolor", "(x − ", "softmax"):
        assert text in out, text
    assert "│ total" in out and "51 │" in out
    assert f"{arrays['W1'][0, 0]:.4g}" in out
    assert f"{arrays['beta2'][2]:.4g}" in out
    header = next(line for line in out.splitlines() if "L1 \\ L0" in line)
    assert [name in header for name in ("sepal_length", "petal_width")] == [True, True]
    history = next(line for line in out.splitlines() if line.startswith("cost history"))
    assert any(mark in history for mark in SPARKS) and "150 iterations" in history
    final = metadata["training"]["final_cost"]
    assert f"final cost         {final:.4g}" in out


def test_layer_and_precision(iris_model: Path) -> None:
    arrays, _ = model_arrays(iris_model)
    out = run("inspect", iris_model, "--layer", "2", "--precision", "9").stdout
    assert "W2: 3 × 6" in out and "W1: 6 × 4 (rows" not in out
    assert f"{arrays['W2'][1, 2]:.9g}" in out
    content = inspect_json(iris_model, "--layer", "1")
    assert [entry["layer"] for entry in content["parameters"]] == [1]
    for bad in ("0", "3", "-1"):
        result = run("inspect", iris_model, "--layer", bad)
        assert result.exit_code == 2
        assert "give a number from 1 to 2" in result.stderr
    assert run("inspect", iris_model, "--precision", "0").exit_code == 2


def test_large_matrices_are_truncated_unless_full(diabetes_model: Path) -> None:
    arrays, _ = model_arrays(diabetes_model)
    assert arrays["W1"].shape == (5, 10)
    out = run("inspect", diabetes_model).stdout
    header = next(line for line in out.splitlines() if "L1 \\ L0" in line)
    assert "…" in header and "s3" not in header.split("…")[0]
    assert "age" in header and "s6" in header and "s1" not in header
    assert "showing 5 of 5 rows and 8 of 10 columns; --full shows all" in out
    full = run("inspect", diabetes_model, "--full").stdout
    header = next(line for line in full.splitlines() if "L1 \\ L0" in line)
    assert "…" not in header
    for name in ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"):
        assert f" {name} " in header
    assert "--full shows all" not in full


def test_inspecting_never_modifies_the_file(iris_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model.npz"
    copy.write_bytes(iris_model.read_bytes())
    os.chmod(copy, 0o444)  # a read-only file can be inspected too
    before = hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns
    for args in ([], ["--full"], ["--layer", "1"], ["--format", "json"], ["--precision", "12"]):
        assert run("inspect", copy, *args).exit_code == 0
    assert (hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_missing_training_record_is_shown_as_unknown(iris_model: Path, tmp_path: Path) -> None:
    def damage(metadata: dict[str, Any]) -> None:
        metadata["training"] = {}  # every key of the record is optional
        del metadata["name"]

    path = rewrite_model(iris_model, tmp_path / "bare.npz", metadata=damage)
    content = inspect_json(path)
    assert content["training"]["iterations"] is None
    assert content["training"]["cost_history"] == []
    out = run("inspect", path).stdout
    assert "final cost  —" in out and "cost history" not in out


def test_a_mistyped_training_record_is_refused(iris_model: Path, tmp_path: Path) -> None:
    """The training record is informative, but a file whose record has the wrong types was
    not written by nncli: it is refused like any other damage (nncli.metadata)."""

    def damage(metadata: dict[str, Any]) -> None:
        metadata["training"] = {"iterations": "many", "history": {"cost": "none"}}

    path = rewrite_model(iris_model, tmp_path / "mistyped.npz", metadata=damage)
    assert "training.iterations is 'many', expected a whole number" in _error(run("inspect", path))


def _error(result: Result) -> str:
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    first, *rest = result.stderr.splitlines()
    assert first.startswith("error: ") and all(line.startswith("help: ") for line in rest)
    return result.stderr


def test_foreign_and_damaged_files(iris_model: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.npz"
    np.savez(plain, np.arange(3))
    assert "no metadata array" in _error(run("inspect", plain))
    noise = tmp_path / "noise.npz"
    noise.write_bytes(os.urandom(1000))
    assert "not a .npz (zip) file" in _error(run("inspect", noise))
    data = iris_model.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 22, len(data) - 1):
        cut = tmp_path / f"cut{size}.npz"
        cut.write_bytes(data[:size])
        assert "not a usable nncli model" in _error(run("inspect", cut))
    newer = rewrite_model(iris_model, tmp_path / "newer.npz",
                          metadata=lambda m: m.update(format_version=FORMAT_VERSION + 1))
    assert "help: upgrade nncli" in _error(run("inspect", newer))


@pytest.mark.parametrize(
    ("values", "expected", "log"),
    [
        ([], "", False),
        ([3.0, 3.0, 3.0], "▁▁▁", False),
        ([1.0, 2.0, 3.0, None, 4.0], "▁▃▆█", False),
        ([100.0, 10.0, 1.0], "█▅▁", True),  # log10: 2, 1, 0 → top, middle, bottom
        ([-1.0, 0.0, 1.0], "▁▅█", False),
    ],
)
def test_sparkline(values: list[float | None], expected: str, log: bool) -> None:
    assert sparkline(values) == (expected, log)


def test_sparkline_resamples_long_histories() -> None:
    line, log = sparkline([1.0 / (i + 1) for i in range(5000)], width=40)
    assert len(line) == 40 and log
    assert line[0] == "█" and line[-1] == "▁"
