"""Update rules for the flat parameter vector θ, given ∂cost/∂θ (SPEC.md notation).

Each optimizer updates ``theta`` in place from ``grad`` (both laid out like
`Network.theta`: W_1, β_1, W_2, β_2, …) with a few NumPy calls and no allocation per step:
every buffer is allocated once, in the constructor. g below is ∂cost/∂θ of one step (one
mini-batch, or all k observations for full batch), η the learning rate, t the number of
updates made so far including this one:

    gd        θ ← θ − η g                                       (SPEC.md gradient descent)
    momentum  v ← μ v + g;  θ ← θ − η v                         (heavy ball, v_0 = 0)
    adam      m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²
              m̂ = m / (1 − β1^t);  v̂ = v / (1 − β2^t)
              θ ← θ − η m̂ / (√v̂ + ε)                            (Kingma & Ba 2015, m_0 = v_0 = 0)

With μ = 0, momentum is gd bit for bit (v = 0·v + g = g). ``state`` holds the arrays an
optimizer carries from one step to the next (named, shaped like θ) and ``steps`` the
update count, so a saved run can resume exactly (`load_state`).
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray

OPTIMIZER_NAMES = ("gd", "momentum", "adam")


class Optimizer:
    """Base class: ``step(theta, grad)`` updates θ in place; ``state`` and ``steps`` resume it."""

    name = ""
    state_names: tuple[str, ...] = ()

    def __init__(self, size: int, dtype: np.dtype, learning_rate: float) -> None:
        self.dtype = np.dtype(dtype)
        self.learning_rate = learning_rate
        self._eta = self.dtype.type(learning_rate)  # η in the parameters' precision
        self._buffer = np.empty(size, self.dtype)  # scratch for η × (direction)
        self.state: dict[str, Array] = {name: np.zeros(size, self.dtype) for name in self.state_names}
        self.steps = 0

    def step(self, theta: Array, grad: Array) -> None:
        raise NotImplementedError

    def load_state(self, state: dict[str, Array], steps: int) -> None:
        """Continue from saved ``state`` arrays (copied into this optimizer's own buffers)."""
        if set(state) != set(self.state_names):
            raise ValueError(f"{self.name} keeps {sorted(self.state_names)}, got {sorted(state)}")
        for name, array in state.items():
            np.copyto(self.state[name], array)
        self.steps = steps


class GradientDescent(Optimizer):
    """θ ← θ − η g (SPEC.md: step_size = learning_rate × ∂cost/∂θ; θ = θ − step_size)."""

    name = "gd"

    def step(self, theta: Array, grad: Array) -> None:
        np.multiply(grad, self._eta, out=self._buffer)  # step_size = η g
        theta -= self._buffer
        self.steps += 1


class Momentum(Optimizer):
    """v ← μ v + g;  θ ← θ − η v."""

    name = "momentum"
    state_names = ("velocity",)

    def __init__(self, size: int, dtype: np.dtype, learning_rate: float, momentum: float) -> None:
        super().__init__(size, dtype, learning_rate)
        self.momentum = momentum
        self._mu = self.dtype.type(momentum)

    def step(self, theta: Array, grad: Array) -> None:
        v = self.state["velocity"]
        v *= self._mu
        v += grad
        np.multiply(v, self._eta, out=self._buffer)
        theta -= self._buffer
        self.steps += 1


class Adam(Optimizer):
    """Adam with bias correction; ε is added to √v̂ (the paper's Algorithm 1)."""

    name = "adam"
    state_names = ("m", "v")

    def __init__(
        self,
        size: int,
        dtype: np.dtype,
        learning_rate: float,
        beta1: float,
        beta2: float,
        epsilon: float,
    ) -> None:
        super().__init__(size, dtype, learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        t = self.dtype.type
        self._b1, self._b2, self._eps = t(beta1), t(beta2), t(epsilon)
        self._1_b1, self._1_b2 = t(1.0 - beta1), t(1.0 - beta2)

    def step(self, theta: Array, grad: Array) -> None:
        m, v, buffer = self.state["m"], self.state["v"], self._buffer
        self.steps += 1
        t = self.steps
        # Bias corrections in Python floats: β^t underflows quietly to 0 for large t.
        correction1 = 1.0 - self.beta1**t
        correction2 = 1.0 - self.beta2**t
        m *= self._b1
        np.multiply(grad, self._1_b1, out=buffer)
        m += buffer  # m = β1 m + (1 − β1) g
        v *= self._b2
        np.multiply(grad, grad, out=buffer)
        buffer *= self._1_b2
        v += buffer  # v = β2 v + (1 − β2) g²
        np.multiply(v, self.dtype.type(1.0 / correction2), out=buffer)  # v̂
        np.sqrt(buffer, out=buffer)
        buffer += self._eps  # √v̂ + ε
        np.divide(m, buffer, out=buffer)  # m / (√v̂ + ε)
        buffer *= self.dtype.type(self.learning_rate / correction1)  # η m̂ / (√v̂ + ε)
        theta -= buffer


OPTIMIZERS: dict[str, type[Optimizer]] = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam}
assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES


def make_optimizer(
    name: str,
    size: int,
    dtype: np.dtype,
    learning_rate: float,
    momentum: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> Optimizer:
    """The optimizer called `name` for a θ of `size` values (keys of other optimizers ignored)."""
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate}")
    if name == "gd":
        return GradientDescent(size, dtype, learning_rate)
    if name == "momentum":
        return Momentum(size, dtype, learning_rate, momentum)
    if name == "adam":
        return Adam(size, dtype, learning_rate, beta1, beta2, epsilon)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZER_NAMES)}")
