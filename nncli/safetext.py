"""Text from untrusted files made safe to show on a terminal.

Names, labels and messages may come from a stranger's model file or CSV file. Printed as
they are, a control character (ESC, BEL, a carriage return) would reach the terminal: an
escape sequence can recolour, retitle or rewrite what the user sees. `printable` escapes
every non-printable character the way Python's repr does (``\\x1b``, ``\\u202e``), leaving
all other text, non-ASCII letters included, as it is. (The consoles are also created with
``markup=False``, so ``[bold]`` in a name is shown, not interpreted.)
"""

from __future__ import annotations

from typing import Any


def _escaped(character: str) -> str:
    return repr(character)[1:-1] if character != "'" else character


def printable(value: Any, keep_newlines: bool = False) -> Any:
    """`value` with every string in it (in dicts and lists too) made printable."""
    if isinstance(value, str):
        if value.isprintable():
            return value
        return "".join(
            c if c.isprintable() or (keep_newlines and c == "\n") else _escaped(c) for c in value
        )
    if isinstance(value, dict):
        return {printable(k): printable(v, keep_newlines) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v, keep_newlines) for v in value]
    if isinstance(value, tuple):
        return tuple(printable(v, keep_newlines) for v in value)
    return value
