"""Plots: PNG files from the cost history and for two-feature networks; matplotlib optional."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from nncli.cli import app
from nncli.data import Table, read_csv
from nncli.errors import ConfigError

pytest.importorskip("matplotlib")  # the dev extra installs it; only skip where it is absent

from nncli import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_png(path: Path, width: int | None = None, height: int | None = None) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    w, h = struct.unpack(">II", data[16:24])
    assert 5_000 < len(data) < 2_000_000  # a real picture, not an empty canvas
    assert 300 <= w <= 2000 and 200 <= h <= 2000
    if width:
        assert (w, h) == (width, height)
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))  # atomic: no temporary left


def test_cost_curve_png(tmp_path: Path) -> None:
    history = {"cost": [3.0, 2.0, 1.5, None, 1.0], "validation_cost": [3.2, 2.4, 1.9, 1.7, 1.6]}
    path = tmp_path / "cost.png"
    plots.cost_curve(history, path, title="test", cost_name="mse")
    assert_png(path, 700, 450)


def test_cost_curve_from_a_saved_model(tmp_path: Path) -> None:
    from nncli.modelfile import load_model

    model = tmp_path / "iris.npz"
    result = run("train", str(ROOT / "configs" / "iris.yaml"), "--set", "stopping.max_iterations=50",
                 "-o", str(model), "-q")
    assert result.exit_code == 0
    path = tmp_path / "cost.png"
    plots.cost_curve_from_metadata(load_model(model).metadata, path)
    assert_png(path)


def test_train_plot_writes_the_cost_curve(tmp_path: Path) -> None:
    path = tmp_path / "plots" / "cost.png"
    result = run("train", str(ROOT / "configs" / "iris.yaml"), "--set", "stopping.max_iterations=40",
                 "-o", str(tmp_path / "m.npz"), "--plot", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"plot: {path}" in result.stdout
    assert_png(path)


def test_plot_path_checked_before_training(tmp_path: Path) -> None:
    result = run("train", str(ROOT / "configs" / "house-prices.yaml"), "-o", str(tmp_path / "m.npz"),
                 "--plot", str(tmp_path))
    assert result.exit_code == 2
    assert "plot path is a directory" in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_without_matplotlib_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    with pytest.raises(ConfigError, match="matplotlib"):
        plots.require_matplotlib()
    result = run("train", str(ROOT / "configs" / "house-prices.yaml"), "-o", str(tmp_path / "m.npz"),
                 "--plot", str(tmp_path / "cost.png"))
    assert result.exit_code == 2
    assert "plotting needs matplotlib, which is not installed" in result.stderr
    assert "pip install matplotlib" in result.stderr and ".venv/bin/pip install -e '.[plot]'" in result.stderr
    assert not (tmp_path / "m.npz").exists()  # checked before any training
    assert not (tmp_path / "cost.png").exists()


def test_nncli_does_not_import_matplotlib_at_start() -> None:
    code = "import sys, nncli.cli, nncli.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- decision regions and prediction surfaces ----------------------------------------------


def train_two_features(tmp_path: Path, csv: Path, target: str, features: list[str], cost: str,
                       output: str, neurons: int, **data):
    from nncli.modelfile import load_model

    config = {
        "data": {"train": str(csv), "features": features, "targets": [target], **data},
        "network": {"layers": [{"neurons": 6, "activation": "tanh"},
                               {"neurons": neurons, "activation": output}]},
        "cost": cost,
        "training": {"learning_rate": 0.5},
        "stopping": {"max_iterations": 200},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    model = tmp_path / "m.npz"
    assert run("train", str(path), "-o", str(model), "-q").exit_code == 0
    return load_model(model)


def test_decision_regions_of_a_classifier(tmp_path: Path) -> None:
    iris = ROOT / "datasets" / "iris.csv"
    model = train_two_features(tmp_path, iris, "species", ["petal_length", "petal_width"],
                               "categorical_cross_entropy", "softmax", 3)
    path = tmp_path / "regions.png"
    plots.regions(model.network, model.preprocessing, path, read_csv(iris))
    assert_png(path, 700, 550)
    # without data points: the grid comes from the saved scaling
    plots.regions(model.network, model.preprocessing, tmp_path / "bare.png")
    assert_png(tmp_path / "bare.png")


def test_decision_regions_of_a_binary_classifier(tmp_path: Path) -> None:
    cancer = ROOT / "datasets" / "breast-cancer.csv"
    model = train_two_features(tmp_path, cancer, "diagnosis", ["mean_radius", "mean_texture"],
                               "binary_cross_entropy", "sigmoid", 1)
    path = tmp_path / "regions.png"
    plots.regions(model.network, model.preprocessing, path, read_csv(cancer))
    assert_png(path)


def test_prediction_surface_of_a_regression(tmp_path: Path) -> None:
    diabetes = ROOT / "datasets" / "diabetes.csv"
    model = train_two_features(tmp_path, diabetes, "progression", ["bmi", "s5"], "mse", "identity", 1,
                               target_scaling="standard")
    path = tmp_path / "surface.png"
    table = read_csv(diabetes)
    plots.regions(model.network, model.preprocessing, path, table)
    assert_png(path)
    # points without the target column are drawn too (uncoloured)
    features_only = Table(table.path, table.frame[["bmi", "s5"]], ",")
    plots.regions(model.network, model.preprocessing, tmp_path / "points.png", features_only)
    assert_png(tmp_path / "points.png")


def test_regions_need_two_numeric_features(tmp_path: Path) -> None:
    from nncli.modelfile import load_model

    model = tmp_path / "iris.npz"
    assert run("train", str(ROOT / "configs" / "iris.yaml"), "--set", "stopping.max_iterations=5",
               "-o", str(model), "-q").exit_code == 0
    loaded = load_model(model)
    with pytest.raises(ConfigError, match=r"exactly two numeric input features; this model has n0 = 4"):
        plots.regions(loaded.network, loaded.preprocessing, tmp_path / "r.png")
    assert not (tmp_path / "r.png").exists()


def test_regions_data_must_have_the_features(tmp_path: Path) -> None:
    from nncli.errors import DataError

    iris = ROOT / "datasets" / "iris.csv"
    model = train_two_features(tmp_path, iris, "species", ["petal_length", "petal_width"],
                               "categorical_cross_entropy", "softmax", 3)
    table = Table(iris, pd.DataFrame({"petal_length": np.ones(3)}), ",")
    with pytest.raises(DataError, match="petal_width"):
        plots.regions(model.network, model.preprocessing, tmp_path / "r.png", table)


# -- nncli inspect --plot --------------------------------------------------------------------


def test_inspect_plot_writes_the_cost_curve_and_still_inspects(tmp_path: Path) -> None:
    iris = ROOT / "datasets" / "iris.csv"
    train_two_features(tmp_path, iris, "species", ["petal_length", "petal_width"],
                       "categorical_cross_entropy", "softmax", 3)
    model = tmp_path / "m.npz"
    before = model.read_bytes()
    result = run("inspect", str(model), "--plot", str(tmp_path / "cost.png"))
    assert result.exit_code == 0, result.output
    assert_png(tmp_path / "cost.png")
    assert "plot written to" in result.stderr and "W1" in result.stdout
    result = run("inspect", str(model), "--plot", str(tmp_path / "b.png"), "--data", str(iris))
    assert result.exit_code == 0, result.output
    assert_png(tmp_path / "b.png", 700, 550)
    assert model.read_bytes() == before  # inspecting never modifies the file


def test_inspect_plot_errors(tmp_path: Path) -> None:
    iris = ROOT / "datasets" / "iris.csv"
    train_two_features(tmp_path, iris, "species", ["petal_length", "petal_width"],
                       "categorical_cross_entropy", "softmax", 3)
    model = tmp_path / "m.npz"
    result = run("inspect", str(model), "--data", str(iris))
    assert result.exit_code == 2 and "--data only applies to --plot" in result.stderr
    result = run("inspect", str(model), "--plot", str(tmp_path / "x.png"), "--data", str(tmp_path / "none.csv"))
    assert result.exit_code == 3 and "not found" in result.stderr
    assert not (tmp_path / "x.png").exists()
