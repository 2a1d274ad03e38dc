"""The optimized Workspace against an independent, plain, allocating reference (float64).

The reference below is SPEC.md written out the simplest way: every intermediate is a new
array, activations and their derivatives are taken from A_l (not from Z_l in place), and
δ_m always comes from the general chain rule δ_m = J_f_mᵀ ∂cost/∂Ŷ (no matched-pair
shortcut). It shares no code with nncli. Its own gradient is checked by finite differences.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nncli import network as network_module
from nncli.network import BLOCK_COLUMNS, GEMV_MIN_ELEMENTS, Network, Workspace
from nncli.training import Settings, Training

# -- the reference ----------------------------------------------------------------------------


def _f(name: str, A: np.ndarray) -> np.ndarray:
    if name == "identity":
        return A.copy()
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-A))
    if name == "tanh":
        return np.tanh(A)
    if name == "relu":
        return np.where(A > 0, A, 0.0)
    if name == "leaky_relu":
        return np.where(A > 0, A, 0.01 * A)
    if name == "elu":
        return np.where(A > 0, A, np.exp(A) - 1.0)
    if name == "softplus":
        return np.log(1.0 + np.exp(A))
    if name == "softmax":
        E = np.exp(A - A.max(axis=0))
        return E / E.sum(axis=0)
    raise AssertionError(name)


def _df(name: str, A: np.ndarray) -> np.ndarray:
    """f'(A) elementwise (not for softmax)."""
    if name == "identity":
        return np.ones_like(A)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-A))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(A) ** 2
    if name == "relu":
        return (A > 0).astype(float)
    if name == "leaky_relu":
        return np.where(A > 0, 1.0, 0.01)
    if name == "elu":
        return np.where(A > 0, 1.0, np.exp(A))
    if name == "softplus":
        return 1.0 / (1.0 + np.exp(-A))
    raise AssertionError(name)


