"""The dossier page: what goes in and what is missing; the office builds the PDF and the zip from it,
leadership reads and downloads, unit people and anonymous visitors get nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.compilations.models import Compilation
from tests.assessment.test_dossier_world import dossier_world

pytestmark = pytest.mark.django_db


def page_url(system) -> str:
    return reverse("assessment:dossier", args=[system.pk])


def build_url(system) -> str:
    return reverse("assessment:dossier_build", args=[system.pk])


def test_office_sees_contents_gaps_and_build_buttons(as_office, small_system, office_user):
    dossier_world(small_system, office_user)
    page = as_office.get(page_url(small_system)).content.decode()

    assert 'data-testid="build-pdf"' in page and 'data-testid="build-zip"' in page
    assert 'data-testid="dossier-row-1.1.1"' in page and 'data-testid="dossier-row-3"' in page
    # 2 leaves of 5 have no account and no score; 2 have no picks.
    assert "尚有 2 项指标未写情况说明，2 项未评分，2 项未选佐证材料" in page


def test_office_builds_the_pdf_and_is_taken_to_its_progress(as_office, small_system, office_user):
    dossier_world(small_system, office_user)
    response = as_office.post(build_url(small_system), {"format": "pdf"})

    compilation = Compilation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/compilations/{compilation.pk}/"
    assert (compilation.kind, compilation.format, compilation.subject_id) == (
        "dossier",
        "pdf",
        small_system.pk,
    )
    # Asked again while it is queued: the same row.
    again = as_office.post(build_url(small_system), {"format": "pdf"})
    assert again["Location"] == response["Location"] and Compilation.objects.count() == 1


def test_a_bad_format_is_a_message_not_a_build(as_office, small_system):
    response = as_office.post(build_url(small_system), {"format": "docx"}, follow=True)
    assert "申报材料不提供Word格式，可选：pdf（PDF）、zip（ZIP 压缩包）。" in response.content.decode()
    assert not Compilation.objects.exists()


def test_leadership_reads_the_page_and_downloads_but_cannot_build(as_leader, small_system, office_user):
    from django.core.files.base import ContentFile

    built = Compilation.objects.create(
        kind="dossier",
        format="pdf",
        subject_id=small_system.pk,
        campaign=small_system.campaign,
        state=Compilation.State.DONE,
        requested_by=office_user,
    )
    built.file.save("d.pdf", ContentFile(b"%PDF-1.7 dossier"), save=True)
    page = as_leader.get(page_url(small_system)).content.decode()
    assert "build-pdf" not in page and 'data-testid="download-pdf"' in page

    assert as_leader.post(build_url(small_system), {"format": "pdf"}).status_code == 403
    assert Compilation.objects.count() == 1
    download = as_leader.get(reverse("compilations:download", args=[built.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 dossier"


@pytest.mark.parametrize("who", ["as_liaison_a", "as_liaison_b"])
def test_unit_people_get_nothing_of_the_dossier(request, who, small_system, office_user):
    client = request.getfixturevalue(who)
    built = Compilation.objects.create(
        kind="dossier",
        format="zip",
        subject_id=small_system.pk,
        campaign=small_system.campaign,
        state=Compilation.State.DONE,
        requested_by=office_user,
    )
    assert client.get(page_url(small_system)).status_code == 403
    assert client.post(build_url(small_system), {"format": "pdf"}).status_code == 403
    assert client.get(reverse("compilations:detail", args=[built.pk])).status_code == 404
    assert client.get(reverse("compilations:download", args=[built.pk])).status_code == 404
    assert "申报材料" not in client.get(reverse("compilations:list")).content.decode()
    assert Compilation.objects.count() == 1


def test_anonymous_visitors_are_sent_to_login(client, small_system):
    for url in [page_url(small_system), build_url(small_system)]:
        response = client.post(url) if url.endswith("build/") else client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
