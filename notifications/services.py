"""Notifications raised by workflow steps. Called by reports.services (no signals). Filled in by issue 6."""

from __future__ import annotations


def notify_report_submitted(*, report) -> None:
    """A report was submitted: the office's review queue grew."""


def notify_report_returned(*, report, reason: str) -> None:
    """A report was returned: tell the unit's liaisons, with the reason."""


def notify_period_reopened(*, reopening) -> None:
    """A closed period was reopened for a unit: tell its liaisons."""
