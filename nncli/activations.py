"""Activation functions f_l and their derivatives, as tables of plain functions.

Each activation works *in place*: ``f(A)`` overwrites the pre-activation A (n_l × k) with
Z = f(A) and returns it, so the training loop needs no extra buffer per layer.

Each derivative is written in terms of the activation's *output* Z (as in scikit-learn's
``_base.py``): ``DERIVATIVES[name](Z)`` overwrites Z with f'(A) evaluated where Z = f(A).
That is why back propagation only has to keep Z_l, never A_l:

    identity   f(a) = a                          f'(a) = 1
    sigmoid    f(a) = 1 / (1 + e^-a)             f'(a) = z (1 - z)
    tanh       f(a) = tanh a                     f'(a) = 1 - z²
    relu       f(a) = max(a, 0)                  f'(a) = 1 if z > 0 else 0
    leaky_relu f(a) = a if a > 0 else 0.01 a     f'(a) = 1 if z > 0 else 0.01
    elu        f(a) = a if a > 0 else e^a - 1    f'(a) = 1 if z > 0 else z + 1
    softplus   f(a) = log(1 + e^a)               f'(a) = sigmoid(a) = 1 - e^-z
    softmax    f(A)_ij = e^A_ij / Σ_i e^A_ij     (column-wise; output layer only)

softmax has no elementwise derivative: its Jacobian couples the outputs of a column, so
back propagation applies it as a Jacobian-vector product (`softmax_backward`), never as a
diagonal.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Array = np.ndarray

LEAKY_RELU_SLOPE = 0.01


def identity(A: Array) -> Array:
    """f(a) = a."""
    return A


def sigmoid(A: Array) -> Array:
    """f(a) = 1 / (1 + e^-a), computed without overflow: e^-|a| is never above 1."""
    negative = A < 0
    e = np.exp(-np.abs(A))  # e^-|a| in (0, 1]
    np.add(e, 1.0, out=A)
    np.reciprocal(A, out=A)  # 1 / (1 + e^-|a|): sigmoid(|a|)
    np.multiply(A, e, out=A, where=negative)  # a < 0: e^a / (1 + e^a)
    return A


def tanh(A: Array) -> Array:
    """f(a) = tanh a."""
    return np.tanh(A, out=A)


def relu(A: Array) -> Array:
    """f(a) = max(a, 0)."""
    return np.maximum(A, 0.0, out=A)


def leaky_relu(A: Array) -> Array:
    """f(a) = a for a > 0, 0.01 a otherwise."""
    return np.maximum(A, A * LEAKY_RELU_SLOPE, out=A)


def elu(A: Array) -> Array:
    """f(a) = a for a > 0, e^a - 1 otherwise."""
    negative = A <= 0
    np.expm1(A, out=A, where=negative)
    return A


def softplus(A: Array) -> Array:
    """f(a) = log(1 + e^a) = max(a, 0) + log(1 + e^-|a|), which never overflows."""
    tail = np.log1p(np.exp(-np.abs(A)))
    np.maximum(A, 0.0, out=A)
    A += tail
    return A


def softmax(A: Array) -> Array:
    """Column-wise softmax: each column (observation) of the result sums to 1.

    The column maximum is subtracted before exp (log-sum-exp trick), so exp never overflows.
    """
    A -= A.max(axis=0, keepdims=True)
    np.exp(A, out=A)
    A /= A.sum(axis=0, keepdims=True)
    return A


def d_identity(Z: Array) -> Array:
    Z.fill(1.0)
    return Z


def d_sigmoid(Z: Array) -> Array:
    # z (1 - z) = z - z²
    Z -= np.square(Z)
    return Z


def d_tanh(Z: Array) -> Array:
    # 1 - z²
    np.square(Z, out=Z)
    np.subtract(1.0, Z, out=Z)
    return Z


def d_relu(Z: Array) -> Array:
    return np.greater(Z, 0.0, out=Z)


def d_leaky_relu(Z: Array) -> Array:
    positive = Z > 0
    Z.fill(LEAKY_RELU_SLOPE)
    Z[positive] = 1.0
    return Z


def d_elu(Z: Array) -> Array:
    # z + 1 where z <= 0 (there z = e^a - 1, so z + 1 = e^a), 1 elsewhere
    np.add(np.minimum(Z, 0.0, out=Z), 1.0, out=Z)
    return Z


def d_softplus(Z: Array) -> Array:
    # sigmoid(a) = 1 - e^-z, written with expm1 so a tiny z keeps its digits
    np.negative(Z, out=Z)
    np.expm1(Z, out=Z)
    np.negative(Z, out=Z)
    return Z


def softmax_backward(G: Array, Z: Array) -> Array:
    """δ = J_softmaxᵀ G for every column: δ_i = z_i (g_i - Σ_j g_j z_j).

    G is ∂cost/∂Z (n × k); Z the softmax output. This is the full Jacobian-vector product,
    not its diagonal z_i (1 - z_i), which would give a wrong gradient.
    """
    return Z * (G - np.sum(G * Z, axis=0, keepdims=True))


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "identity": identity,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "softplus": softplus,
    "softmax": softmax,
}

# Derivatives in terms of the output Z, in place. softmax is absent on purpose: see
# `softmax_backward`.
DERIVATIVES: dict[str, Callable[[Array], Array]] = {
    "identity": d_identity,
    "sigmoid": d_sigmoid,
    "tanh": d_tanh,
    "relu": d_relu,
    "leaky_relu": d_leaky_relu,
    "elu": d_elu,
    "softplus": d_softplus,
}

ACTIVATION_NAMES = tuple(ACTIVATIONS)


def activate(name: str, A: Array) -> Array:
    """Z = f(A) without touching A (a convenience for code that is not the hot loop)."""
    return ACTIVATIONS[name](np.array(A, copy=True))


def backward(name: str, G: Array, Z: Array) -> Array:
    """∂cost/∂A from G = ∂cost/∂Z and the layer's output Z, for any activation."""
    if name == "softmax":
        return softmax_backward(G, Z)
    return G * DERIVATIVES[name](np.array(Z, copy=True))
