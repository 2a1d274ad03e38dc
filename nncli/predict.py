"""`nncli predict`: a saved model applied to a CSV file, streamed a chunk of rows at a time.

For each chunk of k rows:
    X = preprocessing.X(chunk)        n0 × k, scaled and one-hot encoded as in training
    Ŷ = network.forward(X)            n_m × k
    preprocessing.decode(Ŷ)           k rows: <target>_predicted in the training data's units
                                      and labels, <target>_probability_<class> for classes
and the rows are written out before the chunk after the next is read, so memory holds two
chunks whatever the size of the file: Ŷ of one is computed on a second thread while the
next is read (see `Prediction.__iter__`).

One output row per input row, in order (blank lines are not rows). ``--keep`` columns come
first, copied through as text. A row with a missing feature cell:
- ``data.missing: mean`` / ``most_frequent``: filled with the value stored in the model;
- ``data.missing: error``: an error naming the line and column;
- ``data.missing: drop`` (the model never saw such rows): the row is written with its
  --keep cells and *empty* prediction cells, and counted in `unpredicted`.
Numbers are written in the shortest form that reads back to the same value of the model's
dtype (float64 or float32), so predictions round-trip exactly.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager, Iterator, TextIO

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from nncli.data import Table
from nncli.errors import ConfigError
from nncli.floattext import float64_texts
from nncli.modeldata import CHUNK_ROWS, first_missing, missing_cells, missing_error, model_chunks
from nncli.modelfile import Model
from nncli.parallel import with_errors


class Prediction:
    """Predictions for the rows of a CSV file, as DataFrames of at most `chunk_rows` rows.

    Iterate once. Afterwards `rows` is the number of rows written and `unpredicted` the
    number of rows left without a prediction (``missing: drop`` models only), the first of
    them at file line `first_unpredicted` (column `first_unpredicted_column`).
    """

    def __init__(
        self,
        model: Model,
        path: Path,
        keep: list[str] | None = None,
        delimiter: str | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.model = model
        self.path = path
        self.keep = list(dict.fromkeys(keep or []))
        self.delimiter = delimiter
        self.chunk_rows = chunk_rows
        self.rows = 0
        self.unpredicted = 0
        self.first_unpredicted: int | None = None
        self.first_unpredicted_column: str | None = None
        self.prediction_columns = list(
            model.preprocessing.decode(np.zeros((model.network.sizes[-1], 0))).columns
        )
        clash = [name for name in self.keep if name in self.prediction_columns]
        if clash:
            raise ConfigError(
                f"--keep {clash[0]}: the output already has a column {clash[0]!r} (a "
                f"prediction column); keeping it too would give two columns of that name."
            )

    @property
    def columns(self) -> list[str]:
        """The output header: the --keep columns, then the prediction columns."""
        return self.keep + self.prediction_columns

    def __iter__(self) -> Iterator[pd.DataFrame]:
        """Two chunks in flight: while the network computes Ŷ of chunk N on a second thread
        (BLAS, which releases the GIL), this thread reads and prepares chunk N+1 (pandas's
        tokenizer and number parsing release it too), then decodes and hands out chunk N.
        Everything but the forward pass stays on this thread (pandas, warnings, errors).
        An error in chunk N+1 comes after chunk N has been handed out, as without the
        overlap; the rows are predicted exactly as one chunk at a time would be."""
        preprocessing = self.model.preprocessing
        chunks = model_chunks(
            preprocessing, self.path, self.keep, False, self.delimiter, self.chunk_rows
        )
        pending: _Chunk | None = None
        with (
            one_blas_thread(),
            closing(chunks),
            ThreadPoolExecutor(1, thread_name_prefix="nncli-forward") as pool,
        ):
            while True:
                try:
                    table = next(chunks, None)
                    started = None if table is None else self._start(table, pool)
                except Exception:
                    if pending is not None:
                        yield self._finish(pending)
                    raise
                if pending is not None:
                    yield self._finish(pending)
                if started is None:
                    return
                pending = started

    def _start(self, table: Table, pool: ThreadPoolExecutor) -> "_Chunk":
        """Check the chunk, build X (n0 × k) and start Ŷ = network.forward(X) on `pool`."""
        frame = table.frame
        usable = self._usable(table)
        if usable is not None:
            table = table.subset(usable)  # the rows keep their lines
        network = self.model.network
        X = self.model.preprocessing.X(table, network.dtype)  # n0 × k
        # With this thread's NumPy error settings (np.errstate is per thread before NumPy 2).
        Y_hat = pool.submit(with_errors, network.forward, (X,), np.geterr())
        return _Chunk(frame, usable, Y_hat)

    def _finish(self, chunk: "_Chunk") -> pd.DataFrame:
        """The chunk's output rows: --keep columns, then the decoded Ŷ (n_m × k)."""
        frame = chunk.frame
        decoded = self.model.preprocessing.decode(chunk.Y_hat.result())
        if chunk.usable is None:
            decoded = decoded.set_axis(frame.index)
        else:
            decoded.index = frame.index[chunk.usable]
            decoded = decoded.reindex(frame.index)
        for position, name in enumerate(self.keep):
            decoded.insert(position, name, frame[name].to_numpy())
        self.rows += len(frame)
        return decoded

    def _usable(self, table: Table) -> np.ndarray | None:
        """None if every row can be predicted; with ``missing: drop``, the mask of the rows
        with every feature cell present. Raises for a missing cell under ``missing: error``."""
        preprocessing = self.model.preprocessing
        features = preprocessing.feature_names
        if preprocessing.missing not in ("drop", "error"):
            return None  # mean / most_frequent: X() fills the cells
        gaps = missing_cells(table, features)
        if not gaps.any():
            return None
        if preprocessing.missing == "error":
            raise missing_error(table, features, gaps, preprocessing.missing)
        if self.first_unpredicted is None:
            self.first_unpredicted, self.first_unpredicted_column = first_missing(
                table, features, gaps
            )
        self.unpredicted += int(gaps.sum())
        return ~gaps


