-- The same model as checks_bad.sql with every finding fixed; each lint must pass here, including
-- the near misses that look like findings but are not (see the comments).
create table public.tenants (id int primary key, name text not null);

create table public.hotels (
  id int primary key,
  tenant_id int not null references public.tenants (id),
  owner uuid,
  name text
);
-- Covers the foreign key: its column leads the index even though a second column follows.
create index hotels_tenant_name on public.hotels (tenant_id, name);
-- Same column as hotels_name but a different predicate: not a duplicate.
create index hotels_name on public.hotels (name);
create index hotels_name_named on public.hotels (name) where name is not null;

alter table public.hotels enable row level security;
-- One permissive SELECT policy, its calls wrapped in (select ...).
create policy hotels_read on public.hotels for select to authenticated
  using ((select auth.uid()) = owner or tenant_id = (select current_setting('app.tenant', true))::int);
create policy hotels_insert on public.hotels for insert to authenticated
  with check ((select auth.uid()) = owner);
-- A restrictive policy that is always true restricts nothing; it is not a permissive write hole.
create policy hotels_restrict on public.hotels as restrictive for all to authenticated using (true);

-- Composite foreign key covered by an index whose leading columns are the same set in another order.
create table public.rooms (
  hotel_id int not null,
  tenant_id int not null,
  number int not null,
  primary key (tenant_id, hotel_id, number)
);
create table public.room_notes (
  id int primary key,
  hotel_id int,
  tenant_id int,
  number int,
  foreign key (tenant_id, hotel_id, number) references public.rooms (tenant_id, hotel_id, number)
);
create index room_notes_room on public.room_notes (hotel_id, tenant_id, number);

create table public.audit_log (id bigint generated always as identity primary key, message text);

create table public.secrets (id int primary key, value text);
alter table public.secrets enable row level security;
create policy secrets_owner on public.secrets for select to authenticated using (false);

create table public.notes (id int primary key, body text);
alter table public.notes enable row level security;
create policy notes_read on public.notes for select using (true);
grant select on public.notes to authenticated;

-- The view runs with its caller's rights; the function fixes its search_path; the extension has a
-- schema of its own.
create view public.hotel_names with (security_invoker = true) as select id, name from public.hotels;
grant select on public.hotel_names to anon;
create function public.hotel_count() returns bigint language sql stable set search_path = ''
  as 'select count(*) from public.hotels';
create schema if not exists extensions;
create extension if not exists pg_trgm with schema extensions;

create table public.bookings (id int primary key, hotel_id int references public.hotels (id),
                              parent_id int references public.bookings (id));
create index on public.bookings (hotel_id);
create index on public.bookings (parent_id);
insert into public.tenants values (1, 'acme');
insert into public.hotels values (1, 1, null, 'Seaside'), (2, 1, null, 'Hillside');
insert into public.bookings values (1, 1, null), (2, 2, 1), (3, null, 1);
