"""One iteration on every core: the k columns cut into parts that run at once.

A `Workspace` computes the cost and ∂cost/∂θ of all k columns. BLAS runs its matrix products
on every core, but everything between them — adding β_l, f_l, f'_l, the output layer — is
NumPy on one core, and while it runs, a BLAS thread waiting for its next product keeps the
other cores busy spinning (OpenBLAS waits that way for a while before it sleeps), so even
threads of our own could not use them. On the 60000 × 784 → 256 → 10 problem of the
benchmark that work is ~12 % of an iteration.

`SplitWorkspace` instead cuts the columns into P contiguous parts of about k/P columns, gives
each part a Workspace of its own, and runs the parts on P threads at once, each calling BLAS
single-threaded (held there by threadpoolctl while the parts run). Each part's cost is the
mean over its own k_p columns, so the whole is the weighted sum

    cost = Σ_p (k_p / k) cost_p          ∂cost/∂θ = Σ_p (k_p / k) ∂cost_p/∂θ

— SPEC.md's cost and gradient over all k columns, summed in another order. (With two equal
parts the weights are 1/2, which is exact in binary floating point.) The parts are fixed by
k and P, so a run is reproducible bit for bit on a machine with the same number of threads.

`workspace(network, k)` picks: parts only when the machine has more than one core for BLAS,
the BLAS can be held to one thread, and an iteration is large (`SPLIT_MIN_WORK`); otherwise
a plain Workspace. `evaluate(network, X, Y)` does the same for the validation pass of every
iteration, which would otherwise leave BLAS threads spinning into the next iteration.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from typing import Any, Callable

import numpy as np

from nncli.network import Network, Workspace

Array = np.ndarray

# Multiply-adds of a forward pass (k · Σ n_l (n_(l-1) + 1); back propagation is about twice
# that) from which the columns are split: ~50 ms of an iteration on one core. Below it the
# hand-off between threads, and two parts contending for the memory and the floating-point
# units of a shared machine, cost about what the second core brings (measured on case (b)
# of the benchmark, 10000 × 20 → 64 tanh → 64 tanh → 1: 55 M, not split).
SPLIT_MIN_WORK = 1 << 27
# Fewest columns in a part.
SPLIT_MIN_COLUMNS = 1024

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_blas: Any = None  # threadpoolctl's controller of the loaded BLAS libraries, once found


def _blas_controller() -> Any:
    """threadpoolctl's controller of the BLAS libraries loaded (None if there are none)."""
    global _blas
    with _lock:
        if _blas is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:  # pragma: no cover - a dependency; guarded all the same
                _blas = False
            else:
                controller = ThreadpoolController().select(user_api="blas")
                _blas = controller if controller.lib_controllers else False
        return _blas or None


def available_threads() -> int:
    """Threads an iteration can use: the cores this process may run on, at most as many as
    BLAS is set to use (OPENBLAS_NUM_THREADS=1 and the like are respected); 1 without a BLAS
    that threadpoolctl can hold to one thread."""
    controller = _blas_controller()
    if controller is None:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    blas_threads = max(lib.num_threads for lib in controller.lib_controllers)
    return max(1, min(cores, blas_threads))


def work(network: Network, k: int) -> int:
    """Multiply-adds of one forward pass over k columns: k · Σ_l n_l (n_(l-1) + 1)."""
    return k * network.parameter_count


