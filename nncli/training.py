"""Gradient descent (SPEC.md Steps 1–5) as a generator of per-iteration statistics.

One iteration is one pass over the k training observations:
    full batch (the default): Steps 2–4 once on all k columns, then one update of θ —
              SPEC.md's plain gradient descent (a large problem's columns are summed in
              parts on threads, `nncli.parallel`: the same sums in another order);
    mini-batches of b columns: the columns are reshuffled (a generator derived from the
              seed) and cut into ⌈k / b⌉ batches; each batch is one forward pass, one back
              propagation and one update.
Each update takes g = ∂cost/∂θ of its batch, adds the weight decay λ W_l to ∂cost/∂W_l
(l2; the cost then includes λ/2 Σ‖W_l‖²; β_l is not decayed), clips g to the global L2
norm ``gradient_clip`` if it is longer, and hands it to the optimizer (`nncli.optimizers`).

Step 5 stops the run when one criterion holds:
    a) ‖∂cost/∂θ‖₂ < gradient_tolerance
    b) for `patience` iterations in a row, with monitor training_cost: |cost_t − cost_(t−1)|
       < loss_change_tolerance (the change becomes negligible, SPEC.md); with monitor
       validation_cost: the validation cost does not improve on its best by more than
       loss_change_tolerance (early stopping)
    c) max_iterations reached (iterations before a resume count too)

What an iteration reports is measured at the parameters it started from, θ_(t−1): the
training cost and ‖g‖ for full batch, the validation cost always. With mini-batches the
parameters move during the pass, and the cost and gradient norm are the means over its
batches, weighted by batch size (the norm is the root of the mean ‖g_batch‖²).

`Training` knows nothing of printing: it yields a `Step` per iteration and, when it ends,
holds the `Stop` (which criterion, and the numbers behind it), the history, the final cost
and `held`: which parameters it leaves in the network (the last ones, or with restore_best
those of the best monitored iteration) and why. A NaN or infinite cost or gradient stops it
*before* the update, so the network keeps the last finite parameters. `checkpoint()` is
everything needed to continue the run exactly (`Training(..., resume=checkpoint)`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple

import numpy as np

from nncli import parallel
from nncli.network import Network, Workspace
from nncli.optimizers import Optimizer, make_optimizer
from nncli.parallel import SplitWorkspace

Array = np.ndarray

MONITORS = ("training_cost", "validation_cost")


@dataclass(frozen=True)
class Settings:
    """How to train. The defaults here are SPEC.md's plain full-batch gradient descent; the
    config's defaults (README, `nncli.config`) are passed explicitly by `run.settings_from`."""

    learning_rate: float
    max_iterations: int | None = 1000
    gradient_tolerance: float | None = 1e-6
    loss_change_tolerance: float | None = 1e-10  # None: criterion b) is off
    patience: int = 1
    batch_size: int | None = None  # None (or ≥ k): full batch
    optimizer: str = "gd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    l2: float = 0.0
    gradient_clip: float | None = None
    monitor: str = "training_cost"
    restore_best: bool = False
    seed: int = 0  # the shuffling stream is SeedSequence([seed, 2])


class Step(NamedTuple):
    """What one iteration measured, at the parameters it started from.

    A NamedTuple rather than a frozen dataclass: just as immutable, and made 3× faster
    (one is made per iteration; on a small network that is a few % of the iteration).
    """

    iteration: int  # 1-based: the number of iterations done once this step is done
    cost: float
    gradient_norm: float
    seconds: float  # since training started (including the runs before a resume)
    validation_cost: float | None = None
    validation_accuracy: float | None = None


@dataclass(frozen=True)
class Stop:
    criterion: str  # gradient_tolerance | loss_change_tolerance | max_iterations | diverged | interrupted
    iteration: int  # iterations done
    message: str

    @property
    def success(self) -> bool:
        return self.criterion not in ("diverged", "interrupted")


@dataclass(frozen=True)
class Held:
    """Which parameters training left in the network: ``which`` is best or last."""

    which: str
    iteration: int  # the parameters after this many iterations
    reason: str


@dataclass
class History:
    """One entry per iteration (validation lists stay empty without validation data).

    `iteration` stays empty while entry i is iteration i + 1. A model file keeps at most
    `checkpoint.HISTORY_POINTS` entries of a long run (evenly spread, the last included);
    resumed from such a file, `iteration` names the iteration of every entry.
    """

    cost: list[float] = field(default_factory=list)
    gradient_norm: list[float] = field(default_factory=list)
    validation_cost: list[float] = field(default_factory=list)
    validation_accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    iteration: list[float] = field(default_factory=list)

    def iterations(self) -> list[int]:
        """The iteration number of each entry."""
        if self.iteration:
            return [int(i) for i in self.iteration]
        return list(range(1, len(self.cost) + 1))

    def copy(self) -> "History":
        return History(*(list(getattr(self, name)) for name in self.__dataclass_fields__))


