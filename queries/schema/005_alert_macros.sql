-- Scalar macros the alert rules share: per-market thresholds, and how sure a rate is.

-- market_target(targets, market): the threshold that applies to one market. `targets` is a number
-- (the same everywhere) or JSON text of an object keyed by market with a "default", as alert
-- configs write per-market thresholds: { default = 0.95, GB = 0.92 }. NULL when neither is there.
create or replace macro market_target(targets, market) as (
    case
        when json_type(targets::varchar::json) = 'OBJECT' then coalesce(
            json_extract(targets::varchar::json, '$."' || coalesce(market, '') || '"'),
            json_extract(targets::varchar::json, '$.default')
        )
        else targets::varchar::json
    end
)::double;

-- wilson_upper / wilson_lower(rate, n, z): the Wilson score interval of a rate seen in n trials,
-- (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n). A rule alerts on a rate only when the whole
-- interval is past the target, so a small sample's bad hour is not an alert.
create or replace macro wilson_upper(rate, n, z) as
    (rate + z * z / (2 * n) + z * sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))) / (1 + z * z / n);

create or replace macro wilson_lower(rate, n, z) as
    (rate + z * z / (2 * n) - z * sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))) / (1 + z * z / n);

-- nps_upper(promoters, detractors, n, z): NPS (points) plus z standard errors. Each answer scores
-- +1 / 0 / −1, so the variance is (p⁺ + p⁻) − (p⁺ − p⁻)² with shares p⁺, p⁻ of the n answers.
create or replace macro nps_upper(promoters, detractors, n, z) as
    100 * ((promoters - detractors) / n
           + z * sqrt(((promoters + detractors) / n - power((promoters - detractors) / n, 2)) / n));
