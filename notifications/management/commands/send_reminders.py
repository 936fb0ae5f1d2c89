"""Run the daily reminder job by hand: ``manage.py send_reminders [--today YYYY-MM-DD]``."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from notifications.services import reminders_send_daily

LABELS = {
    "due_reminder": "报送提醒",
    "overdue": "逾期通知",
    "returned_reminder": "退回未重报提醒",
    "signoff_reminder": "分管领导审核提醒",
    "office_digest": "每日汇总",
    "emails": "邮件",
}


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = (
        "发送报送提醒、逾期通知、退回未重报提醒、分管领导审核提醒和创建办每日汇总"
        "（与每日定时任务相同；重复运行不会重复发送）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", type=_date, help="按指定日期运行（YYYY-MM-DD），默认今天")

    def handle(self, *args, **options):
        counts = reminders_send_daily(today=options["today"])
        summary = "，".join(f"{LABELS[key]} {value} 条" for key, value in counts.items())
        self.stdout.write(self.style.SUCCESS(f"已完成：{summary}"))
