"""The model file: a ``.npz`` with arrays W1 … Wm, beta1 … betam and one ``metadata`` array,
plus the training state arrays that ``metadata["state_arrays"]`` lists (for ``--resume``:
optimizer state such as adam's m and v, each a vector laid out like θ).

``metadata`` is a JSON string (a 0-d unicode array, so no pickle is ever involved) with the
format name and version, the nncli version, layer sizes, activations, cost, feature and
target names, the preprocessing, and the training summary with the cost history. β_l is
stored as a vector of n_l values. Saving is atomic (`fileio.atomic_write`); loading never
unpickles and checks everything before any array is used:

1. the zip directory alone: member names (exactly W1…Wm, beta1…betam, metadata and the listed
   state arrays; no paths, no duplicates), their count, declared sizes against limits,
   compression ratio (zip bombs);
2. metadata: size-capped strict JSON (no NaN/Infinity, no duplicate keys), format name and
   version, layer sizes and activations, the names of the state arrays;
3. each array's header before its data: dtype, C order, the shape the metadata implies (a
   state array: one value per parameter);
4. the weights and the state are finite.
"""

from __future__ import annotations

import json
import math
import re
import struct
import tokenize
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nncli import __version__
from nncli.activations import ACTIVATION_NAMES
from nncli.costs import COST_NAMES
from nncli.data import Preprocessing
from nncli.errors import ModelFileError
from nncli.fileio import atomic_write
from nncli.network import Network

FORMAT_NAME = "nncli-model"
FORMAT_VERSION = 1
MAX_METADATA_BYTES = 64 * 1024 * 1024
MAX_PARAMETERS = 2**31
MAX_COMPRESSION_RATIO = 200
DTYPES = {"float64": np.dtype("<f8"), "float32": np.dtype("<f4")}
MAX_STATE_ARRAYS = 16
STATE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def array_names(m: int) -> list[str]:
    return [f"W{l}" for l in range(1, m + 1)] + [f"beta{l}" for l in range(1, m + 1)] + ["metadata"]


def _state_name_problem(name: Any, m: int) -> str | None:
    if not isinstance(name, str) or not STATE_NAME.fullmatch(name):
        return f"{name!r} is not a state array name (lowercase letters, digits, _)"
    if name in array_names(m):
        return f"{name!r} is the name of a parameter array"
    return None


def save_model(
    path: Path,
    network: Network,
    metadata: dict[str, Any],
    state: dict[str, np.ndarray] | None = None,
) -> None:
    """Write the model atomically. Refuses non-finite parameters (never a file of NaN).

    `state` holds extra arrays of one value per parameter (laid out like θ), saved under
    their names and listed in the metadata as ``state_arrays``.
    """
    state = state or {}
    if not np.isfinite(network.theta).all():
        raise ModelFileError(
            f"{path}: not saved: the parameters hold NaN or infinite values."
        )
    for name, array in state.items():
        problem = _state_name_problem(name, network.m)
        if problem or array.shape != network.theta.shape or not np.isfinite(array).all():
            raise ValueError(f"state array {name!r}: {problem or 'not a finite vector like theta'}")
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "nncli_version": __version__,
        "layer_sizes": list(network.sizes),
        "activations": list(network.activations),
        "cost": network.cost,
        "dtype": network.dtype.name,
    }
    # state_arrays lists the arrays written now, whatever a reused metadata dict says.
    text = json.dumps(
        {**header, **metadata, "state_arrays": sorted(state)}, allow_nan=False, ensure_ascii=False
    )
    arrays: dict[str, np.ndarray] = {}
    for l in range(1, network.m + 1):
        arrays[f"W{l}"] = np.ascontiguousarray(network.W[l])
        arrays[f"beta{l}"] = np.ascontiguousarray(network.beta[l][:, 0])
    for name, array in state.items():
        arrays[name] = np.ascontiguousarray(array, dtype=network.dtype)
    arrays["metadata"] = np.array(text)
    atomic_write(path, lambda handle: np.savez(handle, **arrays))


