"""The benchmark's sizes: command-line options, each defaulting to a BENCH_* variable."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Settings:
    """How much each phase moves, and where the outputs go."""

    records: int          # customers for the limit and the service (inserted, then updated)
    batch: int            # records per POST and per limit chunk
    clients: int          # concurrent HTTP clients
    workers: int          # worker processes for the main service runs
    scale_records: int    # customers for each of the 1- and 2-worker runs (0: skip)
    naive_records: int    # the naive peer's sample (0: skip)
    memory_records: int   # records through one worker process for RSS growth (0: skip)
    get_requests: int     # GETs of a completed job
    rounds: int           # rounds of the limit and service phases, and of the scale phases
    bulk_records: int     # customers of the bulk phase's one upload (0: skip the phase)
    bulk_upload_mib: int  # the large upload of the bulk phase, for the web's memory (0: skip)
    warm_start_rounds: int  # new web processes per WARM_START setting (0: skip the phase)
    out: Path


# (option, variable, default, help)
_OPTIONS = (
    ("records", "BENCH_RECORDS", 200_000,
     "customers inserted, then updated, by limit and service (0 skips both)"),
    ("batch", "BENCH_BATCH", 1000, "records per POST / per limit chunk"),
    ("clients", "BENCH_CLIENTS", 4, "concurrent HTTP clients"),
    ("workers", "BENCH_WORKERS", 2, "worker processes for the main service runs"),
    ("scale-records", "BENCH_SCALE_RECORDS", 60_000, "customers per 1- and 2-worker run (0 skips)"),
    ("naive-records", "BENCH_NAIVE_RECORDS", 2_000, "the naive peer's sample (0 skips)"),
    ("memory-records", "BENCH_MEMORY_RECORDS", 1_000_000,
     "records through one worker process to see its RSS grow or not (0 skips)"),
    ("get-requests", "BENCH_GET_REQUESTS", 200, "GETs of a completed 1,000-record job"),
    ("rounds", "BENCH_ROUNDS", 3,
     ("rounds of the limit and service phases, alternated, and of the scale phases; each "
      "phase is reported by its median round")),
    ("bulk-records", "BENCH_BULK_RECORDS", 1_000_000,
     "customers in the bulk phase's one NDJSON upload, inserted then updated (0 skips it)"),
    ("bulk-upload-mib", "BENCH_BULK_UPLOAD_MIB", 1024,
     "MiB of the bulk phase's large upload, for the web's memory (0 skips it)"),
    ("warm-start-rounds", "BENCH_WARM_START_ROUNDS", 4,
     "new web processes with WARM_START on, and as many with it off, for their first requests "
     "(0 skips the phase)"),
)


def parse(argv: list[str] | None = None) -> Settings:
    """Return the settings from ``argv``, the environment, then the defaults."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    for option, variable, default, text in _OPTIONS:
        parser.add_argument(f"--{option}", type=int, default=int(os.environ.get(variable, default)),
                            help=f"{text} (${variable}, default {default:,})")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("BENCH_OUT", RESULTS)),
                        help="where the JSON and the chart go ($BENCH_OUT)")
    args = parser.parse_args(argv)
    values = {option.replace("-", "_"): getattr(args, option.replace("-", "_"))
              for option, *_ in _OPTIONS}
    if values["batch"] < 1 or values["clients"] < 1 or 0 < values["records"] < values["batch"]:
        parser.error("need a batch of at least 1, records 0 (skip) or >= batch, a client or more")
    if values["rounds"] < 1:
        parser.error("need at least one round")
    return Settings(**values, out=args.out)
