-- Save (insert or replace) a user's twin scenario. Params: $name, $title, $body, $by, $at.
insert or replace into twin_scenarios (name, title, body, saved_by, saved_at)
values ($name, $title, $body, $by, $at)
