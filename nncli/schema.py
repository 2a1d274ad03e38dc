"""`nncli schema`: the JSON Schema of the config, generated from the pydantic models.

Editors that speak JSON Schema (VS Code's YAML extension, anything using yaml-language-server)
validate and complete a config that starts with the line

    # yaml-language-server: $schema=../nncli.schema.json

The repository ships that file (nncli.schema.json, made by `nncli schema -o`); a test keeps
it equal to what the models generate. The schema checks types, names and ranges; the rules
that need the data or several keys at once (softmax only on the output layer, W_l shapes,
columns that exist) are checked by `nncli validate`.
"""

from __future__ import annotations

import json
from typing import Any

from nncli.config import Config

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "nncli config"
DESCRIPTION = (
    "A network spec for nncli (train multi-layer perceptrons on CSV data). Notation of "
    "SPEC.md: layers L1 … Lm, n_l neurons, W_l is n_l × n_(l-1), β_l is n_l × 1."
)


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a config file."""
    generated = Config.model_json_schema()
    generated.pop("title", None)
    return {"$schema": DIALECT, "title": TITLE, "description": DESCRIPTION, **generated}


def schema_text() -> str:
    """The schema as the text of nncli.schema.json: indented JSON and a final newline."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
