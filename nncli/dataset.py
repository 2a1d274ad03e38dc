"""From a validated config to the arrays training needs: X, Y (and validation X, Y).

This is where the data meets the network spec: the features give n0, the targets (or the
classes) must match the output layer, and explicit initial weights must be n_l × n_(l-1).
Mismatches are config errors pointing at the YAML line to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nncli.config import Config
from nncli.data import Preprocessing, Table, fit_preprocessing, read_csv, require_columns, split_rows
from nncli.errors import ConfigError


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


def _drop_missing(table: Table, columns: list[str], missing: str) -> tuple[Table, int]:
    """Drop rows with a missing cell in `columns` (unless ``missing: error``)."""
    if missing == "error":
        return table, 0
    keep = table.frame[columns].notna().all(axis=1)
    dropped = int((~keep).sum())
    if dropped:
        table = Table(table.path, table.frame.loc[keep], table.delimiter)
    return table, dropped


def load_training_data(config: Config) -> TrainingData:
    """Read the training (and validation) CSV, fit the preprocessing, build X and Y."""
    spec = config.data
    dtype = np.dtype(config.training.dtype)
    table = read_csv(config.resolve(spec.train), spec.delimiter, role="training data")
    columns = list(table.frame.columns)
    targets = spec.targets
    require_columns(table, targets, "data.targets")
    features = spec.features or [name for name in columns if name not in targets]
    if spec.features is not None:
        require_columns(table, features, "data.features")
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
    used = features + targets
    # missing: error leaves every row in: X() and Y() report the first missing cell.
    table, dropped = _drop_missing(table, used if spec.missing == "drop" else targets, spec.missing)
    if dropped:
        what = "missing cells" if spec.missing == "drop" else "a missing target value"
        notes.append(f"dropped {dropped} training rows with {what} (data.missing: {spec.missing}).")
        if len(table.frame) == 0:
            raise config.error(("data", "missing"), "no training rows are left after dropping")

    validation: Table | None = None
    classification = config.cost != "mse"
    if spec.validation is not None and spec.validation.fraction is not None:
        stratify = targets[0] if classification else None
        table, validation = split_rows(table, spec.validation.fraction, config.seed, stratify)
    elif spec.validation is not None and spec.validation.file is not None:
        validation = read_csv(
            config.resolve(spec.validation.file), spec.delimiter, role="validation data"
        )
        require_columns(validation, used, "the validation file")
        validation, _ = _drop_missing(
            validation, used if spec.missing == "drop" else targets, spec.missing
        )

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
