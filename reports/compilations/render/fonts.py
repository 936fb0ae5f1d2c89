"""Which faces the 公文 documents are set in: 仿宋 (body), 楷体 (（一） headings), 小标宋 (titles, mark block),
黑体 (一、 headings) and 宋 (page numbers, tables).

Each role has the faces an office would have installed (looked for in ``settings.FONT_DIRS`` first, then in
the system's fontconfig via ``fc-list``) and free fall-backs from Debian packages. The result is a CSS
font-family list per role: WeasyPrint (Pango) falls back per character along the list, so a commercial face
missing a rare character borrows it from the next face rather than printing a box.

Measured (fontTools, ``coverage()``): ``fonts-cwtex-fs`` (cwTeXFangSong, drawn for traditional characters)
maps only 2,552 of the 3,755 characters of GB2312 level 1 (68 %) and about two thirds of the characters of the
example summaries; set per character it would mix two faces in every line. It is therefore used only when it
covers ``CWTEX_MIN_COVERAGE`` of the documents' characters, which it does not: without a real 仿宋 the body
falls back to Noto Serif CJK SC. The free 楷 faces (AR PL KaitiM GB, AR PL UKai CN, LXGW WenKai) cover all of
GB2312 level 1; Noto Serif CJK SC Black stands in for 小标宋 and Noto Sans CJK SC Bold for 黑体.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}
CWTEX_FAMILY = "cwTeXFangSong"
CWTEX_MIN_COVERAGE = 0.995


@dataclass(frozen=True)
class Role:
    key: str
    label: str
    preferred: tuple[str, ...]  # faces an office installs (names as fontconfig and the name table give them)
    free: tuple[tuple[str, int], ...]  # Debian faces: (family, CSS weight)
    last: tuple[str, int]  # always there with fonts-noto-cjk
    generic: str
    preferred_weight: int = 400


ROLES: dict[str, Role] = {
    "fangsong": Role(
        "fangsong",
        "仿宋",
        (
            "FangSong_GB2312",
            "仿宋_GB2312",
            "FangSong",
            "仿宋",
            "STFangsong",
            "华文仿宋",
            "FZFangSong-Z02S",
            "方正仿宋简体",
            "方正仿宋_GBK",
        ),
        ((CWTEX_FAMILY, 400),),
        ("Noto Serif CJK SC", 400),
        "serif",
    ),
    "kai": Role(
        "kai",
        "楷体",
        ("KaiTi_GB2312", "楷体_GB2312", "KaiTi", "楷体", "STKaiti", "华文楷体", "FZKai-Z03S", "方正楷体简体"),
        (("AR PL KaitiM GB", 400), ("AR PL UKai CN", 400), ("LXGW WenKai", 400)),
        ("Noto Serif CJK SC", 400),
        "serif",
    ),
    "xbs": Role(
        "xbs",
        "小标宋",
        ("FZXiaoBiaoSong-B05S", "方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05", "方正小标宋"),
        (("Noto Serif CJK SC", 900),),
        ("Noto Serif CJK SC", 700),
        "serif",
    ),
    "hei": Role(
        "hei",
        "黑体",
        ("SimHei", "黑体", "STHeiti", "华文黑体", "FZHei-B01S", "方正黑体简体"),
        (("Noto Sans CJK SC", 700),),
        ("Noto Sans CJK SC", 700),
        "sans-serif",
    ),
    "song": Role(
        "song",
        "宋体",
        ("SimSun", "宋体", "STSong", "华文宋体", "FZShuSong-Z01S", "方正书宋简体"),
        (),
        ("Noto Serif CJK SC", 400),
        "serif",
    ),
}


@dataclass(frozen=True)
class Face:
    """The face a role is set in: where it came from (FONT_DIRS, 系统, 备用) and its file."""

    role: str
    family: str
    weight: int
    source: str  # "font_dirs" | "system" | "fallback"
    path: str = ""

    @property
    def is_fallback(self) -> bool:
        return self.source == "fallback"


# ------------------------------------------------------------------------------------- discovery


def _family_names(path: Path) -> list[tuple[str, str]]:
    """(family, file) for each face in a font file, every language's family name (name ids 1 and 16)."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.suffix.lower() in {".ttc", ".otc"}:
            fonts = list(TTCollection(str(path), lazy=True).fonts)
        else:
            fonts = [TTFont(str(path), lazy=True)]
    except Exception:  # an unreadable file in a font folder is skipped, not fatal
        return []
    names = []
    for font in fonts:
        for record in font["name"].names:
            if record.nameID in (1, 16):
                try:
                    names.append((record.toUnicode().strip(), str(path)))
                except UnicodeDecodeError:
                    continue
    return names


@functools.lru_cache(maxsize=1)
def font_dir_families() -> dict[str, str]:
    """Family name → file for the fonts in ``settings.FONT_DIRS`` (read once per process)."""
    found: dict[str, str] = {}
    for folder in getattr(settings, "FONT_DIRS", []) or []:
        root = Path(folder)
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES:
                for family, file in _family_names(path):
                    found.setdefault(family, file)
    return found


