"""`data._Records`: the line and field count of every record, found by NumPy for files of
one record per line and by the csv module for the others, exactly as one pass of the csv
module finds them; a chunked read holds only the records from its current chunk on."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from nncli import data
from nncli.data import UNKNOWN, iter_csv
from nncli.errors import DataError


def reference(path: Path, delimiter: str, header_line: int) -> tuple[list[int], list[int]]:
    """One pass of the csv module over the whole file (what _Records did before): the
    start line and field count of each record after the header; none if it cannot be read."""
    starts: list[int] = []
    fields: list[int] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
            for _ in range(header_line):
                next(reader, None)
            previous = reader.line_num
            try:
                for row in reader:
                    starts.append(previous + 1)
                    fields.append(len(row))
                    previous = reader.line_num
            except csv.Error:
                starts.append(previous + 1)
                fields.append(-1)
    except (OSError, UnicodeDecodeError):
        return [], []
    return starts, fields


def scanned(path: Path, delimiter: str = ",", header_line: int = 1) -> tuple[list[int], list[int]]:
    records = data._Records(path, delimiter, header_line)
    return records.starts.tolist(), records.fields.tolist()


def numpy_scan_used(path: Path, delimiter: str = ",", header_line: int = 1) -> bool:
    try:
        for _ in data._Records(path, delimiter, header_line)._lines():
            pass
    except data._Unsuitable:
        return False
    return True


CASES = {
    "plain": b"a,b,c\n1,2,3\n4,5,6\n",
    "no final line end": b"a,b,c\n1,2,3\n4,5",
    "crlf": b"a,b,c\r\n1,2,3\r\n\r\n4,5,6\r\n",
    "lone cr": b"a,b,c\r1,2,3\r\r4,5,6\r",
    "mixed line ends": b"a,b,c\n1,2\r\n\r3,4,5,6\n\n",
    "blank and space lines": b"a,b,c\n\n   \n1,2,3\n,,\n \t \n",
    "blank lines before the header": b"\n\n  \na,b,c\n1,2,3\n",
    "byte-order mark": b"\xef\xbb\xbfa,b,c\n1,2,3\n",
    "trailing delimiters": b"a,b,c\n1,2,3,\n4,5,\n,\n",
    "spaces after delimiters": b"a, b, c\n1, 2, 3\n4 ,5, 6 \n",
    "non-ascii text": "a,b,c\n1,é,ü\n2,日本,x\n".encode(),
    "quotes": b'a,b,c\n1,"2,3",4\n5,"6\n7",8\n9,10,11\n',
    "an unclosed quote": b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n',
    "a NUL byte": b"a,b,c\n1,\x002,3\n4,5,6\n",
    "not utf-8": b"a,b,c\n1,\xe9,3\n",
    "only a header": b"a,b,c\n",
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("scan_bytes", [4, 7, 1 << 20])
def test_records_are_those_of_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, scan_bytes: int
) -> None:
    monkeypatch.setattr(data, "SCAN_BYTES", scan_bytes)  # block edges inside \r\n, é, quotes
    path = tmp_path / "data.csv"
    path.write_bytes(CASES[name])
    header_line = 4 if name == "blank lines before the header" else 1
    assert scanned(path, ",", header_line) == reference(path, ",", header_line)


def test_which_files_numpy_reads(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    for name, expected in [("plain", True), ("crlf", True), ("quotes", False), ("a NUL byte", False)]:
        path.write_bytes(CASES[name])
        assert numpy_scan_used(path) is expected, name
    path.write_bytes(CASES["plain"])
    assert not numpy_scan_used(path, " ")  # the csv module drops a second space delimiter
    path.write_bytes(b"a,b\n" + b"x" * (csv.field_size_limit() + 1) + b",1\n")
    assert not numpy_scan_used(path)  # a field too long for the csv module: it says so
    assert scanned(path) == reference(path, ",", 1) == ([2], [-1])


def test_a_quote_far_into_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NumPy reads the first blocks, the csv module the rest: the records are the same."""
    monkeypatch.setattr(data, "SCAN_BYTES", 64)
    rows = [f"{i},{i % 3}" for i in range(200)]
    rows[150] = '150,"a\nb"'
    rows[170] = "170"
    path = tmp_path / "late.csv"
    path.write_text("x,y\n" + "\n".join(rows) + "\n\n201,1\n", encoding="utf-8")
    assert scanned(path) == reference(path, ",", 1)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_random_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delimiter: str) -> None:
    rng = random.Random(11)
    pieces = ["1", "2.5", "ab", "", " ", delimiter, delimiter, "\n", "\n", "\r\n", "\r", "é", "NA"]
    quoted = numpy = 0
    for number in range(120):
        monkeypatch.setattr(data, "SCAN_BYTES", rng.choice([3, 16, 1 << 20]))
        body = "".join(rng.choice(pieces + (['"'] if number % 4 == 0 else [])) for _ in range(rng.randint(0, 80)))
        path = tmp_path / f"random{number}.csv"
        path.write_bytes(f"x{delimiter}y{delimiter}z\n{body}".encode("utf-8"))
        assert scanned(path, delimiter) == reference(path, delimiter, 1), body
        used = numpy_scan_used(path, delimiter)
        numpy += used
        quoted += not used
    assert numpy > 50 and quoted > 10


def test_a_chunked_read_holds_only_the_records_of_its_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty last column makes every row a candidate short row, so the field count of
    every record is needed; the records before the current chunk are forgotten."""
    monkeypatch.setattr(data, "SCAN_BYTES", 4096)  # some 500 lines of this file
    path = tmp_path / "empty-last.csv"
    path.write_text("x,y\n" + "".join(f"{i},\n" for i in range(30000)), encoding="utf-8")
    held = []
    for table in iter_csv(path, chunk_rows=1000):
        records = table.records
        assert records is not None
        held.append(len(records._fields))
        assert records._first <= table.frame.index[0]
        assert table.line(table.frame.index[-1]) == table.frame.index[-1] + 2
    assert len(held) == 30 and max(held) < 1000 + 1000  # at most a chunk and a block of lines


def test_a_forgotten_record_is_found_again(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b'a,b\n1,2\n"3\n4",5\n\n6\n7,8\n')
    records = data._Records(path, ",", 1)
    assert records.field_counts(np.array([3, 4, 9])).tolist() == [1, 2, UNKNOWN]
    records.forget_before(4)
    assert records.line(0) == 2 and records.line(1) == 3 and records.line(3) == 6
    assert records.field_counts(np.array([1, 2, 4])).tolist() == [2, 0, 2]


def test_a_short_row_after_quoted_lines_in_a_later_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Line numbers stay right when the csv module takes over from NumPy in the middle."""
    monkeypatch.setattr(data, "SCAN_BYTES", 32)
    rows = [f"{i},{i}" for i in range(40)]
    rows[20] = '20,"two\nlines"'
    rows[33] = "33"  # short: line 2 + 33 + 1 (the quoted cell spans two lines)
    path = tmp_path / "short.csv"
    path.write_text("a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"short.csv, line 36: the row has 1 fields, the header has 2"):
        list(iter_csv(path, chunk_rows=7))
