"""Every file nncli writes — model, history.csv, predictions, init's config, the schema, the
plot — goes through `fileio.atomic_write`. A failure injected while one of them is written
(an exception, Ctrl-C, a full disk; while writing, at fsync, at the rename) leaves the
previous file byte-identical and no temporary file, and ends with the documented exit code.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest

from hostile import IRIS, invoke, train_small_model, write_config
import nncli.fileio as fileio

FAILURES: dict[str, tuple[Callable[[], BaseException], int]] = {
    "full disk": (lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), 2),
    "ctrl-c": (KeyboardInterrupt, 130),
    "a bug": (lambda: RuntimeError("injected failure"), 1),
}


class _FailingHandle:
    """A file whose writes fail once `after` bytes are written (the first ones get through)."""

    def __init__(self, handle: Any, failure: Callable[[], BaseException], after: int = 10) -> None:
        self._handle, self._failure, self._left = handle, failure, after

    def write(self, data: Any) -> int:
        data = bytes(data)
        if len(data) > self._left:
            self._handle.write(data[: self._left])
            self._handle.flush()
            raise self._failure()
        self._left -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> "_FailingHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._handle.close()


def inject(monkeypatch: pytest.MonkeyPatch, target: Path, failure: Callable[[], BaseException], stage: str) -> list[str]:
    """Make the atomic write of `target` fail at `stage` (write, fsync or replace); returns
    the list the temporary files' paths are recorded in."""
    temporaries: list[str] = []
    descriptors: set[int] = set()
    real_mkstemp, real_fdopen, real_fsync, real_replace = tempfile.mkstemp, os.fdopen, os.fsync, os.replace

    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)
        if Path(name).name.startswith(f".{target.name}."):
            temporaries.append(name)
            descriptors.add(fd)
        return fd, name

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        return _FailingHandle(handle, failure) if stage == "write" and fd in descriptors else handle

    def fsync(fd: int) -> None:
        if stage == "fsync" and fd in descriptors:
            raise failure()
        real_fsync(fd)

    def replace(source: Any, destination: Any) -> None:
        if stage == "replace" and str(source) in temporaries:
            raise failure()
        real_replace(source, destination)

    monkeypatch.setattr(fileio.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(fileio.os, "fdopen", fdopen)
    monkeypatch.setattr(fileio.os, "fsync", fsync)
    monkeypatch.setattr(fileio.os, "replace", replace)
    return temporaries


def check(result: Any, target: Path, before: bytes, temporaries: list[str], code: int) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    if code != 1:
        assert "Traceback" not in result.output, result.output
    assert temporaries, "the injected write never happened"
    assert target.read_bytes() == before
    assert not [name for name in os.listdir(target.parent) if name.endswith(".tmp")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return train_small_model(tmp_path_factory.mktemp("trained"))


def _train(tmp_path: Path, name: str) -> tuple[list[str], Path, bytes]:
    """A model trained once in tmp_path; train again writes `name` (model or history)."""
    config, model = train_small_model(tmp_path)
    target = tmp_path / name
    before = target.read_bytes()
    return ["train", str(config), "-q", "-o", str(model), "--set", "stopping.max_iterations=5"], target, before


def _predict(tmp_path: Path, model: Path) -> tuple[list[str], Path, bytes]:
    target = tmp_path / "predictions.csv"
    target.write_bytes(b"the previous predictions\n")
    return ["predict", str(model), str(IRIS), "-o", str(target)], target, target.read_bytes()


def _init(tmp_path: Path) -> tuple[list[str], Path, bytes]:
    target = tmp_path / "iris.yaml"
    target.write_bytes(b"# the previous config\n")
    return ["init", str(IRIS), "--target", "species", "-o", str(target), "--force"], target, target.read_bytes()


def _schema(tmp_path: Path) -> tuple[list[str], Path, bytes]:
    target = tmp_path / "schema.json"
    target.write_bytes(b"{}\n")
    return ["schema", "-o", str(target)], target, target.read_bytes()


def _plot(tmp_path: Path) -> tuple[list[str], Path, bytes]:
    config = write_config(tmp_path)
    target = tmp_path / "cost.png"
    target.write_bytes(b"the previous plot")
    return ["train", str(config), "-q", "-o", str(tmp_path / "m.npz"), "--plot", str(target)], target, target.read_bytes()


WRITERS = ["model", "history", "predictions", "init config", "schema", "plot"]


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("writer", WRITERS)
def test_a_failed_write_keeps_the_previous_file(
    trained: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str, failure: str
) -> None:
    if writer == "plot":
        pytest.importorskip("matplotlib")
    args, target, before = {
        "model": lambda: _train(tmp_path, "small.npz"),
        "history": lambda: _train(tmp_path, "small.history.csv"),
        "predictions": lambda: _predict(tmp_path, trained[1]),
        "init config": lambda: _init(tmp_path),
        "schema": lambda: _schema(tmp_path),
        "plot": lambda: _plot(tmp_path),
    }[writer]()
    make, code = FAILURES[failure]
    temporaries = inject(monkeypatch, target, make, "write")
    result = invoke(args)
    check(result, target, before, temporaries, code)
    if failure == "full disk":
        assert f"error: {target}: could not be written: No space left on device" in result.stderr
        assert "help: free some disk space" in result.stderr


@pytest.mark.parametrize("stage", ["fsync", "replace"])
def test_a_failure_at_fsync_or_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    args, target, before = _train(tmp_path, "small.npz")
    temporaries = inject(monkeypatch, target, lambda: OSError(errno.EIO, os.strerror(errno.EIO)), stage)
    result = invoke(args)
    check(result, target, before, temporaries, 2)
    assert "could not be written: Input/output error" in result.stderr


def test_a_model_write_that_fails_writes_no_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model is saved first: when that fails, history.csv is not written either."""
    args, target, before = _train(tmp_path, "small.npz")
    history = tmp_path / "small.history.csv"
    history_before = history.read_bytes()
    inject(monkeypatch, target, FAILURES["full disk"][0], "write")
    invoke(args)
    assert history.read_bytes() == history_before


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mkstemp itself failing (a folder that became read-only, or full, after the check)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    target = tmp_path / "schema.json"
    monkeypatch.setattr(fileio.tempfile, "mkstemp", refuse)
    result = invoke(["schema", "-o", str(target)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"error: {target}: could not be written: Permission denied" in result.stderr
    assert not target.exists()
