-- Primary keys, unique, check, exclusion and foreign-key constraints of those tables.
-- NOT NULL constraints (contype 'n', stored here since PostgreSQL 18) are read as column attributes.
select con.conrelid::bigint as table_oid,
       con.conname as name,
       con.contype::text as kind,
       pg_get_constraintdef(con.oid) as definition,
       array(select a.attname
             from unnest(con.conkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
             order by k.ord) as columns,
       con.condeferrable as deferrable,
       con.condeferred as deferred,
       con.convalidated as validated,
       -- PostgreSQL 18: NOT ENFORCED constraints, temporal (WITHOUT OVERLAPS / PERIOD) keys
       coalesce((to_jsonb(con) ->> 'conenforced')::boolean, true) as enforced,
       coalesce((to_jsonb(con) ->> 'conperiod')::boolean, false) as temporal,
       (con.conparentid <> 0 or not con.conislocal) as inherited,
       fn.nspname as ref_schema,
       fc.relname as ref_table,
       array(select a.attname
             from unnest(con.confkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum
             order by k.ord) as ref_columns,
       con.confupdtype::text as on_update,
       con.confdeltype::text as on_delete,
       con.confmatchtype::text as match
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_class fc on fc.oid = con.confrelid
left join pg_namespace fn on fn.oid = fc.relnamespace
where con.contype in ('p', 'u', 'c', 'x', 'f')
  and c.relkind in ('r', 'p')
  and n.nspname = any(%(schemas)s)
order by con.conrelid, con.conname;
