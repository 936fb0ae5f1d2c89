"""The indicator-system pages: who may open them, the tree with its totals, and the office's edits."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessment.models import Indicator, IndicatorAccount, IndicatorLink, IndicatorSystem
from assessment.selectors import indicator_tree, system_points
from tests.assessment.conftest import node

pytestmark = pytest.mark.django_db


def _pages(system):
    leaf = node(system, "1.1.1")
    return [
        reverse("assessment:systems"),
        reverse("assessment:system", args=[system.pk]),
        reverse("assessment:mapping", args=[system.pk]),
    ], [
        reverse("assessment:system_create"),
        reverse("assessment:import"),
        reverse("assessment:system_edit", args=[system.pk]),
        reverse("assessment:indicator_add", args=[system.pk]),
        reverse("assessment:indicator_edit", args=[leaf.pk]),
        reverse("assessment:indicator_move", args=[leaf.pk]),
        reverse("assessment:indicator_delete", args=[leaf.pk]),
        reverse("assessment:task_search", args=[system.pk]),
    ]


def test_office_opens_every_page(as_office, small_system):
    readers, office = _pages(small_system)
    for url in readers + office:
        response = as_office.get(url)
        assert response.status_code == 200, url


def test_leader_reads_but_does_not_edit(as_leader, small_system):
    readers, office = _pages(small_system)
    for url in readers:
        response = as_leader.get(url)
        assert response.status_code == 200, url
        assert "添加一级指标" not in response.content.decode()
        assert "按共有词语生成建议" not in response.content.decode()
    for url in office:
        assert as_leader.get(url).status_code == 403, url


@pytest.mark.parametrize("who", ["as_liaison_a", "unit_leader"])
def test_unit_people_see_nothing(request, client, small_system, who):
    if who == "unit_leader":
        client.force_login(request.getfixturevalue("unit_leader"))
    else:
        request.getfixturevalue(who)
    readers, office = _pages(small_system)
    for url in readers + office:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "组织领导" not in response.content.decode()


def test_anonymous_is_sent_to_login(client, small_system):
    readers, office = _pages(small_system)
    for url in readers + office:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


def test_writes_refused_to_leader_and_liaison(client, leadership_user, liaison_a, small_system):
    leaf = node(small_system, "1.1.1")
    link = IndicatorLink.objects.filter(indicator=leaf).first()
    posts = [
        (reverse("assessment:system_archive", args=[small_system.pk]), {"active": "0"}),
        (reverse("assessment:indicator_delete", args=[leaf.pk]), {}),
        (reverse("assessment:indicator_shift", args=[leaf.pk]), {"direction": "up"}),
        (reverse("assessment:link_decide", args=[link.pk]), {"action": "reject"}),
        (reverse("assessment:mapping_suggest", args=[small_system.pk]), {}),
    ]
    for user in (leadership_user, liaison_a):
        client.force_login(user)
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    small_system.refresh_from_db()
    assert small_system.is_active
    assert Indicator.objects.filter(pk=leaf.pk).exists()
    link.refresh_from_db()
    assert link.state == IndicatorLink.State.CONFIRMED


def test_tree_page_shows_levels_and_branch_totals(as_office, small_system):
    html = as_office.get(reverse("assessment:system", args=[small_system.pk])).content.decode()
    assert 'data-code="1.1.1"' in html and 'data-level="3"' in html
    assert "末级指标合计 <strong>100</strong> 分，与满分 100 分一致" in html
    assert "total-warning" not in html


def test_tree_page_warns_when_leaves_do_not_add_up(as_leader, small_system):
    Indicator.objects.filter(system=small_system, code="3").update(points=Decimal("25"))
    html = as_leader.get(reverse("assessment:system", args=[small_system.pk])).content.decode()
    assert 'data-testid="total-warning"' in html
    assert "末级指标合计 <strong>95</strong> 分，与满分 100 分不一致" in html


def test_tree_page_in_fixed_queries(as_office, small_system, django_assert_max_num_queries):
    url = reverse("assessment:system", args=[small_system.pk])
    as_office.get(url)
    with django_assert_max_num_queries(12):
        as_office.get(url)


def test_office_creates_edits_and_archives_a_system(as_office, office_user, plan):
    response = as_office.post(
        reverse("assessment:system_create"),
        {
            "name": "市级指标",
            "scope": "city",
            "full_score": "50",
            "pass_score": "45",
            "source": "",
            "description": "",
        },
    )
    system = IndicatorSystem.objects.get(name="市级指标")
    assert response.status_code == 302 and system.full_score == 50 and system.created_by == office_user
    response = as_office.post(
        reverse("assessment:system_edit", args=[system.pk]),
        {"name": "市级指标（修订）", "scope": "city", "full_score": "50", "pass_score": "60"},
    )
    assert response.status_code == 400
    assert "申报分数线（60 分）不能高于满分（50 分）" in response.content.decode()
    system.refresh_from_db()
    assert system.name == "市级指标"
    as_office.post(reverse("assessment:system_archive", args=[system.pk]), {"active": "0"})
    system.refresh_from_db()
    assert not system.is_active
    response = as_office.post(
        reverse("assessment:indicator_add", args=[system.pk]), {"code": "1", "title": "组织", "points": "5"}
    )
    assert "已归档" in response.content.decode()
    assert not system.indicators.exists()


def test_office_adds_a_leaf_under_a_branch_and_the_total_follows(as_office, small_system):
    parent = node(small_system, "2.1")
    response = as_office.post(
        reverse("assessment:indicator_add", args=[small_system.pk]) + f"?parent={parent.pk}",
        {
            "parent": parent.pk,
            "code": "2.1.3",
            "title": "新建宣传栏",
            "points": "5",
            "scoring_rule": "建成得5分",
        },
    )
    assert response.status_code == 302
    leaf = node(small_system, "2.1.3")
    assert leaf.level == 3 and leaf.parent == parent
    roots = indicator_tree(small_system)
    assert roots[1].points == Decimal(45)
    assert system_points(small_system) == Decimal(105)


def test_adding_below_level_three_is_refused(as_office, small_system):
    leaf = node(small_system, "1.1.1")
    response = as_office.post(
        reverse("assessment:indicator_add", args=[small_system.pk]),
        {"parent": leaf.pk, "code": "1.1.1.1", "title": "第四级", "points": "1"},
    )
    assert response.status_code == 400
    assert "三级指标下不能再添加下级指标" in response.content.decode()
    assert not Indicator.objects.filter(code="1.1.1.1").exists()


def test_a_leaf_with_work_does_not_become_a_branch(as_office, small_system, office_user):
    leaf = node(small_system, "3")  # a level-1 leaf
    IndicatorAccount.objects.create(
        indicator=leaf, account="已写的情况说明", score=Decimal(28), updated_by=office_user
    )
    response = as_office.post(
        reverse("assessment:indicator_add", args=[small_system.pk]),
        {"parent": leaf.pk, "code": "3.1", "title": "互嵌式社区", "points": "10"},
    )
    assert response.status_code == 400
    assert "已有情况说明或自评得分" in response.content.decode()
    assert not Indicator.objects.filter(system=small_system, code="3.1").exists()


def test_branch_points_cannot_be_typed_and_duplicate_codes_refused(as_office, small_system):
    branch = node(small_system, "1.1")
    url = reverse("assessment:indicator_edit", args=[branch.pk])
    response = as_office.post(url, {"code": "1.1", "title": "工作机制", "points": "40"})
    assert response.status_code == 400
    assert "上级指标的分值由其下末级指标合计得出" in response.content.decode()
    response = as_office.post(url, {"code": "2.1", "title": "工作机制"})
    assert response.status_code == 400
    assert "序号“2.1”已被本体系的另一个指标使用" in response.content.decode()
    leaf = node(small_system, "1.1.2")
    response = as_office.post(
        reverse("assessment:indicator_edit", args=[leaf.pk]),
        {"code": "1.1.2", "title": "纳入考核", "points": "十五"},
    )
    assert "分值“十五”不是数字" in response.content.decode()
    response = as_office.post(
        reverse("assessment:indicator_edit", args=[leaf.pk]),
        {"code": "1.1.2", "title": "纳入考核", "points": "12.5"},
    )
    assert response.status_code == 302
    assert system_points(small_system) == Decimal("97.5")


def test_move_changes_level_and_refuses_a_fourth_level(as_office, small_system):
    branch = node(small_system, "2.1")  # with two leaves: moving it under 1.1 would make level 4
    target = node(small_system, "1.1")
    response = as_office.post(reverse("assessment:indicator_move", args=[branch.pk]), {"parent": target.pk})
    assert response.status_code == 400
    assert "超过三级" in response.content.decode()
    leaf = node(small_system, "2.1.2")
    response = as_office.post(reverse("assessment:indicator_move", args=[leaf.pk]), {"parent": ""})
    assert response.status_code == 302
    leaf.refresh_from_db()
    assert leaf.level == 1 and leaf.parent is None
    response = as_office.post(reverse("assessment:indicator_move", args=[branch.pk]), {"parent": ""})
    assert response.status_code == 302
    branch.refresh_from_db()
    child = node(small_system, "2.1.1")
    assert (branch.level, child.level) == (1, 2)
    assert system_points(small_system) == Decimal(100)


def test_move_under_itself_is_refused(as_office, small_system):
    branch = node(small_system, "1")
    response = as_office.post(
        reverse("assessment:indicator_move", args=[branch.pk]), {"parent": node(small_system, "1.1").pk}
    )
    assert "不能把指标移到它自己或它的下级指标之下" in response.content.decode()


def test_shift_swaps_siblings(as_office, small_system):
    second = node(small_system, "2")
    as_office.post(reverse("assessment:indicator_shift", args=[second.pk]), {"direction": "up"})
    assert [r.indicator.code for r in indicator_tree(small_system)] == ["2", "1", "3"]


def test_delete_asks_first_and_takes_the_subtree(as_office, small_system):
    branch = node(small_system, "1")
    page = as_office.get(reverse("assessment:indicator_delete", args=[branch.pk])).content.decode()
    assert "下级指标 3 个" in page and "任务对应 2 条" in page
    assert Indicator.objects.filter(system=small_system).count() == 9
    as_office.post(reverse("assessment:indicator_delete", args=[branch.pk]))
    assert not Indicator.objects.filter(system=small_system, code__startswith="1").exists()
    assert system_points(small_system) == Decimal(70)


def test_example_notice_is_visible(as_leader, small_system):
    small_system.is_example = True
    small_system.save()
    for url in (reverse("assessment:systems"), reverse("assessment:system", args=[small_system.pk])):
        assert "示例，须以国家民委正式印发的指标体系替换" in as_leader.get(url).content.decode()
