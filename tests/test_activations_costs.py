"""Activations, their derivatives and the costs: values, stability, float32 vs float64."""

from __future__ import annotations

import numpy as np
import pytest

from nncli import activations as act
from nncli import costs

HIDDEN = [name for name in act.ACTIVATION_NAMES if name != "softmax"]
A = np.array([[-800.0, -30.0, -1.5, -1e-3, 0.25, 2.0, 40.0, 800.0]])


def reference(name: str, a: np.ndarray) -> np.ndarray:
    """Textbook formulas, evaluated where they do not overflow."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return {
            "identity": lambda: a,
            "sigmoid": lambda: np.where(a >= 0, 1 / (1 + np.exp(-a)), np.exp(a) / (1 + np.exp(a))),
            "tanh": lambda: np.tanh(a),
            "relu": lambda: np.maximum(a, 0),
            "leaky_relu": lambda: np.where(a > 0, a, 0.01 * a),
            "elu": lambda: np.where(a > 0, a, np.expm1(np.minimum(a, 0))),
            "softplus": lambda: np.where(a > 30, a, np.log1p(np.exp(np.minimum(a, 30)))),
        }[name]()


@pytest.mark.parametrize("name", HIDDEN)
def test_activation_values_and_no_overflow(name):
    with np.errstate(under="ignore"):
        Z = act.activate(name, A)
    np.testing.assert_allclose(Z, reference(name, A), rtol=1e-15, atol=1e-300)
    assert np.isfinite(Z).all()


@pytest.mark.parametrize("name", HIDDEN)
def test_derivative_from_output_matches_numeric(name):
    a = np.linspace(-3, 3, 61).reshape(1, -1) + 0.013  # avoid relu's kink at exactly 0
    h = 1e-6
    numeric = (act.activate(name, a + h) - act.activate(name, a - h)) / (2 * h)
    analytic = act.DERIVATIVES[name](act.activate(name, a))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_softmax_columns_sum_to_one_without_overflow():
    A2 = np.array([[1000.0, -1000.0, 0.0], [999.0, -1001.0, 0.0], [-5.0, 3.0, 0.0]])
    with np.errstate(under="ignore"):
        Z = act.activate("softmax", A2)
    np.testing.assert_allclose(Z.sum(axis=0), 1.0, rtol=1e-15)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z[:, 2], 1 / 3)


def test_softmax_backward_is_the_full_jacobian():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 1))
    z = act.activate("softmax", a)
    jacobian = np.diagflat(z) - z @ z.T  # ∂z_i/∂a_j = z_i (δ_ij − z_j)
    g = rng.normal(size=(4, 1))
    np.testing.assert_allclose(act.softmax_backward(g, z), jacobian.T @ g, rtol=1e-14)


def test_mse_is_half_mean_squared_frobenius():
    Y = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    Y_hat = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 2.0]])
    # ‖Y − Ŷ‖² = 0 + 1 + 4 + 1 + 0 + 4 = 10; 10 / (2 · 3)
    assert costs.mse(Y_hat, Y) == pytest.approx(10 / 6, rel=1e-15)


def test_cross_entropies_by_hand():
    Y = np.array([[1.0, 0.0]])
    P = np.array([[0.8, 0.4]])
    expected = -(np.log(0.8) + np.log(0.6)) / 2
    assert costs.binary_cross_entropy(P, Y) == pytest.approx(expected, rel=1e-14)
    Yc = np.array([[1.0, 0.0], [0.0, 1.0]])
    Pc = np.array([[0.7, 0.1], [0.3, 0.9]])
    assert costs.categorical_cross_entropy(Pc, Yc) == pytest.approx(
        -(np.log(0.7) + np.log(0.9)) / 2, rel=1e-14
    )


@pytest.mark.parametrize("cost", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_logit_form_equals_probability_form(cost):
    # (for mse the "logit form" is mse itself; its value is checked by hand above)
    rng = np.random.default_rng(1)
    A2 = rng.normal(0, 3, size=(3, 10))
    spec = costs.COSTS[cost]
    Z = act.activate(spec.matched_activation, A2)
    if cost == "categorical_cross_entropy":
        Y = np.eye(3)[:, rng.integers(0, 3, 10)]
    else:
        Y = rng.integers(0, 2, (3, 10)).astype(float)
    assert spec.value_from_logits(A2, Y) == pytest.approx(spec.value(Z, Y), rel=1e-12)


@pytest.mark.parametrize("cost", ["binary_cross_entropy", "categorical_cross_entropy"])
def test_extreme_logits_are_finite_and_exact(cost):
    """A logit of 1000 on the wrong class costs ~1000, not inf, and never log(0)."""
    A2 = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])  # every prediction confidently wrong
    with np.errstate(under="ignore"):
        value = costs.COSTS[cost].value_from_logits(A2, Y)
    expected = {"binary_cross_entropy": 2000.0, "categorical_cross_entropy": 2000.0}[cost]
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("cost", list(costs.COSTS))
def test_float32_agrees_with_float64(cost):
    rng = np.random.default_rng(2)
    A2 = rng.normal(0, 4, size=(3, 50))
    Y = np.eye(3)[:, rng.integers(0, 3, 50)] if cost != "mse" else rng.normal(size=(3, 50))
    spec = costs.COSTS[cost]
    with np.errstate(under="ignore"):
        v64 = spec.value_from_logits(A2, Y)
        v32 = spec.value_from_logits(A2.astype(np.float32), Y.astype(np.float32))
    assert v32 == pytest.approx(v64, rel=1e-5)
