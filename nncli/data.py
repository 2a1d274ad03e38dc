"""CSV data → X (n0 × k) and Y (n_m × k), with preprocessing that is saved with the model.

Reading: pandas reads the file (UTF-8, a byte-order mark is fine; the delimiter is detected
among , ; and tab unless given). Blank lines are skipped, before the header too. Every
problem is a `DataError` naming the file, the line, the column and the value; line numbers
are the file's own lines (blank lines and cells that span lines included).

Preprocessing, fitted on the training part only and stored in the model file's metadata so
that `predict` and `evaluate` apply exactly the same transformation:
- numeric feature columns: missing cells filled (``missing: mean`` or ``most_frequent``),
  then scaled (``scaling: standard`` z-score, ``minmax`` to [0, 1], or ``none``);
- text and boolean feature columns: one-hot encoded, one row of X per category (in sorted
  order), so n0 counts the encoded rows;
- targets: for categorical cross-entropy the class labels of the one target column become
  one-hot rows of Y in sorted order; for binary cross-entropy each target's two labels map to
  0 and 1 (which one is 1 is recorded); for mse numeric targets, optionally scaled
  (``target_scaling``) and unscaled again on predict.

Cells of text columns are compared as canonical labels (`_label`), so the same cell means
the same category whatever type pandas gives its column in a particular file: ``1``, ``1.0``
and ``"1"`` are the label 1, ``True``, ``true`` and ``TRUE`` the label True.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from nncli.errors import DataError

# Cells read as missing. Deliberately short: "None" or "NA" can be a real category name
# elsewhere, but in a CSV they almost always mean "no value".
MISSING_MARKERS = ["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "#N/A", "<NA>"]
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}  # detected
OTHER_DELIMITERS = {"|": "pipe", ":": "colon"}  # never detected, but suggested when seen
SNIFF_LINES = 50
DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# -- reading -----------------------------------------------------------------------------


def _describe_delimiter(delimiter: str) -> str:
    names = {**DELIMITERS, **OTHER_DELIMITERS}
    return f"{names.get(delimiter, repr(delimiter))} ({delimiter!r})"


def _yaml_delimiter(delimiter: str) -> str:
    """The delimiter as it is written in the config: ';' or "\\t"."""
    return '"\\t"' if delimiter == "\t" else f"'{delimiter}'"


class _Unsuitable(Exception):
    """The file has what only the csv module reads right (quotes, very long lines, NUL)."""


UNKNOWN = -2  # the field count of a record past the end of the scan
SCAN_BYTES = 1 << 20  # bytes read at a time when scanning for records
SCAN_RECORDS = 1 << 16  # records handed on at a time by the csv module's scan


class _Records:
    """Where each data record of a CSV file starts, and how many fields it has.

    pandas does not tell line numbers, so a scan of the file (with the same quoting rules)
    finds them. Record i after the header is row index i of the frame: blank lines are
    records of their own in both. The scan is made only when a message needs a line number
    or a check needs a field count, goes only as far as the record asked for, and is shared
    by every Table cut from the same read. A chunked read calls `forget_before` for each
    chunk, so that it keeps only the records from that chunk on: memory stays bounded
    however long the file.

    A file without quotes (nor NUL bytes, nor lines longer than the csv module's field
    limit) has one record per line: NumPy counts the delimiters of a block of lines at a
    time, some 30 times faster than the csv module, which reads all other files.
    """

    def __init__(self, path: Path, delimiter: str, header_line: int) -> None:
        self.path = path
        self.delimiter = delimiter
        self.header_line = header_line
        self._first = 0  # the index of the first record held
        self._starts = np.zeros(0, dtype=np.int64)  # of records _first, _first + 1, …
        self._fields = np.zeros(0, dtype=np.int64)
        self._batches: Iterator[tuple[np.ndarray, np.ndarray]] | None = None
        self._ended = False  # the scan reached the end of the file, or a record it cannot split
        self._keep_from = 0

    def _reader(self, handle: Any) -> Any:
        reader = csv.reader(handle, delimiter=self.delimiter, skipinitialspace=True)
        for _ in range(self.header_line):  # the blank lines before the header, the header
            next(reader, None)
        return reader

    # -- scanning -----------------------------------------------------------------------

    def _scan(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(starts, fields) of the data records in order, a batch at a time. A file that
        cannot be read (again) has no records: lines are then counted as header line + 1 +
        index."""
        done = 0
        try:
            for starts, fields in self._lines():
                done += len(fields)
                yield starts, fields
            return
        except _Unsuitable:
            pass
        except (OSError, UnicodeDecodeError):
            return
        try:
            yield from self._csv_records(skip=done)
        except (OSError, UnicodeDecodeError):
            return

    def _lines(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The records of a file with one record per line (a line ends at \n, \r\n or
        \r, as for the csv module); raises _Unsuitable at the first block that may not be
        one (the records before it are right)."""
        # (a space delimiter: the csv module drops a second one as a field's initial space)
        plain = self.delimiter.isascii() and self.delimiter not in ' "\r\n'
        delimiter = ord(self.delimiter) if plain else None
        limit = csv.field_size_limit()
        decoder = codecs.getincrementaldecoder("utf-8-sig")()  # a decoding error ends the scan
        line = 0  # lines before the carried text
        carry = b""
        with open(self.path, "rb") as handle:
            while True:
                block = handle.read(SCAN_BYTES)
                final = not block
                decoder.decode(block, final)
                text = carry + block
                if delimiter is None or b'"' in text or b"\x00" in text:
                    raise _Unsuitable
                data = np.frombuffer(text, dtype=np.uint8)
                if b"\r" in text:
                    # a line ends at \n, or at a \r not followed by \n (a \r that ends a
                    # block waits for the next block to tell, unless it is the last)
                    is_cr = data == 13
                    follows = np.append(data[1:], np.uint8(0))
                    ends = np.flatnonzero((data == 10) | (is_cr & (follows != 10)))
                    if not final and data[-1] == 13:
                        ends = ends[ends < len(data) - 1]
                    begins = np.concatenate(([0], ends + 1))[: len(ends)].astype(np.int64)
                    crlf = is_cr[np.maximum(ends - 1, 0)] & (data[ends] == 10) & (ends > begins)
                    stops = ends - crlf
                else:
                    ends = np.flatnonzero(data == 10)
                    begins = np.concatenate(([0], ends + 1))[: len(ends)].astype(np.int64)
                    stops = ends
                last = int(ends[-1]) + 1 if len(ends) else 0
                if final and last < len(data):  # a last line without a line end
                    begins = np.append(begins, last)
                    stops = np.append(stops, len(data))
                if len(stops) and int(np.max(stops - begins)) > limit:
                    raise _Unsuitable  # a field may outgrow the csv module's limit
                at = np.flatnonzero(data == delimiter)
                inside = np.searchsorted(at, stops) - np.searchsorted(at, begins)
                fields = np.where(stops > begins, inside + 1, 0)
                numbers = line + 1 + np.arange(len(fields), dtype=np.int64)
                skip = max(0, min(len(fields), self.header_line - line))
                line += len(fields)
                if len(fields) > skip:
                    yield numbers[skip:], fields[skip:].astype(np.int64)
                if final:
                    return
                carry = text[last:]

    def _csv_records(self, skip: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The records as the csv module reads them, after the first `skip`."""
        starts: list[int] = []
        fields: list[int] = []
        with open(self.path, encoding="utf-8-sig", newline="") as handle:
            reader = self._reader(handle)
            previous = reader.line_num
            try:
                for row in reader:
                    if skip:
                        skip -= 1
                    else:
                        starts.append(previous + 1)
                        fields.append(len(row))
                        if len(fields) == SCAN_RECORDS:
                            yield np.asarray(starts, dtype=np.int64), np.asarray(fields, dtype=np.int64)
                            starts, fields = [], []
                    previous = reader.line_num
            except csv.Error:  # a quoted cell that never closes outgrows the field limit
                if not skip:
                    starts.append(previous + 1)
                    fields.append(-1)
        if fields:
            yield np.asarray(starts, dtype=np.int64), np.asarray(fields, dtype=np.int64)

    def _reach(self, index: int) -> None:
        """Scan on until record `index` is held, or the records end."""
        while index >= self._first + len(self._fields) and not self._ended:
            if self._batches is None:
                self._batches = self._scan()
            batch = next(self._batches, None)
            if batch is None:
                self._ended = True
                break
            self._starts = np.concatenate((self._starts, batch[0]))
            self._fields = np.concatenate((self._fields, batch[1]))
            self._trim()

    def _trim(self) -> None:
        drop = min(len(self._fields), max(0, self._keep_from - self._first))
        if drop:
            self._starts, self._fields = self._starts[drop:], self._fields[drop:]
            self._first += drop

    def _record(self, index: int) -> tuple[int, int] | None:
        """(start line, field count) of data record `index`; None past the last."""
        if index < 0:
            return None
        if index < self._first:  # forgotten: a scan of its own (no message asks, so far)
            seen = 0
            for starts, fields in self._scan():
                if index < seen + len(fields):
                    return int(starts[index - seen]), int(fields[index - seen])
                seen += len(fields)
            return None
        self._reach(index)
        if index < self._first + len(self._fields):
            return int(self._starts[index - self._first]), int(self._fields[index - self._first])
        return None

    # -- asking -------------------------------------------------------------------------

    def forget_before(self, index: int) -> None:
        """Records before `index` will not be asked for (a chunked read has moved on)."""
        self._keep_from = max(self._keep_from, int(index))
        self._trim()

    def field_counts(self, indices: np.ndarray) -> np.ndarray:
        """How many fields data records `indices` have: 0 for a blank line, -1 for one the
        csv module cannot split, UNKNOWN past the last record."""
        indices = np.asarray(indices, dtype=np.int64)
        counts = np.full(len(indices), UNKNOWN, dtype=np.int64)
        if len(indices) == 0:
            return counts
        self._reach(int(indices.max()))
        held = (indices >= self._first) & (indices < self._first + len(self._fields))
        counts[held] = self._fields[indices[held] - self._first]
        for position in np.flatnonzero((indices < self._first) & (indices >= 0)):
            record = self._record(int(indices[position]))
            counts[position] = UNKNOWN if record is None else record[1]
        return counts

    @property
    def starts(self) -> np.ndarray:
        """starts[i]: the file line (1-based) where data record i begins; every record
        (for a _Records that was never told to forget)."""
        self._reach(1 << 62)
        return self._starts

    @property
    def fields(self) -> np.ndarray:
        """fields[i]: how many fields data record i has (0 for a blank line); every record
        (for a _Records that was never told to forget)."""
        self._reach(1 << 62)
        return self._fields

    def line(self, index: int) -> int:
        record = self._record(index)
        return record[0] if record is not None else self.header_line + 1 + index

    def row(self, index: int) -> list[str] | None:
        """The fields of data record `index` as text, as the file has them (None: unknown)."""
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as handle:
                reader = self._reader(handle)
                for position, row in enumerate(reader):
                    if position == index:
                        return row
        except (OSError, UnicodeDecodeError, csv.Error):
            return None
        return None


@dataclass
class Table:
    """A CSV file read into a DataFrame.

    The frame's index is each row's position among the file's records after the header
    (blank lines count), so a row keeps its index when other rows are dropped or split off,
    and `line(index)` is the line of the file it came from.
    """

    path: Path
    frame: pd.DataFrame
    delimiter: str
    role: str = "data"
    header_line: int = 1
    records: _Records | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.records is None:
            self.records = _Records(self.path, self.delimiter, self.header_line)

    def line(self, index: int) -> int:
        """The file line (1-based) where data row `index` begins."""
        assert self.records is not None
        return self.records.line(int(index))

    def subset(self, rows: pd.Series | np.ndarray, role: str | None = None) -> "Table":
        """The rows selected by a boolean mask, still knowing their lines in the file."""
        return Table(
            self.path, self.frame.loc[rows], self.delimiter, role or self.role,
            self.header_line, self.records,
        )

    def cell_text(self, index: int, column: str) -> str | None:
        """The cell as the file writes it (for messages); None if it cannot be found."""
        assert self.records is not None
        row = self.records.row(int(index))
        position = list(self.frame.columns).index(column)
        if row is None or position >= len(row):
            return None
        return row[position].strip()


def _check_file(path: Path, role: str) -> None:
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        nearby = sorted(p.name for p in parent.glob("*.csv"))[:10] if parent.is_dir() else []
        hint = f"CSV files in {parent}: {', '.join(nearby)}" if nearby else "check the path."
        raise DataError(f"{path}: {role} file not found.", hint=hint)
    if path.is_dir():
        raise DataError(f"{path}: {role} is a directory, expected a CSV file.")


def _encoding_error(path: Path) -> DataError:
    """The line and byte where a file stops being UTF-8 (read again, in binary)."""
    hint = "re-save the file as UTF-8 (in a spreadsheet: \"CSV UTF-8\")."
    with open(path, "rb") as handle:
        start = handle.read(2)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        return DataError(
            f"{path}: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
            "nncli reads CSV files encoded as UTF-8.",
            hint=hint,
        )
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                return DataError(
                    f"{path}, line {number}: not UTF-8 text (byte 0x{raw[error.start]:02x} at "
                    f"character {error.start + 1} of the line); nncli reads CSV files encoded "
                    "as UTF-8.",
                    hint=hint + " Files saved as Latin-1 or Windows-1252 look like this.",
                )
    return DataError(f"{path}: not UTF-8 text; nncli reads CSV files encoded as UTF-8.", hint=hint)


def _head(path: Path, role: str) -> tuple[list[str], int]:
    """The first non-blank lines (the header first) and the header's line number."""
    lines: list[str] = []
    header_line = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if not lines:
                    header_line = number
                lines.append(line)
                if len(lines) >= SNIFF_LINES:
                    break
    except UnicodeDecodeError:
        raise _encoding_error(path) from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the {role} file: {error.strerror}.") from None
    if "\x00" in "".join(lines):
        raise DataError(
            f"{path}: the {role} file holds NUL bytes: it is not a text CSV file (UTF-16, or "
            "a spreadsheet or other binary file?).",
            hint="export it as CSV, encoded as UTF-8.",
        )
    return lines, header_line


def _split(line: str, delimiter: str) -> list[str] | None:
    """The fields of one line, or None when a field outgrows the csv module's field limit
    (131,072 characters: a huge cell, or a long line that `delimiter` does not split)."""
    try:
        return next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    except csv.Error:
        return None


def _rows(lines: list[str], delimiter: str) -> list[list[str] | None]:
    """The records of `lines` (a quoted cell may span lines). If a field outgrows the field
    limit, each line on its own, None for those that cannot be split."""
    try:
        return list(csv.reader(lines, delimiter=delimiter, skipinitialspace=True))
    except csv.Error:
        return [_split(line, delimiter) for line in lines]


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    """Fields per record (-1 for a line that cannot be split, see `_split`)."""
    return [-1 if row is None else len(row) for row in _rows(lines, delimiter)]


def _splits_evenly(lines: list[str], delimiter: str) -> bool:
    """Every line splits into the same number (> 1) of fields."""
    counts = _field_counts(lines, delimiter)
    return bool(counts) and counts[0] > 1 and all(count == counts[0] for count in counts)


def _numeric_cells(lines: list[str], delimiter: str) -> int:
    """How many cells of the data lines read as numbers (decimal comma or point) when split
    by `delimiter`."""
    count = 0
    for row in _rows(lines[1:], delimiter):
        for cell in row or []:
            text = cell.strip()
            if DECIMAL_COMMA.fullmatch(text) or NUMBER.fullmatch(text):
                count += 1
    return count


def _sniff_delimiter(path: Path, head: list[str], header_line: int) -> str:
    """The one delimiter among , ; tab that splits every line into equally many fields.

    Two that both do are ambiguous: an error that suggests the one giving more numbers.
    None that does: the one that splits most lines like the header (bad rows are found and
    reported later).
    """
    even = [delimiter for delimiter in DELIMITERS if _splits_evenly(head, delimiter)]
    if len(even) == 1:
        return even[0]
    if len(even) > 1:
        numbers = {delimiter: _numeric_cells(head, delimiter) for delimiter in even}
        ranked = sorted(even, key=lambda d: -numbers[d])
        splits = "; ".join(
            f"split by {_describe_delimiter(d)} every line has {_field_counts(head[:1], d)[0]} "
            "fields" for d in even
        )
        best = ranked[0]
        if numbers[ranked[0]] > numbers[ranked[1]]:
            hint = (
                f"set data.delimiter: {_yaml_delimiter(best)} (with it {numbers[best]} of the "
                f"first cells read as numbers, against {numbers[ranked[1]]})."
            )
        else:
            options = " or ".join(_yaml_delimiter(d) for d in even)
            hint = f"set data.delimiter to {options}."
        raise DataError(
            f"{path}, line {header_line}: the delimiter is ambiguous: {splits}.", hint=hint
        )
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        counts = _field_counts(head, delimiter)
        consistent = sum(1 for count in counts if count == counts[0])
        score = (consistent if counts[0] > 1 else 0, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _check_given_delimiter(path: Path, head: list[str], delimiter: str, header_line: int) -> None:
    """A given delimiter that leaves the header whole, where another splits it: an error."""
    if _field_counts(head[:1], delimiter)[0] > 1:
        return
    for other in DELIMITERS:
        if other != delimiter and _splits_evenly(head, other):
            columns = _field_counts(head[:1], other)[0]
            raise DataError(
                f"{path}, line {header_line}: read as {_describe_delimiter(delimiter)}-separated, "
                f"the header {head[0].rstrip()!r} is a single column; split by "
                f"{_describe_delimiter(other)} it has {columns} columns.",
                hint=(
                    f"set data.delimiter: {_yaml_delimiter(other)}, or leave data.delimiter "
                    "out to detect , ; and tab."
                ),
            )


def _header(path: Path, delimiter: str | None, role: str) -> tuple[list[str], str, int]:
    """(column names, delimiter, header line number); a DataError for a bad header."""
    head, header_line = _head(path, role)
    if not head:
        raise DataError(f"{path}: the {role} file is empty; expected a header line and data rows.")
    if delimiter is None:
        delimiter = _sniff_delimiter(path, head, header_line)
    else:
        _check_given_delimiter(path, head, delimiter, header_line)
    where = f"{path}, line {header_line}"
    names = _split(head[0], delimiter)
    if names is None:
        raise DataError(
            f"{where}: the header has a column name (or an unclosed quote) of more than "
            f"{csv.field_size_limit():,} characters; expected column names.",
            hint="is this a CSV file? Check the first line and the quotes in it.",
        )
    names = [name.strip() for name in names]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name == "":
            last = position == len(names) and len(names) > 1
            raise DataError(
                f"{where}, column {position}: the column has no name; every column needs one.",
                hint=(
                    f"the header line ends with the delimiter {delimiter!r}: remove the trailing "
                    "delimiter (from every line), or name the column."
                    if last
                    else "name the column."
                ),
            )
        if name in seen:
            raise DataError(
                f"{where}: duplicate column name {name!r} (columns {seen[name]} and "
                f"{position}); every column needs a name of its own.",
                hint="rename one of them.",
            )
        seen[name] = position
    return names, delimiter, header_line


def _pandas_options(delimiter: str, header_line: int) -> dict[str, Any]:
    return {
        "sep": delimiter,
        "encoding": "utf-8-sig",
        "keep_default_na": False,
        "na_values": MISSING_MARKERS,
        "skip_blank_lines": False,  # blank lines stay rows, so row index i is record i
        "skipinitialspace": True,
        "index_col": False,  # never take a first column as the index when rows are longer
        "skiprows": header_line - 1,  # the blank lines before the header
    }


def _parser_error(
    path: Path, error: Exception, delimiter: str, names: list[str], header_line: int
) -> DataError:
    """The first row with more fields than the header (found again, with its real line)."""
    records = _Records(path, delimiter, header_line)
    fields, starts = records.fields, records.starts
    long = np.flatnonzero(fields > len(names))
    if len(long):
        first = int(long[0])
        return DataError(
            f"{path}, line {int(starts[first])}: the row has {int(fields[first])} fields, the "
            f"header has {len(names)} ({_describe_delimiter(delimiter)}-separated).",
            hint="a text cell that contains the delimiter must be quoted with \"…\".",
        )
    text = str(error).replace("Error tokenizing data. C error: ", "").strip()
    if "EOF inside string" in text and len(starts):
        return DataError(
            f"{path}, line {int(starts[-1])}: a quoted cell opened on this row (or later in it) "
            "is never closed; the rest of the file would be one cell.",
            hint="close the quote, or write a quote inside a quoted cell as \"\".",
        )
    return DataError(f"{path}: cannot be read as CSV: {text}.")


def _frame(frame: pd.DataFrame, path: Path, names: list[str]) -> pd.DataFrame:
    if len(frame.columns) != len(names):
        raise DataError(
            f"{path}: the header has {len(names)} columns but pandas read {len(frame.columns)}; "
            "is a header cell quoted across lines?"
        )
    frame.columns = names
    return frame


def read_csv(path: Path, delimiter: str | None = None, role: str = "data") -> Table:
    """Read a whole CSV file. Raises DataError for every problem a user can fix."""
    _check_file(path, role)
    names, delimiter, header_line = _header(path, delimiter, role)
    try:
        with warnings.catch_warnings():
            # pandas only warns when every row is longer than the header, and drops cells
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, low_memory=False, **_pandas_options(delimiter, header_line))
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the {role} file is empty.") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        raise _parser_error(path, error, delimiter, names, header_line) from None
    except UnicodeDecodeError:
        raise _encoding_error(path) from None
    table = Table(path, _frame(frame, path, names), delimiter, role, header_line)
    return _finish(table, names)


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
    names, delimiter, header_line = _header(path, delimiter, role)
    text = {name: str for name in text_columns or () if name in names}
    records = _Records(path, delimiter, header_line)
    empty = True
    try:
        for frame in _frames(path, delimiter, header_line, chunk_rows, text or None):
            frame = _frame(frame, path, names)
            if len(frame):
                records.forget_before(int(frame.index[0]))  # memory stays bounded
            table = Table(path, frame, delimiter, role, header_line, records)
            table = _finish(table, names, allow_empty=True)
            if len(table.frame):
                empty = False
                yield table
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the {role} file is empty.") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        raise _parser_error(path, error, delimiter, names, header_line) from None
    except UnicodeDecodeError:
        raise _encoding_error(path) from None
    if empty:
        raise DataError(f"{path}: the {role} file has a header but no data rows.")


class _LeadingSpaces:
    """The text of a file as pandas reads it, watched for a field that begins with a space.

    skipinitialspace=True (drop the spaces that begin a field) makes pandas's tokenizer
    about 25 % slower, and changes nothing in a file where no field begins with a space.
    Such a field starts right after the delimiter, a line end or the start of the file, so
    while no space follows one of them the file is read without skipinitialspace; at the
    first that does, `found` is set and the reader is given the end of the file instead.
    """

    def __init__(self, handle: Any, delimiter: str) -> None:
        self.handle = handle
        self.after = re.compile(f"(?:{re.escape(delimiter)}|[\r\n]) ")
        self.last = "\n"  # the start of the file counts as a line end
        self.found = False

    def read(self, size: int = -1) -> str:
        if self.found:
            return ""
        text = self.handle.read(size)
        if " " in text and self.after.search(self.last + text):
            self.found = True
            return ""
        if text:
            self.last = text[-1]
        return text

    def __iter__(self) -> Iterator[str]:
        """pandas takes a file as an object with read and __iter__ (its C parser only
        reads); the text is watched this way too."""
        return iter(lambda: self.read(1 << 16), "")


def _next_frame(reader: Any) -> pd.DataFrame | None:
    with warnings.catch_warnings():  # around the parsing only, never a yield
        # pandas only warns when every row is longer than the header, and drops cells
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return next(reader, None)


def _frames(
    path: Path, delimiter: str, header_line: int, chunk_rows: int, dtype: dict[str, Any] | None
) -> Iterator[pd.DataFrame]:
    """The file's chunks as pandas reads them (with skipinitialspace, see `_pandas_options`);
    pandas's exceptions pass through.

    Read without skipinitialspace while no field begins with a space (`_LeadingSpaces`),
    which gives the same chunks faster. When one does, the file is read again the usual way
    from the start, and the chunks already handed out (made of the text before that field,
    so the same either way) are skipped.
    """
    options = {**_pandas_options(delimiter, header_line), "chunksize": chunk_rows, "dtype": dtype}
    handed_out = 0
    if delimiter.isascii() and delimiter not in ' "':
        with open(path, encoding="utf-8-sig", newline="") as handle:
            watched = _LeadingSpaces(handle, delimiter)
            try:
                with pd.read_csv(watched, **{**options, "skipinitialspace": False}) as reader:
                    while (frame := _next_frame(reader)) is not None and not watched.found:
                        handed_out += 1
                        yield frame
                    if not watched.found:
                        return
            except Exception:
                if not watched.found:
                    raise
                # else: pandas failed on the text cut short at that field: read it again
    with pd.read_csv(path, **options) as reader:
        for _ in range(handed_out):
            _next_frame(reader)
        while (frame := _next_frame(reader)) is not None:
            yield frame


def _short_rows(table: Table, names: list[str]) -> None:
    """Raise for the first row with fewer fields than the header.

    pandas fills the missing trailing cells of a short row with NaN, so only rows whose last
    cell is missing can be short; their field counts come from the file itself.
    """
    frame = table.frame
    candidates = frame.index[frame.iloc[:, -1].isna().to_numpy()].to_numpy(dtype=np.int64)
    if len(candidates) == 0:
        return
    assert table.records is not None
    counts = table.records.field_counts(candidates)
    short = np.flatnonzero((counts > 0) & (counts < len(names)))
    if len(short):
        index = int(candidates[short[0]])
        raise DataError(
            f"{table.path}, line {table.line(index)}: the row has {int(counts[short[0]])} fields, "
            f"the header has {len(names)} ({_describe_delimiter(table.delimiter)}-separated).",
            hint="every row needs a value (or an empty cell) for every column.",
        )


def _finish(table: Table, names: list[str], allow_empty: bool = False) -> Table:
    """Drop blank lines; a file with no data rows, or a row too short, is an error.

    A blank line (nothing but white space) is skipped. A row of empty cells (``,,``) is a
    row with every cell missing, kept so that predictions stay aligned with input rows.
    """
    empty = table.frame.isna().all(axis=1)
    if empty.any():
        assert table.records is not None
        index = table.frame.index[empty.to_numpy()].to_numpy(dtype=np.int64)
        counts = table.records.field_counts(index)
        blank = np.zeros(len(table.frame), dtype=bool)
        positions = table.frame.index.get_indexer(pd.Index(index))
        blank[positions] = (counts != UNKNOWN) & ((counts <= 1) | (len(names) == 1))
        if blank.any():
            table = table.subset(~blank)
    if not allow_empty and len(table.frame) == 0:
        raise DataError(f"{table.path}: the {table.role} file has a header but no data rows.")
    _short_rows(table, names)
    return table


def require_columns(table: Table, wanted: list[str], key: str, where: str | None = None) -> None:
    """Every name in `wanted` is a column of the table, or a DataError listing what exists.

    `key` says who names the columns (``data.features``), `where` where (a config line).
    """
    absent = [name for name in wanted if name not in table.frame.columns]
    if not absent:
        return
    columns = list(table.frame.columns)
    hints = []
    for name in absent:
        close = difflib.get_close_matches(name, columns, n=1)
        if close:
            hints.append(f"did you mean {close[0]!r} for {name!r}?")
    if len(columns) == 1:
        for delimiter in {**DELIMITERS, **OTHER_DELIMITERS}:
            if delimiter != table.delimiter and delimiter in columns[0]:
                hints.append(
                    f"the file looks {_describe_delimiter(delimiter)}-separated: "
                    f"set data.delimiter: {_yaml_delimiter(delimiter)}."
                )
                break
    listed = ", ".join(repr(c) for c in columns)
    one = len(absent) == 1
    named = f"{key} ({where})" if where else key
    raise DataError(
        f"{table.path}: column{'' if one else 's'} {', '.join(repr(a) for a in absent)} named "
        f"in {named} {'is' if one else 'are'} not in the file; its columns are {listed}.",
        hint=" ".join(hints) or None,
    )


# -- column typing -------------------------------------------------------------------------

TRUE_TEXT = ("True", "TRUE", "true")  # what pandas reads as booleans
FALSE_TEXT = ("False", "FALSE", "false")


def _first(mask: pd.Series) -> int:
    return int(mask[mask].index[0])


def _column_position(table: Table, column: str) -> int:
    return list(table.frame.columns).index(column) + 1


def _where(table: Table, index: int, column: str) -> str:
    """'file.csv, line 7, column 2 ('b')' for a cell."""
    return (
        f"{table.path}, line {table.line(index)}, column {_column_position(table, column)} "
        f"({column!r})"
    )


def _cell(table: Table, index: int, column: str) -> str:
    """The cell as the file writes it (pandas may have turned '1e999' into inf)."""
    text = table.cell_text(index, column)
    if text is None:
        text = str(_label(table.frame.at[index, column]))
    return text


SHOWN_CHARACTERS = 60


def _quoted(text: str) -> str:
    """A cell for a message, quoted: a long one cut, with its length (a message stays a line)."""
    if len(text) <= SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:SHOWN_CHARACTERS]!r}… ({len(text):,} characters)"


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
            index = _first(bad)
            text = _cell(table, index, column)
            count = int(bad.sum())
            decimal_comma = DECIMAL_COMMA.fullmatch(text) is not None
            raise DataError(
                f"{_where(table, index, column)}: {what} needs numbers, found {_quoted(text)}"
                f"{' (a number with a decimal comma)' if decimal_comma else ''}"
                f"{f'; {count} such cells in the column' if count > 1 else ''}.",
                hint=(
                    "nncli reads numbers with a decimal point (1.5, not 1,5): export the file "
                    "with '.' as the decimal separator."
                    if decimal_comma
                    else "fix or remove the cell, or leave it empty (missing) and set "
                    "data.missing."
                ),
            )
    infinite = pd.Series(np.isinf(values.to_numpy()), index=values.index)
    if infinite.any():
        index = _first(infinite)
        raise DataError(
            f"{_where(table, index, column)}: infinite value {_quoted(_cell(table, index, column))}; "
            "nncli needs finite numbers (float64 reaches about ±1.8e308)."
        )
    return values


