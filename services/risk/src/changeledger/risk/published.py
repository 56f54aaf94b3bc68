"""Risk's domain events as the contract events other services see."""

from __future__ import annotations

from typing import Any

from changeledger.contracts import IntegrationEvent
from changeledger.contracts import risk as contract
from changeledger.risk.domain import Issue, IssueState, Risk, RiskRegister
from changeledger.runtime.relay import Translations

translations = Translations()
on = translations.add


def facts(e: Any) -> dict[str, Any]:
    """The risk, its release and its rating after the event."""
    return {
        "risk_id": e.originator_id,
        "release_id": e.release_id,
        "rating": e.rating.value if e.rating else None,
    }


on(
    RiskRegister.Opened,
    lambda e: contract.RiskRegisterOpened(register_id=e.originator_id, release_id=e.release_id),
)
on(
    RiskRegister.ExposureChanged,
    lambda e: contract.RiskExposureChanged(
        release_id=e.release_id,
        open_risks=e.exposure.open_risks,
        open_issues=e.exposure.open_issues,
        highest_score=e.exposure.highest_score,
        unaccepted_critical=e.exposure.unaccepted_critical,
        register_version=e.originator_version,
    ),
)
on(
    Risk.Identified,
    lambda e: contract.RiskIdentified(
        **facts(e),
        cause=e.cause,
        event=e.event,
        effect=e.effect,
        category=e.category.value,
        owner=e.owner,
        change_id=e.change_id,
        proximity=e.proximity,
    ),
)
on(
    Risk.Assessed,
    lambda e: contract.RiskAssessed(
        **facts(e),
        inherent_likelihood=e.assessment.inherent.likelihood,
        inherent_impact=e.assessment.inherent.impact,
        residual_likelihood=e.assessment.residual.likelihood if e.assessment.residual else None,
        residual_impact=e.assessment.residual.impact if e.assessment.residual else None,
        score=e.assessment.current.value,
        assessed_by=e.assessment.assessed_by,
    ),
)
on(
    Risk.ResponseChosen,
    lambda e: contract.RiskResponseChosen(**facts(e), response=e.response.value, reason=e.reason),
)
on(
    Risk.Accepted,
    lambda e: contract.RiskAccepted(**facts(e), reason=e.reason, accepted_by=e.accepted_by),
)
on(
    Risk.MitigationAdded,
    lambda e: contract.RiskMitigationAdded(
        **facts(e),
        mitigation_id=e.mitigation.id,
        action=e.mitigation.action,
        owner=e.mitigation.owner,
        due=e.mitigation.due,
    ),
)
on(
    Risk.MitigationCompleted,
    lambda e: contract.RiskMitigationCompleted(
        **facts(e), mitigation_id=e.mitigation_id, completed_on=e.completed_on
    ),
)
on(Risk.Escalated, lambda e: contract.RiskEscalated(**facts(e), reason=e.escalation.reason))
on(Risk.Closed, lambda e: contract.RiskClosed(**facts(e), reason=e.reason))
on(Risk.Materialised, lambda e: contract.RiskMaterialised(**facts(e), issue_id=e.issue_id))

on(
    Issue.Raised,
    lambda e: contract.IssueRaised(
        issue_id=e.originator_id,
        release_id=e.release_id,
        title=e.title,
        severity=e.severity.value,
        owner=e.owner,
        change_id=e.change_id,
        risk_id=e.risk_id,
    ),
)


def _issue_status(e: Any) -> IntegrationEvent:
    ids = {"issue_id": e.originator_id, "release_id": e.release_id}
    if e.state is IssueState.RESOLVED:
        return contract.IssueResolved(**ids, resolution=e.note)
    if e.state is IssueState.CLOSED:
        return contract.IssueClosed(**ids)
    return contract.IssueStatusChanged(**ids, state=e.state.value, note=e.note)


on(Issue.StatusChanged, _issue_status)
