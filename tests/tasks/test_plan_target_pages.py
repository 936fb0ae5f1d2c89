"""The office's pages for adding, changing and deleting a task's targets and the plan's phases: the form
saves through tasks.services and shows the result and its history; a refused change says why, keeps what was
typed and answers 400; deleting asks first (data-confirm, static/js/portal.js)."""

from __future__ import annotations

from django.urls import reverse

from campaign.models import Phase
from tasks.models import Metric, PlanChange, Target, Task
from units.models import Unit


def _task(plan, number: int) -> Task:
    return Task.objects.get(campaign=plan, number=number)


def test_the_task_page_offers_adding_changing_and_deleting_targets(as_office, plan):
    task = _task(plan, 14)
    target = Target.objects.get(task=task, metric__name="省级互嵌式示范点")

    html = as_office.get(reverse("plan_import:task", args=[task.pk])).content.decode()

    assert f'href="{reverse("plan_import:target_new", args=[task.pk])}"' in html
    assert f'href="{reverse("plan_import:target_change", args=[target.pk])}"' in html
    assert f'action="{reverse("plan_import:target_delete", args=[target.pk])}"' in html
    assert 'data-confirm="删除量化目标“全市 · 省级互嵌式示范点 不少于7个”？' in html


def test_adding_a_target_with_a_new_metric_from_the_page(as_office, plan):
    task = _task(plan, 5)
    kongtong = Unit.objects.get(code="kongtong")
    url = reverse("plan_import:target_new", args=[task.pk])
    assert 'name="new_metric_name"' in as_office.get(url).content.decode()

    response = as_office.post(
        url,
        {
            "new_metric_name": "民族团结示范家庭",
            "new_metric_uom": "户",
            "new_metric_aggregation": "latest",
            "comparison": "gte",
            "value": "30",
            "scope": "each_unit",
            "units": [kongtong.pk],
            "period_kind": "by_date",
            "due_on": "2025-12-31",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("plan_import:task", args=[task.pk]) + "#targets"
    target = Target.objects.get(task=task, metric__name="民族团结示范家庭")
    assert (target.scope_label, target.value, target.metric.aggregation) == ("崆峒区", 30, "latest")
    html = as_office.get(response.url).content.decode()
    assert "已添加量化目标：崆峒区：民族团结示范家庭不少于30户，到2025年底。" in html
    assert [(c.field, c.after) for c in PlanChange.objects.order_by("id")] == [
        ("新建指标", "民族团结示范家庭（户，存量：截至本季度累计，取最新值）"),
        ("新增量化目标", "崆峒区：民族团结示范家庭不少于30户，到2025年底"),
    ]


def test_a_refused_target_keeps_what_was_typed_and_says_why(as_office, plan):
    task = _task(plan, 5)
    lectures = Metric.objects.get(code="lectures")
    url = reverse("plan_import:target_new", args=[task.pk])

    both = as_office.post(
        url,
        {
            "metric": lectures.pk,
            "new_metric_name": "宣讲",
            "new_metric_uom": "场",
            "comparison": "gte",
            "value": "5",
            "scope": "city",
            "period_kind": "per_year",
        },
    )
    no_units = as_office.post(
        url,
        {
            "metric": lectures.pk,
            "comparison": "gte",
            "value": "12",
            "scope": "each_unit",
            "period_kind": "per_year",
        },
    )

    assert both.status_code == 400
    assert "已选择已有指标，又填写了新指标：请二者选一" in both.content.decode()
    assert no_units.status_code == 400
    html = no_units.content.decode()
    assert "范围为“列明单位各自”时请选择范围内的单位（至少一个）。" in html
    assert 'name="value" id="id_value" class="form-control form-control-sm" value="12"' in html
    assert f'<option value="{lectures.pk}" selected>' in html
    assert not Target.objects.filter(task=task).exists()
    assert PlanChange.objects.count() == 0


def test_changing_a_targets_scope_from_its_page(as_office, plan):
    target = Target.objects.get(task__campaign=plan, task__number=14, metric__name="省级互嵌式示范点")
    url = reverse("plan_import:target_change", args=[target.pk])
    page = as_office.get(url).content.decode()
    assert f'<option value="{target.metric_id}" selected>' in page and 'name="new_metric_name"' not in page
    huating = Unit.objects.get(code="huating")

    response = as_office.post(
        url,
        {
            "metric": target.metric_id,
            "comparison": "gte",
            "value": "7",
            "scope": "each_unit",
            "scope_label": "华亭市",
            "units": [huating.pk],
            "period_kind": "by_date",
            "due_on": "2025-12-31",
        },
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.scope, target.scope_label, list(target.units.all())) == ("each_unit", "华亭市", [huating])
    assert [(c.field, c.before, c.after) for c in PlanChange.objects.order_by("id")] == [
        ("范围", "市上", "列明单位各自"),
        ("范围说明", "全市", "华亭市"),
        ("范围内单位", "", "华亭市"),
    ]


def test_deleting_a_target_from_the_page(as_office, plan):
    target = Target.objects.get(task__campaign=plan, task__number=14, metric__name="省级互嵌式示范点")

    response = as_office.post(reverse("plan_import:target_delete", args=[target.pk]))

    assert response.status_code == 302
    assert not Target.objects.filter(pk=target.pk).exists()
    html = as_office.get(response.url).content.decode()
    assert "已删除量化目标：全市：省级互嵌式示范点不少于7个，到2025年底。各单位已填报的数字不受影响。" in html
    assert "删除量化目标" in html  # the task's recent changes


def test_get_on_the_delete_urls_is_refused(as_office, plan):
    target = Target.objects.filter(task__campaign=plan).first()
    phase = plan.phases.first()

    assert as_office.get(reverse("plan_import:target_delete", args=[target.pk])).status_code == 405
    assert as_office.get(reverse("plan_import:phase_delete", args=[phase.pk])).status_code == 405
    assert Target.objects.filter(pk=target.pk).exists() and Phase.objects.filter(pk=phase.pk).exists()


def test_adding_and_deleting_a_phase_from_the_plan_page(as_office, plan):
    plan_url = reverse("plan_import:plan", args=[plan.pk])
    page = as_office.get(plan_url).content.decode()
    assert f'href="{reverse("plan_import:phase_new", args=[plan.pk])}"' in page
    assert 'data-confirm="删除阶段“宣传动员阶段”（2023年6月1日 — 2023年7月31日）？' in page

    bad = as_office.post(
        reverse("plan_import:phase_new", args=[plan.pk]),
        {"name": "延伸阶段", "starts_on": "2025-10-01", "ends_on": "2026-03-31"},
    )
    ok = as_office.post(
        reverse("plan_import:phase_new", args=[plan.pk]),
        {"name": "总结提升阶段", "starts_on": "2024-01-01", "ends_on": "2024-06-30"},
    )

    assert bad.status_code == 400
    assert "阶段须在创建活动的实施期内（2023年6月1日至2025年12月31日）" in bad.content.decode()
    assert 'value="延伸阶段"' in bad.content.decode()
    assert ok.status_code == 302 and ok.url == plan_url + "#phases"
    assert "已新增阶段“总结提升阶段”（2024年1月1日至2024年6月30日），按日期排在第3阶段。" in (
        as_office.get(ok.url).content.decode()
    )
    first = Phase.objects.get(campaign=plan, order=1)
    gone = as_office.post(reverse("plan_import:phase_delete", args=[first.pk]))
    assert gone.status_code == 302
    assert list(plan.phases.order_by("order").values_list("order", "name")) == [
        (1, "组织实施阶段"),
        (2, "总结提升阶段"),
        (3, "申报验收阶段"),
    ]
    assert [(c.field, c.before, c.after) for c in PlanChange.objects.order_by("id")] == [
        ("新增阶段", "", "总结提升阶段，2024年1月1日至2024年6月30日"),
        ("删除阶段", "宣传动员阶段，2023年6月1日至2023年7月31日", ""),
    ]
