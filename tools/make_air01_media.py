"""Generate the clips of scenario AIR-01 (dialogues/air-01/media/).

    .venv/bin/python tools/make_air01_media.py

Needs Pillow (the `media` extra) and the Debian packages espeak-ng and ffmpeg. The output is
deterministic and the script idempotent: every drawing uses fixed coordinates and a seeded
random generator, ffmpeg runs single-threaded with bit-exact flags and without metadata, and a
file is only replaced when its bytes change. Everything shown is fiction: "Valentina" and
"Marek" are invented, and no real document, form or person is reproduced.

Clips:
- handover_note.png   the first-line officer's handwritten handover note (photo)
- marek_voicemail.ogg Marek's voice message in Spanish, espeak-ng -> Opus (voice)
- arrivals_call.mp4   5 s drawn scene of the arrivals hall, a phone ringing (video)
- phone_messages.png  her phone screen with Marek's messages, in Spanish (photo)
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "dialogues" / "air-01" / "media"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
BUDGET_BYTES = 3 * 1024 * 1024

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, style: str = "") -> Font:
    """DejaVu Sans in the given style ('', 'Bold', 'Oblique', 'Mono'), or Pillow's default."""
    name = {
        "": "DejaVuSans.ttf",
        "Bold": "DejaVuSans-Bold.ttf",
        "Oblique": "DejaVuSans-Oblique.ttf",
        "Mono": "DejaVuSansMono.ttf",
        "Condensed": "DejaVuSansCondensed-Oblique.ttf",
    }[style]
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size=size)


# -- photo 1: the handover note ------------------------------------------------------------------

NOTE_LINES = (
    "pax VALENTINA, COL, 22 y",
    "Flight IST -> WAW, arr. 21:40",
    "1st Schengen entry (no prior stamps)",
    'says "tourist", 2 wks, visiting boyfriend',
    "hotel booking shown: CANCELLED",
    "€300 cash, new notes",
    "Spanish only, few words English",
    "-> 2nd line, pls check w/ interpreter",
)


def _handwrite(
    canvas: Image.Image, xy: tuple[int, int], text: str, size: int, rng: random.Random
) -> None:
    """Blue-ink text with a small, seeded wobble per letter so it reads as handwriting."""
    ink = (28, 42, 120)
    x, y = xy
    base = font(size, "Condensed")
    draw = ImageDraw.Draw(canvas)
    drift = 0.0
    for char in text:
        drift += rng.uniform(-0.35, 0.35)
        drift = max(-2.5, min(2.5, drift))
        jitter = rng.uniform(-0.8, 0.8)
        draw.text((x, y + drift + jitter), char, font=base, fill=ink)
        x += int(draw.textlength(char, font=base) * rng.uniform(0.96, 1.06)) + 1


def handover_note(target: Path) -> None:
    rng = random.Random(170)
    width, height = 900, 600
    paper = Image.new("RGB", (width, height), (247, 242, 214))
    grain = ImageDraw.Draw(paper)
    for _ in range(9000):  # paper grain
        px, py = rng.randrange(width), rng.randrange(height)
        shade = rng.randint(228, 246)
        grain.point((px, py), fill=(shade, shade - 4, shade - 30))
    draw = ImageDraw.Draw(paper)
    for y in range(84, height - 20, 50):
        draw.line([(30, y), (width - 30, y)], fill=(176, 196, 226), width=2)
    draw.line([(88, 0), (88, height)], fill=(226, 140, 140), width=2)
    for hole in (120, 300, 480):  # punched holes
        draw.ellipse([(28, hole - 14), (56, hole + 14)], fill=(205, 205, 200))
    _handwrite(paper, (104, 36), "HANDOVER  /  PRZEKAZANIE", 28, rng)
    for i, line in enumerate(NOTE_LINES):
        _handwrite(paper, (104, 98 + i * 50), line, 27, rng)
    # underline the cancelled booking and circle the cash, as a tired officer would
    draw.line([(378, 338), (614, 342)], fill=(28, 42, 120), width=3)
    draw.ellipse([(84, 342), (304, 406)], outline=(28, 42, 120), width=2)
    draw.text((700, 548), "- K., 1st line", font=font(22, "Condensed"), fill=(28, 42, 120))
    note = paper.rotate(-1.2, resample=Image.Resampling.BICUBIC, fillcolor=(92, 84, 76))
    note = note.filter(ImageFilter.GaussianBlur(0.4))
    note.save(target, format="PNG", optimize=True)


