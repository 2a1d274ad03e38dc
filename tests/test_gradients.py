"""Back propagation against finite differences, for every pairing the config accepts.

The reference is a fourth-order central difference of the cost (computed by the plain
forward pass, `Network.cost_value`), float64:
    ∂cost/∂θ_i ≈ (−c(θ_i + 2h) + 8 c(θ_i + h) − 8 c(θ_i − h) + c(θ_i − 2h)) / 12h
whose truncation error is O(h⁴), so h = 1e-4 leaves only rounding (~1e-12). Every single
parameter must agree to a relative error |a − n| / (|a| + |n|) below 1e-6.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import nncli.network as network_module
from nncli import activations as act
from nncli.activations import ACTIVATION_NAMES
from nncli.costs import COSTS
from nncli.network import Network, Workspace

HIDDEN = [name for name in ACTIVATION_NAMES if name != "softmax"]
# What the config accepts: mse with any output activation, binary cross-entropy with a
# sigmoid output, categorical cross-entropy with a softmax output.
PAIRINGS = [("mse", out) for out in ACTIVATION_NAMES] + [
    ("binary_cross_entropy", "sigmoid"),
    ("categorical_cross_entropy", "softmax"),
]
H = 1e-4
RELATIVE = 1e-6
# Rounding noise of the difference quotient: about ε·|cost|/h (ε = 2.2e-16). A derivative
# near zero is held to NOISE × ε·max(|cost|, 1)/h absolute instead of a relative error.
NOISE = 20


def targets(rng: np.random.Generator, cost: str, n: int, k: int) -> np.ndarray:
    if cost == "categorical_cross_entropy":
        return np.eye(n)[:, rng.integers(0, n, k)]
    if cost == "binary_cross_entropy":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    return rng.normal(size=(n, k))


def numeric_gradient(network: Network, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    theta = network.theta
    result = np.empty_like(theta)
    for i in range(theta.size):
        old = theta[i]
        values = []
        for offset in (2 * H, H, -H, -2 * H):
            theta[i] = old + offset
            values.append(network.cost_value(X, Y))
        theta[i] = old
        result[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * H)
    return result


def assert_gradients_match(network: Network, X: np.ndarray, Y: np.ndarray, workspace=None) -> None:
    """The back propagation of `workspace` (default: a Workspace over X's columns) against
    4th-order central differences of the cost, every parameter."""
    workspace = Workspace(network, X.shape[1]) if workspace is None else workspace
    cost = workspace.compute(X, Y)
    assert cost == pytest.approx(network.cost_value(X, Y), rel=1e-12)
    analytic = workspace.grad.copy()
    numeric = numeric_gradient(network, X, Y)
    absolute = NOISE * np.finfo(np.float64).eps * max(abs(cost), 1.0) / H
    allowed = np.maximum(RELATIVE * (np.abs(analytic) + np.abs(numeric)), absolute)
    excess = np.abs(analytic - numeric) / allowed
    worst = int(np.argmax(excess))
    assert excess[worst] < 1, (
        f"parameter {worst}: analytic {analytic[worst]!r} vs numeric {numeric[worst]!r}"
    )


# f' jumps at 0 (relu, leaky_relu) or f'' does (elu): a difference quotient across 0 is off.
KINKED = {"relu", "leaky_relu", "elu"}
KINK_MARGIN = 1e-2  # > the largest change of A_l that a ±2h step of one parameter can cause


def clear_of_kinks(network: Network, X: np.ndarray) -> bool:
    """True when no relu/leaky_relu pre-activation lies within KINK_MARGIN of 0."""
    Z = X
    for l in range(1, network.m + 1):
        A = network.W[l] @ Z + network.beta[l]
        if network.activation(l) in KINKED and np.min(np.abs(A)) < KINK_MARGIN:
            return False
        Z = act.activate(network.activation(l), A)
    return True


def random_case(seed: int, cost: str, output: str, hidden: list[str]):
    """A random network and data; redrawn until no kinked unit sits at its kink."""
    rng = np.random.default_rng(seed)
    n0 = int(rng.integers(1, 5))
    sizes = [n0] + [int(rng.integers(2, 6)) for _ in hidden] + [int(rng.integers(2, 4))]
    network = Network(sizes, hidden + [output], cost)
    k = int(rng.integers(3, 9))
    while True:
        network.theta[:] = rng.normal(0.0, 0.8, network.parameter_count)
        X = rng.normal(size=(n0, k))
        if clear_of_kinks(network, X):
            break
    Y = targets(rng, cost, sizes[-1], k)
    return network, X, Y


def stable_seed(*parts: object) -> int:
    """A seed from the test's parameters that is the same in every process (unlike hash())."""
    return zlib.crc32(repr(parts).encode())


@pytest.mark.parametrize("cost,output", PAIRINGS)
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_every_pairing_and_depth(cost, output, depth):
    """1 to 3 hidden layers, each hidden activation appearing across the cases."""
    seed = stable_seed(cost, output, depth)
    rng = np.random.default_rng(seed)
    hidden = [HIDDEN[(i + int(rng.integers(0, len(HIDDEN)))) % len(HIDDEN)] for i in range(depth)]
    network, X, Y = random_case(seed, cost, output, hidden)
    assert_gradients_match(network, X, Y)


@pytest.mark.parametrize("activation", HIDDEN)
def test_every_hidden_activation(activation):
    for cost, output in [("mse", "identity"), ("categorical_cross_entropy", "softmax")]:
        network, X, Y = random_case(7, cost, output, [activation, activation])
        assert_gradients_match(network, X, Y)


def test_no_hidden_layer_is_regression():
    """L0 → L1: plain linear (mse) and logistic (binary cross-entropy) regression."""
    for cost, output in [("mse", "identity"), ("binary_cross_entropy", "sigmoid")]:
        network, X, Y = random_case(3, cost, output, [])
        assert_gradients_match(network, X, Y)


def test_blocked_back_propagation(monkeypatch):
    """δ_(l-1) is formed a block of columns at a time; blocks must not change the result."""
    network, X, Y = random_case(11, "mse", "identity", ["tanh", "relu"])
    X = np.random.default_rng(0).normal(size=(X.shape[0], 23))
    Y = np.random.default_rng(1).normal(size=(Y.shape[0], 23))
    whole = Workspace(network, 23)
    whole.compute(X, Y)
    monkeypatch.setattr(network_module, "BLOCK_COLUMNS", 5)
    blocked = Workspace(network, 23)
    blocked.compute(X, Y)
    np.testing.assert_allclose(blocked.grad, whole.grad, rtol=1e-13, atol=1e-15)
    assert_gradients_match(network, X, Y)


def test_matched_shortcut_equals_general_chain_rule(monkeypatch):
    """(Ŷ − Y)/k for the three matched pairs equals the chain rule through f_m."""
    import nncli.network as nw

    for cost in COSTS:
        output = COSTS[cost].matched_activation
        network, X, Y = random_case(5, cost, output, ["tanh"])
        Y = np.clip(Y, 0, 1) if cost == "binary_cross_entropy" else Y
        shortcut = Workspace(network, X.shape[1])
        shortcut.compute(X, Y)
        monkeypatch.setattr(nw, "is_matched", lambda c, a: False)
        general = Workspace(network, X.shape[1])
        general.compute(X, Y)
        monkeypatch.undo()
        np.testing.assert_allclose(general.grad, shortcut.grad, rtol=1e-9, atol=1e-12)


def test_all_gradients_use_the_parameters_before_the_update():
    """δ_(l-1) uses W_l before W_l is updated: one Training step equals θ − lr·∇ at θ."""
    from nncli.training import Settings, Training

    network, X, Y = random_case(9, "mse", "identity", ["sigmoid", "tanh"])
    before = network.theta.copy()
    workspace = Workspace(network, X.shape[1])
    workspace.compute(X, Y)
    expected = before - 0.1 * workspace.grad
    Training(network, X, Y, Settings(learning_rate=0.1, max_iterations=1)).run()
    np.testing.assert_array_equal(network.theta, expected)
