"""Planning's value objects: money, periods and windows, and the scales it uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum

from changeledger.runtime.domain import InvalidValue, RuleViolated, now


class Priority(Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Level(Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Money:
    """An amount in one currency (ISO 4217). Never a float."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidValue("an amount must be a finite decimal", rule="money-amount")
        if self.amount < 0:
            raise InvalidValue("an amount cannot be negative", rule="money-amount")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidValue("a currency is a three-letter ISO 4217 code", rule="currency")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def require_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise RuleViolated(
                f"{other.currency} cannot be combined with {self.currency}",
                rule="currency-mismatch",
            )

    def __add__(self, other: Money) -> Money:
        self.require_same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __le__(self, other: Money) -> bool:
        self.require_same_currency(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class Period:
    """A span of days, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidValue("a period cannot end before it starts", rule="period-order")

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def working_days(self) -> int:
        """Monday to Friday, inclusive of both ends."""
        days = (self.end - self.start).days + 1
        weeks, rest = divmod(days, 7)
        extra = sum(1 for n in range(rest) if (self.start + timedelta(n)).weekday() < 5)
        return weeks * 5 + extra

    def intersection(self, other: Period) -> Period | None:
        if not self.overlaps(other):
            return None
        return Period(max(self.start, other.start), min(self.end, other.end))


@dataclass(frozen=True)
class Window:
    """A span of time for a deployment or a freeze: from `start` up to `end`."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidValue("window times need a time zone", rule="window-timezone")
        if self.end <= self.start:
            raise InvalidValue("a window must end after it starts", rule="window-order")

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Window) -> bool:
        return self.start <= other.start and other.end <= self.end

    def require_ahead(self) -> None:
        """Deployments and changes are scheduled for the future, not the past."""
        if self.start <= now():
            raise InvalidValue(f"the window {self} has already begun", rule="window-in-past")

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"
