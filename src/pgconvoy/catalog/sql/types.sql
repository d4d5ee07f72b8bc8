-- User-defined enum, domain, composite and range types that no extension owns.
select n.nspname as schema,
       t.typname as name,
       case t.typtype when 'e' then 'enum' when 'd' then 'domain'
                      when 'c' then 'composite' else 'range' end as kind,
       case when t.typtype = 'e'
            then array(select e.enumlabel from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder)
       end as labels,
       case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod)
            when t.typtype = 'r' then (select format_type(r.rngsubtype, null) from pg_range r
                                       where r.rngtypid = t.oid)
       end as base_type,
       t.typnotnull as not_null,
       t.typdefault as "default",
       coalesce((select jsonb_agg(jsonb_build_array(con.conname, pg_get_constraintdef(con.oid))
                                  order by con.conname)
                 from pg_constraint con where con.contypid = t.oid and con.contype = 'c'), '[]') as checks,
       coalesce((select jsonb_agg(jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                                  order by a.attnum)
                 from pg_attribute a
                 where t.typtype = 'c' and a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped),
                '[]') as attributes,
       obj_description(t.oid, 'pg_type') as comment
from pg_type t
join pg_namespace n on n.oid = t.typnamespace
where n.nspname = any(%(schemas)s)
  and (t.typtype in ('e', 'd', 'r')
       or (t.typtype = 'c' and (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c'))
  and not exists (select 1 from pg_depend e
                  where e.classid = 'pg_type'::regclass and e.objid = t.oid and e.deptype = 'e')
order by n.nspname, t.typname;
