-- Twin nodes: the ports, airports and hubs a scenario may name. Grain: one row per node.
-- Columns: node_id, name, kind, country, status.
select node_id, name, kind, country, status from nodes order by node_id
