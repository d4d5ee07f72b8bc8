-- The PostgreSQL 16-18 additions to every_kind.sql, and pgvector (run after it, on the embedded
-- PostgreSQL 18, which ships pgvector).
-- Provenance: written for this repository from the PostgreSQL 18 release notes and documentation of
-- CREATE TABLE and ALTER TABLE; no third-party text. Licence: the project's (MIT).
--
-- Kinds: NOT NULL constraints with their own names and NOT VALID ones (rows holding NULL in them),
-- virtual generated columns, NOT ENFORCED constraints, temporal keys (WITHOUT OVERLAPS, PERIOD foreign
-- keys), a partitioned table with a table access method.

create extension if not exists btree_gist with schema kinds;
create extension if not exists vector with schema extensions;

create table kinds.embeddings (id integer primary key, thing_id integer references kinds.things, v extensions.vector(3));
insert into kinds.embeddings select g, g, ('[' || g || ',0,1]')::extensions.vector from generate_series(1, 20) g;

create table kinds.named_not_null (
    id integer constraint named_not_null_id_required not null,
    label text,
    total integer generated always as (id * 2) virtual,
    stored integer generated always as (id * 3) stored
);
insert into kinds.named_not_null (id, label) values (1, null), (2, 'two');
alter table kinds.named_not_null add constraint named_not_null_label_nn not null label not valid;
alter table kinds.named_not_null add constraint named_not_null_id_small check (id < 100) not enforced;

create table kinds.rooms (id integer primary key);
create table kinds.room_rates (
    room_id integer not null references kinds.rooms,
    valid_during daterange not null,
    rate numeric,
    constraint room_rates_pk primary key (room_id, valid_during without overlaps)
);
create table kinds.room_bookings (
    id integer primary key,
    room_id integer not null,
    booked_during daterange not null,
    constraint room_bookings_rate_fk foreign key (room_id, period booked_during)
        references kinds.room_rates (room_id, period valid_during)
);
insert into kinds.rooms values (1), (2);
insert into kinds.room_rates values (1, '[2025-01-01,2026-01-01)', 100), (2, '[2025-01-01,2025-07-01)', 80);
insert into kinds.room_bookings values (1, 1, '[2025-03-01,2025-03-05)');
alter table kinds.room_bookings add constraint room_bookings_rooms_fk foreign key (room_id) references kinds.rooms not enforced;

create table kinds.am_parted (id integer, at date) partition by range (at) using heap_copy;
create table kinds.am_parted_2025 partition of kinds.am_parted for values from ('2025-01-01') to ('2026-01-01');
insert into kinds.am_parted values (1, '2025-05-05');
