"""``manage.py check`` names the faces the PDFs are set in and says which are stand-ins (fonts.py).

No CJK font at all is campaign/checks.py's warning; this one is about which faces the 公文 layout gets."""

from __future__ import annotations

import sys

from django.core import checks

from .render import fonts

OFFICIAL = {"fangsong", "kai", "xbs", "hei"}


@checks.register("compilations")
def check_document_fonts(app_configs=None, **kwargs):
    # A notice for whoever runs `manage.py check`; not repeated on every migrate, runserver reload or command.
    if sys.argv[1:2] != ["check"] and not kwargs.get("always"):
        return []
    messages = []
    faces = fonts.resolve()
    stand_ins = [fonts.ROLES[key].label for key in OFFICIAL if faces[key][0].is_fallback]
    summary = "；".join(fonts.describe())
    if stand_ins:
        cwtex = fonts.cwtex_coverage()
        note = (
            f"cwTeX 仿宋只覆盖 GB2312 一级字的 {cwtex:.0%}，未用作仿宋。"
            if cwtex is not None and cwtex < fonts.CWTEX_MIN_COVERAGE
            else ""
        )
        messages.append(
            checks.Info(
                f"公文字体：{summary}。{('、'.join(sorted(stand_ins)))}使用免费替代字体。{note}",
                hint="如有仿宋_GB2312、楷体_GB2312、方正小标宋简体、黑体等字体文件，放入一个目录并在环境变量 "
                "FONT_DIRS 中指定（多个目录用逗号分隔），重启后即使用。",
                id="compilations.I001",
            )
        )
    else:
        messages.append(checks.Info(f"公文字体：{summary}。", id="compilations.I002"))
    return messages
