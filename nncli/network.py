"""The multi-layer perceptron of SPEC.md: parameters, forward pass, back propagation.

Shapes (columns are observations):
    X, Z_0   n0 × k
    W_l      n_l × n_(l-1)
    β_l      n_l × 1, broadcast over the k columns
    A_l, Z_l n_l × k
    Ŷ = Z_m  n_m × k

All parameters live in one flat vector ``theta``; ``W[l]`` and ``beta[l]`` are views into it
(layer by layer: W_1, β_1, W_2, β_2, …), and gradients have the same layout. That makes the
gradient norm one dot product and a gradient-descent update two array operations, whatever
the depth. Lists are indexed like SPEC.md: ``W[l]`` is W_l for l = 1 … m, and index 0 holds
an empty placeholder because L0 has no incoming weights.
"""

from __future__ import annotations

import numpy as np

from nncli import activations as act
from nncli.costs import COSTS, is_matched

Array = np.ndarray

# Columns per block when back propagation writes δ_(l-1) over Z_(l-1) (see Workspace).
BLOCK_COLUMNS = 4096
# Columns per block when `Network.forward` goes through many observations.
FORWARD_COLUMNS = 8192
# Bytes of Z_l per block of rows when the forward pass adds β_l and applies f_l.
ROW_BLOCK_BYTES = 1 << 21
# From this many elements of δ_l (n_l × k) on, δ_l · 1 is a BLAS product, not a reduction.
GEMV_MIN_ELEMENTS = 1 << 16


class Network:
    """Layer sizes (n0, …, nm), activations (f_1, …, f_m), a cost, and the parameters θ."""

    def __init__(
        self,
        sizes: list[int] | tuple[int, ...],
        activations: list[str] | tuple[str, ...],
        cost: str,
        dtype: np.dtype | type = np.float64,
        theta: Array | None = None,
    ) -> None:
        if len(sizes) < 2 or len(activations) != len(sizes) - 1:
            raise ValueError("need sizes n0 … nm and one activation for each of L1 … Lm")
        self.sizes = tuple(int(n) for n in sizes)
        self.activations = tuple(activations)
        self.cost = cost
        self.dtype = np.dtype(dtype)
        if theta is None:
            theta = np.zeros(self.parameter_count, dtype=self.dtype)
        if theta.shape != (self.parameter_count,) or theta.dtype != self.dtype:
            raise ValueError("theta does not fit the layer sizes")
        self.theta = theta
        self.W, self.beta = self.views(theta)

    @property
    def m(self) -> int:
        """Number of layers after the input: L1 … Lm."""
        return len(self.sizes) - 1

    @property
    def parameter_count(self) -> int:
        return sum(n * (n_prev + 1) for n_prev, n in zip(self.sizes, self.sizes[1:]))

    def activation(self, l: int) -> str:
        """f_l, the activation of layer l (1 ≤ l ≤ m)."""
        return self.activations[l - 1]

    def views(self, flat: Array) -> tuple[list[Array], list[Array]]:
        """[W_1 … W_m] and [β_1 … β_m] as views into a flat vector laid out like theta.

        Both lists have an empty placeholder at index 0 so that index l is layer l.
        """
        W: list[Array] = [flat[:0].reshape(0, 0)]
        beta: list[Array] = [flat[:0].reshape(0, 1)]
        offset = 0
        for n_prev, n in zip(self.sizes, self.sizes[1:]):
            W.append(flat[offset : offset + n * n_prev].reshape(n, n_prev))
            offset += n * n_prev
            beta.append(flat[offset : offset + n].reshape(n, 1))
            offset += n
        return W, beta

    def copy(self) -> "Network":
        return Network(self.sizes, self.activations, self.cost, self.dtype, self.theta.copy())

    def astype(self, dtype: np.dtype | type) -> "Network":
        return Network(self.sizes, self.activations, self.cost, dtype, self.theta.astype(dtype))

    def forward(self, X: Array) -> Array:
        """Ŷ (n_m × k) for the k columns of X (n0 × k). Allocates Ŷ; X is not modified.

        Many columns are taken FORWARD_COLUMNS at a time through buffers made once per call,
        so besides X and Ŷ the memory is one n_l × FORWARD_COLUMNS block per layer (and the
        blocks stay in cache), however large k is.
        """
        k = X.shape[1]
        if k <= FORWARD_COLUMNS:
            return self.output(X)[1]
        dtype = np.result_type(self.theta, X)
        Y_hat = np.empty((self.sizes[-1], k), dtype)
        blocks = [np.empty((n, FORWARD_COLUMNS), dtype) for n in self.sizes[1:-1]]
        with np.errstate(under="ignore"):
            for start in range(0, k, FORWARD_COLUMNS):
                stop = min(start + FORWARD_COLUMNS, k)
                Z = X[:, start:stop]
                for l in range(1, self.m + 1):
                    A = Y_hat[:, start:stop] if l == self.m else blocks[l - 1][:, : stop - start]
                    np.matmul(self.W[l], Z, out=A)  # A_l = W_l Z_(l-1) + β_l
                    A += self.beta[l]
                    Z = act.ACTIVATIONS[self.activation(l)](A)  # Z_l = f_l(A_l), in place
        return Y_hat

    def output(self, X: Array) -> tuple[Array, Array]:
        """(A_m, Ŷ): the output layer's pre-activation and activation for the columns of X."""
        Z = X
        with np.errstate(under="ignore"):  # e^-large underflowing to 0 is exact enough
            for l in range(1, self.m + 1):
                A = self.W[l] @ Z  # A_l = W_l Z_(l-1) + β_l
                A += self.beta[l]
                if l == self.m:
                    return A, act.activate(self.activation(l), A)
                Z = act.ACTIVATIONS[self.activation(l)](A)  # Z_l = f_l(A_l), in place
        raise AssertionError("unreachable")

    def evaluate(self, X: Array, Y: Array) -> tuple[float, Array]:
        """(cost, Ŷ) of the current parameters on (X, Y), the cost computed the stable way."""
        A, Y_hat = self.output(X)
        cost = COSTS[self.cost]
        with np.errstate(under="ignore"):
            if is_matched(self.cost, self.activation(self.m)):
                return cost.value_from_logits(A, Y), Y_hat
            return cost.value(Y_hat, Y), Y_hat

    def cost_value(self, X: Array, Y: Array) -> float:
        return self.evaluate(X, Y)[0]


