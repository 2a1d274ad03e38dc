"""The columns cut into parts on threads (nncli.parallel): the same cost and gradient as one
Workspace, finite differences, reproducibility, and BLAS left as it was found."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from nncli import parallel
from nncli.network import Network, Workspace
from nncli.parallel import SplitWorkspace
from nncli.training import Settings, Training

from test_gradients import (
    HIDDEN,
    PAIRINGS,
    assert_gradients_match,
    random_case,
    stable_seed,
    targets,
)


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def wider(network: Network, seed: int, k: int, cost: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(network.sizes[0], k))
    return X, targets(rng, cost, network.sizes[-1], k)


@pytest.mark.parametrize("cost,output", PAIRINGS)
@pytest.mark.parametrize("parts", [2, 3])
def test_parts_give_the_cost_and_gradient_of_all_columns(cost, output, parts):
    """Σ_p (k_p/k) cost_p and Σ_p (k_p/k) ∂cost_p/∂θ equal one Workspace over all k columns
    (to rounding), for every accepted pairing (matched shortcut and general chain rule)."""
    seed = stable_seed("parts", cost, output, parts)
    hidden = [HIDDEN[seed % len(HIDDEN)], HIDDEN[(seed // 7) % len(HIDDEN)]]
    network, _, _ = random_case(seed, cost, output, hidden)
    X, Y = wider(network, seed, 37, cost)  # 37: parts of unequal size
    whole = Workspace(network, 37)
    split = SplitWorkspace(network, 37, parts)
    assert [hi - lo for lo, hi in split.bounds] == ([18, 19] if parts == 2 else [12, 12, 13])
    cost_whole = whole.compute(X, Y)
    cost_split = split.compute(X, Y)
    assert cost_split == pytest.approx(cost_whole, rel=1e-13)
    np.testing.assert_allclose(split.grad, whole.grad, rtol=1e-11, atol=1e-14)
    assert split.cost(X, Y) == pytest.approx(cost_whole, rel=1e-13)
    # the views dW[l], dbeta[l] are into the combined gradient
    for l in range(1, network.m + 1):
        np.testing.assert_array_equal(split.dW[l], network.views(split.grad)[0][l])


@pytest.mark.parametrize("cost,output", PAIRINGS)
def test_split_gradient_against_finite_differences(cost, output):
    """The combined gradient of two parts against 4th-order central differences (float64)."""
    seed = stable_seed("finite", cost, output)
    network, X, Y = random_case(seed, cost, output, [HIDDEN[seed % len(HIDDEN)]])
    assert_gradients_match(network, X, Y, SplitWorkspace(network, X.shape[1], 2))


def test_two_equal_parts_weigh_exactly_one_half():
    """With k even the weights are 1/2: exact, so cost = (cost_0 + cost_1) / 2 bit for bit."""
    network, _, _ = random_case(4, "mse", "identity", ["tanh"])
    X, Y = wider(network, 4, 40, "mse")
    split = SplitWorkspace(network, 40, 2)
    assert split.weights == [0.5, 0.5]
    cost = split.compute(X, Y)
    halves = [Workspace(network, 20) for _ in range(2)]
    costs = [w.compute(X[:, lo : lo + 20], Y[:, lo : lo + 20]) for w, lo in zip(halves, (0, 20))]
    assert cost == 0.5 * costs[0] + 0.5 * costs[1]
    np.testing.assert_array_equal(split.grad, 0.5 * halves[0].grad + 0.5 * halves[1].grad)


def test_float32_parts_agree_with_float64():
    network, _, _ = random_case(9, "categorical_cross_entropy", "softmax", ["relu", "tanh"])
    X, Y = wider(network, 9, 64, "categorical_cross_entropy")
    whole = Workspace(network, 64)
    whole.compute(X, Y)
    narrow = network.astype(np.float32)
    split = SplitWorkspace(narrow, 64, 2)
    split.compute(X.astype(np.float32), Y.astype(np.float32))
    assert split.grad.dtype == np.float32
    np.testing.assert_allclose(split.grad, whole.grad, rtol=2e-4, atol=2e-6)


def test_blas_threads_are_restored_after_compute_and_after_an_error():
    before = blas_threads()
    network, _, _ = random_case(2, "mse", "identity", ["tanh"])
    X, Y = wider(network, 2, 30, "mse")
    split = SplitWorkspace(network, 30, 2)
    split.compute(X, Y)
    assert blas_threads() == before
    with pytest.raises(ValueError):  # a part that fails: the error reaches the caller
        split.compute(X[:, :10], Y)  # Y has 30 columns, X 10: the parts' shapes do not fit
    assert blas_threads() == before


def test_the_callers_numpy_error_handling_reaches_every_part():
    """np.errstate is per thread: a part on the pool honours the caller's settings."""
    network = Network([1, 1], ["sigmoid"], "mse")
    network.theta[:] = [1.0, 0.0]
    X = np.full((1, 8), -1000.0)  # e^1000 overflows in every part
    Y = np.zeros((1, 8))
    split = SplitWorkspace(network, 8, 2)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        split.compute(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning from any thread would fail the call
        with np.errstate(over="ignore", under="ignore"):
            split.compute(X, Y)


def test_workspace_splits_only_large_problems(monkeypatch):
    monkeypatch.setattr(parallel, "available_threads", lambda: 2)
    small = Network([4, 8, 3], ["tanh", "softmax"], "categorical_cross_entropy")
    assert type(parallel.workspace(small, 150)) is Workspace
    large = Network([784, 256, 10], ["relu", "softmax"], "categorical_cross_entropy")
    assert parallel.parts_for(large, 60000) == 2
    assert parallel.parts_for(large, 1500) == 1  # fewer than 2 × SPLIT_MIN_COLUMNS columns
    monkeypatch.setattr(parallel, "available_threads", lambda: 1)
    assert parallel.parts_for(large, 60000) == 1


def test_available_threads_follows_blas():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        assert parallel.available_threads() == 1
    assert 1 <= parallel.available_threads() <= len(os.sched_getaffinity(0))


def split_everything(monkeypatch, parts: int = 2) -> None:
    """Make Training split any problem into `parts` (whatever the machine has)."""
    monkeypatch.setattr(parallel, "SPLIT_MIN_WORK", 0)
    monkeypatch.setattr(parallel, "SPLIT_MIN_COLUMNS", 1)
    monkeypatch.setattr(parallel, "available_threads", lambda: parts)


def train(network: Network, X, Y, **settings) -> Training:
    training = Training(
        network,
        X,
        Y,
        Settings(learning_rate=0.1, max_iterations=30, gradient_tolerance=None, **settings),
        classification=True,
    )
    training.run()
    return training


@pytest.mark.parametrize("batch_size", [None, 24])
def test_split_training_is_reproducible_bit_for_bit_and_matches_one_part(monkeypatch, batch_size):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 100))
    Y = np.eye(3)[:, rng.integers(0, 3, 100)]
    start = Network([4, 6, 3], ["tanh", "softmax"], "categorical_cross_entropy")
    start.theta[:] = rng.normal(0, 0.5, start.parameter_count)

    before = blas_threads()
    whole = start.copy()
    train(whole, X, Y, batch_size=batch_size)
    split_everything(monkeypatch)
    runs = []
    for _ in range(2):
        network = start.copy()
        training = train(network, X, Y, batch_size=batch_size)
        runs.append(network.theta.tobytes())
    workspace = training._workspace if batch_size is None else training._batches[0][2]
    assert isinstance(workspace, SplitWorkspace)
    assert runs[0] == runs[1]
    np.testing.assert_allclose(np.frombuffer(runs[0]), whole.theta, rtol=1e-10, atol=1e-13)
    assert blas_threads() == before


