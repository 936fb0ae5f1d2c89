"""示范点 of the site register as dossier evidence: a leaf's site candidates (named as of today, by default
those of the linked tasks), picking one (the office only; a site not named is refused), the site's card,
naming document and photos in the PDF (merged, embedded) and in the zip and its 台账 (read back), a merged
site dropping out, and the evaluator seeing the picked site's files and no other site's."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from assessment import dossier, inspector, picks
from assessment.models import EvidencePick
from sites import services as site_services
from sites.models import Site
from tasks.models import Task
from tests.assessment.conftest import node
from tests.assessment.test_dossier import build, page_texts  # noqa: F401 (fixture)
from tests.assessment.test_dossier_world import dossier_world, pdf_bytes, png_bytes
from units.models import Unit

pytestmark = pytest.mark.django_db
NAMING_TEXT = "NAMING-DOCUMENT-OF-DONGGUAN"


def new_site(liaison, unit, name: str, task: int, *, category=Site.Category.COMMUNITY) -> Site:
    return site_services.site_create(
        by=liaison,
        owner=unit,
        name=name,
        category=category,
        task=Task.objects.get(number=task),
        address="东关街1号",
        county=Unit.objects.get(code="kongtong"),
    )


def name_it(
    site: Site, liaison, office, *, level=Site.Level.CITY, named_on=dt.date(2025, 6, 30), text=NAMING_TEXT
) -> Site:
    naming = site_services.naming_request(
        site=site,
        by=liaison,
        level=level,
        named_on=named_on,
        document=SimpleUploadedFile("东关社区命名文件.pdf", pdf_bytes(text), content_type="application/pdf"),
    )
    site_services.naming_approve(naming=naming, by=office)
    Site.objects.filter(pk=site.pk).update(created_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC))
    return Site.objects.get(pk=site.pk)


@pytest.fixture
def sites(small_system, liaison_a, office_user):
    """On task 3 (linked to 2.1.1): 东关社区 named (city level, a photo) and 西关社区 only cultivating; on task 25
    (not linked): 柳湖社区 named."""
    unit = Unit.objects.get(code="xuanchuanbu")
    dongguan = name_it(new_site(liaison_a, unit, "东关社区", 3), liaison_a, office_user)
    site_services.site_add_photo(
        site=dongguan,
        by=liaison_a,
        upload=SimpleUploadedFile("活动室.png", png_bytes((20, 160, 60)), content_type="image/png"),
        caption="东关社区民族团结活动室",
    )
    xiguan = new_site(liaison_a, unit, "西关社区", 3)
    liuhu = name_it(
        new_site(liaison_a, unit, "柳湖社区", 25), liaison_a, office_user, level=Site.Level.PROVINCE
    )
    return {"东关社区": dongguan, "西关社区": xiguan, "柳湖社区": liuhu}


def candidate_names(indicator, **params) -> list[str]:
    choices = picks.filter_choices(indicator)
    filters = picks.SiteFilters.parse(params, counties=choices.counties)
    return [s.name for s in picks.site_candidates_page(indicator, filters=filters)]


def test_site_candidates_are_named_sites_of_the_linked_tasks_unless_the_office_widens_them(
    small_system, sites
):
    leaf = node(small_system, "2.1.1")
    assert candidate_names(leaf) == ["东关社区"]  # 西关社区 is not named; 柳湖社区 is on an unlinked task
    assert sorted(candidate_names(leaf, s_scope="community")) == ["东关社区", "柳湖社区"]
    assert candidate_names(leaf, s_scope="all", s_level="province") == ["柳湖社区"]
    assert candidate_names(leaf, s_scope="all", s_q="柳湖") == ["柳湖社区"]
    assert candidate_names(leaf, s_scope="nonsense") == ["东关社区"]  # an unknown scope is the default
    assert candidate_names(node(small_system, "1.1.1")) == []  # task 1 carries no site


def test_the_office_picks_a_named_site_and_one_not_named_is_refused(
    small_system, sites, as_office, office_user
):
    leaf = node(small_system, "2.1.1")
    url = reverse("assessment:pick_add", args=[leaf.pk])

    response = as_office.post(url, {"site": sites["东关社区"].pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert EvidencePick.objects.filter(indicator=leaf, site=sites["东关社区"]).count() == 1
    body = response.content.decode()
    assert (
        "东关社区" in body and 'id="pick-site-{}"'.format(sites["东关社区"].pk) in body
    )  # the button says 已入卷

    response = as_office.post(url, {"site": sites["西关社区"].pk}, HTTP_HX_REQUEST="true")
    assert "尚未命名" in response.content.decode()
    assert not EvidencePick.objects.filter(site=sites["西关社区"]).exists()

    response = as_office.post(url, {"site": "x"}, HTTP_HX_REQUEST="true")
    assert "所选材料无效" in response.content.decode()

    page = as_office.get(reverse("assessment:indicator", args=[leaf.pk]) + "?s_scope=all")
    text = page.content.decode()
    assert page.status_code == 200 and "候选示范点" in text and "柳湖社区" in text and "西关社区" not in text


def test_no_one_but_the_office_picks_a_site(small_system, sites, as_liaison_a, as_leader):
    leaf = node(small_system, "2.1.1")
    url = reverse("assessment:pick_add", args=[leaf.pk])
    assert as_liaison_a.post(url, {"site": sites["东关社区"].pk}).status_code == 403
    assert as_leader.post(url, {"site": sites["东关社区"].pk}).status_code == 403
    anonymous = Client().post(url, {"site": sites["东关社区"].pk})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert not EvidencePick.objects.exists()
    page = as_leader.get(reverse("assessment:indicator", args=[leaf.pk])).content.decode()
    assert "东关社区" in page and 'data-testid="pick-site"' not in page  # leadership reads, no buttons


def test_a_site_merged_away_or_no_longer_named_drops_out(small_system, sites, office_user):
    leaf = node(small_system, "2.1.1")
    picks.pick_add(indicator=leaf, by=office_user, site_id=sites["东关社区"].pk)
    picks.pick_add(indicator=leaf, by=office_user, site_id=sites["柳湖社区"].pk)
    assert dossier.picked().filter(indicator=leaf).count() == 2

    site_services.site_merge(keep=sites["柳湖社区"], absorb=sites["东关社区"], by=office_user)
    left = list(dossier.picked().filter(indicator=leaf))
    assert [p.site.name for p in left] == ["柳湖社区"]


def test_the_dossier_carries_the_site_card_naming_document_and_photo(
    small_system,
    sites,
    office_user,
    build,  # noqa: F811
):
    world = dossier_world(small_system, office_user)
    leaf = node(small_system, "2.1.1")
    site = sites["东关社区"]
    picks.pick_add(indicator=leaf, by=office_user, site_id=site.pk)
    sections = {s.indicator.code: s for s in dossier.dossier_sections(world.system).sections}
    items = sections["2.1.1"].items
    assert [i.label for i in items] == ["1", "2", "3", "3-1", "3-2"]
    assert [i.kind for i in items[2:]] == ["site", "pdf", "image"]
    assert sections["2.1.1"].pick_count == 3

    pdf = PdfReader(build(office_user, world.system, "pdf").file.path)
    texts = page_texts(pdf)
    card = next(i for i, t in enumerate(texts) if "示范点：东关社区" in t)
    table = "".join(texts[card : card + 2])  # the card's table is never split, and may start the next page
    assert "市级示范点" in table and "2025年6月30日" in table and "东关街1号" in table
    assert "东关社区民族团结活动室" in "".join(texts)  # the photo's caption under the embedded image
    merged = [i for i, t in enumerate(texts) if NAMING_TEXT in t]
    assert merged and merged[0] > card  # the naming document follows its leaf's pages

    archive = zipfile.ZipFile(build(office_user, world.system, "zip").file.path)
    names = archive.namelist()
    naming = next(n for n in names if n.endswith("03-01 东关社区 东关社区命名文件.pdf"))
    photo = next(n for n in names if n.endswith("03-02 东关社区 活动室.png"))
    stored = Site.objects.get(pk=site.pk).naming_document.read()
    assert archive.read(naming) == stored
    assert hashlib.sha256(archive.read(photo)).hexdigest() == site.photos.get().sha256
    workbook = load_workbook(io.BytesIO(archive.read("台账.xlsx")))
    listed = [row[7] for row in workbook["台账"].iter_rows(min_row=2, values_only=True)]
    assert naming in listed and photo in listed
    rows = list(workbook["入卷示范点"].iter_rows(min_row=2, values_only=True))
    assert rows == [
        (
            1,
            "2 宣传教育",
            "2.1.1 建设民族团结进步宣传阵地",
            "东关社区",
            "社区(村)",
            "市级",
            dt.datetime(2025, 6, 30),  # a date cell
            site.county.name,
            "市委宣传部",
            "东关街1号",
        )
    ]


def test_the_evaluator_sees_the_picked_site_and_its_files_only(small_system, sites, office_user):
    leaf = node(small_system, "2.1.1")
    dongguan, liuhu = sites["东关社区"], sites["柳湖社区"]
    picks.pick_add(indicator=leaf, by=office_user, site_id=dongguan.pk)
    site_services.site_add_photo(
        site=liuhu,
        by=office_user,
        upload=SimpleUploadedFile("柳湖.png", png_bytes(), content_type="image/png"),
    )
    grant, code = inspector.grant_create(system=small_system, by=office_user, name="第三方评估组", days=14)
    client = Client()
    assert client.post(reverse("assessment:inspect", args=[grant.token]), {"code": code}).status_code == 302

    page = client.get(reverse("assessment:inspect_indicator", args=[grant.token, leaf.pk])).content.decode()
    assert "示范点：东关社区" in page and "市级示范点" in page and "柳湖社区" not in page
    # every evaluator page has the way out, the title leads back to the overview, files open beside it
    assert 'data-testid="leave"' in page
    assert f'class="navbar-brand" href="/assessment/inspect/{grant.token}/"' in page
    assert 'target="_blank" rel="noopener" data-testid="inspect-file"' in page

    def file(source, pk):
        return client.get(reverse("assessment:inspect_file", args=[grant.token, source, pk]))

    photo = dongguan.photos.get()
    assert file("site-photo", photo.pk).status_code == 200
    response = file("site-naming", dongguan.pk)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert file("site-photo", liuhu.photos.get().pk).status_code == 404  # not picked
    assert file("site-naming", liuhu.pk).status_code == 404
    assert file("site-file", photo.pk).status_code == 404  # a photo is not a file of the site
    assert grant.views.filter(what__contains="活动室.png").exists()


def test_reading_the_dossier_takes_as_many_queries_for_many_sites_as_for_one(
    small_system, sites, office_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    leaf = node(small_system, "2.1.1")
    picks.pick_add(indicator=leaf, by=office_user, site_id=sites["东关社区"].pk)
    with CaptureQueriesContext(connection) as one:
        assert len(dossier.dossier_sections(small_system).sections[2].items) == 3  # card, naming, photo
    picks.pick_add(indicator=node(small_system, "2.1.2"), by=office_user, site_id=sites["柳湖社区"].pk)
    picks.pick_add(indicator=node(small_system, "1.1.1"), by=office_user, site_id=sites["柳湖社区"].pk)
    with CaptureQueriesContext(connection) as three:
        sections = dossier.dossier_sections(small_system).sections
    assert sum(1 for s in sections for i in s.items if i.kind == "site") == 3
    assert len(three) == len(one)


# ------------------------------------------------------------------------------ the review's cases


def test_the_card_and_the_naming_document_come_from_the_same_naming(
    small_system, sites, liaison_a, office_user
):
    """A county naming dated before the city one but approved after it: the card says 市级 (the latest naming
    by date, ``sites_as_of``) and the document attached is the city decision, not the last one approved."""
    site = sites["东关社区"]
    name_it(
        site, liaison_a, office_user, level=Site.Level.COUNTY, named_on=dt.date(2024, 1, 1), text="COUNTY-DOC"
    )
    leaf = node(small_system, "2.1.1")
    picks.pick_add(indicator=leaf, by=office_user, site_id=site.pk)
    items = dossier.items_of(dossier.pick_queryset(small_system).filter(indicator=leaf))
    card, naming = items[0], items[1]
    assert card.site_level_label == "市级" and card.site_named_on == dt.date(2025, 6, 30)
    with naming.holder.file.open("rb") as handle:
        text = PdfReader(handle).pages[0].extract_text()
    assert NAMING_TEXT in text and "COUNTY-DOC" not in text


def test_a_new_naming_document_of_the_same_size_starts_the_zip_folder_again(
    small_system, sites, liaison_a, office_user
):
    from assessment.dossier_zip import _fingerprint

    leaf = node(small_system, "2.1.1")
    picks.pick_add(indicator=leaf, by=office_user, site_id=sites["东关社区"].pk)

    def fingerprint():
        section = next(
            s for s in dossier.dossier_sections(small_system).sections if s.indicator.pk == leaf.pk
        )
        return _fingerprint(section)

    before = fingerprint()
    name_it(
        sites["东关社区"], liaison_a, office_user, named_on=dt.date(2025, 7, 1)
    )  # same name, same bytes' size
    assert fingerprint() != before


def test_two_sites_of_one_naming_decision_share_it_in_a_leaf(small_system, sites, liaison_a, office_user):
    leaf = node(small_system, "2.1.1")
    shared = Site.objects.get(pk=sites["东关社区"].pk)
    other = new_site(liaison_a, Unit.objects.get(code="xuanchuanbu"), "南关社区", 3)
    Site.objects.filter(pk=other.pk).update(created_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC))
    naming = shared.namings.get()
    naming.pk = None
    naming.site = other
    naming.save()  # the same decision (one stored file) names both
    picks.pick_add(indicator=leaf, by=office_user, site_id=shared.pk)
    picks.pick_add(indicator=leaf, by=office_user, site_id=other.pk)
    picks.pick_add(indicator=node(small_system, "2.1.2"), by=office_user, site_id=other.pk)
    sections = {s.indicator.code: s for s in dossier.dossier_sections(small_system).sections}
    items = sections["2.1.1"].items
    assert [(i.label, i.kind) for i in items] == [
        ("1", "site"),
        ("1-1", "pdf"),
        ("1-2", "image"),
        ("2", "site"),
    ]
    assert items[3].naming_same_as == "1-1"
    # in another leaf the same site brings its naming document again: each leaf's folder stands alone
    assert [(i.label, i.kind) for i in sections["2.1.2"].items] == [("1", "site"), ("1-1", "pdf")]


def test_site_files_keep_the_extension_of_what_they_are(small_system, sites, liaison_a, office_user):
    site = sites["东关社区"]
    site_services.site_add_file(
        site=site,
        by=liaison_a,
        upload=SimpleUploadedFile("IMG_0001", png_bytes(), content_type="application/octet-stream"),
    )
    site_services.site_add_file(
        site=site,
        by=liaison_a,
        upload=SimpleUploadedFile("scan.pdf", png_bytes(), content_type="application/pdf"),
    )
    leaf = node(small_system, "2.1.1")
    picks.pick_add(indicator=leaf, by=office_user, site_id=site.pk)
    items = dossier.items_of(dossier.pick_queryset(small_system).filter(indicator=leaf))
    assert [i.zip_file_name for i in items if i.source == "site-file"] == [
        "01-03 东关社区 IMG_0001.png",
        "01-04 东关社区 scan.png",
    ]


def test_the_evaluator_opens_a_picked_sites_other_file(small_system, sites, liaison_a, office_user):
    site = sites["东关社区"]
    row = site_services.site_add_file(
        site=site,
        by=liaison_a,
        upload=SimpleUploadedFile("建设方案.pdf", pdf_bytes("PLAN"), content_type="application/pdf"),
    )
    picks.pick_add(indicator=node(small_system, "2.1.1"), by=office_user, site_id=site.pk)
    grant, code = inspector.grant_create(system=small_system, by=office_user, name="评估组", days=3)
    client = Client()
    client.post(reverse("assessment:inspect", args=[grant.token]), {"code": code})
    response = client.get(reverse("assessment:inspect_file", args=[grant.token, "site-file", row.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_removing_a_site_pick_gives_its_button_back_and_a_merged_one_is_marked(
    small_system, sites, as_office, office_user
):
    leaf = node(small_system, "2.1.1")
    pick = picks.pick_add(indicator=leaf, by=office_user, site_id=sites["东关社区"].pk)
    response = as_office.post(reverse("assessment:pick_remove", args=[pick.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    button = f'id="pick-site-{sites["东关社区"].pk}" hx-swap-oob="true"'
    assert button in body and "示范点入卷" in body  # the candidate can be picked again, labelled as before

    picks.pick_add(indicator=leaf, by=office_user, site_id=sites["东关社区"].pk)
    picks.pick_add(indicator=leaf, by=office_user, site_id=sites["柳湖社区"].pk)
    site_services.site_merge(keep=sites["柳湖社区"], absorb=sites["东关社区"], by=office_user)
    page = as_office.get(reverse("assessment:indicator", args=[leaf.pk])).content.decode()
    assert "共 2 项，其中 1 项计入" in page and "不计入：示范点已合并或不再是命名状态" in page


def test_each_list_keeps_the_others_filters_and_pages(small_system, sites, as_office):
    leaf = node(small_system, "2.1.1")
    url = reverse("assessment:indicator", args=[leaf.pk])
    page = as_office.get(url + "?q=x&page=2&s_scope=all&s_q=柳湖").content.decode()
    report_form = page.split('aria-label="筛选候选材料"')[1].split("</form>")[0]
    assert 'name="s_scope" value="all"' in report_form and 'name="s_q" value="柳湖"' in report_form
    site_form = page.split('aria-label="筛选候选示范点"')[1].split("</form>")[0]
    assert 'name="q" value="x"' in site_form and 'name="page" value="2"' in site_form
    assert "s_scope=all" in page.split('aria-label="筛选候选材料"')[1].split("清除")[0].rsplit("href=", 1)[1]
    assert "没有符合筛选条件" not in page and "柳湖社区" in page
    assert "没有符合筛选条件的已命名示范点" in as_office.get(url + "?s_q=没有这个").content.decode()


def test_site_candidates_page_with_their_own_parameter_and_anchor(
    small_system, liaison_a, office_user, as_office
):
    unit = Unit.objects.get(code="xuanchuanbu")
    for n in range(picks.SITES_PER_PAGE + 1):
        name_it(new_site(liaison_a, unit, f"示范社区{n:02d}", 3), liaison_a, office_user)
    leaf = node(small_system, "2.1.1")
    page = as_office.get(reverse("assessment:indicator", args=[leaf.pk])).content.decode()
    assert "s_page=2#site-candidates" in page
    second = as_office.get(reverse("assessment:indicator", args=[leaf.pk]) + "?s_page=2").content.decode()
    assert "示范社区20" in second and "示范社区00" not in second