@dataclass
class Model:
    """A loaded model: the network, its preprocessing and all metadata."""

    path: Path
    network: Network
    preprocessing: Preprocessing
    metadata: dict[str, Any]
    state: dict[str, np.ndarray] = field(default_factory=dict)  # the listed state arrays

    @property
    def training(self) -> dict[str, Any]:
        return self.metadata.get("training", {})


# What reading a damaged or foreign archive can raise, besides zipfile.BadZipFile: found by
# truncating and flipping bytes of real model files (tests/test_modelfile_safety.py).
_CORRUPT = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    SyntaxError,  # a mangled .npy header (numpy parses it as a Python literal)
    tokenize.TokenError,
    NotImplementedError,  # unsupported compression method or zip feature
    RuntimeError,  # an encrypted member
    zlib.error,
    struct.error,
    OverflowError,
    zipfile.LargeZipFile,
)


def _fail(path: Path, problem: str, hint: str | None = None) -> ModelFileError:
    problem = " ".join(problem.split())  # one line, whatever an exception message held
    return ModelFileError(f"{path}: not a usable nncli model: {problem}.", hint=hint)


def _strict_json(path: Path, text: str) -> dict[str, Any]:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not allowed in model metadata")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    try:
        data = json.loads(text, parse_constant=no_constants, object_pairs_hook=no_duplicates)
    except (ValueError, RecursionError) as error:
        raise _fail(path, f"its metadata is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise _fail(path, "its metadata is not a JSON object")
    return data


def _read_member(
    path: Path, archive: zipfile.ZipFile, name: str
) -> tuple[np.dtype, tuple[int, ...], bool, Any]:
    """(dtype, shape, fortran_order, handle positioned at the data) from the .npy header."""
    handle = archive.open(f"{name}.npy")
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
    else:
        raise _fail(path, f"array {name} has an unknown .npy version {version}")
    return dtype, shape, fortran, handle


def _check_zip(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > 2 * 1000 + 1 + MAX_STATE_ARRAYS:
        raise _fail(path, f"it has {len(infos)} members")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if "/" in name or "\\" in name or not name.endswith(".npy") or name.startswith("."):
            raise _fail(path, f"unexpected member {name!r} in the archive")
        if name in members:
            raise _fail(path, f"member {name!r} appears twice")
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise _fail(path, f"member {name!r} is compressed {info.file_size // info.compress_size}:1 (a zip bomb?)")
        members[name[:-4]] = info
    if "metadata" not in members:
        raise _fail(path, "it has no metadata array", "is this a plain NumPy .npz file?")
    return members


def load_model(path: Path) -> Model:
    """Load and check a model file. Raises ModelFileError with one clear line on any problem."""
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found.", hint="check the path.")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, expected a .npz model file.")
    try:
        with zipfile.ZipFile(path) as archive:
            return _load(path, archive)
    except ModelFileError:
        raise
    except zipfile.BadZipFile:
        raise _fail(path, "it is not a .npz (zip) file, or it is truncated") from None
    except _CORRUPT as error:
        raise _fail(path, f"it is corrupt ({type(error).__name__}: {error})") from None


def _load(path: Path, archive: zipfile.ZipFile) -> Model:
    members = _check_zip(path, archive)
    info = members["metadata"]
    if info.file_size > MAX_METADATA_BYTES:
        raise _fail(path, f"its metadata is {info.file_size:,} bytes (limit {MAX_METADATA_BYTES:,})")
    dtype, shape, _, handle = _read_member(path, archive, "metadata")
    with handle:
        if dtype.kind != "U" or shape != ():
            raise _fail(path, "its metadata is not a text array", "object arrays are never unpickled")
        raw = handle.read(MAX_METADATA_BYTES + 1)
    text = np.frombuffer(raw, dtype=dtype, count=1)[0] if len(raw) >= dtype.itemsize else None
    if text is None:
        raise _fail(path, "its metadata is truncated")
    metadata = _strict_json(path, str(text))

    if metadata.get("format") != FORMAT_NAME:
        raise _fail(path, f"its metadata format is {metadata.get('format')!r}, not {FORMAT_NAME!r}")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _fail(path, "its format_version is missing")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by nncli {metadata.get('nncli_version', '?')} in model format "
            f"{version}; this nncli ({__version__}) reads format {FORMAT_VERSION}.",
            hint="upgrade nncli: pip install --upgrade nncli.",
        )
    sizes = metadata.get("layer_sizes")
    activations = metadata.get("activations")
    cost = metadata.get("cost")
    dtype_name = metadata.get("dtype")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 10**7 for n in sizes)
    ):
        raise _fail(path, f"its layer_sizes {sizes!r} are not a list of positive whole numbers")
    m = len(sizes) - 1
    if not isinstance(activations, list) or len(activations) != m or not all(a in ACTIVATION_NAMES for a in activations):
        raise _fail(path, f"its activations {activations!r} do not fit {m} layers")
    if cost not in COST_NAMES:
        raise _fail(path, f"its cost {cost!r} is unknown")
    if dtype_name not in DTYPES:
        raise _fail(path, f"its dtype {dtype_name!r} is not float64 or float32")
    count = sum(n * (p + 1) for p, n in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise _fail(path, f"it claims {count:,} parameters")
    state_names = metadata.get("state_arrays", [])
    if not isinstance(state_names, list) or len(state_names) > MAX_STATE_ARRAYS:
        raise _fail(path, f"its state_arrays {state_names!r} are not a list of up to {MAX_STATE_ARRAYS} names")
    for name in state_names:
        problem = _state_name_problem(name, m)
        if problem:
            raise _fail(path, f"its state_arrays are wrong: {problem}")
    if len(set(state_names)) != len(state_names):
        raise _fail(path, "its state_arrays name an array twice")
    expected = set(array_names(m)) | set(state_names)
    if set(members) != expected:
        extra = sorted(set(members) - expected)
        absent = sorted(expected - set(members))
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(absent)}" if absent else "",
                f"unexpected {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise _fail(path, f"its arrays do not match {m} layers ({detail})")

    want = DTYPES[dtype_name]
    network = Network(sizes, activations, cost, want)
    for l in range(1, m + 1):
        for name, target in ((f"W{l}", network.W[l]), (f"beta{l}", network.beta[l][:, 0])):
            _read_array(path, archive, members[name], name, target, sizes)
    if not np.isfinite(network.theta).all():
        raise _fail(path, "its weights hold NaN or infinite values")
    state: dict[str, np.ndarray] = {}
    for name in state_names:
        state[name] = np.empty(count, want)
        _read_array(path, archive, members[name], name, state[name], sizes)
        if not np.isfinite(state[name]).all():
            raise _fail(path, f"its state array {name} holds NaN or infinite values")
    try:
        preprocessing = Preprocessing.from_dict(metadata["preprocessing"])
    except (KeyError, TypeError, ValueError) as error:
        raise _fail(path, f"its preprocessing record is invalid ({error})") from None
    if len(preprocessing.input_names) != sizes[0] or len(preprocessing.output_names) != sizes[-1]:
        raise _fail(path, "its preprocessing does not fit its layer sizes")
    return Model(path, network, preprocessing, metadata, state)


def _read_array(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    target: np.ndarray,
    sizes: list[int],
) -> None:
    """Fill `target` from member `name`, after checking its size, dtype and shape."""
    want = target.dtype
    limit = target.size * want.itemsize + 4096
    if info.file_size > limit:
        raise _fail(path, f"array {name} is {info.file_size:,} bytes, more than its shape needs")
    dtype, shape, fortran, handle = _read_member(path, archive, name)
    with handle:
        if dtype.hasobject:
            raise _fail(path, f"array {name} holds Python objects", "object arrays are never unpickled")
        if dtype != want or fortran or tuple(shape) != target.shape:
            raise _fail(
                path,
                f"array {name} is {dtype} {tuple(shape)}{' Fortran-ordered' if fortran else ''}, "
                f"expected {want} {target.shape} from the layer sizes {sizes}",
            )
        raw = handle.read(target.nbytes)
    if len(raw) != target.nbytes:
        raise _fail(path, f"array {name} is truncated")
    target[...] = np.frombuffer(raw, dtype=want).reshape(target.shape)


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN or infinity: store such values as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
