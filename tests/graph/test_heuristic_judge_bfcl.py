"""The offline judge on the real BFCL docs: the dependencies a reader of the docs finds, and precision /
recall on the hand-labelled set in bfcl_dependency_labels.json (labels written from the docs only)."""

from __future__ import annotations

import pytest

from magnet_core.graph.edges import DependencyKind
from magnet_core.graph.heuristic_judge import HeuristicJudge
from magnet_core.graph.label_eval import score_graph

from .conftest import LABELS

# A sample of what the judge must find, per class: (source, target, kind, (output field, parameter) or None).
EXPECTED = [
    ("TwitterAPI.authenticate_twitter", "TwitterAPI.post_tweet", "premise", None),
    ("TwitterAPI.authenticate_twitter", "TwitterAPI.retweet", "premise", None),
    ("TwitterAPI.post_tweet", "TwitterAPI.comment", "value", ("id", "tweet_id")),
    ("TravelAPI.authenticate_travel", "TravelAPI.book_flight", "value", ("access_token", "access_token")),
    ("TravelAPI.register_credit_card", "TravelAPI.book_flight", "value", ("card_id", "card_id")),
    ("TravelAPI.book_flight", "TravelAPI.cancel_booking", "value", ("booking_id", "booking_id")),
    ("TradingBot.trading_login", "TradingBot.place_order", "premise", None),
    ("TradingBot.trading_login", "TradingBot.withdraw_funds", "premise", None),
    ("TradingBot.get_symbol_by_name", "TradingBot.get_stock_info", "value", ("symbol", "symbol")),
    ("TradingBot.place_order", "TradingBot.cancel_order", "value", ("order_id", "order_id")),
    ("GorillaFileSystem.cd", "GorillaFileSystem.cat", "premise", None),
    ("GorillaFileSystem.cd", "GorillaFileSystem.echo", "premise", None),
    ("GorillaFileSystem.ls", "GorillaFileSystem.cat", "value", ("current_directory_content", "file_name")),
    ("GorillaFileSystem.touch", "GorillaFileSystem.cat", "premise", None),
    ("VehicleControlAPI.pressBrakePedal", "VehicleControlAPI.startEngine", "premise", None),
    ("VehicleControlAPI.lockDoors", "VehicleControlAPI.startEngine", "premise", None),
    ("VehicleControlAPI.get_zipcode_based_on_city", "VehicleControlAPI.estimate_distance", "value", ("zipcode", "cityA")),
    ("MessageAPI.message_login", "MessageAPI.send_message", "premise", None),
    ("MessageAPI.get_user_id", "MessageAPI.send_message", "value", ("user_id", "receiver_id")),
    ("TicketAPI.ticket_login", "TicketAPI.create_ticket", "premise", None),
    ("TicketAPI.create_ticket", "TicketAPI.close_ticket", "value", ("id", "ticket_id")),
    ("MathAPI.add", "MathAPI.round_number", "value", ("result", "number")),
]

# What a reader would not claim: credentials typed by the user, reads that need no login, no self loops.
NOT_EXPECTED = [
    ("TwitterAPI.get_tweet", "TwitterAPI.authenticate_twitter"),
    ("TradingBot.trading_login", "TradingBot.get_stock_info"),
    ("TwitterAPI.authenticate_twitter", "TwitterAPI.get_tweet"),
    ("GorillaFileSystem.pwd", "GorillaFileSystem.echo"),
    ("TravelAPI.get_flight_cost", "TravelAPI.book_flight"),
    ("VehicleControlAPI.startEngine", "VehicleControlAPI.pressBrakePedal"),
]


