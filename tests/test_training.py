"""The training loop: each stopping criterion, reproducibility, float32 vs float64, divergence."""

from __future__ import annotations

import numpy as np

from nncli.config import load_config
from nncli.dataset import load_training_data
from nncli.network import Network
from nncli.run import build_network, settings_from
from nncli.training import Settings, Training

from conftest import ROOT


def linear_problem(k: int = 40):
    """y = 2 x1 − x2 + 0.5 exactly: linear regression (no hidden layer) converges."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, k))
    Y = 2 * X[:1] - X[1:] + 0.5
    return Network([2, 1], ["identity"], "mse"), X, Y


def test_gradient_tolerance_stops_the_run():
    network, X, Y = linear_problem()
    training = Training(
        network, X, Y, Settings(0.5, max_iterations=10_000, gradient_tolerance=1e-8, loss_change_tolerance=None)
    )
    stop = training.run()
    assert stop.criterion == "gradient_tolerance"
    assert training.history.gradient_norm[-1] < 1e-8 <= training.history.gradient_norm[-2]
    assert f"at iteration {stop.iteration}" in stop.message and "< 1e-08" in stop.message
    assert stop.iteration < 10_000
    np.testing.assert_allclose(network.W[1], [[2.0, -1.0]], atol=1e-7)


def test_loss_change_tolerance_with_patience():
    network, X, Y = linear_problem()
    settings = Settings(0.5, max_iterations=10_000, gradient_tolerance=None, loss_change_tolerance=1e-6, patience=3)
    training = Training(network, X, Y, settings)
    stop = training.run()
    assert stop.criterion == "loss_change_tolerance"
    changes = np.abs(np.diff(training.history.cost))
    assert (changes[-3:] < 1e-6).all() and changes[-4] >= 1e-6
    assert "for 3 iterations in a row" in stop.message


def test_max_iterations_stops_the_run():
    network, X, Y = linear_problem()
    training = Training(network, X, Y, Settings(0.01, max_iterations=7, gradient_tolerance=0.0, loss_change_tolerance=0.0))
    steps = list(training)
    assert [s.iteration for s in steps] == list(range(1, 8))
    assert training.stop.criterion == "max_iterations" and training.stop.iteration == 7
    assert len(training.history.cost) == 7


def test_final_cost_is_the_cost_of_the_saved_parameters():
    network, X, Y = linear_problem()
    training = Training(network, X, Y, Settings(0.1, max_iterations=5))
    training.run()
    assert training.final_cost == network.cost_value(X, Y)
    assert training.final_cost < training.history.cost[-1]


def train_shipped(name: str, overrides: list[str] = ()) -> np.ndarray:
    config = load_config(ROOT / "configs" / f"{name}.yaml", list(overrides))
    data = load_training_data(config)
    network = build_network(config, data)
    Training(network, data.X, data.Y, settings_from(config), data.X_validation, data.Y_validation).run()
    return network.theta


def test_same_seed_gives_bit_identical_weights():
    first = train_shipped("iris", ["stopping.max_iterations=50"])
    second = train_shipped("iris", ["stopping.max_iterations=50"])
    assert first.tobytes() == second.tobytes()
    other = train_shipped("iris", ["stopping.max_iterations=50", "seed=1"])
    assert first.tobytes() != other.tobytes()


def test_explicit_weights_leave_other_layers_random_draws_alone(write):
    write("d.csv", "a,b,y\n1,2,3\n2,1,0\n0,1,1\n")
    base = """
    data: {train: d.csv, targets: [y]}
    network:
      layers:
        - {neurons: 3, activation: tanh%s}
        - {neurons: 1}
    training: {learning_rate: 0.1}
    """
    plain = load_config(write("a.yaml", base % ""))
    given = load_config(write("b.yaml", base % ", weights: [[1, 0], [0, 1], [1, 1]]"))
    n1 = build_network(plain, load_training_data(plain))
    n2 = build_network(given, load_training_data(given))
    np.testing.assert_array_equal(n2.W[1], [[1, 0], [0, 1], [1, 1]])
    assert n1.W[2].tobytes() == n2.W[2].tobytes()


def test_float32_agrees_with_float64():
    f64 = train_shipped("iris", ["stopping.max_iterations=200"])
    f32 = train_shipped("iris", ["stopping.max_iterations=200", "training.dtype=float32"])
    assert f32.dtype == np.float32 and f64.dtype == np.float64
    np.testing.assert_allclose(f32, f64, rtol=2e-3, atol=2e-4)


def test_divergence_stops_before_the_update_and_keeps_finite_parameters():
    """Raw prices (y = 450000) with learning_rate 0.001: the cost overflows within a few
    hundred iterations; the loop stops at once and the parameters stay finite."""
    network = Network([1, 1, 1], ["identity", "identity"], "mse")
    network.W[1][...] = 0.5
    network.W[2][...] = 0.5
    X, Y = np.array([[3.0]]), np.array([[450000.0]])
    training = Training(network, X, Y, Settings(0.001, max_iterations=100_000))
    stop = training.run()
    assert stop.criterion == "diverged"
    assert np.isfinite(network.theta).all()
    assert stop.iteration == len(training.history.cost)
    assert f"at iteration {stop.iteration + 1}" in stop.message
    assert stop.iteration < 1000
