"""`make bench`: nncli's training loop against scikit-learn and the BLAS GEMM floor.

For each case and dtype, one process measures, interleaved so that machine drift cancels
(every repeat runs all three, in a rotating order):

1. the floor: the matrix products one iteration of nncli's Workspace needs, timed alone on
   preallocated buffers — forward A_l = W_l Z_(l-1), backward ∂cost/∂W_l = δ_l Z_(l-1)ᵀ and,
   for l ≥ 2, W_lᵀ δ_l;
2. nncli: the real `nncli.training.Training` over `nncli.network.Network`, full batch, a fixed
   number of iterations, stopping criteria a) and b) off (a large iteration runs as one part
   of the columns per core, `nncli.parallel`, as it does in `nncli train`);
3. scikit-learn's MLPClassifier / MLPRegressor doing the same full-batch gradient descent
   (solver sgd, no momentum, alpha 0, batch_size = k, constant learning rate, no shuffling,
   no early stopping, never stopping before max_iter), started from the same weights as nncli,
   so the two cost curves can be compared as well.

Seconds per iteration exclude set-up on both sides: nncli's are the `Step.seconds` of its last
iteration over the number of iterations; scikit-learn's run from the start of its solver loop
to the end of its last epoch (a subclass records the clock in `_update_no_improvement_count`).

Also: predict throughput of a 10-feature network on 1 million rows, the peak memory of case
(a) training beyond the data itself (each in a subprocess), and the cost of the progress
display (`nncli.report.TrainingDisplay.update`) per iteration.

    python benchmarks/bench.py [--quick] [--json FILE] [--repeats N] [--cases a,b,c]
"""

from __future__ import annotations

import os
import sys

# OpenBLAS reads these when it is loaded, i.e. when numpy is imported. A machine that pins
# them (e.g. an old core type) would measure a slower kernel than the hardware has, so this
# script re-executes itself without them, before numpy is imported, and says so in its output.
# Only this process and its children are affected; tests and CI never change them.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_UNSET_MARK = "NNCLI_BENCH_UNSET"

if __name__ == "__main__" and any(name in os.environ for name in OPENBLAS_OVERRIDES):
    _env = dict(os.environ)
    _unset = [f"{name}={_env.pop(name)}" for name in OPENBLAS_OVERRIDES if name in _env]
    _env[_UNSET_MARK] = " ".join(_unset)
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], _env)

import argparse  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from nncli import network as network_module  # noqa: E402
from nncli import parallel  # noqa: E402
from nncli.initializers import initial_weights, layer_generators  # noqa: E402
from nncli.network import Network  # noqa: E402
from nncli.training import Settings, Training  # noqa: E402

Array = np.ndarray
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Case:
    name: str
    k: int
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str
    iterations: int  # per timed run
    learning_rate: float

    @property
    def title(self) -> str:
        layers = " → ".join(
            f"{n} {f}" for n, f in zip(self.sizes[1:], self.activations)
        )
        return f"{self.k}×{self.sizes[0]} → {layers}"

    @property
    def classification(self) -> bool:
        return self.cost == "categorical_cross_entropy"


CASES = {
    "a": Case("a", 60000, (784, 256, 10), ("relu", "softmax"), "categorical_cross_entropy", 4, 0.1),
    "b": Case("b", 10000, (20, 64, 64, 1), ("tanh", "tanh", "identity"), "mse", 40, 0.01),
    "c": Case("c", 150, (4, 8, 3), ("tanh", "softmax"), "categorical_cross_entropy", 2000, 0.5),
}
QUICK = {
    "a": dict(k=6000, iterations=3),
    "b": dict(k=2000, iterations=10),
    "c": dict(iterations=300),
}
# Rest before each engine's iteration in lock step when nncli splits (see time_lockstep).
SETTLE_SECONDS = 0.25
SKLEARN_ACTIVATION = {"relu": "relu", "tanh": "tanh", "identity": "identity"}


# -- data and initial weights ---------------------------------------------------------------


