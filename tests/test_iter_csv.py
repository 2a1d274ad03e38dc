"""Chunked CSV reading for predict/evaluate: text columns read as text in every chunk, line
numbers and short rows in later chunks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nncli.data import iter_csv
from nncli.errors import DataError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_text_columns_read_the_same_in_every_chunk(tmp_path: Path) -> None:
    path = _write(tmp_path / "ids.csv", "id,code,x\n007,2,1\n008,3,2\nA9,b,3\n010,4,4\n")
    chunks = list(iter_csv(path, chunk_rows=2, text_columns=["id", "code", "absent"]))
    assert [list(c.frame["id"]) for c in chunks] == [["007", "008"], ["A9", "010"]]
    assert [list(c.frame["code"]) for c in chunks] == [["2", "3"], ["b", "4"]]
    assert pd.api.types.is_numeric_dtype(chunks[0].frame["x"])
    # without text_columns the first chunk's ids are numbers: 007 would become 7
    assert list(next(iter_csv(path, chunk_rows=2)).frame["id"]) == [7, 8]


def test_line_numbers_and_short_rows_in_a_later_chunk(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i * 2}\n" for i in range(10))
    path = _write(tmp_path / "short.csv", "a,b\n" + rows + "\n10,20\n11\n12,24\n")
    with pytest.raises(DataError) as caught:
        list(iter_csv(path, chunk_rows=4))
    # header line 1, rows on lines 2-11, a blank line 12, "10,20" on 13, the short row on 14
    assert "line 14: the row has 1 fields, the header has 2" in caught.value.message
    chunks = list(iter_csv(_write(tmp_path / "ok.csv", "a,b\n" + rows + "\n10,\n"), chunk_rows=4))
    last = chunks[-1]
    assert [last.line(i) for i in last.frame.index] == [10, 11, 13]

