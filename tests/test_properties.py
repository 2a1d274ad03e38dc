"""Property-based round trips (hypothesis, seeded and bounded): random valid architectures
and random data go train → save → load → forward → predict, and every output is finite;
probabilities are in [0, 1] and a softmax's sum to 1 for every observation.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import invoke
from nncli.data import read_csv
from nncli.modelfile import load_model, save_model

PROPERTIES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
TASKS = {
    "regression": ("identity", "mse"),
    "binary": ("sigmoid", "binary_cross_entropy"),
    "classes": ("softmax", "categorical_cross_entropy"),
}
VALUE = st.floats(-1000, 1000, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def runs(draw: Any) -> dict[str, Any]:
    """A task, a CSV table for it and a config (as plain data) that trains on it."""
    task = draw(st.sampled_from(sorted(TASKS)))
    k = draw(st.integers(4, 24))
    numeric = draw(st.integers(1, 3))
    columns: dict[str, list[Any]] = {f"x{i}": draw(st.lists(VALUE, min_size=k, max_size=k)) for i in range(numeric)}
    if draw(st.booleans()):
        columns["colour"] = draw(st.lists(st.sampled_from(["red", "green", "blue"]), min_size=k, max_size=k))
    if task == "regression":
        targets = [f"y{i}" for i in range(draw(st.integers(1, 2)))]
        for name in targets:
            columns[name] = draw(st.lists(VALUE, min_size=k, max_size=k))
        outputs = len(targets)
    else:
        classes = ["no", "yes"] if task == "binary" else ["a", "b", "c", "d"][: draw(st.integers(3, 4))]
        labels = classes + draw(st.lists(st.sampled_from(classes), min_size=k - len(classes), max_size=k - len(classes)))
        columns["label"] = draw(st.permutations(labels))
        targets = ["label"]
        outputs = 1 if task == "binary" else len(classes)
    activation, cost = TASKS[task]
    hidden = draw(st.lists(st.tuples(st.integers(1, 5), st.sampled_from(HIDDEN)), max_size=2))
    layers = [{"neurons": n, "activation": a} for n, a in hidden] + [{"neurons": outputs, "activation": activation}]
    batch = draw(st.sampled_from(["full", 2, 3]))
    spec = {
        "seed": draw(st.integers(0, 1000)),
        "data": {
            "train": "data.csv",
            "targets": targets,
            "scaling": draw(st.sampled_from(["standard", "minmax"])),
            **({"target_scaling": "standard"} if task == "regression" else {}),
        },
        "network": {"init": draw(st.sampled_from(["xavier", "he", "normal", "uniform"])), "layers": layers},
        "cost": cost,
        "training": {
            "learning_rate": draw(st.sampled_from([0.001, 0.01, 0.1])),
            "optimizer": draw(st.sampled_from(["gd", "momentum", "adam"])),
            "batch_size": batch,
            "dtype": draw(st.sampled_from(["float64", "float32"])),
            "gradient_clip": 5.0,
        },
        "stopping": {"max_iterations": draw(st.integers(1, 6))},
    }
    return {"task": task, "table": pd.DataFrame(columns), "spec": spec}


def _check_outputs(task: str, Y_hat: np.ndarray) -> None:
    assert np.isfinite(Y_hat).all()
    if task != "regression":
        assert (Y_hat >= 0).all() and (Y_hat <= 1).all()
    if task == "classes":
        assert np.allclose(Y_hat.sum(axis=0), 1.0, atol=1e-5)


@PROPERTIES
@given(run=runs())
def test_train_save_load_forward_predict(tmp_path: Path, run: dict[str, Any]) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    run["table"].to_csv(folder / "data.csv", index=False, float_format="%.9g")
    config = folder / "run.yaml"
    config.write_text(yaml.safe_dump(run["spec"]))
    model = folder / "model.npz"
    result = invoke(["train", str(config), "-q", "-o", str(model)])
    assert result.exit_code == 0, result.output

    loaded = load_model(model)
    theta = loaded.network.theta
    assert np.isfinite(theta).all()
    assert loaded.network.sizes[1:] == tuple(layer["neurons"] for layer in run["spec"]["network"]["layers"])
    X = loaded.preprocessing.X(read_csv(folder / "data.csv"), loaded.network.dtype)
    _, Y_hat = loaded.network.output(X)
    _check_outputs(run["task"], Y_hat)

    copy = folder / "copy.npz"  # save → load is exact, state arrays included
    save_model(copy, loaded.network, loaded.metadata, loaded.state)
    again = load_model(copy)
    assert again.network.theta.tobytes() == theta.tobytes()
    assert {n: a.tobytes() for n, a in again.state.items()} == {n: a.tobytes() for n, a in loaded.state.items()}

    out = folder / "predictions.csv"
    result = invoke(["predict", str(model), str(folder / "data.csv"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(out, keep_default_na=False)
    assert len(predictions) == len(run["table"])
    if run["task"] == "regression":
        for name in run["spec"]["data"]["targets"]:
            assert all(math.isfinite(v) for v in predictions[f"{name}_predicted"])
    else:
        classes = sorted(set(run["table"]["label"]))
        probabilities = predictions[[f"label_probability_{c}" for c in classes]].to_numpy(dtype=float)
        assert ((probabilities >= 0) & (probabilities <= 1)).all()
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        assert set(predictions["label_predicted"]) <= set(classes)
        expected = np.array(classes)[probabilities.argmax(axis=1)]
        assert (predictions["label_predicted"].to_numpy() == expected).all()
