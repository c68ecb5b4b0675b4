-- Merchant scope: exchange rates (public numbers) so money KPIs convert as on the platform's board.
insert into fx_rates by name
select * from src.fx_rates;
