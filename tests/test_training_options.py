"""The training loop's options, on small arrays: mini-batches, l2, gradient_clip, early
stopping with restore_best, divergence, and exact resume from a checkpoint."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from nncli.network import Network, Workspace
from nncli.training import Settings, Training, shuffle_generator

RUN = dict(max_iterations=None, gradient_tolerance=None, loss_change_tolerance=None)


def regression(k: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3, k))
    Y = np.tanh(X[:1] - 0.5 * X[1:2]) + 0.1 * rng.normal(size=(1, k))
    return X, Y


def network(seed: int = 0) -> Network:
    net = Network([3, 5, 1], ["tanh", "identity"], "mse")
    net.theta[...] = np.random.default_rng(seed).normal(scale=0.5, size=net.parameter_count)
    return net


def train(settings: Settings, X: np.ndarray, Y: np.ndarray, **kwargs: object) -> Training:
    training = Training(network(), X, Y, settings, **kwargs)  # type: ignore[arg-type]
    with np.errstate(all="raise"):
        training.run()
    return training


def test_batch_size_k_or_more_is_full_batch_bit_for_bit() -> None:
    X, Y = regression()
    full = train(Settings(0.1, max_iterations=30), X, Y)
    for b in (40, 64):
        batched = train(Settings(0.1, max_iterations=30, batch_size=b), X, Y)
        assert np.array_equal(batched.network.theta, full.network.theta)
        assert batched.history.cost == full.history.cost
        assert batched.history.gradient_norm == full.history.gradient_norm


def test_mini_batches_are_sgd_steps_on_reshuffled_columns() -> None:
    # k = 40, b = 16: batches of 16, 16 and 8 columns per pass, each pass a new permutation
    # from SeedSequence([seed, 2]); every batch is one gradient-descent step.
    X, Y = regression()
    settings = Settings(0.1, max_iterations=2, gradient_tolerance=None, loss_change_tolerance=None, batch_size=16, seed=7)
    training = train(settings, X, Y)

    reference = network()
    rng = shuffle_generator(7)
    costs, norms = [], []
    for _ in range(2):
        order = np.arange(40)
        rng.shuffle(order)
        cost = squared = 0.0
        for lo in range(0, 40, 16):
            columns = order[lo : lo + 16]
            workspace = Workspace(reference, len(columns))
            c = workspace.compute(X[:, columns], Y[:, columns])
            g = workspace.grad
            cost += len(columns) / 40 * c
            squared += len(columns) / 40 * float(np.dot(g, g))
            reference.theta -= g * 0.1
        costs.append(cost)
        norms.append(math.sqrt(squared))
    assert np.array_equal(training.network.theta, reference.theta)
    assert training.history.cost == costs
    assert training.history.gradient_norm == norms
    assert training.optimizer.steps == 6


def test_l2_decays_W_not_beta_and_is_in_the_cost() -> None:
    # One full-batch step with λ = 0.5: cost = data cost + λ/2 Σ‖W_l‖²,
    # W_l ← W_l − η (∂cost/∂W_l + λ W_l), β_l ← β_l − η ∂cost/∂β_l.
    X, Y = regression()
    training = train(Settings(0.1, max_iterations=1, l2=0.5), X, Y)
    start = network()
    workspace = Workspace(start, 40)
    data_cost = workspace.compute(X, Y)
    squares = sum(float(np.sum(start.W[l] ** 2)) for l in (1, 2))
    assert training.history.cost[0] == pytest.approx(data_cost + 0.25 * squares, rel=1e-14)
    trained = training.network
    for l in (1, 2):
        np.testing.assert_allclose(trained.W[l], start.W[l] - 0.1 * (workspace.dW[l] + 0.5 * start.W[l]), rtol=1e-14)
        np.testing.assert_allclose(trained.beta[l], start.beta[l] - 0.1 * workspace.dbeta[l], rtol=1e-14)


def test_gradient_clip_limits_the_global_norm() -> None:
    X, Y = regression()
    start = network()
    workspace = Workspace(start, 40)
    workspace.compute(X, Y)
    g = workspace.grad.copy()
    norm = float(np.linalg.norm(g))
    clipped = train(Settings(0.1, max_iterations=1, gradient_clip=norm / 4), X, Y)
    np.testing.assert_allclose(clipped.network.theta, start.theta - 0.1 * g / 4, rtol=1e-13)
    assert clipped.history.gradient_norm[0] == pytest.approx(norm, rel=1e-14)  # reported unclipped
    loose = train(Settings(0.1, max_iterations=5, gradient_clip=1e6), X, Y)
    plain = train(Settings(0.1, max_iterations=5), X, Y)
    assert np.array_equal(loose.network.theta, plain.network.theta)


def overfitting_line() -> tuple[Network, tuple[np.ndarray, ...]]:
    # ŷ = w x + β, w0 = 0: gradient descent on y = 3x moves w from 0 towards 3, so the
    # validation cost on y = 1.5x first falls, is lowest near w = 1.5, and then rises.
    net = Network([1, 1], ["identity"], "mse")
    X = np.linspace(-1, 1, 9)[None, :]
    return net, (X, 3 * X, X, 1.5 * X)


def test_early_stopping_restores_the_best_iteration_exactly() -> None:
    net, (X, Y, Xv, Yv) = overfitting_line()
    settings = Settings(0.05, max_iterations=500, gradient_tolerance=None, loss_change_tolerance=0.0,
                        patience=5, monitor="validation_cost", restore_best=True)
    training = Training(net, X, Y, settings, Xv, Yv)
    with np.errstate(all="raise"):
        stop = training.run()
    held = training.held
    assert stop.criterion == "loss_change_tolerance"
    assert held is not None and held.which == "best"
    best = held.iteration
    # step t measures θ_(t−1): the best was measured in step best + 1, then 5 more without improvement
    assert stop.iteration == best + 1 + 5
    assert training.history.validation_cost[best] == min(training.history.validation_cost)
    assert "iteration" in held.reason and str(best) in held.reason
    # The held parameters are those after `best` iterations, bit for bit.
    again, _ = overfitting_line()
    Training(again, X, Y, dataclasses.replace(settings, max_iterations=best, restore_best=False), Xv, Yv).run()
    assert np.array_equal(training.network.theta, again.theta)
    assert abs(training.network.W[1][0, 0] - 1.5) < 0.1
    # The last parameters are kept for --resume.
    assert training.checkpoint().iteration == stop.iteration
    assert not np.array_equal(training.checkpoint().theta, training.network.theta)


def test_without_restore_best_the_last_parameters_are_kept() -> None:
    net, (X, Y, Xv, Yv) = overfitting_line()
    settings = Settings(0.05, max_iterations=500, gradient_tolerance=None, loss_change_tolerance=0.0,
                        patience=5, monitor="validation_cost", restore_best=False)
    training = Training(net, X, Y, settings, Xv, Yv)
    stop = training.run()
    assert training.held is not None and training.held.which == "last"
    assert training.held.iteration == stop.iteration
    again, _ = overfitting_line()
    Training(again, X, Y, dataclasses.replace(settings, max_iterations=stop.iteration), Xv, Yv).run()
    assert np.array_equal(training.network.theta, again.theta)


def test_training_cost_criterion_b_is_spec_negligible_change() -> None:
    # monitor training_cost: b) is |Δcost| < tolerance for `patience` iterations in a row.
    X, Y = regression()
    training = train(Settings(0.5, max_iterations=5000, gradient_tolerance=None, loss_change_tolerance=1e-6, patience=3), X, Y)
    costs = training.history.cost
    assert training.stop is not None and training.stop.criterion == "loss_change_tolerance"
    assert all(abs(a - b) < 1e-6 for a, b in zip(costs[-4:-1], costs[-3:]))
    assert abs(costs[-5] - costs[-4]) >= 1e-6


def test_a_rising_training_cost_diverges_instead_of_stopping_early() -> None:
    # SPEC worked example 1 with learning_rate 1: the cost grows every iteration. That is not a
    # "negligible change", so even patience 1 does not end the run as a success.
    net = Network([1, 1, 1], ["identity", "identity"], "mse")
    net.W[1][0, 0] = net.W[2][0, 0] = 0.5
    settings = Settings(1.0, max_iterations=1000, loss_change_tolerance=1e-10, patience=1, restore_best=True)
    training = Training(net, np.array([[3.0]]), np.array([[450.0]]), settings)
    with np.errstate(all="raise"):
        stop = training.run()
    assert stop.criterion == "diverged"
    assert training.history.cost == sorted(training.history.cost)


@pytest.mark.parametrize("batch_size", [None, 8])
def test_divergence_stops_before_the_update_with_finite_parameters(batch_size: int | None) -> None:
    X, Y = regression()
    Y = Y * 1e6  # raw, huge targets and a large learning rate: the cost overflows
    training = Training(network(), X, Y, Settings(5.0, max_iterations=1000, batch_size=batch_size))
    with np.errstate(all="raise"):
        stop = training.run()
    assert stop.criterion == "diverged" and not stop.success
    assert np.isfinite(training.network.theta).all()
    assert f"iteration {stop.iteration + 1}" in stop.message
    if batch_size:
        assert "batch" in stop.message
    assert all(math.isfinite(c) for c in training.history.cost)
    assert training.held is not None and training.held.which == "last"


OPTIONS = [
    dict(optimizer="gd"),
    dict(optimizer="momentum", momentum=0.8),
    dict(optimizer="adam", learning_rate=0.02),
    dict(optimizer="gd", batch_size=16),
    dict(optimizer="momentum", batch_size=7, l2=0.01, gradient_clip=0.5),
    dict(optimizer="adam", batch_size=16, learning_rate=0.02, restore_best=True, monitor="validation_cost",
         loss_change_tolerance=0.0, patience=1000),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_resume_equals_uninterrupted_training_bit_for_bit(options: dict) -> None:
    X, Y = regression(seed=1)
    Xv, Yv = regression(k=15, seed=2)
    base = dict(learning_rate=0.1, max_iterations=24, gradient_tolerance=None, loss_change_tolerance=None, seed=5)
    settings = Settings(**{**base, **options})
    straight = Training(network(), X, Y, settings, Xv, Yv)
    straight.run()

    first = Training(network(), X, Y, dataclasses.replace(settings, max_iterations=12), Xv, Yv)
    first.run()
    checkpoint = first.checkpoint()
    resumed = Training(network(seed=99), X, Y, settings, Xv, Yv, resume=checkpoint)  # θ comes from the checkpoint
    with np.errstate(all="raise"):
        resumed.run()

    assert np.array_equal(resumed.network.theta, straight.network.theta)
    assert resumed.held == straight.held
    assert resumed.history.cost == straight.history.cost
    assert resumed.history.validation_cost == straight.history.validation_cost
    for name, array in straight.optimizer.state.items():
        assert np.array_equal(resumed.optimizer.state[name], array)
    assert resumed.optimizer.steps == straight.optimizer.steps
    assert resumed.iteration == straight.iteration == 24


def test_interrupt_stops_at_an_iteration_boundary() -> None:
    X, Y = regression()
    training = Training(network(), X, Y, Settings(0.1, **RUN))
    for step in training:
        if step.iteration == 3:
            training.request_stop()
    assert training.stop is not None and training.stop.criterion == "interrupted"
    assert training.iteration == 3 and training.held is not None and training.held.which == "last"
