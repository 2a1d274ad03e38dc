"""Helpers for the tests of saved models: train a small model through the library
(load_config → load_training_data → build_network → Training → save_model), read a model
file's arrays, and rewrite one for the error cases. The fixtures built on them are in
model_fixtures.py."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

from nncli.config import load_config
from nncli.dataset import load_training_data
from nncli.modelfile import save_model
from nncli.run import build_network, model_metadata, training_run

DATASETS = Path(__file__).resolve().parents[1] / "datasets"


def train_model(folder: Path, name: str, config: dict[str, Any]) -> Path:
    """Train the config (data.train relative to `folder`) and save `folder/name.npz`."""
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / f"{name}.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    spec = load_config(config_path, ())
    data = load_training_data(spec)
    network = build_network(spec, data)
    training = training_run(spec, data, network)
    training.run()
    model = folder / f"{name}.npz"
    save_model(model, network, model_metadata(spec, data, training))
    return model


def small_config(train: str, features: list[str] | None, targets: list[str], layers: list[dict[str, Any]],
            cost: str, learning_rate: float, iterations: int, **data: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"train": train, "targets": targets, **data}
    if features is not None:
        spec["features"] = features
    return {
        "seed": 3,
        "data": spec,
        "network": {"layers": layers},
        "cost": cost,
        "training": {"learning_rate": learning_rate},
        "stopping": {"max_iterations": iterations, "gradient_tolerance": 0.0,
                     "loss_change_tolerance": 0.0},
    }


MIXED_CSV = """id,x,color,y1,y2
a1,1.0,red,2.0,-1.0
a2,2.0,green,3.5,0.0
a3,,blue,5.0,1.5
a4,4.0,red,7.0,2.0
a5,5.0,blue,8.5,2.5
a6,6.0,green,10.0,4.0
a7,7.0,red,11.5,4.5
a8,8.0,,13.0,5.0
"""


def mixed_model(folder: Path, missing: str, name: str | None = None, **data: Any) -> Path:
    """x (numeric, a missing cell) and color (categorical, a missing cell) → y1, y2 (mse)."""
    csv_path = folder / "mixed.csv"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path.write_text(MIXED_CSV, encoding="utf-8")
    config = small_config(
        str(csv_path), ["x", "color"], ["y1", "y2"],
        [{"neurons": 3, "activation": "tanh"}, {"neurons": 2}],
        "mse", 0.1, 60, missing=missing, **data,
    )
    return train_model(folder, name or f"mixed-{missing}", config)


def model_arrays(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the metadata of a model file (read with allow_pickle=False)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(str(arrays.pop("metadata")))
    return arrays, metadata


def rewrite_model(
    source: Path,
    target: Path,
    metadata: Callable[[dict[str, Any]], None] | None = None,
    arrays: Callable[[dict[str, np.ndarray]], None] | None = None,
) -> Path:
    """Copy a model file with its metadata and/or arrays changed (for the error cases)."""
    values, record = model_arrays(source)
    if metadata is not None:
        metadata(record)
    if arrays is not None:
        arrays(values)
    buffer = io.BytesIO()
    np.savez(buffer, metadata=np.array(json.dumps(record)), **values)
    target.write_bytes(buffer.getvalue())
    return target
