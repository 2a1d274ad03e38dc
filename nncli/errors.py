"""The errors nncli raises for a user's mistake, each with the exit code the CLI returns.

Library code raises these and never prints or exits; only `nncli.cli` turns them into a
message on stderr and an exit code. Every message names what is wrong, where (file, line,
column, key) and what to change; `hint` is an optional "help:" line with the remedy.
"""

from __future__ import annotations

# Exit codes, the same for every command (README "Exit codes").
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2  # usage or config error; an output that cannot be written; out of memory
EXIT_DATA = 3  # data error: CSV files and model files
EXIT_DIVERGED = 4  # training diverged (NaN or infinite cost or gradient)
EXIT_INTERRUPTED = 130  # Ctrl-C


class NncliError(Exception):
    """Base class: a user-facing error with a message, an optional remedy and an exit code."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhelp: {self.hint}"
        return self.message


class ConfigError(NncliError):
    """The YAML config (or a --set override, or a command-line argument) is wrong."""

    exit_code = EXIT_USAGE


class ResourceError(NncliError):
    """The machine cannot carry out what was asked: out of memory, or an output file that
    cannot be written. Exit code 2, as for a request to change (not a bug in nncli)."""

    exit_code = EXIT_USAGE


class OutputError(ResourceError):
    """A file nncli writes could not be written (a full disk, a read-only folder)."""


class DataError(NncliError):
    """A CSV file or a model file cannot be used as it is."""

    exit_code = EXIT_DATA


class ModelFileError(DataError):
    """A model file is missing, corrupt, foreign, or from a newer nncli."""


class DivergedError(NncliError):
    """Training produced a NaN or infinite cost or gradient."""

    exit_code = EXIT_DIVERGED


class GradientCheckError(NncliError):
    """`nncli gradcheck`: back propagation disagrees with finite differences (a bug in nncli)."""

    exit_code = EXIT_INTERNAL
