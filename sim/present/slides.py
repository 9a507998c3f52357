"""``briefing.pptx``: the briefing as slides a policy team pastes into its own deck.

Written with python-pptx (pinned in requirements.txt): a title slide (title, question,
what was run), the findings (split over as many slides as they need), what was compared
(each scenario's settings that differ from the baseline's), one figure per slide with its
caption, then the method and the provenance. 16:9, the default Office theme, so the
slides take on the receiving deck's look when pasted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
LINES_PER_SLIDE = 14
"""Findings lines per slide (a wrapped sentence counts as its lines)."""
CHARS_PER_LINE = 110


def _title_only(prs: Presentation, title: str):
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # "Title Only"
    t = slide.shapes.title
    t.text = title
    t.left, t.top, t.width, t.height = MARGIN, Inches(0.25), WIDTH - 2 * MARGIN, Inches(0.9)
    for p in t.text_frame.paragraphs:
        for r in p.runs:
            r.font.size = Pt(28)
            r.font.bold = True
    return slide


TEXT_TOP = Inches(1.3)


def _text_box(slide, paragraphs: Sequence[tuple[str, int, bool]], top=TEXT_TOP,
              height=None) -> None:  # fmt: skip
    """A text box of (text, size in pt, bold) paragraphs, word-wrapped to the slide."""
    box = slide.shapes.add_textbox(MARGIN, top, WIDTH - 2 * MARGIN, height or HEIGHT - top - MARGIN)
    tf = box.text_frame
    tf.word_wrap = True
    for i, (text, size, bold) in enumerate(paragraphs):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = text
        p.space_after = Pt(6)
        for r in p.runs:
            r.font.size = Pt(size)
            r.font.bold = bold


def _lines(text: str) -> int:
    return 1 + len(text) // CHARS_PER_LINE


def _chunks(items: list[tuple[str, int, bool]]) -> list[list[tuple[str, int, bool]]]:
    """Split paragraphs into slides of at most LINES_PER_SLIDE wrapped lines."""
    out, cur, used, heading = [], [], 0, None
    for it in items:
        n = _lines(it[0])
        if cur and used + n > LINES_PER_SLIDE:
            if cur[-1][2]:  # a heading goes with what follows
                carry = [cur.pop()]
            elif heading is not None and not it[2]:  # a section runs on: repeat its heading
                carry = [(f"{heading[0]} (continued)", heading[1], True)]
            else:
                carry = []
            if cur:
                out.append(cur)
            cur, used = carry, sum(_lines(c[0]) for c in carry)
        if it[2] and not it[0].startswith("Warning"):
            heading = it
        cur.append(it)
        used += n
    if cur:
        out.append(cur)
    return out


def _picture(slide, png: Path, top, max_h) -> None:
    """The figure, as large as fits below the title, centred."""
    from PIL import Image

    with Image.open(png) as im:
        w, h = im.size
    max_w = WIDTH - 2 * MARGIN
    scale = min(max_w / w, max_h / h)
    pw, ph = int(w * scale), int(h * scale)
    slide.shapes.add_picture(str(png), Emu((WIDTH - pw) // 2), top, Emu(pw), Emu(ph))


def write_slides(
    path: Path,
    *,
    study,
    findings,
    figures,
    method: str,
    provenance: Sequence[str],
    status: str,
    changes: pd.DataFrame | None = None,
) -> Path:
    """Write ``briefing.pptx`` (see the module docstring)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT

    s = prs.slides.add_slide(prs.slide_layouts[0])  # title slide
    s.shapes.title.text = study.title
    for shp in (s.shapes.title, s.placeholders[1]):
        shp.left, shp.width = MARGIN, WIDTH - 2 * MARGIN
    s.shapes.title.top, s.shapes.title.height = Inches(1.6), Inches(1.5)
    sub = s.placeholders[1]
    sub.top, sub.height = Inches(3.3), Inches(3.2)
    sub.text_frame.word_wrap = True
    sub.text = study.question
    p = sub.text_frame.add_paragraph()
    p.text = f"govsim simulation · {status}"
    for i, para in enumerate(sub.text_frame.paragraphs):
        for r in para.runs:
            r.font.size = Pt(20 if i == 0 else 14)
            r.font.color.rgb = RGBColor(0x33, 0x33, 0x33)

    items: list[tuple[str, int, bool]] = [(f"Warning: {w}", 16, True) for w in findings.warnings]
    for head, sentences in findings.sections:
        if head:
            items.append((head, 18, True))
        items += [(f"• {x}", 16, False) for x in sentences]
    chunks = _chunks(items) or [[("No findings.", 16, False)]]
    for i, chunk in enumerate(chunks):
        more = f" ({i + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        _text_box(_title_only(prs, f"Findings{more}"), chunk)

    if changes is not None and len(changes):
        base = [c for c in changes.columns if c not in ("scenario", "setting", "this scenario")]
        rows = []
        for r in changes.to_dict("records"):
            if r["scenario"]:
                rows.append((r["scenario"], 18, True))
            if r["setting"] != "(no setting differs)":
                rows.append((f"• {r['setting']}: {r[base[0]]} → {r['this scenario']}", 15, False))
            else:
                rows.append(("• no setting differs from the baseline", 15, False))
        chunks = _chunks(rows)
        for i, chunk in enumerate(chunks):
            more = f" ({i + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            _text_box(_title_only(prs, f"What was compared: changes from the baseline{more}"),
                      chunk)  # fmt: skip

    for f in figures:
        head = f.title.removeprefix(f"{study.title}: ")  # the image carries the full title
        slide = _title_only(prs, head[0].upper() + head[1:])
        slide.shapes.title.text_frame.word_wrap = True
        for para in slide.shapes.title.text_frame.paragraphs:
            for r in para.runs:
                r.font.size = Pt(24 if len(head) < 70 else 18)
        cap_h = Inches(0.45 + 0.22 * (len(f.caption) // 170))
        _picture(slide, f.png, Inches(1.1), HEIGHT - Inches(1.1) - cap_h - Inches(0.15))
        _text_box(slide, [(f.caption, 11, False)], top=HEIGHT - cap_h - Inches(0.1), height=cap_h)

    _text_box(_title_only(prs, "Method"), [(method, 15, False)])
    _text_box(_title_only(prs, "Provenance"), [(p, 13, False) for p in provenance])
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    prs.save(str(tmp))
    tmp.replace(path)
    return path
