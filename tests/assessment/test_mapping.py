"""Suggested links from shared words, never overwriting the office's decisions; the mapping page in place."""

import pytest
from django.urls import reverse

from assessment import services
from assessment.demo import load_example
from assessment.mapping import readable, suggestions, words
from assessment.models import IndicatorLink
from tasks.models import Metric, Task
from tests.assessment.conftest import node

pytestmark = pytest.mark.django_db


def test_words_drop_the_words_everyone_says():
    assert words("开展民族团结进步创建工作") == set()
    assert words("加强少数民族流动人口服务管理") >= {"流动", "人口", "服务", "管理"}
    assert "族工" not in words("研究民族工作")  # no pair across a cut-out stop word
    assert readable("建设民族团结进步宣传阵地", {"宣传", "传阵", "阵地"}) == ["宣传阵地"]


def test_example_leaves_find_their_tasks(plan):
    system, _ = load_example(plan)
    best = {}
    for s in suggestions(system):
        best.setdefault(s.indicator.code, s)
    expected = {
        "2.2.2": 7,  # 国家通用语言文字 → 推动“双创”融合发展 (普通话教育)
        "2.3.2": 10,  # 门户网站、微信公众号 → 社会教育“固强补弱”
        "4.3.1": 12,  # 生态工程 → 筑牢生态安全屏障
        "5.2.1": 16,  # 青少年交流计划
        "5.3.1": 20,  # 流动人口
        "6.2.1": 18,  # 风俗习惯、合法权益
        "7.1.2": 24,  # 进企业
        "7.4.1": 27,  # 宗教活动场所
    }
    assert {code: best[code].task.number for code in expected} == expected
    assert 0 < best["5.3.1"].similarity <= 1
    assert "流动人口" in best["5.3.1"].shared_text
    assert best["5.2.1"].metric == Metric.objects.get(code="exchange_events")
    assert "1.3.1" not in best  # 经费列入财政预算: no task says so


def test_suggest_records_similarity_and_keeps_decisions(plan, office_user):
    system, _ = load_example(plan)
    result = services.suggest_links(by=office_user, system=system)
    assert result["created"] > 40 and result["decided"] == 0
    leaf = node(system, "5.3.1")
    link = IndicatorLink.objects.get(indicator=leaf, task__number=20)
    assert (
        link.state == IndicatorLink.State.SUGGESTED
        and link.similarity > 0.3
        and "流动人口" in link.shared_words
    )
    services.reject_link(by=office_user, link=link)
    confirmed = IndicatorLink.objects.get(indicator=node(system, "4.3.1"), task__number=12)
    services.confirm_link(by=office_user, link=confirmed)
    by_hand = services.add_link(
        by=office_user, indicator=node(system, "1.3.1"), task=Task.objects.get(number=1)
    )
    # A suggestion that no longer matches goes; the office's decisions stay as they were.
    IndicatorLink.objects.filter(indicator=node(system, "2.2.2")).update(similarity=0.01, shared_words="旧")
    stale = IndicatorLink.objects.create(indicator=node(system, "8.2.2"), task=Task.objects.get(number=29))
    again = services.suggest_links(by=office_user, system=system)
    assert again["created"] == 0 and again["decided"] == 3 and again["removed"] == 1
    assert not IndicatorLink.objects.filter(pk=stale.pk).exists()
    for kept, state in ((link, "rejected"), (confirmed, "confirmed"), (by_hand, "confirmed")):
        kept.refresh_from_db()
        assert kept.state == state and kept.decided_by == office_user
    refreshed = IndicatorLink.objects.get(indicator=node(system, "2.2.2"), task__number=7)
    assert refreshed.similarity > 0.3 and refreshed.shared_words != "旧"


def test_only_the_office_suggests_and_decides(plan, leadership_user, liaison_a, small_system):
    link = IndicatorLink.objects.filter(indicator__system=small_system).first()
    for user in (leadership_user, liaison_a):
        with pytest.raises(services.rules.PermissionDenied):
            services.suggest_links(by=user, system=small_system)
        with pytest.raises(services.rules.PermissionDenied):
            services.confirm_link(by=user, link=link)


def test_add_link_rules(office_user, small_system):
    branch = node(small_system, "1.1")
    with pytest.raises(services.DomainError, match="只有末级指标"):
        services.add_link(by=office_user, indicator=branch, task=Task.objects.get(number=1))
    leaf = node(small_system, "3")
    with pytest.raises(services.DomainError, match="没有“宣传资料”这一量化目标"):
        services.add_link(
            by=office_user,
            indicator=leaf,
            task=Task.objects.get(number=1),
            metric=Metric.objects.get(code="materials"),
        )
    task = Task.objects.get(number=14)
    link = services.add_link(
        by=office_user, indicator=leaf, task=task, metric=Metric.objects.get(code="sites_city")
    )
    assert link.state == IndicatorLink.State.CONFIRMED and link.metric.code == "sites_city"
    # Adding the task that was suggested confirms that suggestion instead of making a second link.
    suggested = IndicatorLink.objects.get(indicator=node(small_system, "2.1.2"), task__number=9)
    again = services.add_link(by=office_user, indicator=suggested.indicator, task=suggested.task)
    assert again.pk == suggested.pk and again.state == IndicatorLink.State.CONFIRMED


