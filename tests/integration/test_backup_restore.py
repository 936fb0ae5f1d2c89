"""``manage.py backup`` / ``restore`` for real: fill the PostgreSQL test database (reports, their events,
evidence files), back it up, restore it into a fresh database and a fresh media folder, and find every
report, event and evidence file identical."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from reports import services
from reports.models import Evidence, ProgressReport, ReportEvent
from tasks.models import Task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
COMPARED = ["reports.ProgressReport", "reports.MetricValue", "reports.ReportEvent", "reports.Evidence"]


def png(colour: tuple[int, int, int], size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def recreate_database(name: str) -> None:
    db = settings.DATABASES["default"]
    admin = psycopg2.connect(
        dbname="postgres",
        user=db["USER"] or "postgres",
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def manage(*args: str, database: str, media: Path) -> str:
    env = dict(os.environ, DATABASE_URL=database_url(database), MEDIA_ROOT=str(media), DEBUG="1")
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def dump(database: str, media: Path) -> list[dict]:
    return json.loads(manage("dumpdata", *COMPARED, "--format", "json", database=database, media=media))


def test_backup_restored_into_a_fresh_database_gives_back_every_report_event_and_evidence_file(
    liaison_a, office_user, unit_a, open_period, media_root, tmp_path
):
    # Given: three reports of a unit, submitted with evidence (a Chinese file name), one approved, one returned.
    files = {}
    for number, colour in ((3, (200, 30, 30)), (4, (30, 200, 30)), (5, (30, 30, 200))):
        report = services.report_save(
            period=open_period,
            unit=unit_a,
            task=Task.objects.get(campaign=open_period.campaign, number=number),
            by=liaison_a,
            version=None,
            fields={
                "progress": f"任务{number}：开展民族团结进步宣传月活动。",
                "problems": "",
                "next_steps": "",
            },
        )
        content = png(colour)
        name = f"关于任务{number}的现场照片（宣传部）.png"
        services.evidence_add_file(
            report=report, by=liaison_a, file=SimpleUploadedFile(name, content, content_type="image/png")
        )
        report = services.report_submit(report=ProgressReport.objects.get(pk=report.pk), by=liaison_a)
        files[report.pk] = content
    first, second, _ = ProgressReport.objects.order_by("task__number")
    services.report_approve(report=first, by=office_user, comment="内容完整，同意。")
    services.report_return(report=second, by=office_user, reason="请补充活动人数。")
    assert ReportEvent.objects.count() >= 8 and Evidence.objects.count() == 3

    source_db = settings.DATABASES["default"]["NAME"]
    before = dump(source_db, media_root)
    assert {row["model"] for row in before} >= {
        "reports.progressreport",
        "reports.reportevent",
        "reports.evidence",
    }

    # When: backed up, then restored into a new, empty database and an empty media folder.
    backup_dir = tmp_path / "backup"
    assert "上传文件" in manage("backup", str(backup_dir), database=source_db, media=media_root)
    fresh_db = os.environ.get("RESTORE_DATABASE_NAME") or f"{source_db}_restore"
    recreate_database(fresh_db)
    fresh_media = tmp_path / "restored-media"
    manage("restore", str(backup_dir), database=fresh_db, media=fresh_media)

    # Then: the same rows (ids, texts, states, times, who) and the same bytes in every evidence file.
    after = dump(fresh_db, fresh_media)
    assert after == before
    for evidence in Evidence.objects.all():
        restored = fresh_media / evidence.file.name
        assert restored.read_bytes() == (media_root / evidence.file.name).read_bytes()
        assert restored.read_bytes() == files[evidence.report_id]
        if evidence.thumbnail:
            assert (fresh_media / evidence.thumbnail.name).read_bytes() == evidence.thumbnail.read()
    # And the restored database is complete: nothing left for migrate to do.
    assert "No planned migration operations" in manage(
        "migrate", "--plan", database=fresh_db, media=fresh_media
    )


def test_restore_refuses_a_database_that_already_holds_data_and_a_damaged_backup(plan, media_root, tmp_path):
    source_db = settings.DATABASES["default"]["NAME"]
    backup_dir = tmp_path / "backup"
    manage("backup", str(backup_dir), database=source_db, media=media_root)

    env = dict(os.environ, DATABASE_URL=database_url(source_db), MEDIA_ROOT=str(tmp_path / "m"), DEBUG="1")
    refused = subprocess.run(
        [sys.executable, "manage.py", "restore", str(backup_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "恢复需要一个新建的空数据库" in refused.stderr

    dump_file = next(backup_dir.glob("database.*"))
    dump_file.write_bytes(dump_file.read_bytes()[:-10])
    damaged = subprocess.run(
        [sys.executable, "manage.py", "restore", str(backup_dir), "--replace"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert damaged.returncode != 0 and "校验值不符" in damaged.stderr
    assert ProgressReport._meta.db_table in connection.introspection.table_names()  # nothing was dropped
