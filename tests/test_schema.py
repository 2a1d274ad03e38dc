"""`nncli schema`: a valid JSON Schema that accepts the shipped configs and rejects typos."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from nncli.cli import app
from nncli.schema import schema_text
from nncli.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
COMMITTED = ROOT / "nncli.schema.json"
HEADER = "# yaml-language-server: $schema=../nncli.schema.json"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return jsonschema.Draft202012Validator(schema)


def config_data(path: Path) -> dict:
    data, _ = load_yaml(path)  # as nncli reads YAML (1e-3 is a number, as in YAML 1.2)
    return data


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_schema_accepts_every_shipped_config(validator, config: Path) -> None:
    errors = list(validator.iter_errors(config_data(config)))
    assert errors == [], [error.message for error in errors]


@pytest.mark.parametrize(
    "where",
    [(), ("data",), ("network",), ("training",), ("stopping",), ("output",), ("network", "layers", 0)],
)
def test_schema_rejects_an_unknown_key(validator, where: tuple) -> None:
    data = copy.deepcopy(config_data(ROOT / "configs" / "iris.yaml"))
    node = data
    for part in where:
        node = node[part]
    node["learnig_rate"] = 0.1
    errors = list(validator.iter_errors(data))
    assert errors and "learnig_rate" in errors[0].message


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["network"]["layers"][0].update(activation="relu6"),
        lambda d: d["network"]["layers"][0].update(neurons=0),
        lambda d: d["training"].update(learning_rate="fast"),
        lambda d: d.update(cost="hinge"),
        lambda d: d["data"].pop("targets"),
    ],
)
def test_schema_rejects_wrong_values(validator, change) -> None:
    data = copy.deepcopy(config_data(ROOT / "configs" / "iris.yaml"))
    change(data)
    assert list(validator.iter_errors(data))


def test_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "nncli.schema.json is stale: regenerate it with `nncli schema -o nncli.schema.json`"
    )


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_point_editors_at_the_schema(config: Path) -> None:
    first = config.read_text(encoding="utf-8").splitlines()[0]
    assert first == HEADER
    assert (config.parent / first.split("=", 1)[1]).resolve() == COMMITTED


def test_schema_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = run("schema", "-o", str(target))
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == schema_text()
    assert run("schema", "-o", str(tmp_path)).exit_code == 2  # a directory
