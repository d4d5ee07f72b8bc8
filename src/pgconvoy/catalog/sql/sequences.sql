-- Sequences with their owning column (positions are read by one composed query, see _sequences()).
select c.oid::bigint as oid,
       n.nspname as schema,
       c.relname as name,
       dn.nspname as owner_schema,
       dc.relname as owner_table,
       da.attname as owner_column
from pg_sequence s
join pg_class c on c.oid = s.seqrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = c.oid
                     and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
left join pg_class dc on dc.oid = d.refobjid
left join pg_namespace dn on dn.oid = dc.relnamespace
left join pg_attribute da on da.attrelid = d.refobjid and da.attnum = d.refobjsubid
where n.nspname = any(%(schemas)s)
  and not exists (select 1 from pg_depend e
                  where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
order by n.nspname, c.relname;