def _label(value: Any) -> Any:
    """A cell as a category or class label: bool, int, float or str, as JSON stores it.

    Canonical, so a category is the same whatever dtype pandas gave its column: 1, 1.0 and
    "1" are 1; True, "true" and "TRUE" are True; text is stripped. Missing stays NaN.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if np.isnan(number):
            return np.nan
        return int(number) if number.is_integer() else number
    if value is None or value is pd.NA:
        return np.nan
    text = str(value).strip()
    if text in TRUE_TEXT:
        return True
    if text in FALSE_TEXT:
        return False
    if NUMBER.fullmatch(text):
        number = float(text)
        if np.isfinite(number):
            return int(number) if number.is_integer() else number
    return text


def _labels(series: pd.Series) -> pd.Series:
    """The canonical label (`_label`) of every cell, as an object Series; missing is NaN."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    canonical = np.empty(len(uniques) + 1, dtype=object)
    for position, unique in enumerate(uniques):
        canonical[position] = _label(unique)
    canonical[-1] = np.nan  # code -1: missing
    return pd.Series(canonical[codes], index=series.index, dtype=object)


def _is_number(label: Any) -> bool:
    return isinstance(label, (int, float)) and not isinstance(label, bool)


def is_text_column(series: pd.Series) -> bool:
    """A column is text (categorical) unless most of its non-missing cells are numbers.

    Booleans count as text (two categories), also when missing cells made pandas read the
    column as objects. A mostly numeric column with a few text cells is a numeric column with
    bad cells, reported as such by `numeric_column`; numbers written with a decimal comma
    count as numbers here, so they are reported too instead of becoming categories.
    """
    if pd.api.types.is_bool_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series):
        return False
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    if counts.sum() == 0:
        return False
    labels = [_label(unique) for unique in uniques]
    if all(isinstance(label, bool) for label in labels):
        return True
    numbers = sum(
        int(count)
        for label, count in zip(labels, counts)
        if _is_number(label) or (isinstance(label, str) and DECIMAL_COMMA.fullmatch(label))
    )
    return numbers * 2 <= int(counts.sum())


