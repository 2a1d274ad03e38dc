"""Continuing from a model file: ``--resume`` (the same run, exactly) and ``--init-from``.

A model file saved by `nncli train` carries, besides W_l and β_l, what the run needs to go
on: in ``metadata["training"]["resume"]`` the iteration count, the optimizer's update count,
the shuffling generator's position and the early-stopping state; the history is in
``metadata["training"]["history"]``; the arrays (each laid out like θ, listed in
``metadata["state_arrays"]``) are the optimizer state (``optimizer_velocity``,
``optimizer_m``, ``optimizer_v``), and ``last_theta`` when the file holds the best
parameters rather than the last (restore_best), or ``best_theta`` when it holds the last
ones and restore_best is tracking a best.

`resume_record` and `state_arrays` write that; `checkpoint_from_model` reads it back into a
`training.Checkpoint` after checking the model against the config (architecture, inputs and
outputs, cost, dtype, optimizer), with every difference spelled out. `init_from_model` only
needs the same shapes of W_l and β_l.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nncli.config import Config
from nncli.dataset import TrainingData
from nncli.errors import ConfigError, ModelFileError
from nncli.modelfile import Model, finite_or_none
from nncli.network import Network
from nncli.optimizers import OPTIMIZERS
from nncli.training import MONITORS, Checkpoint, History, Training


def state_arrays(training: Training) -> dict[str, np.ndarray]:
    """The arrays saved beside W_l and β_l (`modelfile.save_model`'s `state`)."""
    checkpoint = training.checkpoint()
    held = training.held
    assert held is not None
    arrays = {f"optimizer_{name}": array for name, array in checkpoint.optimizer_state.items()}
    if held.which == "best":
        arrays["last_theta"] = checkpoint.theta
    elif checkpoint.best_theta is not None:
        arrays["best_theta"] = checkpoint.best_theta
    return arrays


def resume_record(training: Training) -> dict[str, Any]:
    """metadata["training"]["resume"]: the counters and positions of the run."""
    checkpoint = training.checkpoint()
    return {
        "iteration": checkpoint.iteration,
        "optimizer": checkpoint.optimizer,
        "optimizer_steps": checkpoint.optimizer_steps,
        "shuffle_state": checkpoint.shuffle_state,
        "monitor": checkpoint.monitor,
        "best": finite_or_none(checkpoint.best),
        "best_iteration": checkpoint.best_iteration if checkpoint.best is not None else None,
        "calm": checkpoint.calm,
        "seconds": round(checkpoint.seconds, 6),
    }


# A model file keeps at most this many entries of each history series: a run of a million
# iterations would otherwise make a file of hundreds of MB (JSON text, 4 bytes a character).
# history.csv beside the model keeps every logged row.
HISTORY_POINTS = 20_000


def history_record(history: History) -> dict[str, list[float | None]]:
    """The history as JSON can hold it (a non-finite value becomes null), at most
    HISTORY_POINTS entries per series: evenly spread over the run, first and last included,
    with their iteration numbers in ``iteration`` when any were left out."""
    count = len(history.cost)
    names = [name for name in History.__dataclass_fields__ if name != "iteration"]
    numbers = history.iterations()
    if count <= HISTORY_POINTS:
        keep = list(range(count))
    else:
        keep = sorted(set(np.linspace(0, count - 1, HISTORY_POINTS).round().astype(int).tolist()))
    record: dict[str, list[float | None]] = {}
    for name in names:
        series = getattr(history, name)
        if len(series) == count:
            record[name] = [finite_or_none(series[i]) for i in keep]
        else:  # empty (e.g. no validation data)
            record[name] = [finite_or_none(v) for v in series]
    if count > HISTORY_POINTS or history.iteration:
        record["iteration"] = [float(numbers[i]) for i in keep]
    return record


def _history(path: Any, data: Any) -> History:
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: its training history is missing, so it cannot be resumed.")
    history = History()
    for name in History.__dataclass_fields__:
        values = data.get(name, [])
        if not isinstance(values, list) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
        ):
            raise ModelFileError(f"{path}: its training history {name!r} is not a list of numbers.")
        setattr(history, name, [math.nan if v is None else float(v) for v in values])
    return history


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _describe_layers(network: Network) -> str:
    return " → ".join(
        [str(network.sizes[0])]
        + [f"{n} {network.activation(l)}" for l, n in enumerate(network.sizes[1:], start=1)]
    )


def _shape_differences(model: Network, network: Network) -> list[str]:
    if model.sizes == network.sizes:
        return []
    if model.m != network.m:
        return [
            f"the model has {model.m} layer{'s' if model.m != 1 else ''} after the input "
            f"(L1 … L{model.m}), the config {network.m}"
        ]
    found = []
    if model.sizes[0] != network.sizes[0]:
        found.append(f"n0 (inputs): the model has {model.sizes[0]}, the data gives {network.sizes[0]}")
    for l in range(1, model.m + 1):
        if model.sizes[l] != network.sizes[l] or model.sizes[l - 1] != network.sizes[l - 1]:
            found.append(
                f"W{l}: the model's is {model.sizes[l]} × {model.sizes[l - 1]}, the config's "
                f"{network.sizes[l]} × {network.sizes[l - 1]}"
            )
    return found


