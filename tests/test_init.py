"""`nncli init`: a commented starter config that validates and trains without edits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nncli.cli import app
from nncli.config import load_config
from nncli.modelfile import load_model

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "datasets"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def shipped_datasets() -> list[tuple[str, str]]:
    """(file, target column) of every dataset, from the table in datasets/README.md."""
    text = (DATASETS / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+\.csv)` \|[^|]*\|[^|]*\| `([^`]+)` \|", text, flags=re.M)
    return rows


def test_every_dataset_is_listed_with_its_target() -> None:
    listed = {name for name, _ in shipped_datasets()}
    assert listed == {path.name for path in DATASETS.glob("*.csv")}


@pytest.mark.parametrize("name, target", shipped_datasets())
def test_init_then_train_every_dataset(name: str, target: str, tmp_path: Path) -> None:
    config = tmp_path / "configs" / f"{Path(name).stem}.yaml"
    result = run("init", str(DATASETS / name), "--target", target, "-o", str(config))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {config}" in result.stdout
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# nncli starter config")
    spec = load_config(config)
    assert spec.resolve(spec.data.train) == (DATASETS / name).resolve()
    assert run("validate", str(config)).exit_code == 0
    result = run("train", str(config))
    assert result.exit_code == 0, result.stdout + result.stderr
    model = load_model(config.with_suffix(".npz"))  # output.model: next to the config
    history = model.metadata["training"]["history"]["cost"]
    if len(history) > 1:
        assert history[-1] < 0.75 * history[0]  # it learned (early stopping may end it soon)


@pytest.mark.parametrize(
    "name, target, cost, output, neurons",
    [
        ("iris.csv", "species", "categorical_cross_entropy", "softmax", 3),
        ("breast-cancer.csv", "diagnosis", "binary_cross_entropy", "sigmoid", 1),
        ("diabetes.csv", "progression", "mse", "identity", 1),
    ],
)
def test_target_type_picks_output_and_cost(name, target, cost, output, neurons, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    assert run("init", str(DATASETS / name), "--target", target, "-o", str(config)).exit_code == 0
    spec = load_config(config)
    assert spec.cost == cost
    assert spec.network.layers[-1].activation == output
    assert spec.network.layers[-1].neurons == neurons
    assert target not in (spec.data.features or [])
    assert spec.data.validation is not None and spec.data.validation.fraction == 0.2
    assert (spec.data.target_scaling == "standard") == (cost == "mse")


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    config = tmp_path / "iris.yaml"
    config.write_text("# mine\n", encoding="utf-8")
    result = run("init", str(DATASETS / "iris.csv"), "--target", "species", "-o", str(config))
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert config.read_text(encoding="utf-8") == "# mine\n"
    result = run("init", str(DATASETS / "iris.csv"), "--target", "species", "-o", str(config), "--force")
    assert result.exit_code == 0
    assert load_config(config).cost == "categorical_cross_entropy"


def test_default_output_and_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("init", str(DATASETS / "iris.csv"), "--target", "species").exit_code == 0
    assert (tmp_path / "iris.yaml").exists()
    result = run("init", str(DATASETS / "iris.csv"), "--target", "species", "-o", "-")
    assert result.exit_code == 0
    assert result.stdout == (tmp_path / "iris.yaml").read_text(encoding="utf-8")


def test_unknown_target_column(tmp_path: Path) -> None:
    result = run("init", str(DATASETS / "iris.csv"), "--target", "specis", "-o", str(tmp_path / "c.yaml"))
    assert result.exit_code == 3
    assert "did you mean 'species'" in result.stderr
    assert not (tmp_path / "c.yaml").exists()


def test_task_option(tmp_path: Path) -> None:
    csv = tmp_path / "codes.csv"
    rows = ["x1,x2,code"] + [f"{i % 7},{(i * 3) % 5},{i % 3}" for i in range(40)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = tmp_path / "codes.yaml"
    assert run("init", str(csv), "--target", "code", "-o", str(config)).exit_code == 0
    assert load_config(config).cost == "mse"  # numbers: regression by default
    result = run("init", str(csv), "--target", "code", "-o", str(config), "--force", "--task", "classification")
    assert result.exit_code == 0
    spec = load_config(config)
    assert spec.cost == "categorical_cross_entropy" and spec.network.layers[-1].neurons == 3
    assert run("train", str(config)).exit_code == 0
    result = run("init", str(DATASETS / "iris.csv"), "--target", "species", "-o", str(config), "--force",
                 "--task", "regression")
    assert result.exit_code == 3 and "needs a numeric target" in result.stderr
    result = run("init", str(csv), "--target", "code", "-o", str(config), "--force", "--task", "cluster")
    assert result.exit_code == 2


def test_awkward_columns(tmp_path: Path) -> None:
    """Names that YAML would misread, an id column, an empty column, missing cells, text."""
    csv = tmp_path / "awkward data.csv"
    lines = ['row id,yes,"size: cm",colour,empty,label']
    for i in range(30):
        colour = ["red", "green", "blue"][i % 3]
        size = "" if i == 4 else str(10 + (i * 7) % 13)
        lines.append(f"r{i},{i % 2},{size},{colour},,{'big' if (i * 7) % 13 > 5 else 'small'}")
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tmp_path / "sub" / "awkward.yaml"
    result = run("init", str(csv), "--target", "label", "-o", str(config))
    assert result.exit_code == 0, result.stderr
    assert "left out 'row id', 'empty'" in result.stderr
    spec = load_config(config)
    assert spec.data.features == ["yes", "size: cm", "colour"]
    assert spec.data.missing == "mean"
    assert spec.cost == "binary_cross_entropy"
    assert spec.data.train == "../awkward data.csv"
    assert run("train", str(config)).exit_code == 0


def test_tiny_file_gets_no_validation_split(tmp_path: Path) -> None:
    config = tmp_path / "house.yaml"
    assert run("init", str(DATASETS / "house-prices.csv"), "--target", "price", "-o", str(config)).exit_code == 0
    assert load_config(config).data.validation is None
    assert "no rows held out" in config.read_text(encoding="utf-8")
