"""devtools.service: LiveService runs any shell line as it runs the Procfile's, and stops it."""

from __future__ import annotations

import os

from devtools.service import LiveService


def test_launch_runs_a_shell_line_with_the_service_environment_and_logs_it(tmp_path):
    service = LiveService(env={**os.environ, "GREETING": "hello"}, log_dir=tmp_path)
    greeter = service.launch("greeter", 'echo "$GREETING $EXTRA on $PORT"', EXTRA="world")
    sleeper = service.launch("sleeper", "sleep 600")
    assert greeter.wait(30) == 0
    service.stop_all()
    assert sleeper.poll() is not None  # stopped, not left running
    assert (tmp_path / "greeter-0.log").read_text() == f"hello world on {service.port}\n"
    assert service.processes == {"greeter": [], "sleeper": []}
