"""`nncli evaluate`: metrics against values computed by hand on tiny fixtures (models with
chosen weights), the cost against the network's own, chunking, and every error case."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from model_files import DATASETS, rewrite_model
from nncli.cli import app
from nncli.data import FeatureColumn, Preprocessing, TargetColumn, read_csv
from nncli.evaluate import class_metrics, confusion_matrix
from nncli.modelfile import FORMAT_VERSION, load_model, save_model
from nncli.network import Network

pytest_plugins = ["model_fixtures"]

runner = CliRunner()


def run(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def evaluate_json(*args: object) -> dict[str, Any]:
    result = run("evaluate", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def handmade(
    path: Path,
    preprocessing: Preprocessing,
    activations: list[str],
    cost: str,
    layers: list[tuple[list[list[float]], list[float]]],
) -> Path:
    """A model file with the given W_l and β_l (no training) and a preprocessing record."""
    sizes = [len(layers[0][0][0])] + [len(W) for W, _ in layers]
    network = Network(sizes, activations, cost)
    for l, (W, beta) in enumerate(layers, start=1):
        network.W[l][...] = W
        network.beta[l][:, 0] = beta
    save_model(path, network, {"preprocessing": preprocessing.to_dict()})
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- regression ------------------------------------------------------------------------------

# x = 0, 1, 2, 3 and y = 1, 4, 4, 8; the model ŷ = 2x + 1 predicts 1, 3, 5, 7.
# residuals y − ŷ = 0, 1, −1, 1:  Σ(y − ŷ)² = 3,  Σ|y − ŷ| = 3,  k = 4
# MSE = 3/4,  RMSE = √0.75,  MAE = 3/4
# ȳ = 17/4 = 4.25,  Σ(y − ȳ)² = 3.25² + 0.25² + 0.25² + 3.75² = 24.75,  R² = 1 − 3/24.75
# SPEC cost = 1/(2k) ‖Y − Ŷ‖² = 3/8
LINE = "x,y\n0,1\n1,4\n2,4\n3,8\n"


def _line_preprocessing(center: float = 0.0, scale: float = 1.0) -> Preprocessing:
    return Preprocessing(
        [FeatureColumn("x", "numeric")],
        [TargetColumn("y", "numeric", center=center, scale=scale)],
        scaling="none",
        target_scaling="none" if scale == 1.0 else "standard",
    )


def test_regression_metrics_by_hand(tmp_path: Path) -> None:
    model = handmade(tmp_path / "line.npz", _line_preprocessing(), ["identity"], "mse", [([[2.0]], [1.0])])
    data = _write(tmp_path / "line.csv", LINE)
    for chunk in ("1", "3", "100"):
        report = evaluate_json(model, data, "--chunk-rows", chunk)
        assert report["task"] == "regression" and report["rows"] == 4
        assert report["cost"]["value"] == pytest.approx(3 / 8, rel=1e-15)
        assert "original units" in report["cost"]["computed_on"]
        (y,) = report["targets"]
        assert y["mse"] == pytest.approx(0.75, rel=1e-15)
        assert y["rmse"] == pytest.approx(math.sqrt(0.75), rel=1e-15)
        assert y["mae"] == pytest.approx(0.75, rel=1e-15)
        assert y["r2"] == pytest.approx(1 - 3 / 24.75, rel=1e-14)


def test_scaled_targets_cost_on_the_scale_training_used(tmp_path: Path) -> None:
    """Targets stored as y' = (y − 4)/2: the network ŷ' = x − 1.5 gives ŷ = 2x + 1 again.
    The metrics are those above, in y's units; the cost is on y' (as training minimized):
    Σ(y' − ŷ')² = Σ((y − ŷ)/2)² = 3/4, cost = (3/4)/(2·4) = 3/32."""
    model = handmade(
        tmp_path / "scaled.npz", _line_preprocessing(4.0, 2.0), ["identity"], "mse", [([[1.0]], [-1.5])]
    )
    report = evaluate_json(model, _write(tmp_path / "line.csv", LINE))
    assert report["cost"]["value"] == pytest.approx(3 / 32, rel=1e-15)
    assert "scaled targets" in report["cost"]["computed_on"]
    (y,) = report["targets"]
    assert y["mse"] == pytest.approx(0.75, rel=1e-15)
    assert y["r2"] == pytest.approx(1 - 3 / 24.75, rel=1e-14)
    table = run("evaluate", model, tmp_path / "line.csv")
    assert table.exit_code == 0
    assert "computed on the scaled targets (data.target_scaling: standard)" in table.stdout
    assert "Per target, in the original units of each target column" in table.stdout
    assert "0.09375" in table.stdout and "0.75" in table.stdout


def test_two_targets_cost_is_half_the_summed_mse(tmp_path: Path) -> None:
    """A second target y2 = 0, −1, −2, −2 with ŷ2 = −x: residuals 0, 0, 0, 1, MSE 1/4,
    ȳ2 = −1.25, Σ(y2 − ȳ2)² = 2.75, R² = 1 − 1/2.75; cost = (3 + 1)/(2·4) = 1/2."""
    preprocessing = Preprocessing(
        [FeatureColumn("x", "numeric")],
        [TargetColumn("y", "numeric"), TargetColumn("y2", "numeric")],
        scaling="none",
    )
    model = handmade(
        tmp_path / "two.npz", preprocessing, ["identity"], "mse", [([[2.0], [-1.0]], [1.0, 0.0])]
    )
    data = _write(tmp_path / "two.csv", "y2,x,y\n0,0,1\n-1,1,4\n-2,2,4\n-2,3,8\n")
    report = evaluate_json(model, data)
    assert report["cost"]["value"] == pytest.approx(0.5, rel=1e-15)
    y, y2 = report["targets"]
    assert (y["name"], y2["name"]) == ("y", "y2")
    assert y2["mse"] == pytest.approx(0.25) and y2["mae"] == pytest.approx(0.25)
    assert y2["r2"] == pytest.approx(1 - 1 / 2.75)
    assert report["cost"]["value"] == pytest.approx((y["mse"] + y2["mse"]) / 2)


def test_cost_matches_the_network_on_the_whole_file(diabetes_model: Path) -> None:
    model = load_model(diabetes_model)
    table = read_csv(DATASETS / "diabetes.csv")
    X, Y = model.preprocessing.X(table), model.preprocessing.Y(table)
    cost, Y_hat = model.network.evaluate(X, Y)
    report = evaluate_json(diabetes_model, DATASETS / "diabetes.csv", "--chunk-rows", "50")
    assert report["cost"]["value"] == pytest.approx(cost, rel=1e-12)
    target = model.preprocessing.targets[0]
    y = table.frame["progression"].to_numpy(dtype=float)
    y_hat = Y_hat[0] * target.scale + target.center
    (metrics,) = report["targets"]
    assert metrics["mse"] == pytest.approx(np.mean((y - y_hat) ** 2), rel=1e-12)
    assert metrics["mae"] == pytest.approx(np.mean(np.abs(y - y_hat)), rel=1e-12)
    r2 = 1 - np.sum((y - y_hat) ** 2) / np.sum((y - y.mean()) ** 2)
    assert metrics["r2"] == pytest.approx(r2, rel=1e-12)


# -- classification ----------------------------------------------------------------------------

# One categorical feature f (a, b, c → one-hot rows f=a, f=b, f=c), four classes x, y, z, w.
# W1 = 10·I on the first three outputs, the w row 0 with β = −100: f=a → x, b → y, c → z,
# and w is never predicted.
ROWS = [("a", "x"), ("a", "x"), ("b", "y"), ("b", "x"), ("c", "z"), ("c", "y"), ("a", "z"),
        ("c", "z"), ("a", "w")]
# true \ predicted  x  y  z  w
#   x               2  1  0  0
#   y               0  1  1  0
#   z               1  0  2  0
#   w               1  0  0  0
# accuracy 5/9; x: precision 2/4, recall 2/3, F1 4/(4+2+1) = 4/7; y: 1/2, 1/2, 1/2;
# z: 2/3, 2/3, 2/3; w: precision undefined (never predicted), recall 0, F1 0.


def _classes_model(tmp_path: Path) -> tuple[Path, Path]:
    preprocessing = Preprocessing(
        [FeatureColumn("f", "categorical", categories=["a", "b", "c"])],
        [TargetColumn("label", "classes", classes=["x", "y", "z", "w"])],
    )
    W = [[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0], [0, 0, 0]]
    model = handmade(tmp_path / "classes.npz", preprocessing, ["softmax"],
                     "categorical_cross_entropy", [(W, [0, 0, 0, -100.0])])
    data = _write(tmp_path / "classes.csv", "f,label\n" + "".join(f"{f},{c}\n" for f, c in ROWS))
    return model, data


def _softmax_log(logits: list[float], index: int) -> float:
    return logits[index] - math.log(sum(math.exp(v) for v in logits))


def test_classification_metrics_by_hand(tmp_path: Path) -> None:
    model, data = _classes_model(tmp_path)
    report = evaluate_json(model, data, "--chunk-rows", "2")
    assert report["task"] == "classification" and report["rows"] == 9
    (target,) = report["targets"]
    assert target["confusion_matrix"]["labels"] == ["x", "y", "z", "w"]
    assert target["confusion_matrix"]["counts"] == [[2, 1, 0, 0], [0, 1, 1, 0], [1, 0, 2, 0], [1, 0, 0, 0]]
    assert target["accuracy"] == pytest.approx(5 / 9)
    x, y, z, w = target["classes"]
    assert (x["precision"], x["recall"], x["f1"], x["support"]) == pytest.approx((2 / 4, 2 / 3, 4 / 7, 3))
    assert (y["precision"], y["recall"], y["f1"], y["support"]) == pytest.approx((1 / 2, 1 / 2, 1 / 2, 2))
    assert (z["precision"], z["recall"], z["f1"], z["support"]) == pytest.approx((2 / 3, 2 / 3, 2 / 3, 3))
    assert w["precision"] is None and w["recall"] == 0 and w["f1"] == 0 and w["support"] == 1
    # cost = −1/k Σ log ŷ_true, ŷ = softmax(W1 x + β1)
    logits = {"a": [10, 0, 0, -100], "b": [0, 10, 0, -100], "c": [0, 0, 10, -100]}
    classes = ["x", "y", "z", "w"]
    cost = -sum(_softmax_log(logits[f], classes.index(c)) for f, c in ROWS) / len(ROWS)
    assert report["cost"]["value"] == pytest.approx(cost, rel=1e-12)


def test_classification_tables(tmp_path: Path) -> None:
    model, data = _classes_model(tmp_path)
    result = run("evaluate", model, data)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "accuracy  0.5556  (5 of 9 rows)" in out
    assert "Confusion matrix (rows: true class, columns: predicted class)" in out
    assert "true \\ predicted" in out
    lines = [line for line in out.splitlines() if line.startswith("│ w ")]
    assert len(lines) == 2  # the per-class row and the confusion row
    assert "—" in lines[0]  # precision of a class never predicted is undefined
    assert "0.5714" in out  # F1 of x = 4/7


def test_binary_metrics_by_hand(tmp_path: Path) -> None:
    """ŷ = σ(4x − 2): x = 0 → σ(−2) < 0.5 → 'no', x = 1 → σ(2) → 'yes'.
    true \\ predicted: no [2, 1], yes [1, 3]; accuracy 5/7; 'no' precision 2/3, recall 2/3;
    'yes' precision 3/4, recall 3/4, F1 6/8. cost = −1/7 (5 log σ(2) + 2 log σ(−2))."""
    preprocessing = Preprocessing(
        [FeatureColumn("x", "numeric")],
        [TargetColumn("ok", "binary", classes=["no", "yes"])],
        scaling="none",
    )
    model = handmade(tmp_path / "binary.npz", preprocessing, ["sigmoid"], "binary_cross_entropy",
                     [([[4.0]], [-2.0])])
    data = _write(tmp_path / "binary.csv", "x,ok\n0,no\n0,no\n0,yes\n1,yes\n1,no\n1,yes\n1,yes\n")
    report = evaluate_json(model, data)
    (target,) = report["targets"]
    assert target["confusion_matrix"]["counts"] == [[2, 1], [1, 3]]
    assert target["accuracy"] == pytest.approx(5 / 7)
    no, yes = target["classes"]
    assert (no["precision"], no["recall"], no["f1"]) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert (yes["precision"], yes["recall"], yes["f1"]) == pytest.approx((3 / 4, 3 / 4, 3 / 4))
    sigma = lambda a: 1 / (1 + math.exp(-a))  # noqa: E731
    cost = -(5 * math.log(sigma(2)) + 2 * math.log(sigma(-2))) / 7
    assert report["cost"]["value"] == pytest.approx(cost, rel=1e-12)


def test_confusion_and_class_metrics_functions() -> None:
    C = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 4)
    assert C.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    metrics = class_metrics(C, ["a", "b", "c", "d"])
    d = metrics["classes"][3]
    assert d == {"label": "d", "precision": None, "recall": None, "f1": None, "support": 0}
    assert metrics["accuracy"] == pytest.approx(3 / 5)


def test_iris_accuracy_agrees_with_predict(iris_model: Path) -> None:
    report = evaluate_json(iris_model, DATASETS / "iris.csv")
    predicted = run("predict", iris_model, DATASETS / "iris.csv").stdout
    rows = list(csv.DictReader(io.StringIO(predicted)))
    truth = [row["species"] for row in csv.DictReader(io.StringIO((DATASETS / "iris.csv").read_text()))]
    right = sum(row["species_predicted"] == t for row, t in zip(rows, truth))
    assert report["targets"][0]["accuracy"] == pytest.approx(right / 150)
    assert sum(c["support"] for c in report["targets"][0]["classes"]) == 150


# -- rows used ---------------------------------------------------------------------------------


def test_missing_cells_follow_the_models_missing_setting(
    mixed_drop_model: Path, mixed_mean_model: Path, tmp_path: Path
) -> None:
    data = _write(tmp_path / "gaps.csv", "x,color,y1,y2\n1,red,2,0\n,blue,5,1\n3,,6,2\n4,red,,2\n")
    drop = evaluate_json(mixed_drop_model, data)
    assert (drop["rows"], drop["rows_skipped"]) == (1, 3)
    mean = evaluate_json(mixed_mean_model, data)
    assert (mean["rows"], mean["rows_skipped"]) == (3, 1)  # features filled, no target: skipped
    text = run("evaluate", mixed_drop_model, data).stdout
    assert "1 rows, 3 skipped (data.missing: drop)" in text


def test_a_bad_cell_among_rows_a_drop_model_skips_is_on_its_own_line(
    mixed_drop_model: Path, tmp_path: Path
) -> None:
    """The rows left to evaluate keep the lines of the file they came from, also after
    blank lines before the header."""
    data = _write(tmp_path / "gaps.csv", "\n\nx,color,y1,y2\n1,red,2,0\n,blue,5,1\nabc,red,6,2\n")
    result = run("evaluate", mixed_drop_model, data)
    assert result.exit_code == 3
    assert "line 6, column 1 ('x'): feature 'x' needs numbers, found 'abc'" in result.stderr


def test_all_rows_skipped_is_an_error(mixed_drop_model: Path, tmp_path: Path) -> None:
    data = _write(tmp_path / "empty-ish.csv", "x,color,y1,y2\n,red,1,2\n1,,1,2\n")
    result = run("evaluate", mixed_drop_model, data)
    assert result.exit_code == 3
    assert "nothing to evaluate" in result.stderr


# -- errors ----------------------------------------------------------------------------------


def _one_error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def test_unseen_labels_are_listed_across_chunks(iris_model: Path, tmp_path: Path) -> None:
    lines = (DATASETS / "iris.csv").read_text().splitlines()
    lines[3] = lines[3].replace("setosa", "setosaa")
    lines[110] = lines[110].replace("virginica", "Virginica")
    lines[140] = lines[140].replace("virginica", "setosaa")
    data = _write(tmp_path / "typos.csv", "\n".join(lines) + "\n")
    message = _one_error(run("evaluate", iris_model, data, "--chunk-rows", "20"), 3)
    assert "target column 'species' has 2 values not seen in the training data" in message
    assert "'Virginica', 'setosaa' (3 rows, the first on line 4)" in message
    assert "the model knows 'setosa', 'versicolor', 'virginica'" in message


def test_unseen_feature_categories(mixed_mean_model: Path, tmp_path: Path) -> None:
    data = _write(tmp_path / "purple.csv", "x,color,y1,y2\n1,red,1,1\n2,purple,1,1\n")
    message = _one_error(run("evaluate", mixed_mean_model, data), 3)
    assert "feature column 'color' has 1 value not seen in the training data: 'purple'" in message


def test_missing_target_and_feature_columns(iris_model: Path, tmp_path: Path) -> None:
    data = _write(tmp_path / "no-target.csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n")
    message = _one_error(run("evaluate", iris_model, data), 3)
    assert "no target column 'species'" in message and "use nncli predict" in message
    data = _write(tmp_path / "no-feature.csv", "sepal_length,species\n1,setosa\n")
    assert "no feature columns 'sepal_width', 'petal_length', 'petal_width'" in _one_error(
        run("evaluate", iris_model, data), 3
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the data file is empty"),
        ("sepal_length,sepal_width,petal_length,petal_width,species\n", "header but no data rows"),
        ("sepal_length,sepal_width,petal_length,petal_width,species\n1,2,3,x,setosa\n",
         "line 2, column 4 ('petal_width'): feature 'petal_width' needs numbers, found 'x'"),
        ("sepal_length,sepal_width,petal_length,petal_width,species\n1,2,3,4,\n",
         "line 2, column 5 ('species'): missing value"),
    ],
)
def test_bad_files(iris_model: Path, tmp_path: Path, text: str, expected: str) -> None:
    data = _write(tmp_path / "bad.csv", text)
    assert expected in _one_error(run("evaluate", iris_model, data), 3)


def test_model_files_that_are_not_nncli_models(iris_model: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.ones(3))
    assert "no metadata array" in _one_error(run("evaluate", plain, DATASETS / "iris.csv"), 3)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(iris_model.read_bytes()[: 4000])
    assert "not a usable nncli model" in _one_error(run("evaluate", cut, DATASETS / "iris.csv"), 3)
    newer = rewrite_model(iris_model, tmp_path / "newer.npz",
                          metadata=lambda m: m.update(format_version=FORMAT_VERSION + 1))
    assert "upgrade nncli" in _one_error(run("evaluate", newer, DATASETS / "iris.csv"), 3)
