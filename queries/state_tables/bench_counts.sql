-- Bench only: the sizes of the tables the state-table figures depend on.
select
    (select count(*) from orders) as orders,
    (select count(*) from tracking_events) as tracking_events,
    (select count(*) from stock_observations) as stock_observations,
    (select count(*) from po_progress) as po_progress;
