"""The command line end to end: exit codes, output, files written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from nncli import __version__
from nncli.cli import app
from nncli.modelfile import load_model

from conftest import ROOT


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert f"nncli {__version__}" in result.stdout


def test_help_lists_commands_and_exit_codes(runner):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "train" in result.stdout and "Exit codes" in result.stdout
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for option in ("--output", "--set", "--quiet"):
        assert option in result.stdout


def test_python_dash_m_works(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "nncli", "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0 and f"nncli {__version__}" in result.stdout


def test_train_writes_a_model_that_numpy_loads_without_pickle(runner, house):
    result = runner.invoke(app, ["train", str(house), "--set", "stopping.max_iterations=20"])
    assert result.exit_code == 0, result.output
    path = house.parent / "model.npz"
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W1", "W2", "beta1", "beta2", "metadata"]
        assert archive["W1"].shape == (1, 1) and archive["beta1"].shape == (1,)
        metadata = json.loads(str(archive["metadata"]))
    assert metadata["format"] == "nncli-model" and metadata["layer_sizes"] == [1, 1, 1]
    assert metadata["activations"] == ["identity", "identity"] and metadata["cost"] == "mse"
    assert metadata["features"] == ["bedrooms"] and metadata["targets"] == ["price"]
    training = metadata["training"]
    assert training["stop_criterion"] == "max_iterations" and training["iterations"] == 20
    assert len(training["history"]["cost"]) == 20
    assert training["final_cost"] > 0
    # The log (stdout is not a terminal here) reads as plain lines.
    assert "iteration" in result.stdout and "stopped: c) maximum iterations" in result.stdout
    assert f"model: {path}" in result.stdout or "model:" in result.stdout


def test_output_option_and_missing_folders(runner, house, tmp_path):
    target = tmp_path / "out" / "deeper" / "m.npz"
    result = runner.invoke(app, ["train", str(house), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert load_model(target).network.sizes == (1, 1, 1)
    assert not (house.parent / "model.npz").exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.history.csv", "m.npz"]


def test_quiet_prints_only_the_path(runner, house):
    result = runner.invoke(app, ["train", str(house), "--quiet"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(house.parent / "model.npz")


def test_default_model_path_is_model_npz_in_the_current_folder(runner, house, tmp_path, write):
    text = house.read_text().replace("output:\n  model: model.npz\n", "")
    config = write("nooutput.yaml", text)
    work = tmp_path / "work"
    work.mkdir()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        result = runner.invoke(app, ["train", str(config), "-q"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert (work / "model.npz").exists()


def test_unwritable_output_fails_before_training(runner, house, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["train", str(house), "-o", str(blocker / "m.npz")])
    assert result.exit_code == 2
    assert "not a directory" in result.stderr
    assert "iteration" not in result.stdout


def test_divergence_exit_code_and_no_nan_file(runner, write):
    write("raw.csv", "bedrooms,price\n3,450000\n")
    config = write(
        "raw.yaml",
        """
        data: {train: raw.csv, targets: [price], scaling: none}
        network:
          layers:
            - {neurons: 1, weights: [[0.5]], biases: [0]}
            - {neurons: 1, weights: [[0.5]], biases: [0]}
        training: {learning_rate: 0.001}
        stopping: {max_iterations: 100000}
        output: {model: raw.npz}
        """,
    )
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 4, result.output
    assert "training diverged" in result.stderr and "learning_rate" in result.stderr
    assert not (config.parent / "raw.npz").exists()
    kept = load_model(config.parent / "raw.diverged.npz")
    assert np.isfinite(kept.network.theta).all()


def test_shipped_iris_config_trains_well(runner, tmp_path):
    out = tmp_path / "iris.npz"
    result = runner.invoke(app, ["train", str(ROOT / "configs" / "iris.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    model = load_model(out)
    history = model.training["history"]
    assert history["validation_accuracy"][-1] >= 0.9
    assert model.training["final_cost"] < 0.2
    assert model.metadata["outputs"] == ["species=setosa", "species=versicolor", "species=virginica"]


def test_internal_error_asks_for_a_report(runner, house, monkeypatch):
    import nncli.run

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(nncli.run, "build_network", broken)
    result = runner.invoke(app, ["train", str(house)])
    assert result.exit_code == 1
    assert "RuntimeError: boom" in result.stderr and "please report it" in result.stderr
