-- Merchant scope: the history of the alerts copied above.
insert into alert_log by name
select * from src.alert_log where alert_id in (select alert_id from alerts);
