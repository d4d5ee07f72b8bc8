-- Rows for the compare tests (compare_rows_reversed.sql holds the same rows in the opposite order).
insert into public.tenants (id, name) values (1, 'acme'), (2, 'globex');
insert into public.hotels (id, tenant_id, name, stars, tags, info, price, opened_at, photo, kind) values
  (1, 1, 'Seaside', 4, '{sea,"with space"}', '{"a": 1}', 120.50, '2024-01-01 10:00+02', '\x00ff', 'double'),
  (2, 1, '', null, '{}', null, 0.10, null, null, 'single'),
  (3, 2, E'tab\there\nnewline \\ backslash ünïcødé', 5, null, '[1, "x"]', 99999999.99,
   '1999-12-31 23:59:59.999999+00', '\x', 'suite');
select setval('public.hotels_id_seq', 3);
select setval(pg_get_serial_sequence('public.tenants', 'id'), 2);
