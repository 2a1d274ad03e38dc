"""The YAML network spec, validated by pydantic: one strict model, loaded once.

`load_config(path, overrides)` reads the file safely (see `yamlsource`), applies
``--set key=value`` overrides, validates, and returns a `Config`. Every problem becomes a
`ConfigError` naming the file, the line and column, the dotted key, what was expected and
what was found, with a did-you-mean hint for misspelled keys and names.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from nncli.activations import ACTIVATION_NAMES
from nncli.costs import COSTS
from nncli.initializers import INIT_NAMES
from nncli.errors import ConfigError
from nncli.yamlsource import ConfigLoader, Key, SourceMap, dotted, load_yaml

ActivationName = Literal[
    "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax"
]
CostName = Literal["mse", "binary_cross_entropy", "categorical_cross_entropy"]
InitName = Literal["xavier", "he", "normal", "uniform", "zeros"]

assert set(ActivationName.__args__) == set(ACTIVATION_NAMES)  # type: ignore[attr-defined]
assert set(CostName.__args__) == set(COSTS)  # type: ignore[attr-defined]
assert set(InitName.__args__) == set(INIT_NAMES)  # type: ignore[attr-defined]

PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeFloat = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class CrossFieldError(Exception):
    """Raised by the validators below with the key path it concerns (pydantic lets it pass)."""

    def __init__(self, key: Key, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.hint = hint


class ValidationSpec(_Strict):
    """Held-out data: a seeded fraction of the training file, or a file of its own."""

    fraction: Annotated[float, Field(gt=0, lt=1)] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "ValidationSpec":
        if (self.fraction is None) == (self.file is None):
            raise ValueError("give exactly one of fraction (e.g. 0.2) or file")
        return self


class DataSpec(_Strict):
    train: str = Field(description="CSV file with the training data, relative to the config file.")
    features: list[str] | None = Field(
        default=None, min_length=1, description="Feature columns; default: every non-target column."
    )
    targets: list[str] = Field(min_length=1, description="Target column(s).")
    validation: ValidationSpec | None = Field(default=None, description="Validation data.")
    scaling: Literal["standard", "minmax", "none"] = Field(
        default="standard", description="Scaling of numeric features, fitted on the training part."
    )
    target_scaling: Literal["standard", "minmax", "none"] = Field(
        default="none", description="Scaling of regression targets (undone on predict)."
    )
    missing: Literal["error", "drop", "mean", "most_frequent"] = Field(
        default="error", description="What to do with missing cells."
    )
    delimiter: str | None = Field(
        default=None, min_length=1, max_length=1, description="CSV delimiter; default: detect , ; tab."
    )


class LayerSpec(_Strict):
    neurons: PositiveInt = Field(description="n_l, the number of neurons of this layer.")
    activation: ActivationName = Field(default="identity", description="f_l.")
    weights: list[list[float]] | None = Field(
        default=None, description="Explicit initial W_l (n_l rows of n_(l-1) numbers)."
    )
    biases: list[float] | None = Field(
        default=None, description="Explicit initial β_l (n_l numbers)."
    )


class NetworkSpec(_Strict):
    init: InitName = Field(default="xavier", description="Initial weights where none are given.")
    layers: list[LayerSpec] = Field(min_length=1, description="L1 … Lm; n0 comes from the data.")


UnitInterval = Annotated[float, Field(ge=0, lt=1)]
OPTIMIZER_KEYS = {"momentum": ("momentum",), "adam": ("beta1", "beta2", "epsilon")}


class TrainingSpec(_Strict):
    learning_rate: Annotated[float, Field(gt=0)] = Field(description="Gradient-descent step factor.")
    dtype: Literal["float64", "float32"] = Field(default="float64", description="Float precision.")
    batch_size: Literal["full"] | PositiveInt = Field(
        default="full",
        description="full: all k observations per update; an integer b: mini-batches of b "
        "columns, reshuffled each pass (b ≥ k is full batch).",
    )
    optimizer: Literal["gd", "momentum", "adam"] = Field(
        default="gd", description="gd: θ ← θ − η g; momentum; adam."
    )
    momentum: UnitInterval = Field(default=0.9, description="μ of optimizer momentum: v ← μ v + g.")
    beta1: UnitInterval = Field(default=0.9, description="β1 of adam (first-moment decay).")
    beta2: UnitInterval = Field(default=0.999, description="β2 of adam (second-moment decay).")
    epsilon: Annotated[float, Field(gt=0)] = Field(default=1e-8, description="ε of adam.")
    l2: NonNegativeFloat = Field(
        default=0.0, description="Weight decay λ on W (not β): the cost gains λ/2 Σ‖W_l‖²."
    )
    gradient_clip: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Clip the global L2 norm of ∂cost/∂θ to this value."
    )
    log_every: PositiveInt = Field(default=10, description="A progress row every N iterations.")

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size(cls, value: Any) -> Any:
        if value == "full" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError(f"expected full or a whole number of at least 1, found {_describe(value)}")

    def ignored_keys(self) -> list[str]:
        """Keys given in the config that the chosen optimizer does not use."""
        used = OPTIMIZER_KEYS.get(self.optimizer, ())
        return [
            key
            for keys in OPTIMIZER_KEYS.values()
            for key in keys
            if key in self.model_fields_set and key not in used
        ]


class StoppingSpec(_Strict):
    max_iterations: PositiveInt | None = Field(default=1000, description="Criterion c).")
    gradient_tolerance: NonNegativeFloat | None = Field(
        default=1e-6, description="Criterion a): stop when ‖∂cost/∂θ‖₂ falls below this."
    )
    loss_change_tolerance: NonNegativeFloat | None = Field(
        default=1e-10,
        description="Criterion b): stop when |Δcost| stays below this (monitor: training_cost) "
        "or the validation cost improves on its best by no more than this (validation_cost) … "
        "(null: off)",
    )
    patience: PositiveInt = Field(default=1, description="… for this many iterations in a row.")
    monitor: Literal["training_cost", "validation_cost"] | None = Field(
        default=None,
        description="The cost criterion b) and restore_best watch; default: validation_cost "
        "with validation data, else training_cost.",
    )
    restore_best: bool = Field(
        default=False,
        description="Save the parameters of the best monitored iteration (when training ends "
        "by a stopping criterion).",
    )


class OutputSpec(_Strict):
    model: str | None = Field(
        default=None, description="Where the model is saved; default model.npz in the current folder."
    )


class Config(_Strict):
    name: str | None = Field(default=None, description="Run name; default: the config file's stem.")
    seed: Annotated[int, Field(ge=0)] = Field(default=0, description="Drives init, shuffling, splits.")
    data: DataSpec
    network: NetworkSpec
    cost: CostName = Field(default="mse", description="The cost minimized.")
    training: TrainingSpec
    stopping: StoppingSpec = Field(default_factory=StoppingSpec)
    output: OutputSpec = Field(default_factory=OutputSpec)

    _source: SourceMap | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_field(self) -> "Config":
        layers = self.network.layers
        m = len(layers)
        for index, layer in enumerate(layers):
            key = ("network", "layers", index)
            if layer.activation == "softmax" and index < m - 1:
                raise CrossFieldError(
                    key + ("activation",),
                    f"softmax is for the output layer only, found on hidden layer L{index + 1} "
                    f"of L1 … L{m}",
                    "use relu, tanh or sigmoid on hidden layers.",
                )
            if layer.weights is not None:
                if len(layer.weights) != layer.neurons:
                    raise CrossFieldError(
                        key + ("weights",),
                        f"W{index + 1} must have n{index + 1} = {layer.neurons} rows (one per "
                        f"neuron), found {len(layer.weights)}",
                    )
                widths = {len(row) for row in layer.weights}
                if len(widths) != 1:
                    raise CrossFieldError(
                        key + ("weights",),
                        f"every row of W{index + 1} must have the same length, found lengths "
                        f"{sorted(widths)}",
                    )
                if index > 0 and widths != {layers[index - 1].neurons}:
                    raise CrossFieldError(
                        key + ("weights",),
                        f"W{index + 1} must be n{index + 1} × n{index} = {layer.neurons} × "
                        f"{layers[index - 1].neurons}, found rows of {widths.pop()} numbers",
                    )
            if layer.biases is not None and len(layer.biases) != layer.neurons:
                raise CrossFieldError(
                    key + ("biases",),
                    f"β{index + 1} must have n{index + 1} = {layer.neurons} values, found "
                    f"{len(layer.biases)}",
                )
        output = layers[-1].activation
        wanted = {"categorical_cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
        if self.cost in wanted and output != wanted[self.cost]:
            raise CrossFieldError(
                ("network", "layers", m - 1, "activation"),
                f"cost {self.cost} needs a {wanted[self.cost]} output layer, found {output}",
                f"set the last layer's activation to {wanted[self.cost]}, or use cost: mse.",
            )
        if self.cost == "mse" and output == "softmax" and layers[-1].neurons == 1:
            raise CrossFieldError(
                ("network", "layers", m - 1, "activation"),
                "softmax over a single neuron always outputs 1",
                "use identity for regression, or sigmoid with binary_cross_entropy.",
            )
        stop = self.stopping
        if stop.monitor == "validation_cost" and self.data.validation is None:
            raise CrossFieldError(
                ("stopping", "monitor"),
                "validation_cost needs validation data, and data.validation is not set",
                "add data.validation (e.g. fraction: 0.2), or use monitor: training_cost.",
            )
        if not (
            stop.max_iterations
            or (stop.gradient_tolerance or 0) > 0
            or (stop.loss_change_tolerance or 0) > 0
        ):
            raise CrossFieldError(
                ("stopping",),
                "no stopping criterion can end the run (max_iterations is null and both "
                "tolerances are 0 or null)",
                "set stopping.max_iterations, e.g. 1000.",
            )
        return self

    # -- paths and provenance -------------------------------------------------------------

    @property
    def source(self) -> SourceMap:
        assert self._source is not None
        return self._source

    @property
    def base_dir(self) -> Path:
        return self.source.path.parent

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else Path(os.path.normpath(self.base_dir / path))

    @property
    def monitor(self) -> str:
        """stopping.monitor, or its default: validation_cost with validation data."""
        if self.stopping.monitor is not None:
            return self.stopping.monitor
        return "training_cost" if self.data.validation is None else "validation_cost"

    @property
    def run_name(self) -> str:
        return self.name or self.source.path.stem

    def model_path(self, override: Path | None = None) -> Path:
        if override is not None:
            return override
        if self.output.model is not None:
            return self.resolve(self.output.model)
        return Path("model.npz")

    def error(self, key: Key, message: str, hint: str | None = None) -> ConfigError:
        """A ConfigError located at `key` of this config (for checks made against the data)."""
        return ConfigError(f"{self.source.where(key)}: {dotted(key)}: {message}.", hint=hint)


# -- --set overrides ---------------------------------------------------------------------


def _parse_key(text: str) -> Key:
    """'network.layers[0].neurons' or 'network.layers.0.neurons' -> key path."""
    parts: list[Any] = []
    for piece in text.replace("[", ".").replace("]", "").split("."):
        if piece == "":
            raise ValueError
        parts.append(int(piece) if piece.isdigit() else piece)
    return tuple(parts)


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def apply_override(data: dict[str, Any], source: SourceMap, assignment: str) -> None:
    """Apply one ``--set KEY=VALUE``; VALUE is read as YAML (numbers, lists, null …)."""
    if "=" not in assignment:
        raise ConfigError(
            f"--set {assignment}: expected KEY=VALUE, e.g. --set training.learning_rate=0.01."
        )
    text_key, text_value = assignment.split("=", 1)
    try:
        key = _parse_key(text_key.strip())
    except ValueError:
        raise ConfigError(
            f"--set {assignment}: {text_key!r} is not a dotted key such as "
            "training.learning_rate or network.layers[0].neurons."
        ) from None
    try:
        value = yaml.load(text_value, Loader=ConfigLoader)
    except yaml.YAMLError as error:
        problem = error.problem if isinstance(error, yaml.MarkedYAMLError) and error.problem else str(error)
        problem = " ".join(problem.split())
        raise ConfigError(f"--set {_short(assignment)}: the value is not valid YAML: {problem}.") from None
    except RecursionError:
        raise ConfigError(f"--set {_short(assignment)}: the value is nested too deeply to be a config value.") from None
    node: Any = data
    for depth, part in enumerate(key[:-1]):
        where = dotted(key[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                size = len(node) if isinstance(node, list) else 0
                raise ConfigError(
                    f"--set {assignment}: {where} does not exist (the list has {size} items)."
                )
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise ConfigError(f"--set {assignment}: {dotted(key[:depth])} is not a mapping.")
            node = node.setdefault(part, {})
    last = key[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ConfigError(f"--set {assignment}: {dotted(key)} does not exist.")
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise ConfigError(f"--set {assignment}: {dotted(key[:-1])} is not a mapping.")
        node[last] = value
    source.overrides[key] = assignment


# -- loading and error messages ----------------------------------------------------------


def _allowed_keys(model: type[BaseModel], loc: Key) -> list[str]:
    """The field names allowed at `loc` (for did-you-mean on an unknown key)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_of(field.annotation)
    return list(current.model_fields) if current is not None else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "null (nothing)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _message(error: Any) -> tuple[Key, str, str | None]:
    """(key path, 'expected …, found …', hint) for one pydantic error."""
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    hint = None
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _allowed_keys(Config, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else None
        known = ", ".join(allowed)
        return loc, f"unknown key {name!r} (allowed here: {known})", hint
    if kind == "missing":
        return loc, "required key is missing", None
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = [part.strip(" '") for part in expected.replace(" or ", ",").split(",")]
        if isinstance(value, str):
            close = difflib.get_close_matches(value, options, n=1)
            hint = f"did you mean {close[0]!r}?" if close else None
        return loc, f"expected one of {', '.join(options)}; found {_describe(value)}", hint
    expectations = {
        "float_type": "a number",
        "float_parsing": "a number",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "string_type": "text",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
        "bool_type": "true or false",
        "finite_number": "a finite number",
    }
    if kind in expectations:
        return loc, f"expected {expectations[kind]}, found {_describe(value)}", None
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {
            "greater_than": f"a number above {ctx.get('gt')}",
            "greater_than_equal": f"a number of at least {ctx.get('ge')}",
            "less_than": f"a number below {ctx.get('lt')}",
            "less_than_equal": f"a number of at most {ctx.get('le')}",
        }[kind]
        return loc, f"expected {bound}, found {_describe(value)}", None
    if kind in ("too_short", "too_long"):
        return loc, f"{error['msg'].lower()}", None
    if kind == "value_error":
        return loc, str(ctx.get("error", error["msg"])), None
    return loc, f"{error['msg']}; found {_describe(value)}", None


def validate_config(data: dict[str, Any], source: SourceMap) -> Config:
    """Validate plain data as a Config; errors become one ConfigError listing each problem."""
    try:
        config = Config.model_validate(data)
    except CrossFieldError as error:
        raise ConfigError(
            f"{source.where(error.key)}: {dotted(error.key)}: {error.message}.", hint=error.hint
        ) from None
    except ValidationError as error:
        lines = []
        for item in error.errors():
            loc, message, hint = _message(item)
            line = f"{source.where(loc)}: {dotted(loc)}: {message}."
            lines.append(f"{line} {hint[0].upper()}{hint[1:]}" if hint else line)
        raise ConfigError("\n".join(lines)) from None
    config._source = source
    return config


def load_config(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read, override and validate a config file. Raises ConfigError."""
    data, source = load_yaml(path)
    for assignment in overrides:
        apply_override(data, source, assignment)
    return validate_config(data, source)
