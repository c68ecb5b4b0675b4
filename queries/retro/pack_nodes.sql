-- pack_nodes: ports, airports and hubs with their current status, so the pack explains its own ids.
-- Reference data: not cut to the window or the filters.
-- grain: one row per node. returns: the columns of `nodes`
select *
from nodes
order by node_id