# -- photo 2: her phone screen -------------------------------------------------------------------

MESSAGES = (
    ("21:38", "Ya estoy en llegadas, mi reina ♥"),
    ("21:52", "Si te preguntan: di que vienes de turismo."),
    ("21:52", "No menciones el trabajo."),
    ("21:53", "Dos semanas, visitas a tu novio. Nada más."),
    ("22:05", "¿Por qué tardas? Contesta."),
)


def phone_messages(target: Path) -> None:
    width, height = 540, 960
    image = Image.new("RGB", (width, height), (34, 32, 30))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([(24, 16), (width - 24, height - 16)], radius=46, fill=(10, 10, 12))
    screen = (40, 40, width - 40, height - 40)
    draw.rounded_rectangle([screen[:2], screen[2:]], radius=34, fill=(232, 226, 216))
    draw.rectangle([(40, 74), (width - 40, 160)], fill=(38, 70, 96))
    draw.text((64, 48), "22:06", font=font(18, "Bold"), fill=(40, 40, 40))
    draw.ellipse([(60, 90), (114, 144)], fill=(170, 178, 188))
    draw.text((130, 92), "Marek ♥", font=font(28, "Bold"), fill=(255, 255, 255))
    draw.text((130, 126), "en línea", font=font(18), fill=(196, 214, 228))
    y = 190
    bubble_font = font(24)
    for time, text in MESSAGES:
        words, lines, line = text.split(), [], ""
        for word in words:
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=bubble_font) > 330:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
        box_w = max(int(draw.textlength(s, font=bubble_font)) for s in lines) + 90
        box_h = 34 * len(lines) + 40
        draw.rounded_rectangle([(60, y), (60 + box_w, y + box_h)], radius=16, fill=(255, 255, 255))
        for i, part in enumerate(lines):
            draw.text((78, y + 10 + 34 * i), part, font=bubble_font, fill=(24, 24, 24))
        draw.text((60 + box_w - 62, y + box_h - 23), time, font=font(15), fill=(130, 130, 130))
        y += box_h + 22
    banner = (56, height - 190, width - 56, height - 110)
    draw.rounded_rectangle([banner[:2], banner[2:]], radius=18, fill=(60, 60, 66))
    draw.text((78, height - 178), "Marek ♥", font=font(20, "Bold"), fill=(255, 255, 255))
    draw.text((78, height - 148), "6 llamadas perdidas", font=font(20), fill=(255, 170, 160))
    draw.rounded_rectangle([(200, height - 70), (340, height - 62)], radius=4, fill=(60, 60, 60))
    image.save(target, format="PNG", optimize=True)


# -- voice: Marek's voicemail ------------------------------------------------------------------

VOICEMAIL = (
    "Valentina, soy Marek. Si te preguntan, di que eres turista. "
    "No hables del trabajo. Te espero afuera."
)


def voicemail(target: Path, work: Path) -> None:
    wav = work / "voicemail.wav"
    _run(["espeak-ng", "-v", "es-419", "-s", "145", "-p", "38", "-w", str(wav), VOICEMAIL])
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
            str(target),
        ]
    )  # fmt: skip


# -- video: the arrivals hall, a phone ringing ------------------------------------------------

FPS = 12
SECONDS = 5


