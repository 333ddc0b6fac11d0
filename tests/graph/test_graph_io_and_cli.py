"""Lossless save/reload, statistics, pictures, and the `magnet graph` command."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from magnet_core.graph.candidates import generate_candidates
from magnet_core.graph.dependency_graph import DependencyGraph
from magnet_core.graph.draw import draw_graph
from magnet_core.graph.features import spec_features
from magnet_core.graph.stage import GraphStageConfig, build_graph

from .conftest import spec


def test_save_and_reload_is_lossless(bfcl_graph, tmp_path):
    path = bfcl_graph.save(tmp_path / "graph.json")
    loaded = DependencyGraph.load(path)
    assert loaded.to_json() == bfcl_graph.to_json()
    assert sorted(loaded.graph.edges(data=True)) == sorted(bfcl_graph.graph.edges(data=True))
    assert dict(loaded.graph.nodes(data=True)) == dict(bfcl_graph.graph.nodes(data=True))
    assert loaded.edges() == bfcl_graph.edges()
    assert loaded.nested_feeds("TravelAPI.authenticate_travel", "TravelAPI.book_flight") == [("access_token", "access_token")]
    assert loaded.metadata == bfcl_graph.metadata and loaded.metadata["offline"] is True


@pytest.mark.parametrize("corrupt", ["self_loop", "bad_kind", "value_without_fields", "version"])
def test_reload_refuses_a_tampered_file(bfcl_graph, tmp_path, corrupt):
    data = bfcl_graph.to_json()
    edge = data["graph"]["edges"][0]
    if corrupt == "self_loop":
        data["graph"]["edges"].append({**edge, "target": edge["source"]})
    elif corrupt == "bad_kind":
        edge["kind"] = "vibes"
    elif corrupt == "value_without_fields":
        edge["kind"] = "value"
        edge["evidence"] = [{"kind": "value", "output_field": None, "parameter": None, "partial": False, "note": ""}]
    else:
        data["format_version"] = 99
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError):
        DependencyGraph.load(path)


def test_stats_describe_the_graph(bfcl_graph):
    stats = bfcl_graph.stats()
    assert stats["nodes"] == 128
    assert stats["edges"] == bfcl_graph.graph.number_of_edges() == sum(stats["edges_per_kind"].values())
    assert set(stats["edges_per_kind"]) == {"value", "premise"}
    assert sum(stats["out_degree_histogram"].values()) == 128
    assert stats["isolated_count"] == len(stats["isolated"])
    assert "TradingBot.get_current_time" in stats["isolated"]  # no output anything needs, needs nothing
    assert stats["nodes_per_class"]["GorillaFileSystem"] == 18


def test_pictures_are_written(bfcl_graph, tmp_path):
    whole = draw_graph(bfcl_graph, tmp_path / "all.png")
    one = draw_graph(bfcl_graph, tmp_path / "travel.png", tool_class="TravelAPI")
    for path in (whole, one):
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    with pytest.raises(ValueError, match="no nodes"):
        draw_graph(bfcl_graph, tmp_path / "none.png", tool_class="NoSuchClass")


def test_candidates_prefer_the_class_then_matching_outputs_and_skip_common_tokens():
    string = {"type": "string"}
    specs = [spec("make_widget", {"q": string}, outputs={"widget_id": string}, tool_class="A")]
    specs += [spec(f"a_other_{i}", {"x": string}, tool_class="A") for i in range(3)]
    specs += [spec("use_widget", {"widget_id": string}, tool_class="B"), spec("unrelated", {"gadget_id": string}, tool_class="B")]
    specs += [spec(f"common_{i}", {"shared_token": string}, outputs={"shared_token": string}, tool_class=f"C{i}") for i in range(60)]
    features = [spec_features(s) for s in specs]
    candidates = generate_candidates(features, k=5, max_df=50)
    names = [[features[j].qualified for j in row] for row in candidates]
    assert names[0] == ["A.a_other_0", "A.a_other_1", "A.a_other_2", "B.use_widget"]
    assert all(features[i].qualified not in row for i, row in enumerate(names))
    # "shared_token" is held by 60 functions (> max_df): it identifies nothing and links nobody.
    assert names[len(specs) - 1] == []


def test_build_graph_on_a_hand_made_pool(shop_pool):
    graph = build_graph(shop_pool, GraphStageConfig(k_candidates=10))
    edges = {(e.source.split(".")[1], e.target.split(".")[1]): e for e in graph.edges()}
    assert set(edges) == {
        ("find_product", "get_price"), ("find_product", "add_to_cart"), ("add_to_cart", "checkout"),
        ("checkout", "track_order"), ("checkout", "cancel_order"),
        ("shop_login", "add_to_cart"), ("shop_login", "checkout"), ("shop_login", "cancel_order"),  # acting for the user needs the login
    }
    assert edges[("find_product", "get_price")].value_feeds() == [("product_id", "product_id")]
    assert edges[("shop_login", "cancel_order")].kind.value == "premise"


def test_graph_command_writes_graph_stats_and_picture(tmp_path):
    from magnet_core.cli.main import app

    out = tmp_path / "g"
    result = CliRunner().invoke(app, ["graph", "--pool", "bfcl", "--out", str(out), "--class", "TradingBot"])
    assert result.exit_code == 0, result.output
    assert "offline" in result.output
    for name in ("graph.json", "graph_stats.json", "graph.png", "graph.html", "graph_TradingBot.png", "plans.jsonl"):
        assert (out / name).exists() and str(out / name) in result.output
    graph = json.loads((out / "graph.json").read_text())["graph"]
    assert len(graph["nodes"]) == 128 and all("." in node["id"] for node in graph["nodes"])
    stats = json.loads((out / "graph_stats.json").read_text())
    assert stats["nodes"] == 128 and stats["plans"]["p_plans"] > 0


def test_large_groups_use_matches_plus_a_bounded_window():
    """A category of many functions is not judged all-pairs: matching members first, then neighbours."""
    from magnet_core.domain.functions import FunctionSpec

    string = {"type": "string"}

    def member(i: int, params: dict, outputs: dict) -> FunctionSpec:
        return FunctionSpec(name=f"f{i:02d}", parameters={"type": "object", "properties": params}, response={"type": "object", "properties": outputs},
                            category="big", source_pool="test")

    specs = [member(0, {"q": string}, {"zeta_id": string})]
    specs += [member(i, {f"x{i}": string}, {f"y{i}": string}) for i in range(1, 49)]
    specs.append(member(49, {"zeta_id": string}, {}))
    features = [spec_features(s) for s in specs]
    rows = generate_candidates(features, k=3)
    assert rows == generate_candidates(features, k=3)
    assert all(len(row) <= 3 and i not in row for i, row in enumerate(rows))
    assert rows[0][0] == 49  # the only function fed by f00's output, far outside its window
    assert set(rows[25]) <= {24, 26, 23, 27}


def test_html_view_escapes_untrusted_text(tmp_path):
    from magnet_core.graph.edges import EdgeEvidence, make_edge
    from magnet_core.graph.html_view import write_html

    hostile = "<script>alert(1)</script>"
    evidence = [EdgeEvidence(kind="value", output_field=hostile, parameter="p", note="n")]
    graph = DependencyGraph.from_edges([("A.f", {"tool_class": "A", "name": hostile}), ("A.g", {"tool_class": "A", "name": "g"})],
                                       [make_edge("A.f", "A.g", evidence, 0.9, "test")], {"offline": True})
    page = write_html(graph, tmp_path / "g.html").read_text()
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<line") == 1 and "offline heuristic judge" in page