def make_data(case: Case, seed: int = 0) -> tuple[Array, Array, Array]:
    """(X, Y, labels) in float64, X n0 × k (nncli's orientation), synthetic but learnable.

    X is filled a block at a time so that making it never needs a second copy of its size.
    Targets come from a random teacher: classes are the argmax of a linear map of X, the
    regression target a smooth function of it plus noise.
    """
    rng = np.random.default_rng(seed)
    n0, k = case.sizes[0], case.k
    X = np.empty((n0, k))
    for start in range(0, n0, 16):  # rows of a C-ordered array: contiguous blocks
        rng.standard_normal(out=X[start : start + 16])
    teacher = rng.standard_normal((case.sizes[-1] if case.classification else 1, n0))
    if case.classification:
        labels = np.argmax(teacher @ X, axis=0)
        Y = np.zeros((case.sizes[-1], k))
        Y[labels, np.arange(k)] = 1.0
        return X, Y, labels
    y = np.tanh(teacher @ X / np.sqrt(n0)) + 0.1 * rng.standard_normal((1, k))
    return X, y, y[0]


def initial_theta(case: Case, seed: int = 0) -> Array:
    """Xavier initial weights from nncli's own initializers, zero biases (float64)."""
    network = Network(case.sizes, case.activations, case.cost)
    for l, rng in enumerate(layer_generators(seed, len(case.sizes) - 1), start=1):
        network.W[l][...] = initial_weights("xavier", case.sizes[l], case.sizes[l - 1], rng)
    return network.theta


# -- the three measurements --------------------------------------------------------------------


class Floor:
    """The GEMMs of one iteration alone, on buffers prepared once.

    The very products the Workspace makes, in its way: W_lᵀ δ_l a block of BLOCK_COLUMNS
    columns at a time into one scratch block, as an outer product (np.multiply) where
    n_l = 1 (see `nncli.network.Workspace`). With ``parts`` > 1, the products of each part
    of the columns as `nncli.parallel.SplitWorkspace` makes them: all parts at once on
    threads, BLAS held to one thread each (`nncli.parallel.run_parts`).
    """

    def __init__(self, case: Case, dtype: str, parts: int = 1) -> None:
        rng = np.random.default_rng(1)
        sizes, k, m = case.sizes, case.k, len(case.sizes) - 1
        self.sizes, self.k, self.m = sizes, k, m
        self.W = [None] + [rng.uniform(-0.1, 0.1, (sizes[l], sizes[l - 1])).astype(dtype) for l in range(1, m + 1)]
        self.Z = [rng.uniform(-1, 1, (n, k)).astype(dtype) for n in sizes]  # Z_0 = X … Z_m
        self.D = [None] + [rng.uniform(-1, 1, (n, k)).astype(dtype) for n in sizes[1:]]  # δ_l
        self.bounds = parallel._bounds(k, parts)
        self.block = min(k, network_module.BLOCK_COLUMNS)
        # per part: its own ∂cost/∂W_l buffers and scratch block, as each Workspace has
        self.buffers = [
            ([None] + [np.empty_like(W) for W in self.W[1:]], np.empty((max(sizes[1:m] or (0,)), self.block), dtype))
            for _ in self.bounds
        ]

    def _products(self, lo: int, hi: int, dW: list[Any], scratch: Array) -> None:
        W, Z, D = self.W, self.Z, self.D
        for l in range(1, self.m + 1):
            np.matmul(W[l], Z[l - 1][:, lo:hi], out=Z[l][:, lo:hi])  # A_l = W_l Z_(l-1)
        for l in range(self.m, 0, -1):
            np.matmul(D[l][:, lo:hi], Z[l - 1][:, lo:hi].T, out=dW[l])  # δ_l Z_(l-1)ᵀ
            if l > 1:
                product_of = np.multiply if self.sizes[l] == 1 else np.matmul  # as the Workspace
                for first in range(lo, hi, self.block):  # W_lᵀ δ_l
                    stop = min(first + self.block, hi)
                    out = scratch[: self.sizes[l - 1], : stop - first]
                    product_of(W[l].T, D[l][:, first:stop], out=out)

    def iteration(self) -> float:
        start = time.perf_counter()
        if len(self.bounds) == 1:
            self._products(0, self.k, *self.buffers[0])
        else:
            parallel.run_parts([(self._products, (lo, hi, *buffers)) for (lo, hi), buffers in zip(self.bounds, self.buffers)])
        return time.perf_counter() - start


