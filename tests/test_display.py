"""The training display queues rows and writes them in batches: none lost, none repeated."""

from __future__ import annotations

import io
import re
import threading

import numpy as np
import pytest
from rich.console import Console

from nncli.network import Network
from nncli.report import TrainingDisplay
from nncli.training import Settings, Step, Training


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


# The display decides by each Step's own clock (Step.seconds), never by reading the clock, so
# the Steps below, with made-up times, exercise it exactly (no timing is measured or asserted).


def _steps(first: int, last: int, seconds_each: float) -> list[Step]:
    return [Step(i, 1.0 / i, 0.01 / i, i * seconds_each) for i in range(first, last + 1)]


def _rows_in(text: str) -> list[int]:
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "\n")
    return [int(line.split()[0]) for line in text.splitlines() if re.fullmatch(r" *\d+ .* [\d.]+s", line)]


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_rows_of_fast_iterations_wait_for_the_next_redraw_in_order(mode: str) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=mode == "rich", width=120)
    # 1/1024 s an iteration (exact in binary): the first redraw at iteration 1, the next one
    # due 0.5 s later, at iteration 513.
    steps = _steps(1, 2000, 1 / 1024)
    with TrainingDisplay(console, mode, 2000, 3, validation=False, classification=False) as display:
        for step in steps[:512]:
            display.update(step)
        assert _rows_in(out.getvalue()) == [1]  # the first row at once, the next ones queued
        display.update(steps[512])
        assert _rows_in(out.getvalue()) == [1, *range(3, 514, 3)]  # in one write
        for step in steps[513:]:
            display.update(step)
    assert _rows_in(out.getvalue()) == [1, *range(3, 2000, 3), 2000]
    if mode == "rich":  # the bar's last draw, under the last rows, is of the last iteration
        assert _last_bar(out.getvalue()).startswith("iteration 2000 ")


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_a_row_due_on_slow_iterations_is_written_without_waiting(mode: str) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=mode == "rich", width=120)
    # 0.2 s an iteration: row 3 comes due 0.4 s after the first redraw, before the next one
    # is due; waiting for the next update would show it 0.6 s late, so it is written now.
    steps = _steps(1, 9, 0.2)
    with TrainingDisplay(console, mode, 9, 3, validation=False, classification=False) as display:
        for step in steps[:3]:
            display.update(step)
        assert _rows_in(out.getvalue()) == [1, 3]
        display.update(steps[3])
        display.update(steps[4])
        assert _rows_in(out.getvalue()) == [1, 3]
        display.update(steps[5])
        assert _rows_in(out.getvalue()) == [1, 3, 6]
    # Iterations of seconds: every row as its iteration ends.
    out = io.StringIO()
    console = Console(file=out, force_terminal=mode == "rich", width=120)
    written = {1: [1], 2: [1, 2], 3: [1, 2], 4: [1, 2, 4], 5: [1, 2, 4]}
    with TrainingDisplay(console, mode, 9, 2, validation=False, classification=False) as display:
        for step in _steps(1, 5, 3.0):
            display.update(step)
            assert _rows_in(out.getvalue()) == written[step.iteration]
    assert _rows_in(out.getvalue()) == [1, 2, 4, 5]


def test_first_row_after_a_resume_then_every_log_every_and_the_last() -> None:
    out = io.StringIO()
    with TrainingDisplay(Console(file=out), "plain", 30, 4, validation=False, classification=False) as display:
        for step in _steps(7, 14, 0.001):  # a run resumed after iteration 6
            display.update(step)
    assert _rows_in(out.getvalue()) == [7, 8, 12, 14]


def test_rows_are_formatted_as_the_header_says() -> None:
    out = io.StringIO()
    steps = [Step(12, 0.123456789, 0.000123456, 1.5, 0.5, 0.75), Step(13, 2.0, 1e-300, 12345.678, None, None)]
    with TrainingDisplay(Console(file=out), "plain", 20, 1, validation=True, classification=True) as display:
        for step in steps:
            display.update(step)
    assert out.getvalue().splitlines() == [
        " iteration          cost    ‖gradient‖      val cost   val acc    elapsed",
        "        12      0.123457   0.000123456           0.5     0.750      1.50s",
        "        13             2        1e-300             —         —  12345.68s",
    ]
    out = io.StringIO()
    with TrainingDisplay(Console(file=out), "plain", 20, 1, validation=False, classification=False) as display:
        display.update(steps[0])
    assert out.getvalue().splitlines()[1] == "        12      0.123457   0.000123456      1.50s"


def _last_bar(text: str) -> str:
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "\n")
    return [line for line in plain.splitlines() if line.startswith("iteration ")][-1]


def test_rich_bar_shows_iteration_cost_gradient_elapsed_and_eta_below_the_rows() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with TrainingDisplay(console, "rich", 20, 5, validation=False, classification=False) as display:
        for step in _steps(1, 10, 0.5):  # 0.5 s an iteration: every update redraws
            display.update(step)
        text = out.getvalue()
        bar = _last_bar(text)
        # 2 iterations a second since the first: 10 more take 5 s.
        assert re.fullmatch(r"iteration 10 [━╺╸]{40}  50% cost 0\.1 ‖gradient‖ 1\.00e-03 0:00:05 0:00:05", bar), bar
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
        assert plain.rindex("       10 ") < plain.rindex("iteration 10 ")  # the row above the bar


def test_rich_bar_without_max_iterations_has_no_percentage_and_an_unknown_eta() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with TrainingDisplay(console, "rich", None, 5, validation=False, classification=False) as display:
        for step in _steps(1, 3, 1.0):
            display.update(step)
        bar = _last_bar(out.getvalue())
    assert re.fullmatch(r"iteration 3 [━ ]{40} cost 0\.3333 ‖gradient‖ 3\.33e-03 0:00:03 -:--:--", bar), bar


def test_rich_bar_fits_a_narrow_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=70)
    with TrainingDisplay(console, "rich", 100, 5, validation=False, classification=False) as display:
        for step in _steps(1, 3, 1.0):
            display.update(step)
        bar = _last_bar(out.getvalue())
    assert len(bar) <= 70 and bar.startswith("iteration 3 ━") and bar.endswith(" 0:00:03 0:01:37"), bar


def test_rich_display_starts_no_refresh_thread() -> None:
    before = threading.active_count()
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with TrainingDisplay(console, "rich", 10, 1, validation=False, classification=False) as display:
        display.update(_steps(1, 1, 0.1)[0])
        assert threading.active_count() == before