def _arrivals_frame(index: int) -> Image.Image:
    t = index / FPS
    image = Image.new("RGB", (640, 360), (214, 218, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 0), (640, 40)], fill=(190, 196, 204))  # ceiling
    for x in range(0, 640, 80):
        draw.rectangle([(x + 20, 12), (x + 60, 20)], fill=(250, 250, 236))
    draw.rectangle([(0, 262), (640, 360)], fill=(160, 160, 168))  # floor
    draw.rectangle([(36, 52), (336, 132)], fill=(22, 30, 56))  # board
    draw.text((50, 60), "PRZYLOTY / ARRIVALS", font=font(19, "Bold"), fill=(250, 204, 70))
    board_font = font(15, "Mono")
    draw.text((50, 88), "IST  21:40  WYLĄDOWAŁ/LANDED", font=board_font, fill=(236, 236, 236))
    draw.text((50, 108), "FRA  22:15  OCZEKIWANY/EXP.", font=board_font, fill=(170, 176, 190))
    draw.rectangle([(420, 60), (600, 262)], fill=(150, 170, 180))  # sliding doors
    gap = int(6 + 4 * (1 + math.sin(t * 1.3)))
    draw.rectangle([(510 - gap, 64), (510 + gap, 262)], fill=(92, 104, 112))
    draw.line([(0, 250), (400, 250)], fill=(90, 90, 96), width=5)  # barrier
    for i, x in enumerate((40, 96, 300, 350)):  # people waiting
        draw.ellipse([(x, 172), (x + 26, 198)], fill=(74, 70, 72))
        draw.rounded_rectangle([(x - 6, 198), (x + 32, 282)], radius=8, fill=(90 + 24 * i, 84, 98))
    # the man by the barrier, pacing, phone at his ear
    mx = 196 + int(22 * math.sin(t * 1.1))
    draw.ellipse([(mx, 160), (mx + 30, 190)], fill=(58, 52, 50))
    draw.rounded_rectangle([(mx - 8, 190), (mx + 38, 286)], radius=9, fill=(40, 44, 58))
    draw.rounded_rectangle([(mx + 26, 166), (mx + 36, 186)], radius=3, fill=(20, 20, 20))
    # a ringing phone, pulsing, in the corner: "calling Valentina"
    phone = (540, 280, 612, 352)
    glow = int(60 * (1 + math.sin(t * 2 * math.pi * 1.5)))
    draw.rounded_rectangle([phone[:2], phone[2:]], radius=10, fill=(30, 30, 34))
    draw.rectangle([(546, 288), (606, 344)], fill=(40 + glow, 150, 90))
    draw.text((551, 304), "Valen-", font=font(13, "Bold"), fill=(255, 255, 255))
    draw.text((551, 320), "tina", font=font(13, "Bold"), fill=(255, 255, 255))
    if int(t * 4) % 2 == 0:
        for r in (18, 30):
            box = [(576 - r - 30, 316 - r - 30), (576 + r + 30, 316 + r + 30)]
            draw.arc(box, 200, 250, fill=(200, 40, 40), width=3)
    draw.text((10, 336), f"22:07:{int(t):02d}", font=font(14, "Mono"), fill=(40, 40, 40))
    return image


def arrivals_video(target: Path, work: Path) -> None:
    for index in range(FPS * SECONDS):
        _arrivals_frame(index).save(work / f"frame{index:03d}.png")
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error",
            "-framerate", str(FPS), "-i", str(work / "frame%03d.png"),
            "-c:v", "libx264", "-preset", "medium", "-crf", "30", "-pix_fmt", "yuv420p",
            "-threads", "1", "-x264-params", "threads=1", "-movflags", "+faststart",
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags", "+bitexact",
            str(target),
        ]
    )  # fmt: skip


# -- plumbing ----------------------------------------------------------------------------------


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise SystemExit(f"{command[0]} is not installed (apt-get install {command[0]})")
    subprocess.run(command, check=True)


def _replace_if_changed(fresh: Path, target: Path) -> bool:
    """Move `fresh` onto `target` unless the bytes are the same; True if the target changed."""
    if target.is_file() and target.read_bytes() == fresh.read_bytes():
        fresh.unlink()
        return False
    fresh.replace(target)
    return True


def main() -> int:
    MEDIA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        made: dict[str, Path] = {}
        for name, build in (
            ("handover_note.png", handover_note),
            ("phone_messages.png", phone_messages),
        ):
            made[name] = work / name
            build(made[name])
        made["marek_voicemail.ogg"] = work / "marek_voicemail.ogg"
        voicemail(made["marek_voicemail.ogg"], work)
        made["arrivals_call.mp4"] = work / "arrivals_call.mp4"
        arrivals_video(made["arrivals_call.mp4"], work)
        total = 0
        for name, fresh in made.items():
            target = MEDIA / name
            changed = _replace_if_changed(fresh, target)
            size = target.stat().st_size
            total += size
            state = "written" if changed else "unchanged"
            print(f"{target.relative_to(ROOT)}  {size / 1024:.1f} KB  {state}")
    print(f"total {total / 1024:.1f} KB")
    if total > BUDGET_BYTES:
        print("the clips exceed the 3 MB budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
