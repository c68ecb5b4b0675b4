-- Shared table macros (shipment_state_at, stock_health_at, orders_delivered_between) were first
-- created here. They now live in the semantic layer, queries/kpi/_facts.sql, which tower/db.py
-- (re)installs at every open after the migrations: one definition, replaced in place on upgrade.
select 1;
