"""A ``next`` parameter is followed only within this site (campaign/redirects.py), on every POST view that
takes one: evidence add/remove, approve, the review queue's bulk approve and the inbox."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from tests.factories import make_report

HOSTILE = [
    "javascript:alert(1)",
    "https://evil.example/x",
    "//evil.example/x",
    "\\\\evil.example",
    "JaVaScRiPt:alert(1)",
]


@pytest.fixture
def submitted(open_period, unit_a, liaison_a):
    return make_report(period=open_period, unit=unit_a, task=1)


@pytest.mark.parametrize("target", HOSTILE)
def test_approve_ignores_an_off_site_next(client, office_user, submitted, target):
    response = logged_in(client, office_user).post(f"/reports/{submitted.pk}/approve/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{submitted.pk}/"


@pytest.mark.parametrize("target", HOSTILE)
def test_evidence_add_ignores_an_off_site_next(client, liaison_a, open_period, unit_a, target):
    draft = make_report(period=open_period, unit=unit_a, task=1, state="draft")
    response = logged_in(client, liaison_a).post(
        f"/reports/{draft.pk}/evidence/",
        {"url": "https://www.gov.cn/a.html", "caption": "链接", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{draft.pk}/"
    assert draft.evidence.count() == 1


def test_a_same_site_next_is_followed(client, office_user, submitted):
    response = logged_in(client, office_user).post(
        f"/reports/{submitted.pk}/approve/", {"next": "/reports/review/?period=1"}
    )
    assert response["Location"] == "/reports/review/?period=1"


@pytest.mark.parametrize("target", HOSTILE)
def test_bulk_approve_ignores_an_off_site_next(client, office_user, submitted, target):
    response = logged_in(client, office_user).post(
        "/reports/review/approve/", {"ids": [submitted.pk], "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/reports/review/"
