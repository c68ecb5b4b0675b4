"""17TRACK's package statuses and sub-statuses (API v2.4) → the AfterShip tag and subtag Tower stores
(shipments.tag / subtag, tracking_events.tag / subtag), so every KPI and alert reads a 17TRACK
parcel exactly like an AfterShip one. One table, one place: tests check every sub-status maps.

Choices where the vocabularies differ: NotFound is AfterShip's Pending; DeliveryFailure is a failed
attempt (AttemptFail) except an invalid address, which AfterShip files as Exception_007; a customs
hold waiting for information is AfterShip's customs delay (Exception_004); 17TRACK's Exception
sub-statuses go to the AfterShip exception subtags of the same meaning (returning, returned,
damaged, lost, delayed), the rest to the generic Exception_001."""
from __future__ import annotations

STATUSES = ("NotFound", "InfoReceived", "InTransit", "Expired", "AvailableForPickup", "OutForDelivery",
            "DeliveryFailure", "Delivered", "Exception")

# 17TRACK sub-status → (AfterShip tag, AfterShip subtag)
SUB_STATUS_TO_AFTERSHIP: dict[str, tuple[str, str]] = {
    "NotFound_Other": ("Pending", "Pending_001"),
    "NotFound_InvalidCode": ("Pending", "Pending_001"),
    "InfoReceived": ("InfoReceived", "InfoReceived_001"),
    "InTransit_PickedUp": ("InTransit", "InTransit_002"),
    "InTransit_Other": ("InTransit", "InTransit_001"),
    "InTransit_Departure": ("InTransit", "InTransit_007"),
    "InTransit_Arrival": ("InTransit", "InTransit_003"),
    "InTransit_CustomsProcessing": ("InTransit", "InTransit_006"),
    "InTransit_CustomsReleased": ("InTransit", "InTransit_005"),
    "InTransit_CustomsRequiringInformation": ("Exception", "Exception_004"),
    "Expired_Other": ("Expired", "Expired_001"),
    "AvailableForPickup_Other": ("AvailableForPickup", "AvailableForPickup_001"),
    "OutForDelivery_Other": ("OutForDelivery", "OutForDelivery_001"),
    "DeliveryFailure_Other": ("AttemptFail", "AttemptFail_001"),
    "DeliveryFailure_NoBody": ("AttemptFail", "AttemptFail_001"),
    "DeliveryFailure_Security": ("AttemptFail", "AttemptFail_001"),
    "DeliveryFailure_Rejected": ("AttemptFail", "AttemptFail_001"),
    "DeliveryFailure_InvalidAddress": ("Exception", "Exception_007"),
    "Delivered_Other": ("Delivered", "Delivered_001"),
    "Exception_Other": ("Exception", "Exception_001"),
    "Exception_Returning": ("Exception", "Exception_010"),
    "Exception_Returned": ("Exception", "Exception_011"),
    "Exception_NoBody": ("Exception", "Exception_001"),
    "Exception_Security": ("Exception", "Exception_001"),
    "Exception_Damage": ("Exception", "Exception_012"),
    "Exception_Rejected": ("Exception", "Exception_001"),
    "Exception_Delayed": ("Exception", "Exception_005"),
    "Exception_Lost": ("Exception", "Exception_013"),
    "Exception_Destroyed": ("Exception", "Exception_013"),
    "Exception_Cancel": ("Exception", "Exception_001"),
}

# A status alone (no or an unknown sub-status) → its generic AfterShip tag and subtag.
STATUS_TO_AFTERSHIP: dict[str, tuple[str, str]] = {
    "NotFound": ("Pending", "Pending_001"),
    "InfoReceived": ("InfoReceived", "InfoReceived_001"),
    "InTransit": ("InTransit", "InTransit_001"),
    "Expired": ("Expired", "Expired_001"),
    "AvailableForPickup": ("AvailableForPickup", "AvailableForPickup_001"),
    "OutForDelivery": ("OutForDelivery", "OutForDelivery_001"),
    "DeliveryFailure": ("AttemptFail", "AttemptFail_001"),
    "Delivered": ("Delivered", "Delivered_001"),
    "Exception": ("Exception", "Exception_001"),
}


def to_aftership(status: str | None, sub_status: str | None) -> tuple[str, str]:
    """(tag, subtag) for a 17TRACK status and sub-status; an unknown one keeps to its status, and an
    unknown status is InTransit_001 (moving, nothing more known) rather than a guess at trouble."""
    if sub_status in SUB_STATUS_TO_AFTERSHIP:
        return SUB_STATUS_TO_AFTERSHIP[sub_status]
    return STATUS_TO_AFTERSHIP.get(status or "", ("InTransit", "InTransit_001"))
