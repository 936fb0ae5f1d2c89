"""``manage.py backup DIR``: the database and the media files (evidence, compiled documents) into DIR.

On PostgreSQL the database is written by ``pg_dump --format=custom``: one consistent snapshot of every
table (reports, events, sessions, tokens, lockouts …) with its sequences, exact column types, and fast for
large data; ``restore`` reads it back with ``pg_restore``. Django's dumpdata/loaddata would go through the
models row by row, hold everything in memory, and leave sequences and non-model tables behind. On SQLite
(the quick start) the database file is copied with SQLite's online backup API, also a consistent snapshot.
The media files go into ``media.tar``; ``manifest.json`` records what was written with SHA-256 sums, which
``restore`` checks before it touches anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar"
DUMP_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise CommandError(f"不支持的数据库类型：{connection.vendor}（支持 PostgreSQL 与 SQLite）。")
    return connection.vendor


def pg_args_and_env(program: str) -> tuple[list[str], dict[str, str]]:
    """The PostgreSQL client's command line and environment for the default database (password in the
    environment, never on the command line)."""
    if shutil.which(program) is None:
        raise CommandError(
            f"找不到 {program}：请安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client）。"
        )
    db = settings.DATABASES["default"]
    args = [program, "--no-owner", "--no-privileges", "--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


class Command(BaseCommand):
    help = "备份数据库与上传文件（证明材料、汇编文件）到指定目录；用 restore 命令恢复。"

    def add_arguments(self, parser):
        parser.add_argument("directory", help="备份目录（不存在则创建；须为空目录）")

    def handle(self, *args, directory, **options):
        target = Path(directory)
        if target.exists() and any(target.iterdir()):
            raise CommandError(f"备份目录 {target} 不是空目录：请指定新的目录，以免覆盖已有备份。")
        target.mkdir(parents=True, exist_ok=True)
        engine = vendor()
        dump = target / DUMP_NAMES[engine]
        if engine == "postgresql":
            args, env = pg_args_and_env("pg_dump")
            result = subprocess.run(
                [*args, "--format=custom", "--file", str(dump)], env=env, capture_output=True, text=True
            )
            if result.returncode != 0:
                raise CommandError(f"pg_dump 失败：{result.stderr.strip()}")
        else:
            connection.ensure_connection()
            with sqlite3.connect(dump) as copy:
                connection.connection.backup(copy)
            copy.close()

        media_root = Path(settings.MEDIA_ROOT)
        files = 0
        with tarfile.open(target / MEDIA_ARCHIVE, "w") as archive:
            if media_root.is_dir():
                for path in sorted(media_root.rglob("*")):
                    if path.is_file():
                        archive.add(path, arcname=path.relative_to(media_root).as_posix(), recursive=False)
                        files += 1

        manifest = {
            "created_at": timezone.now().isoformat(),
            "database": engine,
            "media_files": files,
            "files": {name: sha256(target / name) for name in (dump.name, MEDIA_ARCHIVE)},
        }
        (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        self.stdout.write(
            self.style.SUCCESS(
                f"已备份到 {target}：数据库（{dump.name}，{dump.stat().st_size} 字节）与上传文件 {files} 个。"
            )
        )
