"""`nncli validate`: what `train` checks before it trains, and what it would build.

`layer_shapes(network, k)` lists every layer with the shapes of SPEC.md (X n0 × k, W_l
n_l × n_(l-1), β_l n_l × 1, Z_l n_l × k); `resolved_yaml(config)` is the config with every
default filled in, as training will use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from rich.table import Table

from nncli.config import Config
from nncli.network import Network


@dataclass(frozen=True)
class LayerShape:
    layer: int  # l: 0 is the input layer L0
    neurons: int  # n_l
    activation: str | None  # f_l (None for L0)
    W: tuple[int, int] | None  # n_l × n_(l-1)
    beta: tuple[int, int] | None  # n_l × 1
    Z: tuple[int, int]  # n_l × k (Z_0 = X)
    parameters: int


def layer_shapes(network: Network, k: int) -> list[LayerShape]:
    sizes = network.sizes
    rows = [LayerShape(0, sizes[0], None, None, None, (sizes[0], k), 0)]
    for l in range(1, network.m + 1):
        n, n_prev = sizes[l], sizes[l - 1]
        rows.append(
            LayerShape(l, n, network.activation(l), (n, n_prev), (n, 1), (n, k), n * n_prev + n)
        )
    return rows


def _shape(shape: tuple[int, int] | None) -> str:
    return "—" if shape is None else f"{shape[0]} × {shape[1]}"


def shapes_table(shapes: list[LayerShape]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for title in ("layer", "n_l", "f_l", "W_l", "β_l", "Z_l", "parameters"):
        table.add_column(title, justify="right" if title in ("n_l", "parameters") else "left")
    for row in shapes:
        l = row.layer
        table.add_row(
            f"L{l}" + (" (input)" if l == 0 else " (output)" if row is shapes[-1] else ""),
            str(row.neurons),
            row.activation or "—",
            "—" if row.W is None else f"W_{l}: {_shape(row.W)}",
            "—" if row.beta is None else f"β_{l}: {_shape(row.beta)}",
            f"X: {_shape(row.Z)}" if l == 0 else f"Z_{l}: {_shape(row.Z)}",
            str(row.parameters) if l else "—",
        )
    table.add_row("total", "", "", "", "", "", str(sum(row.parameters for row in shapes)))
    return table


class _Dumper(yaml.SafeDumper):
    """Block style for mappings, one line for a list of plain values ([a, b], W_l rows)."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flat = all(not isinstance(item, (list, dict)) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_Dumper.add_representer(list, _represent_list)


def resolved_yaml(config: Config) -> str:
    """The validated config with every default filled in, as YAML."""
    return yaml.dump(
        config.model_dump(mode="json"),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