# ------------------------------------------------------------------------------------------- the page


def test_mapping_page_lists_leaves_with_links(as_office, small_system):
    response = as_office.get(reverse("assessment:mapping", args=[small_system.pk]))
    html = response.content.decode()
    assert html.count('data-testid="leaf"') == 5
    assert 'data-state="suggested" data-task="9"' in html and 'data-state="confirmed" data-task="3"' in html
    assert '<strong data-testid="linked-count">3</strong>' in html
    open_only = as_office.get(reverse("assessment:mapping", args=[small_system.pk]), {"show": "open"})
    assert open_only.content.decode().count('data-testid="leaf"') == 2


def test_mapping_page_in_fixed_queries(as_office, plan, small_system):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    big, _ = load_example(plan)
    services.suggest_links(by=None, system=big)
    counts = []
    for system in (small_system, big):
        as_office.get(reverse("assessment:mapping", args=[system.pk]))
        with CaptureQueriesContext(connection) as queries:
            as_office.get(reverse("assessment:mapping", args=[system.pk]))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_confirm_and_reject_in_place(as_office, office_user, small_system):
    link = IndicatorLink.objects.get(indicator=node(small_system, "2.1.2"), task__number=9)
    url = reverse("assessment:link_decide", args=[link.pk])
    response = as_office.post(url, {"action": "confirm"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<section class="card mb-2" id="leaf-')
    assert 'data-state="confirmed" data-task="9"' in html and "<html" not in html
    link.refresh_from_db()
    assert link.state == "confirmed" and link.decided_by == office_user and link.decided_at
    as_office.post(url, {"action": "reject"}, HTTP_HX_REQUEST="true")
    link.refresh_from_db()
    assert link.state == "rejected"
    as_office.post(url, {"action": "reopen"}, HTTP_HX_REQUEST="true")
    link.refresh_from_db()
    assert link.state == "suggested" and link.decided_by is None
    response = as_office.post(url, {"action": "confirm"})  # without HTMX: back to the page
    assert response.status_code == 302 and response["Location"].endswith(f"#leaf-{link.indicator_id}")


def test_add_by_hand_with_the_picker(as_office, small_system):
    leaf = node(small_system, "3")
    options = as_office.get(
        reverse("assessment:task_search", args=[small_system.pk]), {"q": "互嵌"}
    ).content.decode()
    task = Task.objects.get(number=14)
    assert f'<option value="{task.pk}">14. 实施各族群众互嵌式发展计划</option>' in options
    assert "15. " not in options
    by_number = as_office.get(
        reverse("assessment:task_search", args=[small_system.pk]), {"q": "25"}
    ).content.decode()
    assert "25. 进社区(村)" in by_number and "14. " not in by_number
    response = as_office.post(
        reverse("assessment:link_add", args=[leaf.pk]),
        {"task": task.pk, "metric": ""},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-state="confirmed" data-task="14"' in response.content.decode()
    response = as_office.post(
        reverse("assessment:link_add", args=[leaf.pk]), {"task": ""}, HTTP_HX_REQUEST="true"
    )
    assert "请先选择一项任务" in response.content.decode()
    bad_metric = Metric.objects.get(code="materials")
    response = as_office.post(
        reverse("assessment:link_add", args=[leaf.pk]),
        {"task": task.pk, "metric": bad_metric.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "所选量化指标不属于这项任务" in response.content.decode()
    assert IndicatorLink.objects.filter(indicator=leaf).count() == 1


def test_suggest_button(as_office, small_system):
    response = as_office.post(reverse("assessment:mapping_suggest", args=[small_system.pk]), follow=True)
    assert "已按共有词语生成建议" in response.content.decode()
    assert IndicatorLink.objects.filter(indicator__system=small_system, state="confirmed").count() == 3


def test_mapping_actions_refused_to_readers_and_units(client, leadership_user, liaison_a, small_system):
    leaf = node(small_system, "3")
    link = IndicatorLink.objects.get(indicator=node(small_system, "2.1.2"), task__number=9)
    task = Task.objects.get(number=14)
    for user in (leadership_user, liaison_a):
        client.force_login(user)
        assert (
            client.post(reverse("assessment:link_add", args=[leaf.pk]), {"task": task.pk}).status_code == 403
        )
        assert (
            client.post(reverse("assessment:link_decide", args=[link.pk]), {"action": "confirm"}).status_code
            == 403
        )
        assert client.get(reverse("assessment:task_search", args=[small_system.pk])).status_code == 403
    client.logout()
    assert client.post(reverse("assessment:link_add", args=[leaf.pk]), {"task": task.pk}).status_code == 302
    link.refresh_from_db()
    assert link.state == "suggested" and not IndicatorLink.objects.filter(indicator=leaf).exists()
