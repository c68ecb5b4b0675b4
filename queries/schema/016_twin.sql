-- 016_twin: the digital twin's outputs (issue 14).

-- twin_thresholds: trigger thresholds the twin's decision table exported for an executable playbook (latest row per name wins).
create table if not exists twin_thresholds (
    playbook     text not null,              -- the executable playbook they are for (e.g. B-03)
    name         text not null,              -- the trigger condition, e.g. hours_to_stockout_below, demand_ratio_above
    value        double not null,            -- the threshold the decision table found
    scenario     text,                       -- the twin scenario the sweep ran under
    runs         integer,                    -- Monte Carlo runs per cell of the sweep
    computed_at  timestamptz not null,       -- Tower's clock when the sweep ran
    primary key (playbook, name, computed_at)
);