@pytest.mark.parametrize(("source", "target", "kind", "feed"), EXPECTED, ids=[f"{s}->{t}" for s, t, _, _ in EXPECTED])
def test_finds_the_dependency_a_reader_finds(bfcl_graph, source, target, kind, feed):
    assert bfcl_graph.graph.has_edge(source, target), f"missing {source} -> {target}"
    edge = bfcl_graph.edge(source, target)
    kinds = {item.kind.value for item in edge.evidence}
    assert kind in kinds
    if feed:
        assert feed in edge.value_feeds()
    assert edge.judge == "heuristic-offline"


@pytest.mark.parametrize(("source", "target"), NOT_EXPECTED, ids=[f"{s}-/->{t}" for s, t in NOT_EXPECTED])
def test_does_not_claim_what_a_reader_would_not(bfcl_graph, source, target):
    assert not bfcl_graph.graph.has_edge(source, target)


def test_no_self_loops_and_value_evidence_names_real_fields(bfcl_graph, bfcl_pool):
    by_name = bfcl_pool.by_name
    for edge in bfcl_graph.edges():
        assert edge.source != edge.target
        for field, param in edge.value_feeds():
            assert field in by_name[edge.source].response_properties
            assert param in by_name[edge.target].param_properties


def test_precision_and_recall_on_hand_labelled_docs(bfcl_graph):
    report = score_graph(bfcl_graph, LABELS)
    print(f"\nprecision {report['precision']:.3f} recall {report['recall']:.3f} "
          f"({report['correct']} of {report['predicted']} predicted, {report['labelled']} labelled); kind agreement {report['kind_agreement']:.3f}")
    for name, row in report["per_class"].items():
        print(f"  {name:<20} {row}")
    # Measured 0.798 / 0.946 in round 1, 0.803 / 0.976 with issue 15's flows whose names differ; the
    # floors catch a regression (precision never below round 1), not a tuning target.
    assert report["precision"] >= 0.798
    assert report["recall"] >= 0.96
    assert report["kind_agreement"] >= 0.9


def test_sample_edges_per_class_are_shown(bfcl_graph):
    """Prints a few edges per class with their evidence (run with -s to read them)."""
    by_class: dict[str, list] = {}
    for edge in bfcl_graph.edges():
        by_class.setdefault(edge.source.split(".")[0], []).append(edge)
    assert len(by_class) == 8
    for name, edges in sorted(by_class.items()):
        kinds = {edge.kind for edge in edges}
        print(f"\n{name}: {len(edges)} edges")
        for edge in edges[:: max(1, len(edges) // 4)][:4]:
            print(f"  {edge.source} -> {edge.target} [{edge.kind.value} {edge.score}] "
                  + "; ".join(f"{e.output_field}->{e.parameter}" if e.output_field else e.note for e in edge.evidence))
        assert DependencyKind.VALUE in kinds or name == "VehicleControlAPI"


def test_judge_interface_returns_edges_to_the_asked_candidates_only(bfcl_pool):
    by_name = bfcl_pool.by_name
    target = by_name["TravelAPI.authenticate_travel"]
    candidates = [by_name["TravelAPI.book_flight"], by_name["TravelAPI.list_all_airports"], target]
    edges = HeuristicJudge().judge(target, candidates)
    assert [edge.target for edge in edges] == ["TravelAPI.book_flight"]
    assert edges[0].kind is DependencyKind.VALUE
    assert ("access_token", "access_token") in edges[0].value_feeds()


def test_fast_path_and_judge_interface_agree(bfcl_graph, bfcl_pool):
    """build_graph's allocation-light path and the public `judge()` give the same edges."""
    specs = sorted(bfcl_pool.specs, key=lambda s: s.qualified_name)
    judge = HeuristicJudge()
    for source in specs[::7]:
        same_class = [s for s in specs if s.tool_class == source.tool_class and s is not source]
        edges = judge.judge(source, same_class)
        assert edges == [bfcl_graph.edge(source.qualified_name, e.target) for e in edges]
        expected = {t for t in bfcl_graph.successors(source.qualified_name) if t.split(".")[0] == source.tool_class}
        assert {e.target for e in edges} == expected
