"""The compatibility rule, and the committed schemas held to it."""

import json
import shutil
import subprocess
from functools import partial
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from changeledger.contracts.compat import breaking_changes
from changeledger.contracts.schemas import expected_files, outdated, schema_of


class Original(BaseModel):
    id: int
    name: str
    tags: list[str] = []
    kind: Literal["a", "b"] = "a"


class AddsOptional(BaseModel):
    id: int
    name: str
    tags: list[str] = []
    kind: Literal["a", "b"] = "a"
    note: str | None = None


class RemovesField(BaseModel):
    id: int
    tags: list[str] = []
    kind: Literal["a", "b"] = "a"


class ChangesType(BaseModel):
    id: str
    name: str
    tags: list[str] = []
    kind: Literal["a", "b"] = "a"


class ChangesItemType(BaseModel):
    id: int
    name: str
    tags: list[int] = []
    kind: Literal["a", "b"] = "a"


class AddsRequired(BaseModel):
    id: int
    name: str
    tags: list[str] = []
    kind: Literal["a", "b"] = "a"
    owner: str


class ChangesEnum(BaseModel):
    id: int
    name: str
    tags: list[str] = []
    kind: Literal["a", "c"] = "a"


class MakesOptional(BaseModel):
    id: int
    name: str | None
    tags: list[str] = []
    kind: Literal["a", "b"] = "a"


def problems(new: type[BaseModel]) -> list[str]:
    return breaking_changes(schema_of(Original), schema_of(new))


def test_adding_an_optional_field_is_compatible() -> None:
    assert problems(AddsOptional) == []
    assert problems(Original) == []


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (RemovesField, "$.name: field removed"),
        (ChangesType, "$.id: type changed"),
        (ChangesItemType, "$.tags[]: type changed"),
        (AddsRequired, "$.owner: new field is required"),
        (ChangesEnum, "$.kind: enum values"),
        (MakesOptional, "$.name: type changed"),
    ],
)
def test_changes_that_break_a_consumer_are_found(new: type[BaseModel], expected: str) -> None:
    found = problems(new)
    assert any(p.startswith(expected) for p in found), found


def test_every_committed_schema_is_what_the_models_export() -> None:
    stale = outdated()
    assert not stale, f"run `uv run changeledger contracts export`: {stale}"


def published_versions(path: Path) -> list[tuple[str, dict[str, object]]]:
    """Every version of a schema file that was ever committed, oldest last."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is needed to read the published schemas")
    run = partial(subprocess.run, capture_output=True, text=True, check=False, cwd=path.parent)
    commits = run([git, "log", "--format=%H", "--", path.name]).stdout.split()
    versions = []
    for commit in commits:
        shown = run([git, "show", f"{commit}:./{path.name}"])
        if shown.returncode == 0:
            versions.append((commit[:10], json.loads(shown.stdout)))
    return versions


def test_no_model_breaks_a_consumer_of_any_published_version() -> None:
    """Each model is compared with every committed version of its schema, so a breaking
    change cannot hide behind a schema file that was exported again."""
    for file in expected_files():
        for commit, published in published_versions(file.path):
            found = breaking_changes(published, file.schema)
            assert found == [], f"{file.path.name} breaks the version of {commit}: {found}"