def _cost(name: str, Y_hat: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """(cost, ∂cost/∂Ŷ)."""
    k = Y.shape[1]
    if name == "mse":
        return float(np.sum((Y - Y_hat) ** 2) / (2 * k)), (Y_hat - Y) / k
    if name == "binary_cross_entropy":
        value = -np.sum(Y * np.log(Y_hat) + (1 - Y) * np.log(1 - Y_hat)) / k
        return float(value), (-Y / Y_hat + (1 - Y) / (1 - Y_hat)) / k
    if name == "categorical_cross_entropy":
        return float(-np.sum(Y * np.log(Y_hat)) / k), -Y / Y_hat / k
    raise AssertionError(name)


def reference(
    sizes: tuple[int, ...], activations: tuple[str, ...], cost: str, theta: np.ndarray, X: np.ndarray, Y: np.ndarray
) -> tuple[float, np.ndarray]:
    """(cost, ∂cost/∂θ laid out like θ: W_1, β_1, W_2, β_2, …) the plain way."""
    m = len(sizes) - 1
    W, beta, offset = [None], [None], 0
    for n_prev, n in zip(sizes, sizes[1:]):
        W.append(theta[offset : offset + n * n_prev].reshape(n, n_prev))
        offset += n * n_prev
        beta.append(theta[offset : offset + n].reshape(n, 1))
        offset += n
    Z, A = [X], [None]
    for l in range(1, m + 1):
        A.append(W[l] @ Z[l - 1] + beta[l])
        Z.append(_f(activations[l - 1], A[l]))
    value, G = _cost(cost, Z[m], Y)
    if activations[m - 1] == "softmax":  # δ = J_softmaxᵀ G, the full Jacobian per column
        S = Z[m]
        delta = np.empty_like(S)
        for j in range(S.shape[1]):
            s = S[:, j]
            J = np.diag(s) - np.outer(s, s)
            delta[:, j] = J.T @ G[:, j]
    else:
        delta = G * _df(activations[m - 1], A[m])
    grads: list[np.ndarray] = []
    for l in range(m, 0, -1):
        grads = [(delta @ Z[l - 1].T).ravel(), delta.sum(axis=1)] + grads
        if l > 1:
            delta = (W[l].T @ delta) * _df(activations[l - 2], A[l - 1])
    return value, np.concatenate(grads)


# -- problems -----------------------------------------------------------------------------------


def problem(
    sizes: tuple[int, ...], activations: tuple[str, ...], cost: str, k: int, seed: int = 0
) -> tuple[Network, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    net = Network(sizes, activations, cost)
    net.theta[:] = rng.uniform(-0.8, 0.8, net.parameter_count)
    X = rng.standard_normal((sizes[0], k))
    n_m = sizes[-1]
    if cost == "categorical_cross_entropy":
        Y = np.zeros((n_m, k))
        Y[rng.integers(0, n_m, k), np.arange(k)] = 1.0
    elif cost == "binary_cross_entropy":
        Y = (rng.random((n_m, k)) < 0.5).astype(float)
    else:
        Y = rng.standard_normal((n_m, k))
    return net, X, Y


ARCHITECTURES = [
    # (sizes, activations, cost, k): matched pairs, the general chain rule, depth 1 … 4
    ((4, 8, 3), ("tanh", "softmax"), "categorical_cross_entropy", 150),
    ((3, 1), ("identity",), "mse", 20),
    ((4, 3), ("softmax",), "categorical_cross_entropy", 30),
    ((5, 7, 6, 1), ("relu", "sigmoid", "identity"), "mse", 64),
    ((3, 4, 1), ("leaky_relu", "sigmoid"), "binary_cross_entropy", BLOCK_COLUMNS + 37),
    ((6, 5, 4, 3, 2), ("elu", "softplus", "tanh", "softmax"), "categorical_cross_entropy", 200),
    ((3, 4, 2), ("tanh", "sigmoid"), "mse", 50),  # unmatched: chain rule through σ
    ((3, 5, 3), ("relu", "softmax"), "mse", 40),  # unmatched: Jacobian of softmax
    ((2, 6, 2), ("softplus", "softmax"), "binary_cross_entropy", 25),  # unmatched, too
    ((3, 64, 2), ("tanh", "identity"), "mse", GEMV_MIN_ELEMENTS // 64 + 5),  # δ_1 · 1 by GEMV
]


def _ids(arch: tuple) -> str:
    sizes, activations, cost, k = arch
    return f"{'-'.join(map(str, sizes))}-{'-'.join(activations)}-{cost}-k{k}"


def assert_close(grad: np.ndarray, ref: np.ndarray, rtol: float = 1e-12) -> None:
    scale = np.max(np.abs(ref))
    assert np.max(np.abs(grad - ref)) <= rtol * scale, np.max(np.abs(grad - ref)) / scale


# -- tests --------------------------------------------------------------------------------------


def test_reference_gradient_matches_finite_differences() -> None:
    """The reference itself is right: central differences on a small network of each kind."""
    for sizes, activations, cost in [
        ((3, 4, 3), ("tanh", "softmax"), "categorical_cross_entropy"),
        ((3, 4, 2, 1), ("elu", "softplus", "sigmoid"), "binary_cross_entropy"),
        ((2, 3, 2), ("leaky_relu", "sigmoid"), "mse"),
    ]:
        net, X, Y = problem(sizes, activations, cost, 7, seed=3)
        _, grad = reference(sizes, activations, cost, net.theta, X, Y)
        h = 1e-6
        for i in range(net.parameter_count):
            up, down = net.theta.copy(), net.theta.copy()
            up[i] += h
            down[i] -= h
            numeric = (
                reference(sizes, activations, cost, up, X, Y)[0]
                - reference(sizes, activations, cost, down, X, Y)[0]
            ) / (2 * h)
            assert abs(numeric - grad[i]) <= 1e-7 * max(1.0, abs(grad[i])), (sizes, i)


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=_ids)
def test_workspace_matches_reference(arch: tuple) -> None:
    sizes, activations, cost, k = arch
    net, X, Y = problem(sizes, activations, cost, k)
    ref_cost, ref_grad = reference(sizes, activations, cost, net.theta, X, Y)
    workspace = Workspace(net, k)
    value = workspace.compute(X, Y)
    assert value == pytest.approx(ref_cost, rel=1e-12)
    assert_close(workspace.grad, ref_grad)
    # the buffers are reused: a second call at other parameters is just as right
    net.theta *= 0.5
    ref_cost, ref_grad = reference(sizes, activations, cost, net.theta, X, Y)
    assert workspace.compute(X, Y) == pytest.approx(ref_cost, rel=1e-12)
    assert_close(workspace.grad, ref_grad)
    assert workspace.cost(X, Y) == pytest.approx(ref_cost, rel=1e-12)
    assert net.cost_value(X, Y) == pytest.approx(ref_cost, rel=1e-12)


@pytest.mark.parametrize("block", [1, 16, 33])
def test_column_blocks_give_the_same_gradient(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """k = 100 in blocks of 1, 16 (a short last block) and 33 columns, on a deep network."""
    monkeypatch.setattr(network_module, "BLOCK_COLUMNS", block)
    sizes, activations, cost = (6, 5, 4, 3, 2), ("relu", "tanh", "elu", "softmax"), "categorical_cross_entropy"
    net, X, Y = problem(sizes, activations, cost, 100, seed=5)
    ref_cost, ref_grad = reference(sizes, activations, cost, net.theta, X, Y)
    workspace = Workspace(net, 100)
    assert len(workspace._blocks[2]) == -(-100 // block)
    assert workspace.compute(X, Y) == pytest.approx(ref_cost, rel=1e-12)
    assert_close(workspace.grad, ref_grad)


@pytest.mark.parametrize("row_bytes", [1, 3 * 8 * 50])
def test_row_blocks_give_the_same_gradient(monkeypatch: pytest.MonkeyPatch, row_bytes: int) -> None:
    """The forward pass's + β_l and f_l one row at a time, or 3 rows (a short last block)."""
    monkeypatch.setattr(network_module, "ROW_BLOCK_BYTES", row_bytes)
    sizes, activations, cost = (3, 7, 5, 1), ("sigmoid", "leaky_relu", "identity"), "mse"
    net, X, Y = problem(sizes, activations, cost, 50, seed=6)
    ref_cost, ref_grad = reference(sizes, activations, cost, net.theta, X, Y)
    workspace = Workspace(net, 50)
    assert len(workspace._row_blocks[1]) == (7 if row_bytes == 1 else 3)
    assert workspace.compute(X, Y) == pytest.approx(ref_cost, rel=1e-12)
    assert_close(workspace.grad, ref_grad)


def test_forward_in_blocks_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Network.forward over many columns (blocks of FORWARD_COLUMNS) gives the same numbers."""
    net, X, _ = problem((5, 6, 4, 3), ("tanh", "relu", "softmax"), "categorical_cross_entropy", 1000)
    whole = net.output(X)[1]
    monkeypatch.setattr(network_module, "FORWARD_COLUMNS", 64)
    blocked = net.forward(X)
    assert blocked.shape == (3, 1000)
    np.testing.assert_allclose(blocked, whole, rtol=1e-14, atol=0)


def test_inputs_are_not_modified() -> None:
    net, X, Y = problem((4, 8, 3), ("tanh", "softmax"), "categorical_cross_entropy", 50)
    X0, Y0 = X.copy(), Y.copy()
    Workspace(net, 50).compute(X, Y)
    assert np.array_equal(X, X0) and np.array_equal(Y, Y0)


def test_float32_agrees_with_float64() -> None:
    net, X, Y = problem((5, 16, 3), ("relu", "softmax"), "categorical_cross_entropy", 300)
    workspace = Workspace(net, 300)
    cost64 = workspace.compute(X, Y)
    net32 = net.astype(np.float32)
    workspace32 = Workspace(net32, 300)
    cost32 = workspace32.compute(X.astype(np.float32), Y.astype(np.float32))
    assert workspace32.grad.dtype == np.float32
    assert cost32 == pytest.approx(cost64, rel=1e-5)
    assert_close(workspace32.grad.astype(np.float64), workspace.grad, rtol=1e-5)


def test_spec_worked_example_one_iteration() -> None:
    """SPEC.md worked example 1, through the optimized Workspace and the training loop."""
    net = Network((1, 1, 1), ("identity", "identity"), "mse")
    net.W[1][0, 0], net.W[2][0, 0] = 0.5, 0.5
    X, Y = np.array([[3.0]]), np.array([[450.0]])
    workspace = Workspace(net, 1)
    assert workspace.compute(X, Y) == 100912.78125
    assert workspace.dbeta[2][0, 0] == -449.25 and workspace.dW[2][0, 0] == -673.875
    assert workspace.dbeta[1][0, 0] == -224.625 and workspace.dW[1][0, 0] == -673.875
    Training(net, X, Y, Settings(0.001, 1, None, None)).run()
    assert net.beta[2][0, 0] == pytest.approx(0.44925, abs=1e-15)
    assert net.W[2][0, 0] == pytest.approx(1.173875, abs=1e-15)
    assert net.beta[1][0, 0] == pytest.approx(0.224625, abs=1e-15)
    assert net.W[1][0, 0] == pytest.approx(1.173875, abs=1e-15)


# A problem that uses every optimized path at once: several column blocks, δ · 1 by GEMV,
# the fused softmax + cross-entropy, BLAS with its threads.
_RUN = """
import numpy as np
from nncli.network import Network
from nncli.training import Settings, Training
rng = np.random.default_rng(11)
k = {k}
net = Network((20, 32, 16, 4), ("relu", "tanh", "softmax"), "categorical_cross_entropy")
net.theta[:] = rng.uniform(-0.3, 0.3, net.parameter_count)
X = rng.standard_normal((20, k))
Y = np.zeros((4, k)); Y[rng.integers(0, 4, k), np.arange(k)] = 1.0
training = Training(net, X, Y, Settings(0.5, 30, None, None))
training.run()
"""


def _train_once() -> tuple[bytes, list[float], float | None]:
    namespace: dict = {}
    exec(_RUN.format(k=BLOCK_COLUMNS + 1000), namespace)
    training = namespace["training"]
    return training.network.theta.tobytes(), training.history.cost, training.final_cost


def test_two_runs_are_bit_identical() -> None:
    theta_1, costs_1, final_1 = _train_once()
    theta_2, costs_2, final_2 = _train_once()
    assert theta_1 == theta_2 and costs_1 == costs_2 and final_1 == final_2


def test_another_process_gets_the_same_bits() -> None:
    """Also across processes (other memory addresses, a fresh BLAS)."""
    theta, _, _ = _train_once()
    script = textwrap.dedent(_RUN.format(k=BLOCK_COLUMNS + 1000)) + "\nimport sys; sys.stdout.write(net.theta.tobytes().hex())\n"
    output = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    assert bytes.fromhex(output) == theta
