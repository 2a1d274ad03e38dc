"""`nncli train --explain`: SPEC worked example 1 printed exactly, and the trace (the
allocating, readable forward/backward pass behind it) agrees with the training Workspace."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nncli.activations import ACTIVATION_NAMES
from nncli.cli import app
from nncli.explain import Explanation, matrix, number, trace
from nncli.network import Network, Workspace
from nncli.training import Settings, Training

ROOT = Path(__file__).resolve().parents[1]
HOUSE = ROOT / "configs" / "house-prices.yaml"
IRIS = ROOT / "configs" / "iris.yaml"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def value_of(output: str, label: str) -> str:
    """The bracketed value printed after `label (r × c) = ` on its own line."""
    pattern = re.escape(label) + r" \(1 × 1\) = \[ (\S+) \]"
    found = re.findall(pattern, output)
    assert found, f"{label!r} not found in the output"
    return found[-1] if label.startswith(("β", "W")) else found[0]


def test_house_example_prints_spec_worked_example_1(tmp_path: Path) -> None:
    result = run(
        "train", str(HOUSE), "--explain", "--set", "stopping.max_iterations=1",
        "-o", str(tmp_path / "house.npz"),
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # forward: z1 = 1.5, ŷ = 0.75, cost = 100912.78125
    assert value_of(out, "Z_1 = f_1(A_1) = identity(A_1)") == "1.5"
    assert value_of(out, "Ŷ = Z_2 = f_2(A_2) = identity(A_2)") == "0.75"
    assert "cost = 1/(2k) ‖Y − Ŷ‖² = 100912.78125" in out
    # gradients: ∂/∂β2 = −449.25, ∂/∂w2 = −673.875, ∂/∂β1 = −224.625, ∂/∂w1 = −673.875
    assert value_of(out, "∂cost/∂β_2 = δ_2 · 1 (sum over the k columns)") == "-449.25"
    assert value_of(out, "∂cost/∂W_2 = δ_2 Z_1ᵀ") == "-673.875"
    assert value_of(out, "∂cost/∂β_1 = δ_1 · 1 (sum over the k columns)") == "-224.625"
    assert value_of(out, "∂cost/∂W_1 = δ_1 Xᵀ") == "-673.875"
    # new values: β2 = 0.44925, w2 = 1.173875, β1 = 0.224625, w1 = 1.173875 (Steps 3c, 4c)
    new_values = out.split("3c  new values")[1]
    assert value_of(new_values, "β_2") == "0.44925"
    assert value_of(new_values, "W_2") == "1.173875"
    new_values = out.split("4c  new values")[1]
    assert value_of(new_values, "β_1") == "0.224625"
    assert value_of(new_values, "W_1") == "1.173875"
    # SPEC's order: Step 1, 2a, 2b, 3a, 3b, 3c, 4 (4a–4c), 5
    marks = ["Step 1", "Step 2", "2a  layer L1", "2a  layer L2", "2b", "Step 3", "3a", "3b",
             "3c", "Step 4", "4a", "4b", "4c", "Step 5"]
    positions = [out.index(mark) for mark in marks]
    assert positions == sorted(positions)
    assert "→ stop: reached max_iterations = 1" in out


def test_explained_numbers_are_the_ones_training_saves(tmp_path: Path) -> None:
    from nncli.modelfile import load_model

    model = tmp_path / "house.npz"
    result = run("train", str(HOUSE), "--explain", "--set", "stopping.max_iterations=1", "-o", str(model))
    assert result.exit_code == 0
    network = load_model(model).network
    assert network.W[1][0, 0] == 1.173875 and network.beta[1][0, 0] == 0.224625
    assert network.W[2][0, 0] == 1.173875 and network.beta[2][0, 0] == 0.44925


def test_explain_then_training_goes_on(tmp_path: Path) -> None:
    result = run(
        "train", str(IRIS), "--explain", "--iterations", "2", "--precision", "4",
        "--set", "stopping.max_iterations=30", "-o", str(tmp_path / "iris.npz"),
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "═══ Iteration 1 ═══" in out and "═══ Iteration 2 ═══" in out
    assert "═══ Iteration 3 ═══" not in out
    assert out.count("Step 1  initial values") == 1  # Step 1 only once
    # iris holds out validation data, so criterion b) is early stopping, as in the loop
    assert re.search(r"b\) early stopping \(stopping.monitor: validation_cost\): best validation cost \S+ "
                     r"\(the parameters after iteration 1\); 0 of patience 5", out)
    assert "|Δcost|" not in out
    assert "Iterations 1 … 2 are explained above" in out
    assert "iterations: 30" in out  # then it trained on, as configured
    # large matrices are summarized, small ones shown whole
    assert re.search(r"X = Z_0 \(4 × 120\): ‖·‖ = \S+, min \S+, max \S+", out)
    assert re.search(r"W_2 \(3 × 8\) =\n(\s+\[.*\]\n){3}", out)


def test_explain_criterion_b_on_the_training_cost(tmp_path: Path) -> None:
    result = run(
        "train", str(IRIS), "--explain", "--iterations", "2", "--precision", "4",
        "--set", "stopping.monitor=training_cost", "--set", "stopping.max_iterations=2",
        "-o", str(tmp_path / "iris.npz"),
    )
    assert result.exit_code == 0, result.stderr
    # iteration 2 compares its cost with iteration 1's (SPEC criterion b)
    assert "b) |Δcost|: no previous iteration to compare with yet" in result.stdout
    assert re.search(r"b\) \|Δcost\| = \|\S+ − \S+\| = \S+", result.stdout)


def test_explain_stops_when_training_stops_first(tmp_path: Path) -> None:
    result = run(
        "train", str(HOUSE), "--explain", "--iterations", "5", "--set", "stopping.max_iterations=2",
        "-o", str(tmp_path / "h.npz"),
    )
    assert result.exit_code == 0
    assert "═══ Iteration 2 ═══" in result.stdout and "═══ Iteration 3 ═══" not in result.stdout
    assert "→ stop: reached max_iterations = 2" in result.stdout


def test_explain_shows_divergence(tmp_path: Path) -> None:
    # the raw-price house: a huge learning rate makes the cost overflow in iteration 3 or so
    result = run(
        "train", str(HOUSE), "--explain", "--iterations", "20", "--set", "training.learning_rate=1e6",
        "-o", str(tmp_path / "h.npz"),
    )
    assert result.exit_code == 4
    assert "→ diverged:" in result.stdout


@pytest.mark.parametrize("option", [["--iterations", "2"], ["--precision", "3"]])
def test_explain_options_need_explain(tmp_path: Path, option: list[str]) -> None:
    result = run("train", str(HOUSE), *option, "-o", str(tmp_path / "h.npz"))
    assert result.exit_code == 2
    assert "only applies to --explain" in result.stderr
    assert not (tmp_path / "h.npz").exists()


# -- the trace against the training Workspace ----------------------------------------------


def _network(sizes, activations, cost, rng) -> Network:
    network = Network(sizes, activations, cost)
    network.theta[:] = rng.normal(0, 0.7, network.parameter_count)
    return network


def _targets(cost: str, n: int, k: int, rng) -> np.ndarray:
    if cost == "categorical_cross_entropy":
        Y = np.zeros((n, k))
        Y[rng.integers(0, n, k), np.arange(k)] = 1
        return Y
    if cost == "binary_cross_entropy":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.normal(size=(n, k))


CASES = [
    ((3, 4, 2), ("tanh", "identity"), "mse"),
    ((3, 4, 2), ("tanh", "softmax"), "categorical_cross_entropy"),
    ((2, 5, 3, 1), ("relu", "elu", "sigmoid"), "binary_cross_entropy"),
    ((4, 3, 3), ("leaky_relu", "softmax"), "mse"),  # unmatched: softmax Jacobian-vector product
    ((4, 6, 2), ("softplus", "sigmoid"), "mse"),  # unmatched: general chain rule
    ((5, 1), ("identity",), "mse"),  # no hidden layer: linear regression
] + [((3, 4, 2), (name, "tanh"), "mse") for name in ACTIVATION_NAMES if name != "softmax"]


@pytest.mark.parametrize("sizes, activations, cost", CASES)
def test_trace_gradients_equal_workspace(sizes, activations, cost) -> None:
    rng = np.random.default_rng(7)
    network = _network(sizes, activations, cost, rng)
    k = 9
    X = rng.normal(size=(sizes[0], k))
    Y = _targets(cost, sizes[-1], k, rng)
    workspace = Workspace(network, k)
    expected_cost = workspace.compute(X, Y)
    tr = trace(network, X, Y, learning_rate=0.1)
    assert tr.cost == pytest.approx(expected_cost, rel=1e-12, abs=1e-14)
    for l in range(1, network.m + 1):
        np.testing.assert_allclose(tr.dW[l], workspace.dW[l], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tr.dbeta[l], workspace.dbeta[l], rtol=1e-12, atol=1e-14)
    assert tr.gradient_norm == pytest.approx(float(np.linalg.norm(workspace.grad)), rel=1e-12)


def test_trace_new_values_are_the_training_update() -> None:
    rng = np.random.default_rng(3)
    network = _network((4, 5, 3), ("tanh", "softmax"), "categorical_cross_entropy", rng)
    X = rng.normal(size=(4, 12))
    Y = _targets("categorical_cross_entropy", 3, 12, rng)
    tr = trace(network, X, Y, learning_rate=0.3)
    training = Training(network, X, Y, Settings(learning_rate=0.3, max_iterations=1))
    training.run()
    for l in (1, 2):
        np.testing.assert_allclose(network.W[l], tr.new_W[l], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(network.beta[l], tr.new_beta[l], rtol=1e-14, atol=1e-15)
        np.testing.assert_array_equal(tr.step_W[l], 0.3 * tr.dW[l])


def test_explanation_drives_the_real_loop() -> None:
    """Each explained iteration is traced at the θ the loop starts that iteration from."""
    rng = np.random.default_rng(5)
    network = _network((2, 3, 1), ("tanh", "identity"), "mse", rng)
    X, Y = rng.normal(size=(2, 6)), rng.normal(size=(1, 6))
    settings = Settings(learning_rate=0.05, max_iterations=3)
    training = Training(network, X, Y, settings)
    explanation = Explanation(network, X, Y, settings, ["random", "random"], iterations=3)
    text = "\n".join(line.plain for line in explanation.run(training, iter(training)))
    costs = re.findall(r"cost = 1/\(2k\) ‖Y − Ŷ‖² = (\S+)", text)
    assert [float(c) for c in costs] == pytest.approx(training.history.cost, rel=1e-11)
    assert training.stop is not None and training.stop.criterion == "max_iterations"
    assert explanation.lookahead is None


def test_explanation_says_when_the_loop_updates_otherwise() -> None:
    rng = np.random.default_rng(5)
    network = _network((2, 3, 1), ("tanh", "identity"), "mse", rng)
    X, Y = rng.normal(size=(2, 6)), rng.normal(size=(1, 6))
    training = Training(network, X, Y, Settings(learning_rate=0.2, max_iterations=2))
    shown = Settings(learning_rate=0.1, max_iterations=2)  # not what the loop does
    explanation = Explanation(network, X, Y, shown, ["random", "random"], iterations=2)
    text = "\n".join(line.plain for line in explanation.run(training, iter(training)))
    assert text.count("note: the training loop's update differs") == 2
    same = Training(network, X, Y, shown)
    explanation = Explanation(network, X, Y, shown, ["random", "random"], iterations=2)
    text = "\n".join(line.plain for line in explanation.run(same, iter(same)))
    assert "note:" not in text


def test_matrix_formatting() -> None:
    assert number(-0.0) == "0"
    assert number(100912.78125) == "100912.78125"
    assert number(1 / 3, 4) == "0.3333"
    assert matrix("β_1", np.array([[1.0], [-2.5]]), indent="") == ["β_1 (2 × 1) = [ 1  -2.5 ]ᵀ"]
    assert matrix("W", np.array([[1.0, 22.0], [-3.0, 4.0]]), indent="") == [
        "W (2 × 2) =", "    [  1  22 ]", "    [ -3   4 ]",
    ]
    big = np.arange(100.0).reshape(10, 10)
    (line,) = matrix("A", big, indent="")
    assert line.startswith("A (10 × 10): ‖·‖ = ") and "min 0, max 99" in line
