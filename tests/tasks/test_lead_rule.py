"""Lead (牵头) vs co-responsible (配合): the rule on the model, and the pages that show it.

In the shipped plan 市委宣传部 leads tasks 3–7 and 10 and co-carries 2 and 8; 崆峒区 carries all 29 tasks
(task 1 by name, the rest by the rule under task 1) and leads none. Task 22 names no unit, so it has no lead.
"""

import re

import pytest
from django.db import IntegrityError, transaction

from tasks.models import Responsibility, Task
from units.models import Unit

LEAD_BADGE = '<span class="badge text-bg-danger me-1">牵头</span>'


@pytest.fixture
def new_task(plan) -> Task:
    """Task 99 in the plan: 市委宣传部 leads, 市委统战部 co-carries by name, 崆峒区 by the rule."""
    task = Task.objects.create(
        campaign=plan, section=plan.sections.get(order=1), number=99, title="测试任务", text="测试任务。"
    )
    for order, (code, role, by_rule) in enumerate(
        [
            ("xuanchuanbu", Responsibility.Role.LEAD, False),
            ("tongzhanbu", Responsibility.Role.CO, False),
            ("kongtong", Responsibility.Role.CO, True),
        ],
        start=1,
    ):
        Responsibility.objects.create(
            task=task, unit=Unit.objects.get(code=code), role=role, order=order, by_rule=by_rule
        )
    return task


def _task_block(body: str, number: int) -> str:
    """The plan overview's <li> for one task."""
    match = re.search(
        rf'<li class="list-group-item">\s*<a href="/plan/tasks/{number}/".*?</li>', body, flags=re.S
    )
    assert match, f"task {number} not on the page"
    return match.group(0)


def _unit_summary(body: str) -> str:
    match = re.search(r"承担任务 \d+ 项，其中牵头 \d+ 项", body)
    assert match, "unit summary line not on the page"
    return match.group(0)


# The rule on the model


def test_is_lead_is_true_only_for_the_lead(new_task):
    rows = {r.unit.code: r for r in new_task.responsibilities.select_related("unit")}

    assert rows["xuanchuanbu"].is_lead is True
    assert rows["tongzhanbu"].is_lead is False
    assert rows["kongtong"].is_lead is False


def test_a_new_responsibility_is_co_unless_said_otherwise():
    assert Responsibility().is_lead is False


def test_leads_returns_exactly_the_lead_and_co_the_rest(new_task):
    rows = Responsibility.objects.filter(task=new_task)

    assert list(rows.leads().values_list("unit__code", flat=True)) == ["xuanchuanbu"]
    assert list(rows.co().values_list("unit__code", flat=True)) == ["tongzhanbu", "kongtong"]


def test_a_task_without_a_named_unit_has_no_lead(plan):
    rows = Responsibility.objects.filter(task__campaign=plan, task__number=22)

    assert rows.leads().count() == 0
    assert rows.co().count() == rows.count() == 8


def test_a_second_lead_for_a_task_is_refused(new_task):
    with pytest.raises(IntegrityError), transaction.atomic():
        Responsibility.objects.create(
            task=new_task, unit=Unit.objects.get(code="jiaoyuju"), role=Responsibility.Role.LEAD, order=4
        )


def test_the_plan_has_one_lead_per_task_except_task_22(plan):
    led = list(
        Responsibility.objects.leads()
        .filter(task__campaign=plan)
        .order_by("task__number")
        .values_list("task__number", flat=True)
    )

    assert led == [n for n in range(1, 30) if n != 22]


# The plan overview


@pytest.mark.parametrize("url", ["/", "/plan/"])
def test_plan_overview_marks_only_the_lead_of_task_7(as_office, url):
    block = _task_block(as_office.get(url).content.decode(), 7)

    assert block.count(LEAD_BADGE) == 1
    assert f"{LEAD_BADGE}市委宣传部、市委统战部、市民宗委、市教育局、市文旅局、市文明实践办" in block


def test_plan_overview_shows_one_badge_per_lead_in_the_plan(as_office, plan):
    body = as_office.get("/plan/").content.decode()

    assert body.count(LEAD_BADGE) == Responsibility.objects.leads().filter(task__campaign=plan).count() == 28


def test_plan_overview_shows_no_badge_for_task_22(as_office):
    block = _task_block(as_office.get("/plan/").content.decode(), 22)

    assert LEAD_BADGE not in block
    assert "各县(市、区)、平凉工业园区分别落实" in block


def test_plan_overview_and_task_page_agree_on_the_lead(as_office, new_task):
    block = _task_block(as_office.get("/plan/").content.decode(), 99)
    task_page = as_office.get("/plan/tasks/99/").content.decode()

    assert block.count(LEAD_BADGE) == 1
    assert f"{LEAD_BADGE}市委宣传部、市委统战部" in block
    assert "崆峒区" not in block  # by rule, not named
    assert 'data-testid="lead-unit"><a href="/units/xuanchuanbu/">市委宣传部</a>' in task_page


# The unit pages


@pytest.mark.parametrize(
    ("code", "tasks", "leads"),
    [("kongtong", 29, 0), ("xuanchuanbu", 8, 6)],
)
def test_unit_page_counts_the_leads_the_rule_finds(as_office, plan, code, tasks, leads):
    unit = Unit.objects.get(code=code)
    expected = Responsibility.objects.leads().filter(unit=unit, task__campaign=plan).count()

    body = as_office.get(f"/units/{code}/").content.decode()

    assert expected == leads
    assert _unit_summary(body) == f"承担任务 {tasks} 项，其中牵头 {expected} 项"
    assert body.count('<span class="badge text-bg-danger">牵头</span>') == expected


def test_unit_page_and_task_pages_agree_for_xuanchuanbu(as_office):
    body = as_office.get("/units/xuanchuanbu/").content.decode()
    led_on_unit_page = re.findall(
        r'<tr><td[^>]*>(\d+)</td><td><a [^>]*>[^<]*</a></td><td[^>]*><span class="badge text-bg-danger">牵头',
        body,
    )

    assert led_on_unit_page == ["3", "4", "5", "6", "7", "10"]
    for number in led_on_unit_page:
        task_page = as_office.get(f"/plan/tasks/{number}/").content.decode()
        assert 'data-testid="lead-unit"><a href="/units/xuanchuanbu/">市委宣传部</a>' in task_page


def test_no_task_page_names_kongtong_as_lead(as_office):
    for number in range(1, 30):
        task_page = as_office.get(f"/plan/tasks/{number}/").content.decode()
        assert 'data-testid="lead-unit"><a href="/units/kongtong/">' not in task_page


@pytest.mark.parametrize(("query", "tasks", "leads"), [("崆峒区", 29, 0), ("市委宣传部", 8, 6)])
def test_unit_directory_counts_the_same_leads(as_office, query, tasks, leads):
    body = as_office.get("/units/", {"q": query}).content.decode()

    row = re.search(rf'<tr data-unit="[^"]*"><td><a [^>]*>{query}</a></td>.*?</tr>', body)
    assert row, f"{query} not in the directory"
    cells = re.findall(r'<td class="card-inline" data-label="([^"]*)">(.*?)</td>', row.group(0))
    assert dict(cells)["承担任务"] == str(tasks) and dict(cells)["其中牵头"] == str(leads)