@dataclass
class Checkpoint:
    """Everything a run needs to continue exactly where it stopped."""

    iteration: int
    theta: Array  # θ after `iteration` iterations: the last parameters, not the best
    optimizer: str
    optimizer_state: dict[str, Array]
    optimizer_steps: int
    shuffle_state: dict[str, Any] | None  # the shuffling generator's bit_generator.state
    monitor: str
    best: float | None  # the lowest monitored value so far …
    best_iteration: int | None  # … measured at the parameters after this many iterations
    best_theta: Array | None  # … which are these (kept only with restore_best)
    calm: int  # iterations in a row without an improvement above loss_change_tolerance
    history: History
    seconds: float


def accuracy(Y_hat: np.ndarray, Y: np.ndarray, one_hot: bool) -> float:
    """Fraction of predictions that are right: with one-hot Y (categorical cross-entropy) the
    argmax of each column; otherwise (0/1 labels) each entry at the 0.5 threshold."""
    if one_hot:
        return float(np.mean(np.argmax(Y_hat, axis=0) == np.argmax(Y, axis=0)))
    return float(np.mean((Y_hat >= 0.5) == (Y >= 0.5)))


def is_logged(iteration: int, log_every: int) -> bool:
    """Whether an iteration gets a progress row (and a history.csv row): 1, N, 2N, …"""
    return iteration == 1 or iteration % log_every == 0


def shuffle_generator(seed: int) -> np.random.Generator:
    """The generator that reshuffles mini-batches ([seed, 0] is init, [seed, 1] the split)."""
    return np.random.default_rng(np.random.SeedSequence([seed, 2]))


