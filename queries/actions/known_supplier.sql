-- Whether a supplier is known to the supplier portal.
select count(*) > 0 from suppliers where supplier_id = $id
