"""The three costs of SPEC.md, averaged over the k observations (columns).

    mse                        cost = 1/(2k) ‖Y − Ŷ‖²
    binary_cross_entropy       cost = −1/k Σ [ y log ŷ + (1 − y) log(1 − ŷ) ]
    categorical_cross_entropy  cost = −1/k Σ_obs Σ_class y log ŷ

Each cost comes with:
- ``value(Ŷ, Y)``: the cost from predictions (probabilities are clipped away from 0 and 1,
  so log never sees 0);
- ``gradient(Ŷ, Y)``: ∂cost/∂Ŷ, for the general chain rule;
- ``value_from_logits(A, Y)``: the same cost computed from the output layer's pre-activation
  A_m for the *matched* output activation (identity, sigmoid, softmax). This is the stable
  form used in training: the logit form of binary cross-entropy and log-sum-exp for softmax
  never overflow and never take log(0), in float32 as in float64.

For the three matched pairs (identity + mse, sigmoid + binary_cross_entropy, softmax +
categorical_cross_entropy) the output delta δ_m = ∂cost/∂A_m simplifies to (Ŷ − Y)/k.
Every other pairing uses the general chain rule: δ_m = f'_m applied to ∂cost/∂Ŷ.

Training uses one more function per cost, ``value_and_delta(A, Y, delta, columns)``: for the
matched pair it computes the cost (the stable way) *and* writes δ_m = (Ŷ − Y)/k into a given
buffer, in place and sharing the work between the two (softmax's exponentials serve both the
log-sum-exp of the cost and Ŷ), so an iteration allocates nothing at the output layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nncli.activations import sigmoid

Array = np.ndarray


def _k(Y: Array) -> int:
    return Y.shape[1]


def _clip_probabilities(P: Array) -> Array:
    eps = np.finfo(P.dtype).eps
    return np.clip(P, eps, 1.0 - eps)


def mse(Y_hat: Array, Y: Array) -> float:
    R = Y - Y_hat
    return float(0.5 * np.vdot(R, R) / _k(Y))


def mse_gradient(Y_hat: Array, Y: Array) -> Array:
    return (Y_hat - Y) / _k(Y)


def binary_cross_entropy(Y_hat: Array, Y: Array) -> float:
    P = _clip_probabilities(Y_hat)
    return float(-np.sum(Y * np.log(P) + (1.0 - Y) * np.log1p(-P)) / _k(Y))


def binary_cross_entropy_gradient(Y_hat: Array, Y: Array) -> Array:
    P = _clip_probabilities(Y_hat)
    return (P - Y) / (P * (1.0 - P)) / _k(Y)


def binary_cross_entropy_from_logits(A: Array, Y: Array) -> float:
    # y log σ(a) + (1 − y) log(1 − σ(a)) = y a − log(1 + e^a) = y a − max(a, 0) − log(1 + e^−|a|)
    loss = np.maximum(A, 0.0) - Y * A + np.log1p(np.exp(-np.abs(A)))
    return float(np.sum(loss) / _k(Y))


def categorical_cross_entropy(Y_hat: Array, Y: Array) -> float:
    P = np.clip(Y_hat, np.finfo(Y_hat.dtype).tiny, 1.0)
    return float(-np.vdot(Y, np.log(P)) / _k(Y))


def categorical_cross_entropy_gradient(Y_hat: Array, Y: Array) -> Array:
    P = np.clip(Y_hat, np.finfo(Y_hat.dtype).tiny, 1.0)
    return -Y / P / _k(Y)


def categorical_cross_entropy_from_logits(A: Array, Y: Array) -> float:
    # log ŷ = a − logsumexp(a) per column; the column max is subtracted before exp.
    S = A - A.max(axis=0, keepdims=True)
    log_sum = np.log(np.sum(np.exp(S), axis=0, keepdims=True))
    return float(-np.sum(Y * (S - log_sum)) / _k(Y))


# -- the output layer in training: the cost and δ_m = (Ŷ − Y)/k together, in place --------------
#
# Each takes A = A_m (n_m × k, the output pre-activation, which it may overwrite), Y (n_m × k),
# `delta` (n_m × k, receives δ_m) and `columns` (2 × k scratch), and returns the cost at A.


def identity_mse_delta(A: Array, Y: Array, delta: Array, columns: Array) -> float:
    """Ŷ = A; cost = 1/(2k) ‖Ŷ − Y‖²; δ_m = (Ŷ − Y)/k."""
    np.subtract(A, Y, out=delta)  # Ŷ − Y
    cost = 0.5 * float(np.vdot(delta, delta)) / _k(Y)
    delta *= 1.0 / _k(Y)
    return cost


def sigmoid_binary_cross_entropy_delta(A: Array, Y: Array, delta: Array, columns: Array) -> float:
    """Ŷ = σ(A); the cost in its logit form (never log 0); δ_m = (Ŷ − Y)/k."""
    cost = binary_cross_entropy_from_logits(A, Y)
    np.copyto(delta, A)
    sigmoid(delta)  # Ŷ, computed in δ's buffer
    delta -= Y
    delta *= 1.0 / _k(Y)
    return cost


def softmax_cross_entropy_delta(A: Array, Y: Array, delta: Array, columns: Array) -> float:
    """Ŷ = softmax(A) and the categorical cross-entropy, sharing one exp; δ_m = (Ŷ − Y)/k.

    Per column, with s = a − max(a) (so e^s never overflows and Σ e^s ≥ 1):
        log ŷ = s − log Σ e^s  (log-sum-exp),   cost = −1/k Σ y log ŷ,   Ŷ = e^S / Σ e^S.
    A is overwritten with e^S.
    """
    top, total = columns[0], columns[1]
    np.maximum.reduce(A, axis=0, out=top)  # max(a) of each column
    S = np.subtract(A, top, out=delta)  # S = A − max, for now in δ's buffer
    E = np.exp(S, out=A)  # e^S
    np.add.reduce(E, axis=0, out=total)  # Σ e^S
    np.log(total, out=top)  # log Σ e^S
    S -= top  # log Ŷ
    cost = -float(np.vdot(Y, S)) / _k(Y)
    np.divide(E, total, out=delta)  # Ŷ
    delta -= Y
    delta *= 1.0 / _k(Y)
    return cost


@dataclass(frozen=True)
class Cost:
    name: str
    title: str
    value: Callable[[Array, Array], float]
    gradient: Callable[[Array, Array], Array]
    matched_activation: str
    value_from_logits: Callable[[Array, Array], float]
    value_and_delta: Callable[[Array, Array, Array, Array], float]


COSTS: dict[str, Cost] = {
    "mse": Cost("mse", "mean squared error", mse, mse_gradient, "identity", mse, identity_mse_delta),
    "binary_cross_entropy": Cost(
        "binary_cross_entropy",
        "binary cross-entropy",
        binary_cross_entropy,
        binary_cross_entropy_gradient,
        "sigmoid",
        binary_cross_entropy_from_logits,
        sigmoid_binary_cross_entropy_delta,
    ),
    "categorical_cross_entropy": Cost(
        "categorical_cross_entropy",
        "categorical cross-entropy",
        categorical_cross_entropy,
        categorical_cross_entropy_gradient,
        "softmax",
        categorical_cross_entropy_from_logits,
        softmax_cross_entropy_delta,
    ),
}

COST_NAMES = tuple(COSTS)

# Each cost as SPEC.md writes it (shown by inspect and evaluate).
FORMULAS: dict[str, str] = {
    "mse": "1/(2k) ‖Y − Ŷ‖²",
    "binary_cross_entropy": "−1/k Σ [y log ŷ + (1 − y) log(1 − ŷ)]",
    "categorical_cross_entropy": "−1/k Σ_obs Σ_class y log ŷ",
}


def is_matched(cost: str, output_activation: str) -> bool:
    """True for the pairs whose output delta is (Ŷ − Y)/k."""
    return COSTS[cost].matched_activation == output_activation