class Training:
    """Trains (X, Y) by the settings' optimizer, updating `network.theta` in place."""

    def __init__(
        self,
        network: Network,
        X: np.ndarray,
        Y: np.ndarray,
        settings: Settings,
        X_validation: np.ndarray | None = None,
        Y_validation: np.ndarray | None = None,
        classification: bool = False,
        resume: Checkpoint | None = None,
    ) -> None:
        if settings.monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {MONITORS}, got {settings.monitor!r}")
        if settings.monitor == "validation_cost" and X_validation is None:
            raise ValueError("monitor validation_cost needs validation data")
        self.network = network
        self.X = np.ascontiguousarray(X, dtype=network.dtype)
        self.Y = np.ascontiguousarray(Y, dtype=network.dtype)
        self.settings = settings
        self.X_validation = X_validation
        self.Y_validation = Y_validation
        self.classification = classification
        self.history = History()
        self.stop: Stop | None = None
        self.held: Held | None = None
        self.final_cost: float | None = None
        # The validation cost and accuracy at the parameters left in the network.
        self.final_validation: tuple[float | None, float | None] = (None, None)
        self.seconds = 0.0
        self.iteration = 0
        self.best: float | None = None
        self.best_iteration: int | None = None
        self.calm = 0
        self._stop_requested = False
        self._seconds_before = 0.0
        self._last_theta: Array | None = None  # set when the network is given the best θ
        self._kept = ""  # after a divergence: which parameters are the last finite ones

        size, dtype = network.parameter_count, network.dtype
        self.optimizer: Optimizer = make_optimizer(
            settings.optimizer,
            size,
            dtype,
            settings.learning_rate,
            momentum=settings.momentum,
            beta1=settings.beta1,
            beta2=settings.beta2,
            epsilon=settings.epsilon,
        )
        self._decay: Array | None = None  # λ at the positions of W_l, 0 at those of β_l
        self._decayed: Array | None = None
        if settings.l2 > 0:
            self._decay = np.zeros(size, dtype)
            for W in network.views(self._decay)[0][1:]:
                W[...] = settings.l2
            self._decayed = np.empty(size, dtype)
        self._clip = settings.gradient_clip
        self._clip_squared = math.inf if self._clip is None else self._clip**2
        # restore_best: θ at the start of the current pass, and the best θ so far (swapped).
        self._start_theta = np.empty(size, dtype) if settings.restore_best else None
        self._best_theta = np.empty(size, dtype) if settings.restore_best else None

        # the validation pass's parts, fixed for the run like the training workspaces'
        self._validation_parts = (
            1 if X_validation is None else parallel.parts_for(network, X_validation.shape[1])
        )
        k = self.X.shape[1]
        b = settings.batch_size
        self._rng: np.random.Generator | None = None
        self._batches: list[tuple[int, int, Workspace | SplitWorkspace, Array, Array, float]] | None = None
        if b is None or b >= k:
            self._workspace = parallel.workspace(network, k)
        else:
            self._rng = shuffle_generator(settings.seed)
            self._order = np.arange(k)
            self._index = np.empty(k, dtype=self._order.dtype)
            n0, n_m = self.X.shape[0], self.Y.shape[0]
            # One workspace and one pair of batch buffers per batch size (b, and k mod b).
            buffers = {
                size: (parallel.workspace(network, size), np.empty((n0, size), dtype), np.empty((n_m, size), dtype))
                for size in {b, k % b} - {0}
            }
            self._batches = []
            for lo in range(0, k, b):
                hi = min(lo + b, k)
                self._batches.append((lo, hi, *buffers[hi - lo], (hi - lo) / k))
        if resume is not None:
            self._restore(resume)

    @property
    def batches(self) -> int:
        """Updates per iteration: 1 for full batch, ⌈k / b⌉ for mini-batches."""
        return 1 if self._batches is None else len(self._batches)

    def request_stop(self) -> None:
        """Ask the loop to stop at the next iteration boundary (Ctrl-C)."""
        self._stop_requested = True

    # -- one iteration ----------------------------------------------------------------------

    def _validation(self) -> tuple[float | None, float | None]:
        if self.X_validation is None or self.Y_validation is None:
            return None, None
        # in parts on threads where the data are large, like the training iterations
        cost, Y_hat = parallel.evaluate(
            self.network, self.X_validation, self.Y_validation, self._validation_parts
        )
        one_hot = self.network.cost == "categorical_cross_entropy"
        acc = accuracy(Y_hat, self.Y_validation, one_hot) if self.classification else None
        return cost, acc

    def _descend(self, workspace: Workspace | SplitWorkspace, X: Array, Y: Array) -> tuple[float, float, bool]:
        """Cost and ‖g‖² at θ on (X, Y), then one update — only if both are finite."""
        theta = self.network.theta
        cost = workspace.compute(X, Y)  # Steps 2–4: cost and g = ∂cost/∂θ at θ
        grad = workspace.grad
        if self._decay is not None:
            decayed = self._decayed
            np.multiply(self._decay, theta, out=decayed)  # λ W_l (0 for β_l)
            cost += 0.5 * float(np.dot(decayed, theta))  # + λ/2 Σ‖W_l‖²
            grad += decayed  # ∂/∂W_l of the penalty: λ W_l
        squared = float(np.dot(grad, grad))
        if not (math.isfinite(cost) and math.isfinite(squared)):
            return cost, squared, False
        if squared > self._clip_squared:
            grad *= self._clip / math.sqrt(squared)  # g · clip / ‖g‖
        self.optimizer.step(theta, grad)
        return cost, squared, True

    def _pass(self) -> tuple[float, float, int | None]:
        """One iteration: (cost, mean ‖g‖², None) or, on divergence, the failing batch index."""
        if self._batches is None:
            cost, squared, ok = self._descend(self._workspace, self.X, self.Y)
            return cost, squared, None if ok else 0
        assert self._rng is not None
        index = self._index
        np.copyto(index, self._order)  # the permutation depends on the generator alone
        self._rng.shuffle(index)
        X, Y = self.X, self.Y
        cost = squared = 0.0
        for b, (lo, hi, workspace, Xb, Yb, weight) in enumerate(self._batches):
            np.take(X, index[lo:hi], axis=1, out=Xb, mode="clip")
            np.take(Y, index[lo:hi], axis=1, out=Yb, mode="clip")
            batch_cost, batch_squared, ok = self._descend(workspace, Xb, Yb)
            if not ok:
                return batch_cost, batch_squared, b
            cost += weight * batch_cost
            squared += weight * batch_squared
        return cost, squared, None

    def _track(self, value: float | None, t: int) -> float:
        """Record `value`, measured at θ_(t−1); return its improvement on the best so far."""
        best = self.best
        if value is None or not math.isfinite(value) or (best is not None and not value < best):
            return 0.0
        self.best, self.best_iteration = value, t - 1
        if self._best_theta is not None:  # θ_(t−1) is in _start_theta: keep it as the best
            self._start_theta, self._best_theta = self._best_theta, self._start_theta
        return math.inf if best is None else best - value

    def _diverged(self, t: int, cost: float, squared: float, batch: int) -> Stop:
        what, value = ("cost", cost) if not math.isfinite(cost) else ("gradient norm", math.sqrt(squared))
        where = f"at iteration {t + 1}"
        kept = f"iteration {t}"
        if self.batches > 1:
            where += f" (batch {batch + 1} of {self.batches})"
            if batch:
                kept += f" and {batch} batch{'es' if batch > 1 else ''} of iteration {t + 1}"
        self._kept = f"the last finite parameters (after {kept})"
        return Stop("diverged", t, f"the {what} became {value} {where}; {self._kept} are kept")

    # -- the loop -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Step]:
        network, settings, history = self.network, self.settings, self.history
        theta = network.theta
        max_iterations = settings.max_iterations or math.inf
        gradient_tolerance = settings.gradient_tolerance or 0.0
        change_tolerance = settings.loss_change_tolerance
        patience = settings.patience
        validation_monitor = settings.monitor == "validation_cost"
        learning_rate = settings.learning_rate
        start = time.perf_counter() - self._seconds_before
        t = self.iteration
        while True:
            if self._stop_requested:
                self.stop = Stop("interrupted", t, f"interrupted by the user after iteration {t}")
                break
            if self._start_theta is not None:
                np.copyto(self._start_theta, theta)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                validation_cost, validation_accuracy = self._validation()
                cost, squared, failed = self._pass()
            if failed is not None:
                self.stop = self._diverged(t, cost, squared, failed)
                break
            gradient_norm = math.sqrt(squared)
            t += 1
            self.iteration = t
            seconds = time.perf_counter() - start
            previous = history.cost[-1] if history.cost else None
            history.cost.append(cost)
            if history.iteration:  # resumed from a thinned history: number the entries
                history.iteration.append(t)
            history.gradient_norm.append(gradient_norm)
            history.learning_rate.append(learning_rate)
            history.seconds.append(seconds)
            # One entry per iteration once a series exists (NaN where nothing was measured,
            # e.g. a resumed run without the validation data it had), so series stay aligned.
            if validation_cost is not None or history.validation_cost:
                history.validation_cost.append(math.nan if validation_cost is None else validation_cost)
            if validation_accuracy is not None or history.validation_accuracy:
                history.validation_accuracy.append(
                    math.nan if validation_accuracy is None else validation_accuracy
                )
            yield Step(t, cost, gradient_norm, seconds, validation_cost, validation_accuracy)

            improvement = self._track(validation_cost if validation_monitor else cost, t)
            if gradient_norm < gradient_tolerance:
                self.stop = Stop(
                    "gradient_tolerance",
                    t,
                    f"gradient norm {gradient_norm:.2e} < {gradient_tolerance:g} at iteration {t}",
                )
                break
            if change_tolerance is not None and (validation_monitor or previous is not None):
                if validation_monitor:  # early stopping: no improvement on the best
                    calm = improvement <= change_tolerance
                else:  # SPEC b): the change in cost becomes negligible
                    change = abs(cost - previous)  # type: ignore[operator]
                    calm = change < change_tolerance
                self.calm = self.calm + 1 if calm else 0
                if self.calm >= patience:
                    rows = f" for {patience} iterations in a row" if patience > 1 else ""
                    if validation_monitor:
                        message = (
                            f"the validation cost improved by no more than {change_tolerance:g}"
                            f"{rows} at iteration {t} (best {self.best:.6g}, after iteration "
                            f"{self.best_iteration})"
                        )
                    else:
                        message = f"|Δcost| {change:.2e} < {change_tolerance:g}{rows} at iteration {t}"
                    self.stop = Stop("loss_change_tolerance", t, message)
                    break
            if t >= max_iterations:
                self.stop = Stop("max_iterations", t, f"reached max_iterations = {t}")
                break
        self.seconds = time.perf_counter() - start
        self._finish()

    def _training_cost(self) -> float:
        """The cost on all k training observations at the current θ (with the l2 penalty)."""
        X, Y, theta = self.X, self.Y, self.network.theta
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            if self._batches is None:  # in the full batch's buffers: no second Z_1
                cost = self._workspace.cost(X, Y)
            else:
                cost = self.network.cost_value(X, Y)
            if self._decay is not None:
                cost += 0.5 * float(np.dot(self._decay * theta, theta))
        return cost

    def _finish(self) -> None:
        """Which parameters to leave in the network (best or last), and their costs."""
        self.final_validation = (None, None)
        self._choose()
        if self.final_validation[0] is None:  # not measured by _choose at these parameters
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                self.final_validation = self._validation()

    def _choose(self) -> None:
        stop = self.stop
        assert stop is not None
        t = self.iteration
        final = self._training_cost()
        self.final_cost = final if math.isfinite(final) else (self.history.cost[-1] if self.history.cost else None)
        if stop.criterion == "diverged":
            self.held = Held("last", t, self._kept)
            return
        if stop.criterion == "interrupted":
            self.held = Held("last", t, f"the parameters reached when training was interrupted after iteration {t}")
            return
        if not self.settings.restore_best or self.best is None:
            self.held = Held("last", t, f"the parameters after the last iteration, {t} (stopping.restore_best is off)")
            return
        assert self._best_theta is not None and self.best_iteration is not None
        validation_monitor = self.settings.monitor == "validation_cost"
        what = "validation cost" if validation_monitor else "training cost"
        if validation_monitor:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                self.final_validation = self._validation()
            value = self.final_validation[0]
        else:
            value = final
        if value is not None and math.isfinite(value) and value <= self.best:
            self.held = Held(
                "last",
                t,
                f"the parameters after the last iteration, {t}: their {what} {value:.6g} is the "
                f"lowest measured (stopping.restore_best)",
            )
            return
        self._last_theta = self.network.theta.copy()
        np.copyto(self.network.theta, self._best_theta)
        self.final_validation = (None, None)  # measured at the last parameters, not these
        self.final_cost = self._training_cost()
        i = self.best_iteration
        self.held = Held(
            "best",
            i,
            f"stopping.restore_best: the parameters after iteration {i}"
            f"{' (the initial ones)' if i == 0 else ''} had the lowest {what} ({self.best:.6g}); "
            f"training went on to iteration {t}",
        )

    def run(self) -> Stop:
        """Train to the end without looking at the steps."""
        for _ in self:
            pass
        assert self.stop is not None
        return self.stop

    # -- resume ---------------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        """The state to continue this run exactly (the last θ even when the network holds the best)."""
        keep_best = self._best_theta is not None and self.best_iteration is not None
        return Checkpoint(
            iteration=self.iteration,
            theta=self.network.theta if self._last_theta is None else self._last_theta,
            optimizer=self.optimizer.name,
            optimizer_state=dict(self.optimizer.state),
            optimizer_steps=self.optimizer.steps,
            shuffle_state=None if self._rng is None else self._rng.bit_generator.state,
            monitor=self.settings.monitor,
            best=self.best,
            best_iteration=self.best_iteration,
            best_theta=self._best_theta if keep_best else None,
            calm=self.calm,
            history=self.history,
            seconds=self.seconds,
        )

    def _align_validation_history(self) -> None:
        """A resumed run that now has validation data: NaN for the iterations without it."""
        history, done = self.history, len(self.history.cost)
        if self.X_validation is not None and len(history.validation_cost) < done:
            history.validation_cost[:0] = [math.nan] * (done - len(history.validation_cost))
        if self.classification and self.X_validation is not None and len(history.validation_accuracy) < done:
            history.validation_accuracy[:0] = [math.nan] * (done - len(history.validation_accuracy))

    def _restore(self, checkpoint: Checkpoint) -> None:
        if checkpoint.optimizer != self.optimizer.name:
            raise ValueError(
                f"the checkpoint was trained with {checkpoint.optimizer}, not {self.optimizer.name}"
            )
        np.copyto(self.network.theta, checkpoint.theta)
        self.optimizer.load_state(checkpoint.optimizer_state, checkpoint.optimizer_steps)
        if self._rng is not None and checkpoint.shuffle_state is not None:
            self._rng.bit_generator.state = checkpoint.shuffle_state
        self.iteration = checkpoint.iteration
        self.history = checkpoint.history.copy()
        self._align_validation_history()
        self._seconds_before = checkpoint.seconds
        self.seconds = checkpoint.seconds
        # Early stopping goes on where it was, if it watched the same thing (and, with
        # restore_best, the best parameters came along).
        same = checkpoint.monitor == self.settings.monitor and checkpoint.best is not None
        if same and (self._best_theta is None or checkpoint.best_theta is not None):
            self.best, self.best_iteration, self.calm = checkpoint.best, checkpoint.best_iteration, checkpoint.calm
            if self._best_theta is not None and checkpoint.best_theta is not None:
                np.copyto(self._best_theta, checkpoint.best_theta)
