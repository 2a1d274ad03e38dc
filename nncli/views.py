"""Rich rendering of what `inspect` and `evaluate` compute (`inspection.inspection`,
`evaluate.evaluate_file`): plain data in, tables out. Nothing here computes a metric.

Matrices are shown with rows = neurons of L_l and columns = neurons of L_(l-1), as SPEC.md
writes W_l. Unless ``full``, a matrix larger than MAX_ROWS × MAX_COLUMNS shows its first
and last rows and columns around a "…" row and column, and says so under the table.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from nncli.safetext import printable

MAX_ROWS = 12
MAX_COLUMNS = 8
SPARK_WIDTH = 40
SPARKS = "▁▂▃▄▅▆▇█"
STOP_NAMES = {
    "gradient_tolerance": "a) gradient norm",
    "loss_change_tolerance": "b) cost change",
    "max_iterations": "c) maximum iterations",
    "diverged": "diverged",
    "interrupted": "interrupted",
}


def number(value: float | None, precision: int = 4) -> str:
    """`precision` significant digits; "—" for a value that is undefined or not recorded."""
    if value is None:
        return "—"
    return f"{value:.{precision}g}"


def _history_extent(points: int, iterations: Any) -> str:
    """'300 iterations', or '20,000 points of 300,000 iterations' for a thinned history."""
    if isinstance(iterations, int) and iterations > points:
        return f"{points:,} points of {iterations:,} iterations"
    return f"{points:,} iterations"


def sparkline(values: list[float | None], width: int = SPARK_WIDTH) -> tuple[str, bool]:
    """(line, log scale?): the values (None skipped) resampled to at most `width` marks.

    A cost that falls by orders of magnitude is drawn on a log scale, so that the later,
    slower progress is still visible; the caller says so next to the line.
    """
    points = [v for v in values if v is not None]
    if not points:
        return "", False
    if len(points) > width:  # the value at `width` evenly spaced iterations, first and last
        step = (len(points) - 1) / (width - 1)
        points = [points[round(i * step)] for i in range(width)]
    low, high = min(points), max(points)
    log = low > 0 and high / low >= 10
    if log:
        points = [math.log10(v) for v in points]
        low, high = math.log10(low), math.log10(high)
    if high == low:
        return SPARKS[0] * len(points), log
    top = len(SPARKS) - 1
    return "".join(SPARKS[round((v - low) / (high - low) * top)] for v in points), log


def _window(count: int, limit: int, full: bool) -> list[int | None]:
    """Indices to show: all, or the first and last ones around None (the "…")."""
    if full or count <= limit:
        return list(range(count))
    head = (limit + 1) // 2
    tail = limit - head
    return list(range(head)) + [None] + list(range(count - tail, count))


def _pairs(rows: list[tuple[str, str]]) -> Text:
    """Aligned "key  value" lines (no table padding after the value)."""
    width = max((len(key) for key, _ in rows), default=0)
    text = Text()
    for index, (key, value) in enumerate(rows):
        if index:
            text.append("\n")
        text.append(key.ljust(width), style="bold")
        text.append("  " + value)
    return text


def _heading(console: Console, text: str) -> None:
    console.print()
    console.print(Text(text, style="bold underline"))


# -- inspect -------------------------------------------------------------------------------


def _shape(shape: list[int] | None) -> str:
    return "—" if shape is None else " × ".join(str(n) for n in shape)


def render_architecture(console: Console, content: dict[str, Any]) -> None:
    table = Table(title=None, show_footer=True)
    total = content["architecture"]["parameters"]
    table.add_column("layer", footer="total", no_wrap=True)
    table.add_column("neurons", justify="right")
    table.add_column("activation")
    table.add_column("W_l: n_l × n_(l-1)", justify="right")
    table.add_column("β_l: n_l × 1", justify="right")
    table.add_column("parameters", justify="right", footer=f"{total:,}")
    for layer in content["architecture"]["layers"]:
        role = {"input": " (input)", "output": " (output)"}.get(layer["role"], "")
        l = layer["layer"]
        table.add_row(
            f"L{l}{role}",
            str(layer["neurons"]),
            layer["activation"] or "—",
            "—" if l == 0 else f"W{l}: {_shape(layer['W_shape'])}",
            "—" if l == 0 else f"β{l}: {_shape(layer['beta_shape'])}",
            f"{layer['parameters']:,}",
        )
    console.print(table)


def render_training(console: Console, training: dict[str, Any], precision: int) -> None:
    rows: list[tuple[str, str]] = []
    criterion = training["stop_criterion"]
    if criterion is not None:
        stop = STOP_NAMES.get(criterion, criterion)
        message = training["stop_message"]
        rows.append(("stopped", f"{stop}: {message}" if message else stop))
    if training["iterations"] is not None:
        rows.append(("iterations", f"{training['iterations']:,}"))
    rows.append(("final cost", number(training["final_cost"], precision)))
    if training["final_validation_cost"] is not None:
        validation = f"cost {number(training['final_validation_cost'], precision)}"
        if training["final_validation_accuracy"] is not None:
            validation += f", accuracy {training['final_validation_accuracy']:.4f}"
        if training["validation_observations"] is not None:
            validation += f" ({training['validation_observations']} rows)"
        rows.append(("validation", validation))
    if training["observations"] is not None:
        rows.append(("training rows (k)", str(training["observations"])))
    settings = [
        f"{name} {value}"
        for name, value in (
            ("learning_rate", None if training["learning_rate"] is None
             else f"{training['learning_rate']:g}"),
            ("init", training["init"]),
            ("seed", training["seed"]),
        )
        if value is not None
    ]
    if settings:
        rows.append(("settings", ", ".join(settings)))
    if training["seconds"] is not None:
        rows.append(("time", f"{training['seconds']:.2f} s"))
    history = training["cost_history"]
    line, log = sparkline(history)
    if line:
        finite = [v for v in history if v is not None]
        scale = "log scale, " if log else ""
        rows.append(
            ("cost history",
             f"{line}  {number(finite[0], precision)} → {number(finite[-1], precision)} "
             f"({scale}{_history_extent(len(history), training.get('iterations'))})")
        )
    console.print(_pairs(rows))


def render_data(console: Console, content: dict[str, Any], precision: int) -> None:
    features = Table()
    features.add_column("feature", no_wrap=True)
    features.add_column("kind")
    features.add_column("rows of X")
    features.add_column("preprocessing")
    features.add_column("missing cells")
    for column in content["features"]:
        if column["kind"] == "numeric":
            center, scale = column["center"], column["scale"]
            if center == 0 and scale == 1:
                how = "x (unscaled)"
            else:
                how = f"(x − {number(center, precision)}) / {number(scale, precision)}"
        else:
            how = f"one-hot, {len(column['categories'])} categories"
        fill = "—" if column["fill"] is None else f"filled with {column['fill']!r}"
        features.add_row(column["name"], column["kind"], ", ".join(column["rows_of_X"]), how, fill)
    console.print(features)
    targets = Table()
    targets.add_column("target", no_wrap=True)
    targets.add_column("kind")
    targets.add_column("rows of Ŷ")
    targets.add_column("predictions")
    for target in content["targets"]:
        if target["kind"] == "numeric":
            center, scale = target["center"], target["scale"]
            how = (
                "ŷ as it is"
                if center == 0 and scale == 1
                else f"ŷ × {number(scale, precision)} + {number(center, precision)} (unscaled)"
            )
        elif target["kind"] == "binary":
            negative, positive = target["classes"]
            how = f"{positive!r} if ŷ ≥ 0.5, else {negative!r}"
        else:
            how = "the class of the largest ŷ (softmax probabilities)"
        targets.add_row(target["name"], target["kind"], ", ".join(target["rows_of_Y"]), how)
    console.print(targets)
    p = content["preprocessing"]
    console.print(
        Text(
            f"data.scaling: {p['scaling']}, data.target_scaling: {p['target_scaling']}, "
            f"data.missing: {p['missing']}, training file delimiter: {p['delimiter']!r}"
        )
    )


def _matrix(
    title: str,
    corner: str,
    rows: list[str],
    columns: list[str],
    values: list[list[float]],
    full: bool,
    precision: int,
) -> Table:
    row_index = _window(len(rows), MAX_ROWS, full)
    column_index = _window(len(columns), MAX_COLUMNS, full)
    shown_rows = sum(i is not None for i in row_index)
    shown_columns = sum(j is not None for j in column_index)
    caption = None
    if shown_rows < len(rows) or shown_columns < len(columns):
        caption = (
            f"showing {shown_rows} of {len(rows)} rows and {shown_columns} of {len(columns)} "
            "columns; --full shows all"
        )
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column(corner, style="bold", no_wrap=True)
    for j in column_index:
        table.add_column("…" if j is None else columns[j], justify="right", no_wrap=True)
    for i in row_index:
        if i is None:
            table.add_row("…", *("…" for _ in column_index))
            continue
        table.add_row(
            rows[i], *("…" if j is None else number(values[i][j], precision) for j in column_index)
        )
    return table


def render_parameters(console: Console, entry: dict[str, Any], full: bool, precision: int) -> None:
    l = entry["layer"]
    W, beta = entry["W"], entry["beta"]
    console.print(
        _matrix(
            f"W{l}: {_shape(W['shape'])} (rows: neurons of L{l}, columns: neurons of L{l - 1})",
            f"L{l} \\ L{l - 1}",
            W["rows"],
            W["columns"],
            W["values"],
            full,
            precision,
        )
    )
    console.print(
        _matrix(
            f"β{l}: {_shape(beta['shape'])}",
            f"L{l}",
            beta["rows"],
            [f"β{l}"],
            [[v] for v in beta["values"]],
            full,
            precision,
        )
    )


def render_inspection(console: Console, content: dict[str, Any], full: bool, precision: int) -> None:
    content = printable(content)  # names and labels come from the model file
    title = Text(f"model {content['file']}", style="bold")
    details = [
        f"name {content['name']!r}" if content["name"] else None,
        f"{content['format']} format {content['format_version']}",
        f"saved by nncli {content['nncli_version']}" if content["nncli_version"] else None,
        content["dtype"],
        f"{content['bytes']:,} bytes",
    ]
    title.append(" (" + ", ".join(d for d in details if d) + ")")
    console.print(title)
    _heading(console, "Architecture")
    render_architecture(console, content)
    cost = content["cost"]
    console.print(Text(f"cost: {cost['name']} ({cost['title']}) = {cost['formula']}"))
    _heading(console, "Training")
    render_training(console, content["training"], precision)
    _heading(console, "Features, targets and preprocessing")
    render_data(console, content, precision)
    _heading(console, "Parameters")
    for entry in content["parameters"]:
        render_parameters(console, entry, full, precision)


# -- evaluate ------------------------------------------------------------------------------


def render_evaluation(console: Console, report: dict[str, Any], precision: int = 4) -> None:
    report = printable(report)  # labels come from the model file and the CSV file
    skipped = report["rows_skipped"]
    note = f", {skipped} skipped (data.missing: {report['missing']})" if skipped else ""
    console.print(
        Text(f"{report['model']} on {report['data']}: {report['rows']:,} rows{note}", style="bold")
    )
    cost = report["cost"]
    console.print(
        _pairs(
            [
                ("cost", f"{number(cost['value'], precision)}  ({cost['name']}, "
                 f"{cost['formula']})"),
                ("", f"the cost training minimized (without any training.l2 penalty), computed on {cost['computed_on']}"),
            ]
        )
    )
    if report["task"] == "regression":
        table = Table(
            title="Per target, in the original units of each target column",
            title_justify="left",
        )
        table.add_column("target", no_wrap=True)
        for name in ("MSE", "RMSE", "MAE", "R²"):
            table.add_column(name, justify="right")
        for target in report["targets"]:
            table.add_row(
                target["name"],
                *(number(target[key], precision) for key in ("mse", "rmse", "mae", "r2")),
            )
        console.print(table)
        console.print(
            Text("MSE = 1/k Σ (y − ŷ)², RMSE = √MSE, MAE = 1/k Σ |y − ŷ|, "
                 "R² = 1 − Σ (y − ŷ)² / Σ (y − ȳ)²", style="dim")
        )
        return
    for target in report["targets"]:
        _heading(console, f"Target {target['name']!r}")
        counts = target["confusion_matrix"]["counts"]
        right = sum(counts[i][i] for i in range(len(counts)))
        console.print(
            _pairs([("accuracy", f"{number(target['accuracy'], precision)}  "
                                  f"({right:,} of {report['rows']:,} rows)")])
        )
        table = Table()
        table.add_column("class", no_wrap=True)
        for name in ("precision", "recall", "F1", "support"):
            table.add_column(name, justify="right")
        for entry in target["classes"]:
            table.add_row(
                str(entry["label"]),
                *(number(entry[key], precision) for key in ("precision", "recall", "f1")),
                f"{entry['support']:,}",
            )
        console.print(table)
        labels = [str(label) for label in target["confusion_matrix"]["labels"]]
        matrix = Table(title="Confusion matrix (rows: true class, columns: predicted class)",
                       title_justify="left")
        matrix.add_column("true \\ predicted", style="bold", no_wrap=True)
        for label in labels:
            matrix.add_column(label, justify="right")
        for label, row in zip(labels, counts):
            matrix.add_row(label, *(f"{count:,}" for count in row))
        console.print(matrix)
