"""Mutation fuzzing of a valid CSV file and a valid model file (hypothesis, seeded, bounded).

Bytes are flipped, cut, inserted and deleted — in the raw file, and (for model files) in
the metadata text or in one member, zipped again so that the damage gets past the zip's
checksums to the JSON, the schema and the .npy headers. Every run ends with a documented
exit code and a clean error, never a traceback; a run that fails leaves no file behind (no
model, no history, no predictions, no temporary file).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import (
    IRIS,
    assert_one_clear_error,
    invoke,
    members,
    metadata_npy,
    model_commands,
    read_metadata,
    train_small_model,
    write_config,
    zip_members,
)
from nncli.errors import ModelFileError
from nncli.modelfile import load_model

DOCUMENTED = {0, 2, 3, 4}


def fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@st.composite
def mutated(draw: Any, data: bytes, alphabet: bytes = b"") -> bytes:
    """`data` with 1 to 4 flips, truncations, insertions or deletions."""
    text = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "replace"]))
        position = draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "flip" and text:
            text[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del text[position:]
        elif kind == "insert":
            inserted = st.binary(min_size=1, max_size=8)
            if alphabet:
                inserted = st.lists(st.sampled_from(alphabet), min_size=1, max_size=8).map(bytes)
            text[position:position] = draw(inserted)
        elif kind == "delete" and text:
            del text[position : position + draw(st.integers(1, 20))]
        elif kind == "replace" and text and alphabet:
            text[position] = draw(st.sampled_from(alphabet))
    return bytes(text)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- a CSV file through train and predict -------------------------------------------------

CSV_LINES = IRIS.read_text().splitlines()
SMALL_CSV = ("\n".join([CSV_LINES[0]] + CSV_LINES[1::6]) + "\n").encode()  # 25 rows, 3 classes
CSV_ALPHABET = b',;\t"\n\r .-e0123456789abcxyz\xef\xbb\xbf\x00'


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return train_small_model(tmp_path_factory.mktemp("trained"))


@fuzz(120)
@given(csv=mutated(SMALL_CSV, CSV_ALPHABET))
def test_a_mutated_csv_through_train(tmp_path: Path, csv: bytes) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    config = write_config(folder)
    (folder / "data.csv").write_bytes(csv)
    out = folder / "out"
    result = invoke(["train", str(config), "-q", "-o", str(out / "m.npz"), "--set", f"data.train={folder / 'data.csv'}"])
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.output)
    if result.exit_code == 0:
        assert leftovers(out) == ["m.history.csv", "m.npz"]
        assert np.isfinite(load_model(out / "m.npz").network.theta).all()
    elif result.exit_code == 4:
        assert leftovers(out) == ["m.diverged.history.csv", "m.diverged.npz"]
    else:
        assert_one_clear_error(result, result.exit_code)
        assert leftovers(out) == []


@fuzz(120)
@given(csv=mutated(SMALL_CSV, CSV_ALPHABET))
def test_a_mutated_csv_through_predict_and_evaluate(trained: tuple[Path, Path], tmp_path: Path, csv: bytes) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "data.csv").write_bytes(csv)
    out = folder / "out"
    model = str(trained[1])
    result = invoke(["predict", model, str(folder / "data.csv"), "-o", str(out / "p.csv")])
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.output)
    if result.exit_code == 0:
        assert leftovers(out) == ["p.csv"]
    else:
        assert_one_clear_error(result, result.exit_code)
        assert leftovers(out) == []
    result = invoke(["evaluate", model, str(folder / "data.csv")])
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.output)
    if result.exit_code != 0:
        assert_one_clear_error(result, result.exit_code)


# -- a model file through load_model and every command ------------------------------------

JSON_ALPHABET = b'{}[]:,"0123456789.-eE nulltruefalsNaIfy\\'


def mutated_model(draw: Any, model: Path) -> tuple[str, Any]:
    """('raw', file bytes) or ('zip', members): the damage in the file, in the metadata text
    or in one member (`draw` is hypothesis's st.data().draw)."""
    where = draw(st.sampled_from(["raw", "text", "member"]))
    if where == "raw":
        return "raw", draw(mutated(model.read_bytes()))
    items = list(members(model).items())
    if where == "text":
        text = json.dumps(read_metadata(model)).encode()
        damaged = draw(mutated(text, JSON_ALPHABET)).decode("utf-8", errors="replace")
        return "zip", [(n, metadata_npy(damaged) if n == "metadata.npy" else b) for n, b in items]
    name = draw(st.sampled_from([n for n, _ in items if n != "metadata.npy"]))
    return "zip", [(n, draw(mutated(b)) if n == name else b) for n, b in items]


def _write(case: tuple[str, Any], path: Path) -> Path:
    kind, content = case
    if kind == "raw":
        path.write_bytes(content)
        return path
    return zip_members(path, content)


@fuzz(400)
@given(data=st.data())
def test_a_mutated_model_through_load_model(trained: tuple[Path, Path], tmp_path: Path, data: Any) -> None:
    path = _write(mutated_model(data.draw, trained[1]), tmp_path / "fuzzed.npz")
    try:
        model = load_model(path)
    except ModelFileError as error:
        assert "\n" not in error.message and error.message.startswith(str(path))
    else:  # the damage was harmless (a digit of a weight, an unused byte): a usable model
        assert np.isfinite(model.network.theta).all()
        assert all(np.isfinite(a).all() for a in model.state.values())


@fuzz(40)
@given(data=st.data())
def test_a_mutated_model_through_every_command(trained: tuple[Path, Path], tmp_path: Path, data: Any) -> None:
    config, model = trained
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = _write(mutated_model(data.draw, model), folder / "fuzzed.npz")
    out = folder / "out"
    for command, args in model_commands(config, path, out / "m.npz").items():
        result = invoke(args)
        assert result.exit_code in DOCUMENTED, (command, result.exit_code, result.output)
        if result.exit_code in (0, 4):
            shutil.rmtree(out, ignore_errors=True)  # a usable model: the command did its job
            continue
        assert_one_clear_error(result, result.exit_code)
        assert leftovers(out) == [], (command, leftovers(out))
