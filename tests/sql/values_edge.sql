-- Every kind of value a migration must carry unchanged (pgvector lives in values_vector.sql).
-- Runs on PostgreSQL 15 and later.
create schema edge;

create type edge.mood as enum ('sad', 'ok', 'happy', 'it''s "complicated"');
create domain edge.price as numeric(20, 6) check (value > 0);

create function edge.touch() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create table edge.kinds (
  id bigint generated always as identity primary key,
  label text,
  doc jsonb,
  tags text[],
  scores int[],
  amount numeric(40, 20),
  big numeric,
  at timestamptz,
  day date,
  span interval,
  blob bytea,
  uid uuid,
  mood edge.mood,
  cost edge.price,
  ratio double precision,
  flag boolean,
  label_length int generated always as (length(label)) stored,
  updated_at timestamptz not null default now()
);

insert into edge.kinds (label, doc, tags, scores, amount, big, at, day, span, blob, uid, mood, cost, ratio, flag,
                        updated_at) values
  (null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, '2020-01-01 00:00:00+00'),
  ('', '{}', '{}', '{}', 0, 0, '1970-01-01 00:00:00+00', '0001-01-01', '0', '\x', '00000000-0000-0000-0000-000000000000',
   'sad', 0.000001, 0, false, '2020-01-02 00:00:00+00'),
  (E'tab\there\nnew line\\back slash', '{"a": {"b": [1, 2.50, null, "x\"y"]}, "u": "\u00e9\u2603"}',
   array['plain', null, 'with "quotes"', 'with,comma', '', 'NULL', E'back\\slash'], array[1, null, -3],
   12345678901234567890.12345678901234567890, 3.14159265358979323846264338327950288419716939937510582097494459,
   '2024-02-29 23:59:59.999999+05:30', '2024-02-29', '1 year 2 months 3 days 04:05:06.789',
   '\x00ff10feed', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'it''s "complicated"', 99999999999999.999999,
   1.0000000000000002, true, '2020-01-03 00:00:00+00'),
  (E'\\N', '[1, "two", {"three": 3}]', array[E'\\N', E'a\tb'], array[2147483647], -0.00000000000000000001,
   -1e-30, 'infinity', 'infinity', '-1 days -00:00:01', '\x5c2e0a', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
   'happy', 1, 'NaN', null, '2020-01-04 00:00:00+00'),
  (E'\\.', '"just a string"', array['ünïcödé', '😀'], null, null, 'NaN', '2000-01-01 00:00:00-08', '1999-12-31',
   '-2 years', null, null, 'ok', null, '-Infinity', null, '2020-01-05 00:00:00+00'),
  (E'line one\n\\.\nline three 😀 café', '{"emoji": "😀", "esc": "\\\\u0000 not a null"}', null, null,
   null, null, null, null, null, null, null, null, null, 1.5e300, null, '2020-01-06 00:00:00+00');

create trigger kinds_touch before update on edge.kinds for each row execute function edge.touch();

-- A row-level cycle: event 1 was merged into event 2, whose parent is event 1.
create table edge.events (
  id int primary key,
  title text not null,
  parent_id int references edge.events (id),
  merged_into int references edge.events (id),
  updated_at timestamptz not null default now()
);
insert into edge.events (id, title, updated_at) values
  (1, 'first', '2021-01-01 10:00:00+00'),
  (2, 'second', '2021-01-02 10:00:00+00'),
  (3, 'third', '2021-01-03 10:00:00+00'),
  (4, 'fourth', '2021-01-04 10:00:00+00');
update edge.events set merged_into = 2 where id = 1;
update edge.events set parent_id = 1 where id = 2;
update edge.events set parent_id = 2, merged_into = 3 where id = 3;
create trigger events_touch before update on edge.events for each row execute function edge.touch();

-- A cycle of two tables: each author's favourite book, each book's author.
create table edge.authors (id int primary key, name text not null, favorite_book_id int);
create table edge.books (id int primary key, author_id int not null references edge.authors (id), title text);
alter table edge.authors add constraint authors_favorite_book_fkey
  foreign key (favorite_book_id) references edge.books (id);
insert into edge.authors values (1, 'Ann', null), (2, 'Bo', null), (3, 'Cy', null);
insert into edge.books values (10, 1, 'A'), (11, 1, 'B'), (12, 2, 'C');
update edge.authors set favorite_book_id = 11 where id = 1;
update edge.authors set favorite_book_id = 12 where id = 2;

-- Rows in two partitions, loaded through the root.
create table edge.readings (
  id bigserial,
  taken date not null,
  value numeric,
  primary key (id, taken)
) partition by range (taken);
create table edge.readings_2024 partition of edge.readings for values from ('2024-01-01') to ('2025-01-01');
create table edge.readings_2025 partition of edge.readings for values from ('2025-01-01') to ('2026-01-01');
insert into edge.readings (taken, value) values
  ('2024-03-01', 1.5), ('2024-12-31', 2), ('2025-01-01', 3.25), ('2025-06-30', null);

create table edge.tickets (id serial primary key, kind_id bigint references edge.kinds (id), note text);
insert into edge.tickets (kind_id, note) values (1, 'one'), (3, 'three'), (null, null);
select setval('edge.tickets_id_seq', 40);

create sequence edge.never_used start 100;
create sequence edge.used_once;
select nextval('edge.used_once');
