"""What the import does with a task's 完成时限 and with the targets of the plan as a whole, and what the preview
says about them: a Task has no deadline field and a Target belongs to a task, so a deadline only a table
column gives is kept at the end of the task's text, and a plan-wide target's sentence is kept in the goal."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks.importer import parse_plan_file, parse_plan_text
from tasks.models import Target
from tasks.plan_import import plan_import, plan_preview
from tests.tasks.test_importer_shapes import table_docx

GOAL_PLAN = """\
某市民族团结进步创建实施方案
一、总体要求
坚持以铸牢中华民族共同体意识为主线。
到2025年底，全市建成民族团结进步示范点10个以上。
二、实施步骤
1.部署阶段(2024年3月至4月)。印发方案。
2.实施阶段(2024年5月至2025年12月)。全面推进。
三、主要任务
(一)强化思想引领
1.深化理论武装。到2025年底前，市委理论学习中心组开展专题学习不少于8次。（牵头单位：市委宣传部）
"""


def _skip_unmatched(parsed) -> dict:
    return {name: {"action": "skip"} for name in plan_preview(parsed=parsed).unmatched}


def test_a_deadline_only_the_table_gives_is_kept_at_the_end_of_the_task_text(plan, office_user):
    parsed = parse_plan_file("分工方案.docx", table_docx(with_prose_items=False))

    campaign = plan_import(parsed=parsed, mapping=_skip_unmatched(parsed), by=office_user)

    texts = dict(campaign.tasks.values_list("number", "text"))
    assert texts[1] == parsed.tasks[0].text + "（完成时限：长期坚持）"
    assert texts[2] == (
        "开展主题宣讲。组建宣讲团深入基层，每年宣讲不少于50场次。（完成时限：2024年12月底前）"
    )
    assert texts[6].endswith("健全服务管理机制。（完成时限：2024年6月30日）")


def test_a_deadline_the_text_already_says_is_not_repeated_and_plan_targets_stay_in_the_goal(
    plan, office_user
):
    parsed = parse_plan_text(GOAL_PLAN)
    assert (parsed.tasks[0].deadline_text, parsed.tasks[0].deadline) == (
        "到2025年底前",
        dt.date(2025, 12, 31),
    )
    assert [(t.metric_code, t.value) for t in parsed.plan_targets] == [("demo_sites", 10)]

    campaign = plan_import(parsed=parsed, mapping=_skip_unmatched(parsed), by=office_user)

    task = campaign.tasks.get(number=1)
    assert task.text == parsed.tasks[0].text and "完成时限" not in task.text
    assert campaign.goal == "坚持以铸牢中华民族共同体意识为主线。\n全市建成民族团结进步示范点10个以上"
    # No Target is made for the plan as a whole: only the task's own.
    assert list(Target.objects.filter(task__campaign=campaign).values_list("metric__code", "value")) == [
        ("study_sessions", 8)
    ]


def test_the_preview_shows_each_tasks_deadline_and_the_plan_wide_targets_with_what_import_does(as_office):
    as_office.post(
        reverse("plan_import:upload"),
        {"document": SimpleUploadedFile("分工方案.docx", table_docx(with_prose_items=False))},
    )

    html = as_office.get(reverse("plan_import:preview")).content.decode()

    assert (
        '<div class="small" data-testid="deadline-1">完成时限：长期坚持'
        '<span class="text-muted">，导入后写在任务内容末尾</span></div>'
    ) in html
    assert (
        '<div class="small" data-testid="deadline-5">完成时限：2025.6（2025年6月30日前）'
        '<span class="text-muted">，导入后写在任务内容末尾</span></div>'
    ) in html
    assert "全方案目标（总体要求中的目标）" in html
    assert "全市：示范点 不少于 50个，截至2025年12月31日" in html
    assert "不会生成量化目标</strong>，原文保留在创建活动的“总体要求”中" in html
