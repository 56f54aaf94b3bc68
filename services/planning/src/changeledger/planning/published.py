"""Planning's domain events as the contract events other services see.

Domain events not listed here (budget requests, benefits recorded, spend, what planning
learns from risk) stay inside the service.
"""

from __future__ import annotations

from changeledger.contracts import planning as contract
from changeledger.planning.domain import ChangeRequest, DeploymentCalendar, Release, Window
from changeledger.runtime.relay import Translations

translations = Translations()
on = translations.add


def window(w: Window) -> contract.Window:
    return contract.Window(start=w.start, end=w.end)


# Releases

on(
    Release.Planned,
    lambda e: contract.ReleasePlanned(
        release_id=e.originator_id,
        name=e.name,
        owner=e.owner,
        priority=e.priority.value,
        target_start=e.target.start,
        target_end=e.target.end,
    ),
)
on(
    Release.Scheduled,
    lambda e: contract.ReleaseScheduled(
        release_id=e.originator_id, window=window(e.window), cis=list(e.cis)
    ),
)
on(
    Release.PutOnHold,
    lambda e: contract.ReleasePutOnHold(release_id=e.originator_id, reason=e.reason),
)
on(Release.Resumed, lambda e: contract.ReleaseResumed(release_id=e.originator_id))
on(
    Release.Cancelled,
    lambda e: contract.ReleaseCancelled(release_id=e.originator_id, reason=e.reason),
)
on(Release.Started, lambda e: contract.ReleaseStarted(release_id=e.originator_id))
on(Release.Deployed, lambda e: contract.ReleaseDeployed(release_id=e.originator_id))
on(Release.Closed, lambda e: contract.ReleaseClosed(release_id=e.originator_id))
on(
    Release.CiVersionPlanned,
    lambda e: contract.ReleaseCiVersionPlanned(
        release_id=e.originator_id, ci=e.ci, ci_version=e.version
    ),
)
on(
    Release.WorkItemAdded,
    lambda e: contract.ReleaseScopeChanged(
        release_id=e.originator_id,
        action="added",
        item_id=e.item.id,
        title=e.item.title,
        position=e.position,
        change_id=e.change_id,
    ),
)
on(
    Release.WorkItemRemoved,
    lambda e: contract.ReleaseScopeChanged(
        release_id=e.originator_id, action="removed", item_id=e.item_id, change_id=e.change_id
    ),
)
on(
    Release.WorkItemMoved,
    lambda e: contract.ReleaseScopeChanged(
        release_id=e.originator_id, action="moved", item_id=e.item_id, position=e.position
    ),
)
on(
    Release.ResourcesAllocated,
    lambda e: contract.ReleaseResourcesAllocated(
        release_id=e.originator_id,
        allocation_id=e.allocation.id,
        person=e.allocation.person,
        role=e.allocation.role,
        effort_days=e.allocation.effort_days,
        period_start=e.allocation.period.start,
        period_end=e.allocation.period.end,
    ),
)
on(
    Release.BudgetAllocated,
    lambda e: contract.ReleaseBudgetAllocated(
        release_id=e.originator_id,
        amount=contract.Money(amount=e.amount.amount, currency=e.amount.currency),
    ),
)
on(
    Release.BenefitsAssessed,
    lambda e: contract.ReleaseBenefitsAssessed(
        release_id=e.originator_id,
        assessor=e.assessment.assessor,
        outcome=e.assessment.outcome.value,
        reason=e.assessment.reason,
    ),
)
on(
    Release.BenefitRealised,
    lambda e: contract.ReleaseBenefitsRealised(
        release_id=e.originator_id,
        benefit_id=e.benefit_id,
        actual=e.actual,
        measured_on=e.measured_on,
    ),
)

# Change requests

on(
    ChangeRequest.Raised,
    lambda e: contract.ChangeRaised(
        change_id=e.originator_id,
        type=e.type.value,
        category=e.category.value,
        title=e.title,
        affected_cis=list(e.affected_cis),
        target_release_id=e.target_release_id,
        impact=e.impact.value,
        urgency=e.urgency.value,
        requested_by=e.requested_by,
    ),
)
on(
    ChangeRequest.Assessed,
    lambda e: contract.ChangeAssessed(
        change_id=e.originator_id,
        assessor=e.assessment.assessor,
        risk=e.assessment.risk.value,
        notes=e.assessment.notes,
    ),
)
on(
    ChangeRequest.Authorised,
    lambda e: contract.ChangeAuthorised(
        change_id=e.originator_id,
        decided_by=e.decision.decided_by,
        decided_at=e.decision.decided_at,
        reason=e.decision.reason,
        ci_scope=list(e.ci_scope),
        window=window(e.window),
    ),
)
on(
    ChangeRequest.Rejected,
    lambda e: contract.ChangeRejected(
        change_id=e.originator_id, decided_by=e.decision.decided_by, reason=e.decision.reason
    ),
)
on(
    ChangeRequest.Scheduled,
    lambda e: contract.ChangeScheduled(change_id=e.originator_id, window=window(e.window)),
)
on(
    ChangeRequest.ImplementationStarted,
    lambda e: contract.ChangeImplementing(change_id=e.originator_id),
)
on(
    ChangeRequest.Reviewed,
    lambda e: contract.ChangeReviewed(
        change_id=e.originator_id, outcome=e.outcome.value, notes=e.notes
    ),
)
on(ChangeRequest.Closed, lambda e: contract.ChangeClosed(change_id=e.originator_id))
on(
    ChangeRequest.Cancelled,
    lambda e: contract.ChangeCancelled(change_id=e.originator_id, reason=e.reason),
)

# Freeze windows

on(
    DeploymentCalendar.FreezeDeclared,
    lambda e: contract.FreezeWindowCreated(
        freeze_window_id=e.freeze.id,
        name=e.freeze.name,
        window=window(e.freeze.window),
        reason=e.freeze.reason,
    ),
)
