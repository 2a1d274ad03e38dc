"""`nncli evaluate`: a saved model's predictions compared with the targets of a CSV file.

The file is read a chunk at a time (`modeldata.model_chunks`); each chunk adds to running
totals, so memory does not grow with the file. Rows are used as in training: with
``data.missing: drop`` a row with any missing feature or target cell is skipped, with
``mean`` / ``most_frequent`` missing features are filled and a row without a target is
skipped, with ``error`` any missing cell is an error naming its line and column.

What is reported (all plain data, rendered by `nncli.views` or printed as JSON):

- ``cost``: the model's own cost on the k rows, the quantity training minimized (SPEC.md):
  mse 1/(2k)‖Y − Ŷ‖², binary or categorical cross-entropy. For a regression model trained
  with ``data.target_scaling`` it is computed on the *scaled* targets, as in training.
- regression, per target, in the *original units* of the target column:
  MSE = 1/k Σ (y − ŷ)², RMSE = √MSE, MAE = 1/k Σ |y − ŷ|, R² = 1 − Σ (y − ŷ)² / Σ (y − ȳ)².
- classification, per target: accuracy, and for each class precision = TP/(TP + FP),
  recall = TP/(TP + FN), F1 = 2TP/(2TP + FP + FN) and support (rows of that class), from the
  confusion matrix (rows: true class, columns: predicted class). A ratio whose denominator
  is 0 is undefined and reported as None (JSON null).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nncli.costs import FORMULAS
from nncli.data import Table, TargetColumn, class_labels, numeric_column
from nncli.errors import DataError
from nncli.modeldata import CHUNK_ROWS, missing_cells, missing_error, model_chunks
from nncli.modelfile import Model



LISTED_LABELS = 50


def _label_order(label: Any) -> tuple[int, float, str]:
    if isinstance(label, str):
        return (1, 0.0, label)
    return (0, float(label), "")


def list_labels(labels: Any) -> str:
    """'a', 'b', … for a message: the distinct labels, numbers first, up to LISTED_LABELS."""
    values = sorted(set(labels), key=_label_order)
    shown = ", ".join(repr(v) for v in values[:LISTED_LABELS])
    if len(values) > LISTED_LABELS:
        shown += f" and {len(values) - LISTED_LABELS} more"
    return shown


# -- metrics: plain functions --------------------------------------------------------------


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """C (classes × classes): C[i, j] = number of rows of true class i predicted as j."""
    flat = np.bincount(true * classes + predicted, minlength=classes * classes)
    return flat.reshape(classes, classes)


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def class_metrics(confusion: np.ndarray, labels: list[Any]) -> dict[str, Any]:
    """Accuracy and per-class precision, recall, F1 and support from a confusion matrix."""
    confusion = np.asarray(confusion, dtype=np.int64)
    total = int(confusion.sum())
    TP = np.diag(confusion)
    predicted = confusion.sum(axis=0)  # TP + FP per class
    actual = confusion.sum(axis=1)  # TP + FN per class (the support)
    per_class = []
    for i, label in enumerate(labels):
        tp, fp, fn = int(TP[i]), int(predicted[i] - TP[i]), int(actual[i] - TP[i])
        per_class.append(
            {
                "label": label,
                "precision": _ratio(tp, tp + fp),
                "recall": _ratio(tp, tp + fn),
                "f1": _ratio(2 * tp, 2 * tp + fp + fn),
                "support": int(actual[i]),
            }
        )
    return {
        "accuracy": _ratio(int(TP.sum()), total),
        "classes": per_class,
        "confusion_matrix": {"labels": list(labels), "rows": "true class",
                             "columns": "predicted class", "counts": confusion.tolist()},
    }


@dataclass
class RegressionTotals:
    """Running sums for one target: k, Σ(y − ŷ)², Σ|y − ŷ|, and ȳ with Σ(y − ȳ)² merged
    chunk by chunk (Chan et al.'s parallel update, exact in exact arithmetic and stable)."""

    k: int = 0
    squared_error: float = 0.0
    absolute_error: float = 0.0
    mean: float = 0.0
    spread: float = 0.0  # Σ (y − ȳ)² over the rows so far

    def add(self, y: np.ndarray, y_hat: np.ndarray) -> None:
        n = len(y)
        if n == 0:
            return
        residual = y - y_hat
        self.squared_error += float(np.dot(residual, residual))
        self.absolute_error += float(np.sum(np.abs(residual)))
        mean = float(np.mean(y))
        spread = float(np.sum((y - mean) ** 2))
        total = self.k + n
        delta = mean - self.mean
        self.spread += spread + delta * delta * self.k * n / total
        self.mean += delta * n / total
        self.k = total


def regression_metrics(name: str, totals: RegressionTotals) -> dict[str, Any]:
    """MSE, RMSE, MAE and R² of one target, in its original units."""
    mse = _ratio(totals.squared_error, totals.k)
    r2 = None
    if totals.spread > 0:
        r2 = 1.0 - totals.squared_error / totals.spread
    return {
        "name": name,
        "mse": mse,
        "rmse": None if mse is None else math.sqrt(mse),
        "mae": _ratio(totals.absolute_error, totals.k),
        "r2": r2,
        "mean": totals.mean if totals.k else None,
    }


# -- a file, chunk by chunk ----------------------------------------------------------------


@dataclass
class _Unseen:
    """Labels of one column that the model does not know: label → [first line, rows]."""

    column: str
    role: str
    known: list[Any]
    labels: dict[Any, list[int]] = field(default_factory=dict)


class Evaluation:
    """Totals over the chunks of a file; `report()` turns them into metrics."""

    def __init__(self, model: Model) -> None:
        self.model = model
        preprocessing = model.preprocessing
        self.preprocessing = preprocessing
        self.k = 0
        self.skipped = 0
        self.cost_sum = 0.0  # Σ over chunks of (chunk cost × chunk rows)
        self.classification = preprocessing.is_classification
        self.regression = [RegressionTotals() for _ in preprocessing.targets]
        self.confusion = [
            np.zeros((len(self._classes(t)), len(self._classes(t))), dtype=np.int64)
            for t in preprocessing.targets
        ]
        self.unseen = [
            _Unseen(c.name, "feature", c.categories)
            for c in preprocessing.features
            if c.kind == "categorical"
        ] + [
            _Unseen(t.name, "target", t.classes)
            for t in preprocessing.targets
            if t.kind != "numeric"
        ]

    @staticmethod
    def _classes(target: TargetColumn) -> list[Any]:
        return target.classes if target.kind != "numeric" else []

    def _rows(self, table: Table) -> Table:
        """The rows training would have used, or an error for a missing cell it refuses."""
        preprocessing = self.preprocessing
        features, targets = preprocessing.feature_names, preprocessing.target_names
        used = features + targets
        if preprocessing.missing == "error":
            gaps = missing_cells(table, used)
            if gaps.any():
                raise missing_error(table, used, gaps, preprocessing.missing)
            return table
        gaps = missing_cells(table, used if preprocessing.missing == "drop" else targets)
        if not gaps.any():
            return table
        self.skipped += int(gaps.sum())
        return table.subset(~gaps)  # the rows keep their lines

    def _find_unseen(self, table: Table) -> bool:
        """Record labels the model does not know; True if this chunk has any."""
        found = False
        for record in self.unseen:
            labels = class_labels(table.frame[record.column])
            lookup = set(record.known)
            unseen = labels.notna() & ~labels.isin(lookup)
            if not unseen.any():
                continue
            found = True
            for index, label in labels[unseen].items():
                entry = record.labels.setdefault(label, [table.line(index), 0])
                entry[1] += 1
        return found

    def add(self, table: Table) -> None:
        """Add one chunk: its cost and its metrics' running totals."""
        table = self._rows(table)
        if len(table.frame) == 0:
            return
        if self._find_unseen(table) or any(record.labels for record in self.unseen):
            return  # reported at the end, with every unseen label of the file
        preprocessing, network = self.preprocessing, self.model.network
        X = preprocessing.X(table, network.dtype)  # n0 × k
        Y = preprocessing.Y(table, network.dtype)  # n_m × k
        with np.errstate(under="ignore", over="ignore"):
            cost, Y_hat = network.evaluate(X, Y)
        k = X.shape[1]
        self.k += k
        self.cost_sum += cost * k
        decoded = preprocessing.decode(Y_hat.astype(np.float64))
        for i, target in enumerate(preprocessing.targets):
            predicted = decoded[f"{target.name}_predicted"]
            if target.kind == "numeric":
                y = numeric_column(table, target.name, f"target {target.name!r}").to_numpy()
                self.regression[i].add(y, predicted.to_numpy(dtype=np.float64))
                continue
            lookup = {label: code for code, label in enumerate(target.classes)}
            true = class_labels(table.frame[target.name]).map(lookup).to_numpy(dtype=np.int64)
            guess = predicted.map(lookup).to_numpy(dtype=np.int64)
            self.confusion[i] += confusion_matrix(true, guess, len(target.classes))

    def check_unseen(self, path: Path) -> None:
        """Every label the model has not seen, in one error, with its first line."""
        parts = []
        for record in self.unseen:
            if not record.labels:
                continue
            shown = list_labels(record.labels)
            first = min(line for line, _ in record.labels.values())
            rows = sum(count for _, count in record.labels.values())
            parts.append(
                f"{record.role} column {record.column!r} has {len(record.labels)} value"
                f"{'s' if len(record.labels) > 1 else ''} not seen in the training data: "
                f"{shown} ({rows} row{'s' if rows > 1 else ''}, the first on line {first}); "
                f"the model knows {', '.join(repr(v) for v in record.known)}"
            )
        if parts:
            raise DataError(
                f"{path}: " + "; ".join(parts) + ".",
                hint="a model can only score the labels it was trained on: fix or remove "
                "these rows, or retrain on data that has them.",
            )

    def report(self, model_path: Path, data_path: Path) -> dict[str, Any]:
        preprocessing, network = self.preprocessing, self.model.network
        if self.k == 0:
            raise DataError(
                f"{data_path}: no row has every feature and target cell "
                f"(data.missing: {preprocessing.missing} skipped all {self.skipped}); "
                "nothing to evaluate."
            )
        scaled = preprocessing.target_scaling != "none" and not self.classification
        cost = {
            "name": network.cost,
            "formula": FORMULAS[network.cost],
            "value": self.cost_sum / self.k,
            "computed_on": (
                f"the scaled targets (data.target_scaling: {preprocessing.target_scaling}), "
                "as in training"
                if scaled
                else "the classes coded as in training (one-hot or 0/1)"
                if self.classification
                else "the targets in their original units"
            ),
        }
        result: dict[str, Any] = {
            "model": str(model_path),
            "data": str(data_path),
            "task": "classification" if self.classification else "regression",
            "rows": self.k,
            "rows_skipped": self.skipped,
            "missing": preprocessing.missing,
            "cost": cost,
        }
        if self.classification:
            result["targets"] = [
                {"name": t.name, **class_metrics(self.confusion[i], t.classes)}
                for i, t in enumerate(preprocessing.targets)
            ]
        else:
            result["units"] = "original units of each target column"
            result["targets"] = [
                regression_metrics(t.name, self.regression[i])
                for i, t in enumerate(preprocessing.targets)
            ]
        return result


def evaluate_file(
    model: Model, path: Path, delimiter: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> dict[str, Any]:
    """Evaluate `model` on the CSV file `path`; the report as plain data (JSON-ready)."""
    evaluation = Evaluation(model)
    for table in model_chunks(model.preprocessing, path, [], True, delimiter, chunk_rows):
        evaluation.add(table)
    evaluation.check_unseen(path)
    return evaluation.report(model.path, path)

