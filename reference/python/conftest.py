"""Lets the tests import the reference modules (``import common``) however
pytest is started, e.g. ``python -m pytest reference/python`` from the repo root.

No silent skips: under MLBENCH_REQUIRE_ALL=1 (``./build.sh test`` sets it) or CI
(set to anything but "", "0" or "false"), a test that would skip fails instead,
with the skip's reason, as in the Go and Rust tests.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def require_all():
    ci = os.environ.get("CI", "")
    return os.environ.get("MLBENCH_REQUIRE_ALL") == "1" or ci not in ("", "0", "false")


def _fail_skip(report):
    """Turns a skip report into a failure that says why the test could not run."""
    if not report.skipped or hasattr(report, "wasxfail") or not require_all():
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"cannot run: {reason} (MLBENCH_REQUIRE_ALL=1 or CI: a test that cannot run fails)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _fail_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    _fail_skip(report)
    return report
