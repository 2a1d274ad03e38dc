"""`nncli predict`: round trips against the in-memory network, streaming, --keep, -o, and
every error case through the CLI with its message and exit code."""

from __future__ import annotations

import concurrent.futures

import csv
import io
import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from model_files import DATASETS, small_config, rewrite_model, train_model
from nncli import predict as predict_module
from nncli.cli import app
from nncli.data import read_csv
from nncli.modelfile import FORMAT_VERSION, load_model

pytest_plugins = ["model_fixtures"]

runner = CliRunner()


def run(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def rows_of(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def expected_Y_hat(model_path: Path, data: Path, chunk: int | None = None) -> np.ndarray:
    """Ŷ = network.forward(X), X read from the whole file at once (the in-memory reference),
    forwarded `chunk` columns at a time as predict does (BLAS may round a product of
    another width differently in the last bit)."""
    model = load_model(model_path)
    X = model.preprocessing.X(read_csv(data), model.network.dtype)
    chunk = chunk or X.shape[1]
    return np.hstack(
        [model.network.forward(X[:, i : i + chunk]) for i in range(0, X.shape[1], chunk)]
    )


def test_classification_round_trip_is_exact(iris_model: Path) -> None:
    result = run("predict", iris_model, DATASETS / "iris.csv", "--chunk-rows", "7")
    assert result.exit_code == 0, result.stderr
    header, rows = rows_of(result.stdout)
    classes = ["setosa", "versicolor", "virginica"]
    assert header == ["species_predicted"] + [f"species_probability_{c}" for c in classes]
    assert len(rows) == 150
    Y_hat = expected_Y_hat(iris_model, DATASETS / "iris.csv", chunk=7)
    probabilities = np.array([[float(cell) for cell in row[1:]] for row in rows]).T
    assert np.array_equal(probabilities, Y_hat)  # exactly: repr round-trips float64
    assert [row[0] for row in rows] == [classes[i] for i in np.argmax(Y_hat, axis=0)]
    truth = pd.read_csv(DATASETS / "iris.csv")["species"].tolist()
    assert sum(p[0] == t for p, t in zip(rows, truth)) > 120  # the model did learn


def test_chunk_size_changes_at_most_the_last_bits(iris_model: Path) -> None:
    whole = run("predict", iris_model, DATASETS / "iris.csv")
    chunked = run("predict", iris_model, DATASETS / "iris.csv", "--chunk-rows", "1")
    assert whole.exit_code == chunked.exit_code == 0
    _, a = rows_of(whole.stdout)
    _, b = rows_of(chunked.stdout)
    assert [row[0] for row in a] == [row[0] for row in b]
    A = np.array([[float(c) for c in row[1:]] for row in a])
    B = np.array([[float(c) for c in row[1:]] for row in b])
    np.testing.assert_allclose(A, B, rtol=1e-12, atol=1e-300)


def test_regression_in_original_units(diabetes_model: Path) -> None:
    """The model was trained on standard-scaled targets: predict undoes the scaling."""
    result = run("predict", diabetes_model, DATASETS / "diabetes.csv", "--chunk-rows", "100")
    assert result.exit_code == 0, result.stderr
    header, rows = rows_of(result.stdout)
    assert header == ["progression_predicted"]
    model = load_model(diabetes_model)
    target = model.preprocessing.targets[0]
    assert target.scale != 1.0 and target.center != 0.0
    Y_hat = expected_Y_hat(diabetes_model, DATASETS / "diabetes.csv", chunk=100)
    predicted = np.array([float(row[0]) for row in rows])
    assert np.array_equal(predicted, Y_hat[0] * target.scale + target.center)
    progression = pd.read_csv(DATASETS / "diabetes.csv")["progression"]
    assert 100 < predicted.mean() < 200  # units of the target (25 … 346), not z-scores
    assert abs(predicted.mean() - progression.mean()) < 30


def test_binary_probabilities(cancer_model: Path) -> None:
    result = run("predict", cancer_model, DATASETS / "breast-cancer.csv")
    assert result.exit_code == 0, result.stderr
    header, rows = rows_of(result.stdout)
    negative, positive = load_model(cancer_model).preprocessing.targets[0].classes
    assert header == [
        "diagnosis_predicted",
        f"diagnosis_probability_{negative}",
        f"diagnosis_probability_{positive}",
    ]
    Y_hat = expected_Y_hat(cancer_model, DATASETS / "breast-cancer.csv")[0]
    assert np.array_equal(np.array([float(r[2]) for r in rows]), Y_hat)
    assert np.array_equal(np.array([float(r[1]) for r in rows]), 1.0 - Y_hat)
    assert [r[0] for r in rows] == [positive if p >= 0.5 else negative for p in Y_hat]


def test_float32_model_round_trip(tmp_path: Path) -> None:
    config = small_config(
        str(DATASETS / "iris.csv"), None, ["species"],
        [{"neurons": 4, "activation": "relu"}, {"neurons": 3, "activation": "softmax"}],
        "categorical_cross_entropy", 0.3, 20,
    )
    config["training"]["dtype"] = "float32"
    model = train_model(tmp_path, "iris32", config)
    result = run("predict", model, DATASETS / "iris.csv")
    assert result.exit_code == 0, result.stderr
    _, rows = rows_of(result.stdout)
    Y_hat = expected_Y_hat(model, DATASETS / "iris.csv")
    assert Y_hat.dtype == np.float32
    values = np.array([[np.float32(cell) for cell in row[1:]] for row in rows], dtype=np.float32).T
    assert np.array_equal(values, Y_hat)
    assert len(rows[0][1]) <= 16  # the shortest float32 text, not the float64 expansion


def test_keep_columns_any_order_and_targets_ignored(iris_model: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(DATASETS / "iris.csv")
    shuffled = frame[["petal_width", "species", "sepal_width", "petal_length", "sepal_length"]]
    shuffled.insert(0, "id", [f"{i:04d}" for i in range(len(frame))])
    shuffled.insert(3, "note", "extra, ignored")
    path = tmp_path / "shuffled.csv"
    shuffled.to_csv(path, index=False)
    reference = run("predict", iris_model, DATASETS / "iris.csv")
    result = run("predict", iris_model, path, "--keep", "id", "--keep", "note")
    assert result.exit_code == 0, result.stderr
    header, rows = rows_of(result.stdout)
    assert header[:2] == ["id", "note"]
    assert [row[0] for row in rows] == [f"{i:04d}" for i in range(150)]  # 0007 stays text
    assert all(row[1] == "extra, ignored" for row in rows)  # quoted on output, read back
    _, reference_rows = rows_of(reference.stdout)
    assert [row[2:] for row in rows] == reference_rows
    # without the target column: the same predictions
    no_target = tmp_path / "no-target.csv"
    shuffled.drop(columns=["species"]).to_csv(no_target, index=False)
    again = run("predict", iris_model, no_target)
    assert again.stdout == reference.stdout


def test_output_file_is_written_atomically(iris_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "predictions.csv"
    result = run("predict", iris_model, DATASETS / "iris.csv", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "predictions for 150 rows written to" in result.stderr
    assert out.read_text() == run("predict", iris_model, DATASETS / "iris.csv").stdout
    # an error in a later chunk leaves the previous file as it was, and no temporary file
    bad = tmp_path / "bad.csv"
    lines = (DATASETS / "iris.csv").read_text().splitlines()
    lines[120] = "5.0,oops,1.0,0.2,setosa"
    bad.write_text("\n".join(lines) + "\n")
    before = out.read_bytes()
    failed = run("predict", iris_model, bad, "-o", out, "--chunk-rows", "10")
    assert failed.exit_code == 3
    assert "line 121, column 2 ('sepal_width')" in failed.stderr
    assert "found 'oops'" in failed.stderr
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["predictions.csv"]


def test_output_over_the_model_or_the_data_is_refused(iris_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "iris.csv"
    data.write_bytes((DATASETS / "iris.csv").read_bytes())
    for target in (iris_model, data):
        result = run("predict", iris_model, data, "-o", target)
        assert result.exit_code == 2
        assert "give another file name" in result.stderr
    assert data.read_bytes() == (DATASETS / "iris.csv").read_bytes()
    load_model(iris_model)


def test_missing_cells_with_a_drop_model_give_empty_predictions(
    mixed_drop_model: Path, tmp_path: Path
) -> None:
    data = tmp_path / "gaps.csv"
    data.write_text("id,color,x\nr1,red,1.5\nr2,blue,\nr3,,3.0\nr4,green,4.5\n")
    result = run("predict", mixed_drop_model, data, "--keep", "id", "--chunk-rows", "2")
    assert result.exit_code == 0, result.stderr
    header, rows = rows_of(result.stdout)
    assert header == ["id", "y1_predicted", "y2_predicted"]
    assert [row[0] for row in rows] == ["r1", "r2", "r3", "r4"]  # one row per input row
    assert rows[1][1:] == ["", ""] and rows[2][1:] == ["", ""]
    assert all(cell != "" for cell in rows[0][1:] + rows[3][1:])
    assert "2 of 4 rows have missing feature cells" in result.stderr
    assert "line 3, column 'x'" in result.stderr
    assert "data.missing: drop" in result.stderr
    complete = tmp_path / "complete.csv"
    complete.write_text("id,color,x\nr1,red,1.5\nr4,green,4.5\n")
    _, reference = rows_of(run("predict", mixed_drop_model, complete, "--keep", "id").stdout)
    assert [rows[0], rows[3]] == reference


def test_missing_cells_with_a_mean_model_are_filled(mixed_mean_model: Path, tmp_path: Path) -> None:
    model = load_model(mixed_mean_model)
    x, color = model.preprocessing.features
    data = tmp_path / "gaps.csv"
    data.write_text("x,color\n,red\n2.0,\n")
    filled = tmp_path / "filled.csv"
    filled.write_text(f"x,color\n{x.fill!r},red\n2.0,{color.fill}\n")
    result = run("predict", mixed_mean_model, data)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == run("predict", mixed_mean_model, filled).stdout
    assert result.stderr == ""


def test_labels_with_commas_and_quotes_are_quoted(tmp_path: Path) -> None:
    rows = "".join(
        f"{x},{label}\n" for x in range(6) for label in ['"a, b"', '"say ""hi"""']
    )
    (tmp_path / "quotes.csv").write_text("x,label\n" + rows)
    config = small_config(
        str(tmp_path / "quotes.csv"), ["x"], ["label"],
        [{"neurons": 2, "activation": "softmax"}], "categorical_cross_entropy", 0.1, 5,
    )
    model = train_model(tmp_path, "quotes", config)
    result = run("predict", model, tmp_path / "quotes.csv")
    assert result.exit_code == 0, result.stderr
    header, parsed = rows_of(result.stdout)
    assert header == ["label_predicted", "label_probability_a, b", 'label_probability_say "hi"']
    assert {row[0] for row in parsed} <= {"a, b", 'say "hi"'}
    assert all(len(row) == 3 for row in parsed)


# -- errors --------------------------------------------------------------------------------


def _one_error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    return result.stderr


def test_missing_feature_columns_are_listed(iris_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "partial.csv"
    data.write_text("sepal_length,petal_lenght,extra\n1,2,3\n")
    message = _one_error(run("predict", iris_model, data), 3)
    assert "no feature columns 'sepal_width', 'petal_length', 'petal_width'" in message
    assert (
        "the model expects the feature columns 'sepal_length', 'sepal_width', "
        "'petal_length', 'petal_width'" in message
    )
    assert "the file has 'sepal_length', 'petal_lenght', 'extra'" in message
    assert "did you mean 'petal_lenght' for 'petal_length'?" in message


def test_wrong_delimiter_gets_a_hint(iris_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "semicolons.csv"
    data.write_text("sepal_length;sepal_width;petal_length;petal_width\n1;2;3;4\n")
    result = run("predict", iris_model, data, "--delimiter", ",")
    assert "';'" in _one_error(result, 3)  # the message names the delimiter the file uses
    assert run("predict", iris_model, data).exit_code == 0  # detected when not forced
    assert "give one character" in _one_error(run("predict", iris_model, data, "--delimiter", ";;"), 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n1,2,three,4\n",
         "line 3, column 3 ('petal_length'): feature 'petal_length' needs numbers, found 'three'"),
        ("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n1,,3,4\n",
         "line 3, column 2 ('sepal_width'): missing value; the model was trained with "
         "data.missing: error"),
        ("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n1,2,3\n",
         "line 3: the row has 3 fields, the header has 4"),
        ("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,inf\n",
         "line 2, column 4 ('petal_width'): infinite value"),
        ("", "the data file is empty"),
        ("\n\n", "the data file is empty"),
        ("sepal_length,sepal_width,petal_length,petal_width\n", "has a header but no data rows"),
    ],
)
def test_bad_cells_and_empty_files(iris_model: Path, tmp_path: Path, text: str, expected: str) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(text)
    message = _one_error(run("predict", iris_model, data), 3)
    assert message.startswith(f"error: {data}")
    assert expected in message


def test_unseen_category(mixed_mean_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "purple.csv"
    data.write_text("x,color\n1,red\n2,purple\n3,mauve\n")
    message = _one_error(run("predict", mixed_mean_model, data), 3)
    assert "line 3, column 2 ('color')" in message
    assert "feature values 'mauve', 'purple' not seen in the training data" in message
    assert "the model knows 'blue', 'green', 'red'" in message


def test_missing_data_file_and_keep_column(iris_model: Path, tmp_path: Path) -> None:
    assert "data file not found" in _one_error(run("predict", iris_model, tmp_path / "nope.csv"), 3)
    message = _one_error(run("predict", iris_model, DATASETS / "iris.csv", "--keep", "specis"), 2)
    assert "--keep specis" in message and "did you mean --keep species?" in message
    clash = run("predict", iris_model, DATASETS / "iris.csv", "--keep", "species_predicted")
    assert "a prediction column" in _one_error(clash, 2)


def test_model_files_that_are_not_nncli_models(iris_model: Path, tmp_path: Path) -> None:
    data = DATASETS / "iris.csv"
    plain = tmp_path / "plain.npz"
    np.savez(plain, W1=np.zeros((3, 4)), beta1=np.zeros(3))
    assert "it has no metadata array" in _one_error(run("predict", plain, data), 3)
    noise = tmp_path / "noise.npz"
    noise.write_bytes(random.Random(0).randbytes(2048))
    assert "not a .npz (zip) file" in _one_error(run("predict", noise, data), 3)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(iris_model.read_bytes()[:-100])
    assert "not a usable nncli model" in _one_error(run("predict", truncated, data), 3)
    assert "model file not found" in _one_error(run("predict", tmp_path / "none.npz", data), 3)
    text = tmp_path / "model.npz"
    text.write_text(json.dumps({"format": "nncli-model"}))
    assert "not a usable nncli model" in _one_error(run("predict", text, data), 3)


def test_newer_model_format_says_upgrade(iris_model: Path, tmp_path: Path) -> None:
    newer = rewrite_model(
        iris_model, tmp_path / "newer.npz",
        metadata=lambda m: m.update(format_version=FORMAT_VERSION + 1),
    )
    message = _one_error(run("predict", newer, DATASETS / "iris.csv"), 3)
    assert f"in model format {FORMAT_VERSION + 1}" in message
    assert "help: upgrade nncli" in message



def test_a_closed_pipe_ends_quietly(iris_model: Path, tmp_path: Path) -> None:
    """`nncli predict … | head -n 1`: exit code 0 and nothing on stderr, not a traceback."""
    import subprocess
    import sys

    rows = pd.read_csv(DATASETS / "iris.csv")
    big = tmp_path / "big.csv"
    pd.concat([rows] * 200).to_csv(big, index=False)  # 30000 rows: more than a pipe holds
    process = subprocess.Popen(
        [sys.executable, "-m", "nncli", "predict", str(iris_model), str(big), "--chunk-rows", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"species_predicted,")
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 0
    assert stderr == b""


class _Inline(concurrent.futures.Executor):
    """An executor that runs what it is given at once, on the calling thread."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


@pytest.fixture(params=["overlapped", "inline"])
def forward_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Ŷ on the second thread (as predict does), or on the calling thread, chunk after chunk."""
    if request.param == "inline":
        monkeypatch.setattr(predict_module, "ThreadPoolExecutor", _Inline)
    return str(request.param)


@pytest.mark.parametrize("dataset", ["iris", "diabetes", "breast-cancer"])
def test_the_same_file_with_and_without_the_second_thread(
    dataset: str, iris_model: Path, diabetes_model: Path, cancer_model: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = {"iris": iris_model, "diabetes": diabetes_model, "breast-cancer": cancer_model}[dataset]
    args = ("predict", model, DATASETS / f"{dataset}.csv", "--chunk-rows", "40")
    overlapped = run(*args)
    monkeypatch.setattr(predict_module, "ThreadPoolExecutor", _Inline)
    inline = run(*args)
    assert overlapped.exit_code == inline.exit_code == 0, overlapped.stderr
    assert overlapped.stdout == inline.stdout


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("three,4", "line 13, column 3 ('petal_length'): feature 'petal_length' needs numbers"),
        ("3,4,5", "line 13: the row has 5 fields, the header has 4"),
    ],
)
def test_rows_before_a_bad_chunk_are_written_first(
    iris_model: Path, tmp_path: Path, cell: str, expected: str, forward_mode: str
) -> None:
    """The next chunk is read while the network works on this one; an error in it (a bad
    cell found preparing X, a row the parser rejects) still comes after this chunk's rows."""
    rows = ["1,2,3,4"] * 11 + [f"1,2,{cell}"] + ["1,2,3,4"] * 3
    data = tmp_path / "late.csv"
    data.write_text("sepal_length,sepal_width,petal_length,petal_width\n" + "\n".join(rows) + "\n")
    result = run("predict", iris_model, data, "--chunk-rows", "5")
    assert result.exit_code == 3
    header, written = rows_of(result.stdout)
    assert header[0] == "species_predicted"
    assert len(written) == 10  # the two chunks before the bad one
    assert expected in result.stderr


def test_an_error_in_the_forward_pass_is_raised_in_order(
    iris_model: Path, monkeypatch: pytest.MonkeyPatch, forward_mode: str
) -> None:
    """Ŷ is computed on a second thread: what goes wrong there reaches the command as if
    it had happened on this one (an internal error, exit 1), after the earlier chunks."""
    from nncli.network import Network

    real_forward = Network.forward
    calls: list[int] = []

    def failing(self: Network, X: np.ndarray) -> np.ndarray:
        calls.append(X.shape[1])
        if len(calls) == 3:
            raise RuntimeError("injected failure in the forward pass")
        return real_forward(self, X)

    monkeypatch.setattr(Network, "forward", failing)
    result = run("predict", iris_model, DATASETS / "iris.csv", "--chunk-rows", "20")
    assert result.exit_code == 1
    assert "injected failure in the forward pass" in result.output
    _, written = rows_of(result.stdout)
    assert len(written) == 40


def test_blas_runs_on_one_thread_while_predicting(
    iris_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forward pass runs beside the CSV parser; BLAS threads of its own would fight it
    for the cores. Afterwards BLAS has its threads back."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from nncli.network import Network

    def blas_threads() -> list[int]:
        return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    seen: list[list[int]] = []
    real_forward = Network.forward

    def forward(self: Network, X: np.ndarray) -> np.ndarray:
        seen.append(blas_threads())
        return real_forward(self, X)

    monkeypatch.setattr(Network, "forward", forward)
    result = run("predict", iris_model, DATASETS / "iris.csv", "--chunk-rows", "50")
    assert result.exit_code == 0, result.stderr
    assert before and len(seen) == 3
    assert all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before


def test_a_bad_cell_among_rows_a_drop_model_skips_is_on_its_own_line(
    mixed_drop_model: Path, tmp_path: Path
) -> None:
    """The rows left to predict keep the lines of the file they came from, also after blank
    lines before the header."""
    data = tmp_path / "gaps.csv"
    data.write_text("\n\nid,color,x\nr1,red,1.5\nr2,blue,\nr3,red,abc\n")
    message = _one_error(run("predict", mixed_drop_model, data, "--keep", "id"), 3)
    assert "line 6, column 3 ('x'): feature 'x' needs numbers, found 'abc'" in message


def test_a_lone_empty_prediction_cell_is_quoted(tmp_path: Path) -> None:
    """One output column and a row without a prediction: '""', not a blank line, which
    a CSV reader would skip (and the rows would no longer line up with the input's)."""
    from model_files import MIXED_CSV

    (tmp_path / "mixed.csv").write_text(MIXED_CSV, encoding="utf-8")
    config = small_config(
        str(tmp_path / "mixed.csv"), ["x"], ["y1"], [{"neurons": 1}], "mse", 0.1, 20, missing="drop"
    )
    model = train_model(tmp_path, "one-column", config)
    data = tmp_path / "gaps.csv"
    data.write_text("x,note\n1.5,a\n,b\n2.5,c\n")  # the second row has no x
    result = run("predict", model, data)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "y1_predicted" and lines[2] == '""' and lines[4] == ""
    assert float(lines[1]) and float(lines[3])
    _, rows = rows_of(result.stdout)
    assert rows[1] == [""] and len(rows) == 3
