-- Calls one KPI of the semantic layer. `{macro}` is the only text ever put into it: a KPI's macro
-- name, checked against the files in queries/kpi/ (queries.kpi_call); every value is bound.
-- A missing end means now; nothing after now counts (so a window in the future is cut at now).
select * from {macro}(
    coalesce($start::timestamptz, '-infinity'::timestamptz),
    least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz),
    merchant_filter := $merchant::text,
    channel_filter := $channel::text,
    market_filter := $market::text,
    warehouse_filter := $warehouse::text,
    carrier_filter := $carrier::text,
    dimension := $dimension::text,
    bucket := $bucket::text
)
