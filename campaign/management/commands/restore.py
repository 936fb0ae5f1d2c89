"""``manage.py restore DIR``: bring back what ``manage.py backup DIR`` wrote — the database and the media files.

It restores into an empty database and an empty media folder (a fresh server), after checking the backup's
SHA-256 sums. With ``--replace`` it overwrites a database and media folder that already hold data (the
current media folder is moved aside, not deleted).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from .backup import DUMP_NAMES, MANIFEST, MEDIA_ARCHIVE, pg_args_and_env, sha256, vendor


class Command(BaseCommand):
    help = "从 backup 命令生成的目录恢复数据库与上传文件（默认要求空数据库与空上传目录）。"

    def add_arguments(self, parser):
        parser.add_argument("directory", help="backup 命令生成的备份目录")
        parser.add_argument(
            "--replace", action="store_true", help="覆盖已有数据的数据库与上传目录（原上传目录改名保留）"
        )

    def handle(self, *args, directory, replace, **options):
        source = Path(directory)
        manifest = self._manifest(source)
        engine = vendor()
        if manifest["database"] != engine:
            raise CommandError(
                f"备份来自 {manifest['database']} 数据库，当前数据库是 {engine}：请在同类数据库上恢复。"
            )
        tables = connection.introspection.table_names()
        if tables and not replace:
            raise CommandError(
                f"目标数据库已有 {len(tables)} 张表：恢复需要一个新建的空数据库。确需覆盖请加 --replace。"
            )
        media_root = Path(settings.MEDIA_ROOT)
        if media_root.is_dir() and any(media_root.iterdir()):
            if not replace:
                raise CommandError(f"上传目录 {media_root} 不是空的：请使用空目录，确需覆盖请加 --replace。")
            aside = media_root.with_name(f"{media_root.name}.before-restore-{timezone.now():%Y%m%d%H%M%S}")
            media_root.rename(aside)
            self.stdout.write(f"原上传目录已改名为 {aside}。")

        dump = source / DUMP_NAMES[engine]
        if engine == "postgresql":
            args, env = pg_args_and_env("pg_restore")
            if replace:
                args += ["--clean", "--if-exists"]
            result = subprocess.run(
                [*args, "--single-transaction", "--exit-on-error", str(dump)],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_restore 失败：{result.stderr.strip()}")
        else:
            connection.ensure_connection()
            with sqlite3.connect(dump) as backup:
                backup.backup(connection.connection)
            backup.close()
        connection.close()  # the next query sees the restored tables

        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source / MEDIA_ARCHIVE) as archive:
            archive.extractall(media_root, filter="data")  # no absolute paths, no links out of the folder
        self.stdout.write(
            self.style.SUCCESS(
                f"已从 {source} 恢复数据库与上传文件 {manifest['media_files']} 个（备份时间 {manifest['created_at']}）。"
            )
        )

    def _manifest(self, source: Path) -> dict:
        path = source / MANIFEST
        if not path.is_file():
            raise CommandError(f"{source} 中没有 {MANIFEST}：这不是 backup 命令生成的备份目录。")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for name, expected in manifest["files"].items():
            file = source / name
            if not file.is_file():
                raise CommandError(f"备份不完整：缺少 {name}。")
            if sha256(file) != expected:
                raise CommandError(f"备份文件 {name} 的校验值不符（文件已损坏或被改动），未恢复任何内容。")
        return manifest
