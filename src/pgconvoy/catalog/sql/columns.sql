-- Columns of those tables: type, default, identity, generated expression, collation, comment, grants.
select a.attrelid::bigint as table_oid,
       a.attnum as position,
       a.attname as name,
       format_type(a.atttypid, a.atttypmod) as type,
       a.attnotnull as not_null,
       case when a.attgenerated = '' then pg_get_expr(ad.adbin, ad.adrelid) end as "default",
       case a.attidentity when 'a' then 'always' when 'd' then 'by default' end as identity,
       case when a.attgenerated <> '' then pg_get_expr(ad.adbin, ad.adrelid) end as generated,
       case a.attgenerated when 's' then 'stored' when 'v' then 'virtual' end as generated_kind,
       case when a.attcollation <> t.typcollation
            then quote_ident(cn.nspname) || '.' || quote_ident(co.collname) end as collation,
       not a.attislocal as inherited,
       col_description(a.attrelid, a.attnum) as comment,
       a.attacl::text[] as acl
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
left join pg_collation co on co.oid = a.attcollation
left join pg_namespace cn on cn.oid = co.collnamespace
where c.relkind in ('r', 'p')
  and n.nspname = any(%(schemas)s)
  and a.attnum > 0
  and not a.attisdropped
order by a.attrelid, a.attnum;
