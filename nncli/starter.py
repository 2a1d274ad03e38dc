"""`nncli init`: a commented starter config for a CSV file and its target column.

The target decides the task, and the task the output layer and the cost (SPEC.md):

    text or boolean target, 3+ classes   multi-class   softmax output, one neuron per class,
                                                       categorical_cross_entropy
    text, boolean or numeric, 2 values   binary        one sigmoid neuron, binary_cross_entropy
    numeric, more than 2 values          regression    one identity neuron, mse, target scaled

`task` forces "regression" or "classification" when the guess is wrong (class codes 0, 1, 2
look like numbers). Every other column is a feature, except columns that cannot help: empty
ones, and text columns with a different value in every row (ids), which are left out with a
comment. The network has one tanh hidden layer (2·n0 neurons, 4 … 16), xavier init, the
numeric features standardized, and 20 % of the rows held out for validation when there are
at least MIN_ROWS_FOR_VALIDATION rows.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nncli import __version__
from nncli.data import _labels, _sorted_labels, is_text_column, read_csv, require_columns
from nncli.errors import ConfigError, DataError

TASKS = ("auto", "regression", "classification")
MIN_ROWS_FOR_VALIDATION = 10
VALIDATION_FRACTION = 0.2
COMMENT_COLUMN = 30
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "none", "y", "n", "~"}


@dataclass(frozen=True)
class Starter:
    """The config text and what it decided, for the command's message."""

    text: str
    task: str  # "regression", "binary classification" or "multi-class classification"
    cost: str
    output_activation: str
    outputs: int  # n_m
    inputs: int  # n0 after one-hot encoding
    features: list[str]
    left_out: list[str]
    rows: int


