"""PNG plots with matplotlib, an optional extra (``.venv/bin/pip install -e '.[plot]'``).

matplotlib is imported only inside these functions, never when nncli starts, and
`require_matplotlib()` turns its absence into a ConfigError that says how to install it, so
a command can check before it does any work. Figures are drawn on a plain
`matplotlib.figure.Figure` (no pyplot, no global state, no display needed) and written with
`fileio.atomic_write`, so a failed plot never leaves half a PNG.

- `cost_curve(history, path)`: the training cost per iteration, and the validation cost when
  there is one (`cost_curve_from_metadata` takes a model file's metadata).
- `regions(network, preprocessing, path, data)`: for a network with two numeric input
  features, the decision regions (classification: the predicted class over a grid of the
  two features) or the prediction surface (regression: Ŷ as filled contours), with the data
  points on top when a table is given.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from nncli.data import Preprocessing, Table, numeric_column, require_columns
from nncli.errors import ConfigError
from nncli.fileio import atomic_write
from nncli.network import Network

INSTALL_HINT = (
    "install it into nncli's environment: pip install matplotlib (from a checkout of nncli: "
    ".venv/bin/pip install -e '.[plot]')."
)
GRID_POINTS = 200  # per axis of the decision-region grid
MARGIN = 0.05  # of the data range, on each side of the plotted area


def require_matplotlib() -> None:
    """Raise a ConfigError with the install command if matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        raise ConfigError("plotting needs matplotlib, which is not installed.", hint=INSTALL_HINT) from None


def _figure(width: float = 7.0, height: float = 4.5) -> Any:
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _plain_text(draw: Callable[..., None]) -> Callable[..., None]:
    """Draw with mathtext off: a title, axis label or class name holding ``$`` (from a
    config, a CSV header or a stranger's model file) is shown as written, never parsed as
    TeX (``$\\frac{$`` raised a ValueError when the figure was saved)."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        require_matplotlib()
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
            draw(*args, **kwargs)

    return wrapper


def _save(figure: Any, path: Path) -> None:
    atomic_write(path, lambda handle: figure.savefig(handle, format="png"))


def _series(values: Sequence[float | None] | None) -> np.ndarray:
    """A history list as floats, None (a non-finite value) as NaN: a gap in the line."""
    return np.array([np.nan if v is None else float(v) for v in values or []], dtype=np.float64)


@_plain_text
def cost_curve(
    history: Mapping[str, Sequence[float | None]],
    path: Path,
    title: str | None = None,
    cost_name: str | None = None,
) -> None:
    """Write the cost per iteration (history['cost'], history['validation_cost']) as a PNG.

    The y axis is logarithmic when every cost is positive and they span more than two
    decades, so both the first drop and the late creep stay visible.
    """
    figure = _figure()
    axes = figure.add_subplot()
    cost = _series(history.get("cost"))
    validation = _series(history.get("validation_cost"))
    numbers = _series(history.get("iteration"))  # a long run's file keeps a spread of them
    steps = numbers if numbers.size == cost.size and cost.size else np.arange(1, cost.size + 1)
    if cost.size:
        axes.plot(steps, cost, label="training cost", color="tab:blue")
    if validation.size:
        axes.plot(
            steps if validation.size == steps.size else np.arange(1, validation.size + 1),
            validation,
            label="validation cost",
            color="tab:orange",
        )
    finite = np.concatenate([cost, validation])
    finite = finite[np.isfinite(finite)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 100:
        axes.set_yscale("log")
        # Plain tick texts ("0.1", "1e-05"): the default ones are mathtext, which
        # _plain_text turns off, and would show as raw "$\\mathdefault{10^{-1}}$".
        from matplotlib.ticker import LogFormatter, NullFormatter

        axes.yaxis.set_major_formatter(LogFormatter())
        axes.yaxis.set_minor_formatter(NullFormatter())
    if not finite.size:
        axes.text(0.5, 0.5, "no iterations recorded", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("iteration")
    axes.set_ylabel(f"cost ({cost_name})" if cost_name else "cost")
    axes.set_title(title or "cost per iteration")
    axes.grid(True, alpha=0.3)
    if cost.size or validation.size:
        axes.legend()
    _save(figure, path)


def cost_curve_from_metadata(metadata: Mapping[str, Any], path: Path) -> None:
    """The cost curve of a saved model (its metadata['training']['history'])."""
    history = (metadata.get("training") or {}).get("history") or {}
    name = metadata.get("name") or "model"
    cost_curve(history, path, title=f"{name}: cost per iteration", cost_name=metadata.get("cost"))


# -- decision regions and prediction surfaces ---------------------------------------------


def _two_features(preprocessing: Preprocessing) -> tuple[str, str]:
    features = preprocessing.features
    numeric = [f for f in features if f.kind == "numeric"]
    if len(features) != 2 or len(numeric) != 2:
        names = ", ".join(preprocessing.input_names)
        raise ConfigError(
            "decision regions and prediction surfaces are drawn for a network with exactly two "
            f"numeric input features; this model has n0 = {len(preprocessing.input_names)} "
            f"inputs ({names}).",
            hint="plot the cost curve instead (leave out the data file).",
        )
    return features[0].name, features[1].name


def _range(preprocessing: Preprocessing, index: int, points: np.ndarray | None) -> tuple[float, float]:
    """The plotted interval of a feature: the data's range, or what the scaling implies."""
    column = preprocessing.features[index]
    if points is not None and np.isfinite(points).any():
        low, high = float(np.nanmin(points)), float(np.nanmax(points))
    elif preprocessing.scaling == "minmax":
        low, high = column.center, column.center + column.scale
    else:  # standard: ±3 standard deviations; none: the scale is 1
        low, high = column.center - 3 * column.scale, column.center + 3 * column.scale
    span = high - low if high > low else max(abs(low), 1.0)
    return low - MARGIN * span, high + MARGIN * span


