"""Saving and loading model files: round trip, atomicity, and refusing what is not ours."""

from __future__ import annotations

import os

import numpy as np
import pytest

from nncli.cli import app
from nncli.errors import ModelFileError, OutputError
from nncli.fileio import atomic_write
from nncli.modelfile import load_model, save_model


@pytest.fixture
def model_path(runner, house):
    result = runner.invoke(app, ["train", str(house), "-q", "--set", "stopping.max_iterations=3"])
    assert result.exit_code == 0, result.output
    return house.parent / "model.npz"


def test_round_trip_is_exact(model_path, tmp_path):
    model = load_model(model_path)
    copy = tmp_path / "copy.npz"
    save_model(copy, model.network, {k: v for k, v in model.metadata.items() if k not in ("format", "format_version")})
    again = load_model(copy)
    assert again.network.theta.tobytes() == model.network.theta.tobytes()
    assert again.preprocessing == model.preprocessing


def test_refuses_to_save_nan(model_path, tmp_path):
    model = load_model(model_path)
    model.network.theta[0] = np.nan
    with pytest.raises(ModelFileError, match="NaN"):
        save_model(tmp_path / "nan.npz", model.network, {})
    assert not (tmp_path / "nan.npz").exists()


@pytest.mark.parametrize(
    ("failure", "raised"),
    [(OSError(28, "No space left on device"), OutputError), (KeyboardInterrupt(), KeyboardInterrupt)],
)
def test_failed_write_keeps_the_previous_file(model_path, failure, raised):
    before = model_path.read_bytes()

    def write(handle):
        handle.write(b"partial")
        raise failure

    with pytest.raises(raised):
        atomic_write(model_path, write)
    assert model_path.read_bytes() == before
    assert not [name for name in os.listdir(model_path.parent) if name.endswith(".tmp")]


def test_not_a_model(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(3))
    with pytest.raises(ModelFileError, match="no metadata"):
        load_model(plain)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(os.urandom(300))
    with pytest.raises(ModelFileError, match="not a .npz"):
        load_model(junk)
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "missing.npz")
    with pytest.raises(ModelFileError, match="directory"):
        load_model(tmp_path)


def test_every_truncation_is_a_clean_error(model_path, tmp_path):
    data = model_path.read_bytes()
    cut = tmp_path / "cut.npz"
    for size in list(range(0, len(data), max(1, len(data) // 97))):
        cut.write_bytes(data[:size])
        with pytest.raises(ModelFileError):
            load_model(cut)
