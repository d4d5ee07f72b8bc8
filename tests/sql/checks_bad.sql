-- Every built-in lint and data check fails here, each on known objects (see tests/test_checks.py).
create table public.tenants (id int primary key, name text not null);

-- unindexed_foreign_key: tenant_id is only the second column of an index.
-- duplicate_index: hotels_name_a and hotels_name_b.
create table public.hotels (
  id int primary key,
  tenant_id int not null references public.tenants (id),
  owner uuid,
  name text
);
create index hotels_name_a on public.hotels (name);
create index hotels_name_b on public.hotels (name);
create index hotels_name_tenant on public.hotels (name, tenant_id);

-- multiple_permissive_policies: two permissive SELECT policies for authenticated.
-- auth_rls_initplan: hotels_owner_read calls auth.uid() per row.
-- rls_policy_always_true: hotels_anyone_insert checks (true) on INSERT.
alter table public.hotels enable row level security;
create policy hotels_owner_read on public.hotels for select to authenticated using (auth.uid() = owner);
create policy hotels_tenant_read on public.hotels for select to authenticated using (tenant_id = 1);
create policy hotels_anyone_insert on public.hotels for insert to authenticated with check (true);

-- auth_rls_initplan: one call wrapped and one not; current_setting() per row.
create table public.rooms (id int primary key, tenant_id int, owner uuid);
alter table public.rooms enable row level security;
create policy rooms_update on public.rooms for update to authenticated
  using ((select auth.uid()) = owner or auth.uid() = owner);
create policy rooms_delete on public.rooms for delete to authenticated
  using (current_setting('app.tenant')::int = tenant_id);

-- no_primary_key
create table public.audit_log (at timestamptz not null default now(), message text);

-- rls_enabled_no_policy
create table public.secrets (id int primary key, value text);
alter table public.secrets enable row level security;

-- policy_exists_rls_disabled
-- rls_disabled_in_public: and the API's role authenticated may read it.
create table public.notes (id int primary key, body text);
create policy notes_read on public.notes for select using (true);
grant select on public.notes to authenticated;

-- security_definer_view: anon reads the hotels with the view owner's rights.
create view public.hotel_names as select id, name from public.hotels;
grant select on public.hotel_names to anon;

-- function_search_path_mutable
create function public.hotel_count() returns bigint language sql stable as 'select count(*) from public.hotels';

-- extension_in_public
create extension if not exists pg_trgm with schema public;

-- foreign_key and self_reference: orphans behind NOT VALID constraints, as a load with triggers off leaves them.
create table public.bookings (id int primary key, hotel_id int, parent_id int);
create index on public.bookings (hotel_id);
create index on public.bookings (parent_id);
insert into public.tenants values (1, 'acme');
insert into public.hotels values (1, 1, null, 'Seaside'), (2, 1, null, 'Hillside');
insert into public.bookings values (1, 1, null), (2, 2, 1), (3, 99, 1), (4, 1, 77);
alter table public.bookings add constraint bookings_hotel_id_fkey
  foreign key (hotel_id) references public.hotels (id) not valid;
alter table public.bookings add constraint bookings_parent_id_fkey
  foreign key (parent_id) references public.bookings (id) not valid;