def time_floor(case: Case, dtype: str, iterations: int) -> list[float]:
    """Seconds of each of `iterations` floor iterations."""
    floor = Floor(case, dtype)
    return [floor.iteration() for _ in range(iterations)]


def nncli_training(case: Case, dtype: str, X: Array, Y: Array, theta: Array) -> Training:
    network = Network(case.sizes, case.activations, case.cost, dtype, theta.astype(dtype))
    settings = Settings(
        learning_rate=case.learning_rate,
        max_iterations=case.iterations,
        gradient_tolerance=None,
        loss_change_tolerance=None,
    )
    return Training(network, X, Y, settings, classification=case.classification)


def time_nncli(case: Case, dtype: str, X: Array, Y: Array, theta: Array) -> tuple[list[float], list[float]]:
    """(seconds of each iteration, cost curve) of nncli's real training loop."""
    training = nncli_training(case, dtype, X, Y, theta)
    for _ in training:
        pass
    assert training.stop is not None and training.stop.criterion == "max_iterations"
    return list(np.diff([0.0, *training.history.seconds])), training.history.cost


def sklearn_model(case: Case, dtype: str, theta: Array, between: Any = None) -> Any:
    """An MLPClassifier/MLPRegressor doing nncli's full-batch GD from nncli's weights.

    `between()`, if given, runs after each of its epochs, off its clock: ``clock_[i]`` is
    the end of epoch i, ``resume_[i]`` the moment it goes on (``resume_[0]`` its start).
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    base = MLPClassifier if case.classification else MLPRegressor
    W, beta = Network(case.sizes, case.activations, case.cost, theta=theta).views(theta)

    class Timed(base):  # type: ignore[misc, valid-type]
        """Starts from nncli's θ and records the clock at the end of every epoch."""

        def _initialize(self, y: Array, layer_units: list[int], dtype_: Any) -> None:
            super()._initialize(y, layer_units, dtype_)
            # scikit-learn keeps rows = samples: coefs_[l-1] is W_lᵀ, intercepts_[l-1] is β_l.
            for l in range(1, len(layer_units)):
                self.coefs_[l - 1][...] = W[l].T
                self.intercepts_[l - 1][...] = beta[l][:, 0]

        def _fit_stochastic(self, *args: Any, **kwargs: Any) -> Any:
            self.clock_: list[float] = []
            self.resume_ = [time.perf_counter()]
            return super()._fit_stochastic(*args, **kwargs)

        def _update_no_improvement_count(self, *args: Any, **kwargs: Any) -> Any:
            self.clock_.append(time.perf_counter())
            if between is not None:
                between()
            self.resume_.append(time.perf_counter())
            return super()._update_no_improvement_count(*args, **kwargs)

    hidden = case.activations[:-1]
    assert len(set(hidden)) == 1, "scikit-learn has one activation for all hidden layers"
    return Timed(
        hidden_layer_sizes=case.sizes[1:-1],
        activation=SKLEARN_ACTIVATION[hidden[0]],
        solver="sgd",
        alpha=0.0,
        batch_size=case.k,
        learning_rate="constant",
        learning_rate_init=case.learning_rate,
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=False,
        early_stopping=False,
        tol=0.0,
        n_iter_no_change=case.iterations + 1,  # with tol 0: it never stops before max_iter
        max_iter=case.iterations,
        random_state=0,
    )


def time_sklearn(
    case: Case, dtype: str, X_rows: Array, target: Array, theta: Array
) -> tuple[float, list[float]]:
    """(seconds of each iteration, cost curve) of scikit-learn's solver loop."""
    from sklearn.exceptions import ConvergenceWarning

    model = sklearn_model(case, dtype, theta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_rows, target)
    assert model.n_iter_ == case.iterations and model.coefs_[0].dtype == np.dtype(dtype)
    return list(np.diff([model.resume_[0], *model.clock_])), list(model.loss_curve_)


