"""Planning's domain: releases, change requests and the deployment calendar."""

from changeledger.planning.domain.calendar import (
    CALENDAR_ID,
    Booking,
    DeploymentCalendar,
    FreezeWindow,
)
from changeledger.planning.domain.change import (
    ChangeAssessment,
    ChangeCategory,
    ChangeRequest,
    ChangeState,
    ChangeType,
    Decision,
    ReviewOutcome,
)
from changeledger.planning.domain.release import (
    Allocation,
    Benefit,
    BenefitsAssessment,
    Outcome,
    Release,
    ReleaseState,
    RiskExposure,
    WorkItem,
)
from changeledger.planning.domain.values import Level, Money, Period, Priority, Window

__all__ = [
    "CALENDAR_ID",
    "Allocation",
    "Benefit",
    "BenefitsAssessment",
    "Booking",
    "ChangeAssessment",
    "ChangeCategory",
    "ChangeRequest",
    "ChangeState",
    "ChangeType",
    "Decision",
    "DeploymentCalendar",
    "FreezeWindow",
    "Level",
    "Money",
    "Outcome",
    "Period",
    "Priority",
    "Release",
    "ReleaseState",
    "ReviewOutcome",
    "RiskExposure",
    "Window",
    "WorkItem",
]
