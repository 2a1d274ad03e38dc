"""The marker test: model files crafted to run code when unpickled — a command that creates
a marker file — are loaded by every command that reads a model; the marker never appears.

The payload is live: the same bytes loaded with ``numpy.load(allow_pickle=True)`` do create
a marker (checked first), so the test would fail if nncli ever unpickled.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hostile import assert_one_clear_error, invoke, members, model_commands, npy, train_small_model, zip_members
from nncli.errors import ModelFileError
from nncli.modelfile import load_model


class Payload:
    """Unpickling this runs `touch MARKER` (os.system)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def payload_array(shape: tuple[int, ...], marker: Path, structured: bool = False) -> np.ndarray:
    if structured:
        array = np.empty(shape, dtype=[("value", "O")])
        for index in np.ndindex(shape):
            array[index] = (Payload(marker),)
        return array
    array = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        array[index] = Payload(marker)
    return array


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return train_small_model(tmp_path_factory.mktemp("small"))


def crafted(model: Path, folder: Path, marker: Path) -> dict[str, Path]:
    """Model files whose W1, beta2, optimizer state, metadata or an extra member is a payload."""
    valid = members(model)
    files: dict[str, Path] = {}

    def write(name: str, replace: dict[str, bytes]) -> None:
        items = [(n, replace.get(n, b)) for n, b in valid.items()]
        items += [(n, b) for n, b in replace.items() if n not in valid]
        files[name] = zip_members(folder / f"{name}.npz", items)

    write("W1", {"W1.npy": npy(payload_array((3, 4), marker))})
    write("W1-structured", {"W1.npy": npy(payload_array((3, 4), marker, structured=True))})
    write("beta2", {"beta2.npy": npy(payload_array((3,), marker))})
    write("optimizer_m", {"optimizer_m.npy": npy(payload_array((27,), marker))})
    write("metadata", {"metadata.npy": npy(payload_array((), marker))})
    write("extra", {"evil.npy": npy(payload_array((2,), marker))})
    write("everywhere", {name: npy(payload_array((4,), marker)) for name in valid})
    return files


def test_the_payload_is_live(small: tuple[Path, Path], tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    for path in crafted(small[1], tmp_path, marker).values():
        with np.load(path, allow_pickle=True) as archive:
            for name in archive.files:
                archive[name]
        assert marker.exists(), path
        marker.unlink()


def test_no_command_ever_unpickles(small: tuple[Path, Path], tmp_path: Path) -> None:
    config, model = small
    marker = tmp_path / "unpickled"
    for name, path in crafted(model, tmp_path, marker).items():
        with pytest.raises(ModelFileError):
            load_model(path)
        for command, args in model_commands(config, path, tmp_path / "out.npz").items():
            assert_one_clear_error(invoke(args), 3, mentions=str(path))
            assert not marker.exists(), (name, command)
    assert not (tmp_path / "out.npz").exists() and not (tmp_path / "out.csv").exists()
