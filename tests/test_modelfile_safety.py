"""Loading a model file safely: every damaged, foreign or newer file is one ModelFileError
with a one-line message, never a traceback and never an unpickled object. (The same cases
through the CLI are in test_predict.py / test_inspect.py / test_evaluate.py.)"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model_files import model_arrays, rewrite_model
from nncli.data import Preprocessing
from nncli.errors import ModelFileError
from nncli.modelfile import FORMAT_VERSION, load_model

pytest_plugins = ["model_fixtures"]


def _refused(path: Path) -> str:
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


def test_a_saved_model_loads_back_exactly(iris_model: Path) -> None:
    arrays, metadata = model_arrays(iris_model)
    model = load_model(iris_model)
    for l in range(1, model.network.m + 1):
        assert np.array_equal(model.network.W[l], arrays[f"W{l}"])
        assert np.array_equal(model.network.beta[l][:, 0], arrays[f"beta{l}"])
    assert model.metadata["layer_sizes"] == [4, 6, 3] == list(model.network.sizes)


def test_random_bytes_and_plain_npz_files(tmp_path: Path) -> None:
    noise = tmp_path / "noise.npz"
    noise.write_bytes(random.Random(1).randbytes(5000))
    assert "not a .npz (zip) file" in _refused(noise)
    plain = tmp_path / "plain.npz"
    np.savez(plain, W1=np.zeros((2, 2)))
    assert "no metadata array" in _refused(plain)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    assert "not a .npz (zip) file" in _refused(empty)


def test_every_truncation_is_a_clear_error(iris_model: Path, tmp_path: Path) -> None:
    data = iris_model.read_bytes()
    cut = tmp_path / "cut.npz"
    # The archive's directory is at the end: every cut before it loses it; the offsets near
    # the end cut the directory itself.
    offsets = list(range(0, len(data), max(1, len(data) // 300))) + list(range(len(data) - 400, len(data)))
    for size in offsets:
        cut.write_bytes(data[:size])
        _refused(cut)


def test_flipped_bytes_in_headers_are_clear_errors(iris_model: Path, tmp_path: Path) -> None:
    """Damage where it hurts most: the local headers, the .npy headers, the directory."""
    data = iris_model.read_bytes()
    with zipfile.ZipFile(iris_model) as archive:
        regions = [(info.header_offset, info.header_offset + 200) for info in archive.infolist()]
    regions.append((len(data) - 1200, len(data)))
    rng = random.Random(7)
    damaged = tmp_path / "damaged.npz"
    for _ in range(1500):
        copy = bytearray(data)
        low, high = rng.choice(regions)
        for _ in range(rng.randint(1, 3)):
            copy[rng.randrange(low, min(high, len(copy)))] = rng.randrange(256)
        damaged.write_bytes(bytes(copy))
        try:
            load_model(damaged)
        except ModelFileError as error:
            assert "\n" not in error.message
        # a flip in an unused byte may leave a loadable file: that is fine


def test_a_newer_format_says_upgrade(iris_model: Path, tmp_path: Path) -> None:
    def newer(metadata: dict[str, Any]) -> None:
        metadata["format_version"] = FORMAT_VERSION + 1
        metadata["nncli_version"] = "9.0.0"

    path = rewrite_model(iris_model, tmp_path / "newer.npz", metadata=newer)
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    assert f"model format {FORMAT_VERSION + 1}" in caught.value.message
    assert "nncli 9.0.0" in caught.value.message
    assert caught.value.hint is not None and "upgrade nncli" in caught.value.hint


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.update(format="something-else"), "format is 'something-else'"),
        (lambda m: m.pop("format_version"), "format_version is missing"),
        (lambda m: m.update(layer_sizes=[4, 6]), "activations ['tanh', 'softmax'] do not fit 1 layers"),
        (lambda m: m.update(layer_sizes=[4, 3], activations=["softmax"]), "arrays do not match 1 layers (unexpected W2, beta2)"),
        (lambda m: m.update(layer_sizes=[4, 7, 3]), "array W1 is float64 (6, 4), expected float64 (7, 4)"),
        (lambda m: m.update(activations=["tanh", "nonsense"]), "activations"),
        (lambda m: m.update(cost="hinge"), "cost 'hinge' is unknown"),
        (lambda m: m.update(dtype="float16"), "dtype 'float16'"),
        (lambda m: m["preprocessing"]["features"][0].update(center="abc"), "features[0].center is 'abc'"),
        (lambda m: m["preprocessing"]["features"][0].update(scale=0), "features[0].scale is 0"),
        (lambda m: m["preprocessing"]["features"][1].update(kind="text"), "features[1].kind is 'text'"),
        (lambda m: m["preprocessing"].update(missing="ignore"), "missing is 'ignore'"),
        (lambda m: m["preprocessing"]["targets"][0].update(classes=["a", "a", "b"]), "repeats a label"),
        (lambda m: m["preprocessing"]["targets"][0].update(kind="numeric"), "classes has 3 labels, expected 0"),
        (lambda m: m["preprocessing"]["features"].pop(), "preprocessing does not fit its layer sizes"),
        (lambda m: m["preprocessing"].pop("targets"), "targets is not a non-empty list"),
    ],
)
def test_metadata_is_checked(iris_model: Path, tmp_path: Path, change: Any, expected: str) -> None:
    path = rewrite_model(iris_model, tmp_path / "changed.npz", metadata=change)
    assert expected in _refused(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a.update(W1=a["W1"].astype(np.float32)), "array W1 is float32"),
        (lambda a: a.update(W2=a["W2"].T.copy()), "array W2 is float64 (6, 3)"),
        (lambda a: a.update(W1=np.asfortranarray(a["W1"])), "Fortran-ordered"),
        (lambda a: a.pop("beta2"), "missing beta2"),
        (lambda a: a.update(W3=np.zeros((1, 3))), "unexpected W3"),
        (lambda a: a["beta1"].__setitem__(0, np.nan), "NaN or infinite"),
        (lambda a: a["W2"].__setitem__((0, 0), np.inf), "NaN or infinite"),
    ],
)
def test_arrays_are_checked(iris_model: Path, tmp_path: Path, change: Any, expected: str) -> None:
    path = rewrite_model(iris_model, tmp_path / "changed.npz", arrays=change)
    assert expected in _refused(path)


def test_object_arrays_are_never_unpickled(iris_model: Path, tmp_path: Path) -> None:
    arrays, metadata = model_arrays(iris_model)
    import json

    class Boom:
        def __reduce__(self) -> Any:
            return (pytest.fail, ("unpickled a model file",))

    W1 = np.empty(arrays["W1"].shape, dtype=object)
    W1[...] = Boom()
    buffer = io.BytesIO()
    np.savez(buffer, **{**arrays, "W1": W1, "metadata": np.array(json.dumps(metadata))})
    path = tmp_path / "pickled.npz"
    path.write_bytes(buffer.getvalue())
    assert "holds Python objects" in _refused(path)

    buffer = io.BytesIO()
    np.savez(buffer, **arrays, metadata=np.array({"format": "nncli-model"}, dtype=object))
    path.write_bytes(buffer.getvalue())
    assert "metadata is not a text array" in _refused(path)


def test_preprocessing_round_trip_passes_its_own_checks(mixed_mean_model: Path) -> None:
    model = load_model(mixed_mean_model)
    record = model.preprocessing.to_dict()
    assert Preprocessing.from_dict(record) == model.preprocessing
    assert model.preprocessing.features[1].kind == "categorical"
    assert model.preprocessing.features[1].fill is not None
