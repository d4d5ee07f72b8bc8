-- A small tenant -> hotel -> unit chain for reconciliation tests: every foreign key indexed.
create table public.tenants (id int primary key, name text);
create table public.hotels (id int primary key, tenant_id int not null references public.tenants);
create index hotels_tenant_idx on public.hotels (tenant_id);
create table public.units (id int primary key, hotel_id int references public.hotels, code text);
create index units_hotel_idx on public.units (hotel_id);
insert into public.tenants values (1, 'a'), (2, 'b');
insert into public.hotels values (10, 1), (11, 1), (12, 2);
insert into public.units values (100, 10, 'x'), (101, 10, 'y'), (102, 11, 'z'), (103, 12, null);
