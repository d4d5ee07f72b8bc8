"""The FK graph as pure functions: depth, order, cycles, blocks. No database needed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pgconvoy.catalog.model import Name
from pgconvoy.graph import FkGraph, from_edges


def n(text: str) -> Name:
    return Name.parse(text)


def graph(edges: list[tuple[str, str]], extra: tuple[str, ...] = ()) -> FkGraph:
    tables = {n(a) for a, _ in edges} | {n(b) for _, b in edges if not b.startswith("ext.")} | {n(x) for x in extra}
    return from_edges(tables, [(n(a), n(b), None) for a, b in edges])


def test_chain_depth_and_blocks() -> None:
    g = graph([("b", "a"), ("c", "b"), ("d", "c"), ("e", "a")])
    assert {str(k): v.depth for k, v in g.nodes.items()} == {
        "public.a": 0, "public.b": 1, "public.c": 2, "public.d": 3, "public.e": 1,
    }
    assert g.nodes[n("a")].blocks == 4
    assert g.nodes[n("b")].blocks == 2
    assert g.nodes[n("a")].referenced_by == (n("b"), n("e"))
    assert g.max_depth == 3


def test_depth_is_the_longest_path_not_the_shortest() -> None:
    g = graph([("c", "a"), ("b", "a"), ("c", "b")])
    assert g.nodes[n("c")].depth == 2


def test_three_table_cycle_is_one_component_and_does_not_loop() -> None:
    g = graph([("a", "c"), ("b", "a"), ("c", "b"), ("d", "c"), ("a", "root")])
    assert g.cycles == ((n("a"), n("b"), n("c")),)
    assert {g.nodes[n(x)].depth for x in "abc"} == {1}
    assert g.nodes[n("d")].depth == 2
    assert g.nodes[n("root")].blocks == 4
    assert g.order.index(n("root")) < g.order.index(n("a")) < g.order.index(n("d"))


def test_self_reference_is_not_a_cycle_and_not_a_dependency() -> None:
    from pgconvoy.catalog.model import ForeignKey

    fk = ForeignKey("fk", n("staff"), ("created_by",), n("staff"), ("id",), "NO ACTION", "NO ACTION",
                    "SIMPLE", False, False, True, "")
    g = from_edges([n("staff")], [(n("staff"), n("staff"), fk)])
    assert g.cycles == ()
    assert g.nodes[n("staff")].depth == 0
    assert g.nodes[n("staff")].self_references == ("created_by",)


def test_reference_outside_the_graph_is_external() -> None:
    g = graph([("a", "ext.users")])
    assert g.nodes[n("a")].external == (Name("ext", "users"),)
    assert g.nodes[n("a")].depth == 0


def test_order_is_deterministic_whatever_the_input_order() -> None:
    edges = [("b", "a"), ("c", "a"), ("d", "b"), ("d", "c")]
    assert graph(edges).order == graph(list(reversed(edges))).order


def test_ten_thousand_table_chain_needs_no_recursion() -> None:
    edges = [(f"t{i:05d}", f"t{i - 1:05d}") for i in range(1, 10_000)]
    g = graph(edges)
    assert g.nodes[n("t09999")].depth == 9_999
    assert g.nodes[n("t00000")].blocks == 9_999


def _longest_path(name: Name, parents: dict[Name, set[Name]]) -> int:
    return max((1 + _longest_path(p, parents) for p in parents[name]), default=0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=40))
def test_properties_on_random_graphs(pairs: list[tuple[int, int]]) -> None:
    edges = [(f"t{a:02d}", f"t{b:02d}") for a, b in pairs]
    g = graph(edges, extra=("t00",))
    position = {name: i for i, name in enumerate(g.order)}
    assert sorted(g.order) == sorted(g.nodes)
    cycle_of = {m: i for i, c in enumerate(g.cycles) for m in c}
    for a, b in edges:
        child, parent = n(a), n(b)
        same_cycle = child in cycle_of and cycle_of.get(child) == cycle_of.get(parent)
        if child != parent and not same_cycle:
            # every table loads after the tables it references, at a greater depth
            assert position[parent] < position[child]
            assert g.nodes[parent].depth < g.nodes[child].depth
    acyclic = not g.cycles
    if acyclic:
        parents = {name: set(node.references) for name, node in g.nodes.items()}
        for name, node in g.nodes.items():
            assert node.depth == _longest_path(name, parents)