def _sort_key(label: Any) -> tuple[int, float, str]:
    if isinstance(label, (bool, int, float)):
        return (0, float(label), "")
    return (1, 0.0, str(label))


def _sorted_labels(values: Any) -> list[Any]:
    """Labels in a stable order: numbers (and booleans) ascending, then text."""
    return sorted(set(values), key=_sort_key)


def _most_frequent(labels: pd.Series) -> Any:
    """The most frequent label; a tie goes to the first in `_sorted_labels` order."""
    counts = labels.value_counts()
    top = counts[counts == counts.max()].index
    return _sorted_labels(top)[0]


def require_complete(table: Table, columns: list[str], missing: str = "error") -> None:
    """Every cell of `columns` is present, or one DataError counting the missing per column.

    `missing` is the data.missing in force (``error``, or ``drop`` for a model that has no
    fill values), for the message.
    """
    absent = table.frame[columns].isna()
    counts = absent.sum()
    parts = []
    for column in columns:
        count = int(counts[column])
        if count:
            line = table.line(_first(absent[column]))
            parts.append(f"{column!r}: {count} ({'first on ' if count > 1 else ''}line {line})")
    if not parts:
        return
    total = int(counts.sum())
    hint = (
        "fill the cells, or set data.missing: drop (leave those rows out), mean or "
        "most_frequent (fill them with values fitted on the training data)."
    )
    empty = table.frame.isna().all(axis=1)
    if empty.any():
        lines = [str(table.line(index)) for index in table.frame.index[empty.to_numpy()][:5]]
        more = " …" if empty.sum() > 5 else ""
        hint = (
            f"{int(empty.sum())} of the rows are nothing but empty cells (line "
            f"{', '.join(lines)}{more}), as spreadsheets sometimes export: delete them. Else "
            + hint
        )
    raise DataError(
        f"{table.path}: {total} missing cell{'s' if total > 1 else ''} (data.missing: {missing}"
        f"{'' if missing == 'error' else ', which has no fill values'}) "
        f"— {', '.join(parts)}.",
        hint=hint,
    )


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

    def X(self, table: Table, dtype: Any = np.float64) -> np.ndarray:
        """X (n0 × k) from the table's feature columns, in the model's order.

        Columns are found by name, so their order in the file does not matter. A missing
        cell is filled with the column's fitted fill value; where there is none (``missing:
        error`` or ``drop``) it is an error counting the missing cells per column.
        """
        frame = table.frame
        k = len(frame)
        unfilled = [column.name for column in self.features if column.fill is None]
        require_complete(table, unfilled, self.missing)
        X = np.empty((len(self.input_names), k), dtype=dtype)
        row = 0
        for column in self.features:
            series = frame[column.name]
            if column.kind == "numeric":
                values = numeric_column(table, column.name, f"feature {column.name!r}")
                if column.fill is not None:
                    values = values.fillna(float(column.fill))
                X[row] = _scaled(table, column.name, values, column.center, column.scale, X.dtype, "feature")
                row += 1
            else:
                labels = _labels(series)
                if column.fill is not None:
                    labels = labels.where(labels.notna(), column.fill)
                codes = _codes(table, column.name, labels, column.categories, "feature")
                block = X[row : row + len(column.categories)]
                block.fill(0)
                block[codes, np.arange(k)] = 1
                row += len(column.categories)
        return X

    def Y(self, table: Table, dtype: Any = np.float64) -> np.ndarray:
        """Y (n_m × k) from the table's target columns; a missing target value is an error."""
        frame = table.frame
        k = len(frame)
        require_complete(table, self.target_names, self.missing)
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
                Y[row] = _scaled(table, target.name, values, target.center, target.scale, Y.dtype, "target")
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


