-- pgvector values; needs `create extension vector with schema extensions` and values_edge.sql first.
create table edge.embeddings (id int primary key, kind_id bigint references edge.kinds (id),
                              embedding extensions.vector(3));
insert into edge.embeddings values
  (1, 1, '[1,2,3]'), (2, 3, '[0.5,-1.25,3e-7]'), (3, null, null), (4, 2, '[0.1,0.2,0.30000001]');
