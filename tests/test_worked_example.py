"""SPEC.md worked example 1 (the house), checked to the last digit.

x = 3, y = 450, network 1–1–1 with identity activations and mse, w1 = 0.5, β1 = 0,
w2 = 0.5, β2 = 0, learning_rate = 0.001. By hand:
    z1 = w1·x + β1 = 1.5            ŷ = w2·z1 + β2 = 0.75
    cost = ½ (ŷ − y)² = ½ · 449.25² = 100912.78125
    δ2 = ŷ − y = −449.25            ∂/∂β2 = δ2 = −449.25       ∂/∂w2 = δ2 · z1 = −673.875
    δ1 = w2 · δ2 = −224.625         ∂/∂β1 = δ1 = −224.625      ∂/∂w1 = δ1 · x = −673.875
    new values: θ − 0.001 · ∂/∂θ → β2 = 0.44925, w2 = 1.173875, β1 = 0.224625, w1 = 1.173875
"""

from __future__ import annotations

import numpy as np
import pytest

from nncli.config import load_config
from nncli.dataset import load_training_data
from nncli.modelfile import load_model
from nncli.network import Network, Workspace
from nncli.run import build_network, settings_from
from nncli.training import Training

TOL = 1e-12


def house_network() -> tuple[Network, np.ndarray, np.ndarray]:
    network = Network([1, 1, 1], ["identity", "identity"], "mse")
    network.W[1][...] = 0.5
    network.W[2][...] = 0.5
    return network, np.array([[3.0]]), np.array([[450.0]])


def test_forward_pass_and_cost():
    network, X, Y = house_network()
    A1 = network.W[1] @ X + network.beta[1]
    assert A1[0, 0] == pytest.approx(1.5, abs=TOL)
    assert network.forward(X)[0, 0] == pytest.approx(0.75, abs=TOL)
    assert network.cost_value(X, Y) == pytest.approx(100912.78125, abs=TOL)


def test_gradients():
    network, X, Y = house_network()
    workspace = Workspace(network, 1)
    cost = workspace.compute(X, Y)
    assert cost == pytest.approx(100912.78125, abs=TOL)
    assert workspace.dbeta[2][0, 0] == pytest.approx(-449.25, abs=TOL)
    assert workspace.dW[2][0, 0] == pytest.approx(-673.875, abs=TOL)
    assert workspace.dbeta[1][0, 0] == pytest.approx(-224.625, abs=TOL)
    assert workspace.dW[1][0, 0] == pytest.approx(-673.875, abs=TOL)


def test_one_iteration_new_values():
    network, X, Y = house_network()
    training = Training(network, X, Y, settings_from_values(max_iterations=1))
    steps = list(training)
    assert len(steps) == 1
    assert steps[0].cost == pytest.approx(100912.78125, abs=TOL)
    assert training.stop is not None and training.stop.criterion == "max_iterations"
    assert network.beta[2][0, 0] == pytest.approx(0.44925, abs=TOL)
    assert network.W[2][0, 0] == pytest.approx(1.173875, abs=TOL)
    assert network.beta[1][0, 0] == pytest.approx(0.224625, abs=TOL)
    assert network.W[1][0, 0] == pytest.approx(1.173875, abs=TOL)


def settings_from_values(**values):
    from nncli.training import Settings

    return Settings(learning_rate=0.001, **values)


def test_shipped_config_reproduces_the_example(tmp_path):
    """configs/house-prices.yaml + datasets/house-prices.csv, one iteration, via the library."""
    from conftest import ROOT

    config = load_config(
        ROOT / "configs" / "house-prices.yaml", ["stopping.max_iterations=1"]
    )
    data = load_training_data(config)
    np.testing.assert_array_equal(data.X, [[3.0]])
    np.testing.assert_array_equal(data.Y, [[450.0]])
    network = build_network(config, data)
    Training(network, data.X, data.Y, settings_from(config)).run()
    expected = {"W1": 1.173875, "beta1": 0.224625, "W2": 1.173875, "beta2": 0.44925}
    got = {
        "W1": network.W[1][0, 0],
        "beta1": network.beta[1][0, 0],
        "W2": network.W[2][0, 0],
        "beta2": network.beta[2][0, 0],
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=TOL), name


def test_cli_saves_the_example(runner, house):
    from nncli.cli import app

    result = runner.invoke(app, ["train", str(house)])
    assert result.exit_code == 0, result.output
    model = load_model(house.parent / "model.npz")
    assert model.network.W[1][0, 0] == pytest.approx(1.173875, abs=TOL)
    assert model.network.W[2][0, 0] == pytest.approx(1.173875, abs=TOL)
    assert model.network.beta[1][0, 0] == pytest.approx(0.224625, abs=TOL)
    assert model.network.beta[2][0, 0] == pytest.approx(0.44925, abs=TOL)
    assert model.training["history"]["cost"][0] == pytest.approx(100912.78125, abs=TOL)
