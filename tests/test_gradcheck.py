"""`nncli gradcheck`: passes on every shipped config, fails on an injected wrong gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nncli import activations
from nncli.cli import app
from nncli.gradcheck import gradient_check
from nncli.network import Network

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_there_are_configs_to_check() -> None:
    assert len(CONFIGS) >= 2


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_gradcheck_passes_on_every_shipped_config(config: Path) -> None:
    result = run("gradcheck", str(config))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "passed: every block agrees" in result.stdout
    assert "FAIL" not in result.stdout


def test_wrong_identity_derivative_fails_on_the_house(monkeypatch: pytest.MonkeyPatch) -> None:
    def twice(Z: np.ndarray) -> np.ndarray:  # f'(a) = 2 instead of 1
        Z.fill(2.0)
        return Z

    monkeypatch.setitem(activations.DERIVATIVES, "identity", twice)
    result = run("gradcheck", str(ROOT / "configs" / "house-prices.yaml"))
    assert result.exit_code == 1
    assert "gradient check failed for W_1, β_1" in result.stderr
    assert "W_2" not in result.stderr  # the output layer's gradient does not use f'_1
    assert "Traceback" not in result.stderr


def test_wrong_tanh_derivative_fails_on_iris(monkeypatch: pytest.MonkeyPatch) -> None:
    # the classic mistake: sigmoid's z(1 − z) where tanh needs 1 − z²
    monkeypatch.setitem(activations.DERIVATIVES, "tanh", activations.d_sigmoid)
    result = run("gradcheck", str(ROOT / "configs" / "iris.yaml"))
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "back propagation disagrees" in result.stderr


def _check(sizes, names, cost, Y_kind="regression", seed=0, **options):
    rng = np.random.default_rng(seed)
    network = Network(sizes, names, cost)
    network.theta[:] = rng.normal(0, 0.8, network.parameter_count)
    k = 30
    X = rng.normal(size=(sizes[0], k))
    if Y_kind == "classes":
        Y = np.zeros((sizes[-1], k))
        Y[rng.integers(0, sizes[-1], k), np.arange(k)] = 1
    elif Y_kind == "binary":
        Y = rng.integers(0, 2, (sizes[-1], k)).astype(float)
    else:
        Y = rng.normal(size=(sizes[-1], k))
    before = network.theta.copy()
    check = gradient_check(network, X, Y, np.random.default_rng(1), **options)
    np.testing.assert_array_equal(network.theta, before)  # the network is not touched
    return check


@pytest.mark.parametrize(
    "sizes, names, cost, kind",
    [
        ((3, 5, 2), ("sigmoid", "identity"), "mse", "regression"),
        ((3, 5, 4, 3), ("elu", "softplus", "softmax"), "categorical_cross_entropy", "classes"),
        ((3, 4, 2), ("tanh", "sigmoid"), "binary_cross_entropy", "binary"),
        ((3, 4, 3), ("tanh", "softmax"), "mse", "regression"),  # softmax with mse: unmatched
        ((3, 4, 1), ("tanh", "sigmoid"), "mse", "regression"),  # sigmoid with mse: unmatched
    ],
)
def test_gradient_check_passes_for_smooth_networks(sizes, names, cost, kind) -> None:
    check = _check(sizes, names, cost, kind)
    assert check.passed, [(b.name, b.relative_error) for b in check.blocks]
    assert all(b.relative_error < 1e-7 for b in check.blocks)
    assert {b.name for b in check.blocks} == {f"{p}_{l}" for l in range(1, len(sizes)) for p in "Wβ"}


def test_relu_kinks_are_skipped_not_failed() -> None:
    # a large ε makes perturbations cross relu's kink at 0 often; those entries are skipped
    check = _check((3, 8, 1), ("relu", "identity"), "mse", epsilon=0.05, tolerance=1e-4)
    assert sum(b.kinks for b in check.blocks) > 0
    assert check.passed, [(b.name, b.relative_error) for b in check.blocks]


def test_sampling_limits_the_work() -> None:
    check = _check((6, 30, 2), ("tanh", "identity"), "mse", observations=5, entries=7)
    assert check.observations == 5 and check.of == 30
    sizes = {b.name: (b.checked, b.size) for b in check.blocks}
    assert sizes["W_1"] == (7, 180) and sizes["β_1"] == (7, 30) and sizes["β_2"] == (2, 2)
    assert check.passed


@pytest.mark.parametrize("option", [["--epsilon", "0"], ["--tolerance", "-1"], ["--epsilon", "nan"]])
def test_bad_options_are_usage_errors(option: list[str]) -> None:
    result = run("gradcheck", str(ROOT / "configs" / "house-prices.yaml"), *option)
    assert result.exit_code == 2
    assert "expected a positive number" in result.stderr


def test_config_errors_keep_their_exit_code(tmp_path: Path) -> None:
    assert run("gradcheck", str(tmp_path / "missing.yaml")).exit_code == 2
