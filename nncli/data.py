"""CSV data → X (n0 × k) and Y (n_m × k), with preprocessing that is saved with the model.

Reading: pandas reads the file (UTF-8, a byte-order mark is fine; the delimiter is detected
among , ; and tab unless given). Blank lines are skipped. Every problem is a `DataError`
naming the file, the line, the column and the value.

Preprocessing, fitted on the training part only and stored in the model file's metadata so
that `predict` and `evaluate` apply exactly the same transformation:
- numeric feature columns: missing cells filled (``missing: mean``), then scaled
  (``scaling: standard`` z-score, ``minmax`` to [0, 1], or ``none``);
- text and boolean feature columns: one-hot encoded, one row of X per category, so n0 counts
  the encoded rows;
- targets: for categorical cross-entropy the class labels of the one target column become
  one-hot rows of Y in sorted order; for binary cross-entropy each target's two labels map to
  0 and 1 (which one is 1 is recorded); for mse numeric targets, optionally scaled
  (``target_scaling``) and unscaled again on predict.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from nncli.errors import DataError

# Cells read as missing. Deliberately short: "None" or "NA" can be a real category name
# elsewhere, but in a CSV they almost always mean "no value".
MISSING_MARKERS = ["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "#N/A", "<NA>"]
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
SNIFF_LINES = 50


# -- reading -----------------------------------------------------------------------------


def _describe_delimiter(delimiter: str) -> str:
    return f"{DELIMITERS.get(delimiter, repr(delimiter))} ({delimiter!r})"


def _sniff_delimiter(path: Path, head: list[str]) -> str:
    """The delimiter among , ; tab that splits the first lines into equally many fields."""
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(head, delimiter=delimiter) if row]
        if not counts:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent if counts[0] > 1 else 0, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _head_lines(path: Path, count: int = SNIFF_LINES) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = []
        for line in handle:
            if line.strip():
                lines.append(line)
            if len(lines) >= count:
                break
    return lines


def _raw_line(path: Path, number: int) -> str:
    """Physical line `number` (1-based) of a file; only read when reporting an error."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for index, line in enumerate(handle, start=1):
            if index == number:
                return line.rstrip("\r\n")
    return ""


@dataclass
class Table:
    """A CSV file read into a DataFrame; `line(i)` is the file line of data row index i."""

    path: Path
    frame: pd.DataFrame
    delimiter: str

    def line(self, index: int) -> int:
        return int(index) + 2  # line 1 is the header; blank lines keep their row index


def _check_file(path: Path, role: str) -> None:
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        nearby = sorted(p.name for p in parent.glob("*.csv"))[:10] if parent.is_dir() else []
        hint = f"CSV files in {parent}: {', '.join(nearby)}" if nearby else "check the path."
        raise DataError(f"{path}: {role} file not found.", hint=hint)
    if path.is_dir():
        raise DataError(f"{path}: {role} is a directory, expected a CSV file.")


def _header(path: Path, delimiter: str | None, role: str) -> tuple[list[str], str]:
    try:
        head = _head_lines(path)
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path}: is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}); nncli reads CSV files encoded as UTF-8.",
            hint="re-save the file as UTF-8 CSV.",
        ) from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the {role} file: {error.strerror}.") from None
    if not head:
        raise DataError(f"{path}: the {role} file is empty; expected a header line and data rows.")
    if delimiter is None:
        delimiter = _sniff_delimiter(path, head)
    names = next(csv.reader([head[0]], delimiter=delimiter))
    names = [name.strip() for name in names]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise DataError(
                f"{path}, line 1: duplicate column name {name!r} (columns {seen[name]} and "
                f"{position}); every column needs a name of its own.",
                hint="rename one of them.",
            )
        seen[name] = position
    if "" in seen:
        raise DataError(
            f"{path}, line 1, column {seen['']}: a column has no name; every column needs one."
        )
    return names, delimiter