def _scaled(
    table: Table, name: str, values: pd.Series, center: float, scale: float, dtype: Any, role: str
) -> np.ndarray:
    """(x − center) / scale in the network's dtype. A value too small for float32 becomes a
    subnormal or 0; a finite value whose scaled form is not finite (a huge number, or
    float32) is a DataError naming its cell — never a NumPy warning, never an inf in X or Y."""
    raw = values.to_numpy()
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        scaled = ((raw - center) / scale).astype(dtype)
    bad = ~np.isfinite(scaled) & np.isfinite(raw)
    if bad.any():
        index = table.frame.index[int(np.flatnonzero(bad)[0])]
        dtype_name = np.dtype(dtype).name
        raise DataError(
            f"{_where(table, index, name)}: {role} value {_quoted(_cell(table, index, name))} is too "
            f"large: scaled as in training ((x − {center:.6g}) / {scale:.6g}) it does not fit "
            f"{dtype_name}.",
            hint="check the value; or train with training.dtype: float64."
            if dtype_name == "float32"
            else "check the value.",
        )
    return scaled


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
        values = _sorted_labels(labels[unseen])
        index = _first(unseen)
        shown = ", ".join(repr(v) for v in values[:10])
        more = f" and {len(values) - 10} more" if len(values) > 10 else ""
        hint = None
        if table.role == "validation part":
            hint = (
                "the rows with it all fell into the validation part of the split; change "
                "data.validation.fraction or seed, or merge rare categories."
            )
        raise DataError(
            f"{_where(table, index, column)}: {role} value{'s' if len(values) > 1 else ''} "
            f"{shown}{more} not seen in the training data; the model knows "
            f"{', '.join(repr(v) for v in known)}.",
            hint=hint,
        )
    if codes.isna().any():
        raise DataError(f"{_where(table, _first(codes.isna()), column)}: missing {role} value.")
    return codes.to_numpy(dtype=np.int64)


