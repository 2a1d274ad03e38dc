"""The pieces `nncli train` puts together: the initial network, the settings, the metadata.

Plain functions that raise and never print; the CLI drives the training generator and
the display in between.
"""

from __future__ import annotations

import math
import platform
from pathlib import Path
from typing import Any

import numpy as np

from nncli.checkpoint import history_record, resume_record
from nncli.config import Config
from nncli.dataset import TrainingData
from nncli.fileio import atomic_write_text
from nncli.initializers import initial_weights, layer_generators
from nncli.modelfile import finite_or_none
from nncli.network import Network
from nncli.training import Checkpoint, History, Settings, Training, is_logged


def build_network(config: Config, data: TrainingData) -> Network:
    """The network of SPEC Step 1: explicit weights where given, seeded random elsewhere."""
    n0 = data.X.shape[0]
    layers = config.network.layers
    sizes = [n0] + [layer.neurons for layer in layers]
    network = Network(
        sizes,
        [layer.activation for layer in layers],
        config.cost,
        np.dtype(config.training.dtype),
    )
    generators = layer_generators(config.seed, len(layers))
    for l, (layer, rng) in enumerate(zip(layers, generators), start=1):
        if layer.weights is not None:
            network.W[l][...] = np.asarray(layer.weights, dtype=np.float64)
        else:
            network.W[l][...] = initial_weights(config.network.init, sizes[l], sizes[l - 1], rng)
        if layer.biases is not None:
            network.beta[l][:, 0] = np.asarray(layer.biases, dtype=np.float64)
    return network


def settings_from(config: Config) -> Settings:
    stop = config.stopping
    training = config.training
    return Settings(
        learning_rate=training.learning_rate,
        max_iterations=stop.max_iterations,
        gradient_tolerance=stop.gradient_tolerance,
        loss_change_tolerance=stop.loss_change_tolerance,
        patience=stop.patience,
        batch_size=None if training.batch_size == "full" else training.batch_size,
        optimizer=training.optimizer,
        momentum=training.momentum,
        beta1=training.beta1,
        beta2=training.beta2,
        epsilon=training.epsilon,
        l2=training.l2,
        gradient_clip=training.gradient_clip,
        monitor=config.monitor,
        restore_best=stop.restore_best,
        seed=config.seed,
    )


def training_run(
    config: Config, data: TrainingData, network: Network, resume: Checkpoint | None = None
) -> Training:
    """The Training of `network` on the config's data and settings (SPEC Steps 2–5)."""
    return Training(
        network,
        data.X,
        data.Y,
        settings_from(config),
        data.X_validation,
        data.Y_validation,
        classification=data.preprocessing.is_classification,
        resume=resume,
    )


def side_path(path: Path, tag: str) -> Path:
    """model.npz -> model.<tag>.npz, next to the requested model (never over it)."""
    return path.with_name(f"{path.stem}.{tag}{path.suffix or '.npz'}")


def history_path(model_path: Path) -> Path:
    """model.npz -> model.history.csv, beside the model."""
    return model_path.with_name(f"{model_path.stem}.history.csv")


HISTORY_COLUMNS = ("iteration", "training_cost", "validation_cost", "gradient_norm", "learning_rate", "seconds")


def history_csv(history: History, log_every: int) -> str:
    """One CSV row per logged iteration (1, N, 2N, … and the last), numbers round-trip exact."""
    count = len(history.cost)
    validation = history.validation_cost
    numbers = history.iterations()
    lines = [",".join(HISTORY_COLUMNS)]
    for i in range(1, count + 1):
        if not (is_logged(numbers[i - 1], log_every) or i == count):
            continue
        row = (
            str(numbers[i - 1]),
            repr(history.cost[i - 1]),
            repr(validation[i - 1]) if i <= len(validation) and math.isfinite(validation[i - 1]) else "",
            repr(history.gradient_norm[i - 1]),
            repr(history.learning_rate[i - 1]),
            f"{history.seconds[i - 1]:.6f}",
        )
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def write_history(model_path: Path, history: History, log_every: int) -> Path:
    """Write history.csv beside the model (atomically); returns its path."""
    path = history_path(model_path)
    atomic_write_text(path, history_csv(history, log_every))
    return path


def model_metadata(config: Config, data: TrainingData, training: Training) -> dict[str, Any]:
    """Everything besides the arrays that a model file records (`checkpoint.state_arrays`
    gives the training state arrays saved beside W_l and β_l)."""
    stop = training.stop
    held = training.held
    assert stop is not None and held is not None
    settings = training.settings
    return {
        "name": config.run_name,
        "features": data.preprocessing.feature_names,
        "targets": data.preprocessing.target_names,
        "inputs": data.preprocessing.input_names,
        "outputs": data.preprocessing.output_names,
        "preprocessing": data.preprocessing.to_dict(),
        "training": {
            "seed": config.seed,
            "init": config.network.init,
            "learning_rate": config.training.learning_rate,
            "optimizer": settings.optimizer,
            "batch_size": settings.batch_size if training.batches > 1 else "full",
            "l2": settings.l2,
            "gradient_clip": settings.gradient_clip,
            "monitor": settings.monitor,
            "observations": data.k,
            "validation_observations": (
                None if data.X_validation is None else int(data.X_validation.shape[1])
            ),
            "stop_criterion": stop.criterion,
            "stop_message": stop.message,
            "iterations": stop.iteration,
            "final_cost": training.final_cost,
            "final_validation_cost": finite_or_none(training.final_validation[0]),
            "final_validation_accuracy": training.final_validation[1],
            "seconds": round(training.seconds, 6),
            "parameters": {"which": held.which, "iteration": held.iteration, "reason": held.reason},
            "history": history_record(training.history),
            "resume": resume_record(training),
        },
        "config": config.model_dump(mode="json"),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
