"""Hostile configs and data files: asking for too much gets a clear error, not a crash.

A config can ask for a network no model file can hold or no machine can allocate, and a CSV
file can have one enormous line or a huge number of columns; each ends with a clear error
and a documented exit code (or works), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hostile import IRIS, assert_one_clear_error, invoke, write_config


def test_a_layer_too_large_for_a_model_file(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = invoke(["train", str(config), "-q", "--set", "network.layers[0].neurons=100000000"])
    line = assert_one_clear_error(result, 2, mentions="network.layers[0].neurons")
    assert "at most 10,000,000 per layer" in line
    assert not (tmp_path / "small.npz").exists()


def test_a_network_with_too_many_parameters(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    layers = "[{neurons: 9000000, activation: tanh}, {neurons: 9000000, activation: tanh}, {neurons: 3, activation: softmax}]"
    result = invoke(["train", str(config), "-q", "--set", f"network.layers={layers}"])
    line = assert_one_clear_error(result, 2, mentions="network.layers")
    assert "81,000,081,000,003 parameters" in line and "at most 2,147,483,648" in line


def test_out_of_memory_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A network that fits the limits but not the machine: MemoryError, exit 2, no traceback."""
    import nncli.network

    real = nncli.network.np.zeros

    def zeros(shape, *args, **kwargs):  # type: ignore[no-untyped-def]
        if np.prod(shape) > 10**6:
            raise MemoryError
        return real(shape, *args, **kwargs)

    monkeypatch.setattr(nncli.network.np, "zeros", zeros)
    config = write_config(tmp_path)
    result = invoke(["train", str(config), "-q", "--set", "network.layers[0].neurons=400000"])
    assert_one_clear_error(result, 2, mentions="out of memory")
    assert not (tmp_path / "small.npz").exists()


def _iris_rows(tmp_path: Path, first: str) -> Path:
    """iris.csv with the first feature of its first row replaced by `first`."""
    lines = IRIS.read_text().splitlines()
    cells = lines[1].split(",")
    cells[0] = first
    lines[1] = ",".join(cells)
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_value_that_overflows_once_scaled(tmp_path: Path) -> None:
    """Finite in the file, infinite after (x − center) / scale: a data error at the cell
    (it used to be a NumPy warning and an infinite feature fed to the network)."""
    config = write_config(tmp_path)
    assert invoke(["train", str(config), "-q"]).exit_code == 0
    model = tmp_path / "small.npz"
    rows = _iris_rows(tmp_path, "1.7e308")
    for args in (["predict", str(model), str(rows)], ["evaluate", str(model), str(rows)]):
        line = assert_one_clear_error(invoke(args), 3, mentions=f"{rows}, line 2, column 1 ('sepal_length')")
        assert "feature value '1.7e308' is too large" in line and "float64" in line