# -- fitting ---------------------------------------------------------------------------------

POSITIVE_TEXT = ("yes", "y", "true", "positive", "pos", "1")
MANY_CATEGORIES = 20
SCALE_RATIO = 100.0


def _binary_classes(labels: set[Any]) -> list[Any]:
    """[label for 0, label for 1]. Numbers and booleans: the larger is 1 (1 of 0/1, True).
    Text: yes/y/true/positive/pos is 1 where present, else the second in sorted order."""
    ordered = _sorted_labels(labels)
    if all(isinstance(label, (bool, int, float)) for label in ordered):
        return ordered
    for label in ordered:
        if str(label).lower() in POSITIVE_TEXT:
            return [other for other in ordered if other != label] + [label]
    return ordered


def _scale_stats(
    values: np.ndarray, how: str, table: Table | None = None, name: str = ""
) -> tuple[float, float, bool]:
    """(center, scale, constant) so that (x - center) / scale is the scaled value.

    A constant column (spread 0) is never divided: scale 1, and `constant` is True. Values
    so large that their mean or spread overflows float64 are a DataError naming the column.
    """
    if how == "none" or len(values) == 0:
        return 0.0, 1.0, False
    with np.errstate(over="ignore", invalid="ignore"):
        if how == "standard":
            center, spread = float(np.mean(values)), float(np.std(values))
        else:  # minmax
            center, spread = float(np.min(values)), float(np.max(values) - np.min(values))
    if not (math.isfinite(center) and math.isfinite(spread)):
        where = f"{table.path}: column {name!r}" if table is not None else f"column {name!r}"
        raise DataError(
            f"{where}: its values (up to {float(np.max(np.abs(values))):g}) are too large to "
            f"scale ({how}): their {'mean or spread' if how == 'standard' else 'range'} "
            "overflows float64.",
            hint="rescale the column in the file (e.g. to thousands or millions).",
        )
    if spread == 0.0:
        return center, 1.0, True
    return center, spread, False