class Workspace:
    """Buffers for computing the cost and all gradients on k observations, allocated once.

    ``compute(X, Y)`` runs the forward pass and back propagation at the current θ and leaves
    ∂cost/∂θ in ``grad`` (laid out like θ, with views ``dW[l]`` and ``dbeta[l]``). Memory per
    layer is one n_l × k buffer: it holds Z_l during the forward pass, and back propagation
    overwrites it with δ_l once ∂cost/∂W_(l+1) = δ_(l+1) Z_lᵀ no longer needs it. Besides that:
    A_m (n_m × k), two k-vectors and one n × BLOCK_COLUMNS block. X and Y are never copied.

    Everything an iteration needs (column-block views, the activation functions, which way
    to sum columns) is looked up here, once, so that an iteration on a small problem is a
    short run of NumPy calls and on a large one the matrix products dominate.
    """

    def __init__(self, network: Network, k: int) -> None:
        self.network = network
        self.k = k
        dtype = network.dtype
        sizes = network.sizes
        m = network.m
        self.Z: list[Array] = [np.empty((0, k), dtype)]
        self.Z += [np.empty((n, k), dtype) for n in sizes[1:]]
        self.A_m = np.empty((sizes[m], k), dtype)
        self.grad = np.zeros(network.parameter_count, dtype)
        self.dW, self.dbeta = network.views(self.grad)
        self._matched = is_matched(network.cost, network.activation(m))
        self._cost = COSTS[network.cost]
        self._f = [""] + list(network.activations)
        self._activate = [act.identity] + [act.ACTIVATIONS[f] for f in network.activations]
        self._derivative = [act.d_identity]
        for l in range(1, m):
            if self._f[l] not in act.DERIVATIVES:
                raise ValueError(f"{self._f[l]} is for the output layer only, not layer {l}")
            self._derivative.append(act.DERIVATIVES[self._f[l]])
        # Adding β_l and applying f_l are two passes over Z_l; on a block of whole rows
        # (contiguous memory, ROW_BLOCK_BYTES) the second finds the block still in cache.
        # A small Z_l is one block, i.e. one call each.
        rows = max(1, ROW_BLOCK_BYTES // (k * dtype.itemsize))
        self._row_blocks: list[list[tuple[Array, slice]]] = [[]]
        for l in range(1, m):
            self._row_blocks.append([(self.Z[l][r : r + rows], slice(r, r + rows)) for r in range(0, sizes[l], rows)])
        self._columns = np.empty((2, k), dtype)  # per-column scratch of the output layer
        # ∂cost/∂β_l = δ_l · 1: a BLAS matrix-vector product for large δ_l, where it is
        # several times faster than a reduction; a NumPy reduction for small ones.
        self._ones = np.ones(k, dtype)
        self._dbeta_column = [d[:, 0] for d in self.dbeta]
        self._gemv = [n * k >= GEMV_MIN_ELEMENTS for n in sizes]
        # Back propagation into layer l − 1 (l ≥ 2) works on blocks of columns; the views
        # (Z_(l-1) block, δ_l block, W_lᵀ δ_l block in the scratch) are made here, once.
        block = min(k, BLOCK_COLUMNS)
        scratch = np.empty(max(sizes[1:m] or (0,)) * block, dtype)
        self._blocks: list[list[tuple[Array, Array, Array]]] = [[], []]
        for l in range(2, m + 1):
            n_prev = sizes[l - 1]
            views = []
            for start in range(0, k, block):
                stop = min(start + block, k)
                product = scratch[: n_prev * (stop - start)].reshape(n_prev, stop - start)
                views.append((self.Z[l - 1][:, start:stop], self.Z[l][:, start:stop], product))
            self._blocks.append(views)

    def compute(self, X: Array, Y: Array) -> float:
        """Forward pass and back propagation; returns the cost at θ, fills ``grad``."""
        cost = self._forward_and_delta(X, Y)
        W, Z, dW = self.network.W, self.Z, self.dW
        # Back propagation, from the output layer down to L1. Z[l] now holds δ_l.
        for l in range(self.network.m, 0, -1):
            delta = Z[l]
            np.matmul(delta, Z[l - 1].T, out=dW[l])  # ∂cost/∂W_l = δ_l Z_(l-1)ᵀ
            if self._gemv[l]:  # ∂cost/∂β_l = δ_l · 1
                np.matmul(delta, self._ones, out=self._dbeta_column[l])
            else:
                np.add.reduce(delta, axis=1, out=self._dbeta_column[l])
            if l > 1:
                self._delta_below(l, W[l])
        return cost

    def cost(self, X: Array, Y: Array) -> float:
        """The cost at θ on (X, Y) with k columns, in this workspace's buffers (no gradients)."""
        return self._forward_and_delta(X, Y)

    def _forward_and_delta(self, X: Array, Y: Array) -> float:
        """The forward pass into Z[1 … m−1] and A_m; then the cost, and δ_m written into Z[m]."""
        net = self.network
        W, beta, Z, m = net.W, net.beta, self.Z, net.m
        Z[0] = X

        # Forward pass: A_l = W_l Z_(l-1) + β_l, Z_l = f_l(A_l), computed in Z[l];
        # + β_l and f_l go a block of rows at a time (see __init__).
        for l in range(1, m):
            np.matmul(W[l], Z[l - 1], out=Z[l])
            f, beta_l = self._activate[l], beta[l]  # β_l read from θ at every call
            for Z_rows, rows in self._row_blocks[l]:
                Z_rows += beta_l[rows]
                f(Z_rows)
        A_m = self.A_m
        np.matmul(W[m], Z[m - 1], out=A_m)
        A_m += beta[m]

        # The cost, and δ_m = ∂cost/∂A_m written into Z[m].
        if self._matched:  # matched pair: δ_m = (Ŷ − Y)/k, computed with the cost
            return self._cost.value_and_delta(A_m, Y, Z[m], self._columns)
        Y_hat = Z[m]
        np.copyto(Y_hat, A_m)
        self._activate[m](Y_hat)
        cost = self._cost.value(Y_hat, Y)
        G = self._cost.gradient(Y_hat, Y)  # ∂cost/∂Ŷ, then the chain rule through f_m
        np.copyto(Z[m], act.backward(self._f[m], G, Y_hat))
        return cost

    def _delta_below(self, l: int, W_l: Array) -> None:
        """Overwrite Z_(l-1) with δ_(l-1) = (W_lᵀ δ_l) ⊙ f'_(l-1)(A_(l-1)).

        A block of columns at a time: the product W_lᵀ δ_l goes to a scratch block, f' is
        taken in place from the Z_(l-1) block and multiplied by it while both are still in
        cache. No second n_(l-1) × k buffer is ever needed.
        """
        derivative = self._derivative[l - 1]
        W_T = W_l.T
        # With one neuron in layer l (n_l = 1) the product is an outer product w_lᵀ δ_l:
        # an elementwise multiply (the same numbers) is several times faster than a GEMM.
        product_of = np.multiply if W_l.shape[0] == 1 else np.matmul
        for Z_prev, delta, product in self._blocks[l]:
            product_of(W_T, delta, out=product)  # W_lᵀ δ_l
            derivative(Z_prev)  # f'_(l-1)(A_(l-1)), from Z_(l-1)
            Z_prev *= product
