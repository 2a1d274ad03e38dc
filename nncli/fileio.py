"""Every file nncli writes goes through `atomic_write`: a temporary file in the target
folder, flushed and fsync'ed, then renamed over the target. An interrupted or failed write
(an exception, Ctrl-C, a full disk) leaves the previous file byte-identical and no
temporary file behind.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from nncli.errors import ConfigError, OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: Path, what: str = "output") -> None:
    """Fail before any work is done if `path` cannot be written (so no work is lost)."""
    if path.exists() and path.is_dir():
        raise ConfigError(f"{path}: the {what} path is a directory; give a file name.")
    parent = path.parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{path}: cannot create the {what} file: {existing} is not a directory.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{path}: cannot write the {what} file: {existing} is not writable.")


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `path` through `write(handle)` atomically; creates missing parent folders.

    An OSError (a full disk, a folder that cannot be written) becomes an `OutputError`;
    any failure, Ctrl-C included, removes the temporary file and leaves `path` as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _output_error(path, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise _output_error(path, error) from None
        raise


def _output_error(path: Path, error: OSError) -> OutputError:
    reason = error.strerror or str(error) or type(error).__name__
    return OutputError(
        f"{path}: could not be written: {reason}; nothing was changed (no partial file is left).",
        hint="free some disk space or choose another folder (--output)."
        if error.errno == errno.ENOSPC
        else None,
    )


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))
