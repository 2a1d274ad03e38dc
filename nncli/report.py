"""What `nncli train` shows while it trains and when it is done (rich, or plain for logs).

Three modes:
- ``rich`` (stdout is a terminal): a progress bar (iteration, cost, gradient norm, elapsed,
  ETA) redrawn about every REFRESH_SECONDS, a table row every ``log_every`` iterations
  above it, then a summary table;
- ``plain`` (stdout is a file or a pipe): the same rows and summary as plain lines;
- ``quiet``: nothing but the model path at the end (errors still go to stderr).

The display costs next to nothing per iteration: `update` compares the iteration with the
next one due for a row and the step's own clock (`Step.seconds`, read by the training loop)
with the time of the next redraw; everything else happens only when one of them is due.
Rows that are due are queued as Steps; the queue is formatted and written and the bar
redrawn together, in one write, about every REFRESH_SECONDS (and at the end), so even a
row every few iterations of a tiny network stays a small fraction of the training time.
A row is held back only while the next iteration is expected before the next redraw is
due: on slow iterations a due row is written at once.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from nncli.training import Step, Stop, Training

REFRESH_SECONDS = 0.5  # between redraws: at most two a second, four when rows come due
_ROW = "%10d  %12.6g  %12.6g  %8.2fs"  # iteration, cost, ‖gradient‖, elapsed: Step[:4]


class _Lines:
    """Finished lines of plain text for rich: one segment, no markup, wrapping or cropping
    (half the cost of a Text per line when many rows come at once)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Segment(self.text)
        yield Segment.line()


def _number(value: float | None, width: int = 12) -> str:
    if value is None:
        return "—".rjust(width)
    return f"{value:.6g}".rjust(width)


