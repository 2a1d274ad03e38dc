"""`nncli train` with the training options: config keys, history.csv, divergence, --resume,
--init-from, and the model file's state arrays. Every call runs under
numpy.errstate(all="raise")."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from training_helpers import REPO, invoke, iris_config

from nncli.errors import ModelFileError
from nncli.modelfile import load_model, save_model


def test_default_full_batch_gd_is_still_spec_worked_example_1(tmp_path: Path) -> None:
    model = tmp_path / "house.npz"
    result = invoke("train", str(REPO / "configs/house-prices.yaml"), "--set", "stopping.max_iterations=1", "-o", str(model))
    assert result.exit_code == 0, result.stderr
    network = load_model(model).network
    assert network.W[1][0, 0] == 1.173875 and network.beta[1][0, 0] == 0.224625
    assert network.W[2][0, 0] == 1.173875 and network.beta[2][0, 0] == 0.44925
    training = load_model(model).training
    assert training["parameters"]["which"] == "last" and training["parameters"]["iteration"] == 1
    assert training["optimizer"] == "gd" and training["batch_size"] == "full"


def test_history_csv_has_one_row_per_logged_iteration(tmp_path: Path) -> None:
    config = iris_config(tmp_path, log_every=15)
    model = tmp_path / "out" / "iris.npz"
    result = invoke("train", str(config), "-o", str(model), "--set", "stopping.max_iterations=40")
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "out" / "iris.history.csv"
    assert str(path) in result.stdout
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["iteration", "training_cost", "validation_cost", "gradient_norm", "learning_rate", "seconds"]
    assert [int(r["iteration"]) for r in rows] == [1, 15, 30, 40]
    history = load_model(model).training["history"]
    for row in rows:
        i = int(row["iteration"]) - 1
        assert float(row["training_cost"]) == history["cost"][i]
        assert float(row["validation_cost"]) == history["validation_cost"][i]
        assert float(row["gradient_norm"]) == history["gradient_norm"][i]
        assert float(row["learning_rate"]) == 0.1
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds)


@pytest.mark.parametrize(
    "assignment, key, expected",
    [
        ("training.momentum=1", "training.momentum", "below 1"),
        ("training.beta1=-0.1", "training.beta1", "at least 0"),
        ("training.beta2=1.0", "training.beta2", "below 1"),
        ("training.epsilon=0", "training.epsilon", "above 0"),
        ("training.batch_size=0", "training.batch_size", "full or a whole number"),
        ("training.batch_size=fulll", "training.batch_size", "full or a whole number"),
        ("training.optimizer=sgd", "training.optimizer", "gd, momentum, adam"),
        ("training.l2=-1", "training.l2", "at least 0"),
        ("training.gradient_clip=0", "training.gradient_clip", "above 0"),
        ("stopping.monitor=loss", "stopping.monitor", "training_cost, validation_cost"),
        ("stopping.restore_best=1", "stopping.restore_best", "true or false"),
    ],
)
def test_bad_training_keys_are_config_errors(tmp_path: Path, assignment: str, key: str, expected: str) -> None:
    result = invoke("train", str(iris_config(tmp_path)), "--set", assignment, "-o", str(tmp_path / "m.npz"))
    assert result.exit_code == 2
    assert key in result.stderr and expected in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_monitor_validation_cost_needs_validation_data(tmp_path: Path) -> None:
    config = iris_config(tmp_path)
    result = invoke("train", str(config), "--set", "data.validation=null", "--set", "stopping.monitor=validation_cost")
    assert result.exit_code == 2
    assert "stopping.monitor" in result.stderr and "data.validation" in result.stderr


def test_a_key_of_another_optimizer_is_accepted_with_a_warning(tmp_path: Path) -> None:
    result = invoke("train", str(iris_config(tmp_path, optimizer="adam", momentum=0.5)), "-o", str(tmp_path / "m.npz"))
    assert result.exit_code == 0, result.stderr
    assert "training.momentum is for optimizer momentum" in result.stderr


def test_divergence_exit_4_no_nan_file_and_a_message_that_helps(tmp_path: Path) -> None:
    model = tmp_path / "house.npz"
    model.write_bytes(b"a good model from before")
    result = invoke("train", str(REPO / "configs/house-prices.yaml"), "--set", "training.learning_rate=1", "-o", str(model))
    assert result.exit_code == 4
    assert "diverged" in result.stderr and "at iteration 5" in result.stderr
    for remedy in ("training.learning_rate", "data.scaling", "training.gradient_clip"):
        assert remedy in result.stderr
    assert model.read_bytes() == b"a good model from before"
    saved = load_model(tmp_path / "house.diverged.npz")
    assert np.isfinite(saved.network.theta).all()
    assert saved.training["stop_criterion"] == "diverged"
    assert "last finite" in saved.training["parameters"]["reason"]
    assert (tmp_path / "house.diverged.history.csv").exists()


def test_mini_batch_divergence_names_the_batch(tmp_path: Path) -> None:
    config = tmp_path / "diabetes.yaml"
    config.write_text(
        f"data: {{train: {REPO / 'datasets/diabetes.csv'}, targets: [progression], scaling: none}}\n"
        "network: {layers: [{neurons: 1}]}\n"
        "training: {learning_rate: 0.001, batch_size: 100}\n"
    )
    result = invoke("train", str(config), "-o", str(tmp_path / "m.npz"))
    assert result.exit_code == 4, result.stderr
    assert "(batch " in result.stderr and " of 5)" in result.stderr
    assert np.isfinite(load_model(tmp_path / "m.diverged.npz").network.theta).all()


@pytest.mark.parametrize(
    "options",
    [
        ["training.optimizer=gd"],
        ["training.optimizer=momentum", "training.batch_size=32", "stopping.restore_best=true"],
        ["training.optimizer=adam", "training.learning_rate=0.02", "training.batch_size=25",
         "stopping.loss_change_tolerance=0.0", "stopping.patience=1000", "stopping.restore_best=true"],
    ],
    ids=["gd", "momentum", "adam"],
)
def test_resume_through_the_model_file_equals_training_straight_through(tmp_path: Path, options: list[str]) -> None:
    config = str(iris_config(tmp_path))
    sets = [arg for option in options for arg in ("--set", option)]
    straight, half, resumed = (tmp_path / f"{name}.npz" for name in ("straight", "half", "resumed"))
    assert invoke("train", config, *sets, "-q", "-o", str(straight)).exit_code == 0
    assert invoke("train", config, *sets, "-q", "-o", str(half), "--set", "stopping.max_iterations=20").exit_code == 0
    result = invoke("train", config, *sets, "-q", "-o", str(resumed), "--resume", str(half))
    assert result.exit_code == 0, result.stderr
    a, b = load_model(straight), load_model(resumed)
    assert np.array_equal(a.network.theta, b.network.theta)
    assert set(a.state) == set(b.state)
    for name in a.state:
        assert np.array_equal(a.state[name], b.state[name])
    for key in ("cost", "gradient_norm", "validation_cost", "validation_accuracy"):
        assert a.training["history"][key] == b.training["history"][key]
    assert a.training["parameters"] == b.training["parameters"]
    resume_a, resume_b = a.training["resume"], b.training["resume"]
    resume_a.pop("seconds"), resume_b.pop("seconds")
    assert resume_a == resume_b
    assert b.training["iterations"] == 40


def test_resume_refuses_another_architecture_and_says_how(tmp_path: Path) -> None:
    config = str(iris_config(tmp_path))
    model = tmp_path / "m.npz"
    assert invoke("train", config, "-q", "-o", str(model)).exit_code == 0
    result = invoke("train", config, "--resume", str(model), "-o", str(tmp_path / "n.npz"),
                    "--set", "network.layers[0].neurons=8", "--set", "network.layers[0].activation=relu")
    assert result.exit_code == 2
    assert "W1: the model's is 6 × 4, the config's 8 × 4" in result.stderr
    assert "W2: the model's is 3 × 6, the config's 3 × 8" in result.stderr
    result = invoke("train", config, "--resume", str(model), "--set", "network.layers[0].activation=relu")
    assert result.exit_code == 2
    assert "L1's activation: tanh in the model, relu in the config" in result.stderr
    result = invoke("train", config, "--resume", str(model), "--set", "training.optimizer=adam")
    assert result.exit_code == 2 and "trained with optimizer gd" in result.stderr
    result = invoke("train", config, "--resume", str(model), "--set", "training.dtype=float32")
    assert result.exit_code == 2 and "dtype: float64 in the model" in result.stderr
    result = invoke("train", config, "--resume", str(model))  # max_iterations 40 already done
    assert result.exit_code == 2 and "stopping.max_iterations" in result.stderr and "has done 40" in result.stderr
    assert not (tmp_path / "n.npz").exists()


def test_resume_and_init_from_exclude_each_other(tmp_path: Path) -> None:
    result = invoke("train", str(iris_config(tmp_path)), "--resume", "a.npz", "--init-from", "b.npz")
    assert result.exit_code == 2 and "cannot be used together" in result.stderr


def test_init_from_starts_a_new_run_from_the_parameters(tmp_path: Path) -> None:
    config = str(iris_config(tmp_path))
    source = tmp_path / "source.npz"
    assert invoke("train", config, "-q", "-o", str(source)).exit_code == 0
    fresh = tmp_path / "fresh.npz"
    result = invoke("train", config, "-q", "-o", str(fresh), "--init-from", str(source),
                    "--set", "training.optimizer=adam", "--set", "stopping.max_iterations=5")
    assert result.exit_code == 0, result.stderr
    first, second = load_model(source), load_model(fresh)
    assert second.training["iterations"] == 5 and len(second.training["history"]["cost"]) == 5
    # Its first iteration measures the cost at the source's final parameters.
    assert second.training["history"]["cost"][0] == pytest.approx(first.training["final_cost"], rel=1e-12)
    result = invoke("train", config, "--init-from", str(source), "--set", "network.layers[0].neurons=7")
    assert result.exit_code == 2 and "W1: the model's is 6 × 4, the config's 7 × 4" in result.stderr
    result = invoke("train", config, "--init-from", str(tmp_path / "missing.npz"))
    assert result.exit_code == 3 and "not found" in result.stderr


def test_resume_needs_a_model_with_training_state(tmp_path: Path) -> None:
    config = str(iris_config(tmp_path))
    model = tmp_path / "m.npz"
    assert invoke("train", config, "-q", "-o", str(model), "--set", "stopping.max_iterations=5").exit_code == 0
    with np.load(model) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(str(arrays["metadata"]))
    del metadata["training"]["resume"]
    arrays["metadata"] = np.array(json.dumps(metadata))
    stripped = tmp_path / "stripped.npz"
    np.savez(stripped, **arrays)
    result = invoke("train", config, "--resume", str(stripped))
    assert result.exit_code == 3
    assert "no training state to resume" in result.stderr and "--init-from" in result.stderr


def _rewrite(source: Path, target: Path, change: object) -> None:
    with np.load(source) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)  # type: ignore[operator]
    np.savez(target, **arrays)


def test_model_file_accepts_listed_state_arrays_only(tmp_path: Path) -> None:
    config = str(iris_config(tmp_path, optimizer="adam"))
    model = tmp_path / "m.npz"
    assert invoke("train", config, "-q", "-o", str(model), "--set", "stopping.max_iterations=5").exit_code == 0
    loaded = load_model(model)
    assert set(loaded.state) == set(json.loads(str(np.load(model)["metadata"]))["state_arrays"])
    assert {"optimizer_m", "optimizer_v"} <= set(loaded.state)
    count = loaded.network.parameter_count
    assert all(array.shape == (count,) for array in loaded.state.values())

    def unlisted(arrays: dict) -> None:
        arrays["extra"] = np.zeros(count)

    def wrong_shape(arrays: dict) -> None:
        arrays["optimizer_m"] = np.zeros(count + 1)

    def not_finite(arrays: dict) -> None:
        arrays["optimizer_v"] = np.full(count, np.nan)

    def missing(arrays: dict) -> None:
        del arrays["optimizer_m"]

    # Saving a loaded model again without its state lists no state arrays.
    copy = tmp_path / "copy.npz"
    save_model(copy, loaded.network, {k: v for k, v in loaded.metadata.items() if k not in ("format", "format_version")})
    assert load_model(copy).state == {}

    for change, message in ((unlisted, "unexpected extra"), (wrong_shape, "optimizer_m is float64"),
                            (not_finite, "NaN"), (missing, "missing optimizer_m")):
        bad = tmp_path / f"{change.__name__}.npz"
        _rewrite(model, bad, change)
        with pytest.raises(ModelFileError, match=message):
            load_model(bad)