def _parser_error(path: Path, error: Exception, delimiter: str, names: list[str]) -> DataError:
    text = str(error)
    import re

    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        expected, line, saw = found.groups()
        return DataError(
            f"{path}, line {line}: the row has {saw} fields, the header has {len(names)} "
            f"({_describe_delimiter(delimiter)}-separated).",
            hint="a text cell that contains the delimiter must be quoted with \"…\".",
        )
    return DataError(f"{path}: cannot be read as CSV: {text.strip()}.")


def _short_rows(table: Table, names: list[str], rows: pd.Index) -> None:
    """Raise for the first of `rows` (rows with missing cells) that has too few fields."""
    for index in rows[:200]:
        number = table.line(index)
        raw = _raw_line(table.path, number)
        fields = next(csv.reader([raw], delimiter=table.delimiter), [])
        if raw.strip() and len(fields) < len(names):
            raise DataError(
                f"{table.path}, line {number}: the row has {len(fields)} fields, the header "
                f"has {len(names)} ({_describe_delimiter(table.delimiter)}-separated).",
                hint="every row needs a value (or an empty cell) for every column.",
            )


def read_csv(path: Path, delimiter: str | None = None, role: str = "data") -> Table:
    """Read a whole CSV file. Raises DataError for every problem a user can fix."""
    _check_file(path, role)
    names, delimiter = _header(path, delimiter, role)
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values=MISSING_MARKERS,
            skip_blank_lines=False,
            skipinitialspace=True,
            low_memory=False,
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the {role} file is empty.") from None
    except pd.errors.ParserError as error:
        raise _parser_error(path, error, delimiter, names) from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: is not UTF-8 text ({error.reason}).") from None
    frame.columns = names
    table = Table(path, frame, delimiter)
    return _finish(table, names, role)


def iter_csv(
    path: Path,
    delimiter: str | None = None,
    role: str = "data",
    chunk_rows: int = 100_000,
    text_columns: list[str] | None = None,
) -> Iterator[Table]:
    """Read a CSV file a chunk of rows at a time (for predict on files of any size).

    `text_columns` (those of them the file has) are read as text in every chunk, so that
    an id such as ``007`` is not turned into the number 7.
    """
    _check_file(path, role)
    names, delimiter = _header(path, delimiter, role)
    text = {name: str for name in text_columns or () if name in names}
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values=MISSING_MARKERS,
            skip_blank_lines=False,
            skipinitialspace=True,
            chunksize=chunk_rows,
            dtype=text or None,
        )
        with reader:
            empty = True
            for frame in reader:
                frame.columns = names
                table = _finish(Table(path, frame, delimiter), names, role, allow_empty=True)
                if len(table.frame):
                    empty = False
                    yield table
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the {role} file is empty.") from None
    except pd.errors.ParserError as error:
        raise _parser_error(path, error, delimiter, names) from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: is not UTF-8 text ({error.reason}).") from None
    if empty:
        raise DataError(f"{path}: the {role} file has a header but no data rows.")


def _finish(table: Table, names: list[str], role: str, allow_empty: bool = False) -> Table:
    frame = table.frame
    blank = frame.isna().all(axis=1)
    if blank.any():
        frame = frame.loc[~blank]
    table.frame = frame
    if not allow_empty and len(frame) == 0:
        raise DataError(f"{table.path}: the {role} file has a header but no data rows.")
    missing = frame.isna().any(axis=1)
    if missing.any():
        _short_rows(table, names, frame.index[missing])
    return table


