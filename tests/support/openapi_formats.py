"""Hypothesis strategies for the formats the OpenAPI document names for values only the
service makes (cursors) or that must stay on this machine (callback URLs).

Registered with schemathesis on import, so generated "valid" requests are valid: any
well-formed cursor is a real position, and a generated callback URL points at a closed
loopback port, never at a host on the network.
"""

from __future__ import annotations

from datetime import timezone

import schemathesis
from hypothesis import strategies as st

from schemas import cursors
from schemas.queries import CALLBACK_URL_FORMAT, INDEX_CURSOR_FORMAT, JOB_CURSOR_FORMAT

schemathesis.openapi.format(JOB_CURSOR_FORMAT, st.builds(
    lambda moment, job_id: cursors.encode(moment.isoformat(), job_id),
    st.datetimes(timezones=st.just(timezone.utc)), st.integers(1, 2**53 - 1)))
schemathesis.openapi.format(INDEX_CURSOR_FORMAT, st.builds(cursors.encode,
                                                           st.integers(-1, 2**31 - 1)))
# Port 9 (discard) is closed here: a webhook to it fails at once and is given up quietly.
schemathesis.openapi.format(CALLBACK_URL_FORMAT,
                            st.from_regex(r"\Ahttp://127\.0\.0\.1:9/hook/[a-z0-9]{0,16}\Z"))
# Uploads and their parts (NDJSON, CSV) are text: sent as the text generated for them.
schemathesis.serializer.alias(["application/x-ndjson", "text/csv"], "text/plain")
