from tui_manager.base import graph


def test_start_waves_group_independent_services():
    edges = {"db": set(), "api": {"db"}, "ws": {"db"}, "exec": {"api", "ws"}}
    assert graph.start_waves(edges) == [["db"], ["api", "ws"], ["exec"]]


def test_dependencies_outside_the_graph_count_as_met():
    assert graph.start_waves({"api": {"external"}}) == [["api"]]


def test_cycle_is_spelled_out():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert graph.find_cycles(edges) == [["a", "b", "c", "a"]]


def test_two_separate_cycles_are_both_reported():
    edges = {"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x"}}
    assert sorted(map(tuple, graph.find_cycles(edges))) == [("a", "b", "a"), ("x", "y", "x")]


def test_unknown_and_self_dependencies():
    errors = graph.unknown_dependencies({"a": {"a", "nope"}})
    messages = sorted(e.message for e in errors)
    assert messages[0].startswith("depends on itself: a -> a")
    assert "unknown dependency 'nope'" in messages[1]


def test_dependents_and_closure():
    edges = {"db": set(), "api": {"db"}, "exec": {"api"}, "other": set()}
    assert graph.dependents(edges)["db"] == {"api"}
    assert graph.closure(edges, ["exec"]) == {"exec", "api", "db"}
