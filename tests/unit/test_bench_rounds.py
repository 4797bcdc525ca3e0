"""Rounds: each phase reported by its median round, ratios paired within a round."""

from __future__ import annotations

from bench import report, rounds
from bench.results import Run


def run(per_second: float) -> Run:
    return Run(name="r", records=int(per_second), seconds=1.0, started=0.0)


def test_a_phase_is_its_median_round_and_lists_every_round_in_order():
    fast, slow, middle = run(60_000), run(40_000), run(50_000)
    medians = rounds.median_runs([{"limit_inserts": fast}, {"limit_inserts": slow},
                                  {"limit_inserts": middle}])
    assert medians["limit_inserts"] is middle  # a round that ran, with its own timeline
    assert middle.summary()["rounds_per_second"] == [60_000, 40_000, 50_000]


def test_of_two_rounds_the_slower_is_shown_and_one_round_lists_none():
    slower = run(40_000)
    assert rounds.median_runs([{"x": run(60_000)}, {"x": slower}])["x"] is slower
    alone = run(10_000)
    assert rounds.median_runs([{"x": alone}])["x"] is alone
    assert "rounds_per_second" not in alone.summary()


def test_ratios_pair_phases_of_the_same_round():
    # The host slowed down in round 2: both the limit and the service.
    each = [{"limit_json_inserts": run(80_000), "service_inserts": run(40_000)},
            {"limit_json_inserts": run(50_000), "service_inserts": run(26_000)},
            {"limit_json_inserts": run(78_000), "service_inserts": run(36_000)}]
    paired = rounds.paired_ratios(each, report.ratios)
    assert paired["service_inserts_vs_limit"] == [0.5, 0.52, 0.46]
    assert rounds.median_ratio(paired["service_inserts_vs_limit"]) == 0.5
    # Across rounds the medians would say 36,000 / 78,000: the slow round's limit unpaired.
    assert report.ratios(rounds.median_runs(each))["service_inserts_vs_limit"] == 0.46
    assert paired["two_workers_vs_one"] == []  # not measured
    assert rounds.median_ratio([]) is None
