"""Building hostile model files for the tests: a valid model file taken apart, changed, and
zipped again, and the nncli commands that read a model file.

A model file is a zip of ``.npy`` members; these helpers write any member bytes under any
name with `zipfile`, so a test can make every kind of damage a stranger's file may carry.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml
from typer.testing import CliRunner

from nncli.cli import app

REPO = Path(__file__).resolve().parents[1]
IRIS = REPO / "datasets" / "iris.csv"


def write_config(directory: Path, iterations: int = 3, name: str = "small") -> Path:
    """A small iris run with adam (so the file holds optimizer state): 4 → 3 tanh → 3 softmax."""
    spec = {
        "name": name,
        "seed": 1,
        "data": {"train": str(IRIS), "targets": ["species"], "validation": {"fraction": 0.2}},
        "network": {"layers": [{"neurons": 3, "activation": "tanh"}, {"neurons": 3, "activation": "softmax"}]},
        "cost": "categorical_cross_entropy",
        "training": {"learning_rate": 0.1, "optimizer": "adam", "log_every": 1},
        "stopping": {"max_iterations": iterations, "gradient_tolerance": None, "loss_change_tolerance": None},
        "output": {"model": "small.npz"},
    }
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def train_small_model(directory: Path) -> tuple[Path, Path]:
    """(config, model file) of a freshly trained small iris model in `directory`."""
    config = write_config(directory)
    model = directory / "small.npz"
    result = CliRunner().invoke(app, ["train", str(config), "-q", "-o", str(model)])
    assert result.exit_code == 0, result.output
    return config, model


def members(path: Path) -> dict[str, bytes]:
    """The raw bytes of every member, by name (with .npy), in archive order."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def read_metadata(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive["metadata"]))


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array but the metadata."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files if name != "metadata"}


def npy(array: np.ndarray) -> bytes:
    """The .npy bytes of `array` (object arrays pickled, as numpy writes them)."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npy_header(descr: str, shape: tuple[int, ...], fortran: bool = False, version: int = 1) -> bytes:
    """A hand-made .npy header: it may claim anything (the data is appended by the caller)."""
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape})
    prefix = 10 if version == 1 else 12
    padding = -(prefix + len(text) + 1) % 64
    body = (text + " " * padding + "\n").encode("latin1")
    length = len(body).to_bytes(2 if version == 1 else 4, "little")
    return b"\x93NUMPY" + bytes([version, 0]) + length + body


def metadata_npy(text: str) -> bytes:
    return npy(np.array(text))


def zip_members(
    path: Path, items: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED
) -> Path:
    """Write `items` (name, bytes) as a zip, duplicates and odd names included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return path


def rewrite(
    model: Path,
    path: Path,
    metadata: Callable[[dict[str, Any]], Any] | None = None,
    text: Callable[[dict[str, Any]], str] | None = None,
    arrays: Callable[[dict[str, np.ndarray]], Any] | None = None,
) -> Path:
    """A copy of `model` with its metadata (a dict changed in place, or the JSON text made
    by `text`) and/or its arrays changed; members are written W…, beta…, state, metadata."""
    record = read_metadata(model)
    if metadata is not None:
        metadata(record)
    values = read_arrays(model)
    if arrays is not None:
        arrays(values)
    metadata_text = text(record) if text is not None else json.dumps(record)
    items = [(f"{name}.npy", npy(array)) for name, array in values.items()]
    items.append(("metadata.npy", metadata_npy(metadata_text)))
    return zip_members(path, items)


def model_commands(config: Path, model: Path, out: Path) -> dict[str, list[str]]:
    """Every command that reads a model file, as CLI arguments; none may write `out` when the
    model is refused."""
    return {
        "train --resume": ["train", str(config), "-q", "-o", str(out), "--set", "stopping.max_iterations=50", "--resume", str(model)],
        "train --init-from": ["train", str(config), "-q", "-o", str(out), "--init-from", str(model)],
        "predict": ["predict", str(model), str(IRIS), "-o", str(out.with_suffix(".csv"))],
        "evaluate": ["evaluate", str(model), str(IRIS)],
        "inspect": ["inspect", str(model)],
        "inspect --format json": ["inspect", str(model), "--format", "json"],
        "inspect --plot": ["inspect", str(model), "--plot", str(out.with_suffix(".png"))],
    }


def invoke(args: list[str]) -> Any:
    with np.errstate(all="raise"):
        return CliRunner().invoke(app, args)


def assert_one_clear_error(result: Any, code: int = 3, mentions: str | None = None) -> str:
    """Exit `code`, no traceback, exactly one `error:` line on stderr (a `help:` line may
    follow); returns that line."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    others = [line for line in lines if not line.startswith(("error:", "help:", "warning:"))]
    assert not others, result.stderr
    if mentions is not None:
        assert mentions in errors[0], errors[0]
    return errors[0]
