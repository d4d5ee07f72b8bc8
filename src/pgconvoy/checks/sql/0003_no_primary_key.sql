-- name: no_primary_key
-- level: warn
-- description: A table without a primary key. Rows cannot be addressed one by one, logical replication
--   cannot replicate its updates and deletes, and a migration cannot prove a row arrived once.
-- remediation: ALTER TABLE ... ADD PRIMARY KEY (an identity column, or the natural key).
select format('%I.%I', n.nspname, c.relname) as object,
       format('table %I.%I has no primary key', n.nspname, c.relname) as detail
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
  and not c.relispartition  -- a partition takes its key from its root
  and n.nspname = any(current_setting('pgconvoy.schemas')::text[])
  and not exists (select 1 from pg_catalog.pg_constraint con where con.conrelid = c.oid and con.contype = 'p')
order by 1;
