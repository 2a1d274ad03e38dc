"""Model files from strangers: every damaged, foreign, oversized or malicious file is refused
with one clear error line (exit code 3), never a traceback, never an unpickled object, and
never an allocation the file cannot justify — by `load_model` and by every command that
reads a model file (`hostile.model_commands`).
"""

from __future__ import annotations

import json
import os
import random
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import nncli.modelfile as modelfile
from hostile import (
    REPO,
    assert_one_clear_error,
    invoke,
    members,
    metadata_npy,
    model_commands,
    npy,
    npy_header,
    read_arrays,
    read_metadata,
    rewrite,
    train_small_model,
    zip_members,
)
from nncli.errors import ModelFileError
from nncli.modelfile import FORMAT_VERSION, load_model


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(config, model) trained once for the module; tests only read them."""
    return train_small_model(tmp_path_factory.mktemp("small"))


def refused(path: Path) -> str:
    """load_model(path) raises ModelFileError with a one-line message naming the file."""
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = caught.value.message
    assert "\n" not in message and message.startswith(str(path)), message
    assert len(message) < 600, message
    return message


# -- the cases: each builds a file from the valid model and names what the error says ------


def _with_member(name: str, data: bytes) -> Callable[[Path, Path], Path]:
    def build(model: Path, path: Path) -> Path:
        return zip_members(path, list(members(model).items()) + [(name, data)])

    return build


def _replace_member(name: str, data: Callable[[bytes], bytes]) -> Callable[[Path, Path], Path]:
    def build(model: Path, path: Path) -> Path:
        return zip_members(path, [(n, data(b) if n == name else b) for n, b in members(model).items()])

    return build


def _metadata(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path, Path], Path]:
    return lambda model, path: rewrite(model, path, metadata=change)


def _text(make: Callable[[dict[str, Any]], str]) -> Callable[[Path, Path], Path]:
    return lambda model, path: rewrite(model, path, text=make)


def _arrays(change: Callable[[dict[str, np.ndarray]], Any]) -> Callable[[Path, Path], Path]:
    return lambda model, path: rewrite(model, path, arrays=change)


def _raw(data: bytes) -> Callable[[Path, Path], Path]:
    def build(model: Path, path: Path) -> Path:
        path.write_bytes(data)
        return path

    return build


def _directory(model: Path, path: Path) -> Path:
    path.mkdir()
    return path


def _missing(model: Path, path: Path) -> Path:
    return path


def _fifo(model: Path, path: Path) -> Path:
    os.mkfifo(path)
    return path


def _plain_npz(model: Path, path: Path) -> Path:
    np.savez(path, W1=np.zeros((3, 4)))
    return path


def _duplicate_w1(model: Path, path: Path) -> Path:
    items = list(members(model).items())
    return zip_members(path, items + [item for item in items if item[0] == "W1.npy"])


def _zip_bomb(model: Path, path: Path) -> Path:
    """W1.npy deflated from 20 MB of zeros (about 1000:1)."""
    items = [(n, b) for n, b in members(model).items() if n != "W1.npy"]
    bomb = npy_header("<f8", (3, 4)) + bytes(20_000_000)
    zip_members(path, items, compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("W1.npy", bomb)
    return path


def _size_lie(model: Path, path: Path) -> Path:
    """The directory says W1.npy holds 1 GB (both sizes), the file is a few kB."""
    zip_members(path, list(members(model).items()))
    data = bytearray(path.read_bytes())
    start = data.rfind(b"PK\x01\x02", 0, data.find(b"W1.npy", data.find(b"PK\x01\x02")) + 1)
    struct.pack_into("<II", data, start + 20, 10**9, 10**9)
    path.write_bytes(bytes(data))
    return path


def _encrypted(model: Path, path: Path) -> Path:
    zip_members(path, list(members(model).items()))
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, start + 8, 1)  # general purpose flag: encrypted
    path.write_bytes(bytes(data))
    return path


def _bzip2(model: Path, path: Path) -> Path:
    return zip_members(path, list(members(model).items()), compression=zipfile.ZIP_BZIP2)


def _huge_shape(model: Path, path: Path) -> Path:
    """W1's header claims 10^6 × 10^6 float64 (8 TB); the data is the real 96 bytes."""
    return _replace_member("W1.npy", lambda b: npy_header("<f8", (10**6, 10**6)) + b[-96:])(model, path)


