-- People who own at least one alert (for the owner filter). Grain: one row per owner.
-- Columns: owner. Params: none.
select distinct owner from alerts where owner is not null order by owner
