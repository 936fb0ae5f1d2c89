"""Renderers of compiled documents: one data layer (``data``), three layouts (pdf, xlsx, docx).

``render(compilation, directory, progress)`` writes the file into ``directory`` and returns its path;
``progress(percent, stage)`` is called as the work advances. A kind registered by another app (``kinds.py``:
the 申报 dossier) brings its own renderer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from .. import kinds
from ..models import Compilation
from .data import scope_for

Progress = Callable[[int, str], None]


def slow_seconds() -> float:
    """Test-only brake: seconds to spend "preparing" before rendering, so a test can kill a worker mid-job.

    Read from the environment of the worker process (``COMPILATION_SLOW_SECONDS``); never set in production.
    """
    value = getattr(settings, "COMPILATION_SLOW_SECONDS", None) or os.environ.get("COMPILATION_SLOW_SECONDS")
    return float(value) if value else 0.0


def render(compilation: Compilation, directory: Path, progress: Progress) -> Path:
    brake = slow_seconds()
    if brake:
        for step in range(10):
            progress(1 + step, "准备数据（测试减速）")
            time.sleep(brake / 10)
    extra = kinds.get(compilation.kind)
    if extra is not None:
        return extra.render(compilation, Path(directory), progress)
    scope = scope_for(compilation)
    path = Path(directory) / f"compilation-{compilation.pk}.{Compilation.EXTENSIONS[compilation.format]}"
    if compilation.format == Compilation.Format.PDF:
        from .pdf import render_pdf

        render_pdf(scope, path, progress)
    elif compilation.format == Compilation.Format.XLSX:
        from .xlsx import render_xlsx

        render_xlsx(scope, path, progress)
    elif compilation.format == Compilation.Format.DOCX:
        from .docx import render_docx

        render_docx(scope, path, progress)
    else:  # the service refuses unknown formats; this guards rows written by hand
        raise ValueError(f"未知的格式：{compilation.format}")
    return path
