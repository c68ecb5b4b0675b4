-- market_target(targets, market): the threshold that applies to one market. `targets` is a number
-- (the same everywhere) or JSON text of an object keyed by market with a "default", as alert
-- configs write per-market thresholds: { default = 0.95, GB = 0.92 }. NULL when neither is there.
create or replace macro market_target(targets, market) as (
    case
        when json_type(targets::varchar::json) = 'OBJECT' then coalesce(
            json_extract(targets::varchar::json, '$."' || coalesce(market, '') || '"'),
            json_extract(targets::varchar::json, '$.default')
        )
        else targets::varchar::json
    end
)::double;
