"""The shipped fixture says what the plan says: per task, the responsible units and the lead.

The table below was written by hand from fixtures/source/pingliang-2023-plan.txt (the 责任单位 of each task,
in the order printed; the first is the lead). Counties and the park carry every task by the rule under task 1.
"""

from decimal import Decimal

import pytest

from tasks.models import Responsibility, Target, Task

COUNTY_LEVEL = {"崆峒区", "华亭市", "泾川县", "灵台县", "崇信县", "庄浪县", "静宁县", "平凉工业园区(高新区)"}

NAMED = {
    1: "市委组织部、市委巡察办",
    2: "市委组织部、市委宣传部、市委直属机关工委",
    3: "市委宣传部",
    4: "市委宣传部、市文旅局、市文联",
    5: "市委宣传部、市委统战部、市民宗委、市文旅局、市体育局、市融媒体中心",
    6: "市委宣传部、市委统战部、市民宗委、市自然资源局、市住建局、市文旅局",
    7: "市委宣传部、市委统战部、市民宗委、市教育局、市文旅局、市文明实践办",
    8: "市委组织部、市委宣传部、市委统战部、市委党校(行政学院)、市社会主义学院",
    9: "市教育局、市民宗委",
    10: "市委宣传部、市委统战部、市委网信办、市委党校(行政学院)、市融媒体中心、市民宗委、市文联、市社科联、甘肃医学院",
    11: "市发展改革委、市财政局、市科技局、市工信局、市住建局、市交通运输局、市农业农村局、市水务局、市商务局、市文旅局、市林草局、市乡村振兴局、市科协、市工商联",
    12: "市自然资源局、市生态环境局、市住建局、市水务局、市农业农村局",
    13: "市教育局、市人社局、市民政局、市财政局、市住建局、市农业农村局、市卫生健康委、市林草局、市医保局、市乡村振兴局",
    14: "市委统战部、市发展改革委、市民宗委、市公安局、市人社局、市政府国资委、市工商联",
    15: "市民宗委、市文旅局、崆峒山大景区管委会",
    16: "市委统战部、市民宗委、市教育局、团市委",
    17: "市委政法委、市民宗委、市公安局、市司法局、市市场监管局",
    18: "市委政法委、市民宗委、市公安局、市民政局、市司法局、市市场监管局",
    19: "市委政法委、市委统战部、市工信局、市公安局、市应急局、市市场监管局、市政府金融办",
    20: "市委统战部、市发展改革委、市教育局、市人社局、市民宗委、市民政局、市公安局、市住建局、市自然资源局、市卫生健康委",
    21: "市委政法委、市委统战部、市民宗委、市公安局、市应急局、市国安局",
    22: "",
    23: "市委直属机关工委",
    24: "市工信局、市政府国资委、市工商联",
    25: "市委政法委、市信访局、市民政局",
    26: "市教育局",
    27: "市民宗委",
    28: "市委统战部",
    29: "市文旅局",
}


@pytest.mark.parametrize("number", sorted(NAMED))
def test_fixture_task_has_the_plans_units_and_lead(plan, number):
    named = [n for n in NAMED[number].split("、") if n]
    responsibilities = list(Responsibility.objects.filter(task__number=number).select_related("unit"))

    assert {r.unit.name for r in responsibilities} == set(named) | COUNTY_LEVEL
    leads = [r.unit.name for r in responsibilities if r.role == Responsibility.Role.LEAD]
    assert leads == (named[:1] if named else [])
    assert {r.unit.name for r in responsibilities if r.by_rule} == (COUNTY_LEVEL if number != 1 else set())


def test_fixture_has_29_tasks_in_8_sections_with_titles_before_the_first_full_stop(plan):
    tasks = list(Task.objects.order_by("number"))

    assert [t.number for t in tasks] == list(range(1, 30))
    assert len({t.section_id for t in tasks}) == 8
    assert tasks[0].title == "坚持主线思维"
    assert tasks[21].title == "进乡镇(街道)"
    for task in tasks:
        assert task.text.startswith(task.title + "。")
        assert "责任单" not in task.text
        assert "不再一一列出" not in task.text


def test_fixture_removes_the_page_number_artefact_in_task_25(plan):
    text = Task.objects.get(number=25).text

    assert "其他县打造示范点3个以上" in text
    assert "一12一" not in text


def test_fixture_phases_and_quarters(plan):
    phases = [(p.name, p.starts_on.isoformat(), p.ends_on.isoformat()) for p in plan.phases.order_by("order")]
    periods = [(p.year, p.quarter, p.due_on.isoformat()) for p in plan.periods.order_by("year", "quarter")]

    assert phases == [
        ("宣传动员阶段", "2023-06-01", "2023-07-31"),
        ("组织实施阶段", "2023-07-01", "2025-03-31"),
        ("申报验收阶段", "2025-03-01", "2025-12-31"),
    ]
    assert periods[0] == (2023, 3, "2023-10-10")
    assert periods[-1] == (2025, 4, "2026-01-10")
    assert len(periods) == 10


def test_fixture_targets_of_the_eight_into_activities(plan):
    def targets(number):
        return [
            (t.scope, t.scope_label, t.value, sorted(u.name for u in t.units.all()))
            for t in Target.objects.filter(task__number=number, metric__code="demo_sites").order_by("order")
        ]

    assert targets(22) == [
        ("each_unit", "崆峒区、华亭市", Decimal("3"), ["华亭市", "崆峒区"]),
        ("each_unit", "其他县", Decimal("2"), sorted(["泾川县", "灵台县", "崇信县", "庄浪县", "静宁县"])),
    ]
    assert targets(24) == [
        ("city_district", "市区联合", Decimal("5"), ["崆峒区"]),
        (
            "each_unit",
            "其他县(市)",
            Decimal("3"),
            sorted(["华亭市", "泾川县", "灵台县", "崇信县", "庄浪县", "静宁县"]),
        ),
    ]
    assert targets(29)[0][:3] == ("city", "市上", Decimal("1"))
    assert set(Target.objects.values_list("task__number", flat=True)) == {8, 9, 14, 16, *range(22, 30)}
    provincial = Target.objects.get(task__number=14, metric__code="sites_provincial")
    assert (provincial.value, provincial.period_kind, provincial.due_on.isoformat()) == (
        Decimal("7"),
        "by_date",
        "2025-12-31",
    )
