"""The worker's session priority (app/priority.py), on this machine's own kernel.

Each case runs in a new session of its own (``start_new_session``), so it has an autogroup
of its own to change and never changes the one of the test run.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app import priority
from tests.support.autogroups import HAS_AUTOGROUPS

needs_autogroups = pytest.mark.skipif(not HAS_AUTOGROUPS, reason="a kernel without autogroups")

# Prints what lower_session_priority returned and the group's niceness after it, and after
# restore_session_priority; `setup` runs first.
SUBJECT = """
import json, subprocess, sys
from app import priority
from tests.support.autogroups import autogroup
{setup}
niceness = lambda: autogroup("self")[1]
before = priority.lower_session_priority({increment})
lowered = niceness()
priority.restore_session_priority(before)
print(json.dumps({{"before": before, "lowered": lowered, "restored": niceness()}}))
"""

# A session whose leader starts an unrelated process, then the subject: a group shared.
SHARED_SESSION = """
import subprocess, sys
stranger = subprocess.Popen(["sleep", "30"])
try:
    sys.exit(subprocess.run([sys.executable, "-c", sys.argv[1]]).returncode)
finally:
    stranger.kill()
    stranger.wait()
"""


def run_in_new_session(increment: int, setup: str = "", shared: bool = False) -> dict:
    subject = SUBJECT.format(setup=textwrap.dedent(setup), increment=increment)
    command = [sys.executable, "-c", subject]
    if shared:
        command[2:2] = [SHARED_SESSION]  # the shared session's leader runs the subject
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True,
                          start_new_session=True, cwd=Path(__file__).parents[2])
    return json.loads(done.stdout.splitlines()[-1])


@needs_autogroups
def test_a_worker_alone_in_its_session_lowers_its_group_and_gives_it_back():
    assert run_in_new_session(10) == {"before": 0, "lowered": 10, "restored": 0}


@needs_autogroups
def test_its_own_children_do_not_make_the_group_shared():
    # The pool processes: started by the worker, so they are family.
    started = """
        import atexit
        child = subprocess.Popen(["sleep", "30"], stdout=subprocess.DEVNULL)
        atexit.register(lambda: (child.kill(), child.wait()))
    """
    assert run_in_new_session(7, setup=started)["lowered"] == 7


@needs_autogroups
def test_a_group_shared_with_another_process_is_left_alone():
    assert run_in_new_session(10, shared=True) == {"before": None, "lowered": 0, "restored": 0}


@needs_autogroups
def test_the_niceness_stops_at_19():
    already_low = 'open("/proc/self/autogroup", "w").write("15")'
    after = run_in_new_session(10, setup=already_low)
    assert after == {"before": 15, "lowered": 19, "restored": 15}


@needs_autogroups
def test_no_increment_changes_nothing():
    assert run_in_new_session(0) == {"before": None, "lowered": 0, "restored": 0}


def test_a_kernel_without_autogroups_changes_nothing(tmp_path):
    (tmp_path / "self").mkdir()  # a /proc whose processes have no autogroup file
    assert priority.lower_session_priority(10, proc=tmp_path) is None