def one_blas_thread() -> ContextManager[object]:
    """BLAS on one thread while predicting.

    The pipeline keeps two cores busy, one parsing CSV, one running the network. BLAS
    threads of its own on top spin-wait for each other whenever another thread (the
    parser, or any other process) holds a core: measured on 2 cores, predict was up to 5
    times slower so. One thread keeps up with the parser: for the 10 → 64 → 64 → 1
    network it takes 0.35 µs a row, parsing the row's CSV 0.6 µs. (A BLAS product may
    round its last bit differently with another thread count.)
    """
    return threadpool_limits(limits=1, user_api="blas")


@dataclass
class _Chunk:
    """A chunk whose Ŷ is being computed: its rows, the mask of the rows predicted (None:
    all of them) and the future Ŷ (n_m × k)."""

    frame: pd.DataFrame
    usable: np.ndarray | None
    Y_hat: Future[np.ndarray]


def write_csv(prediction: Prediction, handle: TextIO) -> int:
    """Write each chunk's rows as soon as it is predicted (the header with the first, so an
    error in the first chunk writes nothing); returns the number of rows.

    Comma-separated, ``\n`` line ends, a cell quoted only when it holds a comma, a quote or
    a line break (as the csv module's QUOTE_MINIMAL does). float64 values are written with
    repr: the shortest text that reads back to the same float64; float32 values with
    NumPy's shortest float32 text. Missing values (rows without a prediction, missing --keep
    cells) are empty cells. (Formatting column-wise and joining is about twice as fast as
    DataFrame.to_csv, whose float formatting dominated the run time on large files.)
    """
    header = True
    # closed at once should a write fail: the generator's pool and BLAS limit end with it
    with closing(iter(prediction)) as frames:
        for frame in frames:
            if header:
                handle.write(",".join(_quote(name) for name in prediction.columns) + "\n")
                header = False
            # A block of rows at a time: the cell texts are Python strings, several times the
            # size of the numbers, so they are never made for a whole chunk at once.
            for start in range(0, len(frame), WRITE_ROWS):
                block = frame.iloc[start : start + WRITE_ROWS]
                columns = [_cells(block[name]) for name in prediction.columns]
                if len(columns) == 1:  # a lone empty cell would be a blank line: quote it
                    lines = [cell or '""' for cell in columns[0]] if "" in columns[0] else columns[0]
                else:
                    lines = list(map(",".join, zip(*columns)))
                handle.write("\n".join(lines) + "\n")
    return prediction.rows


WRITE_ROWS = 8192


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _quote(text: str) -> str:
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _cells(series: pd.Series) -> list[str]:
    """The column as CSV cell texts: numbers, quoted labels, "" for a missing value."""
    values = series.to_numpy()
    kind = values.dtype.kind
    if kind == "f":
        if values.dtype.itemsize < 8:
            cells = values.astype(str).tolist()
        else:
            cells = float64_texts(values)
        missing = np.isnan(values)
    elif kind in "iub":
        return [str(value) for value in values.tolist()]
    else:
        missing = pd.isna(values)
        cells = list(map(str, values.tolist()))
        if _NEEDS_QUOTES.search("".join(cells)):  # one scan; quote cell by cell only if needed
            cells = list(map(_quote, cells))
    for index in np.flatnonzero(missing):
        cells[index] = ""
    return cells
