"""CSV data through `nncli train`.

Part 1, bad input: each gets one clear message, the right exit code, and no model file.

Exit codes (README "Exit codes"): 3 for a problem in a data file (missing, unreadable, bad
cells, a column the config names but the file lacks, a target with one class); 2 for a
config that does not fit the data (output layer size vs classes or targets), located at the
YAML line to change.

Part 2, behaviour: mixed column types trained and applied end to end from the saved model
(`Preprocessing.X` / `decode` and `network.forward`, as predict does), statistics fitted on
the training part only, column order, stratified seeded splits, constant columns, scale
warnings, validation metrics, and the shipped example configs.

Every fixture is a small CSV written into tmp_path with a config next to it; expected
statistics are computed here from the fixture rows, independently of nncli.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from nncli.cli import app
from nncli.data import read_csv, split_rows
from nncli.modelfile import load_model

REPO = Path(__file__).resolve().parent.parent

runner = CliRunner()

OUTPUT = {
    "mse": "identity",
    "binary_cross_entropy": "sigmoid",
    "categorical_cross_entropy": "softmax",
}


def project(
    tmp_path: Path,
    csv: str | bytes | None,
    *,
    cost: str = "mse",
    out: int = 1,
    data: dict[str, Any] | None = None,
    iterations: int = 20,
    name: str = "data.csv",
    hidden: int = 3,
    learning_rate: float = 0.1,
) -> Path:
    """Write `csv` (None: no file) as tmp_path/name and a config next to it; return its path."""
    if csv is not None:
        raw = csv if isinstance(csv, bytes) else csv.encode("utf-8")
        (tmp_path / name).write_bytes(raw)
    config = {
        "seed": 0,
        "data": {"train": name, "targets": ["y"], **(data or {})},
        "network": {
            "layers": [
                {"neurons": hidden, "activation": "tanh"},
                {"neurons": out, "activation": OUTPUT[cost]},
            ]
        },
        "cost": cost,
        "training": {"learning_rate": learning_rate, "log_every": 5},
        "stopping": {"max_iterations": iterations},
        "output": {"model": "model.npz"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def train(config: Path, *args: str) -> Any:
    return runner.invoke(app, ["train", str(config), *args])


def rejected(result: Any, config: Path, code: int, *fragments: str) -> str:
    """The run failed with `code`, one message holding every fragment, and no model file."""
    err = result.stderr
    assert result.exit_code == code, (result.exit_code, result.stdout, err)
    assert err.startswith("error: "), err
    assert "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    left = sorted(p.name for p in config.parent.iterdir() if p.suffix == ".npz" or ".tmp" in p.name)
    assert left == [], left
    return err


# -- the file itself ----------------------------------------------------------------------


def test_missing_file_names_it_and_lists_nearby_csv_files(tmp_path: Path) -> None:
    (tmp_path / "trian.csv").write_text("a,y\n1,2\n")
    config = project(tmp_path, None)
    rejected(
        train(config),
        config,
        3,
        f"{tmp_path / 'data.csv'}: training data file not found",
        "trian.csv",
    )


def test_missing_validation_file_is_named_as_such(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,2\n3,4\n", data={"validation": {"file": "valid.csv"}})
    rejected(train(config), config, 3, f"{tmp_path / 'valid.csv'}: validation data file not found")


@pytest.mark.parametrize("content", ["", "\n\n", "  \n\t\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    config = project(tmp_path, content)
    rejected(train(config), config, 3, "data.csv: the training data file is empty")


@pytest.mark.parametrize("content", ["a,b,y\n", "a,b,y\n\n\n", "\na,b,y\n  \n"])
def test_header_only(tmp_path: Path, content: str) -> None:
    config = project(tmp_path, content)
    rejected(
        train(config), config, 3, "data.csv: the training data file has a header but no data rows"
    )


def test_a_row_of_empty_cells_is_a_row_not_a_blank_line(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y\n1,2,3\n\n,,\n4,5,6\n")
    rejected(
        train(config),
        config,
        3,
        "3 missing cells",
        "'a': 1 (line 4)",
        "nothing but empty cells (line 4)",
    )


def test_blank_lines_before_the_header_are_skipped_and_counted(tmp_path: Path) -> None:
    config = project(tmp_path, "\n\na,b,y\n1,2,3\n4,x,6\n5,6,7\n7,8,9\n")
    rejected(train(config), config, 3, "data.csv, line 5, column 2 ('b')", "'x'")


def test_not_utf8_names_the_line_and_byte(tmp_path: Path) -> None:
    config = project(tmp_path, b"a,b,y\n1,2,3\n4,5,6\n7,caf\xe9,9\n")
    rejected(train(config), config, 3, "data.csv, line 4: not UTF-8 text", "0xe9")


def test_utf16_is_recognised(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y\n1,2,3\n".encode("utf-16"))
    rejected(train(config), config, 3, "UTF-16", "UTF-8")


# -- rows with the wrong number of fields ---------------------------------------------------


def test_row_with_too_many_fields_reports_the_real_line(tmp_path: Path) -> None:
    # blank lines and a quoted cell spanning two lines come before the bad row
    config = project(tmp_path, 'a,b,y\n1,2,3\n\n4,"x\ny",6\n\n7,8,9,10\n1,1,1\n')
    rejected(train(config), config, 3, "data.csv, line 7: the row has 4 fields, the header has 3")


def test_every_row_one_field_too_many_is_an_error_not_an_index(tmp_path: Path) -> None:
    # pandas would silently take the first column as the row index and shift the data
    config = project(tmp_path, "a,b,y\n1,2,3,4\n5,6,7,8\n")
    rejected(train(config), config, 3, "data.csv, line 2: the row has 4 fields, the header has 3")


def test_row_with_too_few_fields_reports_the_real_line(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y\n1,2,3\n\n4,5,6\n\n7,8\n1,1,1\n")
    rejected(train(config), config, 3, "data.csv, line 6: the row has 2 fields, the header has 3")


def test_row_with_too_few_fields_after_many_rows_with_empty_cells(tmp_path: Path) -> None:
    rows = "".join(f"{i},,{i % 3}\n" for i in range(300))  # 3 fields each, b empty
    config = project(
        tmp_path, "a,b,y\n" + rows + "1,2\n", data={"features": ["a"], "missing": "drop"}
    )
    rejected(train(config), config, 3, "data.csv, line 302: the row has 2 fields, the header has 3")


def test_unclosed_quote_names_the_line_where_it_opens(tmp_path: Path) -> None:
    config = project(tmp_path, 'a,b,y\n1,2,3\n4,"5,6\n7,8,9\n')
    rejected(train(config), config, 3, "data.csv, line 3:", "never closed")


# -- delimiters and encodings ---------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_are_detected(tmp_path: Path, delimiter: str) -> None:
    rows = ["a,b,y", "1,2,3", "4,5,6", "7,8,9"]
    config = project(tmp_path, "".join(r.replace(",", delimiter) + "\n" for r in rows))
    result = train(config)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "model.npz").exists()


def test_wrong_delimiter_in_the_config_suggests_the_right_one(tmp_path: Path) -> None:
    config = project(tmp_path, "a;b;y\n1;2;3\n4;5;6\n", data={"delimiter": ","})
    rejected(train(config), config, 3, "data.csv", "data.delimiter: ';'")


def test_unknown_delimiter_suggests_it(tmp_path: Path) -> None:
    config = project(tmp_path, "a|b|y\n1|2|3\n4|5|6\n")
    rejected(train(config), config, 3, "data.csv", "'a|b|y'", "data.delimiter: '|'")


def test_ambiguous_delimiter_asks_for_one_and_suggests_the_better(tmp_path: Path) -> None:
    # split by ";" every cell is a number, split by "," none is
    config = project(tmp_path, "a;b,y\n1;2,5\n3;4,5\n")
    err = rejected(train(config), config, 3, "data.csv", "ambiguous", "data.delimiter")
    assert "data.delimiter: ';'" in err


def test_decimal_commas_are_named(tmp_path: Path) -> None:
    config = project(tmp_path, "a;b;y\n1,5;2;3\n4,25;5;6\n2,0;1;1\n")
    rejected(train(config), config, 3, "data.csv, line 2, column 1 ('a')", "'1,5'", "decimal comma")


def test_utf8_byte_order_mark_just_works(tmp_path: Path) -> None:
    config = project(
        tmp_path, b"\xef\xbb\xbfa,b,y\n1,2,3\n4,5,6\n7,8,9\n", data={"features": ["a", "b"]}
    )
    result = train(config)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "model.npz").exists()


def test_byte_order_mark_does_not_shift_line_numbers(tmp_path: Path) -> None:
    config = project(tmp_path, b"\xef\xbb\xbfa,b,y\n1,2,3\n4,5,6\nx,8,9\n7,8,9\n9,9,9\n")
    rejected(train(config), config, 3, "data.csv, line 4, column 1 ('a')", "'x'")


# -- columns -------------------------------------------------------------------------------


def test_duplicate_column_names(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,a,y\n1,2,3,4\n")
    rejected(
        train(config), config, 3, "data.csv, line 1", "duplicate column name 'a'", "columns 1 and 3"
    )


def test_header_ending_in_a_delimiter(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y,\n1,2,3,\n")
    rejected(train(config), config, 3, "data.csv, line 1, column 4", "no name", "ends with")


def test_feature_not_in_the_file_lists_the_columns_that_are(tmp_path: Path) -> None:
    config = project(
        tmp_path, "alpha,beta,y\n1,2,3\n4,5,6\n", data={"features": ["alpha", "betta"]}
    )
    err = rejected(
        train(config), config, 3, "data.csv", "'betta'", "data.features", "'alpha', 'beta', 'y'"
    )
    assert "config.yaml, line" in err  # where the config names it
    assert "did you mean 'beta'" in err


def test_target_not_in_the_file_lists_the_columns_that_are(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,price\n1,2,3\n")
    rejected(train(config), config, 3, "data.csv", "'y'", "data.targets", "'a', 'b', 'price'")


@pytest.mark.parametrize("key", ["features", "targets"])
def test_a_column_listed_twice_in_the_config(tmp_path: Path, key: str) -> None:
    data = {"features": ["a", "b", "a"]} if key == "features" else {"targets": ["y", "y"]}
    config = project(tmp_path, "a,b,y\n1,2,3\n4,5,6\n", out=2 if key == "targets" else 1, data=data)
    rejected(train(config), config, 2, "config.yaml, line", f"data.{key}", "listed more than once")


def test_a_column_both_feature_and_target(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y\n1,2,3\n", data={"features": ["a", "y"]})
    rejected(train(config), config, 2, "config.yaml, line", "data.features", "'y' is both")


def test_validation_file_without_a_feature_column(tmp_path: Path) -> None:
    (tmp_path / "valid.csv").write_text("a,y\n1,2\n")
    config = project(tmp_path, "a,b,y\n1,2,3\n4,5,6\n", data={"validation": {"file": "valid.csv"}})
    rejected(train(config), config, 3, "valid.csv", "'b'", "'a', 'y'")


# -- cells ---------------------------------------------------------------------------------


def test_non_numeric_cell_in_a_numeric_column(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y\n1,2,3\n4,5,6\n7,8,9\n1,x1,2\n2,3,4\n")
    rejected(train(config), config, 3, "data.csv, line 5, column 2 ('b')", "needs numbers", "'x1'")


def test_non_numeric_cell_in_a_numeric_target(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,3\n4,6\n7,9\n1,?\n2,4\n")
    rejected(train(config), config, 3, "data.csv, line 5, column 2 ('y')", "'?'")


def test_missing_cells_with_missing_error_counts_per_column(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y\n1,,3\n4,5,6\n,8,9\n1,,2\n7,7,\n")
    err = rejected(train(config), config, 3, "data.csv", "data.missing")
    assert "(data.missing: error)" in err
    assert "'a': 1 (line 4)" in err
    assert "'b': 2 (first on line 2)" in err
    assert "'y': 1 (line 6)" in err


@pytest.mark.parametrize("cell", ["inf", "-inf", "1e999"])
def test_infinite_values(tmp_path: Path, cell: str) -> None:
    config = project(tmp_path, f"a,b,y\n1,2,3\n4,{cell},6\n7,8,9\n")
    rejected(train(config), config, 3, "data.csv, line 3, column 2 ('b')", f"'{cell}'", "infinite")


def test_column_with_no_values_at_all(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y\n1,,3\n4,,6\n", data={"missing": "mean"})
    rejected(train(config), config, 3, "data.csv", "'b'", "no values")


# -- targets against the network ------------------------------------------------------------


def test_categorical_target_with_only_one_class(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,cat\n2,cat\n", cost="categorical_cross_entropy", out=2)
    rejected(train(config), config, 3, "data.csv", "'y'", "only one class ('cat')")


def test_binary_target_with_only_one_class(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,yes\n2,yes\n", cost="binary_cross_entropy")
    rejected(train(config), config, 3, "data.csv", "'y'", "only one class ('yes')")


def test_binary_target_with_three_classes(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,u\n2,v\n3,w\n", cost="binary_cross_entropy")
    rejected(train(config), config, 3, "'y' has 3 distinct values", "categorical_cross_entropy")


@pytest.mark.parametrize(("neurons", "word"), [(2, "more"), (4, "fewer")])
def test_classes_against_output_neurons(tmp_path: Path, neurons: int, word: str) -> None:
    config = project(
        tmp_path, "a,y\n1,u\n2,v\n3,w\n", cost="categorical_cross_entropy", out=neurons
    )
    rejected(
        train(config),
        config,
        2,
        "config.yaml, line",
        "network.layers[1].neurons",
        f"{neurons} neurons but target 'y' has 3 classes ('u', 'v', 'w')",
        f"{word} classes",
        "neurons: 3",
    )


def test_binary_target_with_two_output_neurons(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,no\n2,yes\n", cost="binary_cross_entropy", out=2)
    rejected(train(config), config, 2, "network.layers[1].neurons", "2 neurons", "1 target")


def test_regression_target_holding_text(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,low\n2,high\n")
    rejected(train(config), config, 3, "data.csv", "'y' holds text", "categorical_cross_entropy")


def test_unseen_category_in_the_validation_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "valid.csv").write_text("a,colour,y\n1,red,1\n2,mauve,2\n")
    config = project(
        tmp_path,
        "a,colour,y\n1,red,1\n2,blue,2\n3,red,3\n",
        data={"validation": {"file": "valid.csv"}},
    )
    rejected(
        train(config),
        config,
        3,
        "valid.csv, line 3, column 2 ('colour')",
        "'mauve'",
        "'blue', 'red'",
    )


# == part 2: behaviour =========================================================================


def write_rows(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """A CSV of `rows`; None is an empty (missing) cell."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])


