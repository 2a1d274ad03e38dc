"""Initial values for W_l (SPEC Step 1). β_l starts at 0 unless given explicitly.

    xavier   W_l ~ U(−a, a), a = √(6 / (n_(l-1) + n_l))     (Glorot & Bengio 2010)
    he       W_l ~ N(0, 2 / n_(l-1))                        (He et al. 2015; for relu)
    normal   W_l ~ N(0, 1 / n_(l-1))
    uniform  W_l ~ U(−1/√n_(l-1), 1/√n_(l-1))
    zeros    W_l = 0 (every neuron of a layer then learns the same thing: a lesson, not a default)

Values are drawn in float64 and then cast, so float32 and float64 runs start from the same
numbers up to rounding. Each layer draws from its own stream of the seed, so giving one
layer explicit weights does not change the random weights of the others.
"""

from __future__ import annotations

import numpy as np

INIT_NAMES = ("xavier", "he", "normal", "uniform", "zeros")


def initial_weights(scheme: str, n: int, n_prev: int, rng: np.random.Generator) -> np.ndarray:
    """A float64 n × n_prev matrix of initial weights for one layer."""
    if scheme == "xavier":
        a = np.sqrt(6.0 / (n_prev + n))
        return rng.uniform(-a, a, size=(n, n_prev))
    if scheme == "he":
        return rng.normal(0.0, np.sqrt(2.0 / n_prev), size=(n, n_prev))
    if scheme == "normal":
        return rng.normal(0.0, np.sqrt(1.0 / n_prev), size=(n, n_prev))
    if scheme == "uniform":
        a = 1.0 / np.sqrt(n_prev)
        return rng.uniform(-a, a, size=(n, n_prev))
    if scheme == "zeros":
        return np.zeros((n, n_prev))
    raise ValueError(f"unknown init scheme {scheme!r}")


def layer_generators(seed: int, m: int) -> list[np.random.Generator]:
    """One independent generator per layer L1 … Lm, all derived from the run's seed."""
    children = np.random.SeedSequence([seed, 0]).spawn(m)  # [seed, 0]: the init stream
    return [np.random.default_rng(child) for child in children]