def time_lockstep(
    case: Case, dtype: str, X_cols: Array, Y_cols: Array, X_rows: Array, target: Array, theta: Array
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """All three, one iteration each in turn: scikit-learn's epoch, the floor, nncli's step.

    For the large cases, where one iteration takes long enough for a neighbour's burst of
    CPU to hit one engine and not the others. nncli's loop is a generator, so it can be
    stepped from inside scikit-learn's epoch hook; each is timed on its own clock. The first
    iteration of each (first touch of fresh buffers) is left out.
    """
    from sklearn.exceptions import ConvergenceWarning

    floor = Floor(case, dtype)
    training = nncli_training(case, dtype, X_cols, Y_cols, theta)
    parts = parallel.parts_for(training.network, case.k)
    floor_parts = Floor(case, dtype, parts) if parts > 1 else None
    steps = iter(training)
    times: dict[str, list[float]] = {"floor": [], "floor_parts": [], "nncli": []}
    # OpenBLAS's threads spin for a while (~0.1 s) after a product before they sleep. When
    # nncli runs parts on threads (BLAS held to one thread), threads still spinning after the
    # floor's products would take a core from its first ~0.1 s, which never happens in
    # `nncli train`; so when it does, each engine starts after a rest, off every clock.
    settle = SETTLE_SECONDS if parts > 1 else 0.0

    def between() -> None:
        time.sleep(settle)
        times["floor"].append(floor.iteration())
        if floor_parts is not None:
            time.sleep(settle)
            times["floor_parts"].append(floor_parts.iteration())
        time.sleep(settle)
        start = time.perf_counter()
        next(steps)
        times["nncli"].append(time.perf_counter() - start)
        time.sleep(settle)  # before scikit-learn's next epoch

    model = sklearn_model(case, dtype, theta, between)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_rows, target)
    for _ in steps:  # let the loop end by its own criterion c)
        pass
    assert training.stop is not None and training.stop.criterion == "max_iterations"
    times["sklearn"] = [end - start for start, end in zip(model.resume_, model.clock_)]
    curves = {"nncli": training.history.cost, "sklearn": list(model.loss_curve_)}
    return {engine: seconds[1:] for engine, seconds in times.items()}, curves


# -- the progress display ---------------------------------------------------------------------


def time_display(case: Case, X: Array, Y: Array, theta: Array, mode: str, log_every: int) -> dict[str, float]:
    """Seconds the progress display takes per iteration, and as a share of training.

    Everything it does in a run is counted: `__enter__` (the header, starting the bar), every
    `update` (queueing rows, and the redraws it makes: formatting the queued rows, writing
    them and the bar) and `__exit__` (the last rows, closing the bar); the console is made as
    `nncli train` makes it (rich mode: a terminal of 120 columns), writing to memory.
    """
    from rich.console import Console

    from nncli.report import TrainingDisplay

    training = nncli_training(case, "float64", X, Y, theta)
    console = Console(
        file=io.StringIO(), force_terminal=mode == "rich", width=120, soft_wrap=True, highlight=False
    )
    display = TrainingDisplay(console, mode, case.iterations, log_every, False, case.classification)
    timer = min(_timer_cost() for _ in range(5))  # the two clock reads below, per iteration
    clock = time.perf_counter
    before = clock()
    display.__enter__()
    outside = clock() - before  # before the loop's clock starts (and __exit__ after it ends)
    spent = 0.0
    for step in training:
        before = clock()
        display.update(step)
        spent += clock() - before
    training_seconds = training.history.seconds[-1] - spent  # update ran inside the loop's clock
    before = clock()
    display.__exit__(None, None, None)
    outside += clock() - before
    spent = max(0.0, spent + outside - timer * case.iterations)
    return {
        "iterations": case.iterations,
        "training_seconds": training_seconds,
        "seconds_per_iteration": spent / case.iterations,
        "fraction_of_training": spent / training_seconds,
    }


def _timer_cost(n: int = 100_000) -> float:
    """Seconds per iteration of the measuring itself (two clock reads and a sum)."""
    clock, spent = time.perf_counter, 0.0
    start = clock()
    for _ in range(n):
        before = clock()
        spent += clock() - before
    measured = clock() - start
    start = clock()
    for _ in range(n):  # the bare loop, which the measurement does not count
        pass
    return max(0.0, measured - (clock() - start)) / n


