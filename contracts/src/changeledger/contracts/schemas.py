"""Export the JSON Schemas of the envelope and every event version, and guard them.

The exported files are committed. Exporting again rewrites a file only when the change is
backward compatible (see `compat`); a breaking change must become a new version instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from changeledger.contracts.compat import breaking_changes
from changeledger.contracts.envelope import Envelope
from changeledger.contracts.registry import IntegrationEvent, registered

SCHEMA_DIR = Path(__file__).parent / "schemas"


class IncompatibleChange(Exception):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listing = "\n  ".join(problems)
        super().__init__(
            f"{path.name} would break its consumers; publish a new version instead:\n  {listing}"
        )


@dataclass(frozen=True)
class SchemaFile:
    path: Path
    schema: dict[str, Any]


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    if issubclass(model, IntegrationEvent):
        schema["$id"] = f"{model.event_type}.v{model.version}.json"
        schema["x-event-type"] = model.event_type
        schema["x-version"] = model.version
        schema["x-topic"] = model.topic()
    return schema


def expected_files() -> list[SchemaFile]:
    files = [SchemaFile(SCHEMA_DIR / "envelope.json", schema_of(Envelope))]
    for model in registered():
        path = SCHEMA_DIR / f"{model.event_type}.v{model.version}.json"
        files.append(SchemaFile(path, schema_of(model)))
    return files


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def check_compatible(file: SchemaFile) -> None:
    if file.path.exists():
        problems = breaking_changes(json.loads(file.path.read_text()), file.schema)
        if problems:
            raise IncompatibleChange(file.path, problems)


def outdated() -> list[Path]:
    """Schema files that are missing or differ from what the models would export."""
    return [
        f.path
        for f in expected_files()
        if not f.path.exists() or f.path.read_text() != render(f.schema)
    ]


def export() -> list[Path]:
    """Write every schema that changed compatibly or is new; refuse breaking changes."""
    changed = outdated()
    files = [f for f in expected_files() if f.path in changed]
    for file in files:
        check_compatible(file)
    SCHEMA_DIR.mkdir(exist_ok=True)
    for file in files:
        file.path.write_text(render(file.schema))
    return changed
