"""The data pipeline as a library: typing, preprocessing, splitting, applying a stored model.

Expected values are computed here independently (csv module, plain NumPy) from the fixture
text, never taken from the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nncli.data import (
    Preprocessing,
    Table,
    fit_preprocessing,
    iter_csv,
    read_csv,
    split_rows,
)
from nncli.errors import DataError


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fit(tmp_path: Path, text: str, features: list[str], cost: str = "mse", **options: str):
    table = read_csv(write(tmp_path, text), role="training data")
    return table, fit_preprocessing(table, features, ["y"], cost, **options)


# -- column typing and one-hot encoding -------------------------------------------------------


def test_one_hot_order_is_sorted_and_recorded(tmp_path: Path) -> None:
    table, fitted = fit(
        tmp_path, "n,colour,y\n1,red,0\n2,blue,1\n3,green,0\n4,red,1\n", ["colour", "n"]
    )
    pre = fitted.preprocessing
    assert [c.kind for c in pre.features] == ["categorical", "numeric"]
    assert pre.features[0].categories == ["blue", "green", "red"]
    assert pre.input_names == ["colour=blue", "colour=green", "colour=red", "n"]
    X = pre.X(table)
    assert X.shape == (4, 4)  # n0 counts the encoded rows
    np.testing.assert_array_equal(X[:3], [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    stored = json.loads(json.dumps(pre.to_dict()))  # as the model file keeps it
    assert stored["features"][0]["categories"] == ["blue", "green", "red"]


def test_booleans_are_categories_with_or_without_missing_cells(tmp_path: Path) -> None:
    # with a missing cell pandas reads the column as objects, without it as bool
    table, fitted = fit(
        tmp_path,
        "a,flag,y\n1,True,1\n2,,2\n3,False,3\n4,true,4\n",
        ["a", "flag"],
        missing="most_frequent",
    )
    flag = fitted.preprocessing.features[1]
    assert flag.kind == "categorical"
    assert flag.categories == [False, True]
    assert flag.fill is True  # True appears twice
    other = read_csv(write(tmp_path, "flag,a\nFalse,9\nTRUE,8\n", "other.csv"))
    assert other.frame["flag"].dtype == bool
    X = fitted.preprocessing.X(other)
    np.testing.assert_array_equal(X[1:3], [[1, 0], [0, 1]])


def test_a_category_is_the_same_whatever_dtype_pandas_gives_the_column(tmp_path: Path) -> None:
    table, fitted = fit(tmp_path, "code,y\n1,1\n2,2\nx,3\ny,4\nz,5\n", ["code"])
    code = fitted.preprocessing.features[0]
    assert code.kind == "categorical"
    assert code.categories == [1, 2, "x", "y", "z"]  # numbers first, then text
    other = read_csv(write(tmp_path, "code\n2\n1.0\n", "other.csv"))  # a numeric column here
    X = fitted.preprocessing.X(other)
    np.testing.assert_array_equal(X[:, 0], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(X[:, 1], [1, 0, 0, 0, 0])


def test_mostly_numeric_column_with_a_stray_word_is_numeric_with_a_bad_cell(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"line 4, column 1 \('a'\).*'oops'"):
        fit(tmp_path, "a,y\n1,1\n2,2\noops,3\n4,4\n", ["a"])


def test_many_distinct_text_values_get_a_note(tmp_path: Path) -> None:
    rows = "".join(f"id{i},{i}\n" for i in range(30))
    _, fitted = fit(tmp_path, "name,y\n" + rows, ["name"])
    assert any("'name'" in note and "30 distinct values" in note for note in fitted.notes)


def test_text_cells_are_stripped(tmp_path: Path) -> None:
    _, fitted = fit(tmp_path, "c,y\nred ,1\n red,2\nblue,3\n", ["c"])
    assert fitted.preprocessing.features[0].categories == ["blue", "red"]


# -- scaling, fills, constant columns --------------------------------------------------------


def test_standard_and_minmax_statistics(tmp_path: Path) -> None:
    text = "a,b,y\n1,10,0\n2,20,0\n4,30,0\n9,70,0\n"
    a, b = np.array([1.0, 2, 4, 9]), np.array([10.0, 20, 30, 70])
    table, fitted = fit(tmp_path, text, ["a", "b"], scaling="standard")
    pre = fitted.preprocessing
    assert (pre.features[0].center, pre.features[0].scale) == (a.mean(), a.std())
    np.testing.assert_allclose(pre.X(table), [(a - a.mean()) / a.std(), (b - b.mean()) / b.std()])
    table, fitted = fit(tmp_path, text, ["a", "b"], scaling="minmax")
    np.testing.assert_allclose(fitted.preprocessing.X(table)[1], (b - 10) / 60)


@pytest.mark.parametrize(
    ("scaling", "center", "word"), [("standard", 3.0, "centred"), ("minmax", 3.0, "shifted")]
)
def test_constant_column_is_never_divided_by_zero(
    tmp_path: Path, scaling: str, center: float, word: str
) -> None:
    table, fitted = fit(tmp_path, "bedrooms,y\n3,450\n", ["bedrooms"], scaling=scaling)
    column = fitted.preprocessing.features[0]
    assert (column.center, column.scale) == (center, 1.0)
    np.testing.assert_array_equal(fitted.preprocessing.X(table), [[0.0]])
    assert any("'bedrooms' is constant" in n and word in n for n in fitted.notes), fitted.notes


def test_constant_column_with_scaling_none_is_left_alone(tmp_path: Path) -> None:
    table, fitted = fit(tmp_path, "bedrooms,y\n3,450\n", ["bedrooms"], scaling="none")
    np.testing.assert_array_equal(fitted.preprocessing.X(table), [[3.0]])
    assert fitted.notes == []


def test_very_different_scales_warn_only_with_scaling_none(tmp_path: Path) -> None:
    text = "small,big,mid,y\n0.1,1000,5,1\n0.5,4254,9,2\n0.9,20,1,3\n"
    _, fitted = fit(tmp_path, text, ["small", "big", "mid"], scaling="none")
    (note,) = fitted.notes
    assert "'big' up to 4254" in note and "'small' only up to 0.9" in note
    assert "'mid'" not in note  # 9 is not 100 × 0.9
    assert "data.scaling: standard" in note
    _, fitted = fit(tmp_path, text, ["small", "big", "mid"], scaling="standard")
    assert fitted.notes == []


@pytest.mark.parametrize("missing", ["mean", "most_frequent"])
def test_fill_values(tmp_path: Path, missing: str) -> None:
    text = "a,c,y\n1,red,0\n,blue,0\n2,,0\n2,red,0\n7,blue,0\n,red,0\n"
    table, fitted = fit(tmp_path, text, ["a", "c"], missing=missing)
    a, c = fitted.preprocessing.features
    present = np.array([1.0, 2, 2, 7])
    assert a.fill == (present.mean() if missing == "mean" else 2.0)
    assert c.fill == "red"  # most frequent, for text also with missing: mean
    filled = np.array([1, a.fill, 2, 2, 7, a.fill])
    np.testing.assert_allclose(a.center, filled.mean())
    np.testing.assert_allclose(a.scale, filled.std())
    X = fitted.preprocessing.X(table)
    np.testing.assert_array_equal(X[1:3, 2], [0, 1])  # the missing colour became red


def test_most_frequent_text_tie_is_the_first_in_sorted_order(tmp_path: Path) -> None:
    _, fitted = fit(tmp_path, "c,y\nred,1\nblue,2\n,3\n", ["c"], missing="most_frequent")
    assert fitted.preprocessing.features[0].fill == "blue"


def test_missing_cells_with_no_fill_are_counted_per_column(tmp_path: Path) -> None:
    table, fitted = fit(tmp_path, "a,c,y\n1,red,0\n2,blue,0\n", ["a", "c"], missing="drop")
    other = read_csv(write(tmp_path, "a,c\n,red\n3,\n,blue\n", "other.csv"))
    with pytest.raises(DataError) as error:
        fitted.preprocessing.X(other)
    message = str(error.value)
    assert "'a': 2 (first on line 2), 'c': 1 (line 3)" in message
    assert "data.missing: drop" in message


# -- targets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "negative", "positive"),
    [
        (["benign", "malignant"], "benign", "malignant"),
        (["yes", "no"], "no", "yes"),
        (["0", "1"], 0, 1),
        (["1", "2"], 1, 2),
        (["-1", "1"], -1, 1),
        (["True", "False"], False, True),
        (["Y", "N"], "N", "Y"),
    ],
)
def test_binary_targets_map_to_0_and_1_with_the_positive_class_recorded(
    tmp_path: Path, labels: list[str], negative: object, positive: object
) -> None:
    rows = [labels[0], labels[1], labels[0]]
    text = "a,y\n" + "".join(f"{i},{label}\n" for i, label in enumerate(rows))
    table, fitted = fit(tmp_path, text, ["a"], cost="binary_cross_entropy")
    (target,) = fitted.preprocessing.targets
    assert target.classes == [negative, positive]
    expected = [1.0 if str(label).lower() == str(positive).lower() else 0.0 for label in rows]
    np.testing.assert_array_equal(fitted.preprocessing.Y(table), [expected])
    decoded = fitted.preprocessing.decode(np.array([[0.2, 0.9, 0.5]]))
    assert list(decoded["y_predicted"]) == [negative, positive, positive]
    np.testing.assert_allclose(decoded[f"y_probability_{positive}"], [0.2, 0.9, 0.5])
    np.testing.assert_allclose(decoded[f"y_probability_{negative}"], [0.8, 0.1, 0.5])


def test_class_labels_are_one_hot_rows_in_sorted_order(tmp_path: Path) -> None:
    table, fitted = fit(
        tmp_path,
        "a,y\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n",
        ["a"],
        cost="categorical_cross_entropy",
    )
    pre = fitted.preprocessing
    assert pre.targets[0].classes == ["setosa", "versicolor", "virginica"]
    assert pre.output_names == ["y=setosa", "y=versicolor", "y=virginica"]
    Y = pre.Y(table)
    np.testing.assert_array_equal(Y, [[0, 1, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0]])
    decoded = pre.decode(Y * 0.8 + 0.1)
    assert list(decoded["y_predicted"]) == ["virginica", "setosa", "versicolor", "setosa"]


def test_regression_target_scaling_is_undone_on_decode(tmp_path: Path) -> None:
    table, fitted = fit(
        tmp_path, "a,y\n1,151\n2,75\n3,141\n4,206\n", ["a"], target_scaling="standard"
    )
    y = np.array([151.0, 75, 141, 206])
    (target,) = fitted.preprocessing.targets
    assert (target.center, target.scale) == (y.mean(), y.std())
    Y = fitted.preprocessing.Y(table)
    np.testing.assert_allclose(Y[0], (y - y.mean()) / y.std())
    np.testing.assert_allclose(fitted.preprocessing.decode(Y)["y_predicted"], y)


def test_unseen_class_in_other_data_is_named(tmp_path: Path) -> None:
    _, fitted = fit(tmp_path, "a,y\n1,u\n2,v\n", ["a"], cost="categorical_cross_entropy")
    other = read_csv(write(tmp_path, "a,y\n1,u\n2,w\n", "other.csv"))
    with pytest.raises(
        DataError, match=r"other.csv, line 3, column 2 \('y'\): target value 'w' not seen"
    ):
        fitted.preprocessing.Y(other)


# -- splitting ------------------------------------------------------------------------------


def classes_file(tmp_path: Path) -> Path:
    rows = ["a"] * 60 + ["b"] * 30 + ["c"] * 10
    order = np.random.default_rng(7).permutation(len(rows))
    return write(tmp_path, "x,y\n" + "".join(f"{i},{rows[i]}\n" for i in order))


def test_stratified_split_keeps_class_proportions(tmp_path: Path) -> None:
    table = read_csv(classes_file(tmp_path))
    train, valid = split_rows(table, 0.2, seed=3, stratify="y")
    assert valid.frame["y"].value_counts().to_dict() == {"a": 12, "b": 6, "c": 2}
    assert train.frame["y"].value_counts().to_dict() == {"a": 48, "b": 24, "c": 8}
    assert set(train.frame.index).isdisjoint(valid.frame.index)
    assert len(train.frame) + len(valid.frame) == 100


def test_split_is_seeded(tmp_path: Path) -> None:
    table = read_csv(classes_file(tmp_path))
    first = split_rows(table, 0.2, seed=3, stratify="y")[1].frame.index
    again = split_rows(table, 0.2, seed=3, stratify="y")[1].frame.index
    other = split_rows(table, 0.2, seed=4, stratify="y")[1].frame.index
    assert list(first) == list(again)
    assert set(first) != set(other)
    plain = split_rows(table, 0.25, seed=3, stratify=None)[1]
    assert len(plain.frame) == 25
    assert list(plain.frame.index) == list(split_rows(table, 0.25, 3, None)[1].frame.index)


def test_stratified_split_keeps_a_row_of_every_class_for_training(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, "x,y\n1,a\n2,a\n3,b\n4,b\n5,c\n"))
    train, valid = split_rows(table, 0.5, seed=0, stratify="y")
    assert set(train.frame["y"]) == {"a", "b", "c"}


def test_split_rows_keep_their_file_lines(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, "x,y\n" + "".join(f"{i},{i}\n" for i in range(20))))
    _, valid = split_rows(table, 0.5, seed=0, stratify=None)
    index = int(valid.frame.index[3])
    assert valid.line(index) == index + 2
    assert valid.role == "validation part"


# -- reading ------------------------------------------------------------------------------


def test_column_order_does_not_matter(tmp_path: Path) -> None:
    table, fitted = fit(tmp_path, "a,c,b,y\n1,red,5,0\n2,blue,7,1\n4,red,1,0\n", ["a", "b", "c"])
    other = read_csv(write(tmp_path, "y,c,b,a\n0,red,5,1\n1,blue,7,2\n0,red,1,4\n", "other.csv"))
    np.testing.assert_array_equal(fitted.preprocessing.X(other), fitted.preprocessing.X(table))


def test_stored_preprocessing_gives_the_same_X(tmp_path: Path) -> None:
    text = "a,c,f,y\n1,red,True,u\n,blue,False,v\n4,,True,u\n"
    table, fitted = fit(
        tmp_path, text, ["a", "c", "f"], "categorical_cross_entropy", missing="mean"
    )
    stored = json.loads(json.dumps(fitted.preprocessing.to_dict(), allow_nan=False))
    again = Preprocessing.from_dict(stored)
    np.testing.assert_array_equal(again.X(table), fitted.preprocessing.X(table))
    np.testing.assert_array_equal(again.Y(table), fitted.preprocessing.Y(table))


def test_chunks_give_the_same_X_and_real_lines(tmp_path: Path) -> None:
    text = "a,c\n" + "".join(f"{i},{'red' if i % 2 else 'blue'}\n" for i in range(10))
    path = write(tmp_path, text)
    whole = read_csv(path)
    pre = fit_preprocessing(whole, ["a", "c"], [], "mse").preprocessing
    chunks = list(iter_csv(path, chunk_rows=3))
    assert [len(c.frame) for c in chunks] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.hstack([pre.X(c) for c in chunks]), pre.X(whole))
    # a blank line before row 5 and a long row 7: lines 8 and 10 of the file
    bad = write(
        tmp_path, text.replace("7,red", "7,red,extra").replace("5,red", "\n5,red"), "bad.csv"
    )
    with pytest.raises(DataError, match=r"bad.csv, line 10: the row has 3 fields"):
        list(iter_csv(bad, chunk_rows=3))


def test_iter_csv_short_row_in_a_later_chunk(tmp_path: Path) -> None:
    text = "a,b\n" + "".join(f"{i},{i}\n" for i in range(7)) + "8\n"
    with pytest.raises(DataError, match=r"line 9: the row has 1 fields, the header has 2"):
        list(iter_csv(write(tmp_path, text), chunk_rows=3))


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n\r\n3,x\r\n4,5\r\n6,7\r\n")
    table = read_csv(path)
    with pytest.raises(DataError, match=r"line 4, column 2 \('b'\).*'x'"):
        fit_preprocessing(table, ["a", "b"], [], "mse")


def test_a_table_not_read_from_a_file_still_reports_cells(tmp_path: Path) -> None:
    _, fitted = fit(tmp_path, "a,y\n1,1\n2,2\n", ["a"])
    grid = Table(Path("<grid>"), pd.DataFrame({"a": [1.0, np.inf]}), ",")
    with pytest.raises(DataError, match=r"<grid>, line 3, column 1 \('a'\): infinite value 'inf'"):
        fitted.preprocessing.X(grid)
