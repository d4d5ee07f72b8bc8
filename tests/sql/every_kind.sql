-- One object of every kind pg_dump's archive has an entry type for (PostgreSQL 15 and later), written
-- for pgconvoy's fidelity round trip; the PostgreSQL 18 additions are in every_kind_pg18.sql.
-- Run as a superuser on an empty database (after the Supabase stand-in: it uses anon/authenticated).
-- Provenance: written for this repository from the PostgreSQL documentation of each CREATE command and
-- the entry types of src/bin/pg_dump/pg_dump.c; no third-party text. Licence: the project's (MIT).
--
-- Kinds: SCHEMA, EXTENSION, SHELL TYPE + base TYPE, enum/composite/range (subtype_diff, collation,
-- over a domain) TYPE, DOMAIN (CHECK calling a function, NOT NULL, DEFAULT), FUNCTION, PROCEDURE,
-- AGGREGATE, OPERATOR, OPERATOR FAMILY, OPERATOR CLASS, CAST, COLLATION, CONVERSION, TRANSFORM,
-- PROCEDURAL LANGUAGE, ACCESS METHOD (table), TEXT SEARCH PARSER / TEMPLATE / DICTIONARY /
-- CONFIGURATION, FOREIGN DATA WRAPPER, SERVER, USER MAPPING, FOREIGN TABLE, DEFAULT ACL, TABLE
-- (typed, inheritance, partitioned with local NOT NULL and defaults, zero-column, unlogged, custom AM,
-- storage/compression, reloptions, replica identity), SEQUENCE (OWNED BY, unlogged), DEFAULT, CHECK
-- CONSTRAINT, CONSTRAINT (UNIQUE duplicating the PK, EXCLUDE), FK CONSTRAINT, INDEX (on a matview,
-- CLUSTER ON, invalid partitioned index), INDEX ATTACH, TABLE ATTACH, STATISTICS, TRIGGER (enable state
-- on a partition), EVENT TRIGGER, RULE, POLICY, ROW SECURITY, PUBLICATION (TABLE, TABLES IN SCHEMA),
-- VIEW, MATERIALIZED VIEW (populated and not), COMMENT (on constraints too), ACL (owner-only SECURITY
-- DEFINER function, column grants, grant options), large objects with comment and grant; objects
-- owned by another role (kinds_owner) than the one loading it.

do $$ begin
  if not exists (select from pg_roles where rolname = 'kinds_owner') then create role kinds_owner nologin; end if;
end $$;
create schema kinds;
comment on schema kinds is 'Every object kind';
grant usage on schema kinds to anon;
create schema kinds_pub authorization kinds_owner;

create extension if not exists hstore with schema kinds;

-- Base type through its shell type: input/output functions in the internal language.
create type kinds.int4alias;
create function kinds.int4alias_in(cstring) returns kinds.int4alias language internal immutable strict as 'int4in';
create function kinds.int4alias_out(kinds.int4alias) returns cstring language internal immutable strict as 'int4out';
create type kinds.int4alias (input = kinds.int4alias_in, output = kinds.int4alias_out, like = integer,
                             category = 'N', preferred = false);
comment on type kinds.int4alias is 'A base type';

create type kinds.mood as enum ('sad', 'ok', 'happy');
create type kinds.pair as (a integer, b text);
create collation kinds.c_copy from "C";
create type kinds.floatrange as range (subtype = float8, subtype_diff = float8mi);
create type kinds.textrange_c as range (subtype = text, collation = kinds.c_copy);

-- A domain whose CHECK calls a function, and a range over a domain.
create function kinds.is_even(integer) returns boolean language sql immutable as $$ select $1 % 2 = 0 $$;
create domain kinds.even_int as integer not null default 0 constraint even_int_check check (kinds.is_even(value));
comment on constraint even_int_check on domain kinds.even_int is 'Only even numbers';
create domain kinds.positive_numeric as numeric check (value > 0);
create type kinds.positive_range as range (subtype = kinds.positive_numeric);

create function kinds.add_one(integer) returns integer language sql immutable strict
    return $1 + 1;