def _huge_layers(model: Path, path: Path) -> Path:
    """The metadata claims a 20000 → 20000 → 3 network (3.2 GB of θ); the arrays are tiny."""

    def change(record: dict[str, Any]) -> None:
        record["layer_sizes"] = [20000, 20000, 3]

    return rewrite(model, path, metadata=change)


def _object_w1(model: Path, path: Path) -> Path:
    def change(arrays: dict[str, np.ndarray]) -> None:
        values = np.empty(arrays["W1"].shape, dtype=object)
        values[...] = "a string stored as a Python object"
        arrays["W1"] = values

    return rewrite(model, path, arrays=change)


def _object_metadata(model: Path, path: Path) -> Path:
    items = [(n, b) for n, b in members(model).items() if n != "metadata.npy"]
    items.append(("metadata.npy", npy(np.array({"format": "nncli-model"}, dtype=object))))
    return zip_members(path, items)


def _many_members(model: Path, path: Path) -> Path:
    items = list(members(model).items()) + [(f"x{i}.npy", b"") for i in range(3000)]
    return zip_members(path, items)


def _nested(model: Path, path: Path) -> Path:
    return zip_members(path, [(n, metadata_npy("[" * 100_000) if n == "metadata.npy" else b) for n, b in members(model).items()])


def _newer(record: dict[str, Any]) -> None:
    record["format_version"] = FORMAT_VERSION + 1
    record["nncli_version"] = "9.0.0"
    record["a_key_from_the_future"] = True