@_plain_text
def regions(
    network: Network,
    preprocessing: Preprocessing,
    path: Path,
    data: Table | None = None,
    title: str | None = None,
) -> None:
    """Decision regions (classification) or the prediction surface (regression) as a PNG.

    The network must have two numeric input features. `data`, if given, must hold both
    feature columns; its points are drawn on top, coloured by their target when the target
    column is there too. Only the first target is drawn for a model with several.
    """
    first, second = _two_features(preprocessing)
    target = preprocessing.targets[0]
    points: np.ndarray | None = None  # 2 × k: the two features of each row, original units
    observed: np.ndarray | None = None  # k: class index, or target value in original units
    if data is not None:
        require_columns(data, [first, second], "the model's features")
        points = np.vstack(
            [numeric_column(data, name, f"feature {name!r}").to_numpy() for name in (first, second)]
        )
        keep = np.isfinite(points).all(axis=0)
        targets = preprocessing.target_names
        if all(name in data.frame.columns for name in targets):
            keep &= data.frame[targets].notna().all(axis=1).to_numpy()
            Y = preprocessing.Y(Table(data.path, data.frame.loc[keep], data.delimiter))
            observed = _class_index(preprocessing, Y)
            if not preprocessing.is_classification:
                observed = observed * target.scale + target.center
        points = points[:, keep]

    x_low, x_high = _range(preprocessing, 0, None if points is None else points[0])
    y_low, y_high = _range(preprocessing, 1, None if points is None else points[1])
    xx, yy = np.meshgrid(np.linspace(x_low, x_high, GRID_POINTS), np.linspace(y_low, y_high, GRID_POINTS))
    grid = Table(Path("<grid>"), pd.DataFrame({first: xx.ravel(), second: yy.ravel()}), ",")
    X = preprocessing.X(grid, network.dtype)  # the same scaling as in training
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        Y_hat = network.forward(X)

    figure = _figure(7.0, 5.5)
    axes = figure.add_subplot()
    if preprocessing.is_classification:
        predicted = _class_index(preprocessing, Y_hat).reshape(xx.shape)
        _draw_classes(axes, xx, yy, predicted, list(target.classes), points, observed)
        what = f"decision regions of {target.name}"
        if observed is not None:
            what += " (points: observed classes)"
    else:
        surface = preprocessing.decode(Y_hat)[f"{target.name}_predicted"].to_numpy(dtype=float)
        _draw_surface(figure, axes, xx, yy, surface.reshape(xx.shape), target.name, points, observed)
        what = f"prediction surface of {target.name}"
        if observed is not None:
            what += " (points: observed values)"
    axes.set_xlabel(first)
    axes.set_ylabel(second)
    axes.set_title(title or what)
    _save(figure, path)


def _class_index(preprocessing: Preprocessing, Y: np.ndarray) -> np.ndarray:
    """Per column of Y (or Ŷ), n_m × k: the class index (argmax of one-hot rows, or the 0.5
    threshold of a binary target), or for regression the first target's row."""
    target = preprocessing.targets[0]
    if target.kind == "classes":
        return np.argmax(Y, axis=0)
    if target.kind == "binary":
        return (Y[0] >= 0.5).astype(np.int64)
    return Y[0]


PALETTE = [
    "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
    "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan",
]


def _draw_classes(
    axes: Any,
    xx: np.ndarray,
    yy: np.ndarray,
    predicted: np.ndarray,
    labels: list[Any],
    points: np.ndarray | None,
    observed: np.ndarray | None,
) -> None:
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    colors = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    cmap = ListedColormap(colors)
    bounds = np.arange(-0.5, len(labels) + 0.5)
    norm = BoundaryNorm(bounds, cmap.N)
    axes.contourf(xx, yy, predicted, levels=bounds, cmap=cmap, norm=norm, alpha=0.3)
    if points is not None and observed is not None:
        axes.scatter(
            points[0], points[1], c=observed, cmap=cmap, norm=norm, s=18,
            edgecolors="black", linewidths=0.4,
        )
    elif points is not None:
        axes.scatter(points[0], points[1], color="black", s=10)
    handles = [Patch(color=color, label=str(label)) for color, label in zip(colors, labels)]
    axes.legend(handles=handles, title="class", loc="best", framealpha=0.8)


def _draw_surface(
    figure: Any,
    axes: Any,
    xx: np.ndarray,
    yy: np.ndarray,
    surface: np.ndarray,
    name: str,
    points: np.ndarray | None,
    observed: np.ndarray | None,
) -> None:
    values = [surface[np.isfinite(surface)]]
    if observed is not None:
        values.append(observed)
    everything = np.concatenate(values)
    low, high = (float(everything.min()), float(everything.max())) if everything.size else (0.0, 1.0)
    if not high > low:
        high = low + max(abs(low), 1.0) * 1e-6
    filled = axes.contourf(xx, yy, surface, levels=np.linspace(low, high, 21), cmap="viridis")
    figure.colorbar(filled, ax=axes, label=name)
    if points is not None and observed is not None:
        axes.scatter(
            points[0], points[1], c=observed, cmap="viridis", vmin=low, vmax=high,
            s=18, edgecolors="white", linewidths=0.5,
        )
    elif points is not None:
        axes.scatter(points[0], points[1], color="black", s=10)
