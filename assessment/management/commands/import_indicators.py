"""python manage.py import_indicators FILE --name 名称 [--dry-run] [--full-score 100] [--pass-score 90] ..."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessment import services
from assessment.importer import parse_file
from assessment.models import IndicatorSystem
from campaign.errors import DomainError
from campaign.models import Campaign


def _decimal(value: str, label: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise CommandError(f"{label}应是数字：{value}") from None


class Command(BaseCommand):
    help = "从指标表文件（.docx、.xlsx 或 .txt）导入一个测评指标体系：序号、指标、分值、评分标准、佐证材料。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="指标表文件路径（.docx、.xlsx 或 .txt）")
        parser.add_argument("--name", required=True, help="指标体系名称")
        parser.add_argument("--dry-run", action="store_true", help="只显示识别结果、错误和提示，不写入数据库")
        parser.add_argument("--scope", default="national", choices=IndicatorSystem.Scope.values, help="层级")
        parser.add_argument("--source", default="", help="依据文件")
        parser.add_argument("--full-score", default="100", help="满分（默认 100）")
        parser.add_argument("--pass-score", default="90", help="申报分数线（默认 90）")
        parser.add_argument("--example", action="store_true", help="标记为示例（须以正式文件替换）")
        parser.add_argument("--campaign", type=int, help="创建活动编号（默认当前活动）")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        full = _decimal(options["full_score"], "满分")
        try:
            parsed = parse_file(path.name, path.read_bytes(), full_score=full)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        levels = {level: sum(1 for r in parsed.rows if r.level == level) for level in (1, 2, 3)}
        self.stdout.write(
            f"识别到 {len(parsed.rows)} 个指标：一级 {levels[1]} 个、二级 {levels[2]} 个、三级 {levels[3]} 个，"
            f"末级指标 {len(parsed.leaves())} 个，合计 {parsed.total.normalize():f} 分。"
        )
        for problem in parsed.warnings:
            self.stdout.write(self.style.WARNING(f"提示：{problem}"))
        for problem in parsed.errors:
            self.stderr.write(self.style.ERROR(f"错误：{problem}"))
        if parsed.errors:
            raise CommandError(f"指标表有 {len(parsed.errors)} 处错误，未导入。请修改文件后重试。")
        if options["dry_run"]:
            self.stdout.write("试运行：未写入任何数据。")
            return
        campaign = (
            Campaign.objects.filter(pk=options["campaign"]).first()
            if options["campaign"]
            else Campaign.current()
        )
        if campaign is None:
            raise CommandError("没有找到创建活动：请先导入实施方案，或用 --campaign 指定编号。")
        try:
            system = services.import_system(
                by=None,
                campaign=campaign,
                parsed=parsed,
                name=options["name"],
                scope=options["scope"],
                source=options["source"],
                full_score=full,
                pass_score=_decimal(options["pass_score"], "申报分数线"),
                is_example=options["example"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"已导入指标体系“{system.name}”（编号 {system.pk}）。"))