def test_split_training_final_cost_uses_the_parts(monkeypatch):
    """The final training cost (Training._training_cost) goes through SplitWorkspace.cost."""
    split_everything(monkeypatch, parts=3)
    rng = np.random.default_rng(6)
    X = rng.normal(size=(3, 50))
    Y = np.eye(2)[:, rng.integers(0, 2, 50)]
    network = Network([3, 4, 2], ["relu", "softmax"], "categorical_cross_entropy")
    network.theta[:] = rng.normal(0, 0.5, network.parameter_count)
    training = train(network, X, Y)
    assert isinstance(training._workspace, SplitWorkspace)
    assert training.final_cost == pytest.approx(network.cost_value(X, Y), rel=1e-12)


def test_an_interrupt_in_the_first_part_waits_for_the_others_and_restores_blas(monkeypatch):
    """Ctrl-C (KeyboardInterrupt) while part 0 runs: the other parts are waited for, so no
    part is left running with BLAS held to one thread, and BLAS is as it was."""
    before = blas_threads()
    network, _, _ = random_case(3, "mse", "identity", ["tanh"])
    X, Y = wider(network, 3, 40, "mse")
    split = SplitWorkspace(network, 40, 2)
    finished = []
    real = split.parts[1].compute

    def slow(X, Y):
        import time

        time.sleep(0.05)
        finished.append(True)
        return real(X, Y)

    def interrupted(X, Y):
        raise KeyboardInterrupt

    monkeypatch.setattr(split.parts[1], "compute", slow)
    monkeypatch.setattr(split.parts[0], "compute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        split.compute(X, Y)
    assert finished == [True]
    assert blas_threads() == before


def test_split_evaluate_is_network_evaluate(monkeypatch):
    network, _, _ = random_case(12, "categorical_cross_entropy", "softmax", ["relu"])
    X, Y = wider(network, 12, 41, "categorical_cross_entropy")
    cost, Y_hat = network.evaluate(X, Y)
    assert parallel.evaluate(network, X, Y)[0] == cost  # not split: the same call
    split_everything(monkeypatch, parts=3)
    split_cost, split_Y_hat = parallel.evaluate(network, X, Y)
    assert split_cost == pytest.approx(cost, rel=1e-13)
    assert split_Y_hat.shape == Y_hat.shape
    np.testing.assert_allclose(split_Y_hat, Y_hat, rtol=1e-13, atol=1e-15)


def test_split_training_with_validation_data(monkeypatch):
    """The validation pass of every iteration goes through the parts too."""
    rng = np.random.default_rng(8)
    X, X_val = rng.normal(size=(4, 90)), rng.normal(size=(4, 30))
    Y, Y_val = (np.eye(3)[:, rng.integers(0, 3, n)] for n in (90, 30))
    start = Network([4, 5, 3], ["sigmoid", "softmax"], "categorical_cross_entropy")
    start.theta[:] = rng.normal(0, 0.5, start.parameter_count)
    settings = Settings(learning_rate=0.2, max_iterations=20, gradient_tolerance=None)

    def run() -> Training:
        training = Training(start.copy(), X, Y, settings, X_val, Y_val, classification=True)
        training.run()
        return training

    whole = run()
    split_everything(monkeypatch)
    calls = []
    real = parallel.run_parts
    monkeypatch.setattr(parallel, "run_parts", lambda c: calls.append(len(c)) or real(c))
    split = run()
    assert len(calls) >= 2 * 20  # a training and a validation pass per iteration
    np.testing.assert_allclose(split.history.validation_cost, whole.history.validation_cost, rtol=1e-12)
    assert split.history.validation_accuracy == whole.history.validation_accuracy


def test_a_failing_part_still_waits_for_every_other_part():
    """With three parts, the second failing at once does not stop the wait for the third:
    no part is left running with BLAS held to one thread."""
    import time

    before = blas_threads()
    finished = []

    def fails():
        raise ValueError("part 1")

    def slow():
        time.sleep(0.1)
        finished.append(True)
        return 3

    with pytest.raises(ValueError, match="part 1"):
        parallel.run_parts([(lambda: 1, ()), (fails, ()), (slow, ())])
    assert finished == [True]
    assert blas_threads() == before


def test_the_first_parts_error_wins():
    def first():
        raise KeyboardInterrupt

    def other():
        raise ValueError("a worker's error")

    with pytest.raises(KeyboardInterrupt):
        parallel.run_parts([(first, ()), (other, ())])
