-- Indexes of those tables; `inherited` marks a partition's index attached to its parent's index.
select i.indrelid::bigint as table_oid,
       ic.relname as name,
       pg_get_indexdef(i.indexrelid) as definition,
       array(select a.attname
             from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
             left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum and k.attnum > 0
             where k.ord <= i.indnkeyatts
             order by k.ord) as columns,
       i.indisunique as "unique",
       i.indisprimary as "primary",
       (select con.conname from pg_constraint con
        where con.conindid = i.indexrelid and con.conrelid = i.indrelid
          and con.contype in ('p', 'u', 'x')) as "constraint",
       pg_get_expr(i.indpred, i.indrelid) as predicate,
       i.indisvalid as valid,
       am.amname as method,
       exists (select 1 from pg_inherits h where h.inhrelid = i.indexrelid) as inherited
from pg_index i
join pg_class ic on ic.oid = i.indexrelid
join pg_class c on c.oid = i.indrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_am am on am.oid = ic.relam
where c.relkind in ('r', 'p')
  and n.nspname = any(%(schemas)s)
order by i.indrelid, ic.relname;
