-- filter_options: the values offered in the sidebar filters, one row per (dimension, value), with a
-- human label. dimension is 'merchant' | 'channel' | 'market'; value is the id stored in the facts
-- (merchant_id, channel, ISO market code); label is the merchant's name, else the value itself.
-- Grain: one selectable value per dimension, sorted by label.
with merchant_ids as (
    select merchant_id as value from merchants
    union
    select merchant_id from orders where merchant_id is not null
),

merchant_options as (
    select 'merchant' as dimension, m.value, coalesce(nullif(trim(d.name), ''), m.value) as label
    from merchant_ids m
    left join merchants d on d.merchant_id = m.value
    where m.value is not null
),

channel_options as (
    select distinct 'channel' as dimension, channel as value, channel as label
    from orders
    where channel is not null
),

market_options as (
    select distinct 'market' as dimension, market as value, market as label
    from (select market from orders union select market from warehouses)
    where market is not null
),

final as (
    select * from merchant_options
    union all
    select * from channel_options
    union all
    select * from market_options
)

select * from final
order by dimension, label, value