def parts_for(network: Network, k: int) -> int:
    """How many parts `workspace` cuts k columns into (1: not split)."""
    if work(network, k) < SPLIT_MIN_WORK:
        return 1
    return max(1, min(available_threads(), k // SPLIT_MIN_COLUMNS))


def workspace(network: Network, k: int, parts: int | None = None) -> "Workspace | SplitWorkspace":
    """The workspace for iterations over k columns: split into parts where that pays."""
    parts = parts_for(network, k) if parts is None else parts
    if parts <= 1:
        return Workspace(network, k)
    return SplitWorkspace(network, k, parts)


def _executor(threads: int) -> ThreadPoolExecutor:
    """One pool of worker threads for every SplitWorkspace (made on first use)."""
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers < threads:  # type: ignore[attr-defined]
            if _pool is not None:
                _pool.shutdown(wait=False)  # its threads end once idle
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nncli-part")
        return _pool


def _bounds(k: int, parts: int) -> list[tuple[int, int]]:
    """[(lo, hi), …]: `parts` runs of consecutive columns, sizes differing by at most one."""
    edges = [k * p // parts for p in range(parts + 1)]
    return list(zip(edges, edges[1:]))


def with_errors(function: Callable[..., Any], args: tuple[Any, ...], errors: dict[str, str]) -> Any:
    # NumPy's floating-point error handling is per thread: take the caller's along.
    with np.errstate(**errors):
        return function(*args)


def run_parts(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
    """[function(*args) for each call], all at once: the first here, the others on the pool,
    with BLAS held to one thread meanwhile. Waits for every call, also when one fails or
    Ctrl-C interrupts the wait, so that none is left running; then BLAS is as it was. The
    first call's error wins over the others' (a Ctrl-C in it stays a KeyboardInterrupt)."""
    errors = np.geterr()
    controller = _blas_controller()
    pool = _executor(len(calls) - 1)
    with controller.limit(limits=1) if controller else nullcontext():
        futures = [pool.submit(with_errors, function, args, errors) for function, args in calls[1:]]
        try:
            function, args = calls[0]
            first = function(*args)
        finally:
            _wait_for_all(futures)
    return [first, *(future.result() for future in futures)]


def _wait_for_all(futures: list[Future[Any]]) -> None:
    """Wait until every future is done, whatever happens meanwhile; a Ctrl-C during the wait
    is raised once they are (a part takes at most one iteration)."""
    interrupted = False
    while True:
        try:
            wait(futures)
            break
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt


def evaluate(network: Network, X: Array, Y: Array, parts: int | None = None) -> tuple[float, Array]:
    """`network.evaluate(X, Y)` — (cost, Ŷ) — in `parts` parts on threads (by default
    `parts_for`: where that pays)."""
    k = X.shape[1]
    parts = parts_for(network, k) if parts is None else parts
    if parts <= 1:
        return network.evaluate(X, Y)
    bounds = _bounds(k, parts)
    results = run_parts([(network.evaluate, (X[:, lo:hi], Y[:, lo:hi])) for lo, hi in bounds])
    cost = 0.0
    for (lo, hi), (part_cost, _) in zip(bounds, results):
        cost += (hi - lo) / k * part_cost
    return cost, np.concatenate([Y_hat for _, Y_hat in results], axis=1)


class SplitWorkspace:
    """A Workspace over k columns made of `parts` Workspaces over consecutive columns.

    Same interface as Workspace: ``compute(X, Y)`` returns the cost and fills ``grad``
    (views ``dW[l]``, ``dbeta[l]``); ``cost(X, Y)`` the cost alone. X and Y are never
    copied: each part works on column views of them.
    """

    def __init__(self, network: Network, k: int, parts: int) -> None:
        if not 2 <= parts <= k:
            raise ValueError(f"cannot cut {k} columns into {parts} parts")
        self.network = network
        self.k = k
        self.bounds = _bounds(k, parts)
        self.parts = [Workspace(network, hi - lo) for lo, hi in self.bounds]
        self.weights = [(hi - lo) / k for lo, hi in self.bounds]
        self.grad = np.zeros(network.parameter_count, network.dtype)
        self.dW, self.dbeta = network.views(self.grad)
        self._for: tuple[Array | None, Array | None] = (None, None)
        self._views: list[tuple[Array, Array]] = []

    def _columns(self, X: Array, Y: Array) -> list[tuple[Array, Array]]:
        """The parts' column views of X and Y (made again only for other arrays)."""
        if self._for[0] is not X or self._for[1] is not Y:
            self._views = [(X[:, lo:hi], Y[:, lo:hi]) for lo, hi in self.bounds]
            self._for = (X, Y)
        return self._views

    def _each(self, method: str, X: Array, Y: Array) -> list[float]:
        """Run `method` of every part at once (`run_parts`)."""
        views = self._columns(X, Y)
        return run_parts([(getattr(part, method), view) for part, view in zip(self.parts, views)])

    def compute(self, X: Array, Y: Array) -> float:
        """Forward pass and back propagation on every part; returns the cost, fills ``grad``."""
        costs = self._each("compute", X, Y)
        grad = self.grad
        np.multiply(self.parts[0].grad, self.weights[0], out=grad)
        for part, weight in zip(self.parts[1:], self.weights[1:]):
            part.grad *= weight  # its own buffer, filled again by the next compute
            grad += part.grad
        return self._weighted(costs)

    def cost(self, X: Array, Y: Array) -> float:
        """The cost at θ on (X, Y) with k columns (no gradients)."""
        return self._weighted(self._each("cost", X, Y))

    def _weighted(self, costs: list[float]) -> float:
        total = 0.0
        for cost, weight in zip(costs, self.weights):
            total += weight * cost
        return total
