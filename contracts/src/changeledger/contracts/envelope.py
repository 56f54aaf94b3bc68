"""The envelope every integration event travels in (CloudEvents 1.0 field names)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Actor(BaseModel):
    """Who caused an event: the subject of a verified token and its roles."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str = Field(min_length=1, max_length=200)
    roles: tuple[str, ...] = ()


class Envelope(BaseModel):
    """A CloudEvents-style envelope around one integration event.

    `data` holds the event itself; `type` and `dataversion` name its model in the registry.
    `sequence` is the event's notification id in the source service's store, so a
    subscriber can tell a republished event (same id and sequence) from a new one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: UUID
    source: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=3, max_length=128, pattern=r"^[a-z]+(\.[a-z_]+)+$")
    dataversion: int = Field(ge=1)
    subject: str = Field(min_length=1, max_length=128)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    actor: Actor
    correlationid: str = Field(min_length=1, max_length=128)
    causationid: str | None = Field(default=None, max_length=128)
    sequence: int = Field(ge=1)
    data: dict[str, Any]
