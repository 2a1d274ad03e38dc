"""`nncli gradcheck`: back propagation against centered finite differences.

For each parameter block (W_l and β_l of every layer) the gradient that training uses
(`Workspace.compute`, the real back propagation) is compared with

    ∂cost/∂θ_i ≈ (cost(θ + ε e_i) − cost(θ − ε e_i)) / (2ε)

computed from the forward pass alone, on a small seeded sample of the observations and at
most `entries` seeded entries per block. The verdict per block is its relative error

    ‖g_backprop − g_numeric‖ / max(‖g_backprop‖ + ‖g_numeric‖, FLOOR)

over the checked entries: it passes when the error is at most `tolerance` (default 1e-6).
Everything is done in float64, whatever training.dtype says, because float32 cannot resolve
a difference quotient to that accuracy. With ε = 1e-6 the truncation error is ~ε² and the
rounding error ~1e-16/ε, so a correct gradient typically scores 1e-8 … 1e-11; a wrong one
scores 1e-3 or worse.

relu and leaky_relu have a kink at 0, where the difference quotient is meaningless. An entry
whose ±ε perturbation moves any pre-activation of a relu/leaky_relu layer across 0 is not
compared (it is counted as `kinks`), so the check cannot fail on a kink by bad luck.
FLOOR treats gradients smaller than 1e-8 in norm as zero: both methods then agree that the
block's gradient vanishes, and rounding noise is not reported as a relative error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rich.table import Table
from rich.text import Text

from nncli.errors import DivergedError
from nncli.explain import cost_value, forward
from nncli.network import Network, Workspace

Array = np.ndarray

EPSILON = 1e-6
TOLERANCE = 1e-6
OBSERVATIONS = 20
ENTRIES = 100
FLOOR = 1e-8
KINKED = ("relu", "leaky_relu")


@dataclass(frozen=True)
class BlockCheck:
    """The comparison for one parameter block, W_l or β_l."""

    name: str  # "W_1", "β_1", …
    layer: int
    size: int  # entries in the block
    checked: int  # entries compared
    kinks: int  # entries skipped because ±ε crosses a relu kink
    backprop_norm: float
    numeric_norm: float
    max_abs_error: float
    relative_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.relative_error <= self.tolerance


@dataclass(frozen=True)
class GradientCheck:
    blocks: list[BlockCheck]
    observations: int  # columns of X used
    of: int  # columns available
    epsilon: float
    tolerance: float
    cost: float  # at θ, on the sample

    @property
    def passed(self) -> bool:
        return all(block.passed for block in self.blocks)


def _kink_signs(network: Network, A: list[Array]) -> list[Array]:
    return [A[l] > 0 for l in range(1, network.m + 1) if network.activation(l) in KINKED]


def _cost_and_signs(network: Network, X: Array, Y: Array) -> tuple[float, list[Array]]:
    A, Z = forward(network, X)
    return cost_value(network, A[network.m], Z[network.m], Y), _kink_signs(network, A)


def _relative_error(g: Array, n: Array) -> float:
    denominator = max(float(np.linalg.norm(g) + np.linalg.norm(n)), FLOOR)
    return float(np.linalg.norm(g - n)) / denominator


def gradient_check(
    network: Network,
    X: Array,
    Y: Array,
    rng: np.random.Generator,
    observations: int = OBSERVATIONS,
    entries: int = ENTRIES,
    epsilon: float = EPSILON,
    tolerance: float = TOLERANCE,
) -> GradientCheck:
    """Compare back propagation with finite differences at the network's θ (not modified).

    X is n0 × k, Y is n_m × k; `observations` columns are drawn from them with `rng`, and at
    most `entries` entries of each W_l and β_l (all of them in smaller blocks).
    """
    net = network.astype(np.float64)  # a copy: the caller's network is never touched
    k = X.shape[1]
    columns = np.sort(rng.choice(k, size=min(observations, k), replace=False))
    Xs = np.ascontiguousarray(X[:, columns], dtype=np.float64)
    Ys = np.ascontiguousarray(Y[:, columns], dtype=np.float64)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        workspace = Workspace(net, Xs.shape[1])
        cost = workspace.compute(Xs, Ys)  # the back propagation that training runs
        if not math.isfinite(cost):
            raise DivergedError(
                f"the cost at the initial values is {cost} on the sampled observations, so "
                "there is no gradient to check.",
                hint="scale the data (data.scaling: standard, data.target_scaling: standard).",
            )
        backprop = workspace.grad.copy()
        # Flat positions in θ of every entry of W_l and β_l: views of 0 … P−1 laid out like θ.
        index_W, index_beta = net.views(np.arange(net.parameter_count))
        theta = net.theta
        blocks = []
        for l in range(1, net.m + 1):
            for name, index in ((f"W_{l}", index_W[l]), (f"β_{l}", index_beta[l])):
                flat = index.ravel()
                if flat.size > entries:
                    flat = np.sort(rng.choice(flat, size=entries, replace=False))
                g, n = [], []
                kinks = 0
                for i in flat:
                    saved = theta[i]
                    theta[i] = saved + epsilon
                    plus, signs_plus = _cost_and_signs(net, Xs, Ys)
                    theta[i] = saved - epsilon
                    minus, signs_minus = _cost_and_signs(net, Xs, Ys)
                    theta[i] = saved
                    if any((a != b).any() for a, b in zip(signs_plus, signs_minus)):
                        kinks += 1
                        continue
                    g.append(backprop[i])
                    n.append((plus - minus) / (2 * epsilon))
                g_array, n_array = np.array(g, dtype=np.float64), np.array(n, dtype=np.float64)
                difference = np.abs(g_array - n_array)
                blocks.append(
                    BlockCheck(
                        name=name,
                        layer=l,
                        size=index.size,
                        checked=len(g),
                        kinks=kinks,
                        backprop_norm=float(np.linalg.norm(g_array)),
                        numeric_norm=float(np.linalg.norm(n_array)),
                        max_abs_error=float(difference.max()) if difference.size else 0.0,
                        relative_error=_relative_error(g_array, n_array) if g else 0.0,
                        tolerance=tolerance,
                    )
                )
    return GradientCheck(blocks, len(columns), k, epsilon, tolerance, cost)


def table(check: GradientCheck) -> Table:
    """The per-block comparison as a rich table (one row per W_l and β_l)."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for title in ("block", "checked", "‖backprop‖", "‖numeric‖", "max |diff|", "relative error", ""):
        table.add_column(title, justify="left" if title in ("block", "") else "right")
    for block in check.blocks:
        checked = f"{block.checked}/{block.size}"
        if block.kinks:
            checked += f" ({block.kinks} at a kink)"
        verdict = Text("pass", style="green") if block.passed else Text("FAIL", style="bold red")
        table.add_row(
            block.name,
            checked,
            f"{block.backprop_norm:.6g}",
            f"{block.numeric_norm:.6g}",
            f"{block.max_abs_error:.2e}",
            f"{block.relative_error:.2e}",
            verdict,
        )
    return table
