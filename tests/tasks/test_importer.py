"""The plan importer: the Pingliang plan gives exactly the shipped fixture; other shapes and bad files."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from docx import Document

from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, Phase, ReportingPeriod
from tasks.importer import (
    ParsedPlan,
    PlanParseError,
    extract_targets,
    parse_date_range,
    parse_plan_file,
    parse_plan_text,
    split_names,
)
from tasks.models import Metric, Responsibility, Section, Target, Task
from tasks.plan_import import plan_import, plan_preview
from units.models import Unit

SOURCE = Path(settings.BASE_DIR) / "fixtures" / "source" / "pingliang-2023-plan.txt"
END = dt.date(2025, 12, 31)


def pingliang_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


def docx_bytes(lines: list[str]) -> bytes:
    document = Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def snapshot(campaign: Campaign) -> list[tuple]:
    """Everything the fixture says about each task, in comparable form."""
    out = []
    for task in Task.objects.filter(campaign=campaign).select_related("section").order_by("number"):
        out.append(
            (
                task.number,
                task.section.order,
                task.title,
                task.text,
                [
                    (r.unit.code, r.role, r.by_rule, r.order)
                    for r in task.responsibilities.select_related("unit").order_by("order")
                ],
                [
                    (
                        t.metric.code,
                        t.value,
                        t.comparison,
                        t.scope,
                        t.scope_label,
                        sorted(u.code for u in t.units.all()),
                        t.period_kind,
                        t.due_on,
                    )
                    for t in task.targets.select_related("metric").order_by("order")
                ],
            )
        )
    return out


def counts() -> tuple[int, ...]:
    return (
        Campaign.objects.count(),
        Section.objects.count(),
        Task.objects.count(),
        Responsibility.objects.count(),
        Target.objects.count(),
        Unit.objects.count(),
        Metric.objects.count(),
    )


# --- The Pingliang plan ---------------------------------------------------------------------------


def test_importing_the_pingliang_plan_gives_exactly_the_shipped_fixture(plan, office_user):
    parsed = parse_plan_text(pingliang_text())

    campaign = plan_import(parsed=parsed, mapping={}, by=office_user)

    shipped, imported = snapshot(plan), snapshot(campaign)
    assert len(imported) == 29
    for expected, got in zip(shipped, imported, strict=True):
        assert got == expected
    assert sum(len(t[4]) for t in imported) == 363
    assert sum(len(t[5]) for t in imported) == 27


def test_importing_the_pingliang_plan_gives_the_fixtures_campaign_phases_sections_and_quarters(
    plan, office_user
):
    campaign = plan_import(parsed=parse_plan_text(pingliang_text()), mapping={}, by=office_user)

    fields = (
        "title",
        "city",
        "document_title",
        "issued_on",
        "goal",
        "starts_on",
        "ends_on",
        "office_unit_id",
    )
    assert [getattr(campaign, f) for f in fields] == [getattr(plan, f) for f in fields]
    assert campaign.is_active is False

    def phases(c):
        return list(
            Phase.objects.filter(campaign=c).values_list(
                "order", "name", "starts_on", "ends_on", "description"
            )
        )

    def sections(c):
        return list(
            Section.objects.filter(campaign=c).values_list("order", "numeral", "title", "short_title")
        )

    def periods(c):
        return list(
            ReportingPeriod.objects.filter(campaign=c).values_list(
                "year", "quarter", "starts_on", "ends_on", "due_on"
            )
        )

    assert phases(campaign) == phases(plan)
    assert sections(campaign) == sections(plan)
    assert periods(campaign) == periods(plan)


def test_the_pingliang_plan_saved_as_docx_parses_and_imports_identically(plan, office_user):
    text = pingliang_text()
    from_txt = parse_plan_text(text)

    from_docx = parse_plan_file("平凉市实施方案.docx", docx_bytes(text.splitlines()))

    assert from_docx.source_name == "平凉市实施方案.docx"
    assert {**from_docx.to_dict(), "source_name": ""} == {**from_txt.to_dict(), "source_name": ""}
    campaign = plan_import(parsed=from_docx, mapping={}, by=office_user)
    assert snapshot(campaign) == snapshot(plan)


def test_parsed_plan_survives_a_round_trip_through_json():
    parsed = parse_plan_text(pingliang_text())

    again = ParsedPlan.from_dict(parsed.to_dict())

    assert again == parsed


def test_pingliang_parse_reports_the_missing_section_number_the_rule_and_what_it_skipped():
    parsed = parse_plan_text(pingliang_text())

    assert [s.numeral for s in parsed.sections] == list("一二三四五六七八")
    assert [s.numeral_inferred for s in parsed.sections] == [False] * 7 + [True]
    assert parsed.warnings == [
        "第8个工程/活动的标题缺少编号，已按顺序补为（八）：大力开展“八进”活动,推动创建工作提质增效"
    ]
    assert parsed.tasks[0].rule_names == ["各县(市、区)党委和人民政府", "平凉工业园区(高新区)党工委和管委会"]
    assert parsed.tasks[21].names == [] and parsed.tasks[21].rule_names == parsed.tasks[0].rule_names
    assert [(s.where, s.reason) for s in parsed.skipped] == [
        ("四、保障措施", "不属于任务部分（如保障措施），未导入"),
        ("任务9", "一句中有几个可选的数量（“或”），无法确定统计口径"),
    ]
    assert (
        parsed.skipped[1].text
        == "学校党组织书记或副书记每学期至少上1次民族团结进步教育课或开展1次民族团结进步教育讲座"
    )


def test_page_number_artefact_is_removed_from_the_task_text():
    parsed = parse_plan_text(pingliang_text())

    task = parsed.tasks[24]
    assert task.number == 25
    assert "其他县打造示范点3个以上。" in task.text
    assert "12" not in task.text


# --- The pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.宣传动员阶段(2023年6月至7月):制定", (dt.date(2023, 6, 1), dt.date(2023, 7, 31))),
        ("组织实施阶段(2023年7月至2025年3月)各县", (dt.date(2023, 7, 1), dt.date(2025, 3, 31))),
        ("申报验收阶段（2025年3月至12月）", (dt.date(2025, 3, 1), dt.date(2025, 12, 31))),
        ("总结阶段（2024年11月—2月）", (dt.date(2024, 11, 1), dt.date(2025, 2, 28))),
        ("部署阶段：2024年3月1日至4月15日", (dt.date(2024, 3, 1), dt.date(2024, 4, 15))),
        ("没有日期的阶段", None),
    ],
)
def test_phase_date_ranges_are_read_in_the_forms_plans_use(text, expected):
    assert parse_date_range(text) == expected


@pytest.mark.parametrize(
    ("paragraph", "names"),
    [
        ("1.甲任务。做好工作。责任单位,市委组织部、市委巡察办。", ["市委组织部", "市委巡察办"]),
        ("1.甲任务。做好工作。责任单位市委组织部、市委宣传部", ["市委组织部", "市委宣传部"]),
        ("1.甲任务。做好工作。(责任单位市委宣传部)", ["市委宣传部"]),
        ("1.甲任务。做好工作。（责任单位：市教育局、市民宗委）", ["市教育局", "市民宗委"]),
        ("1.甲任务。做好工作。(责任单住市委宣传部、市委统战部)", ["市委宣传部", "市委统战部"]),
        ("1.甲任务。做好工作。(责任单位:市委统战部)", ["市委统战部"]),
        ("1.甲任务。做好工作。(责任单位,市委政法委、市信访局)", ["市委政法委", "市信访局"]),
        ("1.甲任务。做好工作。责任单位市委宣传部、甘肃医学院)", ["市委宣传部", "甘肃医学院"]),
        ("1.甲任务。做好工作。（责任单位：市委宣传部、市文联", ["市委宣传部", "市文联"]),
        (
            "1.甲任务。做好工作。责任单位市委党校(行政学院)、各县(市、区)党委和人民政府",
            ["市委党校(行政学院)", "各县(市、区)党委和人民政府"],
        ),
        ("1.甲任务。做好工作。（责任单位：市委党校（行政学院）", ["市委党校(行政学院)"]),
        (
            "1.甲任务。做好工作。（牵头单位：市民宗委；配合单位：团市委、市教育局）",
            ["市民宗委", "团市委", "市教育局"],
        ),
    ],
)
def test_every_shape_of_the_responsibility_clause_gives_the_units_and_a_clean_text(paragraph, names):
    parsed = parse_plan_text("测试市某项工作实施方案\n三、主要任务\n（一）第一部分\n" + paragraph)

    task = parsed.tasks[0]
    assert task.names == names
    assert task.title == "甲任务"
    assert task.text == "甲任务。做好工作。"


def test_names_split_on_commas_outside_parentheses_only():
    assert split_names(",市委党校(行政学院)、各县(市、区)党委和人民政府)。") == [
        "市委党校(行政学院)",
        "各县(市、区)党委和人民政府",
    ]


def test_targets_for_named_counties_and_the_other_counties():
    targets, skipped = extract_targets(
        "崆峒区、华亭市打造示范点3个以上,其他县打造示范点2个以上。", task_title="进乡镇(街道)", plan_end=END
    )

    assert skipped == []
    assert [
        (
            t.metric_code,
            t.value,
            t.comparison,
            t.scope,
            t.scope_label,
            t.unit_names,
            t.unit_group,
            t.period_kind,
            t.due_on,
        )
        for t in targets
    ] == [
        (
            "demo_sites",
            Decimal(3),
            "gte",
            "each_unit",
            "崆峒区、华亭市",
            ["崆峒区", "华亭市"],
            "",
            "by_date",
            END,
        ),
        ("demo_sites", Decimal(2), "gte", "each_unit", "其他县", [], "others", "by_date", END),
    ]


def test_targets_exact_quota_at_least_per_year_per_semester_and_deadline():
    text = (
        "市上打造示范点5个,各县(市、区)打造示范点至少5个。各学段不少于12课时。"
        "小学、中学阶段每学期至少举办1次专题讲座。到2024年6月底前建成省级示范点2个。"
    )

    targets, _ = extract_targets(text, task_title="加强阵地建设", plan_end=END)

    assert [
        (t.metric_code, t.value, t.comparison, t.scope, t.scope_label, t.period_kind, t.due_on)
        for t in targets
    ] == [
        ("demo_sites", Decimal(5), "eq", "city", "市上", "by_date", END),
        ("demo_sites", Decimal(5), "gte", "each_unit", "各县(市、区)", "by_date", END),
        ("class_hours", Decimal(12), "gte", "each_responsible", "各学段", "per_year", None),
        ("lectures", Decimal(1), "gte", "each_responsible", "小学、中学阶段", "per_semester", None),
        ("sites_provincial", Decimal(2), "gte", "city", "全市", "by_date", dt.date(2024, 6, 30)),
    ]


def test_a_quantity_the_parser_cannot_attribute_is_reported_not_dropped():
    targets, skipped = extract_targets("市上建成教育基地1个。", task_title="加强阵地建设", plan_end=END)

    assert targets == []
    assert skipped == [("市上建成教育基地1个", "未能识别“1个”对应的统计指标")]


# --- Other shapes ---------------------------------------------------------------------------------

EIGHT_ENTRIES = """\
某某县民族团结进步创建“八进”活动实施方案
为深入推进民族团结进步创建工作，结合我县实际，制定本方案。
一、指导思想
以铸牢中华民族共同体意识为主线，推动创建工作走深走实。
二、活动内容
(一)进机关
1.加强理论学习。各机关每年集中学习党的民族理论政策不少于2次。
2.开展主题活动。结合部门工作开展民族团结进步主题实践活动。
(二)进企业
1.强化宣传教育。利用企业内部宣传渠道开展宣传教育。
2.打造示范企业。全县打造民族团结进步示范企业3个以上。
（三）进学校
1.开设专题课程。各中小学每学期至少举办1次民族团结进步专题讲座。
三、实施步骤
(一)启动阶段(2024年3月至4月):制定方案，动员部署。
(二)推进阶段(2024年5月至2025年10月):全面推进。
(三)总结阶段(2025年11月至12月):总结验收。
四、工作要求
各乡镇、各部门要高度重视，认真组织实施。
"""


def test_eight_entries_plan_with_restarting_numbers_and_no_responsibility_clause():
    parsed = parse_plan_text(EIGHT_ENTRIES)

    assert parsed.document_title == "某某县民族团结进步创建“八进”活动实施方案"
    assert parsed.title == "某某县民族团结进步创建“八进”活动"
    assert parsed.city == "某某县"
    assert parsed.goal == "以铸牢中华民族共同体意识为主线，推动创建工作走深走实。"
    assert [(p.name, p.starts_on, p.ends_on, p.description) for p in parsed.phases] == [
        ("启动阶段", dt.date(2024, 3, 1), dt.date(2024, 4, 30), "制定方案，动员部署。"),
        ("推进阶段", dt.date(2024, 5, 1), dt.date(2025, 10, 31), "全面推进。"),
        ("总结阶段", dt.date(2025, 11, 1), dt.date(2025, 12, 31), "总结验收。"),
    ]
    assert [(s.numeral, s.title) for s in parsed.sections] == [
        ("一", "进机关"),
        ("二", "进企业"),
        ("三", "进学校"),
    ]
    assert [(t.number, t.label, t.section_order, t.title, t.names) for t in parsed.tasks] == [
        (1, "（一）1", 1, "加强理论学习", []),
        (2, "（一）2", 1, "开展主题活动", []),
        (3, "（二）1", 2, "强化宣传教育", []),
        (4, "（二）2", 2, "打造示范企业", []),
        (5, "（三）1", 3, "开设专题课程", []),
    ]
    assert parsed.tasks[0].notes == ["未列明责任单位，请在导入预览中指定"]
    assert "任务编号不是从1起连续编排（如各部分重新从1编号），已按出现顺序统一编为1—5。" in parsed.warnings
    assert [
        (t.metric_code, t.value, t.comparison, t.scope, t.scope_label, t.period_kind)
        for task in parsed.tasks
        for t in task.targets
    ] == [
        ("study_sessions", Decimal(2), "gte", "each_responsible", "各机关", "per_year"),
        ("demo_sites", Decimal(3), "gte", "city", "全县", "by_date"),
        ("lectures", Decimal(1), "gte", "each_responsible", "各中小学", "per_semester"),
    ]
    assert [(s.where, s.reason) for s in parsed.skipped] == [
        ("四、工作要求", "不属于任务部分（如保障措施），未导入")
    ]


def test_eight_entries_plan_without_any_top_headings_still_finds_sections_and_tasks():
    text = "关于开展民族团结进步“八进”活动的实施方案\n(一)进机关\n1.加强学习。认真学习。\n(二)进社区\n1.开展活动。经常开展。\n"

    parsed = parse_plan_text(text)

    assert [s.title for s in parsed.sections] == ["进机关", "进社区"]
    assert [(t.number, t.title, t.section_order) for t in parsed.tasks] == [
        (1, "加强学习", 1),
        (2, "开展活动", 2),
    ]
    assert parsed.starts_on is None
    assert "未找到带日期的实施步骤（阶段），请在确认导入前填写创建活动的起止日期。" in parsed.warnings


def test_importing_the_eight_entries_plan_creates_tasks_without_responsibilities(plan, office_user):
    campaign = plan_import(parsed=parse_plan_text(EIGHT_ENTRIES), mapping={}, by=office_user)

    assert (campaign.starts_on, campaign.ends_on) == (dt.date(2024, 3, 1), dt.date(2025, 12, 31))
    assert list(campaign.tasks.order_by("number").values_list("number", "section__title")) == [
        (1, "进机关"),
        (2, "进机关"),
        (3, "进企业"),
        (4, "进企业"),
        (5, "进学校"),
    ]
    assert Responsibility.objects.filter(task__campaign=campaign).count() == 0
    assert [
        (t.task.number, t.metric.code, t.scope, t.due_on)
        for t in Target.objects.filter(task__campaign=campaign).order_by("task__number")
    ] == [
        (1, "study_sessions", "each_responsible", None),
        (4, "demo_sites", "city", END),
        (5, "lectures", "each_responsible", None),
    ]
    assert [(p.year, p.quarter) for p in campaign.periods.all()][:2] == [(2024, 2), (2024, 3)]
    assert campaign.periods.count() == 7


THREE_LEVELS = """\
平凉市铸牢中华民族共同体意识示范工作实施方案
2024年3月1日
一、总体要求
坚持以铸牢中华民族共同体意识为主线。
二、实施步骤
1.部署阶段(2024年3月至4月)。印发方案。
2.实施阶段(2024年5月至2026年6月)。全面推进。
三、重点任务
(一)强化思想引领
本部分由市委宣传部统筹。
1.深化理论武装。
(1)市委理论学习中心组每年开展民族工作专题学习不少于2次。
(2)各县(市、区)每年举办民族团结进步宣讲不少于10场次。
(责任单位：市委宣传部、市委组织部、各县(市、区)党委和人民政府)
2.加强阵地建设。依托新时代文明实践中心建设教育基地。
①市上建成教育基地1个。
②各县（市、区）建成示范点2个以上。
（责任单住：市民族宗教事务委员会、市文化和旅游局、市新闻出版局
(二)促进交往交流交融
3.开展结对活动。（牵头单位：市民宗委；配合单位：团市委、市教育局）
四、保障措施
(一)加强组织领导。各级要高度重视。
"""


def test_three_levels_of_numbering_keep_sub_items_in_their_task_and_report_the_rest():
    parsed = parse_plan_text(THREE_LEVELS)

    assert parsed.issued_on == dt.date(2024, 3, 1)
    assert [(p.name, p.starts_on, p.ends_on, p.description) for p in parsed.phases] == [
        ("部署阶段", dt.date(2024, 3, 1), dt.date(2024, 4, 30), "印发方案。"),
        ("实施阶段", dt.date(2024, 5, 1), dt.date(2026, 6, 30), "全面推进。"),
    ]
    assert [s.title for s in parsed.sections] == ["强化思想引领", "促进交往交流交融"]
    first, second, third = parsed.tasks
    assert first.title == "深化理论武装"
    assert first.text == (
        "深化理论武装。\n(1)市委理论学习中心组每年开展民族工作专题学习不少于2次。\n"
        "(2)各县(市、区)每年举办民族团结进步宣讲不少于10场次。"
    )
    assert first.names == ["市委宣传部", "市委组织部", "各县(市、区)党委和人民政府"]
    assert [(t.metric_code, t.value, t.scope, t.scope_label, t.unit_group) for t in first.targets] == [
        ("study_sessions", Decimal(2), "each_responsible", "市委理论学习中心组", ""),
        ("lectures", Decimal(10), "each_unit", "各县(市、区)", "all_counties"),
    ]
    assert (
        second.text
        == "加强阵地建设。依托新时代文明实践中心建设教育基地。\n①市上建成教育基地1个。\n②各县（市、区）建成示范点2个以上。"
    )
    assert second.names == ["市民族宗教事务委员会", "市文化和旅游局", "市新闻出版局"]
    assert [(t.metric_code, t.value, t.comparison, t.unit_group) for t in second.targets] == [
        ("demo_sites", Decimal(2), "gte", "all_counties")
    ]
    assert third.names == ["市民宗委", "团市委", "市教育局"]
    assert third.text == "开展结对活动。"
    assert [(s.where, s.text, s.reason) for s in parsed.skipped] == [
        ("四、保障措施", "共1段", "不属于任务部分（如保障措施），未导入"),
        ("（一）强化思想引领", "本部分由市委宣传部统筹。", "工程/活动标题下的说明文字，未作为任务导入"),
        ("任务2", "①市上建成教育基地1个", "未能识别“1个”对应的统计指标"),
    ]


def test_unit_names_match_by_abbreviation_and_unknown_names_wait_for_the_office(plan):
    preview = plan_preview(parsed=parse_plan_text(THREE_LEVELS))

    assert preview.unmatched == ["市新闻出版局"]
    assert {
        m.raw: (preview.labels[m.refs[0]], m.how) for m in preview.matches.values() if not m.is_group
    } == {
        "市委宣传部": ("市委宣传部", "名称一致"),
        "市委组织部": ("市委组织部", "名称一致"),
        "市民族宗教事务委员会": ("市民宗委", "简称或全称一致"),
        "市文化和旅游局": ("市文旅局", "简称或全称一致"),
        "市民宗委": ("市民宗委", "名称一致"),
        "团市委": ("团市委", "名称一致"),
        "市教育局": ("市教育局", "名称一致"),
    }
    rows = {row.task.number: row for row in preview.tasks}
    assert [(preview.labels[r.ref], r.role) for r in rows[3].responsibilities] == [
        ("市民宗委", "lead"),
        ("团市委", "co"),
        ("市教育局", "co"),
    ]


def test_import_refuses_while_a_name_is_unmatched_and_writes_nothing(plan, office_user):
    before = counts()

    with pytest.raises(DomainError) as exc:
        plan_import(parsed=parse_plan_text(THREE_LEVELS), mapping={}, by=office_user)

    assert exc.value.message == (
        "以下单位名称还没有对应到系统中的单位：市新闻出版局。请为每个名称选择已有单位、新建单位或忽略。"
    )
    assert counts() == before


def test_import_creates_a_unit_the_office_asked_for_and_marks_the_lead(plan, office_user):
    mapping = {"市新闻出版局": {"action": "create", "code": "xinwenchubanju", "kind": "department"}}

    campaign = plan_import(
        parsed=parse_plan_text(THREE_LEVELS), mapping=mapping, by=office_user, activate=True
    )

    assert Unit.objects.get(code="xinwenchubanju").name == "市新闻出版局"
    task1, task2, task3 = campaign.tasks.order_by("number")
    assert [(r.unit.name, r.role, r.by_rule) for r in task1.responsibilities.order_by("order")] == [
        ("市委宣传部", "lead", False),
        ("市委组织部", "co", False),
        ("崆峒区", "co", False),
        ("华亭市", "co", False),
        ("泾川县", "co", False),
        ("灵台县", "co", False),
        ("崇信县", "co", False),
        ("庄浪县", "co", False),
        ("静宁县", "co", False),
    ]
    assert [r.unit.name for r in task2.responsibilities.order_by("order")] == [
        "市民宗委",
        "市文旅局",
        "市新闻出版局",
    ]
    assert task2.responsibilities.get(role="lead").unit.name == "市民宗委"
    target = task1.targets.get(metric__code="lectures")
    assert sorted(u.code for u in target.units.all()) == sorted(
        ["kongtong", "huating", "jingchuan", "lingtai", "chongxin", "zhuanglang", "jingning"]
    )
    assert Campaign.current() == campaign
    assert Campaign.objects.get(pk=plan.pk).is_active is False


def test_import_can_map_a_name_to_an_existing_unit_or_skip_it(plan, office_user):
    parsed = parse_plan_text(THREE_LEVELS)
    wenlian = Unit.objects.get(code="wenlian")

    mapped = plan_import(
        parsed=parsed, mapping={"市新闻出版局": {"action": "unit", "unit_id": wenlian.id}}, by=office_user
    )
    skipped = plan_import(parsed=parsed, mapping={"市新闻出版局": {"action": "skip"}}, by=office_user)

    assert [r.unit.code for r in mapped.tasks.get(number=2).responsibilities.order_by("order")] == [
        "minzongwei",
        "wenlvju",
        "wenlian",
    ]
    assert [r.unit.code for r in skipped.tasks.get(number=2).responsibilities.order_by("order")] == [
        "minzongwei",
        "wenlvju",
    ]


def test_a_bad_code_for_a_new_unit_fails_the_whole_import(plan, office_user):
    before = counts()
    mapping = {"市新闻出版局": {"action": "create", "code": "新闻出版局", "kind": "department"}}

    with pytest.raises(DomainError) as exc:
        plan_import(parsed=parse_plan_text(THREE_LEVELS), mapping=mapping, by=office_user)

    assert "代码“新闻出版局”无效" in exc.value.message
    assert counts() == before


def test_only_office_staff_may_import(plan, liaison_a):
    before = counts()

    with pytest.raises(PermissionDenied):
        plan_import(parsed=parse_plan_text(EIGHT_ENTRIES), mapping={}, by=liaison_a)

    assert counts() == before


def test_metrics_the_portal_lacks_are_created_with_the_plans_unit_of_measure(db):
    plan_import(parsed=parse_plan_text(EIGHT_ENTRIES), mapping={}, by=None)

    assert list(Metric.objects.order_by("code").values_list("code", "name", "unit_of_measure")) == [
        ("demo_sites", "示范点", "个"),
        ("lectures", "宣讲/讲座", "场次"),
        ("study_sessions", "专题学习", "次"),
    ]


# --- Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("方案.docx", b"", "上传的文件是空的，请选择实施方案的 Word(.docx) 或文本(.txt) 文件。"),
        ("方案.txt", b"  \n ", "上传的文件是空的，请选择实施方案的 Word(.docx) 或文本(.txt) 文件。"),
        (
            "方案.docx",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
            "上传的文件是图片，不是实施方案文档。请上传 Word(.docx) 或文本(.txt) 文件。",
        ),
        (
            "方案.docx",
            b"this is not a zip",
            "文件不是有效的 Word(.docx) 文档，无法读取（可能已损坏，或是其他格式改了扩展名）。",
        ),
        (
            "方案.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "这是旧版 Word(.doc) 文件，暂不支持。请在 Word 或 WPS 中“另存为”.docx 格式后再上传。",
        ),
        (
            "通知.docx",
            docx_bytes(["关于召开会议的通知", "各单位：", "定于下周召开会议，请准时参加。"]),
            "找到0个一级标题（如“一、…”）、0个二级标题（如“（一）…”）、0个编号事项（如“1.…”），"
            "也没有包含“任务”“牵头单位”等列的任务分工表。"
            "未在文件中找到编号的任务（如“1.…”）。请确认上传的是实施方案全文，任务应按“（一）…”“1.…”编号。",
        ),
    ],
)
def test_bad_files_give_a_clear_chinese_error(name, data, message):
    with pytest.raises(PlanParseError) as exc:
        parse_plan_file(name, data)

    assert exc.value.message == message


def test_a_zip_that_is_not_a_word_document_is_refused():
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")

    with pytest.raises(PlanParseError) as exc:
        parse_plan_file("方案.docx", buffer.getvalue())

    assert (
        exc.value.message
        == "文件不是有效的 Word(.docx) 文档，无法读取（可能已损坏，或是其他格式改了扩展名）。"
    )


# --- The command ----------------------------------------------------------------------------------


def test_command_dry_run_prints_what_it_found_and_writes_nothing(plan, capsys):
    before = counts()

    call_command("import_plan", str(SOURCE), "--dry-run")

    out = capsys.readouterr().out
    assert counts() == before
    assert "方案：平凉市创建全国民族团结进步示范市实施方案" in out
    assert "  阶段1 宣传动员阶段：2023-06-01 至 2023-07-31" in out
    assert "  1. 坚持主线思维（牵头：市委组织部；列明 10 个单位，统一要求 0 个）" in out
    assert "  22. 进乡镇(街道)（牵头：无；列明 0 个单位，统一要求 8 个）" in out
    assert "试运行：未写入任何数据。" in out


def test_command_imports_the_plan(plan, capsys):
    call_command("import_plan", str(SOURCE))

    campaign = Campaign.objects.exclude(pk=plan.pk).get()
    assert snapshot(campaign) == snapshot(plan)
    assert (
        f"已导入创建活动“平凉市创建全国民族团结进步示范市”（编号 {campaign.pk}）：29 项任务，363 条责任分工，27 个量化目标。"
        in (capsys.readouterr().out)
    )


def test_command_refuses_unmatched_names_unless_mapped(plan, tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(THREE_LEVELS, encoding="utf-8")
    before = counts()

    with pytest.raises(CommandError) as exc:
        call_command("import_plan", str(path))

    assert "市新闻出版局" in str(exc.value)
    assert counts() == before
    call_command("import_plan", str(path), "--map", "市新闻出版局=wenlian")
    assert Campaign.objects.count() == 2


def test_command_reports_a_bad_file_in_chinese_and_creates_nothing(plan, tmp_path):
    path = tmp_path / "photo.docx"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    before = counts()

    with pytest.raises(CommandError) as exc:
        call_command("import_plan", str(path))

    assert str(exc.value) == "上传的文件是图片，不是实施方案文档。请上传 Word(.docx) 或文本(.txt) 文件。"
    assert counts() == before


def test_a_section_heading_printed_without_any_number_is_recognised_and_numbered():
    text = (
        "测试市某项工作实施方案\n三、主要任务\n（一）第一部分\n1.甲任务。做好工作。\n"
        "大力开展“八进”活动,推动创建工作提质增效\n2.乙任务。继续做好。\n"
    )

    parsed = parse_plan_text(text)

    assert [(s.numeral, s.title, s.short_title, s.numeral_inferred) for s in parsed.sections] == [
        ("一", "第一部分", "", False),
        ("二", "大力开展“八进”活动,推动创建工作提质增效", "“八进”活动", True),
    ]
    assert [(t.number, t.section_order) for t in parsed.tasks] == [(1, 1), (2, 2)]


def test_the_words_responsible_unit_inside_a_sentence_are_not_a_clause():
    text = "测试市某项工作实施方案\n三、主要任务\n（一）第一部分\n1.压实责任。明确责任单位和责任人。\n"

    task = parse_plan_text(text).tasks[0]

    assert task.names == []
    assert task.text == "压实责任。明确责任单位和责任人。"


def test_a_plan_whose_top_headings_are_the_activities_folds_them_into_the_section_titles():
    text = (
        "某某县民族团结进步创建活动方案\n一、指导思想\n坚持主线。\n"
        "二、进机关\n(一)理论学习\n1.集中学习。每年学习。\n(二)实践活动\n1.开展活动。经常开展。\n"
        "三、进企业\n(一)宣传教育\n1.开展宣传。持续宣传。\n"
    )

    parsed = parse_plan_text(text)

    assert [s.title for s in parsed.sections] == ["进机关：理论学习", "进机关：实践活动", "进企业：宣传教育"]
    assert [(t.number, t.title, t.section_order) for t in parsed.tasks] == [
        (1, "集中学习", 1),
        (2, "开展活动", 2),
        (3, "开展宣传", 3),
    ]
    assert "发现三级以上编号：上级标题“二、进机关”并入其下各工程/活动的标题。" in parsed.warnings