alter function kinds.add_one(integer) owner to kinds_owner;
create procedure kinds.noop(in p integer) language plpgsql as $$ begin perform p; end $$;
create function kinds.sum_state(integer, integer) returns integer language sql immutable as $$ select $1 + $2 $$;
create aggregate kinds.my_sum(integer) (sfunc = kinds.sum_state, stype = integer, initcond = '0');
comment on aggregate kinds.my_sum(integer) is 'A sum';

-- Operator, operator family and class (a reversed integer order).
create function kinds.rev_cmp(integer, integer) returns integer language sql immutable strict
    as $$ select btint4cmp($2, $1) $$;
create operator kinds.=== (leftarg = integer, rightarg = integer, function = int4eq, commutator = operator(kinds.===));
create operator family kinds.rev_int_ops using btree;
create operator class kinds.rev_int_ops for type integer using btree family kinds.rev_int_ops as
    operator 1 >, operator 2 >=, operator 3 =, operator 4 <=, operator 5 <, function 1 kinds.rev_cmp(integer, integer);

create function kinds.mood_rank(kinds.mood) returns integer language sql immutable strict
    as $$ select array_position(enum_range(null::kinds.mood), $1) $$;
create cast (kinds.mood as integer) with function kinds.mood_rank(kinds.mood);
create conversion kinds.latin1_to_utf8 for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;