def _architecture_differences(model: Model, network: Network, data: TrainingData) -> list[str]:
    found = _shape_differences(model.network, network)
    if not found:
        for l in range(1, network.m + 1):
            if model.network.activation(l) != network.activation(l):
                found.append(
                    f"L{l}'s activation: {model.network.activation(l)} in the model, "
                    f"{network.activation(l)} in the config"
                )
    if model.network.cost != network.cost:
        found.append(f"cost: {model.network.cost} in the model, {network.cost} in the config")
    if model.network.dtype != network.dtype:
        found.append(
            f"dtype: {model.network.dtype.name} in the model, training.dtype {network.dtype.name} "
            "in the config"
        )
    for what, mine, theirs in (
        ("inputs", model.preprocessing.input_names, data.preprocessing.input_names),
        ("outputs", model.preprocessing.output_names, data.preprocessing.output_names),
    ):
        if mine != theirs and len(mine) == len(theirs):
            found.append(f"{what}: the model's are {', '.join(mine)}; the data's {', '.join(theirs)}")
    return found


def checkpoint_from_model(
    model: Model, config: Config, data: TrainingData, network: Network
) -> tuple[Checkpoint, list[str]]:
    """The saved run to continue, and notes for the user. Raises if it cannot be resumed.

    `network` is the one the config builds; its sizes and activations are what the model
    must match.
    """
    path = model.path
    differences = _architecture_differences(model, network, data)
    if differences:
        raise ConfigError(
            f"{config.source.path}: --resume {path}: the model does not match the config: "
            + "; ".join(differences)
            + ".",
            hint="resume with the config the model was trained with, or use --init-from to "
            "start a new run from parameters of the same shapes.",
        )
    training = model.training
    record = training.get("resume")
    if not isinstance(record, dict):
        raise ModelFileError(
            f"{path}: has no training state to resume from (it was saved without one).",
            hint=f"use --init-from {path} to start a new run from its parameters.",
        )
    optimizer = record.get("optimizer")
    if optimizer != config.training.optimizer:
        raise ConfigError(
            f"{config.source.path}: --resume {path}: the model was trained with optimizer "
            f"{optimizer}, the config says training.optimizer: {config.training.optimizer}.",
            hint=f"set training.optimizer: {optimizer} to continue the run, or use --init-from "
            "to start a new run from its parameters.",
        )
    damaged = ModelFileError(f"{path}: its resume record is damaged, so it cannot be resumed.")
    best, best_iteration = record.get("best"), record.get("best_iteration")
    shuffle_state = record.get("shuffle_state")
    if not (
        _is_count(record.get("iteration"))
        and _is_count(record.get("optimizer_steps"))
        and _is_count(record.get("calm"))
        and record.get("monitor") in MONITORS
        and (best is None or (isinstance(best, (int, float)) and not isinstance(best, bool)))
        and (best_iteration is None or _is_count(best_iteration))
        and isinstance(record.get("seconds"), (int, float))
        and (shuffle_state is None or isinstance(shuffle_state, dict))
    ):
        raise damaged
    if shuffle_state is not None:
        try:
            np.random.default_rng().bit_generator.state = shuffle_state
        except (TypeError, ValueError, KeyError):
            raise damaged from None
    iteration = record["iteration"]
    limit = config.stopping.max_iterations
    if limit is not None and iteration >= limit:
        raise config.error(
            ("stopping", "max_iterations"),
            f"the model to resume ({path}) has done {iteration} iterations already, and "
            f"max_iterations = {limit} counts them",
            f"raise it, e.g. --set stopping.max_iterations={2 * iteration}.",
        )
    state = model.state
    names = {name[len("optimizer_") :]: name for name in state if name.startswith("optimizer_")}
    optimizer_state = {short: state[name] for short, name in names.items()}
    wanted = OPTIMIZERS[optimizer].state_names
    if set(optimizer_state) != set(wanted):
        raise ModelFileError(
            f"{path}: its {optimizer} state should be {', '.join(wanted) or 'empty'}, found "
            f"{', '.join(sorted(optimizer_state)) or 'none'}; it cannot be resumed."
        )
    held = training.get("parameters") or {}
    theta = state.get("last_theta", model.network.theta)
    best_theta = state.get("best_theta")
    if best_theta is None and held.get("which") == "best":
        best_theta = model.network.theta
    checkpoint = Checkpoint(
        iteration=iteration,
        theta=theta,
        optimizer=optimizer,
        optimizer_state=optimizer_state,
        optimizer_steps=record["optimizer_steps"],
        shuffle_state=shuffle_state,
        monitor=record["monitor"],
        best=None if best is None else float(best),
        best_iteration=best_iteration,
        best_theta=best_theta,
        calm=record["calm"],
        history=_history(path, training.get("history")),
        seconds=float(record["seconds"]),
    )
    notes = []
    if model.preprocessing.to_dict() != data.preprocessing.to_dict():
        notes.append(
            f"the preprocessing fitted on the data now differs from the one in {path} (the data "
            "changed?); training goes on with the new one."
        )
    return checkpoint, notes


def init_from_model(model: Model, config: Config, network: Network) -> list[str]:
    """Copy the model's W_l and β_l into `network` (same shapes needed); notes for the user."""
    differences = _shape_differences(model.network, network)
    if differences:
        raise ConfigError(
            f"{config.source.path}: --init-from {model.path}: the parameters do not fit the "
            "network of the config: " + "; ".join(differences) + ".",
            hint="--init-from needs W_l and β_l of the same shapes: the same n0 … nm.",
        )
    notes = []
    for l in range(1, network.m + 1):
        if model.network.activation(l) != network.activation(l):
            notes.append(
                f"--init-from: L{l} uses {network.activation(l)} now and {model.network.activation(l)} "
                f"in {model.path} ({_describe_layers(model.network)})."
            )
    network.theta[...] = model.network.theta.astype(network.dtype)
    return notes