@dataclass
class Fitted:
    preprocessing: Preprocessing
    notes: list[str]


def _fit_categorical(table: Table, name: str, missing: str, notes: list[str]) -> FeatureColumn:
    present = _labels(table.frame[name]).dropna()
    categories = _sorted_labels(present)
    fill = _most_frequent(present) if missing in ("mean", "most_frequent") else None
    if len(categories) > MANY_CATEGORIES and len(categories) > len(present) / 2:
        shown = ", ".join(repr(c) for c in categories[:3])
        notes.append(
            f"feature {name!r} is read as text with {len(categories)} distinct values ({shown} "
            f"…): one-hot encoding makes {len(categories)} input rows of it. If it is an "
            "identifier, leave it out of data.features."
        )
    return FeatureColumn(name, "categorical", fill=fill, categories=categories)


def _fit_numeric(
    table: Table, name: str, scaling: str, missing: str, notes: list[str]
) -> tuple[FeatureColumn, float]:
    """The column's statistics, and its largest |x| (for the scales warning)."""
    values = numeric_column(table, name, f"feature {name!r}").to_numpy()
    present = values[~np.isnan(values)]
    fill = None
    if missing == "mean":
        fill = float(np.mean(present))
    elif missing == "most_frequent":
        uniques, counts = np.unique(present, return_counts=True)
        fill = float(uniques[np.argmax(counts)])  # a tie goes to the smallest
    filled = present if fill is None else np.where(np.isnan(values), fill, values)
    center, scale, constant = _scale_stats(filled, scaling, table, name)
    if constant:
        how = "centred" if scaling == "standard" else "shifted to 0"
        notes.append(
            f"feature {name!r} is constant in the training data (every value is "
            f"{filled[0]:g}): it is {how} but not divided by its spread of 0, and it carries "
            "no information."
        )
    return FeatureColumn(name, "numeric", center=center, scale=scale, fill=fill), float(
        np.max(np.abs(present))
    )


