"""The benchmark's verdicts: how busy the cores were, and why 2 processes may not give 1.5x."""

from __future__ import annotations

from bench import report
from bench.results import Run


def figures(one_worker_per_second: float, two_workers_per_second: float) -> dict:
    cpu = {"postgres": 30.0, "web": 20.0, "worker": 40.0}  # 90 ms per 1,000 records
    return {
        "machine": {"cores": 2},
        "runs": {"scale_1_worker": {"per_second": one_worker_per_second, "cpu_ms_per_1000": cpu},
                 "scale_2_workers": {"per_second": two_workers_per_second,
                                     "cpu_ms_per_1000": cpu}},
        "ratios": {"two_workers_vs_one": report.ratio(two_workers_per_second,
                                                      one_worker_per_second)},
        "latency": {}, "memory": {},
    }


def test_cores_busy_is_cpu_per_record_times_the_rate():
    assert report.cores_busy({"per_second": 15_000, "cpu_ms_per_1000": {"a": 60, "b": 30}}) == 1.35
    assert report.cores_busy({"per_second": 15_000}) is None


def test_a_missed_scale_target_says_how_many_cores_it_would_need():
    verdict = report.judge(figures(15_000, 18_000))["scale"]
    assert verdict["met"] is False
    assert verdict["note"] == ("the 1-process run kept 1.35 of 2 cores busy; 1.5x its "
                               "throughput at the same cost per record needs 2.03")


def test_a_met_scale_target_has_no_note():
    verdict = report.judge(figures(10_000, 16_000))["scale"]
    assert verdict["met"] is True and "note" not in verdict


def test_the_service_is_held_to_the_faster_limit():
    def run(per_second: float) -> Run:
        return Run(name="r", records=int(per_second), seconds=1.0, started=0.0)
    runs = {"limit_inserts": run(60_000), "limit_json_inserts": run(75_000),
            "limit_updates": run(50_000), "limit_json_updates": run(40_000),
            "service_inserts": run(30_000), "service_updates": run(30_000)}
    ratios = report.ratios(runs)
    assert ratios["service_inserts_vs_limit"] == 0.4  # against JSON's 75,000, not COPY's
    assert ratios["service_updates_vs_limit"] == 0.6  # against COPY's 50,000
    assert ratios["two_workers_vs_one"] is None  # not measured