def _set(*keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        node = record
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


def _nan_in(name: str, index: Any) -> Callable[[dict[str, np.ndarray]], None]:
    return lambda arrays: arrays[name].__setitem__(index, np.nan)


def _dumps_nonfinite(where: tuple[str, ...], value: float) -> Callable[[dict[str, Any]], str]:
    def make(record: dict[str, Any]) -> str:
        _set(*where, value=value)(record)
        return json.dumps(record, allow_nan=True)

    return make


CASES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    # not a model file at all
    "empty file": (_raw(b""), "not a .npz (zip) file"),
    "random bytes": (_raw(random.Random(6).randbytes(4000)), "not a .npz (zip) file"),
    "a directory": (_directory, "is a directory"),
    "a missing file": (_missing, "model file not found"),
    "a fifo": (_fifo, "is not a regular file"),
    "a plain npz": (_plain_npz, "no metadata array"),
    # the zip directory
    "an extra member": (_with_member("evil.npy", npy(np.zeros(3))), "unexpected evil"),
    "a text member": (_with_member("notes.txt", b"hello"), "unexpected member 'notes.txt'"),
    "a path member": (_with_member("../W1.npy", npy(np.zeros(3))), "unexpected member '../W1.npy'"),
    "a folder member": (_with_member("sub/W1.npy", npy(np.zeros(3))), "unexpected member 'sub/W1.npy'"),
    "a duplicate member": (_duplicate_w1, "member 'W1.npy' appears twice"),
    "a missing member": (lambda m, p: zip_members(p, [i for i in members(m).items() if i[0] != "beta2.npy"]), "missing beta2"),
    "3000 members": (_many_members, "it has 3,007 members"),
    "a zip bomb": (_zip_bomb, "(a zip bomb?)"),
    "sizes larger than the file": (_size_lie, "claims more bytes than the file has"),
    "an encrypted member": (_encrypted, "is encrypted"),
    "bzip2 compression": (_bzip2, "compression method 12"),
    "members the layers do not need": (_metadata(_set("layer_sizes", value=[4, 3])), "activations"),
    "metadata claiming huge layers": (_huge_layers, "too few for the (20000, 20000) float64 values"),
    # the .npy headers and data
    "a header claiming a huge shape": (_huge_shape, "array W1 is float64 (1000000, 1000000), expected float64 (3, 4)"),
    "object dtype weights": (_object_w1, "array W1 holds Python objects"),
    "object dtype metadata": (_object_metadata, "its metadata is not a text array"),
    "float32 weights": (_arrays(lambda a: a.update(W1=a["W1"].astype(np.float32))), "array W1 is float32"),
    "big-endian weights": (_arrays(lambda a: a.update(W1=a["W1"].astype(">f8"))), "array W1 is >f8"),
    "Fortran-ordered weights": (_arrays(lambda a: a.update(W1=np.asfortranarray(np.ones((3, 4))))), "Fortran-ordered"),
    "transposed weights": (_arrays(lambda a: a.update(W1=a["W1"].T.copy())), "array W1 is float64 (4, 3), expected float64 (3, 4)"),
    "a wrong state length": (_arrays(lambda a: a.update(optimizer_m=a["optimizer_m"][:-1].copy())), "array optimizer_m is float64 (26,)"),
    "bytes after the data": (_replace_member("beta1.npy", lambda b: b + b"\0" * 8), "array beta1 has bytes after its data"),
    "too few bytes": (_replace_member("beta1.npy", lambda b: b[:-8]), "array beta1 is"),
    "an unknown npy version": (_replace_member("W1.npy", lambda b: b[:6] + b"\x09\x00" + b[8:]), "unknown .npy version (9, 0)"),
    "a mangled npy header": (_replace_member("W1.npy", lambda b: b[:20] + b"(((((" + b[25:]), "corrupt"),
    "NaN weights": (_arrays(_nan_in("W2", (0, 0))), "its weights hold NaN or infinite values"),
    "infinite biases": (_arrays(lambda a: a["beta1"].__setitem__(0, np.inf)), "its weights hold NaN or infinite values"),
    "NaN optimizer state": (_arrays(_nan_in("optimizer_v", 3)), "its state array optimizer_v holds NaN"),
    # the metadata
    "metadata NaN": (_text(_dumps_nonfinite(("training", "final_cost"), float("nan"))), "NaN is not allowed"),
    "metadata Infinity": (_text(_dumps_nonfinite(("training", "learning_rate"), float("inf"))), "Infinity is not allowed"),
    "metadata -Infinity": (_text(_dumps_nonfinite(("preprocessing", "features", 0, "center"), -float("inf"))), "-Infinity is not allowed"),
    "a duplicate key": (_text(lambda r: json.dumps(r)[:-1] + ', "cost": "mse"}'), "duplicate key 'cost'"),
    "a nested duplicate key": (_text(lambda r: json.dumps(r).replace('"training": {', '"training": {"seed": 5, ', 1)), "duplicate key 'seed'"),
    "not JSON": (_text(lambda r: json.dumps(r)[:-10]), "its metadata is not valid JSON"),
    "a JSON list": (_text(lambda r: "[1, 2]"), "its metadata is not a JSON object"),
    "deep nesting": (_nested, "nested too deeply"),
    "an unknown key": (_metadata(_set("evil", value=1)), "unknown key 'evil'"),
    "an unknown nested key": (_metadata(_set("training", "resume", "evil", value=1)), "unknown key 'training.resume.evil'"),
    "another format": (_metadata(_set("format", value="keras")), "format is 'keras'"),
    "no format version": (_metadata(lambda r: r.pop("format_version")), "format_version is missing"),
    "a text format version": (_metadata(_set("format_version", value="1")), "format_version '1' is not a format version"),
    "a boolean format version": (_metadata(_set("format_version", value=True)), "format_version True"),
    "a newer format": (_metadata(_newer), "model format 2; this nncli"),
    "text layer sizes": (_metadata(_set("layer_sizes", 0, value="4")), "layer_sizes[0] is '4', expected a whole number"),
    "a zero layer size": (_metadata(_set("layer_sizes", 1, value=0)), "layer_sizes[1] is 0, expected at least 1"),
    "an unknown activation": (_metadata(_set("activations", 1, value="evil")), "activations[1] 'evil' is unknown"),
    "an unknown cost": (_metadata(_set("cost", value="hinge")), "cost 'hinge' is unknown"),
    "an unknown dtype": (_metadata(_set("dtype", value="float16")), "dtype 'float16' is unknown"),
    "a wrong count of activations": (_metadata(_set("activations", value=["tanh"])), "do not fit 2 layers"),
    "text iterations": (_metadata(_set("training", "iterations", value="3")), "training.iterations is '3', expected a whole number"),
    "a text history": (_metadata(_set("training", "history", "cost", value="abc")), "training.history.cost is 'abc', expected a list"),
    "a text in the history": (_metadata(_set("training", "history", "cost", 1, value="x")), "training.history.cost[1] is 'x'"),
    "a list preprocessing": (_metadata(_set("preprocessing", value=[])), "preprocessing is [], expected an object"),
    "a text state list": (_metadata(_set("state_arrays", value="optimizer_m")), "state_arrays is 'optimizer_m', expected a list"),
    "a state array named beta1": (_metadata(_set("state_arrays", value=["beta1", "optimizer_m", "optimizer_v"])), "'beta1' is the name of a parameter array"),
    "a state array with a path": (_metadata(_set("state_arrays", value=["../x"])), "'../x' is not a state array name"),
    "names that disagree": (_metadata(_set("inputs", 0, value="evil")), "its inputs do not match its preprocessing record"),
    "a preprocessing without targets": (_metadata(lambda r: r["preprocessing"].pop("targets")), "its preprocessing record is invalid"),
    "a text center": (_metadata(_set("preprocessing", "features", 0, "center", value="abc")), "features[0].center is 'abc'"),
    "a zero scale": (_metadata(_set("preprocessing", "features", 2, "scale", value=0)), "features[2].scale is 0"),
    "repeated classes": (_metadata(_set("preprocessing", "targets", 0, "classes", value=["a", "a", "b"])), "repeats a label"),
    "an unknown column kind": (_metadata(_set("preprocessing", "features", 1, "kind", value="text")), "features[1].kind is 'text'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_model_refuses(small: tuple[Path, Path], tmp_path: Path, case: str) -> None:
    build, expected = CASES[case]
    path = build(small[1], tmp_path / "hostile.npz")
    message = refused(path)
    assert expected in message, message


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_command_refuses(small: tuple[Path, Path], tmp_path: Path, case: str) -> None:
    config, model = small
    build, expected = CASES[case]
    path = build(model, tmp_path / "hostile.npz")
    out = tmp_path / "out" / "model.npz"
    for command, args in model_commands(config, path, out).items():
        result = invoke(args)
        line = assert_one_clear_error(result, 3, mentions=str(path))
        assert expected in line, (command, line)
        assert not out.parent.exists() or not list(out.parent.iterdir()), (command, list(out.parent.iterdir()))


def test_the_valid_model_passes_every_command(small: tuple[Path, Path], tmp_path: Path) -> None:
    """The harness can tell: the unchanged file, rewritten by the same helpers, works."""
    config, model = small
    copy = rewrite(model, tmp_path / "copy.npz")
    assert load_model(copy).network.theta.tobytes() == load_model(model).network.theta.tobytes()
    for command, args in model_commands(config, copy, tmp_path / "out.npz").items():
        result = invoke(args)
        assert result.exit_code == 0, (command, result.output)


def test_a_newer_format_asks_to_upgrade(small: tuple[Path, Path], tmp_path: Path) -> None:
    path = rewrite(small[1], tmp_path / "newer.npz", metadata=_newer)
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    assert "written by nncli 9.0.0 in model format 2" in caught.value.message
    assert caught.value.hint is not None and "upgrade nncli" in caught.value.hint


def test_claims_are_refused_without_allocating(small: tuple[Path, Path], tmp_path: Path) -> None:
    """A header or metadata that claims gigabytes is refused while nncli holds little memory."""
    for build in (_huge_shape, _huge_layers, _zip_bomb, _size_lie):
        path = build(small[1], tmp_path / f"{build.__name__}.npz")
        tracemalloc.start()
        try:
            refused(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 20_000_000, (build.__name__, peak)


def test_the_metadata_size_is_capped(small: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    size = zipfile.ZipFile(small[1]).getinfo("metadata.npy").file_size
    monkeypatch.setattr(modelfile, "MAX_METADATA_BYTES", size - 1)
    assert f"its metadata is {size:,} bytes (limit {size - 1:,})" in refused(small[1])


def test_every_prefix_is_a_clear_error(small: tuple[Path, Path], tmp_path: Path) -> None:
    """Prefixes of a valid model file through load_model: every one of them that cuts a
    member's local header or the zip directory at the end, every third one elsewhere (all
    of them take seconds); a sample of them through every command."""
    config, model = small
    data = model.read_bytes()
    with zipfile.ZipFile(model) as archive:
        starts = [info.header_offset for info in archive.infolist()]
    dense = {size for start in starts for size in range(start, start + 200)}
    sizes = sorted(dense | set(range(len(data) - 1500, len(data))) | set(range(0, len(data), 3)))
    cut = tmp_path / "cut.npz"
    for size in sizes:
        cut.write_bytes(data[:size])
        refused(cut)
    for size in random.Random(2).sample(range(len(data)), 12):
        cut.write_bytes(data[:size])
        for args in model_commands(config, cut, tmp_path / "out.npz").values():
            assert_one_clear_error(invoke(args), 3, mentions=str(cut))
    assert not (tmp_path / "out.npz").exists()


def test_old_files_without_the_newer_keys_still_load(small: tuple[Path, Path], tmp_path: Path) -> None:
    """A file of format 1 written before the optimizer state and the resume record existed
    (the core's metadata: no state_arrays, no training.resume/parameters/optimizer, a
    history of four series) loads and can seed --init-from."""
    config, model = small

    def core_era(record: dict[str, Any]) -> None:
        for key in ("state_arrays",):
            record.pop(key)
        training = record["training"]
        for key in ("optimizer", "batch_size", "l2", "gradient_clip", "monitor", "parameters", "resume",
                    "final_validation_cost", "final_validation_accuracy"):
            training.pop(key)
        for key in ("learning_rate", "seconds"):
            training["history"].pop(key)

    def no_state(arrays: dict[str, np.ndarray]) -> None:
        for name in [n for n in arrays if n.startswith("optimizer_")]:
            arrays.pop(name)

    old = rewrite(model, tmp_path / "old.npz", metadata=core_era, arrays=no_state)
    loaded = load_model(old)
    assert loaded.state == {} and loaded.network.sizes == (4, 3, 3)
    result = invoke(["train", str(config), "-q", "-o", str(tmp_path / "new.npz"), "--init-from", str(old)])
    assert result.exit_code == 0, result.output
    result = invoke(["train", str(config), "-q", "-o", str(tmp_path / "r.npz"), "--set", "stopping.max_iterations=9", "--resume", str(old)])
    line = assert_one_clear_error(result, 3)
    assert "has no training state to resume from" in line


def test_minimal_metadata_loads(small: tuple[Path, Path], tmp_path: Path) -> None:
    """Only the architecture and the preprocessing are required."""
    record = read_metadata(small[1])
    keep = {"format", "format_version", "layer_sizes", "activations", "cost", "dtype", "preprocessing"}
    path = rewrite(
        small[1],
        tmp_path / "minimal.npz",
        metadata=lambda r: [r.pop(k) for k in set(record) - keep],
        arrays=lambda a: [a.pop(n) for n in list(a) if n.startswith("optimizer_")],
    )
    assert load_model(path).metadata.keys() == keep


def test_saving_checks_what_loading_checks(small: tuple[Path, Path], tmp_path: Path) -> None:
    """save_model never writes a file that load_model would refuse."""
    loaded = load_model(small[1])
    with pytest.raises(ValueError, match="unknown key 'evil'"):
        modelfile.save_model(tmp_path / "bad.npz", loaded.network, {**loaded.metadata, "evil": 1})
    with pytest.raises(ValueError, match="training.iterations"):
        broken = json.loads(json.dumps(loaded.metadata))
        broken["training"]["iterations"] = "many"
        modelfile.save_model(tmp_path / "bad.npz", loaded.network, broken)
    assert not (tmp_path / "bad.npz").exists()
    # The header always wins over keys of a reused record.
    stale = {**loaded.metadata, "layer_sizes": [1, 1], "format_version": 99}
    modelfile.save_model(tmp_path / "good.npz", loaded.network, stale, loaded.state)
    again = load_model(tmp_path / "good.npz")
    assert again.metadata["layer_sizes"] == [4, 3, 3] and again.metadata["format_version"] == FORMAT_VERSION
    assert sorted(again.state) == ["optimizer_m", "optimizer_v"]


def test_saving_refuses_metadata_loading_would_refuse_for_size(
    small: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_model(small[1])
    monkeypatch.setattr(modelfile, "MAX_METADATA_BYTES", 8000)
    with pytest.raises(ModelFileError, match="more than the 8,000 bytes nncli reads"):
        modelfile.save_model(tmp_path / "long.npz", loaded.network, loaded.metadata)
    assert not (tmp_path / "long.npz").exists()


def test_every_array_a_saved_file_holds_is_read(small: tuple[Path, Path]) -> None:
    arrays = read_arrays(small[1])
    loaded = load_model(small[1])
    assert sorted(arrays) == ["W1", "W2", "beta1", "beta2", "optimizer_m", "optimizer_v"]
    for name in ("optimizer_m", "optimizer_v"):
        assert np.array_equal(loaded.state[name], arrays[name])


EVIL = "[/][bold red]x[/]\x1b]0;owned\x07\x1b[31m\u202e"


def _evil_names(record: dict[str, Any]) -> None:
    """A feature, a class and the run's name that hold rich markup and terminal escapes."""
    old = record["preprocessing"]["features"][0]["name"]
    record["preprocessing"]["features"][0]["name"] = EVIL
    for key in ("features", "inputs"):
        record[key] = [EVIL if name == old else name for name in record[key]]
    classes = record["preprocessing"]["targets"][0]["classes"]
    record["outputs"] = [name.replace(f"={classes[0]}", f"={EVIL}") for name in record["outputs"]]
    classes[0] = EVIL
    record["name"] = EVIL


def test_names_from_a_model_file_cannot_reach_the_terminal(small: tuple[Path, Path], tmp_path: Path) -> None:
    """Markup is shown as text (a stray [/] crashed rich), control characters escaped."""
    path = rewrite(small[1], tmp_path / "evil.npz", metadata=_evil_names)
    assert load_model(path).preprocessing.features[0].name == EVIL
    csv = tmp_path / "evil.csv"  # the same names in a CSV file, for evaluate
    quoted = '"' + EVIL.replace('"', '""') + '"'
    rows = (REPO / "datasets" / "iris.csv").read_text().splitlines()
    csv.write_text("\n".join([quoted + rows[0][rows[0].index(","):]] + [r.replace("setosa", quoted) for r in rows[1:]]) + "\n")
    for args, code in (
        (["inspect", str(path)], 0),
        (["evaluate", str(path), str(csv)], 0),
        (["evaluate", str(path), str(REPO / "datasets" / "iris.csv")], 3),  # no column EVIL
    ):
        result = invoke(args)
        assert result.exit_code == code, (args, result.output)
        assert "Traceback" not in result.output
        for character in "\x1b\x07\u202e":
            assert character not in result.output, (args, repr(result.output[:300]))
        if result.exit_code == 0:
            assert "[/][bold red]x[/]\\x1b]0;owned\\x07" in result.stdout
        else:
            assert "error:" in result.stderr and "\\x1b" in result.stderr


TEX = "$\\frac{$"  # not valid mathtext: matplotlib raised ValueError while saving


def test_dollar_signs_in_names_are_plotted_as_text(tmp_path: Path) -> None:
    """The run's name, two feature names and a class name holding mathtext, through
    train --plot, inspect --plot and inspect --plot --data: each writes its PNG."""
    pytest.importorskip("matplotlib")
    rows = (REPO / "datasets" / "iris.csv").read_text().splitlines()
    header = ["sepal_length", "sepal_width", f"petal {TEX}", "$x^$", "species"]
    csv = tmp_path / "tex.csv"
    csv.write_text(",".join(header) + "\n" + "\n".join(r.replace("setosa", TEX) for r in rows[1:]) + "\n")
    config = tmp_path / "tex.yaml"
    config.write_text(
        f"name: '{TEX}'\n"
        f"data: {{train: {csv}, features: ['petal {TEX}', '$x^$'], targets: [species]}}\n"
        "network: {layers: [{neurons: 3, activation: softmax}]}\n"
        "cost: categorical_cross_entropy\ntraining: {learning_rate: 0.1}\nstopping: {max_iterations: 3}\n"
    )
    model = tmp_path / "tex.npz"
    for args, png in (
        (["train", str(config), "-q", "-o", str(model), "--plot", str(tmp_path / "a.png")], "a.png"),
        (["inspect", str(model), "--plot", str(tmp_path / "b.png")], "b.png"),
        (["inspect", str(model), "--plot", str(tmp_path / "c.png"), "--data", str(csv)], "c.png"),
    ):
        result = invoke(args)
        assert result.exit_code == 0, (args, result.output)
        assert (tmp_path / png).read_bytes().startswith(b"\x89PNG")
