"""`make bench` end to end at tiny sizes: every phase runs and the outputs have their shape.

No timing is asserted: numbers belong to the benchmark, not to the tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.warm_start import FIRST_POSTS, STEADY_GETS

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--records", "2000", "--batch", "500", "--clients", "2", "--scale-records", "1000",
        "--naive-records", "20", "--memory-records", "1000", "--get-requests", "5", "--rounds", "2",
        "--bulk-records", "3000", "--bulk-upload-mib", "2", "--warm-start-rounds", "1"]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-results")
    done = subprocess.run([sys.executable, "-m", "bench", *TINY, "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout, done.stderr


def test_every_phase_moved_every_record(bench_run):
    out, _, _ = bench_run
    figures = orjson.loads((out / "bench.json").read_bytes())
    runs = figures["runs"]
    for key in ("limit_inserts", "limit_updates", "limit_json_inserts", "limit_json_updates",
                "service_inserts", "service_updates"):
        assert runs[key]["records"] == 2000, key
        assert runs[key]["per_second"] > 0, key
    for key in ("service_inserts", "service_updates", "scale_1_worker", "scale_2_workers"):
        assert runs[key]["failed_records"] == 0, key
    assert runs["scale_1_worker"]["records"] == runs["scale_2_workers"]["records"] == 1000
    assert {"bench", "postgres"} <= set(runs["limit_inserts"]["cpu_ms_per_1000"])
    assert {"bench", "postgres"} <= set(runs["limit_json_updates"]["cpu_ms_per_1000"])
    assert {"bench", "postgres", "web", "worker"} <= set(runs["service_updates"]["cpu_ms_per_1000"])
    assert runs["naive"]["records"] == 20
    for key in ("limit_inserts", "limit_json_updates", "service_inserts", "scale_2_workers"):
        # Two rounds ran; the row is one of them.
        assert len(runs[key]["rounds_per_second"]) == 2, key
        assert runs[key]["per_second"] in runs[key]["rounds_per_second"], key
    assert "rounds_per_second" not in runs["naive"]  # measured once


def test_figures_hold_ratios_latencies_memory_machine_and_verdicts(bench_run):
    out, _, _ = bench_run
    figures = orjson.loads((out / "bench.json").read_bytes())
    assert set(figures["ratios"]) == {"service_inserts_vs_limit", "service_updates_vs_limit",
                                      "service_vs_naive", "two_workers_vs_one"}
    assert all(value > 0 for value in figures["ratios"].values())
    by_round = figures["round_ratios"]
    assert {key: len(values) for key, values in by_round.items()} == {
        "service_inserts_vs_limit": 2, "service_updates_vs_limit": 2, "two_workers_vs_one": 2}
    inserts = by_round["service_inserts_vs_limit"]
    assert abs(figures["ratios"]["service_inserts_vs_limit"] - sum(inserts) / 2) <= 0.006
    latency = figures["latency"]
    assert latency["post_under_load"]["count"] == 16  # 2 rounds x 2 x 2,000 records in 500s
    assert latency["get_completed"]["count"] == 5
    assert latency["post_under_load"]["p50_ms"] <= latency["post_under_load"]["p99_ms"]
    assert latency["post_probe"]["count"] >= 4  # at least one per service run
    memory = figures["memory"]
    assert memory["web_peak_rss_mib"] > 0 and memory["worker_peak_rss_mib"] > 0
    assert len(memory["worker_rss_series"]) == 10
    assert {"cores", "ram_gib", "postgresql", "redis", "python"} <= set(figures["machine"])
    assert len(figures["targets"]) == 13
    assert all(v["met"] in (True, False, None) for v in figures["targets"].values())


def test_the_bulk_phase_moved_its_upload_and_measured_beside_it(bench_run):
    out, _, _ = bench_run
    bulk = orjson.loads((out / "bench.json").read_bytes())["bulk"]
    assert [run["records"] for run in bulk["limit"].values()] == [3000, 3000]
    for kind in ("inserts", "updates"):
        assert bulk[kind]["records"] == 3000 and bulk[kind]["vs_limit"] > 0
        assert bulk[kind]["upload_mb_per_s"] > 0 and bulk[kind]["worker_rss_growth_mib"] >= 0
        assert {"web", "worker", "postgres"} <= set(bulk[kind]["cpu_ms_per_1000"])
    assert bulk["probe"]["count"] >= 1 and bulk["probe"]["p50_ms"] > 0
    assert bulk["download"]["entries"] == 3000
    assert bulk["large_upload"]["mib"] >= 2 and bulk["large_upload"]["web_peak_mib"] > 0
    assert bulk["psql_copy_mb_per_s"] > 0
    assert (out / "bulk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_warm_start_phase_started_the_web_with_the_setting_on_and_off(bench_run):
    out, stdout, log = bench_run
    warm_start = orjson.loads((out / "bench.json").read_bytes())["warm_start"]
    assert set(warm_start) == {"on", "off"}
    for figures in warm_start.values():
        assert figures["first_post"]["count"] == 2  # one round, two clients
        assert figures["first_posts"]["count"] == 2 * FIRST_POSTS
        assert figures["get_warm"]["count"] == STEADY_GETS
        assert 0 < figures["first_post"]["p50_ms"] <= figures["first_post"]["max_ms"]
    assert "WARM_START on, round 1" in log and "WARM_START off, round 1" in log
    assert "| each client's first POST, off |" in stdout


def test_chart_and_table_are_written(bench_run):
    out, stdout, _ = bench_run
    assert (out / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| service, first byte to last record, updates |" in stdout
    assert "| service end to end, inserts |" in stdout
    assert "x the faster limit (by round: " in stdout
    assert "| limit: JSON array upsert, updates |" in stdout
    assert "| target | met |" in stdout
    assert "| CPU ms per 1,000 records |" in stdout


def test_throughput_runs_unwatched_and_latencies_from_the_same_runs_watched(bench_run):
    _, _, log = bench_run
    for number in (1, 2):
        for key in ("service_inserts", "service_updates"):
            assert f"round {number}: {key}, 4 POSTs" in log, (number, key)
            assert f"round {number}: {key}, watched, 4 POSTs" in log, (number, key)