def _scalar(text: str) -> str:
    """A YAML scalar for a column name: plain when that is unambiguous, else quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", text) and text.lower() not in YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # JSON strings are valid YAML


def _line(content: str, comment: str = "") -> str:
    if not comment:
        return content
    return f"{content.ljust(COMMENT_COLUMN - 1)} # {comment}"


def _relative(target: Path, folder: Path) -> str:
    """`target` as the config names it: relative to the config's folder when the two share
    a folder below the filesystem root, else absolute."""
    target, folder = target.resolve(), folder.resolve()
    try:
        common = Path(os.path.commonpath([target, folder]))
    except ValueError:  # another drive (Windows)
        return target.as_posix()
    if common == Path(common.anchor):
        return target.as_posix()
    return Path(os.path.relpath(target, folder)).as_posix()


def _classes(series: pd.Series) -> list[object]:
    return _sorted_labels(set(_labels(series).dropna()))


def _task(series: pd.Series, column: str, task: str, path: Path) -> tuple[str, list[object]]:
    """('regression' | 'binary' | 'multi-class', classes) for the target column."""
    present = series.dropna()
    if len(present) == 0:
        raise DataError(f"{path}: target column {column!r} has no values.")
    text = is_text_column(series)
    classes = _classes(series)
    if task == "regression":
        if text:
            raise DataError(
                f"{path}: --task regression needs a numeric target, but {column!r} holds text "
                f"(e.g. {present.iloc[0]!r}).",
                hint="use --task classification, or pick another --target.",
            )
        return "regression", []
    if task == "auto" and not text and len(classes) != 2:
        return "regression", []
    if len(classes) < 2:
        raise DataError(
            f"{path}: target column {column!r} has a single value ({classes[0]!r}); a "
            "classifier needs at least two classes."
        )
    return ("binary" if len(classes) == 2 else "multi-class"), classes


def _left_out(frame: pd.DataFrame, name: str) -> str | None:
    """Why a column is not a useful feature, or None if it is one."""
    series = frame[name]
    present = series.dropna()
    if len(present) == 0:
        return "every cell is empty"
    if is_text_column(series) and len(frame) > 20 and present.nunique() == len(frame):
        return "text with a different value in every row (an id?)"
    return None


def starter_config(csv: Path, target: str, config_path: Path, task: str = "auto") -> Starter:
    """A commented config for training on `csv` to predict `target`, saved at `config_path`.

    Raises DataError for an unreadable file or a target that cannot be learned, ConfigError
    for an unknown task.
    """
    if task not in TASKS:
        raise ConfigError(f"--task {task}: expected one of {', '.join(TASKS)}.")
    table = read_csv(csv, role="data")
    frame = table.frame
    require_columns(table, [target], "--target")
    kind, classes = _task(frame[target], target, task, csv)

    features: list[tuple[str, str]] = []  # (name, comment)
    left_out: list[tuple[str, str]] = []
    inputs = 0
    for name in frame.columns:
        if name == target:
            continue
        reason = _left_out(frame, name)
        if reason:
            left_out.append((name, reason))
            continue
        if is_text_column(frame[name]):
            count = len(_classes(frame[name]))
            inputs += count
            features.append((name, f"text: {count} categories, one-hot encoded"))
        else:
            inputs += 1
            features.append((name, "numeric"))
    if not features:
        raise DataError(
            f"{csv}: no column is left to use as a feature besides the target {target!r}.",
            hint="a network needs at least one input column.",
        )
    used = [name for name, _ in features] + [target]
    missing_cells = int(frame[used].isna().sum().sum())
    rows = len(frame)
    hidden = min(16, max(4, 2 * inputs))
    folder = config_path.parent

    if kind == "regression":
        cost, activation, outputs, learning_rate = "mse", "identity", 1, 0.1
        summary = (
            f"# Target {target!r}: numbers → regression: one identity output neuron and mean "
            "squared error,\n# cost = 1/(2k) ‖Y − Ŷ‖². The target is standardized for training "
            "and predictions come back\n# in its own units."
        )
        task_name = "regression"
    elif kind == "binary":
        cost, activation, outputs, learning_rate = "binary_cross_entropy", "sigmoid", 1, 0.5
        shown = ", ".join(repr(c) for c in classes)
        summary = (
            f"# Target {target!r}: two classes ({shown}) → binary classification: one sigmoid "
            "output neuron\n# (ŷ = the probability of the second class) and binary "
            "cross-entropy."
        )
        task_name = "binary classification"
    else:
        cost, activation, outputs, learning_rate = (
            "categorical_cross_entropy", "softmax", len(classes), 0.5,
        )
        shown = ", ".join(repr(c) for c in classes[:10]) + (", …" if len(classes) > 10 else "")
        summary = (
            f"# Target {target!r}: {len(classes)} classes ({shown}) → multi-class "
            f"classification:\n# a softmax output layer of {len(classes)} neurons (one per "
            "class) and categorical cross-entropy."
        )
        task_name = "multi-class classification"

    name = _scalar(csv.stem)
    train = _relative(csv, folder)
    lines = [
        f"# nncli starter config for {csv.name}, written by `nncli init` (nncli {__version__}).",
        summary,
        f"# Check it with `nncli validate {config_path.name}`, train it with "
        f"`nncli train {config_path.name}`.",
        "# For completion in your editor: `nncli schema -o nncli.schema.json`, then make this "
        "the first line:",
        "#   # yaml-language-server: $schema=nncli.schema.json",
        f"name: {name}",
        _line("seed: 0", "drives the initial weights and the validation split"),
        "data:",
        _line(f"  train: {_scalar(train)}", "relative to this file" if not Path(train).is_absolute() else ""),
        _line(f"  targets: [{_scalar(target)}]"),
        _line("  features:", f"{len(features)} columns → n0 = {inputs} inputs"),
    ]
    lines += [_line(f"    - {_scalar(feature)}", comment) for feature, comment in features]
    for column, reason in left_out:
        lines.append(_line(f"    # - {_scalar(column)}", f"left out: {reason}"))
    if rows >= MIN_ROWS_FOR_VALIDATION:
        held = round(VALIDATION_FRACTION * rows)
        how = ", stratified by class" if kind != "regression" else ""
        lines += [
            "  validation:",
            _line(
                f"    fraction: {VALIDATION_FRACTION}",
                f"about {held} of {rows} rows held out{how}, never trained on",
            ),
            "    # Watch the validation cost: when it rises while the training cost falls, the",
            "    # network is learning the training rows by heart (fewer iterations or neurons).",
        ]
    else:
        lines.append(
            f"  # validation: no rows held out: the file has only {rows} "
            f"(fewer than {MIN_ROWS_FOR_VALIDATION})"
        )
    lines.append(_line("  scaling: standard", "z-score numeric features (minmax | none)"))
    if kind == "regression":
        lines.append(_line("  target_scaling: standard", "undone again on predict"))
    if missing_cells:
        lines.append(
            _line(
                "  missing: mean",
                f"{missing_cells} empty cells: mean (numbers) / most frequent (text); or drop",
            )
        )
    else:
        lines.append(_line("  missing: error", "no empty cells found (drop | mean | most_frequent)"))
    lines += [
        "network:",
        _line("  init: xavier", "random W_l; β_l starts at 0"),
        _line("  layers:", "L1 … Lm; n0 comes from the features"),
        _line(f"    - neurons: {hidden}", "hidden layer L1 (fewer neurons if it overfits)"),
        "      activation: tanh",
        _line(
            f"    - neurons: {outputs}",
            "output layer L2: one neuron per class" if kind == "multi-class" else "output layer L2",
        ),
        f"      activation: {activation}",
        f"cost: {cost}",
        "training:",
        _line(f"  learning_rate: {learning_rate}", "smaller if the cost goes up or diverges"),
        _line("  log_every: 50", "a progress row every 50 iterations"),
        "stopping:",
        _line("  max_iterations: 500", "c) at most this many iterations"),
        _line("  gradient_tolerance: 1.0e-6", "a) stop when ‖∂cost/∂θ‖₂ falls below this"),
        _line(
            "  loss_change_tolerance: 1.0e-9",
            "b) with validation data: when the validation cost has not improved by more"
            if rows >= MIN_ROWS_FOR_VALIDATION
            else "b) or when |Δcost| stays below this …",
        ),
        _line(
            "  patience: 10",
            "than this for this many iterations (early stopping)"
            if rows >= MIN_ROWS_FOR_VALIDATION
            else "… for this many iterations in a row",
        ),
        "output:",
        _line(f"  model: {_scalar(config_path.stem + '.npz')}", "relative to this file"),
    ]
    return Starter(
        text="\n".join(lines) + "\n",
        task=task_name,
        cost=cost,
        output_activation=activation,
        outputs=outputs,
        inputs=inputs,
        features=[feature for feature, _ in features],
        left_out=[column for column, _ in left_out],
        rows=rows,
    )
