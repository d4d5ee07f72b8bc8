"""Placement decisions of the schema renderer, on catalogs written out by hand (no database).

The statements are checked by the round trip (test_schema_roundtrip.py); here, which file each
object lands in and in what order.
"""

from __future__ import annotations

from pgconvoy.catalog.model import (
    Catalog,
    Column,
    Constraint,
    ForeignKey,
    Function,
    Index,
    Name,
    Policy,
    Schema,
    Table,
    Trigger,
    View,
)
from pgconvoy.layout import Group, Layout
from pgconvoy.render import SHARED_FILE, post_data_file, render_schema

PUBLIC = Schema("public", "postgres")


def col(name: str, type_: str = "bigint", not_null: bool = False) -> Column:
    return Column(name, 1, type_, not_null)


def fk(table: str, column: str, ref: str, *, schema: str = "public", ref_schema: str = "public",
       validated: bool = True) -> ForeignKey:
    ref_name = Name(ref_schema, ref)
    return ForeignKey(
        name=f"{table}_{column}_fkey", table=Name(schema, table), columns=(column,), ref_table=ref_name,
        ref_columns=("id",), on_update="NO ACTION", on_delete="NO ACTION", match="SIMPLE", deferrable=False,
        deferred=False, validated=validated,
        definition=f"FOREIGN KEY ({column}) REFERENCES {ref_schema}.{ref}(id)" + ("" if validated else " NOT VALID"),
        external=ref_schema != "public",
    )


def table(name: str, *extra: Column, fks: tuple[ForeignKey, ...] = (), **kw: object) -> Table:
    return Table("public", name, kw.pop("kind", "table"), "permanent", (col("id", not_null=True), *extra),  # type: ignore[arg-type]
                 foreign_keys=fks, **kw)  # type: ignore[arg-type]


def layout(*groups: tuple[str, ...]) -> Layout:
    return Layout(tuple(Group(i, f"g{i}", tuple(Name("public", t) for t in g)) for i, g in enumerate(groups, 1)))


def catalog(*tables: Table, views: tuple[View, ...] = (), functions: tuple[Function, ...] = ()) -> Catalog:
    return Catalog(180000, "src", (PUBLIC,), tables, views=views, functions=functions)


