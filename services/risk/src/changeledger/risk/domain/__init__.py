"""Risk's domain: risks, issues and the register of each release."""

from changeledger.risk.domain.issue import Issue, IssueState, Severity
from changeledger.risk.domain.register import Exposure, RiskRegister, register_id_for
from changeledger.risk.domain.risk import (
    ActionStatus,
    Assessment,
    Category,
    Escalation,
    Mitigation,
    Response,
    Risk,
    RiskState,
    change_risk_id,
)
from changeledger.risk.domain.scoring import Rating, Score

__all__ = [
    "ActionStatus",
    "Assessment",
    "Category",
    "Escalation",
    "Exposure",
    "Issue",
    "IssueState",
    "Mitigation",
    "Rating",
    "Response",
    "Risk",
    "RiskRegister",
    "RiskState",
    "Score",
    "Severity",
    "change_risk_id",
    "register_id_for",
]