-- A procedural language and a transform (their handlers are PostgreSQL's own C functions).
create function kinds.plsample_handler() returns language_handler language c as '$libdir/plpgsql', 'plpgsql_call_handler';
create language plsample handler kinds.plsample_handler;
comment on language plsample is 'A second PL/pgSQL';
create function kinds.hstore_from_sql(internal) returns internal language internal immutable strict as 'int4recv';
create function kinds.hstore_to_sql(internal) returns kinds.hstore language internal immutable strict as 'int4recv';
create transform for kinds.hstore language plsample (
    from sql with function kinds.hstore_from_sql(internal), to sql with function kinds.hstore_to_sql(internal));

create access method heap_copy type table handler heap_tableam_handler;
comment on access method heap_copy is 'The heap, under another name';

create text search parser kinds.default_copy (start = prsd_start, gettoken = prsd_nexttoken, end = prsd_end,
                                              lextypes = prsd_lextype, headline = prsd_headline);
create text search template kinds.simple_copy (init = dsimple_init, lexize = dsimple_lexize);
create text search dictionary kinds.english_stop (template = kinds.simple_copy, stopwords = english);
create text search configuration kinds.english_copy (parser = kinds.default_copy);
alter text search configuration kinds.english_copy add mapping for word, asciiword with kinds.english_stop;
comment on text search configuration kinds.english_copy is 'Words, stop words removed';

create foreign data wrapper kinds_fdw options (debug 'true');
create server kinds_server foreign data wrapper kinds_fdw options (host 'nowhere.invalid');
create user mapping for public server kinds_server options (user 'remote');
create foreign table kinds.remote_things (id integer not null, label text options (column_name 'name'))
    server kinds_server options (table_name 'things');
comment on foreign table kinds.remote_things is 'Lives elsewhere: no rows travel';
grant usage on foreign server kinds_server to authenticated;

-- Default privileges: database-wide and per schema, granting and revoking.
alter default privileges grant execute on functions to authenticated;
alter default privileges in schema kinds grant select on tables to anon;
alter default privileges in schema kinds revoke execute on functions from public;

-- Tables.
create table kinds.things (
    id integer primary key,
    code text collate kinds.c_copy not null,
    amount kinds.even_int,
    feeling kinds.mood default 'ok',
    attrs kinds.hstore,
    alias kinds.int4alias,
    span kinds.floatrange,
    body text,
    doc text,
    constraint things_code_check check (length(code) > 0)
) with (fillfactor = 70, autovacuum_enabled = false, toast.autovacuum_enabled = false);
-- A UNIQUE on the primary key's columns, added afterwards as migrations do (inline, PostgreSQL merges them).
alter table kinds.things add constraint things_id_key unique (id);
comment on constraint things_code_check on kinds.things is 'Codes are never empty';
comment on constraint things_pkey on kinds.things is 'The key';
alter table kinds.things alter column body set storage external;
alter table kinds.things alter column doc set compression pglz;
alter table kinds.things alter column doc set (n_distinct = 100);
alter table kinds.things alter column code set statistics 500;
alter table kinds.things replica identity using index things_id_key;
create index things_code_idx on kinds.things (code collate kinds.c_copy) with (fillfactor = 80);
alter table kinds.things cluster on things_code_idx;
create index things_rev_idx on kinds.things (amount kinds.rev_int_ops);
create statistics kinds.things_stats (dependencies, ndistinct) on id, code from kinds.things;
alter statistics kinds.things_stats set statistics 200;
comment on statistics kinds.things_stats is 'id and code move together';
grant select, insert on kinds.things to authenticated with grant option;
grant select (code, feeling) on kinds.things to anon;
grant update (body) on kinds.things to authenticated;

-- Owner-only SECURITY DEFINER function.
create function kinds.secret_count() returns bigint language sql stable security definer
    set search_path = ''
    as $$ select count(*) from kinds.things $$;
revoke all on function kinds.secret_count() from public;
revoke all on function kinds.secret_count() from authenticated;
create function kinds.public_count() returns bigint language sql stable as $$ select count(*) from kinds.things $$;
grant execute on function kinds.public_count() to anon;

-- Typed table, inheritance, zero-column table, custom access method, unlogged, an exclusion constraint.
create table kinds.pairs of kinds.pair (primary key (a), b with options default 'none');
create table kinds.base_events (id integer not null, at timestamptz default now(), note text);
create table kinds.child_events (extra text) inherits (kinds.base_events);
alter table kinds.child_events alter column note set not null;
create table kinds.markers ();
create table kinds.heap_things (id integer, label text) using heap_copy;
create unlogged table kinds.scratch (id integer primary key, data jsonb);
create table kinds.bookings (room integer, during tstzrange, exclude using gist (during with &&));
create sequence kinds.ticket_seq as bigint start 100 increment 7 maxvalue 100000 cache 3 cycle;
alter sequence kinds.ticket_seq owned by kinds.bookings.room;
create unlogged sequence kinds.scratch_seq;
alter table kinds.scratch alter column id set default nextval('kinds.scratch_seq');

-- Partitioned table: a partition with its own NOT NULL and default, a default partition, a
-- sub-partitioned one, an index on ONLY the parent (invalid until attached), triggers on the parent
-- with one disabled on a partition.
create table kinds.readings (
    id bigint generated always as identity,
    taken_on date not null,
    sensor text,
    value numeric,
    primary key (id, taken_on)
) partition by range (taken_on);
create table kinds.readings_2025 partition of kinds.readings (sensor not null, value default 0)
    for values from ('2025-01-01') to ('2026-01-01');
create table kinds.readings_rest partition of kinds.readings default partition by list (taken_on);
create table kinds.readings_rest_a partition of kinds.readings_rest for values in ('2027-01-01');
create index readings_sensor_idx on only kinds.readings (sensor);
create index readings_value_idx on kinds.readings (value);
create function kinds.touch() returns trigger language plpgsql as $$ begin new.value := coalesce(new.value, 1); return new; end $$;
create trigger readings_touch before insert on kinds.readings for each row execute function kinds.touch();
alter table kinds.readings_2025 disable trigger readings_touch;
create function kinds.log_change() returns trigger language plpgsql as $$ begin return null; end $$;
create trigger things_log after insert or update on kinds.things for each statement execute function kinds.log_change();
create trigger things_replica after delete on kinds.things for each row execute function kinds.log_change();
alter table kinds.things enable replica trigger things_replica;
comment on trigger things_log on kinds.things is 'Statement-level log';

-- Foreign keys: to the table's own UNIQUE, across schemas, to an inheritance parent's key holder.
create table kinds.thing_notes (
    id integer primary key,
    thing_id integer not null references kinds.things (id) on delete cascade,
    parent_note integer references kinds.thing_notes (id) deferrable initially deferred,
    note text
);
create table kinds_pub.mirrors (id integer primary key, thing_id integer references kinds.things (id) match full);

-- Rules, including one that would redirect the load if it existed during it.
create table kinds.audit (id integer, what text);
alter table kinds.audit owner to kinds_owner;
create rule audit_no_delete as on delete to kinds.audit do instead nothing;
create rule things_notify as on update to kinds.things do also notify things_changed;
comment on rule audit_no_delete on kinds.audit is 'Audit rows stay';

-- Row-level security.
alter table kinds.thing_notes enable row level security;
alter table kinds.thing_notes force row level security;
create policy notes_read on kinds.thing_notes for select to anon using (note is not null);
create policy notes_write on kinds.thing_notes as restrictive for insert to authenticated with check (id > 0);
comment on policy notes_read on kinds.thing_notes is 'Anyone reads notes with text';

-- Views and materialized views (one populated with an index, one never refreshed).
create view kinds.thing_summary with (security_barrier = true) as
    select t.id, t.code, kinds.my_sum(n.id) as note_sum from kinds.things t left join kinds.thing_notes n on n.thing_id = t.id
    group by t.id, t.code;
create view kinds.even_things as select * from kinds.things where amount > 0 with local check option;
create materialized view kinds.thing_counts as select code, count(*) as n from kinds.things group by code;
create unique index thing_counts_code_idx on kinds.thing_counts (code);
alter materialized view kinds.thing_counts cluster on thing_counts_code_idx;
create materialized view kinds.later_counts as select count(*) as n from kinds.thing_notes with no data;
comment on materialized view kinds.thing_counts is 'Counts per code';
grant select on kinds.thing_summary to anon;
create function kinds.summary_insert() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger thing_summary_insert instead of insert on kinds.thing_summary for each row execute function kinds.summary_insert();

-- Publications and an event trigger (created last by the migration: it would fire on its DDL).
create publication kinds_things for table kinds.things (id, code) where (id > 0), kinds.thing_notes;
create publication kinds_schema for tables in schema kinds_pub with (publish = 'insert');
create function kinds.on_ddl() returns event_trigger language plpgsql as $$ begin null; end $$;
create event trigger kinds_ddl on ddl_command_end when tag in ('CREATE TABLE') execute function kinds.on_ddl();
comment on event trigger kinds_ddl is 'Watches table creation';

-- Large objects, with a comment and a grant.
select pg_catalog.lo_from_bytea(4242001, '\x68656c6c6f'::bytea);
select pg_catalog.lo_from_bytea(4242002, ''::bytea);
comment on large object 4242001 is 'A greeting';
grant select on large object 4242001 to anon;

-- Rows.
insert into kinds.things (id, code, amount, feeling, attrs, alias, span, body, doc)
select g, 'c' || (g % 7), g * 2, (array['sad', 'ok', 'happy'])[1 + g % 3]::kinds.mood, ('k=>' || g)::kinds.hstore,
       g::text::kinds.int4alias, kinds.floatrange(g, g + 0.5), repeat('b', g), 'd' || g
from generate_series(1, 40) g;
insert into kinds.thing_notes select g, 1 + g % 40, nullif(g - 1, 0), case when g % 3 = 0 then null else 'n' || g end
from generate_series(1, 30) g;
insert into kinds_pub.mirrors select g, g from generate_series(1, 5) g;
insert into kinds.pairs values (1, 'one'), (2, default);
insert into kinds.base_events (id, note) values (1, 'base');
insert into kinds.child_events (id, note, extra) values (2, 'child', 'x');
insert into kinds.markers default values;
insert into kinds.markers default values;
insert into kinds.markers default values;
insert into kinds.heap_things values (1, 'h');
insert into kinds.scratch (data) values ('{"a": 1}'), ('[]');
insert into kinds.bookings values (1, tstzrange('2025-01-01', '2025-01-02'));
insert into kinds.readings (taken_on, sensor, value) values ('2025-03-01', 'x', 1), ('2027-01-01', 'a', null);
insert into kinds.audit values (1, 'created');
select nextval('kinds.ticket_seq');
refresh materialized view kinds.thing_counts;
