"""`manage.py check` warns when no CJK font is installed: compiled PDFs would show boxes instead of Chinese."""

import shutil
import subprocess

from django.core.checks import Warning, register


def cjk_fonts() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


@register()
def check_cjk_font(app_configs, **kwargs):
    if cjk_fonts():
        return []
    return [
        Warning(
            "未找到中文字体：生成的 PDF 中文会显示为方框。",
            hint="Debian/Ubuntu：apt-get install fonts-noto-cjk libharfbuzz-subset0",
            id="campaign.W001",
        )
    ]
