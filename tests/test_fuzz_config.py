"""Mutation fuzzing of a valid config: every run ends cleanly with a documented exit code.

Seeded and bounded (hypothesis, derandomized): byte flips, truncations, insertions, and YAML
values swapped for values of the wrong type. Never a traceback, never a model file left
behind by a failed run.
"""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncli.cli import app

from conftest import HOUSE_CONFIG

DOCUMENTED = {0, 2, 3, 4}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASE = HOUSE_CONFIG.encode()


def check_run(runner, tmp_path, config_bytes: bytes) -> None:
    (tmp_path / "house.csv").write_text("bedrooms,price\n3,450\n")
    config = tmp_path / "fuzz.yaml"
    config.write_bytes(config_bytes)
    model = tmp_path / "out" / "m.npz"
    if model.exists():
        model.unlink()
    result = runner.invoke(app, ["train", str(config), "-q", "-o", str(model)])
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    if result.exit_code != 0:
        assert not model.exists()
        assert "error:" in result.stderr, result.stderr
    leftovers = [p.name for p in (tmp_path / "out").glob("*")] if (tmp_path / "out").exists() else []
    assert all(not name.endswith(".tmp") for name in leftovers)


@FUZZ
@given(data=st.data())
def test_byte_mutations(runner, tmp_path, data):
    text = bytearray(BASE)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        position = data.draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "flip" and text:
            text[position] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "truncate":
            del text[position:]
        elif kind == "insert":
            text[position:position] = data.draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and text:
            del text[position : position + data.draw(st.integers(1, 20))]
    check_run(runner, tmp_path, bytes(text))


WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.sampled_from(["a", "neurons", "train"]), st.integers(0, 3), max_size=2),
)


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield prefix + (index,)
            yield from _paths(value, prefix + (index,))


@FUZZ
@given(data=st.data())
def test_values_swapped_for_wrong_types(runner, tmp_path, data):
    config = yaml.safe_load(HOUSE_CONFIG)
    paths = sorted(_paths(config), key=str)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = config
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = data.draw(WRONG_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier swap removed this path
    check_run(runner, tmp_path, yaml.safe_dump(config).encode())
