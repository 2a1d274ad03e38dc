"""From a validated config to the arrays training needs: X, Y (and validation X, Y).

This is where the data meets the network spec: the features give n0, the targets (or the
classes) must match the output layer, and explicit initial weights must be n_l × n_(l-1).
Mismatches are config errors pointing at the YAML line to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nncli.config import Config
from nncli.data import (
    Preprocessing,
    Table,
    fit_preprocessing,
    read_csv,
    require_columns,
    require_complete,
    split_rows,
)
from nncli.errors import ConfigError, DataError
from nncli.metadata import MAX_LAYER_SIZE, MAX_PARAMETERS


@dataclass
class TrainingData:
    preprocessing: Preprocessing
    X: np.ndarray  # n0 × k
    Y: np.ndarray  # n_m × k
    X_validation: np.ndarray | None = None
    Y_validation: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    rows_dropped: int = 0

    @property
    def k(self) -> int:
        return self.X.shape[1]

    @property
    def sizes(self) -> tuple[int, int]:
        """(n0, n_m) as the data defines them."""
        return self.X.shape[0], self.Y.shape[0]


def _drop_missing(table: Table, columns: list[str]) -> tuple[Table, int]:
    """The rows with every cell of `columns` present, and how many were dropped."""
    keep = table.frame[columns].notna().all(axis=1)
    dropped = int((~keep).sum())
    return (table.subset(keep) if dropped else table), dropped


def _missing_rows(
    table: Table, features: list[str], targets: list[str], missing: str
) -> tuple[Table, str | None]:
    """Apply data.missing to a file's rows: (the rows kept, a note on the rows dropped).

    ``error``: every used cell must be present (one error counting per column). ``drop``:
    rows with a missing used cell are left out. ``mean`` / ``most_frequent``: features are
    filled later from the training statistics, rows without a target value are left out.
    """
    if missing == "error":
        require_complete(table, features + targets)
        return table, None
    columns = features + targets if missing == "drop" else targets
    kept, dropped = _drop_missing(table, columns)
    if not dropped:
        return table, None
    what = "a missing cell" if missing == "drop" else "a missing target value"
    if len(kept.frame) == 0:
        raise DataError(
            f"{table.path}: every row of the {table.role} has {what}, so none is left "
            f"(data.missing: {missing}).",
            hint=(
                "fill the cells, or set data.missing: mean or most_frequent to fill missing "
                "features."
                if missing == "drop"
                else "every row needs its target value."
            ),
        )
    rows = "row" if dropped == 1 else "rows"
    return kept, (
        f"{table.path.name}: left out {dropped} {table.role} {rows} with {what} "
        f"(data.missing: {missing})."
    )


def load_training_data(config: Config) -> TrainingData:
    """Read the training (and validation) CSV, fit the preprocessing, build X and Y.

    Order matters for "fitted on the training part only": rows are dropped per data.missing,
    the validation part is split off (or the validation file read), and only then are the
    statistics fitted, on what is left of the training file.
    """
    spec = config.data
    dtype = np.dtype(config.training.dtype)
    table = read_csv(config.resolve(spec.train), spec.delimiter, role="training data")
    columns = list(table.frame.columns)
    targets = spec.targets
    require_columns(table, targets, "data.targets", config.source.where(("data", "targets")))
    features = spec.features or [name for name in columns if name not in targets]
    if spec.features is not None:
        require_columns(
            table, features, "data.features", config.source.where(("data", "features"))
        )
    for key, names in (("targets", targets), ("features", spec.features or [])):
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise config.error(
                ("data", key),
                f"{', '.join(repr(name) for name in twice)} is listed more than once",
                f"name each column once in data.{key}.",
            )
    both = [name for name in features if name in targets]
    if both:
        raise config.error(
            ("data", "features"),
            f"{', '.join(repr(b) for b in both)} is both a feature and a target",
            "a column cannot be used to predict itself; remove it from data.features.",
        )
    if not features:
        raise config.error(
            ("data", "targets"),
            f"every column of {table.path} is a target, so there are no features left",
        )

    notes: list[str] = []
    before = len(table.frame)
    table, note = _missing_rows(table, features, targets, spec.missing)
    dropped = before - len(table.frame)
    if note:
        notes.append(note)

    validation: Table | None = None
    classification = config.cost != "mse"
    if spec.validation is not None and spec.validation.fraction is not None:
        stratify = targets[0] if classification else None
        table, validation = split_rows(table, spec.validation.fraction, config.seed, stratify)
    elif spec.validation is not None and spec.validation.file is not None:
        validation = read_csv(
            config.resolve(spec.validation.file), spec.delimiter, role="validation data"
        )
        require_columns(validation, features + targets, "the training data's columns")
        validation, note = _missing_rows(validation, features, targets, spec.missing)
        if note:
            notes.append(note)

    fitted = fit_preprocessing(
        table, features, targets, config.cost, spec.scaling, spec.target_scaling, spec.missing
    )
    notes += fitted.notes
    preprocessing = fitted.preprocessing
    data = TrainingData(
        preprocessing,
        preprocessing.X(table, dtype),
        preprocessing.Y(table, dtype),
        notes=notes,
        rows_dropped=dropped,
    )
    if validation is not None:
        data.X_validation = preprocessing.X(validation, dtype)
        data.Y_validation = preprocessing.Y(validation, dtype)
    check_network_against_data(config, data)
    return data


def check_network_against_data(config: Config, data: TrainingData) -> None:
    """The output layer fits the targets; explicit W_1 fits n0; BCE targets are 0/1."""
    n0, n_out = data.sizes
    layers = config.network.layers
    m = len(layers)
    last = layers[-1]
    preprocessing = data.preprocessing
    if last.neurons != n_out:
        key = ("network", "layers", m - 1, "neurons")
        if config.cost == "categorical_cross_entropy":
            target = preprocessing.targets[0]
            classes = ", ".join(repr(c) for c in target.classes)
            more = "more" if n_out > last.neurons else "fewer"
            raise config.error(
                key,
                f"the output layer L{m} has {last.neurons} neurons but target "
                f"{target.name!r} has {n_out} classes ({classes}) — {more} classes than neurons",
                f"set network.layers[{m - 1}].neurons: {n_out} (one neuron per class).",
            )
        raise config.error(
            key,
            f"the output layer L{m} has {last.neurons} neurons but there "
            f"{'is' if n_out == 1 else 'are'} {n_out} target{'s' if n_out != 1 else ''} "
            f"({', '.join(preprocessing.target_names)})",
            f"set network.layers[{m - 1}].neurons: {n_out} (one neuron per target).",
        )
    sizes = [n0] + [layer.neurons for layer in layers]
    for l, n in enumerate(sizes[1:], start=1):
        if n > MAX_LAYER_SIZE:
            raise config.error(
                ("network", "layers", l - 1, "neurons"),
                f"L{l} has {n:,} neurons; nncli networks have at most {MAX_LAYER_SIZE:,} per layer",
            )
    count = sum(n * (p + 1) for p, n in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise config.error(
            ("network", "layers"),
            f"the network {' → '.join(map(str, sizes))} has {count:,} parameters; a model file "
            f"holds at most {MAX_PARAMETERS:,}",
        )
    first = layers[0]
    if first.weights is not None and len(first.weights[0]) != n0:
        names = ", ".join(preprocessing.input_names)
        raise config.error(
            ("network", "layers", 0, "weights"),
            f"W1 must be n1 × n0 = {first.neurons} × {n0} (n0 = {n0} input rows: {names}), "
            f"found rows of {len(first.weights[0])} numbers",
        )
    if not np.isfinite(data.X).all():
        raise ConfigError(
            f"{config.resolve(config.data.train)}: the scaled features overflow "
            f"{config.training.dtype}; use training.dtype: float64 or data.scaling: standard."
        )
