"""Shared pieces of the training tests: configs written to tmp_path, the CLI under
numpy.errstate(all="raise") (nncli must handle every overflow it can cause itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from typer.testing import CliRunner

from nncli.cli import app

REPO = Path(__file__).resolve().parents[1]
IRIS = REPO / "datasets" / "iris.csv"


def iris_config(tmp_path: Path, name: str = "iris", **training: Any) -> Path:
    """A small iris run: 4 → 6 tanh → 3 softmax, 20 % validation, everything else default."""
    spec: dict[str, Any] = {
        "seed": 3,
        "data": {
            "train": str(IRIS),
            "targets": ["species"],
            "validation": {"fraction": 0.2},
        },
        "network": {"layers": [{"neurons": 6, "activation": "tanh"}, {"neurons": 3, "activation": "softmax"}]},
        "cost": "categorical_cross_entropy",
        "training": {"learning_rate": 0.1, **training},
        "stopping": {"max_iterations": 40, "gradient_tolerance": None, "loss_change_tolerance": None},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def invoke(*args: str) -> Any:
    """`nncli ARGS` through Typer's CliRunner, with every NumPy floating-point error raising."""
    with np.errstate(all="raise"):
        return CliRunner().invoke(app, list(args))
