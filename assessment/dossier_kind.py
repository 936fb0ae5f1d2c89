"""The 申报 dossier as a compilation kind: what ``assessment/apps.py`` registers in
``reports/compilations/kinds.py``, and the render entry point that hands a run to the PDF or the zip writer
(``dossier_pdf`` / ``dossier_zip``, which both read the sections from ``dossier``)."""

from __future__ import annotations

from pathlib import Path

from campaign.errors import DomainError
from reports.compilations import kinds

from . import access as assessment_access
from .dossier import (
    HELP,
    KIND,
    LABEL,
    REFUSAL,
    prune_work_dirs,
    resolve_system,
    system_labels,
    system_options,
)
from .dossier_pdf import render_pdf
from .dossier_zip import render_zip
from .models import IndicatorSystem


def render(compilation, directory: Path, progress) -> Path:
    system = IndicatorSystem.objects.select_related("campaign").filter(pk=compilation.subject_id).first()
    if system is None:
        raise DomainError("该申报材料对应的指标体系已被删除。", code="not_found")
    prune_work_dirs()
    if compilation.format == "zip":
        return render_zip(compilation, system, Path(directory), progress)
    return render_pdf(compilation, system, Path(directory), progress)


def compilation_kind() -> kinds.ExtraKind:
    return kinds.ExtraKind(
        value=KIND,
        label=LABEL,
        formats=("pdf", "zip"),
        scope="system",
        scope_label="指标体系",
        help=HELP,
        resolve=resolve_system,
        can_request=assessment_access.can_edit,
        labels=system_labels,
        render=render,
        options=system_options,
        refusal=REFUSAL,
        api_help=(
            "PDF 为公文格式：封面、按指标的目录（带页码）、各指标的情况说明、自评得分与评分理由、入卷佐证材料"
            "（图片嵌入，PDF 附在该指标之后，其他文件列出名称），每项指标一个书签；ZIP 为入卷原始文件，按"
            "“一级指标/三级指标/序号 文件名”分文件夹，附 Excel 台账（来源、说明、大小、SHA-256）。"
            "只有创建办可以申请；领导可查看和下载已生成的文件；各单位看不到。"
        ),
    )
