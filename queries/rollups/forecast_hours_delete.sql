-- Forget the forecast rollup rows of the periods $periods (all rows when $all).
delete from rollup_forecast_hours
where $all::boolean or period_start in (select unnest($periods::timestamptz[]));
