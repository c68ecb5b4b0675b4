-- pack_fx_rates: exchange rates to the reporting currency — every row, so the pack's amounts can be
-- converted with the rate valid on their date (see the to_reporting macro in migration 008).
-- Reference data: not cut to the window or the filters.
-- grain: one row per currency × first day. returns: the columns of `fx_rates`
select *
from fx_rates
order by currency, valid_from
