"""pytest plugin: a skipped test fails the run.

Odoo skips browser tests when chromium or websocket-client is missing and pytest-odoo
skips HttpCase without --odoo-http; in this project such a skip must fail loudly.
"""
import pytest

_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped; skipping is not allowed here: "
            + ", ".join(_skipped), red=True,
        )
