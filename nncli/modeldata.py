"""A CSV file read for a saved model (`predict`, `evaluate`): a chunk of rows at a time, the
columns the model needs checked by name, typed as in training.

The model file is self-contained: its preprocessing record names the feature columns (found
by name, in any order; other columns are ignored) and the target columns (needed only by
`evaluate`). Columns whose values are text in the model (categories of a text feature, class
labels, ``--keep`` id columns) are read as text in every chunk, so that a chunk that happens
to hold only numbers reads them the same way as the rest of the file.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterator

import numpy as np

from nncli.data import DELIMITERS, Preprocessing, Table, iter_csv
from nncli.errors import ConfigError, DataError

CHUNK_ROWS = 100_000


def text_columns(preprocessing: Preprocessing, keep: list[str]) -> list[str]:
    """The columns to read as text: text categories and labels, and --keep columns."""
    names = [
        column.name
        for column in preprocessing.features
        if column.kind == "categorical" and all(isinstance(v, str) for v in column.categories)
    ]
    names += [
        column.name
        for column in preprocessing.targets
        if column.kind != "numeric" and all(isinstance(v, str) for v in column.classes)
    ]
    names += [name for name in keep if name not in preprocessing.feature_names + names]
    return names


def _listed(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _delimiter_hint(table: Table) -> str | None:
    columns = list(table.frame.columns)
    if len(columns) != 1:
        return None
    for delimiter, name in DELIMITERS.items():
        if delimiter != table.delimiter and delimiter in columns[0]:
            return f"the file looks {name}-separated: pass --delimiter {delimiter!r}."
    return None


def check_columns(
    preprocessing: Preprocessing, table: Table, keep: list[str], with_targets: bool
) -> None:
    """The file has every feature (and, for evaluate, target) column and every --keep column.

    Missing model columns are a DataError that lists them and everything the model expects;
    a --keep column the file does not have is a usage error.
    """
    columns = list(table.frame.columns)
    features = preprocessing.feature_names
    absent = [name for name in features if name not in columns]
    if absent:
        plural = "s" if len(absent) > 1 else ""
        hints = [_delimiter_hint(table)] + [
            f"did you mean {close[0]!r} for {name!r}?"
            for name in absent
            if (close := difflib.get_close_matches(name, columns, n=1))
        ]
        raise DataError(
            f"{table.path}: the file has no feature column{plural} {_listed(absent)}; the "
            f"model expects the feature columns {_listed(features)} (in any order, other "
            f"columns are ignored); the file has {_listed(columns)}.",
            hint=" ".join(h for h in hints if h) or None,
        )
    if with_targets:
        targets = preprocessing.target_names
        absent = [name for name in targets if name not in columns]
        if absent:
            plural = "s" if len(absent) > 1 else ""
            raise DataError(
                f"{table.path}: the file has no target column{plural} {_listed(absent)}; "
                f"evaluate compares the model's predictions with the target columns "
                f"{_listed(targets)}; the file has {_listed(columns)}.",
                hint="to get predictions for rows without targets, use nncli predict.",
            )
    for name in keep:
        if name not in columns:
            close = difflib.get_close_matches(name, columns, n=1)
            raise ConfigError(
                f"--keep {name}: {table.path} has no column {name!r}; its columns are "
                f"{_listed(columns)}.",
                hint=f"did you mean --keep {close[0]}?" if close else None,
            )


def missing_cells(table: Table, columns: list[str]) -> np.ndarray:
    """A k-vector: True for the rows with a missing cell in any of `columns`."""
    return table.frame[columns].isna().any(axis=1).to_numpy()


def first_missing(table: Table, columns: list[str], rows: np.ndarray) -> tuple[int, str]:
    """(file line, column name) of the first missing cell among `columns` in the masked rows."""
    row = int(np.flatnonzero(rows)[0])
    cells = table.frame[columns].iloc[row].isna().to_numpy()
    return table.line(table.frame.index[row]), columns[int(np.flatnonzero(cells)[0])]


def missing_error(table: Table, columns: list[str], rows: np.ndarray, missing: str) -> DataError:
    """A missing cell the model cannot handle: its line and column, and why."""
    line, column = first_missing(table, columns, rows)
    position = list(table.frame.columns).index(column) + 1
    count = int(rows.sum())
    more = f" ({count} rows of this chunk have missing cells)" if count > 1 else ""
    return DataError(
        f"{table.path}, line {line}, column {position} ({column!r}): missing value{more}; "
        f"the model was trained with data.missing: {missing}, so it needs every cell.",
        hint="fill the cells, or retrain with data.missing: mean (fills numbers with the "
        "training mean) or most_frequent.",
    )


def model_chunks(
    preprocessing: Preprocessing,
    path: Path,
    keep: list[str] | None = None,
    with_targets: bool = False,
    delimiter: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[Table]:
    """The CSV file a chunk of at most `chunk_rows` rows at a time, columns checked first.

    Raises DataError for an empty file, a file with a header and no rows, and every
    malformed row (with its line), as `data.iter_csv` does.
    """
    keep = keep or []
    first = True
    for table in iter_csv(path, delimiter, "data", chunk_rows, text_columns(preprocessing, keep)):
        if first:
            check_columns(preprocessing, table, keep, with_targets)
            first = False
        yield table
