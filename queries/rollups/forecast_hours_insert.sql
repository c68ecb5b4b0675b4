-- rollup_forecast_hours for the periods $periods (every period when $all): forecast units summed
-- over the SKUs per period and market.
insert into rollup_forecast_hours
select period_start, market, sum(units)
from forecasts
where period_start is not null and ($all::boolean or period_start in (select unnest($periods::timestamptz[])))
group by all;
