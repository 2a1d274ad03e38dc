"""`nncli validate`: train's checks, the resolved config and the layer shapes, no training."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from nncli.cli import app

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def write(folder: Path, name: str, config: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def iris_config(**changes) -> dict:
    config = yaml.safe_load((ROOT / "configs" / "iris.yaml").read_text(encoding="utf-8"))
    config["data"]["train"] = str(ROOT / "datasets" / "iris.csv")
    config["output"] = {"model": "iris.npz"}
    for key, value in changes.items():
        section, field = key.split("__")
        config[section][field] = value
    return config


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_validate_every_shipped_config(config: Path, tmp_path: Path) -> None:
    result = run("validate", str(config), "-o", str(tmp_path / "m.npz"))
    assert result.exit_code == 0, result.stderr
    assert "valid. Resolved config" in result.stdout
    assert not (tmp_path / "m.npz").exists()


def test_iris_shapes_and_resolved_config(tmp_path: Path) -> None:
    result = run("validate", str(ROOT / "configs" / "iris.yaml"), "-o", str(tmp_path / "m.npz"))
    out = result.stdout
    # the shapes table of SPEC.md: X n0 × k, W_l n_l × n_(l-1), β_l n_l × 1, Z_l n_l × k
    assert "X: 4 × 120" in out  # 150 rows, 30 held out for validation
    assert "W_1: 8 × 4" in out and "β_1: 8 × 1" in out and "Z_1: 8 × 120" in out
    assert "W_2: 3 × 8" in out and "β_2: 3 × 1" in out and "Z_2: 3 × 120" in out
    assert "30 validation observations" in out
    assert "outputs (n2 = 3): species=setosa, species=versicolor, species=virginica" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["total", "67"] in lines  # 8·4 + 8 + 3·8 + 3
    # the resolved config is YAML with the defaults filled in
    resolved = out.split("(defaults filled in):\n", 1)[1].split("\n\n", 1)[0]
    data = yaml.safe_load(resolved)
    assert data["training"]["dtype"] == "float64"  # a default, not in the file
    assert data["data"]["missing"] == "error"
    assert data["network"]["layers"][0] == {"neurons": 8, "activation": "tanh", "weights": None, "biases": None}


def test_set_overrides_are_validated_too(tmp_path: Path) -> None:
    result = run(
        "validate", str(ROOT / "configs" / "iris.yaml"), "--set", "network.layers[0].neurons=5",
        "-o", str(tmp_path / "m.npz"),
    )
    assert result.exit_code == 0
    assert "W_1: 5 × 4" in result.stdout and "W_2: 3 × 5" in result.stdout


def test_config_error_exit_code(tmp_path: Path) -> None:
    config = iris_config()
    config["training"]["learnig_rate"] = 0.1
    result = run("validate", str(write(tmp_path, "bad.yaml", config)))
    assert result.exit_code == 2
    assert "unknown key 'learnig_rate'" in result.stderr
    assert result.stdout == ""


def test_data_error_exit_code(tmp_path: Path) -> None:
    config = iris_config(data__features=["sepal_length", "petal_lenght"])
    result = run("validate", str(write(tmp_path, "bad.yaml", config)))
    assert result.exit_code == 3
    assert "petal_lenght" in result.stderr and "did you mean 'petal_length'" in result.stderr


def test_network_against_data(tmp_path: Path) -> None:
    config = iris_config()
    config["network"]["layers"][1]["neurons"] = 2
    result = run("validate", str(write(tmp_path, "bad.yaml", config)))
    assert result.exit_code == 2
    assert "3 classes" in result.stderr
