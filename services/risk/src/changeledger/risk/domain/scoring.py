"""Scoring: likelihood x impact on 1-5 scales, and the rating bands of the score."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from changeledger.runtime.domain import InvalidValue


class Rating(Enum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"

    @classmethod
    def of(cls, score: int) -> Rating:
        """Low 1-4, Medium 5-9, High 10-15, Critical 16-25."""
        if not 1 <= score <= 25:
            raise InvalidValue(f"a score runs from 1 to 25, not {score}", rule="score-range")
        if score <= 4:
            return cls.LOW
        if score <= 9:
            return cls.MEDIUM
        if score <= 15:
            return cls.HIGH
        return cls.CRITICAL

    @property
    def escalates(self) -> bool:
        return self in (Rating.HIGH, Rating.CRITICAL)


@dataclass(frozen=True)
class Score:
    likelihood: int
    impact: int

    def __post_init__(self) -> None:
        for name, value in (("likelihood", self.likelihood), ("impact", self.impact)):
            if not 1 <= value <= 5:
                raise InvalidValue(f"{name} runs from 1 to 5, not {value}", rule="scale")

    @property
    def value(self) -> int:
        return self.likelihood * self.impact

    @property
    def rating(self) -> Rating:
        return Rating.of(self.value)
