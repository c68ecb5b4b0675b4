-- 008_csat_fx: post-delivery CSAT answers, exchange rates to one reporting currency, and the
-- currency of every money column that can be in another currency.
-- csat_responses: one row per answer to the post-delivery CSAT survey (a Delighted CSAT project,
--   source kind "csat"). CSAT = share of answers scoring 4 or 5, in percent.
-- fx_rates: exchange rates to the reporting currency (USD), loaded from config/fx_rates.csv by the
--   fx_rates source; the table always equals the file (rows removed from the file are removed here).
--   Convention: amount_in_usd = amount × rate_to_reporting of the amount's currency, taking the rate
--   row with the latest valid_from on or before the amount's date; see the to_reporting macro.

create table if not exists csat_responses (
    response_id  text primary key,           -- Delighted survey response id
    order_id     text,                       -- the delivered order the survey was about (Shopify order id)
    merchant_id  text,                       -- shop handle of the order
    market       text,                       -- the customer's country (ISO 3166-1 alpha-2)
    score        integer,                    -- 1–5 (4 or 5 counts as satisfied)
    comment      text,                       -- free-text answer, NULL when left empty
    created_at   timestamptz,                -- when the customer answered (UTC)
    updated_at   timestamptz                 -- last change of the answer in Delighted (UTC)
);

create table if not exists fx_rates (
    currency            text,                -- ISO 4217 code of the foreign currency, e.g. EUR
    valid_from          date,                -- first day the rate applies (until the next row's date)
    rate_to_reporting   decimal(18, 8),      -- units of the reporting currency for one unit of `currency`
    reporting_currency  text,                -- the currency rates convert to (USD)
    primary key (currency, valid_from)
);

-- Money columns and their currency: orders.total_price, orders.shipping_cost and order_lines.price
-- are in orders.currency (the shop's currency); skus and purchase_orders now say theirs.
alter table skus add column if not exists currency text;            -- ISO 4217 code of unit_cost, unit_price
alter table purchase_orders add column if not exists currency text; -- ISO 4217 code of unit_cost (invoice)

-- to_reporting(amount, currency_code, at_ts): `amount` in `currency_code` converted to the reporting
--   currency at the rate valid on at_ts's date (the row with the latest valid_from ≤ that date; an
--   amount older than every row uses the earliest rate). NULL when the currency has no rate or is
--   NULL, so a missing rate shows as missing instead of being silently counted at 1:1.
--   Example: to_reporting(o.shipping_cost, o.currency, o.created_at).
create or replace macro to_reporting(amount, currency_code, at_ts) as (
    amount * (
        select coalesce(
            arg_max(fx.rate_to_reporting, fx.valid_from) filter (where fx.valid_from <= cast(at_ts as date)),
            arg_min(fx.rate_to_reporting, fx.valid_from)
        )
        from fx_rates as fx
        where fx.currency = upper(currency_code)
    )
);
