"""An id too large for the database in a list filter matches nothing (200, empty) or is refused with a Chinese
message (400, the filters that check the row exists), never a server error."""

from __future__ import annotations

import pytest

HUGE = "100596710867701891072"  # > 2**63: SQLite cannot even bind it


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/reports/?unit={HUGE}",
        f"/api/v1/reports/?period=-{HUGE}",
        f"/api/v1/reports/?task={HUGE}",
        f"/api/v1/reports/?task_number={HUGE}",
        f"/api/v1/units/?parent={HUGE}",
        f"/api/v1/phases/?campaign={HUGE}",
        f"/api/v1/periods/?campaign={HUGE}",
        f"/api/v1/compilations/?unit={HUGE}",
        f"/api/v1/compilations/?period={HUGE}",
        f"/api/v1/tasks/?section={HUGE}",
    ],
)
def test_an_out_of_range_id_in_a_filter_matches_nothing(api_client, office_user, url):
    api_client.force_authenticate(office_user)

    response = api_client.get(url)

    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert response.json()["count"] == 0
    else:
        assert "选择一个有效的选项" in response.content.decode()
