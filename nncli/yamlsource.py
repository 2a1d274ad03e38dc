"""Safe YAML loading that remembers where every key came from.

`load_yaml(path)` returns the plain data (dicts, lists, scalars) and a `SourceMap` from key
paths such as ``("network", "layers", 0, "activation")`` to (line, column), so a validation
error can point at the line the user has to change. The loader is PyYAML's SafeLoader (no
``!!python/...`` tags) with three additions:

- a duplicate key is an error (YAML allows it silently; the first value would be lost);
- anchors and aliases are refused, so an alias bomb cannot blow up memory;
- explicit tags (``!!python/object``, ``!!binary``, ``!!set`` …) are refused, and a value
  that looks like a date or number but is none (``2001-13-45``, ``0x_``) is an error at its
  line, as is a whole number of more than 1000 digits;
- ``1e-3`` is a number, as in YAML 1.2 (PyYAML's YAML 1.1 reads it as a string).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nncli.errors import ConfigError

MAX_CONFIG_BYTES = 1_000_000
YAML_TAG = "tag:yaml.org,2002:"

Key = tuple[Any, ...]


class ConfigLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                "while composing a node",
                None,
                "aliases (*name) are not allowed in an nncli config; write the value out",
                event.start_mark,
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(
                None,
                None,
                "anchors (&name) are not allowed in an nncli config; write the value out",
                event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            tag = "!!" + tag[len(YAML_TAG) :] if tag.startswith(YAML_TAG) else tag
            raise yaml.MarkedYAMLError(
                None,
                None,
                f"tags such as {tag[:80]} are not allowed in an nncli config (nncli reads plain "
                "YAML only: no !!python or other tags); write the plain value",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A value that matches a YAML type but cannot be built (2001-13-45 as a date, 0x_
        # as a number) raises ValueError or KeyError, not a YAML error: give it its line.
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, TypeError, OverflowError) as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"the value {node.value!r:.80} cannot be read ({error})", node.start_mark
            ) from None


    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        # Python refuses to convert more than 4300 digits (a ValueError, not a YAML error).
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a whole number of {digits:,} digits (nncli reads at most {MAX_INT_DIGITS:,})",
                node.start_mark,
            )
        return super().construct_yaml_int(node)


MAX_INT_DIGITS = 1000
ConfigLoader.add_constructor("tag:yaml.org,2002:int", ConfigLoader.construct_yaml_int)
ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclass
class SourceMap:
    """Where each key path of a config was written: file, and line/column (1-based)."""

    path: Path
    positions: dict[Key, tuple[int, int]] = field(default_factory=dict)
    overrides: dict[Key, str] = field(default_factory=dict)

    def where(self, key: Key) -> str:
        """'config.yaml, line 12, column 5' for the key, or its nearest parent that exists."""
        for n in range(len(key), -1, -1):
            prefix = tuple(key[:n])
            if prefix in self.overrides:
                return f"{self.path} (set on the command line: --set {self.overrides[prefix]})"
            if prefix in self.positions:
                line, column = self.positions[prefix]
                return f"{self.path}, line {line}, column {column}"
        return str(self.path)


def dotted(key: Key) -> str:
    """('network', 'layers', 0, 'activation') -> 'network.layers[0].activation'."""
    text = ""
    for part in key:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _walk(node: yaml.Node, key: Key, positions: dict[Key, tuple[int, int]], path: Path) -> None:
    positions[key] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    f"{path}, line {key_node.start_mark.line + 1}: a key must be a plain name, "
                    "not a list or mapping."
                )
            name = key_node.value
            if name in seen:
                raise ConfigError(
                    f"{path}, line {key_node.start_mark.line + 1}, column "
                    f"{key_node.start_mark.column + 1}: {dotted(key + (name,))}: duplicate key "
                    f"(first given on line {seen[name]}); YAML would silently keep only the last one.",
                    hint="delete one of the two.",
                )
            seen[name] = key_node.start_mark.line + 1
            _walk(value_node, key + (name,), positions, path)
            # Point at the key rather than its value: that is the line a user looks for.
            positions[key + (name,)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, key + (index,), positions, path)


def load_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Read a YAML file safely; returns (data, source map). Raises ConfigError."""
    if not path.exists():
        raise ConfigError(f"{path}: config file not found.", hint="check the path.")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a YAML config file.")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: the config is {size:,} bytes; nncli reads configs of at most "
                f"{MAX_CONFIG_BYTES:,} bytes.",
                hint="a config holds settings, not data: put data in a CSV file under data.train.",
            )
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config: {error.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: is not a UTF-8 text file (byte {error.start} is 0x{raw[error.start]:02x}); "
            "expected a YAML config."
        ) from None
    if "\x00" in text:
        raise ConfigError(f"{path}: holds NUL bytes; expected a YAML text file.")
    source = SourceMap(path)
    try:
        loader = ConfigLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ConfigError(
                    f"{path}: the config is empty.",
                    hint="start from configs/house-prices.yaml, or run `nncli init data.csv --target COLUMN`.",
                )
            _walk(node, (), source.positions, path)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = error.problem or error.context or "invalid YAML"
        if isinstance(error, yaml.constructor.ConstructorError) and "tag" in problem:
            problem += " (nncli reads plain YAML only: no !!python or other tags)"
        raise ConfigError(f"{where}: not valid YAML: {problem}.") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}.") from None
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply to be a config.") from None
    if not isinstance(data, dict):
        found = type(data).__name__ if data is not None else "nothing"
        raise ConfigError(
            f"{path}, line 1: expected a mapping of keys (name:, data:, network:, …) at the top "
            f"level, found {found}."
        )
    return data, source
