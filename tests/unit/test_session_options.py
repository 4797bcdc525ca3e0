"""PostgreSQL sessions give up on a silent peer: both ends, within DB_DEAD_PEER_SECONDS."""

from __future__ import annotations

import re

from app.store.db import session_options


def test_a_silent_postgresql_peer_is_dropped_by_both_ends_within_the_setting():
    options = session_options(statement_timeout_ms=30_000, lock_timeout_ms=15_000,
                              dead_peer_seconds=15, idle_in_transaction_timeout_ms=20_000)
    client_keepalive = (options["keepalives_idle"]
                        + options["keepalives_interval"] * options["keepalives_count"])
    assert options["keepalives"] == 1 and client_keepalive <= 15
    assert options["tcp_user_timeout"] == 15_000
    server = dict(re.findall(r"-c (\w+)=(\S+)", options["options"]))
    assert int(server["tcp_keepalives_idle"]) + int(server["tcp_keepalives_interval"]) \
        * int(server["tcp_keepalives_count"]) <= 15
    assert server["tcp_user_timeout"] == "15000"
    assert server["idle_in_transaction_session_timeout"] == "20000"
    assert int(server["client_connection_check_interval"]) <= 15_000
