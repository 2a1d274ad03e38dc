"""Chunked CSV reading for predict/evaluate: text columns read as text in every chunk, line
numbers and short rows in later chunks, and the faster read of files where no field
begins with a space giving exactly the chunks (or the error) of the usual read."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from nncli import data
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



# -- reading without skipinitialspace while no field begins with a space ----------------------


class _AlwaysFound(data._LeadingSpaces):
    """Sees a leading space at once: the file is read the usual way, with skipinitialspace."""

    def read(self, size: int = -1) -> str:
        self.found = True
        return ""


def _outcome(path: Path, chunk_rows: int) -> object:
    """Every chunk (index, columns, cells with their types) or the error message."""
    try:
        return [
            (list(t.frame.index), list(t.frame.columns), [[repr(v) for v in row] for row in t.frame.itertuples()])
            for t in iter_csv(path, chunk_rows=chunk_rows, text_columns=["t"])
        ]
    except DataError as error:
        return error.message


def _reference(path: Path, chunk_rows: int, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(data, "_LeadingSpaces", _AlwaysFound)
        return _outcome(path, chunk_rows)


@pytest.mark.parametrize(
    "text",
    [
        "x,y,t\n1,2,a\n3,4,b\n5,6,c\n7,8,d\n9,10,e\n",  # no spaces: the fast read throughout
        "x, y,t\n1,2,a\n3,4,b\n5,6,c\n",  # in the header
        " x,y,t\n1,2,a\n3,4,b\n",  # at the start of the file
        "\ufeff x,y,t\n1,2,a\n3,4,b\n",  # after a byte-order mark
        "x,y,t\n1,2,a\n3,4,b\n5,6,c\n7,8,d\n9, 10,e\n11,12,f\n",  # in a later chunk
        "x,y,t\n1,2,a\n3,4,b\n5,6,c\n7,8, \"d,e\"\n9,10,f\n",  # before a quoted cell, late
        "x,y,t\n1,2,a\n3,4,b\n5,6,c\n7,8,d\n 9,10,e\n",  # at the start of a line
        "x,y,t\r\n1,2,a\r\n3,4,b\r\n5,6,c\r\n 7,8,d\r\n",  # after \r\n
        "x,y,t\n1,2,\"a, b\"\n3,4,\"c\n d\"\n5,6,e\n",  # only inside quoted cells
        "x,y,t\n1,2,a b\n3,4,c d \n5,6,e\n",  # inside and after cells, never before
        "x,y,t\n1,2,a\n3,4,b\n5,6,c\n7,8,d\n9, NA,e\n",  # a missing marker after a space
        "x,y,t\n1,2,a\n3,4,b\n5,6,c\n7,8,d,extra\n9, 10,e\n",  # a long row before the space
        "x,y,t\n1,2,a\n3,4,b\n5,6,c\n7,8,\"d\n9, 10,e\n",  # an unclosed quote before it
        "x,y,t\n1,2,a\n\n3,4,b\n5,6,c\n   \n7,8,d\n",  # blank lines, one of spaces
    ],
)
@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_the_fast_read_gives_what_skipinitialspace_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, chunk_rows: int
) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("utf-8"))
    assert _outcome(path, chunk_rows) == _reference(path, chunk_rows, monkeypatch)


def test_the_fast_read_on_random_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random files of cells, spaces, quotes, delimiters and line ends: the same chunks (or
    the same error) as the usual read, whether or not a field begins with a space."""
    rng = random.Random(7)
    pieces = ["1", "2.5", "a", "NA", "", " ", " ", ",", ",", "\n", "\n", "\r\n", '"', "x y", "-3e2"]
    seen_fast = seen_slow = 0
    for number in range(150):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(5, 60)))
        path = tmp_path / f"random{number}.csv"
        path.write_bytes(("x,y,t\n1,2,a\n" + body).encode("utf-8"))
        expected = _reference(path, 2, monkeypatch)
        assert _outcome(path, 2) == expected, body
        watched = data._LeadingSpaces(open(path, encoding="utf-8-sig", newline=""), ",")
        while watched.read(64):
            pass
        watched.handle.close()
        seen_slow += watched.found
        seen_fast += not watched.found
    assert seen_fast > 20 and seen_slow > 20  # both ways were taken


@pytest.mark.parametrize("late", ["40000, 1,x", "40000,1, \"x,y\""])
def test_a_space_far_into_the_file_rereads_it_and_skips_the_chunks_handed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late: str
) -> None:
    """pandas reads a file in blocks of some 256 kB: a field beginning with a space beyond
    the first blocks is seen after chunks have been handed out; they are not handed out
    twice, and the chunks after it are read with skipinitialspace."""
    rows = [f"{i},{i % 7},t{i}" for i in range(40000)]
    path = tmp_path / "late.csv"
    path.write_text("x,y,t\n" + "\n".join(rows + [late, "40001,2,z"]) + "\n", encoding="utf-8")
    found_after_read: list[bool] = []
    real_read = data._LeadingSpaces.read

    def read(self: data._LeadingSpaces, size: int = -1) -> str:
        text = real_read(self, size)
        found_after_read.append(self.found)
        return text

    monkeypatch.setattr(data._LeadingSpaces, "read", read)
    chunks = list(iter_csv(path, chunk_rows=1000, text_columns=["t"]))
    assert found_after_read[:2] == [False, False] and found_after_read[-1]  # after 2 blocks
    frame = pd.concat([chunk.frame for chunk in chunks])
    assert list(frame.index) == list(range(40002))
    assert frame["x"].tolist() == list(range(40002))
    assert frame["t"].iloc[-2] == ("x" if late.endswith("x") else "x,y")  # the space skipped
    monkeypatch.setattr(data._LeadingSpaces, "read", real_read)
    reference = _reference(path, 1000, monkeypatch)
    assert _outcome(path, 1000) == reference