def _clock_text(seconds: float | None) -> str:
    """h:mm:ss, as rich's progress columns write times (-:--:-- when unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return "-:--:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class _Bar:
    """The progress line under the rows, as rich's Progress columns draw it — ``iteration t``,
    the bar, percentage, cost, ‖gradient‖, elapsed, ETA — for the last Step shown.

    Made of a few segments: a rich Progress lays out a Table of seven columns for every draw
    (~1 ms, more than all the rows of a redraw). Elapsed is the Step's own clock (training
    time, as in the rows); the ETA comes from the iterations per second since the first Step
    shown. Nothing here reads the clock.
    """

    BAR_WIDTH = 40

    def __init__(self, max_iterations: int | None) -> None:
        self.max_iterations = max_iterations
        self.step: Step | None = None
        self._first: Step | None = None

    def show(self, step: Step) -> None:
        if self._first is None:
            self._first = step
        self.step = step

    def _eta(self, step: Step) -> float | None:
        first, total = self._first, self.max_iterations
        assert first is not None and total is not None
        done, seconds = step.iteration - first.iteration, step.seconds - first.seconds
        if done <= 0 or seconds <= 0:
            return None
        return max(0, total - step.iteration) * seconds / done

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        step, total = self.step, self.max_iterations
        if step is None:
            head, cost, gradient, elapsed, eta = "iteration 0", "—", "—", None, None
            completed = 0
        else:
            head, completed, elapsed = f"iteration {step.iteration}", step.iteration, step.seconds
            cost, gradient = f"{step.cost:.4g}", f"{step.gradient_norm:.2e}"
            eta = None if total is None else self._eta(step)
        # Columns one space apart, as in rich's Progress: description, bar, percentage (none
        # without a total), fields, elapsed, remaining (none without a total).
        percentage = "" if total is None else f"{100 * min(completed, total) / total if total else 100:>3.0f}%"
        fields = f"cost {cost} ‖gradient‖ {gradient}"
        tail = [
            (percentage, "progress.percentage"),
            (fields, ""),
            (_clock_text(elapsed), "progress.elapsed"),
            (_clock_text(eta), "progress.remaining"),  # -:--:-- without a total, as rich draws it
        ]
        tail = [(text, style) for text, style in tail if text]
        width = options.max_width - cell_len(head) - sum(cell_len(text) + 1 for text, _ in tail) - 1
        yield Segment(head)
        if width > 0:
            yield Segment(" ")
            bar = ProgressBar(total=total, completed=completed, width=min(self.BAR_WIDTH, width))
            yield from console.render(bar, options)
        for text, style in tail:
            yield Segment(" ")
            yield Segment(text, console.get_style(style) if style else None)


class TrainingDisplay:
    """Consumes `Step`s from a `Training` and renders them; use as a context manager."""

    def __init__(
        self,
        console: Console,
        mode: str,
        max_iterations: int | None,
        log_every: int,
        validation: bool,
        classification: bool,
    ) -> None:
        self.console = console
        self.mode = mode
        self.max_iterations = max_iterations
        self.log_every = log_every
        self.validation = validation
        self.classification = classification
        self._bar: _Bar | None = None
        self._live: Live | None = None
        quiet = mode == "quiet"
        # update's two tests: the first update gets a row (iteration 1, or the first after a
        # --resume) and is drawn at once; quiet never has anything due.
        self._due = math.inf if quiet else 0  # the next iteration that gets a row
        self._render_at = math.inf if quiet else -math.inf  # Step.seconds of the next redraw
        self._last: Step | None = None
        self._last_row = 0  # the iteration of the last row queued
        self._rows: list[Step] = []  # due rows not yet written

    # -- rows ---------------------------------------------------------------------------

    def _header(self) -> str:
        parts = ["iteration".rjust(10), "cost".rjust(12), "‖gradient‖".rjust(12)]
        if self.validation:
            parts.append("val cost".rjust(12))
            if self.classification:
                parts.append("val acc".rjust(8))
        parts.append("elapsed".rjust(9))
        return "  ".join(parts)

    def _row(self, step: Step) -> str:
        if not self.validation:
            return _ROW % step[:4]
        row = "%10d  %12.6g  %12.6g  " % step[:3] + _number(step.validation_cost)
        if self.classification:
            acc = step.validation_accuracy
            row += "  " + ("—" if acc is None else f"{acc:.3f}").rjust(8)
        return f"{row}  {step.seconds:8.2f}s"

    def _write_rows(self) -> None:
        """Format the queued rows and write them in one go (above the bar in rich mode)."""
        if not self._rows or self.mode == "quiet":  # quiet: also once `train` silenced it
            self._rows.clear()
            return
        if self.validation:
            text = "\n".join([self._row(step) for step in self._rows])
        else:
            text = "\n".join([_ROW % step[:4] for step in self._rows])
        self._rows.clear()
        if self.mode == "rich":
            # While the bar is live this also redraws it below the rows, as it is now.
            self.console.print(_Lines(text), crop=False)
        else:
            print(text, file=self.console.file, flush=True)

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> "TrainingDisplay":
        if self.mode == "quiet":
            return self
        if self.mode == "rich":
            self.console.print(Text(self._header(), style="bold"), highlight=False)
            self._bar = _Bar(self.max_iterations)
            # Drawn by Live (no refresh thread: auto_refresh off) below everything printed
            # while it is live, as the bar is at that moment; so writing rows draws it too.
            self._live = Live(self._bar, console=self.console, auto_refresh=False, transient=True)
            self._live.start()
        else:
            print(self._header(), file=self.console.file, flush=True)
        return self

    def update(self, step: Step) -> None:
        """Called once per iteration: two comparisons, unless a row or a redraw is due."""
        if step.iteration >= self._due:
            self._queue_row(step)
        elif step.seconds >= self._render_at:
            self._render(step)
        self._last = step

    def _queue_row(self, step: Step) -> None:
        """Queue the row of `step` (formatted when written), and write now if it is time."""
        self._rows.append(step)
        iteration, every = step.iteration, self.log_every
        self._last_row = iteration
        self._due = iteration - iteration % every + every
        # The next chance to write is the next update, an iteration (about as long as the
        # last one) from now: write now if that is past the time of the next redraw, so a
        # row due on slow iterations is not held back.
        seconds, render_at, previous = step.seconds, self._render_at, self._last
        if seconds >= render_at or previous is None or 2 * seconds - previous.seconds >= render_at:
            self._render(step)

    def _render(self, step: Step) -> None:
        self._render_at = step.seconds + REFRESH_SECONDS
        if self._bar is not None:
            self._bar.show(step)
        if self._rows:
            self._write_rows()
        elif self._live is not None:
            self._live.refresh()

    def __exit__(self, *exc: Any) -> None:
        try:
            last = self._last
            if self.mode != "quiet" and last is not None and last.iteration != self._last_row:
                self._rows.append(last)
            if self._bar is not None and last is not None:
                self._bar.show(last)  # drawn below the last rows, until Live.stop erases it
            self._write_rows()
        finally:
            if self._live is not None:
                self._live.stop()
                self._live = None
                self._bar = None

    # -- the end --------------------------------------------------------------------------

    def summary(self, training: Training, saved: Path | None, extra: list[tuple[str, str]]) -> None:
        stop = training.stop
        assert stop is not None
        rows: list[tuple[str, str]] = [
            ("stopped", _stop_text(stop)),
            ("iterations", str(stop.iteration)),
            ("final cost", "—" if training.final_cost is None else f"{training.final_cost:.10g}"),
        ]
        validation_cost, validation_accuracy = training.final_validation
        if validation_cost is not None:
            rows.append(("validation cost", _number(validation_cost, 0)))
        if validation_accuracy is not None:
            rows.append(("validation accuracy", f"{validation_accuracy:.4f}"))
        if training.held is not None:
            rows.append(("parameters", f"{training.held.which}: {training.held.reason}"))
        rows.append(("time", f"{training.seconds:.2f} s"))
        rows += extra
        if saved is not None:
            rows.append(("model", str(saved)))
        if self.mode == "quiet":
            if saved is not None:
                print(saved, file=self.console.file, flush=True)
            return
        if self.mode == "rich":
            table = Table(show_header=False, box=None, pad_edge=False)
            table.add_column(style="bold")
            table.add_column()
            for key, value in rows:
                table.add_row(key, Text(value))
            self.console.print(table)
        else:
            for key, value in rows:
                print(f"{key}: {value}", file=self.console.file, flush=True)


def _stop_text(stop: Stop) -> str:
    names = {
        "gradient_tolerance": "a) gradient norm",
        "loss_change_tolerance": "b) cost change",
        "max_iterations": "c) maximum iterations",
        "diverged": "diverged",
        "interrupted": "interrupted",
    }
    return f"{names.get(stop.criterion, stop.criterion)}: {stop.message}"