@functools.lru_cache(maxsize=1)
def system_families() -> dict[str, str]:
    """Family name → file for fontconfig's fonts (``fc-list``); empty where fontconfig is missing."""
    try:
        out = subprocess.run(
            ["fc-list", "--format", "%{family}\t%{file}\n"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, str] = {}
    for line in out.splitlines():
        families, _, file = line.partition("\t")
        for family in families.split(","):
            found.setdefault(family.strip().replace("\\-", "-"), file)
    return found


def _find(family: str) -> tuple[str, str] | None:
    if family in font_dir_families():
        return "font_dirs", font_dir_families()[family]
    if family in system_families():
        return "system", system_families()[family]
    return None


# -------------------------------------------------------------------------------------- coverage


def gb2312_level1() -> str:
    """The 3,755 characters of GB2312 level 1 (rows 16–55), the characters official documents use most."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


@functools.lru_cache(maxsize=16)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith((".ttc", ".otc")):
        font = TTCollection(path, lazy=True).fonts[0]
    else:
        font = TTFont(path, lazy=True)
    return frozenset(font.getBestCmap() or {})


def coverage(path: str, text: str) -> tuple[float, str]:
    """Share of the distinct CJK characters of ``text`` the font at ``path`` maps, and those it lacks."""
    chars = sorted({ch for ch in text if ord(ch) >= 0x2E80})
    if not chars:
        return 1.0, ""
    cmap = _cmap(path)
    missing = "".join(ch for ch in chars if ord(ch) not in cmap)
    return 1 - len(missing) / len(chars), missing


def cwtex_coverage() -> float | None:
    """cwTeX 仿宋's share of GB2312 level 1, or None when it is not installed."""
    hit = _find(CWTEX_FAMILY)
    return coverage(hit[1], gb2312_level1())[0] if hit else None


def _cwtex_good_enough(path: str) -> bool:
    share, _ = coverage(path, gb2312_level1())
    return share >= CWTEX_MIN_COVERAGE


# ------------------------------------------------------------------------------------ resolution


@functools.lru_cache(maxsize=1)
def resolve() -> dict[str, list[Face]]:
    """Per role, the faces in the order they are tried: a preferred face if any is installed, then the free
    faces that are installed (cwTeX 仿宋 only if its coverage is good), then Noto."""
    out: dict[str, list[Face]] = {}
    for key, role in ROLES.items():
        faces: list[Face] = []
        for family in role.preferred:
            hit = _find(family)
            if hit:
                faces.append(Face(key, family, role.preferred_weight, hit[0], hit[1]))
                break
        for family, weight in role.free:
            hit = _find(family)
            if not hit:
                continue
            if family == CWTEX_FAMILY and not _cwtex_good_enough(hit[1]):
                continue
            faces.append(Face(key, family, weight, "fallback", hit[1]))
        family, weight = role.last
        hit = _find(family)
        faces.append(Face(key, family, weight, "fallback", hit[1] if hit else ""))
        out[key] = faces
    return out


def clear_cache() -> None:
    """Forget what was found (tests that change FONT_DIRS)."""
    for cached in (font_dir_families, system_families, resolve, _cmap):
        cached.cache_clear()


def primary(role: str) -> Face:
    return resolve()[role][0]


def _quote(family: str) -> str:
    return '"' + family.replace('"', "") + '"'


def css_fonts() -> dict[str, str]:
    """The template context of gongwen.css: a font-family list and the weight of its first face per role,
    and @font-face rules for faces found in FONT_DIRS (fontconfig does not know those folders)."""
    context: dict[str, str] = {}
    faces_css = []
    for key, faces in resolve().items():
        families = []
        for face in faces:
            if _quote(face.family) not in families:
                families.append(_quote(face.family))
            if face.source == "font_dirs":
                faces_css.append(
                    f"@font-face {{ font-family: {_quote(face.family)}; "
                    f'src: url("{Path(face.path).resolve().as_uri()}"); }}'
                )
        context[key] = ", ".join([*families, ROLES[key].generic])
        context[f"{key}_weight"] = str(faces[0].weight)
    context["face_css"] = "\n".join(dict.fromkeys(faces_css))
    return context


def font_dir_files() -> set[str]:
    """The font files the PDF renderer may read (file:// URLs of the @font-face rules)."""
    return {
        Path(face.path).resolve().as_uri()
        for faces in resolve().values()
        for face in faces
        if face.source == "font_dirs"
    }


def describe() -> list[str]:
    """One line per role, for ``manage.py check``: the face in use and the fall-backs after it."""
    lines = []
    for key, faces in resolve().items():
        first, rest = faces[0], faces[1:]
        where = {"font_dirs": "FONT_DIRS", "system": "系统字体", "fallback": "免费备用字体"}[first.source]
        line = f"{ROLES[key].label}：{first.family}（{where}）"
        rest_names = [f.family for f in rest if f.family != first.family]
        if rest_names:
            line += "，缺字时依次用 " + "、".join(dict.fromkeys(rest_names))
        lines.append(line)
    return lines
