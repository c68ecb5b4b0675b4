-- 013_ocean_events: the ocean leg of inbound containers from a carrier's DCSA Track & Trace 2.2
-- events (source kind "dcsa"), and every vessel arrival estimate as it was announced.
-- ocean_events: one row per DCSA event (SHIPMENT, TRANSPORT or EQUIPMENT), stored once by eventID and
--   never changed afterwards (a carrier corrects by sending a new event).
-- vessel_eta_history: one row per announced arrival of a container's vessel at a port call (the
--   TRANSPORT ARRI events: PLN plan, EST estimate, ACT actual). Never overwritten, so "the ETA known
--   at time t" is the latest row announced by t (eta_known_at).

create table if not exists ocean_events (
    event_id                  text primary key, -- DCSA eventID (UUID)
    event_type                text,             -- SHIPMENT | TRANSPORT | EQUIPMENT
    event_classifier          text,             -- PLN planned | EST estimated | ACT actual
    event_created_at          timestamptz,      -- DCSA eventCreatedDateTime: when the carrier recorded the event (UTC)
    event_at                  timestamptz,      -- DCSA eventDateTime: when it happens or happened (UTC)
    event_code                text,             -- ARRI/DEPA (transport), LOAD/DISC/GTIN/GTOT… (equipment), CONF/RELS… (shipment)
    equipment_reference       text,             -- container number the event is about (equipmentReference or an EQ reference)
    booking_reference         text,             -- carrier booking reference (BKG document reference)
    transport_document_reference text,          -- bill of lading number (TRD document reference)
    po_reference              text,             -- purchase order number from the event's PO reference
    un_location_code          text,             -- UN/LOCODE of the port call or event location
    location_name             text,             -- name of the event's location, e.g. the terminal
    lat                       double,           -- latitude of the event's location (sent as a string, WGS 84)
    lon                       double,           -- longitude of the event's location (sent as a string, WGS 84)
    vessel_name               text,             -- vessel of the transport call
    vessel_imo                text,             -- IMO number of that vessel
    delay_reason_code         text,             -- SMDG delay reason code, when the carrier gave one
    document_type_code        text,             -- shipment events: the document concerned (BKG, CUS, TRD …)
    empty_indicator           text,             -- equipment events: LADEN | EMPTY
    fetched_at                timestamptz       -- when Tower stored the event (UTC)
);

create table if not exists vessel_eta_history (
    event_id             text primary key,     -- DCSA eventID of the ARRI event that announced this arrival
    equipment_reference  text,                 -- the container on board
    booking_reference    text,                 -- carrier booking reference of the shipment
    po_reference         text,                 -- purchase order the container carries
    un_location_code     text,                 -- the port call (UN/LOCODE) the arrival is for
    vessel_name          text,                 -- vessel announced
    classifier           text,                 -- PLN planned | EST estimated | ACT actual arrival
    announced_at         timestamptz,          -- eventCreatedDateTime: when the carrier announced it (UTC)
    eta                  timestamptz           -- eventDateTime: the announced (or actual) arrival (UTC)
);

-- eta_known_at(at_ts): per container and port call, the vessel arrival as known at at_ts — the latest
--   announcement made by then — with the first one ever announced, so the slip shows.
-- Columns: equipment_reference, booking_reference, po_reference, un_location_code, vessel_name,
--   classifier, announced_at, eta, first_eta, slip_hours (eta − first_eta), announcements, arrived
--   (an ACT arrival was known by at_ts).
create or replace macro eta_known_at(at_ts) as table
select
    equipment_reference,
    arg_max(booking_reference, announced_at) as booking_reference,
    arg_max(po_reference, announced_at) as po_reference,
    un_location_code,
    arg_max(vessel_name, announced_at) as vessel_name,
    arg_max(classifier, (announced_at, classifier = 'ACT')) as classifier,
    max(announced_at) as announced_at,
    arg_max(eta, (announced_at, classifier = 'ACT')) as eta,
    arg_min(eta, announced_at) as first_eta,
    epoch(arg_max(eta, (announced_at, classifier = 'ACT')) - arg_min(eta, announced_at)) / 3600 as slip_hours,
    count(*) as announcements,
    bool_or(classifier = 'ACT') as arrived
from vessel_eta_history
where announced_at <= at_ts
group by equipment_reference, un_location_code;