def statements_of(text: str) -> list[str]:
    """The file's statements as single lines (runs of spaces as one), comments and settings left out."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("--", "SET ", "SELECT pg_catalog"))]
    return [" ".join(s.split()) for s in " ".join(lines).split(";") if s.strip()]


def where(files: dict[str, str], fragment: str) -> list[str]:
    """Names of the files holding a statement that contains `fragment`."""
    return sorted(name for name, text in files.items() if any(fragment in s for s in statements_of(text)))


def test_foreign_key_to_a_later_group_waits_for_post_data() -> None:
    cat = catalog(
        table("a", col("b_id"), fks=(fk("a", "b_id", "b"),)),
        table("b"),
    )
    files = render_schema(cat, layout(("a",), ("b",)))
    # Two groups: the data files are 10 and 11, so post-data starts at 12; constraints are its second step.
    assert where(files, "ADD CONSTRAINT a_b_id_fkey") == ["13-post-constraints.sql"]
    assert post_data_file(layout(("a",), ("b",)), "constraints") == "13-post-constraints.sql"


def test_foreign_keys_to_earlier_tables_self_and_external_stay_in_the_group_file() -> None:
    cat = catalog(
        table("a"),
        table("b", col("a_id"), col("parent_id"), col("user_id", "uuid"),
              fks=(fk("b", "a_id", "a"), fk("b", "parent_id", "b"), fk("b", "user_id", "users", ref_schema="auth"))),
    )
    files = render_schema(cat, layout(("a",), ("b",)))
    for constraint in ("b_a_id_fkey", "b_parent_id_fkey", "b_user_id_fkey"):
        assert where(files, f"ADD CONSTRAINT {constraint}") == ["02-schema-g2.sql"]
    assert not any("post-constraints" in name for name in files)


def test_the_foreign_key_that_closes_a_cycle_goes_to_post_data() -> None:
    cat = catalog(
        table("a", col("b_id"), fks=(fk("a", "b_id", "b"),)),
        table("b", col("a_id"), fks=(fk("b", "a_id", "a"),)),
    )
    files = render_schema(cat, layout(("a", "b")))
    assert where(files, "ADD CONSTRAINT b_a_id_fkey") == ["01-schema-g1.sql"]  # a exists when b is created
    assert where(files, "ADD CONSTRAINT a_b_id_fkey") == ["12-post-constraints.sql"]


def test_not_valid_constraints_are_added_after_the_data() -> None:
    check = Constraint("a_positive", "check", ("n",), "CHECK ((n > 0)) NOT VALID", validated=False)
    cat = catalog(table("a", col("n"), constraints=(check,)), table("b", col("a_id"),
                  fks=(fk("b", "a_id", "a", validated=False),)))
    files = render_schema(cat, layout(("a", "b")))
    assert where(files, "a_positive CHECK") == ["12-post-constraints.sql"]
    assert where(files, "ADD CONSTRAINT b_a_id_fkey") == ["12-post-constraints.sql"]


def test_views_follow_the_tables_they_read() -> None:
    early = View("public", "v_a", False, " SELECT id FROM public.a;", (Name("public", "a"),))
    both = View("public", "v_ab", False, " SELECT id FROM public.b;", (Name("public", "a"), Name("public", "b")))
    on_view = View("public", "v_on_v", False, " SELECT id FROM public.v_ab;", (Name("public", "v_ab"),))
    mat = View("public", "m_a", True, " SELECT id FROM public.a;", (Name("public", "a"),))
    on_mat = View("public", "v_on_m", False, " SELECT id FROM public.m_a;", (Name("public", "m_a"),))
    cat = catalog(table("a"), table("b"), views=(early, both, on_view, mat, on_mat))
    files = render_schema(cat, layout(("a",), ("b",)))
    assert where(files, "CREATE VIEW public.v_a ") == ["01-schema-g1.sql"]
    assert where(files, "CREATE VIEW public.v_ab ") == ["02-schema-g2.sql"]
    assert where(files, "CREATE VIEW public.v_on_v ") == ["02-schema-g2.sql"]
    assert where(files, "CREATE MATERIALIZED VIEW public.m_a ") == ["15-post-views.sql"]
    assert where(files, "CREATE VIEW public.v_on_m ") == ["15-post-views.sql"]
    post = statements_of(files["15-post-views.sql"])
    assert post[0].endswith("WITH NO DATA")  # the materialized view first: the other view reads it
    assert post[-1] == "REFRESH MATERIALIZED VIEW public.m_a"
    group2 = statements_of(files["02-schema-g2.sql"])
    assert [s.split()[2] for s in group2 if s.startswith("CREATE VIEW")] == ["public.v_ab", "public.v_on_v"]


def test_a_policy_that_reads_a_later_table_waits_for_post_data() -> None:
    own = Policy("a_own", Name("public", "a"), True, "SELECT", ("authenticated",), "(id = 1)", None)
    later = Policy("a_member", Name("public", "a"), False, "ALL", ("public",),
                   "(EXISTS ( SELECT 1 FROM public.b WHERE (b.id = a.id)))", "true")
    cat = catalog(table("a", policies=(own, later), rls_enabled=True), table("b"))
    files = render_schema(cat, layout(("a",), ("b",)))
    assert where(files, "CREATE POLICY a_own ON public.a AS PERMISSIVE FOR SELECT TO authenticated") == [
        "01-schema-g1.sql"
    ]
    assert where(files, "CREATE POLICY a_member ON public.a AS RESTRICTIVE FOR ALL TO PUBLIC") == [
        "13-post-constraints.sql"
    ]
    assert where(files, "ALTER TABLE public.a ENABLE ROW LEVEL SECURITY") == ["01-schema-g1.sql"]


def test_partition_indexes_come_first_so_the_parent_index_attaches_them() -> None:
    parent_index = Index("p_x_idx", Name("public", "p"), "CREATE INDEX p_x_idx ON ONLY public.p USING btree (x)",
                         ("x",), False, False, None, None, True, "btree")
    child_index = Index("p1_x_idx", Name("public", "p1"), "CREATE INDEX p1_x_idx ON public.p1 USING btree (x)",
                        ("x",), False, False, None, None, True, "btree")
    pkey = Index("p_pkey", Name("public", "p"), "CREATE UNIQUE INDEX p_pkey ON ONLY public.p USING btree (id)",
                 ("id",), True, True, "p_pkey", None, True, "btree")
    cat = catalog(
        table("p", col("x"), kind="partitioned", partition_key="LIST (x)", indexes=(parent_index, pkey)),
        table("p1", col("x"), partition_of=Name("public", "p"), partition_bound="FOR VALUES IN ('1')",
              indexes=(child_index,)),
    )
    files = render_schema(cat, layout(("p",)))
    assert statements_of(files["11-post-indexes.sql"]) == [
        "CREATE INDEX p1_x_idx ON public.p1 USING btree (x)",
        "CREATE INDEX p_x_idx ON public.p USING btree (x)",
    ]
    assert where(files, "CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES IN ('1')") == ["01-schema-g1.sql"]


def test_triggers_come_after_the_data_and_keep_their_state() -> None:
    trig = Trigger("a_guard", Name("public", "a"), "CREATE TRIGGER a_guard BEFORE DELETE ON public.a "
                   "FOR EACH ROW EXECUTE FUNCTION public.guard()", Name("public", "guard"), "D")
    files = render_schema(catalog(table("a", triggers=(trig,))), layout(("a",)))
    assert statements_of(files["13-post-triggers.sql"]) == [
        trig.definition, "ALTER TABLE public.a DISABLE TRIGGER a_guard",
    ]


def test_a_function_of_a_table_row_type_goes_after_the_table() -> None:
    def function(name: str, returns: str) -> Function:
        return Function("public", name, "", "function", "sql", returns,
                        f"CREATE OR REPLACE FUNCTION public.{name}()\n RETURNS {returns}\n LANGUAGE sql\n"
                        "AS $function$ select null $function$\n")
    cat = catalog(table("a"), table("b"), functions=(function("rows_of_b", "SETOF public.b"),
                                                     function("answer", "integer")))
    files = render_schema(cat, layout(("a",), ("b",)))
    assert where(files, "FUNCTION public.rows_of_b()") == ["02-schema-g2.sql"]
    assert where(files, "FUNCTION public.answer()") == [SHARED_FILE]
    assert "SET check_function_bodies = false;" in files[SHARED_FILE].splitlines()


def test_names_are_quoted_only_when_needed_and_comments_stay_comments() -> None:
    odd = Table("public", 'Order "Items"\nx', "table", "permanent",
                (col("select", "text"), col("plain", "text")), comment="it's")
    cat = Catalog(180000, "db\nDROP TABLE x", (PUBLIC,), (odd,))
    files = render_schema(cat, Layout((Group(1, "g", (odd.qualified,)),)))
    text = files["01-schema-g.sql"]
    assert 'CREATE TABLE public."Order ""Items""\nx" (' in text
    assert '  "select" text,\n  plain text\n);' in text
    assert "COMMENT ON TABLE public.\"Order \"\"Items\"\"\nx\" IS 'it''s';" in text
    assert all(not line.startswith("DROP") for line in text.splitlines())  # the database name stayed a comment


def test_every_file_starts_with_a_header_and_the_session_settings() -> None:
    cat = catalog(table("a", col("b_id"), fks=(fk("a", "b_id", "b"),)), table("b"))
    for name, text in render_schema(cat, layout(("a",), ("b",))).items():
        lines = text.splitlines()
        assert lines[0].startswith(f"-- {name}: ")
        assert "Generated by pgconvoy" in lines[1] and "do not edit" in lines[1]
        assert "SELECT pg_catalog.set_config('search_path', '', false);" in lines[:10]
        assert text.endswith(";\n")


def test_the_shared_file_is_left_out_when_nothing_is_shared() -> None:
    cat = Catalog(180000, "src", (), (table("a"),))
    assert sorted(render_schema(cat, layout(("a",)))) == ["01-schema-g1.sql", "16-post-analyze.sql"]


def test_rendering_is_deterministic() -> None:
    view = View("public", "v", False, " SELECT id FROM public.a;", (Name("public", "a"),))
    cat = catalog(table("a", col("b_id"), fks=(fk("a", "b_id", "b"),)), table("b"), views=(view,))
    first = render_schema(cat, layout(("a",), ("b",)))
    second = render_schema(cat, layout(("a",), ("b",)))
    assert list(first) == list(second)
    assert all(first[name].encode() == second[name].encode() for name in first)
