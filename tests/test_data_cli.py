"""Bad CSV input through `nncli train`: each gets one clear message, the right exit code,
and no model file.

Exit codes (README "Exit codes"): 3 for a problem in a data file (missing, unreadable, bad
cells, a column the config names but the file lacks, a target with one class); 2 for a
config that does not fit the data (output layer size vs classes or targets), located at the
YAML line to change.

Every fixture is a small CSV written into tmp_path with a config next to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from nncli.cli import app

runner = CliRunner()

OUTPUT = {"mse": "identity", "binary_cross_entropy": "sigmoid", "categorical_cross_entropy": "softmax"}


def project(
    tmp_path: Path,
    csv: str | bytes | None,
    *,
    cost: str = "mse",
    out: int = 1,
    data: dict[str, Any] | None = None,
    iterations: int = 20,
    name: str = "data.csv",
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
                {"neurons": 3, "activation": "tanh"},
                {"neurons": out, "activation": OUTPUT[cost]},
            ]
        },
        "cost": cost,
        "training": {"learning_rate": 0.1, "log_every": 5},
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
        train(config), config, 3,
        f"{tmp_path / 'data.csv'}: training data file not found", "trian.csv",
    )


def test_missing_validation_file_is_named_as_such(tmp_path: Path) -> None:
    config = project(tmp_path, "a,y\n1,2\n3,4\n", data={"validation": {"file": "valid.csv"}})
    rejected(train(config), config, 3, f"{tmp_path / 'valid.csv'}: validation data file not found")


@pytest.mark.parametrize("content", ["", "\n\n", "  \n\t\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    config = project(tmp_path, content)
    rejected(train(config), config, 3, "data.csv: the training data file is empty")


@pytest.mark.parametrize("content", ["a,b,y\n", "a,b,y\n\n\n", "\na,b,y\n,,\n"])
def test_header_only(tmp_path: Path, content: str) -> None:
    config = project(tmp_path, content)
    rejected(train(config), config, 3, "data.csv: the training data file has a header but no data rows")


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
    rejected(train(config), config, 3, "data.csv, line 1", "duplicate column name 'a'", "columns 1 and 3")


def test_header_ending_in_a_delimiter(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,y,\n1,2,3,\n")
    rejected(train(config), config, 3, "data.csv, line 1, column 4", "no name", "ends with")


def test_feature_not_in_the_file_lists_the_columns_that_are(tmp_path: Path) -> None:
    config = project(tmp_path, "alpha,beta,y\n1,2,3\n4,5,6\n", data={"features": ["alpha", "betta"]})
    err = rejected(
        train(config), config, 3, "data.csv", "'betta'", "data.features", "'alpha', 'beta', 'y'"
    )
    assert "config.yaml, line" in err  # where the config names it
    assert "did you mean 'beta'" in err


def test_target_not_in_the_file_lists_the_columns_that_are(tmp_path: Path) -> None:
    config = project(tmp_path, "a,b,price\n1,2,3\n")
    rejected(train(config), config, 3, "data.csv", "'y'", "data.targets", "'a', 'b', 'price'")


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
        train(config), config, 2,
        "config.yaml, line", "network.layers[1].neurons",
        f"{neurons} neurons but target 'y' has 3 classes ('u', 'v', 'w')", f"{word} classes",
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
        tmp_path, "a,colour,y\n1,red,1\n2,blue,2\n3,red,3\n",
        data={"validation": {"file": "valid.csv"}},
    )
    rejected(
        train(config), config, 3,
        "valid.csv, line 3, column 2 ('colour')", "'mauve'", "'blue', 'red'",
    )
