"""Rebuild the dashboards' read model (``reports.figures``) from the reports, or check it.

    manage.py rebuild_figures            # delete and recount everything, in one transaction
    manage.py rebuild_figures --check    # change nothing; list where the stored figures differ (exit 1)

The services keep the read model current; this is for reports written without them (bulk imports, a
restored database from before the read model, an edit in the admin) and for checking that nothing did.
"""

from __future__ import annotations

import time

from django.core.management import BaseCommand, CommandError

from reports import figures

SHOWN = 20


class Command(BaseCommand):
    help = "从报告重建看板统计数据（读模型）；--check 只核对、不修改，有差异时列出并以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="只核对，不修改")

    def handle(self, *args, check: bool, **options):
        started = time.monotonic()
        if check:
            found = figures.differences()
            if found:
                for line in found[:SHOWN]:
                    self.stdout.write(f"  {line}")
                more = f"（仅列出前 {SHOWN} 处）" if len(found) > SHOWN else ""
                raise CommandError(
                    f"看板统计数据与报告不一致，共 {len(found)} 处{more}。请运行 rebuild_figures 重建。"
                )
            self.stdout.write(f"看板统计数据与报告一致（用时 {time.monotonic() - started:.1f} 秒）。")
            return
        counts, values = figures.rebuild()
        self.stdout.write(
            f"已重建看板统计数据：报送计数 {counts} 行，指标数值 {values} 行（用时 {time.monotonic() - started:.1f} 秒）。"
        )
