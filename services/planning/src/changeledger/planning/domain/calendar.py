"""The deployment calendar: freeze windows, and the deployment windows booked in it.

One calendar guards the rules that span releases and changes: nothing but an emergency
change is scheduled into a freeze window, and two releases that touch the same CI never
have overlapping windows. Keeping the bookings in one aggregate makes the check and the
booking one atomic step: two concurrent bookings cannot both pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from changeledger.planning.domain.values import Window
from changeledger.runtime.domain import Aggregate, InvalidValue, RuleViolated

CALENDAR_ID = uuid5(NAMESPACE_URL, "urn:changeledger:planning:deployment-calendar")


@dataclass(frozen=True)
class FreezeWindow:
    id: UUID
    name: str
    window: Window
    reason: str


@dataclass(frozen=True)
class Booking:
    release_id: UUID
    window: Window
    cis: tuple[str, ...]


class DeploymentCalendar(Aggregate):
    class Opened(Aggregate.Created):
        pass

    @staticmethod
    def create_id() -> UUID:
        return CALENDAR_ID

    @event(Opened)
    def __init__(self) -> None:
        self.freezes: list[FreezeWindow] = []
        self.bookings: list[Booking] = []

    class FreezeDeclared(Aggregate.Event):
        freeze: FreezeWindow

    def declare_freeze(self, freeze: FreezeWindow) -> None:
        if not freeze.name.strip():
            raise InvalidValue("a freeze window needs a name", rule="freeze-name")
        self._freeze_declared(freeze)

    @event(FreezeDeclared)
    def _freeze_declared(self, freeze: FreezeWindow) -> None:
        self.freezes.append(freeze)

    def check_window(self, window: Window, *, emergency: bool = False) -> None:
        """Refuse a window inside a freeze, unless it is for an emergency change."""
        if emergency:
            return
        for freeze in self.freezes:
            if freeze.window.overlaps(window):
                raise RuleViolated(
                    f"{window} falls in the freeze window {freeze.name!r} ({freeze.window})",
                    rule="freeze-window",
                    freeze_window_id=str(freeze.id),
                    freeze_window=freeze.name,
                )

    class ReleaseBooked(Aggregate.Event):
        booking: Booking

    def book(self, booking: Booking) -> None:
        self.check_window(booking.window)
        for other in self.bookings:
            if other.release_id == booking.release_id or not other.window.overlaps(booking.window):
                continue
            shared = sorted(set(other.cis) & set(booking.cis))
            if shared:
                raise RuleViolated(
                    f"release {other.release_id} touches {', '.join(shared)} in an overlapping "
                    f"window ({other.window})",
                    rule="release-conflict",
                    conflicting_release_id=str(other.release_id),
                    shared_cis=shared,
                )
        self._release_booked(booking)

    @event(ReleaseBooked)
    def _release_booked(self, booking: Booking) -> None:
        self.bookings = [b for b in self.bookings if b.release_id != booking.release_id]
        self.bookings.append(booking)

    class BookingCancelled(Aggregate.Event):
        release_id: UUID

    def cancel_booking(self, release_id: UUID) -> None:
        if any(b.release_id == release_id for b in self.bookings):
            self._booking_cancelled(release_id)

    @event(BookingCancelled)
    def _booking_cancelled(self, release_id: UUID) -> None:
        self.bookings = [b for b in self.bookings if b.release_id != release_id]