# -- subprocess measurements -------------------------------------------------------------------


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(engine: str, case: Case, dtype: str) -> dict[str, Any]:
    """Peak RSS of training beyond the data, measured in this (fresh) process."""
    X, Y, labels = make_data(case)
    theta = initial_theta(case)
    X = X.astype(dtype) if engine == "nncli" else np.ascontiguousarray(X.T, dtype=dtype)
    Y = Y.astype(dtype)
    if engine == "sklearn":
        model = sklearn_model(case, dtype, theta)  # imports scikit-learn before the baseline
    # OpenBLAS allocates its own work buffers at its first large product; they belong to the
    # library (a fixed size, the same for any data), so they are in place before the baseline.
    warm = np.ones((1024, 1024), dtype)
    warm @ warm
    del warm
    gc.collect()
    try:  # reset the high-water mark so that making the data does not count
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        reset = True
    except OSError:
        reset = False
    before = _status_kb("VmRSS")
    if engine == "nncli":
        nncli_training(case, dtype, X, Y, theta).run()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, labels if case.classification else labels.astype(dtype))
    peak = _status_kb("VmHWM")
    extra = (peak - before) * 1024
    return {
        "engine": engine,
        "dtype": dtype,
        "X_bytes": int(X.nbytes),
        "extra_bytes": int(extra),
        "ratio_to_X": extra / X.nbytes,
        "peak_reset": reset,
    }


def predict_child(rows: int, repeats: int) -> dict[str, Any]:
    """Rows per second of Network.forward on `rows` observations (it works in blocks itself)."""
    sizes, activations = (10, 64, 64, 1), ("relu", "relu", "identity")
    case = Case("predict", rows, sizes, activations, "mse", 1, 0.0)
    network = Network(sizes, activations, "mse", theta=initial_theta(case))
    X = np.random.default_rng(2).standard_normal((sizes[0], rows))
    network.forward(X[:, :1000])  # BLAS buffers, first use of the code: not counted
    before = _status_kb("VmRSS")
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        Y_hat = network.forward(X)
        seconds.append(time.perf_counter() - start)
        del Y_hat
    extra = (_status_kb("VmHWM") - before) * 1024
    best = statistics.median(seconds)
    return {
        "path": "nncli.network.Network.forward on the whole X (the network alone)",
        "network": " → ".join(f"{n} {f}" for n, f in zip(sizes[1:], activations)),
        "features": sizes[0],
        "rows": rows,
        "chunk": network_module.FORWARD_COLUMNS,
        "seconds": best,
        "rows_per_second": rows / best,
        "extra_bytes": int(extra),
        "Y_hat_bytes": rows * sizes[-1] * 8,
    }


def predict_cli_child(rows: int, repeats: int) -> dict[str, Any]:
    """Rows per second of the real `nncli predict MODEL CSV -o OUT`: CSV parsing, X, forward,
    decoding and CSV writing, on a generated `rows`-row CSV of 10 features (in a temp dir)."""
    import tempfile

    from nncli.cli import app

    rng = np.random.default_rng(3)
    names = [f"x{i}" for i in range(10)]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data = rng.standard_normal((rows, 10)).round(6)
        target = data @ rng.standard_normal(10)
        with open(root / "data.csv", "w") as handle:
            handle.write(",".join(names + ["y"]) + "\n")
            np.savetxt(handle, np.column_stack([data, target]), fmt="%.6f", delimiter=",")
        with open(root / "train.csv", "w") as handle:
            handle.write(",".join(names + ["y"]) + "\n")
            np.savetxt(handle, np.column_stack([data[:2000], target[:2000]]), fmt="%.6f", delimiter=",")
        (root / "c.yaml").write_text(
            "data: {train: train.csv, targets: [y]}\n"
            "network: {layers: [{neurons: 64, activation: relu}, {neurons: 64, activation: relu}, {neurons: 1}]}\n"
            "training: {learning_rate: 0.01}\nstopping: {max_iterations: 5}\n"
        )
        model, out = root / "m.npz", root / "out.csv"
        app(["train", str(root / "c.yaml"), "-q", "-o", str(model)], standalone_mode=False)
        before = _status_kb("VmRSS")
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            app(["predict", str(model), str(root / "data.csv"), "-o", str(out)], standalone_mode=False)
            seconds.append(time.perf_counter() - start)
        extra = (_status_kb("VmHWM") - before) * 1024
        size = (root / "data.csv").stat().st_size
    best = statistics.median(seconds)
    return {
        "path": "nncli predict MODEL data.csv -o out.csv (CSV in, CSV out)",
        "network": "64 relu → 64 relu → 1 identity",
        "features": 10,
        "rows": rows,
        "csv_bytes": size,
        "seconds": best,
        "rows_per_second": rows / best,
        "extra_bytes": int(extra),
    }


