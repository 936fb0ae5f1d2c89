"""Plans of other shapes than Pingliang's: run-in hard-wrapped text, measures under a non-任务 heading, arena
subsections with wrong numbers, no units, task tables in .docx and .xlsx, mixed punctuation, GBK; the JSON dry
run and the errors that say what was found. The documents are in tests/tasks/plans/ or built here."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from docx import Document
from openpyxl import Workbook

from tasks.importer import ParsedPlan, PlanParseError, parse_plan_file, parse_plan_text
from tasks.models import Responsibility, Task
from tasks.plan_import import plan_import
from tests.tasks.test_importer import SOURCE, pingliang_text, snapshot

PLANS = Path(__file__).parent / "plans"


def parse(name: str) -> ParsedPlan:
    path = PLANS / name
    return parse_plan_file(path.name, path.read_bytes())


def units(plan: ParsedPlan) -> list[list[str]]:
    return [t.names for t in plan.tasks]


def targets(plan: ParsedPlan) -> list[tuple]:
    return [
        (task.number, t.metric_code, t.value, t.comparison, t.scope_label, t.period_kind, t.due_on)
        for task in plan.tasks
        for t in task.targets
    ]


# --- Run-in text, hard-wrapped every 300 characters ---------------------------------------------------


def test_the_run_in_document_is_really_hard_wrapped_with_headings_inside_lines():
    lines = (PLANS / "runin_wrapped.txt").read_text(encoding="utf-8").splitlines()

    assert [len(line) for line in lines] == [20, 300, 300, 300, 300, 2]
    assert "。二、实施步骤1.动员部署阶段" in lines[1]
    assert "三、主要任务（一）强化思想引领，筑牢团结奋斗的共同思想基础1.加强理论武装。" in "".join(lines)


def test_run_in_hard_wrapped_text_is_cut_at_headings_and_items_only():
    plan = parse("runin_wrapped.txt")

    assert plan.document_title == "某某县创建全省民族团结进步示范县实施方案"
    assert plan.city == "某某县"
    assert plan.goal.startswith("以习近平新时代中国特色社会主义思想为指导")
    assert [(p.name, p.starts_on, p.ends_on) for p in plan.phases] == [
        ("动员部署阶段", dt.date(2024, 3, 1), dt.date(2024, 4, 30)),
        ("全面实施阶段", dt.date(2024, 5, 1), dt.date(2025, 9, 30)),
        ("总结验收阶段", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
    ]
    assert [(s.numeral, s.title) for s in plan.sections] == [
        ("一", "强化思想引领，筑牢团结奋斗的共同思想基础"),
        ("二", "促进交往交流交融，构建互嵌式社会结构和社区环境"),
        ("三", "推动共同发展，夯实民族团结进步的物质基础"),
    ]
    assert [(t.number, t.section_order, t.title) for t in plan.tasks] == [
        (1, 1, "加强理论武装"),
        (2, 1, "深化宣传教育"),
        (3, 1, "抓好学校教育"),
        (4, 2, "推进互嵌式社区建设"),
        (5, 2, "开展结对联谊活动"),
        (6, 2, "服务流动人口"),
        (7, 2, "建设民族团结进步教育基地"),
        (8, 3, "促进乡村振兴"),
        (9, 3, "提升公共服务水平"),
        (10, 3, "依法治理民族事务"),
    ]
    assert units(plan) == [
        ["县委组织部", "县委宣传部"],
        ["县委宣传部", "县融媒体中心", "各乡镇人民政府"],
        ["县教育局"],
        ["县民政局", "县住建局"],
        ["县民宗局", "团县委"],
        ["县委统战部", "县公安局"],  # a clause with no punctuation at all, run into "7.建设…"
        ["县文旅局", "县民宗局"],
        ["县农业农村局", "县乡村振兴局", "县财政局"],
        ["县卫生健康局", "县人社局"],
        ["县委政法委", "县司法局", "县公安局"],
    ]
    # Numbers inside sentences stay where they are.
    assert "力争2025年1.5万人次以上的各族群众受到教育" in plan.tasks[1].text
    assert "按照《社区建设规范》第1.2条的要求" in plan.tasks[3].text
    assert (
        plan.tasks[5].text
        == "服务流动人口。健全少数民族流动人口服务管理机制，自2023.10起建立服务台账并每季度更新。"
    )
    assert "保障措施" not in plan.tasks[9].text
    assert targets(plan) == [
        (1, "meetings", Decimal(2), "gte", "县委常委会", "per_year", None),
        (2, "lectures", Decimal(4), "gte", "各乡镇", "per_year", None),
        (3, "lectures", Decimal(1), "gte", "各中小学", "per_semester", None),
        (4, "demo_sites", Decimal(5), "gte", "全县", "by_date", dt.date(2025, 12, 31)),
        (5, "exchange_events", Decimal(3), "gte", "全县", "per_year", None),
        (8, "funding", Decimal(500), "gte", "全县", "per_year", None),
    ]
    assert [(t.number, t.deadline, t.deadline_text) for t in plan.tasks if t.deadline] == [
        (4, dt.date(2025, 12, 31), "到2025年底"),
        (7, dt.date(2024, 12, 31), "到2024年底"),
    ]
    # The promises of 总体要求 are the plan's own targets.
    assert [(t.metric_code, t.value, t.scope_label, t.period_kind, t.due_on) for t in plan.plan_targets] == [
        ("demo_sites", Decimal(30), "全县", "by_date", dt.date(2025, 12, 31)),
        ("lectures", Decimal(20), "全县", "per_year", None),
    ]
    assert plan.warnings == []
    assert [(s.where, s.reason) for s in plan.skipped] == [
        ("四、保障措施", "不属于任务部分（如保障措施），未导入"),
        ("任务7", "未能识别“2个”对应的统计指标"),
        ("任务10", "未能识别“6次”对应的统计指标"),
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "全年受教育群众达到2025年1.5万人。",
        "依照第1.2条执行。",
        "自2023.10起实施。",
        "做好工作：2.5万人参与。",
        "组织开展活动。5个乡镇参加。",
    ],
)
def test_numbers_inside_sentences_never_start_an_item(sentence):
    text = f"某某县民族团结工作实施方案\n三、主要任务（一）第一部分1.甲任务。{sentence}2.乙任务。做好。"

    plan = parse_plan_text(text)

    assert [t.title for t in plan.tasks] == ["甲任务", "乙任务"]
    assert plan.tasks[0].text == f"甲任务。{sentence}"


# --- Measures under a heading that does not say 任务 ----------------------------------------------------


def test_measures_under_a_requirements_heading_are_the_tasks():
    plan = parse("measures_under_requirements.txt")

    assert plan.title == "某某市推进铸牢中华民族共同体意识示范创建"
    assert [(s.numeral, s.title) for s in plan.sections] == [("", "具体要求")]
    assert [t.title for t in plan.tasks] == [
        "压实主体责任",
        "抓好理论学习",
        "加强干部培训",
        "开展主题宣讲",
        "打造示范单位",
        "推进互嵌式发展",
        "加强青少年教育",
        "繁荣民族文化",
        "依法治理民族事务",
    ]
    assert [t.number for t in plan.tasks] == list(range(1, 10))
    assert units(plan)[0] == ["市委办公室", "市委统战部", "市民宗委"]  # 牵头单位 first
    assert units(plan)[2] == ["市委组织部", "市委党校(行政学院)"]
    assert sum(len(names) for names in units(plan)) == 22
    assert targets(plan) == [
        (1, "meetings", Decimal(2), "gte", "市委常委会", "per_year", None),
        (2, "study_sessions", Decimal(1), "gte", "各级党委（党组）理论学习中心组", "per_year", None),
        (4, "lectures", Decimal(30), "gte", "全市", "per_year", None),
        (5, "demo_sites", Decimal(20), "gte", "全市", "by_date", dt.date(2025, 12, 31)),
        (7, "class_hours", Decimal(12), "gte", "各学段", "per_year", None),
    ]
    assert [(s.where, s.reason) for s in plan.skipped] == [
        ("四、保障措施", "不属于任务部分（如保障措施），未导入")
    ]


@pytest.mark.parametrize("heading", ["重点任务", "工作措施", "主要措施", "具体举措", "具体要求", "创建内容"])
def test_any_heading_over_numbered_measures_holds_the_tasks(heading):
    text = (
        "某某县民族团结进步创建实施方案\n一、总体要求\n坚持主线。\n"
        f"二、{heading}\n1.加强学习。认真学习。\n2.开展活动。经常开展。\n三、保障措施\n（一）加强领导。明确责任。\n"
    )

    plan = parse_plan_text(text)

    assert [t.title for t in plan.tasks] == ["加强学习", "开展活动"]
    assert [s.where for s in plan.skipped] == ["三、保障措施"]


# --- Arena subsections with a missing and a repeated number ---------------------------------------------


def test_arena_subsections_with_missing_and_repeated_numbers_keep_every_item():
    plan = parse("arenas_misnumbered.txt")

    assert [(s.numeral, s.title) for s in plan.sections] == [
        ("一", "进机关"),
        ("二", "进企业"),
        ("三", "进学校"),
        ("四", "进社区"),
        ("五", "进景区"),
    ]
    assert [(t.number, t.label, t.section_order, t.title) for t in plan.tasks] == [
        (1, "（一）1", 1, "开展集中学习"),
        (2, "（一）2", 1, "开展主题实践"),
        (3, "（一）3", 1, "打造示范机关"),
        (4, "（二）1", 2, "强化宣传教育"),
        (5, "（二）2", 2, "平等招收员工"),
        (6, "（二）2", 2, "打造示范企业"),
        (7, "（四）1", 3, "开设专题课程"),
        (8, "（四）3", 3, "建设校园阵地"),
        (9, "（五）1", 4, "建设互嵌式社区"),
        (10, "（五）2", 4, "开展邻里活动"),
        (11, "（五）1", 5, "融入旅游线路"),
        (12, "（五）2", 5, "培训导游讲解员"),
    ]
    assert sum(len(names) for names in units(plan)) == 18
    assert plan.warnings == [
        "工程/活动标题编号有误（原文依次为（一）（二）（四）（五）（五）：（五）重复，缺少（三）），"
        "全部5个均已保留，按出现顺序编为（一）至（五）。",
        "（二）进企业：编号2重复出现，两项都已导入。",
        "（三）进学校：缺少编号2（原文从1跳到3），其后各项都已导入。",
        "任务编号不是从1起连续编排（如各部分重新从1编号），已按出现顺序统一编为1—12。",
    ]
    assert targets(plan) == [
        (1, "study_sessions", Decimal(2), "gte", "各机关", "per_year", None),
        (3, "demo_sites", Decimal(5), "gte", "全区", "by_date", dt.date(2025, 12, 31)),
        (6, "demo_sites", Decimal(3), "gte", "全区", "by_date", dt.date(2025, 12, 31)),
        (7, "lectures", Decimal(1), "gte", "各中小学", "per_semester", None),
        (9, "demo_sites", Decimal(4), "gte", "全区", "by_date", dt.date(2025, 12, 31)),
    ]


# --- No units at all ----------------------------------------------------------------------------------


def test_a_plan_without_any_units_imports_every_task_with_units_left_open(db):
    plan = parse("no_units.txt")

    assert plan.city == "某某镇"
    assert [s.title for s in plan.sections] == ["主要措施"]
    assert [t.title for t in plan.tasks] == [
        "开展宣传教育",
        "组织专题学习",
        "打造示范村",
        "开展结对活动",
        "办好民生实事",
        "加强矛盾调处",
        "繁荣群众文化",
        "关爱青少年成长",
    ]
    assert all(t.names == [] and t.rule_names == [] for t in plan.tasks)
    # Every task sits in the one named chapter: no per-task note that it belongs nowhere.
    assert all(t.notes == ["未列明责任单位，请在导入预览中指定"] for t in plan.tasks)
    assert plan.warnings == ["方案的任务没有分工程/活动，全部归入“主要措施”。"]
    assert plan.tasks[0].text.startswith("开展宣传教育。利用村广播")  # "1．" full-width point
    assert targets(plan) == [
        (1, "materials", Decimal(2000), "gte", "全镇", "per_year", None),
        (2, "study_sessions", Decimal(2), "gte", "镇党委理论学习中心组", "per_year", None),
        (3, "demo_sites", Decimal(3), "gte", "全镇", "by_date", dt.date(2025, 12, 31)),
    ]
    assert [(t.metric_code, t.value, t.scope_label) for t in plan.plan_targets] == [
        ("demo_sites", Decimal(3), "全镇")
    ]

    campaign = plan_import(parsed=plan, mapping={}, by=None)

    assert campaign.tasks.count() == 8
    assert Responsibility.objects.filter(task__campaign=campaign).count() == 0


# --- Task tables --------------------------------------------------------------------------------------

TABLE_ROWS = [
    # (序号, 重点任务, 牵头单位, 配合单位, 完成时限)
    ("一、强化思想引领",),
    (
        "1",
        "加强理论学习。各级党委（党组）理论学习中心组每年开展民族工作专题学习不少于2次。",
        "市委宣传部",
        "市委组织部、市委统战部",
        "长期坚持",
    ),
    (
        "2",
        "开展主题宣讲。组建宣讲团深入基层，每年宣讲不少于50场次。",
        "市委宣传部",
        "市民宗委、市文明实践办",
        "2024年12月底前",
    ),
    ("3", "开设专题课程。各中小学每学期至少举办1次民族团结进步专题讲座。", "市教育局", "团市委", "每学期"),
    ("二、促进交往交流交融",),
    (
        "4",
        "打造互嵌式示范社区。建成市级示范社区10个以上。",
        "市民政局",
        "市住建局、各县（市、区）人民政府",
        "2025年12月",
    ),
    ("5", "开展结对联谊。组织各族青少年开展交流活动。", "市民宗委", "市教育局、团市委", "2025.6"),
    ("6", "服务流动人口。健全服务管理机制。", "市委统战部", "市公安局、市人社局", "2024年6月30日"),
    ("三、推动共同发展",),
    ("7", "促进乡村振兴。支持民族村发展特色产业。", "市乡村振兴局", "市农业农村局、市财政局", "2025年底"),
    ("8", "提升公共服务。推进基本公共服务均等化。", "市发展改革委", "", "2025年底前"),
    (
        "9",
        "依法治理民族事务。依法妥善处理涉民族因素矛盾纠纷。",
        "市委政法委",
        "市公安局、市司法局、市民宗委",
        "长期坚持",
    ),
    ("10", "打造示范企业。全市打造民族团结进步示范企业8个以上。", "市工信局", "市工商联", "2025年10月"),
]
TABLE_TITLES = [row[1].split("。")[0] for row in TABLE_ROWS if len(row) > 1]


def table_docx(with_prose_items: bool = True) -> bytes:
    document = Document()
    document.add_paragraph("某某市民族团结进步示范创建重点任务分工方案")
    document.add_paragraph("一、总体要求")
    document.add_paragraph("到2025年底，全市建成民族团结进步示范单位50个以上。")
    document.add_paragraph("二、实施步骤")
    document.add_paragraph("1.部署阶段（2024年3月至4月）：印发方案。")
    document.add_paragraph("2.推进阶段（2024年5月至2025年12月）：全面推进。")
    document.add_paragraph("三、主要任务")
    if with_prose_items:
        document.add_paragraph("1.强化思想引领。2.促进交往交流交融。3.推动共同发展。具体分工见下表。")
    table = document.add_table(rows=1, cols=5)
    for cell, text in zip(
        table.rows[0].cells, ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"], strict=True
    ):
        cell.text = text
    for row in TABLE_ROWS:
        cells = table.add_row().cells
        if len(row) == 1:
            merged = cells[0].merge(cells[-1])
            merged.text = row[0]
            continue
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    document.add_paragraph("四、保障措施")
    document.add_paragraph("（一）加强组织领导。各级要高度重视。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_docx_task_table_imports_sections_tasks_leads_co_units_and_deadlines():
    plan = parse_plan_file("分工方案.docx", table_docx())

    assert plan.title == "某某市民族团结进步示范创建"
    assert [(p.name, p.ends_on) for p in plan.phases] == [
        ("部署阶段", dt.date(2024, 4, 30)),
        ("推进阶段", dt.date(2025, 12, 31)),
    ]
    assert [(s.numeral, s.title) for s in plan.sections] == [
        ("一", "强化思想引领"),
        ("二", "促进交往交流交融"),
        ("三", "推动共同发展"),
    ]
    assert [(t.number, t.section_order, t.title) for t in plan.tasks] == [
        (n, section, title)
        for n, section, title in zip(range(1, 11), [1, 1, 1, 2, 2, 2, 3, 3, 3, 3], TABLE_TITLES, strict=True)
    ]
    assert units(plan)[3] == ["市民政局", "市住建局", "各县(市、区)人民政府"]
    assert units(plan)[7] == ["市发展改革委"]
    assert sum(len(names) for names in units(plan)) == 27
    assert [(t.deadline, t.deadline_text) for t in plan.tasks] == [
        (None, "长期坚持"),
        (dt.date(2024, 12, 31), "2024年12月底前"),
        (None, "每学期"),
        (dt.date(2025, 12, 31), "2025年12月"),
        (dt.date(2025, 6, 30), "2025.6"),
        (dt.date(2024, 6, 30), "2024年6月30日"),
        (dt.date(2025, 12, 31), "2025年底"),
        (dt.date(2025, 12, 31), "2025年底前"),
        (None, "长期坚持"),
        (dt.date(2025, 10, 31), "2025年10月"),
    ]
    assert targets(plan) == [
        (1, "study_sessions", Decimal(2), "gte", "各级党委（党组）理论学习中心组", "per_year", None),
        (2, "lectures", Decimal(50), "gte", "全市", "per_year", None),
        (3, "lectures", Decimal(1), "gte", "各中小学", "per_semester", None),
        (4, "demo_sites", Decimal(10), "gte", "全市", "by_date", dt.date(2025, 12, 31)),
        (10, "demo_sites", Decimal(8), "gte", "全市", "by_date", dt.date(2025, 10, 31)),
    ]
    assert [(t.metric_code, t.value) for t in plan.plan_targets] == [("demo_sites", Decimal(50))]
    assert plan.warnings == [
        "正文中另有3个编号事项，文件中有任务分工表，任务以表格为准，正文编号事项未导入。"
    ]


def test_the_docx_table_wins_and_the_plan_survives_a_round_trip():
    plan = parse_plan_file("分工方案.docx", table_docx(with_prose_items=False))

    assert len(plan.tasks) == 10
    assert plan.warnings == []
    assert ParsedPlan.from_dict(plan.to_dict()) == plan


def table_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "任务分工"
    sheet.append(["某某县民族团结进步创建“七进”活动任务分工表"])
    sheet.merge_cells("A1:F1")
    # Columns in an unusual order, with a 类别 column merged down its rows.
    sheet.append(["完成\n时限", "牵头单位", "序号", "类别", "工作任务", "责任单位"])
    rows = [
        (
            dt.datetime(2024, 12, 31),
            "县直机关工委",
            1,
            "进机关",
            "每年集中学习党的民族理论政策不少于2次",
            "县委组织部",
        ),
        ("长期坚持", "县直机关工委", 2, "进机关", "开展民族团结进步主题实践活动", ""),
        ("2025年6月", "县工信局", 3, "进企业", "打造民族团结进步示范企业3个以上", "县工商联、县人社局"),
        ("2025年底", "县工信局", 4, "进企业", "平等招收各民族员工，尊重风俗习惯", "县人社局"),
        ("每学期", "县教育局", 5, "进学校", "各中小学每学期至少举办1次专题讲座", "团县委"),
        ("2025年底", "县教育局", 6, "进学校", "设立民族团结主题宣传栏", ""),
        ("2025年底", "县民政局", 7, "进社区", "打造示范社区4个以上", "各乡镇人民政府"),
        ("2025年底", "县民宗局", 8, "进宗教活动场所", "开展“五个一”活动", "县委统战部"),
        ("2025年底", "县文旅局", 9, "进景区", "打造示范景区2个", "县民宗局"),
    ]
    for row in rows:
        sheet.append(list(row))
    for first, last in ((3, 4), (5, 6), (7, 8)):
        sheet.merge_cells(f"D{first}:D{last}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_task_table_in_any_column_order_imports_with_leads_first():
    plan = parse_plan_file("七进任务分工表.xlsx", table_xlsx())

    assert plan.document_title == "某某县民族团结进步创建“七进”活动任务分工表"
    assert plan.title == "某某县民族团结进步创建“七进”活动"
    assert plan.city == "某某县"
    assert [(s.numeral, s.title) for s in plan.sections] == [
        ("一", "进机关"),
        ("二", "进企业"),
        ("三", "进学校"),
        ("四", "进社区"),
        ("五", "进宗教活动场所"),
        ("六", "进景区"),
    ]
    assert [(t.number, t.section_order, t.title) for t in plan.tasks] == [
        (1, 1, "每年集中学习党的民族理论政策不少于2次"),
        (2, 1, "开展民族团结进步主题实践活动"),
        (3, 2, "打造民族团结进步示范企业3个以上"),
        (4, 2, "平等招收各民族员工，尊重风俗习惯"),
        (5, 3, "各中小学每学期至少举办1次专题讲座"),
        (6, 3, "设立民族团结主题宣传栏"),
        (7, 4, "打造示范社区4个以上"),
        (8, 5, "开展“五个一”活动"),
        (9, 6, "打造示范景区2个"),
    ]
    assert units(plan) == [
        ["县直机关工委", "县委组织部"],
        ["县直机关工委"],
        ["县工信局", "县工商联", "县人社局"],
        ["县工信局", "县人社局"],
        ["县教育局", "团县委"],
        ["县教育局"],
        ["县民政局", "各乡镇人民政府"],
        ["县民宗局", "县委统战部"],
        ["县文旅局", "县民宗局"],
    ]
    assert [t.deadline for t in plan.tasks][:3] == [dt.date(2024, 12, 31), None, dt.date(2025, 6, 30)]
    assert targets(plan) == [
        (1, "study_sessions", Decimal(2), "gte", "全县", "per_year", None),
        (3, "demo_sites", Decimal(3), "gte", "全县", "by_date", dt.date(2025, 6, 30)),
        (5, "lectures", Decimal(1), "gte", "各中小学", "per_semester", None),
        (7, "demo_sites", Decimal(4), "gte", "全县", "by_date", dt.date(2025, 12, 31)),
        (9, "demo_sites", Decimal(2), "eq", "全县", "by_date", dt.date(2025, 12, 31)),
    ]
    assert plan.ends_on == dt.date(2025, 12, 31)  # no phases: the latest 完成时限


# --- Mixed punctuation and GBK: still the Pingliang plan, exactly -----------------------------------


def mixed_punctuation(text: str) -> str:
    """Half of the 29 titles typed with a half-width ". " or a full-width "．" instead of "。"."""

    def retype(m: re.Match) -> str:
        number = int(m.group(1))
        if number % 2:
            return m.group(0)
        return f"{m.group(1)}.{m.group(2)}" + (". " if number % 4 == 0 else "．")

    return re.sub(r"(?m)^(\d{1,2})\.([^。\n]{2,40})。", retype, text, count=0)


def test_mixed_punctuation_titles_end_at_the_half_width_point(plan, office_user):
    text = mixed_punctuation(pingliang_text())
    assert "2.开展“党建+创建”行动．做好抓党建促民族团结进步工作" in text
    assert "4.推动中华民族优秀传统文化创新传承发展. 积极创建" in text
    assert len(re.findall(r"(?m)^\d{1,2}\.[^。\n]{2,40}(?:\. |．)", text)) == 14

    parsed = parse_plan_text(text)

    assert [t.title for t in parsed.tasks] == list(
        Task.objects.filter(campaign=plan).order_by("number").values_list("title", flat=True)
    )
    campaign = plan_import(parsed=parsed, mapping={}, by=office_user)
    assert snapshot(campaign) == snapshot(plan)


def test_the_pingliang_plan_in_gbk_parses_and_imports_identically(plan, office_user):
    text = pingliang_text().replace("•", "·")  # the web page's bullets have no GBK code
    from_txt = parse_plan_text(text)

    from_gbk = parse_plan_file("平凉市实施方案.txt", text.encode("gbk"))

    assert {**from_gbk.to_dict(), "source_name": ""} == {**from_txt.to_dict(), "source_name": ""}
    assert snapshot(plan_import(parsed=from_gbk, mapping={}, by=office_user)) == snapshot(plan)


# --- Errors say what was found and what is missing ----------------------------------------------------


def test_numbered_items_only_outside_a_task_chapter_are_counted_in_the_error():
    text = (
        "某某县民族团结进步创建实施方案\n一、总体要求\n坚持主线。\n"
        "二、实施步骤\n1.部署阶段（2024年3月至4月）：印发方案。\n2.推进阶段（2024年5月至12月）：推进。\n"
        "三、保障措施\n（一）加强领导。明确责任。\n（二）强化考核。纳入考核。\n"
    )

    with pytest.raises(PlanParseError) as exc:
        parse_plan_text(text)

    assert exc.value.message == (
        "找到3个一级标题（如“一、…”）、2个二级标题（如“（一）…”）、2个编号事项（如“1.…”），"
        "但编号事项都在“二、实施步骤”、“三、保障措施”下，这些部分是总体要求、实施步骤或保障措施，不作为任务导入；"
        "没有找到列出任务的部分，也没有任务分工表。"
        "请确认上传的是实施方案全文（含主要任务部分），或上传含“任务”“牵头单位”等列的任务分工表。"
    )


def test_a_plan_on_one_line_with_its_title_run_in_still_parses():
    lines = (PLANS / "runin_wrapped.txt").read_text(encoding="utf-8").splitlines()

    plan = parse_plan_text("".join(lines))  # no line break at all, not even after the title

    assert plan.document_title == "某某县创建全省民族团结进步示范县实施方案"
    assert [t.title for t in plan.tasks] == [t.title for t in parse("runin_wrapped.txt").tasks]


def test_an_old_excel_file_is_refused_with_what_to_do():
    with pytest.raises(PlanParseError) as exc:
        parse_plan_file("分工表.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)

    assert (
        exc.value.message
        == "这是旧版 Excel(.xls) 文件，暂不支持。请在 Excel 或 WPS 中“另存为”.xlsx 格式后再上传。"
    )


# --- The JSON dry run ---------------------------------------------------------------------------------


def test_command_json_dry_run_prints_one_json_document(db):
    out = StringIO()

    call_command("import_plan", str(PLANS / "arenas_misnumbered.txt"), "--dry-run", "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert [(s["number"], s["title"]) for s in data["sections"]] == [
        ("一", "进机关"),
        ("二", "进企业"),
        ("三", "进学校"),
        ("四", "进社区"),
        ("五", "进景区"),
    ]
    assert len(data["phases"]) == 3
    assert len(data["tasks"]) == 12
    assert data["tasks"][1] == {
        "number": 2,
        "label": "（一）2",
        "title": "开展主题实践",
        "section": "一",
        "section_title": "进机关",
        "units": [
            {"name": "区直机关工委", "role": "lead", "by_rule": False},
            {"name": "区委组织部", "role": "co", "by_rule": False},
        ],
        "deadline": None,
        "deadline_text": "",
        "notes": [],
    }
    assert [(t["task"], t["metric"], t["value"], t["scope_label"], t["window"]) for t in data["targets"]] == [
        (1, "study_sessions", "2", "各机关", {"kind": "per_year", "due_on": None}),
        (3, "demo_sites", "5", "全区", {"kind": "by_date", "due_on": "2025-12-31"}),
        (6, "demo_sites", "3", "全区", {"kind": "by_date", "due_on": "2025-12-31"}),
        (7, "lectures", "1", "各中小学", {"kind": "per_semester", "due_on": None}),
        (9, "demo_sites", "4", "全区", {"kind": "by_date", "due_on": "2025-12-31"}),
    ]
    assert len(data["warnings"]) == 4


def test_command_json_gives_the_pingliang_plan_with_rule_units(db):
    out = StringIO()

    call_command("import_plan", str(SOURCE), "--dry-run", "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert len(data["tasks"]) == 29
    assert len(data["sections"]) == 8
    assert [u["role"] for u in data["tasks"][21]["units"]] == ["co"] * 2
    assert all(u["by_rule"] for u in data["tasks"][21]["units"])
    assert data["tasks"][0]["units"][0] == {"name": "市委组织部", "role": "lead", "by_rule": False}
    assert len(data["targets"]) == sum(1 for t in data["targets"] if t["task"])


def test_command_json_requires_dry_run(db):
    with pytest.raises(CommandError) as exc:
        call_command("import_plan", str(SOURCE), "--json")

    assert str(exc.value) == "--json 只能与 --dry-run 一起使用：JSON 只显示识别结果，不导入。"


def test_command_json_from_the_shell_exit_codes_and_streams(tmp_path):
    bad = tmp_path / "通知.txt"
    bad.write_text("关于召开会议的通知\n各单位：\n定于下周召开会议。\n", encoding="utf-8")
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "import_plan"]
    env = {"DEBUG": "1", **os.environ}  # the quick start's settings unless the shell says otherwise

    good = subprocess.run(
        [*manage, str(PLANS / "no_units.txt"), "--dry-run", "--json"], capture_output=True, text=True, env=env
    )
    failed = subprocess.run(
        [*manage, str(bad), "--dry-run", "--json"], capture_output=True, text=True, env=env
    )

    assert good.returncode == 0
    assert len(json.loads(good.stdout)["tasks"]) == 8
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert "找到0个一级标题（如“一、…”）、0个二级标题（如“（一）…”）、0个编号事项（如“1.…”）" in failed.stderr


# --- Loose tasks and two-row table headers -------------------------------------------------------------


def test_only_tasks_before_the_first_heading_are_noted_as_placed_in_the_named_section():
    plan = parse_plan_text(
        "某市民族团结进步创建实施方案\n一、总体要求\n坚持主线。\n二、主要任务\n"
        "1.开展宣传。每年宣讲不少于5场。\n2.加强学习。组织专题学习。\n"
        "(一)促进交流\n3.开展结对。组织结对。\n4.开展联谊。组织联谊。\n"
    )

    assert [(s.order, s.title) for s in plan.sections] == [(1, "主要任务"), (2, "促进交流")]
    placed = "原文位于第一个工程/活动标题之前，已归入“主要任务”"
    assert [(t.number, t.section_order, placed in t.notes) for t in plan.tasks] == [
        (1, 1, True),
        (2, 1, True),
        (3, 2, False),
        (4, 2, False),
    ]
    assert "部分任务不在任何工程/活动标题之下，已归入“主要任务”。" in plan.warnings


TWO_ROW_TASKS = [
    (
        "1",
        "加强理论学习。每年开展民族工作专题学习不少于2次。",
        "市委宣传部",
        "市委组织部、市委统战部",
        "长期坚持",
    ),
    ("2", "打造示范社区。建成市级示范社区10个以上。", "市民政局", "市住建局", "2025年12月"),
    ("3", "开展结对联谊。组织各族青少年开展交流活动。", "市民宗委", "", "2025.6"),
]


def two_row_header_docx() -> bytes:
    """序号, 重点任务 and 完成时限 merged down two rows; 责任单位 merged across 牵头 | 配合."""
    document = Document()
    document.add_paragraph("某某市民族团结进步创建任务分工方案")
    document.add_paragraph("一、主要任务")
    table = document.add_table(rows=2, cols=5)
    top, below = table.rows[0].cells, table.rows[1].cells
    for col, text in ((0, "序号"), (1, "重点任务"), (4, "完成时限")):
        top[col].merge(below[col]).text = text
    top[2].merge(top[3]).text = "责任单位"
    below[2].text, below[3].text = "牵头", "配合"
    for row in TWO_ROW_TASKS:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def two_row_header_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["某某市民族团结进步创建任务分工表"])
    sheet.merge_cells("A1:E1")
    sheet.append(["序号", "重点任务", "责任单位", None, "完成时限"])
    sheet.append([None, None, "牵头单位", "配合单位", None])
    for col in "ABE":
        sheet.merge_cells(f"{col}2:{col}3")
    sheet.merge_cells("C2:D2")
    for number, *rest in TWO_ROW_TASKS:
        sheet.append([int(number), *rest])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make"), [("分工方案.docx", two_row_header_docx), ("分工表.xlsx", two_row_header_xlsx)]
)
def test_a_task_table_whose_header_spans_two_rows_imports_leads_and_co_units(name, make):
    plan = parse_plan_file(name, make())

    assert [(t.number, t.title) for t in plan.tasks] == [
        (1, "加强理论学习"),
        (2, "打造示范社区"),
        (3, "开展结对联谊"),
    ]
    assert units(plan) == [["市委宣传部", "市委组织部", "市委统战部"], ["市民政局", "市住建局"], ["市民宗委"]]
    assert [(t.deadline, t.deadline_text) for t in plan.tasks] == [
        (None, "长期坚持"),
        (dt.date(2025, 12, 31), "2025年12月"),
        (dt.date(2025, 6, 30), "2025.6"),
    ]
    assert not any("牵头" in t.title or t.title in ("序号", "重点任务") for t in plan.tasks)
