-- name: duplicate_index
-- level: warn
-- description: Two or more indexes on one table with the same method, columns, expressions, operator
--   classes, collations and predicate. Each copy slows every write and takes space.
-- remediation: DROP INDEX all but one of them (keep the one that backs a constraint, if any).
select format('%I.%I', n.nspname, c.relname) as object,
       format('indexes %s on %I.%I are identical',
              string_agg(quote_ident(ic.relname), ', ' order by ic.relname), n.nspname, c.relname) as detail
from pg_catalog.pg_index i
join pg_catalog.pg_class ic on ic.oid = i.indexrelid
join pg_catalog.pg_class c on c.oid = i.indrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(current_setting('pgconvoy.schemas')::text[])
group by n.nspname, c.relname, ic.relam, i.indkey::text, i.indclass::text, i.indcollation::text,
         pg_catalog.pg_get_expr(i.indexprs, i.indrelid), pg_catalog.pg_get_expr(i.indpred, i.indrelid)
having count(*) > 1
order by 1;