def run_child(args: list[str]) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, os.path.abspath(__file__), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# -- machine ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = [
        {
            "library": pool.get("internal_api"),
            "version": pool.get("version"),
            "kernel": pool.get("architecture"),
            "threads": pool.get("num_threads"),
            "file": os.path.basename(pool.get("filepath", "")),
        }
        for pool in threadpool_info()
        if pool.get("user_api") == "blas"
    ]
    import sklearn

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy_blas": _numpy_blas(blas),
        "blas": blas,
        "unset": os.environ.get(_UNSET_MARK, ""),
        "load_average_before": os.getloadavg(),
    }


def _numpy_blas(blas: list[dict[str, Any]]) -> dict[str, Any]:
    """The BLAS numpy's matmul uses (scikit-learn's MLP multiplies through numpy too)."""
    for pool in blas:
        if "numpy" in pool["file"] or "openblas64_" in pool["file"]:
            return pool
    return blas[0] if blas else {}


# -- main ------------------------------------------------------------------------------------


def measure(cases: list[Case], repeats: int) -> list[dict[str, Any]]:
    results = []
    for case in cases:
        X, Y, labels = make_data(case)
        theta = initial_theta(case)
        data = {}
        for dtype in DTYPES:
            data[dtype] = (
                X.astype(dtype),
                Y.astype(dtype),
                np.ascontiguousarray(X.T, dtype=dtype),  # scikit-learn: rows are samples
                labels if case.classification else labels.astype(dtype),
            )
        del X, Y
        times: dict[tuple[str, str], list[list[float]]] = {}
        curves: dict[tuple[str, str], list[float]] = {}
        engines = ("floor", "nncli", "sklearn")
        # Large cases in lock step, iteration by iteration; small ones run by run, in a
        # rotating order (a run of case c lasts well under a second).
        lockstep = case.iterations < 100
        print(f"case ({case.name}) {case.title}: ", end="", flush=True)
        for r in range(repeats):
            for dtype in DTYPES:
                X_cols, Y_cols, X_rows, target = data[dtype]
                if lockstep:
                    gc.collect()
                    seconds_of, curves_of = time_lockstep(case, dtype, X_cols, Y_cols, X_rows, target, theta)
                    for engine in (*engines, "floor_parts"):
                        if seconds_of[engine]:
                            times.setdefault((engine, dtype), []).append(seconds_of[engine])
                    curves["nncli", dtype], curves["sklearn", dtype] = curves_of["nncli"], curves_of["sklearn"]
                    continue
                for i in range(len(engines)):
                    engine = engines[(r + i) % len(engines)]  # rotate the order every repeat
                    gc.collect()
                    if engine == "floor":
                        seconds = time_floor(case, dtype, case.iterations)
                    elif engine == "nncli":
                        seconds, curves[engine, dtype] = time_nncli(case, dtype, X_cols, Y_cols, theta)
                    else:
                        seconds, curves[engine, dtype] = time_sklearn(case, dtype, X_rows, target, theta)
                    times.setdefault((engine, dtype), []).append(seconds)
            print(".", end="", flush=True)
        print()
        for dtype in DTYPES:
            # Small cases: the mean iteration of each run (Python overhead, GC and all
            # included), then the median over runs. Large cases: the median over every
            # iteration of every run, which shrugs off a neighbour's burst of CPU.
            if not lockstep:
                samples = {e: [statistics.fmean(run) for run in times[e, dtype]] for e in engines}
            else:
                samples = {e: [t for run in times[e, dtype] for t in run] for e in engines}
            if ("floor_parts", dtype) in times:  # the GEMMs as nncli's parts make them
                samples["floor_parts"] = [t for run in times["floor_parts", dtype] for t in run]
            median = {e: statistics.median(samples[e]) for e in samples}
            ours, theirs = np.array(curves["nncli", dtype]), np.array(curves["sklearn", dtype])
            results.append(
                {
                    "case": case.name,
                    "title": case.title,
                    "dtype": dtype,
                    "k": case.k,
                    "iterations": case.iterations,
                    "repeats": repeats,
                    "floor": median["floor"],
                    "floor_parts": median.get("floor_parts"),
                    "nncli": median["nncli"],
                    "sklearn": median["sklearn"],
                    "samples": samples,
                    "minimum": {e: min(samples[e]) for e in samples},
                    "cost_curve_max_relative_difference": float(
                        np.max(np.abs(ours - theirs) / np.abs(theirs))
                    ),
                    # threads nncli.parallel ran each iteration on (1: one Workspace)
                    "nncli_parts": parallel.parts_for(Network(case.sizes, case.activations, case.cost), case.k),
                }
            )
        f64 = next(r for r in results if r["case"] == case.name and r["dtype"] == "float64")
        for row in results:
            if row["case"] == case.name:
                row["nncli_over_sklearn"] = row["nncli"] / row["sklearn"]
                row["nncli_over_sklearn_float64"] = row["nncli"] / f64["sklearn"]
                row["nncli_floor_fraction"] = row["floor"] / row["nncli"]
                if row["floor_parts"] is not None:
                    row["nncli_parts_floor_fraction"] = row["floor_parts"] / row["nncli"]
                row["sklearn_floor_fraction"] = row["floor"] / row["sklearn"]
    return results