def mixed_rows(n: int = 90) -> list[dict[str, Any]]:
    """Numbers, strings and booleans, with missing cells; the class follows colour and size."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(n):
        size = round(float(rng.uniform(0, 10)), 2)
        colour = ["red", "green", "blue"][i % 3]
        label = "A" if colour == "red" else ("B" if size < 5 else "C")
        rows.append({"size": size, "colour": colour, "member": bool(rng.integers(2)), "y": label})
    for i in range(3, n, 7):
        rows[i]["size"] = None
    for i in range(5, n, 11):
        rows[i]["colour"] = None
    for i in range(2, n, 13):
        rows[i]["member"] = None
    return rows


FEATURES = ["size", "colour", "member"]


def most_frequent(values: list[Any]) -> Any:
    counts = Counter(values)
    top = max(counts.values())
    return sorted(v for v in counts if counts[v] == top)[0]


@pytest.mark.parametrize("missing", ["mean", "most_frequent", "drop"])
def test_mixed_types_train_and_predict_end_to_end(tmp_path: Path, missing: str) -> None:
    rows = mixed_rows()
    write_rows(tmp_path / "data.csv", ["size", "colour", "member", "y"], rows)
    config = project(
        tmp_path,
        None,
        cost="categorical_cross_entropy",
        out=3,
        hidden=8,
        learning_rate=0.5,
        iterations=500,
        data={"features": FEATURES, "missing": missing},
    )
    result = train(config)
    assert result.exit_code == 0, result.stderr
    complete = [r for r in rows if all(r[c] is not None for c in FEATURES)]
    fitted_on = complete if missing == "drop" else rows
    if missing == "drop":
        assert (
            f"left out {len(rows) - len(complete)} training data rows with a missing cell"
            in result.stderr
        )

    model = load_model(tmp_path / "model.npz")
    pre = model.preprocessing
    size, colour, member = pre.features
    assert [c.kind for c in pre.features] == ["numeric", "categorical", "categorical"]
    assert colour.categories == ["blue", "green", "red"]
    assert member.categories == [False, True]
    assert pre.targets[0].classes == ["A", "B", "C"]
    assert model.metadata["inputs"] == [
        "size",
        "colour=blue",
        "colour=green",
        "colour=red",
        "member=False",
        "member=True",
    ]

    # the statistics, computed here from the rows nncli was meant to fit them on
    sizes = [r["size"] for r in fitted_on if r["size"] is not None]
    fill = {"mean": float(np.mean(sizes)), "most_frequent": most_frequent(sizes), "drop": None}[
        missing
    ]
    filled = np.array([fill if r["size"] is None else r["size"] for r in fitted_on])
    assert size.fill == pytest.approx(fill) if fill is not None else size.fill is None
    assert size.center == pytest.approx(filled.mean())
    assert size.scale == pytest.approx(filled.std())
    colour_fill = most_frequent([r["colour"] for r in fitted_on if r["colour"] is not None])
    assert colour.fill == (None if missing == "drop" else colour_fill)

    # predict: a file without the target, its columns in another order, missing cells filled
    new = [dict(r) for r in complete[:12]]
    if missing != "drop":
        new.append({"size": None, "colour": None, "member": None})
    write_rows(tmp_path / "new.csv", ["member", "colour", "size"], new)
    X = pre.X(read_csv(tmp_path / "new.csv"))
    expected = np.zeros((6, len(new)))
    for k, row in enumerate(new):
        value = size.fill if row["size"] is None else row["size"]
        expected[0, k] = (value - size.center) / size.scale
        expected[1 + colour.categories.index(row["colour"] or colour.fill), k] = 1
        expected[
            4 + member.categories.index(member.fill if row["member"] is None else row["member"]), k
        ] = 1
    np.testing.assert_allclose(X, expected, rtol=1e-12)
    decoded = pre.decode(model.network.forward(X))
    assert list(decoded.columns) == [
        "y_predicted",
        "y_probability_A",
        "y_probability_B",
        "y_probability_C",
    ]
    np.testing.assert_allclose(decoded.iloc[:, 1:].sum(axis=1), 1.0)
    assert set(decoded["y_predicted"]) <= {"A", "B", "C"}

    # and it learned something: the complete training rows are mostly classified right
    write_rows(tmp_path / "known.csv", ["colour", "size", "member"], complete)
    decoded = pre.decode(model.network.forward(pre.X(read_csv(tmp_path / "known.csv"))))
    accuracy = np.mean(decoded["y_predicted"].to_numpy() == np.array([r["y"] for r in complete]))
    assert accuracy >= 0.85


def test_statistics_are_fitted_on_the_training_file_only(tmp_path: Path) -> None:
    train_rows = [
        {"a": float(i), "c": "red" if i % 3 else "blue", "y": 2.0 * i + 1} for i in range(1, 21)
    ]
    train_rows[4]["a"] = None
    valid_rows = [{"a": 1e6, "c": "red", "y": 5e6}, {"a": None, "c": "blue", "y": -5e6}]
    write_rows(tmp_path / "data.csv", ["a", "c", "y"], train_rows)
    write_rows(tmp_path / "valid.csv", ["a", "c", "y"], valid_rows)
    config = project(
        tmp_path,
        None,
        iterations=5,
        data={"validation": {"file": "valid.csv"}, "missing": "mean", "target_scaling": "standard"},
    )
    result = train(config)
    assert result.exit_code == 0, result.stderr
    model = load_model(tmp_path / "model.npz")
    a, c = model.preprocessing.features
    present = [r["a"] for r in train_rows if r["a"] is not None]
    filled = np.array([np.mean(present) if r["a"] is None else r["a"] for r in train_rows])
    assert a.fill == pytest.approx(np.mean(present))
    assert (a.center, a.scale) == (pytest.approx(filled.mean()), pytest.approx(filled.std()))
    assert c.categories == ["blue", "red"]
    (y,) = model.preprocessing.targets
    targets = np.array([r["y"] for r in train_rows])
    assert (y.center, y.scale) == (pytest.approx(targets.mean()), pytest.approx(targets.std()))
    assert model.training["observations"] == 20
    assert model.training["validation_observations"] == 2


def test_statistics_are_fitted_on_the_training_part_of_a_split(tmp_path: Path) -> None:
    rows = [{"a": float(i * i), "y": float(i)} for i in range(50)]
    write_rows(tmp_path / "data.csv", ["a", "y"], rows)
    config = project(tmp_path, None, iterations=5, data={"validation": {"fraction": 0.2}})
    assert train(config).exit_code == 0
    model = load_model(tmp_path / "model.npz")
    (a,) = model.preprocessing.features
    training_part, validation_part = split_rows(read_csv(tmp_path / "data.csv"), 0.2, 0, None)
    kept = np.array([rows[i]["a"] for i in training_part.frame.index])
    assert len(kept) == 40 == model.training["observations"]
    assert a.center == pytest.approx(kept.mean())
    assert a.scale == pytest.approx(kept.std())
    assert a.center != pytest.approx(np.mean([r["a"] for r in rows]))


def test_reordered_columns_give_the_same_model_and_predictions(tmp_path: Path) -> None:
    rows = [r for r in mixed_rows() if all(r[c] is not None for c in FEATURES)]
    for name, columns in (
        ("one", ["size", "colour", "member", "y"]),
        ("two", ["y", "member", "size", "colour"]),
    ):
        folder = tmp_path / name
        folder.mkdir()
        write_rows(folder / "data.csv", columns, rows)
        config = project(
            folder,
            None,
            cost="categorical_cross_entropy",
            out=3,
            iterations=30,
            data={"features": FEATURES},
        )
        assert train(config).exit_code == 0
    one, two = (
        load_model(tmp_path / "one" / "model.npz"),
        load_model(tmp_path / "two" / "model.npz"),
    )
    np.testing.assert_array_equal(one.network.theta, two.network.theta)
    X_one = one.preprocessing.X(read_csv(tmp_path / "one" / "data.csv"))
    X_two = one.preprocessing.X(read_csv(tmp_path / "two" / "data.csv"))
    np.testing.assert_array_equal(X_one, X_two)
    np.testing.assert_array_equal(one.network.forward(X_one), one.network.forward(X_two))


def test_stratified_validation_split_through_train(tmp_path: Path) -> None:
    labels = ["a"] * 60 + ["b"] * 30 + ["c"] * 10
    rows = [{"x": float(i % 7), "y": label} for i, label in enumerate(labels)]
    write_rows(tmp_path / "data.csv", ["x", "y"], rows)
    config = project(
        tmp_path,
        None,
        cost="categorical_cross_entropy",
        out=3,
        iterations=3,
        data={"validation": {"fraction": 0.2}},
    )
    assert train(config).exit_code == 0
    first = load_model(tmp_path / "model.npz").training
    assert (first["observations"], first["validation_observations"]) == (80, 20)
    assert train(config).exit_code == 0
    again = load_model(tmp_path / "model.npz").training
    del again["history"]["seconds"], first["history"]["seconds"]  # wall-clock time differs
    assert again["history"] == first["history"]  # same seed, same split, same run


def test_validation_cost_and_accuracy_in_progress_summary_and_history(tmp_path: Path) -> None:
    rows = [{"x": float(i % 10), "y": "low" if i % 10 < 5 else "high"} for i in range(60)]
    write_rows(tmp_path / "data.csv", ["x", "y"], rows)
    config = project(
        tmp_path,
        None,
        cost="categorical_cross_entropy",
        out=2,
        iterations=12,
        data={"validation": {"fraction": 0.25}},
    )
    result = train(config)
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert "val cost" in header and "val acc" in header
    summary = load_model(tmp_path / "model.npz").training
    history = summary["history"]
    assert (
        len(history["cost"])
        == len(history["validation_cost"])
        == len(history["validation_accuracy"])
        == 12
    )
    assert all(0.0 <= value <= 1.0 for value in history["validation_accuracy"])
    # The summary measures the saved parameters (after the last update), as the model records.
    assert f"validation cost: {summary['final_validation_cost']:.6g}" in result.stdout
    assert f"validation accuracy: {summary['final_validation_accuracy']:.4f}" in result.stdout
    assert 0.0 <= summary["final_validation_accuracy"] <= 1.0


def test_regression_validation_shows_cost_but_no_accuracy(tmp_path: Path) -> None:
    write_rows(
        tmp_path / "data.csv", ["x", "y"], [{"x": float(i), "y": 2.0 * i} for i in range(20)]
    )
    config = project(tmp_path, None, iterations=4, data={"validation": {"fraction": 0.25}})
    result = train(config)
    assert result.exit_code == 0, result.stderr
    assert "val cost" in result.stdout and "val acc" not in result.stdout
    history = load_model(tmp_path / "model.npz").training["history"]
    assert len(history["validation_cost"]) == 4 and history["validation_accuracy"] == []


def test_missing_drop_on_the_validation_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "valid.csv").write_text("a,b,y\n1,,3\n4,5,6\n,,\n")
    config = project(
        tmp_path,
        "a,b,y\n1,2,3\n4,5,6\n7,8,9\n",
        data={"validation": {"file": "valid.csv"}, "missing": "drop"},
    )
    result = train(config)
    assert result.exit_code == 0, result.stderr
    assert "valid.csv: left out 2 validation data rows with a missing cell" in result.stderr
    assert load_model(tmp_path / "model.npz").training["validation_observations"] == 1


def test_missing_drop_leaving_no_validation_rows(tmp_path: Path) -> None:
    (tmp_path / "valid.csv").write_text("a,b,y\n1,,3\n")
    config = project(
        tmp_path,
        "a,b,y\n1,2,3\n4,5,6\n",
        data={"validation": {"file": "valid.csv"}, "missing": "drop"},
    )
    rejected(
        train(config), config, 3, "valid.csv", "every row of the validation data has a missing cell"
    )


def test_missing_target_with_missing_mean_leaves_the_row_out(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,3\n,6\n7,\n2,2\n", data={"missing": "mean"})
    result = train(config)
    assert result.exit_code == 0, result.stderr
    assert "left out 1 training data row with a missing target value" in result.stderr
    assert load_model(tmp_path / "model.npz").training["observations"] == 3


@pytest.mark.parametrize("scaling", ["standard", "minmax"])
def test_house_example_constant_column_is_told_and_not_divided(
    tmp_path: Path, scaling: str
) -> None:
    result = train(
        REPO / "configs" / "house-prices.yaml",
        "-o",
        str(tmp_path / "model.npz"),
        "--set",
        f"data.scaling={scaling}",
        "--set",
        "stopping.max_iterations=3",
    )
    assert result.exit_code == 0, result.stderr
    assert "warning: feature 'bedrooms' is constant in the training data" in result.stderr
    (bedrooms,) = load_model(tmp_path / "model.npz").preprocessing.features
    assert (bedrooms.center, bedrooms.scale) == (3.0, 1.0)


def test_house_example_as_shipped_has_nothing_to_warn(tmp_path: Path) -> None:
    result = train(
        REPO / "configs" / "house-prices.yaml",
        "-o",
        str(tmp_path / "model.npz"),
        "--set",
        "stopping.max_iterations=1",
    )
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr
    (bedrooms,) = load_model(tmp_path / "model.npz").preprocessing.features
    assert (bedrooms.center, bedrooms.scale) == (0.0, 1.0)


def test_very_different_scales_warning_through_train(tmp_path: Path) -> None:
    rows = [{"ratio": i / 20, "area": 400.0 + 50 * i, "y": float(i)} for i in range(20)]
    write_rows(tmp_path / "data.csv", ["ratio", "area", "y"], rows)
    config = project(tmp_path, None, iterations=3, learning_rate=1e-9, data={"scaling": "none"})
    result = train(config)
    assert result.exit_code == 0, result.stderr
    assert "warning: features have very different scales ('area' up to 1350" in result.stderr
    assert "'ratio' only up to 0.95" in result.stderr and "data.scaling: standard" in result.stderr
    config = project(tmp_path, None, iterations=3)
    assert "very different scales" not in train(config).stderr


# -- the shipped example configs ---------------------------------------------------------------


def test_breast_cancer_config_learns_the_diagnosis(tmp_path: Path) -> None:
    result = train(REPO / "configs" / "breast-cancer.yaml", "-o", str(tmp_path / "model.npz"), "-q")
    assert result.exit_code == 0, result.stderr
    model = load_model(tmp_path / "model.npz")
    (target,) = model.preprocessing.targets
    assert (target.kind, target.classes) == ("binary", ["benign", "malignant"])
    assert len(model.preprocessing.input_names) == 30
    training = model.training
    # stratified: round(0.2 × 357 benign) + round(0.2 × 212 malignant) = 71 + 42 held out
    assert (training["observations"], training["validation_observations"]) == (456, 113)
    assert training["history"]["validation_accuracy"][-1] >= 0.95


def test_diabetes_config_beats_predicting_the_mean(tmp_path: Path) -> None:
    result = train(REPO / "configs" / "diabetes.yaml", "-o", str(tmp_path / "model.npz"), "-q")
    assert result.exit_code == 0, result.stderr
    model = load_model(tmp_path / "model.npz")
    (target,) = model.preprocessing.targets
    assert target.scale > 1 and 100 < target.center < 200  # target_scaling: standard
    # standardised targets: always predicting the training mean costs about 0.5
    assert model.training["history"]["validation_cost"][-1] < 0.35
    table = read_csv(REPO / "datasets" / "diabetes.csv")
    predicted = model.preprocessing.decode(model.network.forward(model.preprocessing.X(table)))
    truth = table.frame["progression"].to_numpy()
    residual = predicted["progression_predicted"].to_numpy() - truth
    assert np.mean(residual**2) < 0.7 * np.var(truth)  # in progression units again
