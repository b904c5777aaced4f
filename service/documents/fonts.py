"""Locate a CJK TrueType font that fpdf2 can embed and whose text pypdf extracts.

Why a list of TrueType fonts only: fpdf2 2.8 embeds CFF-outline fonts (Noto CJK .ttc/.otf)
with a broken width/ToUnicode mapping (extracted text gets NULs between characters), and
DroidSansFallback has no ASCII digits. WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``)
has both CJK and Latin glyphs in TrueType outlines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

ENV_VAR = "GRADFLOW_CJK_FONT"
BUNDLED_DIR = Path(__file__).resolve().parent / "fonts"

# (path, index in the collection), best first.
KNOWN_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # apt: fonts-wqy-microhei
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # apt: fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # apt: fonts-arphic-uming
    ("/usr/local/share/fonts/wqy-microhei.ttc", 0),
)

# Per-character fallbacks, tried in order for characters the main font lacks: HanaMin A covers the
# BMP's CJK (incl. Extension A), HanaMin B the supplementary planes (Extensions B–F, e.g. 𠮷 U+20BB7).
FALLBACK_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", 0),  # apt: fonts-hanazono
    ("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", 0),  # apt: fonts-hanazono
)

INSTALL_HINT = (
    "no usable CJK TrueType font found: install the Debian package fonts-wqy-microhei "
    f"(apt-get install fonts-wqy-microhei), or set {ENV_VAR} to a .ttf/.ttc with TrueType "
    "outlines covering Chinese and ASCII"
)


class CjkFontNotFound(RuntimeError):
    """No font can render the sign-off sheets' Chinese text."""


@dataclass(frozen=True)
class CjkFont:
    path: Path
    index: int = 0


@lru_cache(maxsize=16)
def _usable(path: str, index: int, mtime: float) -> str | None:
    """None when fpdf2 can embed the font and it covers Chinese and digits, else the reason."""
    try:
        font = TTFont(path, fontNumber=index, lazy=True)
    except Exception as exc:  # fontTools raises many kinds on a bad file
        return f"cannot read font: {exc}"
    try:
        if "glyf" not in font:
            return "not TrueType outlines (CFF fonts such as Noto CJK do not extract correctly)"
        cmap = font.getBestCmap() or {}
        missing = [ch for ch in "生源信息签字0123456789X" if ord(ch) not in cmap]
        return f"missing glyphs {''.join(missing)!r}" if missing else None
    finally:
        font.close()


@lru_cache(maxsize=16)
def _coverage(path: str, index: int, mtime: float) -> frozenset[int]:
    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def coverage(font: CjkFont) -> frozenset[int]:
    """The code points ``font`` has glyphs for."""
    return _coverage(str(font.path), font.index, font.path.stat().st_mtime)


def find_fallback_fonts() -> list[CjkFont]:
    """The installed per-character fallback fonts (TrueType outlines only), in order."""
    found = []
    for path, index in FALLBACK_FONTS:
        p = Path(path)
        if p.is_file():
            try:
                font = TTFont(path, fontNumber=index, lazy=True)
            except Exception:  # noqa: BLE001 - an unreadable fallback is skipped, coverage is checked anyway
                continue
            try:
                if "glyf" in font:
                    found.append(CjkFont(p, index))
            finally:
                font.close()
    return found


def check_font(path: str | Path, index: int = 0) -> str | None:
    """Why ``path`` cannot be used for the sign-off sheets, or None when it can."""
    p = Path(path)
    if not p.is_file():
        return "no such file"
    return _usable(str(p), index, p.stat().st_mtime)


def find_cjk_font(override: str | Path | None = None) -> CjkFont:
    """The font to embed: ``override``, else $GRADFLOW_CJK_FONT, else a bundled or known system font.

    An explicitly chosen font that cannot be used is an error, not a silent fallback.
    """
    chosen = override if override is not None else os.environ.get(ENV_VAR)
    if chosen:
        reason = check_font(chosen)
        if reason:
            raise CjkFontNotFound(f"CJK font {chosen}: {reason}")
        return CjkFont(Path(chosen))
    bundled = sorted(BUNDLED_DIR.glob("*.tt[fc]")) if BUNDLED_DIR.is_dir() else []
    for path, index in [(str(p), 0) for p in bundled] + list(KNOWN_FONTS):
        if check_font(path, index) is None:
            return CjkFont(Path(path), index)
    raise CjkFontNotFound(INSTALL_HINT)
