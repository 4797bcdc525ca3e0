"""Structured logs and Prometheus counters: leaves every other layer may use, importing none."""