def require_columns(table: Table, wanted: list[str], key: str) -> None:
    """Every name in `wanted` is a column of the table, or a DataError listing what exists."""
    absent = [name for name in wanted if name not in table.frame.columns]
    if not absent:
        return
    columns = list(table.frame.columns)
    import difflib

    hints = []
    for name in absent:
        close = difflib.get_close_matches(name, columns, n=1)
        if close:
            hints.append(f"did you mean {close[0]!r} for {name!r}?")
    if len(columns) == 1:
        for delimiter in DELIMITERS:
            if delimiter != table.delimiter and delimiter in columns[0]:
                hints.append(
                    f"the file looks {_describe_delimiter(delimiter)}-separated: "
                    f"set data.delimiter: {delimiter!r}."
                )
    listed = ", ".join(repr(c) for c in columns)
    plural = "s" if len(absent) > 1 else ""
    raise DataError(
        f"{table.path}: {key} names column{plural} {', '.join(repr(a) for a in absent)} that "
        f"the file does not have; its columns are {listed}.",
        hint=" ".join(hints) or None,
    )


# -- column typing -------------------------------------------------------------------------


def _first_bad(table: Table, column: str, mask: pd.Series) -> tuple[int, Any]:
    index = mask[mask].index[0]
    return table.line(index), table.frame.at[index, column]


def _column_position(table: Table, column: str) -> int:
    return list(table.frame.columns).index(column) + 1


def numeric_column(table: Table, column: str, what: str) -> pd.Series:
    """The column as float64 (missing cells NaN); a non-numeric or infinite cell is an error."""
    series = table.frame[column]
    if pd.api.types.is_bool_dtype(series):
        return series.astype(np.float64)
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype(np.float64)
    else:
        values = pd.to_numeric(series, errors="coerce").astype(np.float64)
        bad = values.isna() & series.notna()
        if bad.any():
            line, value = _first_bad(table, column, bad)
            raise DataError(
                f"{table.path}, line {line}, column {_column_position(table, column)} "
                f"({column!r}): {what} needs numbers, found {value!r}"
                f"{f' ({int(bad.sum())} such cells)' if bad.sum() > 1 else ''}.",
                hint="fix or remove the cell, or mark it missing (empty) and set data.missing.",
            )
    infinite = np.isinf(values)
    if infinite.any():
        line, value = _first_bad(table, column, infinite)
        raise DataError(
            f"{table.path}, line {line}, column {_column_position(table, column)} ({column!r}): "
            f"infinite value {value!r}; nncli needs finite numbers."
        )
    return values


def is_text_column(series: pd.Series) -> bool:
    """A column is text (categorical) unless most of its non-missing cells are numbers.

    Booleans count as text (two categories). A mostly numeric column with a few text cells
    is a numeric column with bad cells, reported as such by `numeric_column`.
    """
    if pd.api.types.is_bool_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series):
        return False
    present = series.dropna()
    if len(present) == 0:
        return False
    parsed = pd.to_numeric(present, errors="coerce")
    return bool(parsed.notna().sum() * 2 <= len(present))


def _label(value: Any) -> Any:
    """A class label as JSON can store it: str, int or float (numpy scalars unwrapped)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return int(number) if number.is_integer() else number
    return str(value).strip()


def _labels(series: pd.Series) -> pd.Series:
    """Class labels of a column: numbers stay numbers (1.0 → 1), text is stripped."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.map(_label)
    return series.map(lambda v: v if pd.isna(v) else str(v).strip())


