"""Ctrl-C on a real `python -m nncli train` process: a loadable MODEL.interrupted.npz, the
requested model untouched, exit code 130 — then --resume continues from it."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from training_helpers import iris_config

from nncli.modelfile import load_model

DEADLINE_SECONDS = 8


def _wait_for_row(process: subprocess.Popen, deadline: float) -> list[str]:
    """Read stdout lines until the first progress row (a line starting with an iteration)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    lines: list[str] = []
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.split() and line.split()[0].isdigit():
            return lines
    raise AssertionError(f"no progress row within the deadline; output so far: {lines!r}")


def test_sigint_saves_the_interrupted_model_and_exits_130(tmp_path: Path) -> None:
    config = iris_config(tmp_path, log_every=1)
    model = tmp_path / "iris.npz"
    model.write_bytes(b"a good model from before")
    deadline = time.monotonic() + DEADLINE_SECONDS
    process = subprocess.Popen(
        [sys.executable, "-m", "nncli", "train", str(config), "-o", str(model),
         "--set", "stopping.max_iterations=100000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_for_row(process, deadline)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    interrupted = tmp_path / "iris.interrupted.npz"
    assert str(interrupted) in stderr and "interrupted" in stderr
    assert "Traceback" not in stderr
    assert model.read_bytes() == b"a good model from before"
    saved = load_model(interrupted)
    training = saved.training
    assert training["stop_criterion"] == "interrupted"
    assert training["parameters"]["which"] == "last"
    assert training["iterations"] >= 1 and np.isfinite(saved.network.theta).all()
    assert (tmp_path / "iris.interrupted.history.csv").exists()

    # The interrupted run goes on where it stopped.
    done = training["iterations"]
    resumed = tmp_path / "resumed.npz"
    finished = subprocess.run(
        [sys.executable, "-m", "nncli", "train", str(config), "-q", "-o", str(resumed),
         "--resume", str(interrupted), "--set", f"stopping.max_iterations={done + 3}"],
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    assert finished.returncode == 0, finished.stderr
    assert load_model(resumed).training["iterations"] == done + 3