def test_float32_training_data_too_large_and_too_small(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    rows = _iris_rows(tmp_path, "1e39")
    args = ["train", str(config), "-q", "--set", f"data.train={rows}", "--set", "data.scaling=none",
            "--set", "training.dtype=float32"]
    result = invoke(args)
    line = assert_one_clear_error(result, 3, mentions="line 2, column 1 ('sepal_length')")
    assert "does not fit float32" in line and "training.dtype: float64" in result.stderr
    rows = _iris_rows(tmp_path, "5.7e-40")  # a float32 subnormal: fine (found by hypothesis)
    assert invoke(args).exit_code == 0


# -- CSV files too large in one direction -------------------------------------------------

LONG_NUMBER = "0." + "0" * 130 + "1"  # a valid number of 133 characters


def _wide_csv(path: Path, columns: int, rows: int = 6) -> Path:
    """`columns` numeric features of LONG_NUMBER-like cells and a class: every line is
    longer than the csv module's field limit (131,072 characters)."""
    header = ",".join(f"x{i}" for i in range(columns)) + ",label"
    lines = [header]
    for r in range(rows):
        cells = [LONG_NUMBER[:-1] + str((i + r) % 9 + 1) for i in range(columns)]
        lines.append(",".join(cells) + f",{'abc'[r % 3]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _class_config(tmp_path: Path, csv: Path) -> Path:
    config = tmp_path / "wide.yaml"
    config.write_text(
        f"data: {{train: {csv}, targets: [label]}}\n"
        "network: {layers: [{neurons: 3, activation: softmax}]}\n"
        "cost: categorical_cross_entropy\n"
        "training: {learning_rate: 0.1}\n"
        "stopping: {max_iterations: 2}\n"
    )
    return config


def test_lines_longer_than_the_csv_field_limit_work(tmp_path: Path) -> None:
    """Sniffing the delimiter split such a line by ; and tab into one huge field, and the
    csv module's field limit raised a traceback; now the file is read like any other."""
    csv = _wide_csv(tmp_path / "wide.csv", 1000)
    assert len(csv.read_text().splitlines()[1]) > 131_072
    config = _class_config(tmp_path, csv)
    result = invoke(["train", str(config), "-q", "-o", str(tmp_path / "wide.npz")])
    assert result.exit_code == 0, result.output
    result = invoke(["predict", str(tmp_path / "wide.npz"), str(csv)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 7


def test_a_huge_cell_is_a_clear_error(tmp_path: Path) -> None:
    csv = tmp_path / "huge.csv"
    csv.write_text("x,label\n1,a\n" + "9" * 2_000_000 + ",b\n3,c\n")
    config = _class_config(tmp_path, csv)
    line = assert_one_clear_error(invoke(["train", str(config), "-q"]), 3, mentions=f"{csv}, line 3, column 1 ('x')")
    assert "needs numbers, found '999999" in line and "… (2,000,000 characters)" in line and len(line) < 400


def test_a_huge_column_name_is_a_clear_error(tmp_path: Path) -> None:
    csv = tmp_path / "name.csv"
    csv.write_text("x" * 1_000_000 + ",label\n1,a\n2,b\n3,c\n")
    config = _class_config(tmp_path, csv)
    expected = f"{csv}, line 1: the header has a column name (or an unclosed quote) of more than 131,072 characters"
    for args in (["train", str(config), "-q"], ["validate", str(config)]):
        line = assert_one_clear_error(invoke(args), 3, mentions=expected)
        assert len(line) < 400
    assert not (tmp_path / "model.npz").exists()


def test_an_unclosed_quote_in_a_huge_file_is_a_clear_error(tmp_path: Path) -> None:
    csv = tmp_path / "quote.csv"
    csv.write_text("x,label\n1,a\n\"2,b\n" + "3,c\n" * 60_000)
    config = _class_config(tmp_path, csv)
    assert_one_clear_error(invoke(["train", str(config), "-q"]), 3, mentions=str(csv))


def test_an_error_listing_thousands_of_columns_stays_readable(tmp_path: Path) -> None:
    """The message for a missing column lists the file's columns: with 5000 long names it
    is shortened in the middle (the start, what is missing, and the end are kept)."""
    names = [f"a_rather_long_column_name_{i:05d}" for i in range(5000)]
    csv = tmp_path / "many.csv"
    csv.write_text(",".join(names + ["label"]) + "\n" + ",".join(["1"] * 5000 + ["a"]) + "\n")
    config = _class_config(tmp_path, csv)
    result = invoke(["train", str(config), "-q", "--set", "data.features=[nope]"])
    line = assert_one_clear_error(result, 3, mentions="'nope'")
    assert "characters left out" in line and len(line) < 4200
    assert line.endswith("'a_rather_long_column_name_04999', 'label'.")


# -- hostile config values ------------------------------------------------------------------

HOSTILE_VALUES = {
    "an impossible date": ("2001-13-45", "the value '2001-13-45' cannot be read (month must be in 1..12)"),
    "a day out of range": ("2001-02-29", "cannot be read (day is out of range for month)"),
    "a hex number without digits": ("0x_", "the value '0x_' cannot be read"),
    "a whole number of 5000 digits": ("9" * 5000, "a whole number of 5,000 digits (nncli reads at most 1,000)"),
    "a python tag": ("!!python/object/apply:os.system [ls]", "tags such as !!python/object/apply:os.system are not allowed"),
    "a binary tag": ("!!binary aGVsbG8=", "tags such as !!binary are not allowed"),
    "a set tag": ("!!set {a, b}", "tags such as !!set are not allowed"),
    "a bool tag on a non-bool": ("!!bool maybe", "tags such as !!bool are not allowed"),
    "a float tag on text": ("!!float abc", "tags such as !!float are not allowed"),
    "a timestamp tag": ("!!timestamp 2001-99-01", "tags such as !!timestamp are not allowed"),
    "a non-specific tag": ("! 3", "tags such as ! are not allowed"),
    "a tag inside a list": ("[1, !!int 3]", "tags such as !!int are not allowed"),
    "a local tag": ("!mine x", "tags such as !mine are not allowed"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_VALUES))
def test_hostile_values_in_the_file_and_in_set(tmp_path: Path, case: str) -> None:
    """Values PyYAML turns into a ValueError, KeyError or an arbitrary object: each is a
    config error at its line (in the file) or naming the --set (exit 2), not a traceback."""
    value, expected = HOSTILE_VALUES[case]
    config = write_config(tmp_path)
    text = config.read_text().replace("name: small", f"name: {value}")
    assert text != config.read_text()
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(text)
    line = assert_one_clear_error(invoke(["validate", str(hostile)]), 2, mentions=f"{hostile}, line ")
    assert expected in line
    line = assert_one_clear_error(invoke(["validate", str(config), "--set", f"name={value}"]), 2, mentions="--set name=")
    assert expected in line and len(line) < 600


def test_deep_nesting_in_set(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    value = "[" * 20000 + "]" * 20000
    line = assert_one_clear_error(invoke(["validate", str(config), "--set", f"name={value}"]), 2)
    assert "nested too deeply" in line and "(40,005 characters)" in line


def test_exit_codes_are_the_documented_ones() -> None:
    """Every error class exits with a code that README's table and `nncli --help` list."""
    import re

    import nncli.errors as errors
    from hostile import REPO

    table = REPO.joinpath("README.md").read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert documented == {0, 1, 2, 3, 4, 130}
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.NncliError)]
    assert {c.exit_code for c in classes} <= documented and len(classes) >= 8
    help_text = " ".join(invoke(["--help"]).stdout.split())
    for code in documented:
        assert re.search(rf"\b{code} [a-z]", help_text), code
    assert "2 usage or config error, an output that cannot be written, or out of memory" in help_text
