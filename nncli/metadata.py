"""The ``metadata`` record of a model file, as a strict pydantic model.

A model file's metadata is JSON written by `modelfile.save_model`; a model file may come
from a stranger, so `check_metadata` accepts exactly the keys nncli writes, each with its
type, and nothing else (unknown keys are refused). The order of the checks matters:

1. the format name, then the format version: a file from a newer nncli is refused with
   "upgrade nncli" before its keys are looked at (a newer format may have new keys);
2. the record itself (`ModelMetadata`): the architecture (layer sizes n0 … nm, one
   activation per layer L1 … Lm, the cost, the dtype) and the names of the state arrays are
   required; everything else is informative and optional, so that a file written by an
   earlier nncli of the same format version (before the optimizer state and the resume
   record existed) still loads. The preprocessing record is a JSON object here; its fields
   are checked by `data.Preprocessing.from_dict`, which owns that format.

`save_model` runs the same check on what it writes, so nncli never writes a file that it
would then refuse to read.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nncli.activations import ACTIVATION_NAMES
from nncli.costs import COST_NAMES

FORMAT_NAME = "nncli-model"
FORMAT_VERSION = 1
MAX_LAYER_SIZE = 10**7  # n_l of any layer
MAX_PARAMETERS = 2**31  # Σ_l n_l (n_(l-1) + 1), the length of θ
MAX_STATE_ARRAYS = 16
STATE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
DTYPE_NAMES = ("float64", "float32")

Count = Annotated[int, Field(ge=0)]
Size = Annotated[int, Field(ge=1, le=MAX_LAYER_SIZE)]
Series = list[Union[float, None]]  # one value per iteration; null where it was not finite


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class HistoryRecord(_Record):
    """metadata.training.history: the per-iteration series of `training.History`."""

    cost: Series = []
    gradient_norm: Series = []
    validation_cost: Series = []
    validation_accuracy: Series = []
    learning_rate: Series = []
    seconds: Series = []
    iteration: Series = []  # present when a long run's series were thinned


class ParametersRecord(_Record):
    """metadata.training.parameters: which parameters the file holds (best or last)."""

    which: Literal["best", "last"]
    iteration: Count
    reason: str


class ResumeRecord(_Record):
    """metadata.training.resume: the counters and positions `--resume` continues from
    (`checkpoint.resume_record`; `checkpoint.checkpoint_from_model` checks their meaning)."""

    iteration: Count
    optimizer: str
    optimizer_steps: Count
    shuffle_state: Union[dict[str, Any], None] = None
    monitor: str
    best: Union[float, None] = None
    best_iteration: Union[Count, None] = None
    calm: Count
    seconds: float


class TrainingRecord(_Record):
    """metadata.training: the settings and the outcome of the run (`run.model_metadata`)."""

    seed: Union[Count, None] = None
    init: Union[str, None] = None
    learning_rate: Union[float, None] = None
    optimizer: Union[str, None] = None
    batch_size: Union[Annotated[int, Field(ge=1)], Literal["full"], None] = None
    l2: Union[float, None] = None
    gradient_clip: Union[float, None] = None
    monitor: Union[str, None] = None
    observations: Union[Count, None] = None
    validation_observations: Union[Count, None] = None
    stop_criterion: Union[str, None] = None
    stop_message: Union[str, None] = None
    iterations: Union[Count, None] = None
    final_cost: Union[float, None] = None
    final_validation_cost: Union[float, None] = None
    final_validation_accuracy: Union[float, None] = None
    seconds: Union[float, None] = None
    parameters: Union[ParametersRecord, None] = None
    history: Union[HistoryRecord, None] = None
    resume: Union[ResumeRecord, None] = None


class ModelMetadata(_Record):
    """The whole record. The first seven keys describe the arrays and are required."""

    format: Literal["nncli-model"]
    format_version: Annotated[int, Field(ge=1, le=FORMAT_VERSION)]
    layer_sizes: Annotated[list[Size], Field(min_length=2)]
    activations: list[Literal[tuple(ACTIVATION_NAMES)]]  # type: ignore[valid-type]
    cost: Literal[tuple(COST_NAMES)]  # type: ignore[valid-type]
    dtype: Literal[DTYPE_NAMES]  # type: ignore[valid-type]
    preprocessing: dict[str, Any]
    state_arrays: Annotated[list[str], Field(max_length=MAX_STATE_ARRAYS)] = []
    nncli_version: Union[str, None] = None
    name: Union[str, None] = None
    features: Union[list[str], None] = None
    targets: Union[list[str], None] = None
    inputs: Union[list[str], None] = None
    outputs: Union[list[str], None] = None
    training: Union[TrainingRecord, None] = None
    config: Union[dict[str, Any], None] = None  # the resolved config of the run, as a record
    python: Union[str, None] = None
    numpy: Union[str, None] = None

    @property
    def m(self) -> int:
        return len(self.layer_sizes) - 1

    @property
    def parameter_count(self) -> int:
        """Σ_l n_l (n_(l-1) + 1): the length of θ."""
        sizes = self.layer_sizes
        return sum(n * (p + 1) for p, n in zip(sizes, sizes[1:]))


class MetadataProblem(ValueError):
    """What is wrong with a metadata record, in one line (`modelfile` adds the file);
    `upgrade` is set when the file is from a newer nncli."""

    def __init__(self, problem: str, upgrade: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.upgrade = upgrade


def parameter_array_names(m: int) -> list[str]:
    """W1 … Wm, beta1 … betam: the parameter arrays of a network with m layers."""
    return [f"W{l}" for l in range(1, m + 1)] + [f"beta{l}" for l in range(1, m + 1)]


def state_name_problem(name: Any, m: int) -> str | None:
    """Why `name` cannot name a state array of an m-layer model file (None: it can)."""
    if not isinstance(name, str) or not STATE_NAME.fullmatch(name):
        return f"{_short(name)} is not a state array name (lowercase letters, digits, _)"
    if name in parameter_array_names(m) or name == "metadata":
        return f"{name!r} is the name of a parameter array"
    return None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(loc: tuple[Any, ...]) -> str:
    """('training', 'history', 'cost', 3) -> 'training.history.cost[3]' (pydantic's names of
    union branches, such as 'constrained-int' or "literal['full']", are left out)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _KEY.fullmatch(str(part)) and part not in _BRANCHES:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_BRANCHES = {"float", "int", "str", "none", "bool"}


