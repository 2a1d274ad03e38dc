"""The training display queues rows and writes them in batches: none lost, none repeated."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

from nncli.network import Network
from nncli.report import TrainingDisplay
from nncli.training import Settings, Training


def _training(iterations: int) -> Training:
    net = Network((2, 3, 1), ("tanh", "identity"), "mse")
    net.theta[:] = np.linspace(-0.5, 0.5, net.parameter_count)
    X = np.linspace(-1.0, 1.0, 20).reshape(2, 10)
    return Training(net, X, X[:1] ** 2, Settings(0.1, iterations, None, None))


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_every_due_row_is_written_once_in_order(mode: str) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=mode == "rich", width=120)
    training = _training(25)
    with TrainingDisplay(console, mode, 25, 4, validation=False, classification=False) as display:
        for step in training:
            display.update(step)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).replace("\r", "\n")
    rows = [line.split()[0] for line in text.splitlines() if re.fullmatch(r" *\d+ .* [\d.]+s", line)]
    assert rows == ["1", "4", "8", "12", "16", "20", "24", "25"]
    assert text.index("iteration") < text.index("        1  ")


def test_quiet_writes_nothing() -> None:
    out = io.StringIO()
    training = _training(5)
    with TrainingDisplay(Console(file=out), "quiet", 5, 1, False, False) as display:
        for step in training:
            display.update(step)
    assert out.getvalue() == ""
