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

-- twin_scenarios: what-if scenarios users saved (the built-in ones live in config/twin_scenarios.toml).
create table if not exists twin_scenarios (
    name        text primary key,             -- the scenario's name (lowercase, digits, _ and -), unique
    title       text not null,                -- its title as shown on the What-if page
    body        json not null,                -- the whole validated scenario (disruptions, horizon) as JSON
    saved_by    text not null,                -- who saved it last (audit actor)
    saved_at    timestamptz not null          -- Tower's clock when it was saved last
);

-- twin_runs: stored results of twin comparisons, shared by id (a link on the What-if page).
create table if not exists twin_runs (
    run_id      text primary key,             -- short id of the run, used in shared links
    scenario    text not null,                -- the scenario's name
    body        json not null,                -- the comparison's summary (figures per response, winner) as JSON
    runs        integer not null,             -- Monte Carlo runs per response
    seed        integer not null,             -- random seed (same seed, same network: same figures)
    network_at  timestamptz not null,         -- the moment the twin's network was built as of
    created_by  text not null,                -- who ran it (audit actor)
    created_at  timestamptz not null          -- Tower's clock when it was stored
);