def _sorted_labels(values: set[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


# -- preprocessing -------------------------------------------------------------------------


@dataclass
class FeatureColumn:
    """One input column and how it becomes rows of X."""

    name: str
    kind: str  # "numeric" or "categorical"
    center: float = 0.0  # numeric: x' = (x - center) / scale
    scale: float = 1.0
    fill: Any = None  # value used for missing cells (missing: mean / most_frequent)
    categories: list[Any] = field(default_factory=list)  # categorical: one row of X each

    @property
    def encoded_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={category}" for category in self.categories]


@dataclass
class TargetColumn:
    """One target column and how it becomes rows of Y (and back)."""

    name: str
    kind: str  # "numeric", "binary" or "classes"
    center: float = 0.0  # numeric: y' = (y - center) / scale
    scale: float = 1.0
    classes: list[Any] = field(default_factory=list)  # binary: [label for 0, label for 1]


@dataclass
class Preprocessing:
    """Everything needed to turn a CSV into X and Y (and Ŷ back into labels or units)."""

    features: list[FeatureColumn]
    targets: list[TargetColumn]
    missing: str = "error"
    scaling: str = "standard"
    target_scaling: str = "none"
    delimiter: str | None = None

    @property
    def feature_names(self) -> list[str]:
        return [column.name for column in self.features]

    @property
    def target_names(self) -> list[str]:
        return [column.name for column in self.targets]

    @property
    def input_names(self) -> list[str]:
        """Names of the n0 rows of X (one-hot rows are named column=category)."""
        return [name for column in self.features for name in column.encoded_names]

    @property
    def output_names(self) -> list[str]:
        """Names of the n_m rows of Y."""
        if len(self.targets) == 1 and self.targets[0].kind == "classes":
            target = self.targets[0]
            return [f"{target.name}={label}" for label in target.classes]
        return self.target_names

    @property
    def is_classification(self) -> bool:
        return any(t.kind in ("binary", "classes") for t in self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing": self.missing,
            "scaling": self.scaling,
            "target_scaling": self.target_scaling,
            "delimiter": self.delimiter,
            "features": [vars(column).copy() for column in self.features],
            "targets": [vars(column).copy() for column in self.targets],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Preprocessing":
        """The inverse of `to_dict`, for a record read from a model file: every field is
        checked (ValueError naming the field), so a damaged or hand-edited record can never
        reach the arithmetic of `X`, `Y` or `decode`."""
        record = _check_record(data)
        return cls(
            features=[FeatureColumn(**column) for column in record["features"]],
            targets=[TargetColumn(**column) for column in record["targets"]],
            missing=record["missing"],
            scaling=record["scaling"],
            target_scaling=record["target_scaling"],
            delimiter=record.get("delimiter"),
        )

    # -- applying it -----------------------------------------------------------------------

    def rows_to_keep(self, table: Table, with_targets: bool) -> pd.Series:
        """With ``missing: drop``, the rows with every used cell present; else all rows."""
        columns = self.feature_names + (self.target_names if with_targets else [])
        present = table.frame[columns].notna().all(axis=1)
        if self.missing == "drop":
            return present
        if with_targets:
            return table.frame[self.target_names].notna().all(axis=1)
        return pd.Series(True, index=table.frame.index)

    def X(self, table: Table, dtype: Any = np.float64) -> np.ndarray:
        """X (n0 × k) from the table's feature columns, in the model's order."""
        frame = table.frame
        k = len(frame)
        X = np.empty((len(self.input_names), k), dtype=dtype)
        row = 0
        for column in self.features:
            series = frame[column.name]
            if column.kind == "numeric":
                values = numeric_column(table, column.name, f"feature {column.name!r}")
                values = self._fill(table, column, values)
                X[row] = (values.to_numpy() - column.center) / column.scale
                row += 1
            else:
                labels = self._fill(table, column, _labels(series))
                codes = _codes(table, column.name, labels, column.categories, "feature")
                block = X[row : row + len(column.categories)]
                block.fill(0)
                block[codes, np.arange(k)] = 1
                row += len(column.categories)
        return X

    def _fill(self, table: Table, column: FeatureColumn, values: pd.Series) -> pd.Series:
        missing = values.isna()
        if not missing.any():
            return values
        if column.fill is not None:
            return values.where(~missing, column.fill)
        line, _ = _first_bad(table, column.name, missing)
        raise DataError(
            f"{table.path}, line {line}, column {_column_position(table, column.name)} "
            f"({column.name!r}): missing value ({int(missing.sum())} missing in this column).",
            hint="fill the cells, or set data.missing to drop, mean or most_frequent.",
        )

    def Y(self, table: Table, dtype: Any = np.float64) -> np.ndarray:
        """Y (n_m × k) from the table's target columns."""
        frame = table.frame
        k = len(frame)
        if len(self.targets) == 1 and self.targets[0].kind == "classes":
            target = self.targets[0]
            labels = _labels(frame[target.name])
            codes = _codes(table, target.name, labels, target.classes, "target")
            Y = np.zeros((len(target.classes), k), dtype=dtype)
            Y[codes, np.arange(k)] = 1
            return Y
        Y = np.empty((len(self.targets), k), dtype=dtype)
        for row, target in enumerate(self.targets):
            if target.kind == "binary":
                labels = _labels(frame[target.name])
                Y[row] = _codes(table, target.name, labels, target.classes, "target")
            else:
                values = numeric_column(table, target.name, f"target {target.name!r}")
                if values.isna().any():
                    line, _ = _first_bad(table, target.name, values.isna())
                    raise DataError(
                        f"{table.path}, line {line}, column "
                        f"{_column_position(table, target.name)} ({target.name!r}): missing "
                        f"target value ({int(values.isna().sum())} missing in this column).",
                        hint="fill the cells, or set data.missing: drop.",
                    )
                Y[row] = (values.to_numpy() - target.center) / target.scale
        return Y

    def decode(self, Y_hat: np.ndarray) -> pd.DataFrame:
        """Predictions in the units and labels of the training data.

        Regression: ``<target>_predicted`` in original units. Classification:
        ``<target>_predicted`` holds the label, plus ``<target>_probability_<class>`` columns.
        """
        columns: dict[str, Any] = {}
        if len(self.targets) == 1 and self.targets[0].kind == "classes":
            target = self.targets[0]
            labels = np.asarray(target.classes, dtype=object)
            columns[f"{target.name}_predicted"] = labels[np.argmax(Y_hat, axis=0)]
            for row, label in enumerate(target.classes):
                columns[f"{target.name}_probability_{label}"] = Y_hat[row]
            return pd.DataFrame(columns)
        for row, target in enumerate(self.targets):
            if target.kind == "binary":
                labels = np.asarray(target.classes, dtype=object)
                columns[f"{target.name}_predicted"] = labels[(Y_hat[row] >= 0.5).astype(int)]
                columns[f"{target.name}_probability_{target.classes[0]}"] = 1.0 - Y_hat[row]
                columns[f"{target.name}_probability_{target.classes[1]}"] = Y_hat[row]
            else:
                columns[f"{target.name}_predicted"] = Y_hat[row] * target.scale + target.center
        return pd.DataFrame(columns)


# -- checking a stored record -------------------------------------------------------------

_SCALINGS = ("standard", "minmax", "none")
_MISSING = ("error", "drop", "mean", "most_frequent")


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _is_stored_label(value: Any) -> bool:
    return isinstance(value, (str, bool)) or _is_finite_number(value)


def _check_labels(where: str, labels: Any, least: int, most: int | None = None) -> None:
    if not isinstance(labels, list) or not all(_is_stored_label(v) for v in labels):
        raise ValueError(f"{where} is {labels!r}, expected a list of labels")
    if len(labels) < least or (most is not None and len(labels) > most):
        wanted = f"{least}" if most == least else f"at least {least}"
        raise ValueError(f"{where} has {len(labels)} labels, expected {wanted}")
    if len({(type(v).__name__, v) for v in labels}) != len(labels):
        raise ValueError(f"{where} repeats a label")


def _check_column(where: str, column: Any, kinds: tuple[str, ...], fields: set[str]) -> None:
    if not isinstance(column, dict):
        raise ValueError(f"{where} is not an object")
    unknown = set(column) - fields
    if unknown or "name" not in column or "kind" not in column:
        raise ValueError(f"{where} has keys {sorted(column)}, expected {sorted(fields)}")
    if not isinstance(column["name"], str) or not column["name"]:
        raise ValueError(f"{where}.name is {column['name']!r}, expected a column name")
    if column["kind"] not in kinds:
        raise ValueError(f"{where}.kind is {column['kind']!r}, expected one of {', '.join(kinds)}")
    for key in ("center", "scale"):
        if key in column and not _is_finite_number(column[key]):
            raise ValueError(f"{where}.{key} is {column[key]!r}, expected a finite number")
    if column.get("scale", 1.0) == 0:
        raise ValueError(f"{where}.scale is 0")


def _check_record(data: Any) -> dict[str, Any]:
    """A stored preprocessing record, checked field by field (ValueError on the first fault)."""
    if not isinstance(data, dict):
        raise ValueError("it is not an object")
    for key, allowed in (("missing", _MISSING), ("scaling", _SCALINGS), ("target_scaling", _SCALINGS)):
        if data.get(key) not in allowed:
            raise ValueError(f"{key} is {data.get(key)!r}, expected one of {', '.join(allowed)}")
    delimiter = data.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise ValueError(f"delimiter is {delimiter!r}, expected one character")
    features, targets = data.get("features"), data.get("targets")
    if not isinstance(features, list) or not features:
        raise ValueError("features is not a non-empty list")
    if not isinstance(targets, list) or not targets:
        raise ValueError("targets is not a non-empty list")
    feature_fields = {f.name for f in FeatureColumn.__dataclass_fields__.values()}
    for index, column in enumerate(features):
        where = f"features[{index}]"
        _check_column(where, column, ("numeric", "categorical"), feature_fields)
        categories, fill = column.get("categories", []), column.get("fill")
        if column["kind"] == "categorical":
            _check_labels(f"{where}.categories", categories, 1)
            if fill is not None and not _is_stored_label(fill):
                raise ValueError(f"{where}.fill is {fill!r}, expected a label")
        else:
            _check_labels(f"{where}.categories", categories, 0, 0)
            if fill is not None and not _is_finite_number(fill):
                raise ValueError(f"{where}.fill is {fill!r}, expected a finite number")
    target_fields = {f.name for f in TargetColumn.__dataclass_fields__.values()}
    for index, column in enumerate(targets):
        where = f"targets[{index}]"
        _check_column(where, column, ("numeric", "binary", "classes"), target_fields)
        classes = column.get("classes", [])
        if column["kind"] == "classes":
            if len(targets) != 1:
                raise ValueError(f"{where} holds classes but is not the only target")
            _check_labels(f"{where}.classes", classes, 2)
        elif column["kind"] == "binary":
            _check_labels(f"{where}.classes", classes, 2, 2)
        else:
            _check_labels(f"{where}.classes", classes, 0, 0)
    names = [c["name"] for c in features] + [c["name"] for c in targets]
    if len(set(names)) != len(names):
        raise ValueError("a column name appears twice among the features and targets")
    return data


def _codes(
    table: Table, column: str, labels: pd.Series, known: list[Any], role: str
) -> np.ndarray:
    """Index of each label in `known`; an unseen label is an error that names it."""
    lookup = {label: index for index, label in enumerate(known)}
    codes = labels.map(lookup)
    unseen = codes.isna() & labels.notna()
    if unseen.any():
        values = _sorted_labels(set(labels[unseen]))
        line, _ = _first_bad(table, column, unseen)
        shown = ", ".join(repr(v) for v in values[:10])
        raise DataError(
            f"{table.path}, line {line}, column {_column_position(table, column)} ({column!r}): "
            f"{role} value{'s' if len(values) > 1 else ''} {shown} not seen in the training "
            f"data; the model knows {', '.join(repr(v) for v in known)}."
        )
    if codes.isna().any():
        line, _ = _first_bad(table, column, codes.isna())
        raise DataError(
            f"{table.path}, line {line}, column {_column_position(table, column)} ({column!r}): "
            f"missing {role} value."
        )
    return codes.to_numpy(dtype=np.int64)


# -- fitting ---------------------------------------------------------------------------------

BINARY_POSITIVE = ("1", "true", "yes", "y", "positive", "pos")


def _binary_classes(labels: set[Any]) -> list[Any]:
    """[label for 0, label for 1]: 1/True/yes is the positive class, else the second sorted."""
    ordered = _sorted_labels(labels)
    for label in ordered:
        if str(label).lower() in BINARY_POSITIVE:
            return [other for other in ordered if other != label] + [label]
    return ordered


def _scale_stats(values: np.ndarray, how: str) -> tuple[float, float, bool]:
    """(center, scale, constant) so that (x - center) / scale is the scaled value."""
    if how == "none" or len(values) == 0:
        return 0.0, 1.0, False
    if how == "standard":
        center, spread = float(np.mean(values)), float(np.std(values))
    else:  # minmax
        center, spread = float(np.min(values)), float(np.max(values) - np.min(values))
    if spread == 0.0 or not np.isfinite(spread):
        return center, 1.0, True
    return center, spread, False


@dataclass
class Fitted:
    preprocessing: Preprocessing
    notes: list[str]


def fit_preprocessing(
    table: Table,
    features: list[str],
    targets: list[str],
    cost: str,
    scaling: str = "standard",
    target_scaling: str = "none",
    missing: str = "error",
) -> Fitted:
    """Fit every statistic on `table` (the training part) and return the preprocessing.

    `notes` are warnings for the user (constant columns, very different scales …).
    """
    frame = table.frame
    notes: list[str] = []
    columns: list[FeatureColumn] = []
    for name in features:
        series = frame[name]
        if is_text_column(series):
            labels = _labels(series)
            present = labels.dropna()
            categories = _sorted_labels(set(present))
            fill = None
            if missing in ("mean", "most_frequent") and len(present):
                fill = _label(present.value_counts().idxmax())
            columns.append(FeatureColumn(name, "categorical", fill=fill, categories=categories))
            continue
        values = numeric_column(table, name, f"feature {name!r}").to_numpy()
        present = values[~np.isnan(values)]
        fill = None
        if missing == "mean" and len(present):
            fill = float(np.mean(present))
        elif missing == "most_frequent" and len(present):
            uniques, counts = np.unique(present, return_counts=True)
            fill = float(uniques[np.argmax(counts)])
        filled = np.where(np.isnan(values), fill if fill is not None else np.nan, values)
        center, scale, constant = _scale_stats(filled[~np.isnan(filled)], scaling)
        if constant:
            how = "centred, not divided" if scaling == "standard" else "shifted, not divided"
            notes.append(
                f"feature {name!r} is constant in the training data (spread 0): it is {how}, "
                "so it carries no information."
            )
        columns.append(FeatureColumn(name, "numeric", center=center, scale=scale, fill=fill))

    if scaling == "none":
        spreads = {}
        for column in columns:
            if column.kind == "numeric":
                values = frame[column.name].astype(float).to_numpy()
                values = values[~np.isnan(values)]
                if len(values):
                    spreads[column.name] = float(np.max(np.abs(values)))
        positive = {name: s for name, s in spreads.items() if s > 0}
        if len(positive) > 1 and max(positive.values()) > 100 * min(positive.values()):
            large = max(positive, key=positive.get)  # type: ignore[arg-type]
            small = min(positive, key=positive.get)  # type: ignore[arg-type]
            notes.append(
                f"features have very different scales ({large!r} up to {positive[large]:g}, "
                f"{small!r} up to {positive[small]:g}) and data.scaling is none: gradient "
                "descent will crawl. Consider scaling: standard."
            )

    target_columns = _fit_targets(table, targets, cost, target_scaling, notes)
    preprocessing = Preprocessing(
        columns, target_columns, missing, scaling, target_scaling, table.delimiter
    )
    return Fitted(preprocessing, notes)


def _fit_targets(
    table: Table, targets: list[str], cost: str, target_scaling: str, notes: list[str]
) -> list[TargetColumn]:
    frame = table.frame
    if cost == "categorical_cross_entropy":
        if len(targets) != 1:
            raise DataError(
                f"{table.path}: categorical_cross_entropy takes one target column of class "
                f"labels, found data.targets = {targets}.",
                hint="name the single column that holds the class of each row.",
            )
        name = targets[0]
        classes = _sorted_labels(set(_labels(frame[name]).dropna()))
        if len(classes) < 2:
            raise DataError(
                f"{table.path}: target {name!r} has only one class ({classes[0]!r}) in the "
                "training data; a classifier needs at least two."
            )
        return [TargetColumn(name, "classes", classes=classes)]
    if cost == "binary_cross_entropy":
        columns = []
        for name in targets:
            labels = set(_labels(frame[name]).dropna())
            if len(labels) != 2:
                shown = ", ".join(repr(v) for v in _sorted_labels(labels)[:10])
                what = "only one class" if len(labels) == 1 else f"{len(labels)} distinct values"
                raise DataError(
                    f"{table.path}: target {name!r} has {what} ({shown}); "
                    "binary_cross_entropy needs exactly two classes (such as 0 and 1).",
                    hint=(
                        "for more than two classes use cost: categorical_cross_entropy with a "
                        "softmax output layer."
                        if len(labels) > 2
                        else None
                    ),
                )
            columns.append(TargetColumn(name, "binary", classes=_binary_classes(labels)))
        return columns
    columns = []
    for name in targets:
        series = frame[name]
        if is_text_column(series):
            example = series.dropna().iloc[0]
            raise DataError(
                f"{table.path}: target {name!r} holds text (e.g. {example!r}); cost mse needs "
                "numbers.",
                hint=(
                    "to predict classes use cost: categorical_cross_entropy with a softmax "
                    "output layer."
                ),
            )
        values = numeric_column(table, name, f"target {name!r}").dropna().to_numpy()
        center, scale, constant = _scale_stats(values, target_scaling)
        if constant and target_scaling != "none":
            notes.append(f"target {name!r} is constant in the training data: it is not scaled.")
        columns.append(TargetColumn(name, "numeric", center=center, scale=scale))
    return columns


# -- splitting -------------------------------------------------------------------------------


def split_rows(
    table: Table, fraction: float, seed: int, stratify: str | None
) -> tuple[Table, Table]:
    """A seeded (and, for classification, stratified) split into training and validation."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))  # [seed, 1]: the split
    frame = table.frame
    if stratify is not None:
        labels = _labels(frame[stratify]).astype(str).to_numpy()
        validation = []
        for label in _sorted_labels(set(labels)):
            rows = np.flatnonzero(labels == label)
            count = int(round(fraction * len(rows)))
            if count >= len(rows):
                count = len(rows) - 1
            validation.extend(rng.permutation(rows)[:count].tolist())
        chosen = np.zeros(len(frame), dtype=bool)
        chosen[validation] = True
    else:
        count = int(round(fraction * len(frame)))
        chosen = np.zeros(len(frame), dtype=bool)
        chosen[rng.permutation(len(frame))[:count]] = True
    if chosen.all() or not chosen.any():
        raise DataError(
            f"{table.path}: data.validation.fraction = {fraction} of {len(frame)} rows leaves "
            f"{'no training' if chosen.all() else 'no validation'} rows.",
            hint="use a larger file or another fraction.",
        )
    return Table(table.path, frame.loc[~chosen], table.delimiter), Table(
        table.path, frame.loc[chosen], table.delimiter
    )


def frame_to_csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.17g")
    return buffer.getvalue()


def class_labels(series: pd.Series) -> pd.Series:
    """The labels of a column as the model stores and compares them (for the commands that
    check labels themselves, such as evaluate listing every unseen one)."""
    return _labels(series)
