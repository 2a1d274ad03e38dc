"""Each optimizer against steps computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from nncli.network import Network, Workspace
from nncli.optimizers import Adam, GradientDescent, Momentum, make_optimizer


def test_gradient_descent_is_spec_worked_example_1() -> None:
    # SPEC.md: x = 3, y = 450, w1 = w2 = 0.5, β1 = β2 = 0, learning_rate 0.001. Gradients
    # ∂/∂w1 = −673.875, ∂/∂β1 = −224.625, ∂/∂w2 = −673.875, ∂/∂β2 = −449.25, so
    # w1 = 0.5 + 0.673875 = 1.173875, β1 = 0.224625, w2 = 1.173875, β2 = 0.44925.
    network = Network([1, 1, 1], ["identity", "identity"], "mse")
    network.W[1][0, 0] = network.W[2][0, 0] = 0.5
    workspace = Workspace(network, 1)
    with np.errstate(all="raise"):
        cost = workspace.compute(np.array([[3.0]]), np.array([[450.0]]))
        GradientDescent(network.parameter_count, network.dtype, 0.001).step(network.theta, workspace.grad)
    assert cost == 100912.78125
    assert network.W[1][0, 0] == 1.173875 and network.beta[1][0, 0] == 0.224625
    assert network.W[2][0, 0] == 1.173875 and network.beta[2][0, 0] == 0.44925


def test_momentum_two_steps_by_hand() -> None:
    # μ = 0.5, η = 0.5, θ0 = (1, −2), v0 = 0. All numbers are exact in binary.
    # step 1, g1 = (0.5, 1):  v1 = 0.5·0 + g1 = (0.5, 1);  θ1 = θ0 − 0.5·v1 = (0.75, −2.5)
    # step 2, g2 = (1, −1):   v2 = 0.5·(0.5, 1) + (1, −1) = (1.25, −0.5)
    #                         θ2 = (0.75 − 0.625, −2.5 + 0.25) = (0.125, −2.25)
    optimizer = Momentum(2, np.dtype(np.float64), learning_rate=0.5, momentum=0.5)
    theta = np.array([1.0, -2.0])
    with np.errstate(all="raise"):
        optimizer.step(theta, np.array([0.5, 1.0]))
        assert theta.tolist() == [0.75, -2.5]
        assert optimizer.state["velocity"].tolist() == [0.5, 1.0]
        optimizer.step(theta, np.array([1.0, -1.0]))
    assert optimizer.state["velocity"].tolist() == [1.25, -0.5]
    assert theta.tolist() == [0.125, -2.25]
    assert optimizer.steps == 2


def test_adam_two_steps_by_hand() -> None:
    # β1 = 0.5, β2 = 0.75, ε = 0.25, η = 0.5, θ0 = (1, −2), m0 = v0 = 0.
    # step 1 (t = 1), g1 = (2, −4):
    #   m1 = 0.5·0 + 0.5·g1 = (1, −2);   v1 = 0.75·0 + 0.25·g1² = (1, 4)
    #   m̂ = m1 / (1 − 0.5) = (2, −4);    v̂ = v1 / (1 − 0.75) = (4, 16);  √v̂ + ε = (2.25, 4.25)
    #   θ1 = θ0 − 0.5·(2 / 2.25, −4 / 4.25) = (1 − 4/9, −2 + 8/17) = (5/9, −26/17)
    # step 2 (t = 2), g2 = (1, 2):
    #   m2 = 0.5·(1, −2) + 0.5·(1, 2) = (1, 0);   v2 = 0.75·(1, 4) + 0.25·(1, 4) = (1, 4)
    #   m̂ = m2 / (1 − 0.25) = (4/3, 0);   v̂ = v2 / (1 − 0.5625) = (16/7, 64/7)
    #   θ2 = θ1 − 0.5·((4/3) / (4/√7 + 0.25), 0) = (5/9 − (2/3) / (4/√7 + 1/4), −26/17)
    optimizer = Adam(2, np.dtype(np.float64), learning_rate=0.5, beta1=0.5, beta2=0.75, epsilon=0.25)
    theta = np.array([1.0, -2.0])
    with np.errstate(all="raise"):
        optimizer.step(theta, np.array([2.0, -4.0]))
        assert optimizer.state["m"].tolist() == [1.0, -2.0]
        assert optimizer.state["v"].tolist() == [1.0, 4.0]
        assert theta == pytest.approx([5 / 9, -26 / 17], rel=1e-15)
        optimizer.step(theta, np.array([1.0, 2.0]))
    assert optimizer.state["m"].tolist() == [1.0, 0.0]
    assert optimizer.state["v"].tolist() == [1.0, 4.0]
    assert theta == pytest.approx([5 / 9 - (2 / 3) / (4 / math.sqrt(7) + 0.25), -26 / 17], rel=1e-15)
    assert optimizer.steps == 2


def test_adam_first_step_moves_each_parameter_by_the_learning_rate() -> None:
    # With the usual β1, β2 and |g| ≫ ε: m̂ = g, v̂ = g², so θ1 = θ0 − η g / (|g| + ε) ≈ θ0 − η sign(g).
    optimizer = make_optimizer("adam", 3, np.dtype(np.float64), 0.01)
    theta = np.zeros(3)
    optimizer.step(theta, np.array([1e-3, -50.0, 7.0]))
    assert theta == pytest.approx([-0.01, 0.01, -0.01], rel=1e-4)


def test_momentum_zero_is_gradient_descent_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    start = rng.normal(size=50)
    gd, heavy = start.copy(), start.copy()
    plain = GradientDescent(50, np.dtype(np.float64), 0.3)
    momentum = Momentum(50, np.dtype(np.float64), 0.3, momentum=0.0)
    for _ in range(20):
        g = rng.normal(size=50)
        plain.step(gd, g)
        momentum.step(heavy, g)
    assert np.array_equal(gd, heavy)


@pytest.mark.parametrize("name", ["gd", "momentum", "adam"])
def test_saved_state_continues_exactly(name: str) -> None:
    rng = np.random.default_rng(1)
    gradients = rng.normal(size=(6, 10))
    straight = make_optimizer(name, 10, np.dtype(np.float64), 0.1)
    theta = np.ones(10)
    for g in gradients:
        straight.step(theta, g)
    first = make_optimizer(name, 10, np.dtype(np.float64), 0.1)
    resumed_theta = np.ones(10)
    for g in gradients[:3]:
        first.step(resumed_theta, g)
    second = make_optimizer(name, 10, np.dtype(np.float64), 0.1)
    second.load_state({key: value.copy() for key, value in first.state.items()}, first.steps)
    for g in gradients[3:]:
        second.step(resumed_theta, g)
    assert np.array_equal(theta, resumed_theta)
    assert second.steps == 6


@pytest.mark.parametrize("name", ["gd", "momentum", "adam"])
def test_a_step_allocates_no_arrays(name: str) -> None:
    size = 100_000  # 800 kB per float64 array: any allocation of one would show
    optimizer = make_optimizer(name, size, np.dtype(np.float64), 0.01)
    theta, grad = np.zeros(size), np.full(size, 0.5)
    optimizer.step(theta, grad)  # warm up
    tracemalloc.start()
    try:
        for _ in range(5):
            optimizer.step(theta, grad)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size * 8 // 10


def test_float32_stays_float32() -> None:
    optimizer = make_optimizer("adam", 4, np.dtype(np.float32), 0.01)
    theta = np.zeros(4, np.float32)
    optimizer.step(theta, np.ones(4, np.float32))
    assert theta.dtype == np.float32 and optimizer.state["m"].dtype == np.float32


def test_unknown_optimizer_and_wrong_state_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("sgd", 3, np.dtype(np.float64), 0.1)
    with pytest.raises(ValueError, match="keeps"):
        make_optimizer("adam", 3, np.dtype(np.float64), 0.1).load_state({"velocity": np.zeros(3)}, 1)
