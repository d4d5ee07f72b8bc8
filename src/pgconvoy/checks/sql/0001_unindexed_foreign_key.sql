-- name: unindexed_foreign_key
-- level: warn
-- description: A foreign key whose columns are not the leading columns of any index. Deletes and updates
--   on the referenced table, and joins from it, scan the whole referencing table.
-- remediation: CREATE INDEX ON the referencing table (the foreign key's columns, in any order, first).
select format('%I.%I.%I', n.nspname, c.relname, con.conname) as object,
       format('foreign key %I on %I.%I (%s) has no index with those leading columns',
              con.conname, n.nspname, c.relname,
              (select string_agg(quote_ident(a.attname), ', ' order by k.ord)
               from unnest(con.conkey) with ordinality k(attnum, ord)
               join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum)) as detail
from pg_catalog.pg_constraint con
join pg_catalog.pg_class c on c.oid = con.conrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where con.contype = 'f'
  and con.conparentid = 0  -- a partition's copy is covered by its parent's index
  and n.nspname = any(current_setting('pgconvoy.schemas')::text[])
  and not exists (
      select 1
      from pg_catalog.pg_index i
      where i.indrelid = con.conrelid
        and i.indpred is null
        -- the first n key columns, as a set, are the foreign key's n columns
        and (select array_agg(k.attnum)
             from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
             where k.ord <= cardinality(con.conkey)) @> con.conkey
        and (select array_agg(k.attnum)
             from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
             where k.ord <= cardinality(con.conkey)) <@ con.conkey
  )
order by 1;