_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "bool_type": "true or false",
    "none_required": "null",
    "finite_number": "a finite number",
}


def _describe(error: dict[str, Any]) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    where = _where(tuple(error["loc"]))
    if kind == "extra_forbidden":
        return f"unknown key {where!r} (this nncli does not write it)"
    if kind == "missing":
        return f"{where} is missing"
    if kind == "literal_error":
        return f"{where} {_short(value)} is unknown (expected {ctx.get('expected', '?')})"
    if kind in _EXPECTED:
        return f"{where} is {_short(value)}, expected {_EXPECTED[kind]}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = f"at least {ctx['ge']}" if "ge" in ctx else f"at most {ctx['le']}"
        return f"{where} is {_short(value)}, expected {bound}"
    if kind in ("too_short", "too_long"):
        return f"{where} has the wrong length ({error['msg'].lower()})"
    return f"{where} is {_short(value)}: {error['msg']}"


def check_metadata(data: Any) -> ModelMetadata:
    """Validate a parsed metadata record. Raises MetadataProblem with one line."""
    if not isinstance(data, dict):
        raise MetadataProblem("its metadata is not a JSON object")
    if data.get("format") != FORMAT_NAME:
        raise MetadataProblem(f"its metadata format is {_short(data.get('format'))}, not {FORMAT_NAME!r}")
    version = data.get("format_version")
    if version is None:
        raise MetadataProblem("its format_version is missing")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MetadataProblem(f"its format_version {_short(version)} is not a format version")
    if version > FORMAT_VERSION:
        raise MetadataProblem(f"model format {version}", upgrade=True)
    try:
        record = ModelMetadata.model_validate(data)
    except ValidationError as error:
        problems = [_describe(item) for item in error.errors()]
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        raise MetadataProblem(f"its metadata is wrong: {problems[0]}{more}") from None
    m = record.m
    if len(record.activations) != m:
        raise MetadataProblem(f"its activations {_short(record.activations)} do not fit {m} layers")
    if record.parameter_count > MAX_PARAMETERS:
        raise MetadataProblem(f"it claims {record.parameter_count:,} parameters (limit {MAX_PARAMETERS:,})")
    for name in record.state_arrays:
        problem = state_name_problem(name, m)
        if problem:
            raise MetadataProblem(f"its state_arrays are wrong: {problem}")
    if len(set(record.state_arrays)) != len(record.state_arrays):
        raise MetadataProblem("its state_arrays name an array twice")
    return record
