"""Shared fixtures: a CliRunner, small config/CSV writers, and NumPy errors raised.

Every test runs under ``numpy.seterr(all="raise")``: nncli must handle overflow, underflow
and invalid operations itself wherever they can happen (training detects divergence; the
activations and costs are written not to overflow), never rely on a warning.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def numpy_errors_raise():
    old = np.seterr(all="raise")
    yield
    np.seterr(**old)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write(name, text) -> path: a file in tmp_path with dedented text."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


HOUSE_CONFIG = """
name: house
data:
  train: house.csv
  features: [bedrooms]
  targets: [price]
  scaling: none
network:
  layers:
    - neurons: 1
      activation: identity
      weights: [[0.5]]
      biases: [0.0]
    - neurons: 1
      activation: identity
      weights: [[0.5]]
      biases: [0.0]
cost: mse
training:
  learning_rate: 0.001
stopping:
  max_iterations: 1
output:
  model: model.npz
"""


@pytest.fixture
def house(write: Callable[[str, str], Path]) -> Path:
    """A copy of SPEC worked example 1 in tmp_path; returns the config path."""
    write("house.csv", "bedrooms,price\n3,450\n")
    return write("house.yaml", HOUSE_CONFIG)
