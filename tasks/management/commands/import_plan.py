"""python manage.py import_plan FILE [--dry-run [--json]] [--activate] [--map 名称=代码] [--skip-unmatched]"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaign.errors import DomainError
from tasks.importer import ParsedPlan, ParsedTarget, parse_plan_file
from tasks.plan_import import plan_import, plan_preview
from units.models import Unit


class Command(BaseCommand):
    help = "从实施方案文件（.docx、.xlsx 或 .txt）导入一个新的创建活动：阶段、工程/活动、任务、责任单位和量化目标。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="实施方案文件路径（.docx、.xlsx 或 .txt）")
        parser.add_argument("--dry-run", action="store_true", help="只显示识别结果，不写入数据库")
        parser.add_argument(
            "--json",
            action="store_true",
            help="与 --dry-run 一起使用：在标准输出打印一个 JSON 文档（阶段、工程/活动、任务、目标、提示），不读数据库",
        )
        parser.add_argument("--activate", action="store_true", help="导入后设为当前活动")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="名称=单位代码",
            help="把方案中的单位名称对应到已有单位（按单位代码），可重复使用",
        )
        parser.add_argument("--skip-unmatched", action="store_true", help="忽略未能对应到单位的名称")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if options["json"] and not options["dry_run"]:
            raise CommandError("--json 只能与 --dry-run 一起使用：JSON 只显示识别结果，不导入。")
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        try:
            parsed = parse_plan_file(path.name, path.read_bytes())
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(plan_json(parsed), ensure_ascii=False, indent=2))
            return

        mapping: dict[str, dict] = {}
        for item in options["map"]:
            name, sep, code = item.partition("=")
            if not sep:
                raise CommandError(f"--map 的格式应为 名称=单位代码：{item}")
            unit = Unit.objects.filter(code=code.strip()).first()
            if unit is None:
                raise CommandError(f"没有代码为“{code.strip()}”的单位。")
            mapping[name.strip()] = {"action": "unit", "unit_id": unit.id}

        preview = plan_preview(parsed=parsed, mapping=mapping)
        if options["skip_unmatched"]:
            mapping.update({name: {"action": "skip"} for name in preview.unmatched})
            preview = plan_preview(parsed=parsed, mapping=mapping)
        self._summary(preview)

        if options["dry_run"]:
            self.stdout.write("试运行：未写入任何数据。")
            return
        try:
            campaign = plan_import(parsed=parsed, mapping=mapping, by=None, activate=options["activate"])
        except DomainError as exc:
            raise CommandError(
                exc.message + " 可用 --map 名称=单位代码 指定对应单位，或用 --skip-unmatched 忽略。"
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入创建活动“{campaign.title}”（编号 {campaign.pk}）："
                f"{campaign.tasks.count()} 项任务，{preview.responsibility_count} 条责任分工，"
                f"{preview.target_count} 个量化目标。"
            )
        )

    def _summary(self, preview) -> None:
        parsed = preview.parsed
        out = self.stdout.write
        out(f"方案：{parsed.document_title}")
        out(f"城市：{parsed.city or '未识别'}　印发日期：{parsed.issued_on or '未识别'}")
        out(
            f"起止：{preview.starts_on or '未识别'} 至 {preview.ends_on or '未识别'}，报告期 {len(preview.periods)} 个季度"
        )
        for phase in parsed.phases:
            out(f"  阶段{phase.order} {phase.name}：{phase.starts_on} 至 {phase.ends_on}")
        for section in parsed.sections:
            tasks = [row for row in preview.tasks if row.task.section_order == section.order]
            out(f"（{section.numeral}）{section.title}：{len(tasks)} 项任务")
            for row in tasks:
                lead = next((preview.labels[r.ref] for r in row.responsibilities if r.role == "lead"), "无")
                named = sum(1 for r in row.responsibilities if not r.by_rule)
                by_rule = len(row.responsibilities) - named
                out(
                    f"  {row.task.number}. {row.task.title}（牵头：{lead}；列明 {named} 个单位，统一要求 {by_rule} 个）"
                )
                for t in row.targets:
                    scope = "、".join(preview.labels.get(ref, str(ref)) for ref in t.refs)
                    out(
                        f"     目标：{t.target.scope_label} {t.target.metric_name}"
                        f"{'不少于' if t.target.comparison == 'gte' else '达到'}{t.target.value}{t.target.unit_of_measure}"
                        f"，{_period(t.target, preview.ends_on)}" + (f"（{scope}）" if scope else "")
                    )
        for warning in parsed.warnings + preview.notices:
            out(self.style.WARNING(f"提示：{warning}"))
        for item in parsed.skipped:
            out(self.style.WARNING(f"未导入：[{item.where}] {item.text[:60]} —— {item.reason}"))
        if preview.unmatched:
            out(self.style.ERROR("未能对应到单位的名称：" + "、".join(preview.unmatched)))


def _period(target, ends_on) -> str:
    if target.period_kind == "per_year":
        return "每年"
    if target.period_kind == "per_semester":
        return "每学期"
    return f"截至{target.due_on or ends_on}"


def plan_json(parsed: ParsedPlan) -> dict:
    """What the parser found, for scripts: one document, the parse only (no unit matching, no database)."""
    sections = {s.order: s for s in parsed.sections}

    def target(t: ParsedTarget, task: int | None) -> dict:
        return {
            "task": task,
            "metric": t.metric_code,
            "metric_name": t.metric_name,
            "value": f"{t.value.normalize():f}",
            "unit_of_measure": t.unit_of_measure,
            "comparison": t.comparison,
            "scope": t.scope,
            "scope_label": t.scope_label,
            "units": t.unit_names,
            "unit_group": t.unit_group,
            "window": {"kind": t.period_kind, "due_on": t.due_on.isoformat() if t.due_on else None},
            "source_text": t.source_text,
        }

    def date(value):
        return value.isoformat() if value else None

    return {
        "document_title": parsed.document_title,
        "title": parsed.title,
        "city": parsed.city,
        "issued_on": date(parsed.issued_on),
        "starts_on": date(parsed.starts_on),
        "ends_on": date(parsed.ends_on),
        "phases": [
            {"order": p.order, "name": p.name, "starts_on": date(p.starts_on), "ends_on": date(p.ends_on)}
            for p in parsed.phases
        ],
        "sections": [{"order": s.order, "number": s.numeral, "title": s.title} for s in parsed.sections],
        "tasks": [
            {
                "number": t.number,
                "label": t.label,
                "title": t.title,
                "section": sections[t.section_order].numeral if t.section_order in sections else None,
                "section_title": sections[t.section_order].title if t.section_order in sections else None,
                "units": [
                    {"name": name, "role": "lead" if i == 0 else "co", "by_rule": False}
                    for i, name in enumerate(t.names)
                ]
                + [
                    {"name": name, "role": "co", "by_rule": True}
                    for name in t.rule_names
                    if name not in t.names
                ],
                "deadline": date(t.deadline),
                "deadline_text": t.deadline_text,
                "notes": t.notes,
            }
            for t in parsed.tasks
        ],
        "targets": [target(x, None) for x in parsed.plan_targets]
        + [target(x, t.number) for t in parsed.tasks for x in t.targets],
        "warnings": parsed.warnings,
        "skipped": [{"where": k.where, "text": k.text, "reason": k.reason} for k in parsed.skipped],
    }
