"""`nncli inspect`: everything a model file holds, as plain data (JSON-ready).

`inspection(model)` is what both outputs show: `nncli.views` renders it with rich, and
``--format json`` prints it as it is. Names follow SPEC.md: layers L0 (input) … Lm, W_l is
n_l × n_(l-1) (rows: the neurons of L_l, columns: the neurons of L_(l-1)), β_l is n_l × 1.
Neurons are named after what they stand for where the data says so: the neurons of L0 are
the rows of X (a feature, or ``column=category`` for a one-hot row), the neurons of Lm the
rows of Ŷ (a target, or ``target=class``); hidden neuron i of L_l is ``L<l>.<i>``.

Reading the file is all `load_model` does (it opens it read-only); nothing here writes.
The metadata was checked as JSON when loaded, but its training record is informative only,
so each of its fields is taken only if it has the expected type.
"""

from __future__ import annotations

import math
from typing import Any

from nncli.costs import COSTS, FORMULAS
from nncli.errors import ConfigError
from nncli.modelfile import Model


def neuron_names(model: Model, l: int) -> list[str]:
    """Names of the n_l neurons of layer L_l (0 ≤ l ≤ m)."""
    sizes, preprocessing = model.network.sizes, model.preprocessing
    if l == 0:
        return preprocessing.input_names
    if l == len(sizes) - 1:
        return preprocessing.output_names
    return [f"L{l}.{i}" for i in range(1, sizes[l] + 1)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _series(value: Any) -> list[float | None]:
    """A stored history: a list of numbers (None where a value was not finite)."""
    if not isinstance(value, list):
        return []
    return [_number(v) for v in value]


def architecture(model: Model) -> dict[str, Any]:
    network = model.network
    sizes = network.sizes
    layers: list[dict[str, Any]] = [
        {"layer": 0, "name": "L0", "role": "input", "neurons": sizes[0], "activation": None,
         "W_shape": None, "beta_shape": None, "parameters": 0}
    ]
    for l in range(1, network.m + 1):
        n, n_prev = sizes[l], sizes[l - 1]
        layers.append(
            {
                "layer": l,
                "name": f"L{l}",
                "role": "output" if l == network.m else "hidden",
                "neurons": n,
                "activation": network.activation(l),
                "W_shape": [n, n_prev],
                "beta_shape": [n, 1],
                "parameters": n * n_prev + n,
            }
        )
    return {"layers": layers, "parameters": network.parameter_count}


def training_summary(model: Model) -> dict[str, Any]:
    """What the model file says about the run that produced it (None where it says nothing)."""
    record = model.metadata.get("training")
    record = record if isinstance(record, dict) else {}
    history = record.get("history")
    history = history if isinstance(history, dict) else {}
    validation = [v for v in _series(history.get("validation_cost")) if v is not None]
    accuracy = [v for v in _series(history.get("validation_accuracy")) if v is not None]
    return {
        "stop_criterion": _text(record.get("stop_criterion")),
        "stop_message": _text(record.get("stop_message")),
        "iterations": _integer(record.get("iterations")),
        "final_cost": _number(record.get("final_cost")),
        "final_validation_cost": validation[-1] if validation else None,
        "final_validation_accuracy": accuracy[-1] if accuracy else None,
        "observations": _integer(record.get("observations")),
        "validation_observations": _integer(record.get("validation_observations")),
        "learning_rate": _number(record.get("learning_rate")),
        "seed": _integer(record.get("seed")),
        "init": _text(record.get("init")),
        "seconds": _number(record.get("seconds")),
        "cost_history": _series(history.get("cost")),
    }


def data_summary(model: Model) -> dict[str, Any]:
    """Features, targets and the preprocessing that turns a CSV into X and Ŷ back."""
    preprocessing = model.preprocessing
    features = []
    for column in preprocessing.features:
        entry: dict[str, Any] = {"name": column.name, "kind": column.kind,
                                 "rows_of_X": column.encoded_names, "fill": column.fill}
        if column.kind == "numeric":
            entry.update(center=column.center, scale=column.scale)
        else:
            entry["categories"] = list(column.categories)
        features.append(entry)
    targets = []
    names = preprocessing.output_names
    row = 0
    for target in preprocessing.targets:
        entry = {"name": target.name, "kind": target.kind}
        if target.kind == "numeric":
            entry.update(center=target.center, scale=target.scale, rows_of_Y=[names[row]])
            row += 1
        elif target.kind == "binary":
            entry.update(classes=list(target.classes), rows_of_Y=[names[row]],
                         positive_class=target.classes[1])
            row += 1
        else:
            entry.update(classes=list(target.classes), rows_of_Y=names[row:])
            row = len(names)
        targets.append(entry)
    return {
        "features": features,
        "targets": targets,
        "preprocessing": {
            "scaling": preprocessing.scaling,
            "target_scaling": preprocessing.target_scaling,
            "missing": preprocessing.missing,
            "delimiter": preprocessing.delimiter,
        },
    }


def parameters(model: Model, l: int) -> dict[str, Any]:
    """W_l and β_l with their shapes and the names of their rows and columns."""
    network = model.network
    rows, columns = neuron_names(model, l), neuron_names(model, l - 1)
    return {
        "layer": l,
        "W": {
            "name": f"W{l}",
            "shape": list(network.W[l].shape),
            "rows": rows,
            "columns": columns,
            "values": network.W[l].tolist(),
        },
        "beta": {
            "name": f"β{l}",
            "shape": list(network.beta[l].shape),
            "rows": rows,
            "values": network.beta[l][:, 0].tolist(),
        },
    }


def check_layer(model: Model, layer: int | None) -> None:
    m = model.network.m
    if layer is not None and not 1 <= layer <= m:
        only = "L1" if m == 1 else f"L1 … L{m}"
        raise ConfigError(
            f"--layer {layer}: {model.path} has weights for the layers {only} (L0 is the "
            f"input and has none); give a number from 1 to {m}."
        )


def inspection(model: Model, layer: int | None = None) -> dict[str, Any]:
    """The content of `nncli inspect`: every parameter matrix, or only layer `layer`'s."""
    check_layer(model, layer)
    metadata, network = model.metadata, model.network
    cost = COSTS[network.cost]
    layers = range(1, network.m + 1) if layer is None else [layer]
    return {
        "file": str(model.path),
        "bytes": model.path.stat().st_size,
        "name": _text(metadata.get("name")),
        "format": metadata.get("format"),
        "format_version": metadata.get("format_version"),
        "nncli_version": _text(metadata.get("nncli_version")),
        "dtype": network.dtype.name,
        "cost": {"name": cost.name, "title": cost.title, "formula": FORMULAS[cost.name]},
        "architecture": architecture(model),
        "training": training_summary(model),
        **data_summary(model),
        "parameters": [parameters(model, l) for l in layers],
    }
