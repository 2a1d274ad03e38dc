"""The pieces `nncli train` puts together: the initial network, the settings, the metadata.

Plain functions that raise and never print; the CLI drives the training generator and
the display in between.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np

from nncli.config import Config
from nncli.dataset import TrainingData
from nncli.initializers import initial_weights, layer_generators
from nncli.network import Network
from nncli.training import Settings, Training


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
    return Settings(
        learning_rate=config.training.learning_rate,
        max_iterations=stop.max_iterations,
        gradient_tolerance=stop.gradient_tolerance,
        loss_change_tolerance=stop.loss_change_tolerance,
        patience=stop.patience,
    )


def side_path(path: Path, tag: str) -> Path:
    """model.npz -> model.<tag>.npz, next to the requested model (never over it)."""
    return path.with_name(f"{path.stem}.{tag}{path.suffix or '.npz'}")


def _finite(values: list[float]) -> list[float | None]:
    return [v if np.isfinite(v) else None for v in values]


def model_metadata(config: Config, data: TrainingData, training: Training) -> dict[str, Any]:
    """Everything besides the arrays that a model file records."""
    stop = training.stop
    assert stop is not None
    history = training.history
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
            "observations": data.k,
            "validation_observations": (
                None if data.X_validation is None else int(data.X_validation.shape[1])
            ),
            "stop_criterion": stop.criterion,
            "stop_message": stop.message,
            "iterations": stop.iteration,
            "final_cost": training.final_cost,
            "seconds": round(training.seconds, 6),
            "history": {
                "cost": _finite(history.cost),
                "gradient_norm": _finite(history.gradient_norm),
                "validation_cost": _finite(history.validation_cost),
                "validation_accuracy": history.validation_accuracy,
            },
        },
        "config": config.model_dump(mode="json"),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