def seconds_text(s: float) -> str:
    if s >= 0.1:
        return f"{s:.3f} s"
    if s >= 1e-4:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def table(report: dict[str, Any]) -> str:
    m = report["machine"]
    blas = m["numpy_blas"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores; python {m['python']}, numpy {m['numpy']}, "
        f"scikit-learn {m['scikit-learn']}",
        f"BLAS (numpy, used by both): {blas.get('library')} {blas.get('version')}, kernel "
        f"{blas.get('kernel')}, {blas.get('threads')} threads",
        (
            f"environment: unset {m['unset']} for this process (re-executed before numpy was imported)"
            if m["unset"]
            else "environment: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE were not set; nothing unset"
        ),
        "load average (1, 5, 15 min) before: {:.1f} {:.1f} {:.1f}, after training: {:.1f} {:.1f} {:.1f} "
        "(on {} cores; other work on the machine makes absolute times noisy, the ratios of "
        "interleaved runs much less so)".format(
            *m["load_average_before"], *m.get("load_average_after", (0, 0, 0)), m["cores"]
        ),
        "",
        "seconds per iteration, median (interleaved repeats); floor = the GEMMs alone (BLAS "
        "threads as set); nncli parts = the threads nncli.parallel cut each iteration's "
        "columns into, BLAS held to one thread per part (1: one Workspace, BLAS threaded); "
        "floor in parts = the same GEMMs made that way, i.e. the products nncli really runs",
        "",
    ]
    header = (
        "| case | dtype | GEMM floor | nncli | scikit-learn | nncli / sklearn "
        "| nncli / sklearn float64 | floor / nncli | floor / sklearn | cost curves Δ | nncli parts "
        "| floor in parts | floor in parts / nncli |"
    )
    lines += [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report["training"]:
        lines.append(
            f"| ({row['case']}) {row['title']} | {row['dtype']} | {seconds_text(row['floor'])} "
            f"| {seconds_text(row['nncli'])} | {seconds_text(row['sklearn'])} "
            f"| {row['nncli_over_sklearn']:.2f} | {row['nncli_over_sklearn_float64']:.2f} "
            f"| {row['nncli_floor_fraction']:.0%} | {row['sklearn_floor_fraction']:.0%} "
            f"| {row['cost_curve_max_relative_difference']:.0e} | {row.get('nncli_parts', 1)} "
            + (
                f"| {seconds_text(row['floor_parts'])} | {row['nncli_parts_floor_fraction']:.0%} |"
                if row.get("floor_parts") is not None
                else "| — | — |"
            )
        )
    lines.append("")
    for mem in report.get("memory", []):
        lines.append(
            f"memory, case (a) {mem['dtype']}, {mem['engine']}: {mem['extra_bytes'] / 2**20:.0f} MB "
            f"peak RSS beyond the data = {mem['ratio_to_X']:.2f} × X ({mem['X_bytes'] / 2**20:.0f} MB)"
            + ("" if mem["peak_reset"] else " (peak not reset: upper bound)")
        )
    pred = report.get("predict")
    if pred:
        lines.append(
            f"predict: {pred['rows_per_second'] / 1e6:.2f} M rows/s, {pred['rows']} rows × "
            f"{pred['features']} features, network {pred['network']}, {pred['chunk']} columns a block, "
            f"{pred['extra_bytes'] / 2**20:.0f} MB beyond X (Ŷ itself is {pred['Y_hat_bytes'] / 2**20:.0f} MB); "
            f"path: {pred['path']}"
        )
    pred = report.get("predict_cli")
    if pred:
        lines.append(
            f"predict, whole command: {pred['rows_per_second'] / 1e6:.2f} M rows/s, {pred['rows']} rows × "
            f"{pred['features']} features ({pred['csv_bytes'] / 2**20:.0f} MB of CSV), network {pred['network']}, "
            f"{pred['seconds']:.2f} s, peak {pred['extra_bytes'] / 2**20:.0f} MB beyond the start; path: {pred['path']}"
        )
    for disp in report.get("display", []):
        lines.append(
            f"progress display ({disp['mode']}, log_every {disp['log_every']}, case ({disp['case']}) "
            f"float64, {disp['iterations']} iterations in {disp['training_seconds']:.2f} s): "
            f"{disp['seconds_per_iteration'] * 1e6:.2f} µs per iteration = "
            f"{disp['fraction_of_training']:.2%} of training time"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 repeats: a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per measurement (default 5, quick 2)")
    parser.add_argument("--cases", default="a,b,c", help="comma-separated cases (default a,b,c)")
    parser.add_argument("--no-subprocess", action="store_true", help="skip memory and predict")
    parser.add_argument(
        "--threads", type=int, default=None, help="BLAS threads for the training cases (default: the BLAS default)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    cases = {name: CASES[name] for name in args.cases.split(",")}
    if args.quick:
        cases = {name: replace(case, **QUICK[name]) for name, case in cases.items()}
    if args.child:
        kind, *rest = args.child
        if kind == "memory":
            engine, dtype = rest
            print(json.dumps(memory_child(engine, cases["a"], dtype)))
        elif kind == "predict-cli":
            rows, repeats = map(int, rest)
            print(json.dumps(predict_cli_child(rows, repeats)))
        else:
            rows, repeats = map(int, rest)
            print(json.dumps(predict_child(rows, repeats)))
        return 0

    repeats = args.repeats or (2 if args.quick else 5)
    quick = ["--quick"] if args.quick else []
    report: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    if report["machine"]["unset"]:
        print(f"note: unset {report['machine']['unset']} for this benchmark process")
    if args.threads:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.threads, user_api="blas"):
            report["machine"]["numpy_blas"]["threads"] = args.threads
            report["training"] = measure(list(cases.values()), repeats)
    else:
        report["training"] = measure(list(cases.values()), repeats)
    report["machine"]["load_average_after"] = os.getloadavg()
    if not args.no_subprocess:
        print("memory and predict (subprocesses) …", flush=True)
        report["memory"] = [
            run_child([*quick, "--child", "memory", engine, dtype])
            for dtype in DTYPES
            for engine in ("nncli", "sklearn")
        ]
        rows = 100_000 if args.quick else 1_000_000
        report["predict"] = run_child(["--child", "predict", str(rows), str(repeats)])
        report["predict_cli"] = run_child(["--child", "predict-cli", str(rows), str(min(repeats, 3))])
    # The display on the fastest iterations there are (case c), long enough (~1 s) for the
    # bar to be redrawn at its steady rate: the worst case for its share of the time.
    c = replace(CASES["c"], iterations=3000 if args.quick else 30000)
    X, Y, _ = make_data(c)
    theta = initial_theta(c)
    report["display"] = [
        {"mode": mode, "log_every": log_every, "case": c.name, **time_display(c, X, Y, theta, mode, log_every)}
        for mode in ("rich", "plain")
        for log_every in (10, 100)
    ]
    text = table(report)
    print()
    print(text)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
