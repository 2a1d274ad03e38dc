"""Gradient descent (SPEC.md Steps 1–5) as a generator of per-iteration statistics.

One iteration, on all k observations (full batch):
    Step 2    forward pass at θ: Ŷ and the cost
    Steps 3–4 back propagation: ∂cost/∂W_l and ∂cost/∂β_l for l = m … 1, all at θ
              step_size = learning_rate × ∂cost/∂θ;  θ = θ − step_size
    Step 5    stop if one criterion holds, else repeat:
              a) ‖∂cost/∂θ‖₂ < gradient_tolerance
              b) |cost_t − cost_(t−1)| < loss_change_tolerance for `patience` iterations in a row
              c) max_iterations reached

`Training` knows nothing of printing: it yields a `Step` per iteration and, when it ends,
holds the `Stop` (which criterion, and the numbers behind it), the history and the final
cost (at the parameters it leaves in the network). A NaN or infinite cost or gradient stops
it *before* the update, so the network keeps the last finite parameters.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

import numpy as np

from nncli.network import Network, Workspace


@dataclass(frozen=True)
class Settings:
    learning_rate: float
    max_iterations: int | None = 1000
    gradient_tolerance: float | None = 1e-6
    loss_change_tolerance: float | None = 1e-10
    patience: int = 1


class Step(NamedTuple):
    """What one iteration measured, at the parameters it started from.

    A NamedTuple rather than a frozen dataclass: just as immutable, and made 3× faster
    (one is made per iteration; on a small network that is a few % of the iteration).
    """

    iteration: int  # 1-based: the number of updates made once this step is done
    cost: float
    gradient_norm: float
    seconds: float  # since training started
    validation_cost: float | None = None
    validation_accuracy: float | None = None


@dataclass(frozen=True)
class Stop:
    criterion: str  # gradient_tolerance | loss_change_tolerance | max_iterations | diverged | interrupted
    iteration: int  # updates made
    message: str

    @property
    def success(self) -> bool:
        return self.criterion not in ("diverged", "interrupted")


@dataclass
class History:
    cost: list[float] = field(default_factory=list)
    gradient_norm: list[float] = field(default_factory=list)
    validation_cost: list[float] = field(default_factory=list)
    validation_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def accuracy(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """Fraction of columns classified right: argmax for one-hot Y, 0.5 threshold for 0/1."""
    if Y.shape[0] > 1 and np.allclose(Y.sum(axis=0), 1.0):
        return float(np.mean(np.argmax(Y_hat, axis=0) == np.argmax(Y, axis=0)))
    return float(np.mean((Y_hat >= 0.5) == (Y >= 0.5)))


class Training:
    """Full-batch gradient descent on (X, Y), updating `network.theta` in place."""

    def __init__(
        self,
        network: Network,
        X: np.ndarray,
        Y: np.ndarray,
        settings: Settings,
        X_validation: np.ndarray | None = None,
        Y_validation: np.ndarray | None = None,
        classification: bool = False,
    ) -> None:
        self.network = network
        self.X = np.ascontiguousarray(X, dtype=network.dtype)
        self.Y = np.ascontiguousarray(Y, dtype=network.dtype)
        self.settings = settings
        self.X_validation = X_validation
        self.Y_validation = Y_validation
        self.classification = classification
        self.history = History()
        self.stop: Stop | None = None
        self.final_cost: float | None = None
        self.seconds = 0.0
        self._stop_requested = False

    def request_stop(self) -> None:
        """Ask the loop to stop at the next iteration boundary (Ctrl-C)."""
        self._stop_requested = True

    def _validation(self) -> tuple[float | None, float | None]:
        if self.X_validation is None or self.Y_validation is None:
            return None, None
        cost, Y_hat = self.network.evaluate(self.X_validation, self.Y_validation)
        acc = accuracy(Y_hat, self.Y_validation) if self.classification else None
        return cost, acc

    def __iter__(self) -> Iterator[Step]:
        network, settings, history = self.network, self.settings, self.history
        X, Y = self.X, self.Y
        workspace = Workspace(network, X.shape[1])
        theta, grad = network.theta, workspace.grad
        step_size = np.empty_like(theta)
        learning_rate = network.dtype.type(settings.learning_rate)
        max_iterations = settings.max_iterations or math.inf
        gradient_tolerance = settings.gradient_tolerance or 0.0
        change_tolerance = settings.loss_change_tolerance or 0.0
        patience = settings.patience
        calm = 0  # iterations in a row with |Δcost| below the tolerance
        start = time.perf_counter()
        t = 0
        while True:
            if self._stop_requested:
                self.stop = Stop("interrupted", t, f"interrupted by the user after iteration {t}")
                break
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                cost = workspace.compute(X, Y)  # Steps 2–4: cost and ∂cost/∂θ at θ
                gradient_norm = math.sqrt(float(np.dot(grad, grad)))
            if not (math.isfinite(cost) and math.isfinite(gradient_norm)):
                what = "cost" if not math.isfinite(cost) else "gradient norm"
                value = cost if not math.isfinite(cost) else gradient_norm
                self.stop = Stop(
                    "diverged",
                    t,
                    f"the {what} became {value} at iteration {t + 1}; the parameters of "
                    f"iteration {t} (the last finite ones) are kept",
                )
                break
            validation_cost, validation_accuracy = self._validation()
            # Gradient descent: step_size = learning_rate × ∂cost/∂θ; θ = θ − step_size.
            np.multiply(grad, learning_rate, out=step_size)
            theta -= step_size
            t += 1
            seconds = time.perf_counter() - start
            previous = history.cost[-1] if history.cost else None
            history.cost.append(cost)
            history.gradient_norm.append(gradient_norm)
            history.seconds.append(seconds)
            if validation_cost is not None:
                history.validation_cost.append(validation_cost)
            if validation_accuracy is not None:
                history.validation_accuracy.append(validation_accuracy)
            yield Step(t, cost, gradient_norm, seconds, validation_cost, validation_accuracy)

            if gradient_norm < gradient_tolerance:
                self.stop = Stop(
                    "gradient_tolerance",
                    t,
                    f"gradient norm {gradient_norm:.2e} < {gradient_tolerance:g} at iteration {t}",
                )
                break
            if previous is not None and change_tolerance > 0:
                change = abs(cost - previous)
                calm = calm + 1 if change < change_tolerance else 0
                if calm >= patience:
                    rows = f" for {patience} iterations in a row" if patience > 1 else ""
                    self.stop = Stop(
                        "loss_change_tolerance",
                        t,
                        f"|Δcost| {change:.2e} < {change_tolerance:g}{rows} at iteration {t}",
                    )
                    break
            if t >= max_iterations:
                self.stop = Stop("max_iterations", t, f"reached max_iterations = {t}")
                break
        self.seconds = time.perf_counter() - start
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            final = workspace.cost(X, Y)  # in the workspace's buffers: no second Z_1
        self.final_cost = final if math.isfinite(final) else (history.cost[-1] if history.cost else None)

    def run(self) -> Stop:
        """Train to the end without looking at the steps."""
        for _ in self:
            pass
        assert self.stop is not None
        return self.stop