def _scales_note(largest: dict[str, float]) -> str | None:
    """With scaling: none, a warning when features differ in size by more than 100 times."""
    sizes = {name: size for name, size in largest.items() if size > 0}
    if len(sizes) < 2:
        return None
    small = min(sizes, key=lambda name: sizes[name])
    big = [name for name in sizes if sizes[name] > SCALE_RATIO * sizes[small]]
    big.sort(key=lambda name: -sizes[name])
    if not big:
        return None
    shown = ", ".join(f"{name!r} up to {sizes[name]:g}" for name in big[:3])
    more = f" and {len(big) - 3} more" if len(big) > 3 else ""
    return (
        f"features have very different scales ({shown}{more}, but {small!r} only up to "
        f"{sizes[small]:g}) and data.scaling is none: gradient descent will crawl along the "
        "small ones. Consider data.scaling: standard."
    )


def fit_preprocessing(
    table: Table,
    features: list[str],
    targets: list[str],
    cost: str,
    scaling: str = "standard",
    target_scaling: str = "none",
    missing: str = "error",
) -> Fitted:
    """Fit every statistic on `table` (the training part only) and return the preprocessing.

    `notes` are warnings for the user (constant columns, very different scales …).
    """
    frame = table.frame
    notes: list[str] = []
    columns: list[FeatureColumn] = []
    largest: dict[str, float] = {}
    for name in features:
        if frame[name].isna().all():
            raise DataError(
                f"{table.path}: feature {name!r} (column {_column_position(table, name)}) has no "
                f"values in the {table.role}: every cell is missing.",
                hint="leave it out of data.features.",
            )
        if is_text_column(frame[name]):
            columns.append(_fit_categorical(table, name, missing, notes))
        else:
            column, largest[name] = _fit_numeric(table, name, scaling, missing, notes)
            columns.append(column)
    if scaling == "none":
        note = _scales_note(largest)
        if note:
            notes.append(note)
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
        classes = _sorted_labels(_labels(frame[name]).dropna())
        if len(classes) < 2:
            raise DataError(
                f"{table.path}: target {name!r} has only one class ({classes[0]!r}) in the "
                f"{table.role}; a classifier needs at least two."
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
                    f"{table.path}: target {name!r} has {what} ({shown}) in the {table.role}; "
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
            text = _labels(series).map(lambda label: isinstance(label, str))
            index = _first(text)
            raise DataError(
                f"{_where(table, index, name)}: target {name!r} holds text (e.g. "
                f"{_quoted(_cell(table, index, name))}); cost mse needs numbers.",
                hint=(
                    "to predict classes use cost: categorical_cross_entropy with a softmax "
                    "output layer (or binary_cross_entropy with a sigmoid one for two classes)."
                ),
            )
        values = numeric_column(table, name, f"target {name!r}").dropna().to_numpy()
        center, scale, constant = _scale_stats(values, target_scaling, table, name)
        if constant:
            notes.append(
                f"target {name!r} is constant in the training data: it is "
                f"{'centred' if target_scaling == 'standard' else 'shifted to 0'} but not "
                "divided by its spread of 0."
            )
        columns.append(TargetColumn(name, "numeric", center=center, scale=scale))
    return columns


# -- splitting -------------------------------------------------------------------------------


def split_rows(
    table: Table, fraction: float, seed: int, stratify: str | None
) -> tuple[Table, Table]:
    """A seeded split into (training part, validation part).

    With `stratify` (classification) each class contributes round(fraction × its rows) to
    validation but always keeps at least one training row, so class proportions are kept and
    every class is seen in training. The same seed gives the same split.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))  # [seed, 1]: the split
    frame = table.frame
    chosen = np.zeros(len(frame), dtype=bool)
    if stratify is not None:
        labels = _labels(frame[stratify]).to_numpy()
        for label in _sorted_labels(pd.Series(labels).dropna()):
            rows = np.flatnonzero(labels == label)
            count = min(int(round(fraction * len(rows))), len(rows) - 1)
            chosen[rng.permutation(rows)[:count]] = True
    else:
        count = int(round(fraction * len(frame)))
        chosen[rng.permutation(len(frame))[:count]] = True
    if chosen.all() or not chosen.any():
        raise DataError(
            f"{table.path}: data.validation.fraction = {fraction} of {len(frame)} rows leaves "
            f"{'no training' if chosen.all() else 'no validation'} rows.",
            hint="use a larger file or another fraction.",
        )
    return table.subset(~chosen), table.subset(chosen, role="validation part")


def class_labels(series: pd.Series) -> pd.Series:
    """The labels of a column as the model stores and compares them (for the commands that
    check labels themselves, such as evaluate listing every unseen one)."""
    return _labels(series)
