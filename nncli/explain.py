"""`nncli train --explain`: SPEC.md's gradient descent, one step at a time, with the numbers.

Two parts:

- `trace(network, X, Y, learning_rate)`: one iteration written the way SPEC.md writes it, with
  a fresh array for every intermediate (A_l, Z_l, δ_l, f'_l(A_l), W_(l+1)ᵀ δ_(l+1), the
  gradients, the step sizes and the new values). The training `Workspace` is faster but
  overwrites Z_l with δ_l, so it cannot show what happened; a test checks that both compute
  the same gradients.
- `Explanation`: drives the real training generator through its first N iterations and
  turns each trace into text, in SPEC's order and names: Step 1 initial values, Step 2a
  A_l = W_l Z_(l-1) + β_l and Z_l = f_l(A_l) for each layer, Step 2b Ŷ and the cost, Step 3
  (a partial derivatives, b step sizes, c new values) for the output layer, Step 4 the same
  for each earlier layer, Step 5 the stopping criteria and the decision.

Numbers are printed with up to `precision` significant digits (default 12: every number of
the SPEC worked example is exact, and any product can be checked with a calculator). A
matrix is shown whole when it has at most MAX_ROWS rows and MAX_COLUMNS columns, otherwise
summarized by its shape, Frobenius norm, minimum and maximum. A column vector (β_l, n_l × 1)
is written on one line as a transposed row: [ … ]ᵀ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from rich.text import Text

from nncli import activations as act
from nncli.config import Config
from nncli.costs import COSTS, is_matched
from nncli.network import Network
from nncli.training import Settings, Step, Training

Array = np.ndarray

MAX_ROWS = 8
MAX_COLUMNS = 8
DEFAULT_PRECISION = 12

COST_FORMULAS = {
    "mse": "1/(2k) ‖Y − Ŷ‖²",
    "binary_cross_entropy": "−1/k Σ [ y log ŷ + (1 − y) log(1 − ŷ) ]",
    "categorical_cross_entropy": "−1/k Σ_obs Σ_class y log ŷ",
}


# -- the trace ---------------------------------------------------------------------------


def forward(network: Network, X: Array) -> tuple[list[Array], list[Array]]:
    """[A_1 … A_m] and [Z_0 … Z_m] (index 0 of A is an empty placeholder), all new arrays.

        Z_0 = X,  A_l = W_l Z_(l-1) + β_l,  Z_l = f_l(A_l),  Ŷ = Z_m
    """
    A: list[Array] = [np.empty((0, X.shape[1]), network.dtype)]
    Z: list[Array] = [X]
    for l in range(1, network.m + 1):
        A.append(network.W[l] @ Z[l - 1] + network.beta[l])
        Z.append(act.activate(network.activation(l), A[l]))
    return A, Z


def cost_value(network: Network, A_m: Array, Y_hat: Array, Y: Array) -> float:
    """The cost as training computes it: from A_m (stable) for a matched pair, else from Ŷ."""
    cost = COSTS[network.cost]
    if is_matched(network.cost, network.activation(network.m)):
        return cost.value_from_logits(A_m, Y)
    return cost.value(Y_hat, Y)


@dataclass
class Trace:
    """Every intermediate of one gradient-descent iteration at parameters θ (SPEC.md).

    Lists are indexed by layer like SPEC: A[l], Z[l], delta[l], dW[l] … for l = 1 … m, with
    Z[0] = X. `back[l]` = W_(l+1)ᵀ δ_(l+1) and `fprime[l]` = f'_l(A_l) exist for l < m.
    `dY_hat` = ∂cost/∂Ŷ is only computed for an unmatched pair (the general chain rule).
    """

    W: list[Array]  # W_l at θ (copies: the network is updated afterwards)
    beta: list[Array]  # β_l at θ
    Y: Array
    A: list[Array]
    Z: list[Array]
    cost: float
    matched: bool
    dY_hat: Array | None
    delta: list[Array]
    back: list[Array]
    fprime: list[Array]
    dW: list[Array]
    dbeta: list[Array]
    learning_rate: float
    step_W: list[Array]
    step_beta: list[Array]
    new_W: list[Array]
    new_beta: list[Array]

    @property
    def m(self) -> int:
        return len(self.W) - 1

    @property
    def k(self) -> int:
        return self.Y.shape[1]

    @property
    def Y_hat(self) -> Array:
        return self.Z[self.m]

    @property
    def gradient_norm(self) -> float:
        """‖∂cost/∂θ‖₂ over every W_l and β_l (criterion a)."""
        total = sum(float(np.vdot(g, g)) for g in self.dW[1:] + self.dbeta[1:])
        return math.sqrt(total)


def trace(network: Network, X: Array, Y: Array, learning_rate: float) -> Trace:
    """One iteration of SPEC's gradient descent at the network's current θ, every step kept.

    X is n0 × k and Y is n_m × k; nothing of the network is modified.
    """
    m = network.m
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        A, Z = forward(network, X)
        cost = cost_value(network, A[m], Z[m], Y)
        k = Y.shape[1]
        matched = is_matched(network.cost, network.activation(m))
        empty = np.empty((0, 0), network.dtype)
        delta = [empty] * (m + 1)
        back = [empty] * (m + 1)
        fprime = [empty] * (m + 1)
        dW = [empty] * (m + 1)
        dbeta = [empty] * (m + 1)
        dY_hat = None
        if matched:
            delta[m] = (Z[m] - Y) / k  # δ_m = (Ŷ − Y)/k for the three matched pairs
        else:
            dY_hat = COSTS[network.cost].gradient(Z[m], Y)  # ∂cost/∂Ŷ
            delta[m] = act.backward(network.activation(m), dY_hat, Z[m])
        for l in range(m, 0, -1):
            dW[l] = delta[l] @ Z[l - 1].T  # ∂cost/∂W_l = δ_l Z_(l-1)ᵀ
            dbeta[l] = delta[l].sum(axis=1, keepdims=True)  # ∂cost/∂β_l = δ_l · 1
            if l > 1:
                back[l - 1] = network.W[l].T @ delta[l]  # W_lᵀ δ_l, with W_l before its update
                fprime[l - 1] = act.DERIVATIVES[network.activation(l - 1)](Z[l - 1].copy())
                delta[l - 1] = back[l - 1] * fprime[l - 1]  # δ_(l-1) = (W_lᵀ δ_l) ⊙ f'(A_(l-1))
        rate = network.dtype.type(learning_rate)
        step_W = [empty] + [rate * dW[l] for l in range(1, m + 1)]
        step_beta = [empty] + [rate * dbeta[l] for l in range(1, m + 1)]
        new_W = [empty] + [network.W[l] - step_W[l] for l in range(1, m + 1)]
        new_beta = [empty] + [network.beta[l] - step_beta[l] for l in range(1, m + 1)]
    return Trace(
        W=[w.copy() for w in network.W],
        beta=[b.copy() for b in network.beta],
        Y=Y,
        A=A,
        Z=Z,
        cost=cost,
        matched=matched,
        dY_hat=dY_hat,
        delta=delta,
        back=back,
        fprime=fprime,
        dW=dW,
        dbeta=dbeta,
        learning_rate=learning_rate,
        step_W=step_W,
        step_beta=step_beta,
        new_W=new_W,
        new_beta=new_beta,
    )


# -- text --------------------------------------------------------------------------------


def number(value: float, precision: int = DEFAULT_PRECISION) -> str:
    """Up to `precision` significant digits, no trailing zeros, no negative zero."""
    return f"{float(value) + 0.0:.{precision}g}"


def matrix(label: str, M: Array, precision: int = DEFAULT_PRECISION, indent: str = "    ") -> list[str]:
    """`label (r × c) = [ … ]`, whole when small, else shape, ‖·‖, min and max."""
    rows, columns = M.shape
    shape = f"({rows} × {columns})"
    if rows > MAX_ROWS or columns > MAX_COLUMNS or M.size == 0:
        if M.size == 0:
            return [f"{indent}{label} {shape}"]
        norm = math.sqrt(float(np.vdot(M, M)))
        return [
            f"{indent}{label} {shape}: ‖·‖ = {number(norm, precision)}, "
            f"min {number(M.min(), precision)}, max {number(M.max(), precision)} "
            "(summarized: too large to show whole)"
        ]
    if columns == 1 and rows > 1:  # a column vector, written as a transposed row
        cells = "  ".join(number(v, precision) for v in M[:, 0])
        return [f"{indent}{label} {shape} = [ {cells} ]ᵀ"]
    cells = [[number(v, precision) for v in row] for row in M]
    widths = [max(len(cells[r][c]) for r in range(rows)) for c in range(columns)]
    lines = ["[ " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)) + " ]" for row in cells]
    if rows == 1:
        return [f"{indent}{label} {shape} = {lines[0]}"]
    return [f"{indent}{label} {shape} ="] + [f"{indent}    {line}" for line in lines]


def _z(l: int) -> str:
    return "X" if l == 0 else f"Z_{l}"


class Explanation:
    """The text of `--explain`: SPEC's Steps 1–5 for the first `iterations` iterations.

    `run(training)` drives the training generator itself (the numbers are those the real
    training loop uses: the trace is computed at the same θ just before the loop takes its
    step) and yields lines of text. If training goes on after the explained iterations, the
    step it has already taken to decide so is left in `lookahead` for the caller's display.
    """

    def __init__(
        self,
        network: Network,
        X: Array,
        Y: Array,
        settings: Settings,
        sources: list[str],
        iterations: int = 1,
        precision: int = DEFAULT_PRECISION,
    ) -> None:
        self.network = network
        self.X = np.ascontiguousarray(X, dtype=network.dtype)
        self.Y = np.ascontiguousarray(Y, dtype=network.dtype)
        self.settings = settings
        self.sources = sources  # how W_l and β_l got their initial values, per layer
        self.iterations = iterations
        self.precision = precision
        self._training: Training | None = None  # set by run()
        self.lookahead: Step | None = None

    # -- driving the training loop --------------------------------------------------------

    def run(self, training: Training, steps: Iterator[Step]) -> Iterator[Text]:
        """Explain the first iterations of `steps` (the generator of `training`)."""
        self._training = training
        yield from self.header()
        current = trace(self.network, self.X, self.Y, self.settings.learning_rate)
        step = next(steps, None)
        previous_cost: float | None = None
        for t in range(1, self.iterations + 1):
            yield from self.iteration(current, t)
            if step is None:  # diverged or interrupted before the update
                yield from self.stopped(training)
                return
            if not self._loop_did(current):
                yield Text(
                    "  note: the training loop's update differs from the plain full-batch "
                    "gradient descent shown in 3b/3c (other optimizer or batch settings); the "
                    "new values above are what SPEC's rule would give.",
                    style="yellow",
                )
            upcoming = None
            if t < self.iterations:
                upcoming = trace(self.network, self.X, self.Y, self.settings.learning_rate)
            following = next(steps, None)  # the loop decides whether to go on
            yield from self.step5(step, previous_cost, training if following is None else None)
            if following is None:
                return
            if upcoming is None:  # t is the last explained iteration
                self.lookahead = following
                yield Text("")
                done = "Iteration 1 is" if t == 1 else f"Iterations 1 … {t} are"
                yield Text(
                    f"{done} explained above; training goes on as configured "
                    "(add --set stopping.max_iterations=N to stop after N iterations).",
                    style="italic",
                )
                return
            previous_cost = step.cost
            current, step = upcoming, following

    def _loop_did(self, tr: Trace) -> bool:
        """Whether the network now holds the new values the trace computed (SPEC's update)."""
        predicted = np.empty_like(self.network.theta)
        W, beta = self.network.views(predicted)
        for l in range(1, self.network.m + 1):
            W[l][...] = tr.new_W[l]
            beta[l][...] = tr.new_beta[l]
        rtol = 1e-9 if self.network.dtype == np.float64 else 1e-4
        return bool(np.allclose(self.network.theta, predicted, rtol=rtol, atol=rtol * 1e-3))

    # -- the steps ------------------------------------------------------------------------

    def _lines(self, lines: list[str]) -> Iterator[Text]:
        for line in lines:
            yield Text(line)

    def _heading(self, text: str) -> Text:
        return Text(text, style="bold")

    def header(self) -> Iterator[Text]:
        net = self.network
        n0, k = self.X.shape
        sizes = " → ".join(str(n) for n in net.sizes)
        activations = ", ".join(f"f_{l} = {net.activation(l)}" for l in range(1, net.m + 1))
        yield self._heading("Gradient descent, step by step (SPEC.md notation: columns are observations)")
        yield Text(
            f"  network {sizes} (n0 … n{net.m}), {activations}; cost {net.cost}; "
            f"learning_rate = {number(self.settings.learning_rate, self.precision)}; "
            f"k = {k} observation{'s' if k != 1 else ''}, X is n0 × k = {n0} × {k}"
        )

    def iteration(self, tr: Trace, t: int) -> Iterator[Text]:
        p = self.precision
        net = self.network
        m = net.m
        yield Text("")
        yield self._heading(f"═══ Iteration {t} ═══")
        if t == 1:
            yield self._heading("Step 1  initial values")
            for l in range(1, m + 1):
                yield Text(f"  layer L{l}: {self.sources[l - 1]}")
                yield from self._lines(matrix(f"W_{l}", tr.W[l], p))
                yield from self._lines(matrix(f"β_{l}", tr.beta[l], p))

        yield self._heading("Step 2  forward pass")
        yield from self._lines(matrix("X = Z_0", tr.Z[0], p, "  "))
        for l in range(1, m + 1):
            yield self._heading(f"  2a  layer L{l}")
            yield from self._lines(matrix(f"A_{l} = W_{l} {_z(l - 1)} + β_{l}", tr.A[l], p))
            if l < m:
                name = f"Z_{l} = f_{l}(A_{l}) = {net.activation(l)}(A_{l})"
                yield from self._lines(matrix(name, tr.Z[l], p))
        yield self._heading("  2b  prediction and cost")
        yield from self._lines(matrix(f"Ŷ = Z_{m} = f_{m}(A_{m}) = {net.activation(m)}(A_{m})", tr.Y_hat, p))
        yield from self._lines(matrix("Y (observed)", tr.Y, p))
        yield Text(f"    cost = {COST_FORMULAS[net.cost]} = {number(tr.cost, p)}   ({net.cost})")

        yield self._heading(f"Step 3  output layer L{m}")
        yield self._heading("  3a  partial derivatives")
        if tr.matched:
            yield from self._lines(
                matrix(f"δ_{m} = ∂cost/∂A_{m} = (Ŷ − Y)/k", tr.delta[m], p)
            )
            yield Text(f"      ({net.activation(m)} output with {net.cost}: a matched pair, so the shortcut holds)")
        else:
            assert tr.dY_hat is not None
            yield from self._lines(matrix("∂cost/∂Ŷ", tr.dY_hat, p))
            if net.activation(m) == "softmax":
                rule = "J_softmaxᵀ ∂cost/∂Ŷ (the Jacobian-vector product of softmax)"
            else:
                rule = f"f'_{m}(A_{m}) ⊙ ∂cost/∂Ŷ (the general chain rule)"
            yield from self._lines(matrix(f"δ_{m} = ∂cost/∂A_{m} = {rule}", tr.delta[m], p))
        yield from self._layer_updates(tr, m, "3")

        yield self._heading("Step 4  earlier layers (back propagation, with W_l from before its update)")
        if m == 1:
            yield Text("  none: the network has no hidden layer (L0 → L1)")
        for l in range(m - 1, 0, -1):
            yield self._heading(f"  layer L{l}")
            yield self._heading("  4a  partial derivatives")
            yield from self._lines(matrix(f"W_{l + 1}ᵀ δ_{l + 1}", tr.back[l], p))
            yield from self._lines(matrix(f"f'_{l}(A_{l})  ({net.activation(l)}')", tr.fprime[l], p))
            yield from self._lines(
                matrix(f"δ_{l} = (W_{l + 1}ᵀ δ_{l + 1}) ⊙ f'_{l}(A_{l})", tr.delta[l], p)
            )
            yield from self._layer_updates(tr, l, "4")

    def _layer_updates(self, tr: Trace, l: int, n: str) -> Iterator[Text]:
        p = self.precision
        rate = number(tr.learning_rate, p)
        yield from self._lines(matrix(f"∂cost/∂β_{l} = δ_{l} · 1 (sum over the k columns)", tr.dbeta[l], p))
        yield from self._lines(matrix(f"∂cost/∂W_{l} = δ_{l} {_z(l - 1)}ᵀ", tr.dW[l], p))
        yield self._heading(f"  {n}b  step sizes = learning_rate × ∂cost/∂θ  (learning_rate = {rate})")
        yield from self._lines(matrix(f"step size of β_{l}", tr.step_beta[l], p))
        yield from self._lines(matrix(f"step size of W_{l}", tr.step_W[l], p))
        yield self._heading(f"  {n}c  new values θ = θ − step size")
        yield from self._lines(matrix(f"β_{l}", tr.new_beta[l], p))
        yield from self._lines(matrix(f"W_{l}", tr.new_W[l], p))

    def step5(self, step: Step, previous_cost: float | None, stopped: Training | None) -> Iterator[Text]:
        """The three stopping criteria with this iteration's numbers, and what the loop did."""
        p = self.precision
        s = self.settings
        yield self._heading("Step 5  repeat until a stopping criterion holds")
        if step.validation_cost is not None:
            yield Text(
                f"  validation cost = {number(step.validation_cost, p)} (measured at the same θ; "
                "it does not enter the gradients)"
            )
        norm = step.gradient_norm
        if s.gradient_tolerance:
            holds = "<" if norm < s.gradient_tolerance else "≥"
            yield Text(
                f"  a) ‖∂cost/∂θ‖₂ = {number(norm, p)} {holds} gradient_tolerance "
                f"{number(s.gradient_tolerance, p)}"
            )
        else:
            yield Text(f"  a) ‖∂cost/∂θ‖₂ = {number(norm, p)} (criterion off)")
        training = self._training
        if s.monitor == "validation_cost" and s.loss_change_tolerance is not None and training is not None:
            # Criterion b) as the loop applies it with validation data: early stopping.
            best = "—" if training.best is None else number(training.best, p)
            yield Text(
                f"  b) early stopping (stopping.monitor: validation_cost): best validation cost "
                f"{best} (the parameters after iteration {training.best_iteration}); "
                f"{training.calm} of patience {s.patience} iterations in a row without an "
                f"improvement of more than {number(s.loss_change_tolerance, p)}"
            )
        elif previous_cost is None:
            yield Text("  b) |Δcost|: no previous iteration to compare with yet")
        elif s.loss_change_tolerance:
            change = abs(step.cost - previous_cost)
            holds = "<" if change < s.loss_change_tolerance else "≥"
            rows = f" (needed {s.patience} times in a row)" if s.patience > 1 else ""
            yield Text(
                f"  b) |Δcost| = |{number(step.cost, p)} − {number(previous_cost, p)}| = "
                f"{number(change, p)} {holds} loss_change_tolerance "
                f"{number(s.loss_change_tolerance, p)}{rows}"
            )
        else:
            yield Text("  b) |Δcost| (criterion off)")
        if s.max_iterations:
            yield Text(f"  c) iteration {step.iteration} of max_iterations {s.max_iterations}")
        else:
            yield Text(f"  c) iteration {step.iteration} (no max_iterations)")
        if stopped is None:
            yield Text("  → no criterion holds: repeat from Step 2 with the new values.")
        else:
            yield from self.stopped(stopped)

    def stopped(self, training: Training) -> Iterator[Text]:
        stop = training.stop
        assert stop is not None
        if stop.criterion == "diverged":
            yield Text(f"  → diverged: {stop.message}; no update was made.", style="bold red")
        elif stop.criterion == "interrupted":
            yield Text(f"  → {stop.message}.", style="bold yellow")
        else:
            yield Text(f"  → stop: {stop.message}.", style="bold")


def initial_sources(config: Config) -> list[str]:
    """Per layer, where Step 1's values come from: the config, or seeded random draws."""
    texts = []
    for index, layer in enumerate(config.network.layers):
        key = f"network.layers[{index}]"
        if layer.weights is not None:
            weights = f"W_{index + 1} given in the config ({key}.weights)"
        else:
            weights = f"W_{index + 1} drawn at random ({config.network.init}, seed {config.seed})"
        if layer.biases is not None:
            biases = f"β_{index + 1} given ({key}.biases)"
        else:
            biases = f"β_{index + 1} = 0"
        texts.append(f"{weights}, {biases}")
    return texts
