"""The model file: a ``.npz`` with arrays W1 … Wm, beta1 … betam and one ``metadata`` array,
plus the training state arrays that ``metadata["state_arrays"]`` lists (for ``--resume``:
optimizer state such as adam's m and v, each a vector laid out like θ).

``metadata`` is a JSON string (a 0-d unicode array, so no pickle is ever involved) with the
format name and version, the nncli version, layer sizes, activations, cost, feature and
target names, the preprocessing, and the training summary with the cost history
(`nncli.metadata` is its schema). β_l is stored as a vector of n_l values. Saving is atomic
(`fileio.atomic_write`) and checks the metadata it writes against the same schema. A model
file may come from a stranger: loading never unpickles, never allocates more than the file
can justify, and checks everything before any array is used:

1. the zip directory alone: member names (no paths, no duplicates, nothing but ``.npy``
   members), their count, the compression method and ratio (zip bombs), and that each
   member's compressed size fits in the file;
2. metadata: size-capped strict JSON (no NaN/Infinity, no duplicate keys), format name and
   version (a newer one: "upgrade nncli"), then the schema (unknown keys refused), which
   gives the layer sizes n0 … nm;
3. the zip directory against the layer sizes: exactly the members W1…Wm, beta1…betam,
   metadata and the listed state arrays, each declared size that of its array's shape
   (plus a .npy header), and their total;
4. each array's header before its data: dtype, C order, the shape the metadata implies (a
   state array: one value per parameter), so a header that claims a huge shape is refused
   before anything is allocated;
5. the weights and the state are finite; the preprocessing record fits the layer sizes.
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
from typing import Any, BinaryIO

import numpy as np

from nncli import __version__
from nncli.data import Preprocessing
from nncli.errors import ModelFileError
from nncli.fileio import atomic_write
from nncli.metadata import (
    DTYPE_NAMES,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_STATE_ARRAYS,
    MetadataProblem,
    ModelMetadata,
    check_metadata,
    state_name_problem,
)
from nncli.network import Network

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "Model", "load_model", "save_model", "finite_or_none"]

# The metadata is a 0-d unicode array: 4 bytes per character. A run's history takes about
# 300 bytes per iteration, so this holds some 850 000 iterations.
MAX_METADATA_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_NPY_HEADER = 4096  # bytes a .npy header may take besides the data (numpy writes 64 or 128)
DTYPES = {name: np.dtype(name).newbyteorder("<") for name in DTYPE_NAMES}
MEMBER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\.npy")
MAX_MEMBERS = 2 * 1000 + 1 + MAX_STATE_ARRAYS  # a sanity bound before the metadata is read

# What reading a damaged or foreign archive can raise besides zipfile.BadZipFile (found by
# truncating and flipping bytes of real model files, tests/test_hostile_models.py).
_CORRUPT = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    SyntaxError,  # a mangled .npy header (numpy parses it as a Python literal)
    tokenize.TokenError,
    NotImplementedError,  # an unsupported compression method or zip feature
    RuntimeError,  # an encrypted member
    zlib.error,
    struct.error,
    OverflowError,
    RecursionError,
    MemoryError,
    zipfile.LargeZipFile,
)


def save_model(
    path: Path,
    network: Network,
    metadata: dict[str, Any],
    state: dict[str, np.ndarray] | None = None,
) -> None:
    """Write the model atomically. Refuses non-finite parameters (never a file of NaN).

    `state` holds extra arrays of one value per parameter (laid out like θ), saved under
    their names and listed in the metadata as ``state_arrays``. The metadata must pass the
    same checks as when loading (ValueError if not: that is a bug in the caller).
    """
    state = state or {}
    if not np.isfinite(network.theta).all():
        raise ModelFileError(
            f"{path}: not saved: the parameters hold NaN or infinite values."
        )
    for name, array in state.items():
        problem = state_name_problem(name, network.m)
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
    record = {**metadata, **header, "state_arrays": sorted(state)}
    try:
        check_metadata(record)
    except MetadataProblem as problem:
        raise ValueError(f"model metadata nncli would refuse to load: {problem}") from None
    text = json.dumps(record, allow_nan=False, ensure_ascii=False)
    if 4 * len(text) > MAX_METADATA_BYTES - 4096:
        raise ModelFileError(
            f"{path}: not saved: its metadata would take {4 * len(text):,} bytes, more than "
            f"the {MAX_METADATA_BYTES:,} bytes nncli reads.",
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
    metadata: dict[str, Any]  # the record as stored (checked by `nncli.metadata`)
    state: dict[str, np.ndarray] = field(default_factory=dict)  # the listed state arrays

    @property
    def training(self) -> dict[str, Any]:
        record = self.metadata.get("training")
        return record if isinstance(record, dict) else {}


def _fail(path: Path, problem: str, hint: str | None = None) -> ModelFileError:
    problem = " ".join(problem.split())  # one line, whatever an exception message held
    return ModelFileError(f"{path}: not a usable nncli model: {problem}.", hint=hint)


def _strict_json(path: Path, text: str) -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not allowed in model metadata")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key[:60]!r}")
            result[key] = value
        return result

    try:
        return json.loads(text, parse_constant=no_constants, object_pairs_hook=no_duplicates)
    except RecursionError:
        raise _fail(path, "its metadata is nested too deeply") from None
    except ValueError as error:
        raise _fail(path, f"its metadata is not valid JSON ({error})") from None


def load_model(path: Path) -> Model:
    """Load and check a model file. Raises ModelFileError with one clear line on any problem."""
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found.", hint="check the path.")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, expected a .npz model file.")
    if not path.is_file():
        raise ModelFileError(f"{path}: is not a regular file, expected a .npz model file.")
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the model file: {error.strerror}.") from None
    try:
        with handle, zipfile.ZipFile(handle) as archive:
            return _load(path, archive, path.stat().st_size)
    except ModelFileError:
        raise
    except zipfile.BadZipFile:
        raise _fail(path, "it is not a .npz (zip) file, or it is truncated") from None
    except _CORRUPT as error:
        raise _fail(path, f"it is corrupt ({type(error).__name__}: {error})") from None


def _check_zip(path: Path, archive: zipfile.ZipFile, file_size: int) -> dict[str, zipfile.ZipInfo]:
    """Step 1: what the zip directory alone says, before any member is read."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _fail(path, f"it has {len(infos):,} members")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if not MEMBER_NAME.fullmatch(name):
            raise _fail(path, f"unexpected member {name[:80]!r} in the archive")
        if name[:-4] in members:
            raise _fail(path, f"member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise _fail(path, f"member {name!r} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise _fail(path, f"member {name!r} is stored with two different sizes")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise _fail(path, f"member {name!r} is compressed {ratio:,}:1 (a zip bomb?)")
        else:
            raise _fail(path, f"member {name!r} uses compression method {info.compress_type}, not stored or deflate")
        if info.header_offset + info.compress_size > file_size:
            raise _fail(path, f"member {name!r} claims more bytes than the file has (truncated?)")
        members[name[:-4]] = info
    if "metadata" not in members:
        raise _fail(path, "it has no metadata array", "is this a plain NumPy .npz file?")
    return members


def _read_header(path: Path, archive: zipfile.ZipFile, name: str) -> tuple[np.dtype, tuple[int, ...], bool, BinaryIO]:
    """(dtype, shape, fortran_order, handle positioned at the data) from the .npy header."""
    handle = archive.open(f"{name}.npy")
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise _fail(path, f"array {name} has an unknown .npy version {version}")
    except BaseException:
        handle.close()
        raise
    return dtype, tuple(shape), fortran, handle


def _read_metadata(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo
) -> tuple[dict[str, Any], ModelMetadata]:
    """Step 2: the metadata text, parsed and checked against `nncli.metadata`: the record
    as stored, and as validated."""
    if info.file_size > MAX_METADATA_BYTES:
        raise _fail(path, f"its metadata is {info.file_size:,} bytes (limit {MAX_METADATA_BYTES:,})")
    dtype, shape, _, handle = _read_header(path, archive, "metadata")
    with handle:
        if dtype.hasobject or dtype.kind != "U" or shape != ():
            raise _fail(path, "its metadata is not a text array", "object arrays are never unpickled")
        if dtype.itemsize > info.file_size:
            raise _fail(path, f"its metadata header claims {dtype.itemsize:,} bytes, the member has {info.file_size:,}")
        raw = handle.read(dtype.itemsize)
    if len(raw) != dtype.itemsize:
        raise _fail(path, "its metadata is truncated")
    try:
        text = str(np.frombuffer(raw, dtype=dtype, count=1)[0])
    except (ValueError, UnicodeDecodeError):
        raise _fail(path, "its metadata is not text") from None
    del raw  # a long history makes these large: keep one copy at a time
    data = _strict_json(path, text)
    del text
    try:
        record = check_metadata(data)
    except MetadataProblem as problem:
        if problem.upgrade:
            found = data.get("nncli_version") if isinstance(data.get("nncli_version"), str) else "?"
            raise ModelFileError(
                f"{path}: written by nncli {found[:40]} in model format "
                f"{data['format_version']}; this nncli ({__version__}) reads format {FORMAT_VERSION}.",
                hint="upgrade nncli: pip install --upgrade nncli.",
            ) from None
        raise _fail(path, problem.problem) from None
    return data, record


def _check_members(
    path: Path, members: dict[str, zipfile.ZipInfo], record: ModelMetadata, dtype: np.dtype
) -> dict[str, tuple[int, ...]]:
    """Step 3: the members against the layer sizes. Returns each array's expected shape."""
    sizes, m = record.layer_sizes, record.m
    count = record.parameter_count  # at most MAX_PARAMETERS (check_metadata)
    shapes: dict[str, tuple[int, ...]] = {}
    for l in range(1, m + 1):
        shapes[f"W{l}"] = (sizes[l], sizes[l - 1])
        shapes[f"beta{l}"] = (sizes[l],)
    for name in record.state_arrays:
        shapes[name] = (count,)
    expected = set(shapes) | {"metadata"}
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
    total = 0
    for name, shape in shapes.items():
        declared = members[name].file_size
        needed = math.prod(shape) * dtype.itemsize
        limit = needed + MAX_NPY_HEADER
        if declared < needed:
            # Before anything is allocated: a file must hold (stored) or be able to
            # decompress to (deflate, ratio capped) the values it claims.
            raise _fail(
                path,
                f"array {name} is {declared:,} bytes, too few for the {shape} {dtype.name} "
                f"values of the layer sizes {sizes}",
            )
        if declared > limit:
            raise _fail(
                path,
                f"array {name} is {declared:,} bytes, more than the {shape} {dtype.name} values "
                f"of the layer sizes {sizes} need",
            )
        total += declared
    if total > sum(math.prod(shape) for shape in shapes.values()) * dtype.itemsize + MAX_NPY_HEADER * len(shapes):
        raise _fail(path, f"its arrays take {total:,} bytes, more than the layer sizes {sizes} need")
    return shapes


def _load(path: Path, archive: zipfile.ZipFile, file_size: int) -> Model:
    members = _check_zip(path, archive, file_size)
    metadata, record = _read_metadata(path, archive, members["metadata"])
    want = DTYPES[record.dtype]
    shapes = _check_members(path, members, record, want)
    sizes = record.layer_sizes
    network = Network(sizes, record.activations, record.cost, want)
    for l in range(1, record.m + 1):
        for name, target in ((f"W{l}", network.W[l]), (f"beta{l}", network.beta[l][:, 0])):
            _read_array(path, archive, name, target, sizes)
    if not np.isfinite(network.theta).all():
        raise _fail(path, "its weights hold NaN or infinite values")
    state: dict[str, np.ndarray] = {}
    for name in record.state_arrays:
        state[name] = np.empty(shapes[name], want)
        _read_array(path, archive, name, state[name], sizes)
        if not np.isfinite(state[name]).all():
            raise _fail(path, f"its state array {name} holds NaN or infinite values")
    try:
        preprocessing = Preprocessing.from_dict(record.preprocessing)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _fail(path, f"its preprocessing record is invalid ({error})") from None
    if len(preprocessing.input_names) != sizes[0] or len(preprocessing.output_names) != sizes[-1]:
        raise _fail(path, "its preprocessing does not fit its layer sizes")
    for key, names in (
        ("features", preprocessing.feature_names),
        ("targets", preprocessing.target_names),
        ("inputs", preprocessing.input_names),
        ("outputs", preprocessing.output_names),
    ):
        listed = getattr(record, key)
        if listed is not None and listed != names:
            raise _fail(path, f"its {key} do not match its preprocessing record")
    return Model(path, network, preprocessing, metadata, state)


def _read_array(
    path: Path, archive: zipfile.ZipFile, name: str, target: np.ndarray, sizes: list[int]
) -> None:
    """Step 4: fill `target` from member `name`, after checking its dtype and shape."""
    want = target.dtype
    dtype, shape, fortran, handle = _read_header(path, archive, name)
    with handle:
        if dtype.hasobject:
            raise _fail(path, f"array {name} holds Python objects", "object arrays are never unpickled")
        if dtype != want or fortran or shape != target.shape:
            raise _fail(
                path,
                f"array {name} is {dtype} {shape}{' Fortran-ordered' if fortran else ''}, "
                f"expected {want} {target.shape} from the layer sizes {sizes}",
            )
        raw = handle.read(target.nbytes)
        if len(raw) != target.nbytes:
            raise _fail(path, f"array {name} is truncated")
        if handle.read(1):
            raise _fail(path, f"array {name} has bytes after its data")
    target[...] = np.frombuffer(raw, dtype=want).reshape(target.shape)


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN or infinity: store such values as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
