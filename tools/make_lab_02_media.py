"""Generate the clips of scenario LAB-02 (dialogues/lab-02/media/).

    .venv/bin/python tools/make_lab_02_media.py

Needs Pillow (the `media` extra) and the Debian packages espeak-ng and ffmpeg. The output is
deterministic and the script idempotent: every drawing uses fixed coordinates and a seeded
random generator, ffmpeg runs single-threaded with bit-exact flags and without metadata, and a
file is only replaced when its bytes change. Everything shown is fiction: the farm "Szklarnie
Nowa Łąka", "Nino", "Ramesh", "Mr K." and every name, number and document are invented, and no
real form, company or person is reproduced.

Clips:
- farm_arrival.mp4      6 s drawn scene of the farm gate: greenhouses, containers, a van (video)
- worker_list.png       the supervisor's printed list of workers, with a pencilled note (photo)
- nino_hours.png        Nino's own notebook of hours worked and pay received (photo)
- ramesh_settlement.png Ramesh's monthly "settlement" slip: deductions and a growing debt (photo)
- group_voice.ogg       the supervisor's voice message to the workers' group, in English (voice)
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
MEDIA = ROOT / "dialogues" / "lab-02" / "media"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
BUDGET_BYTES = 3 * 1024 * 1024
PENCIL = (70, 70, 78)
BLUE_INK = (28, 42, 120)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, style: str = "") -> Font:
    """DejaVu Sans in the given style ('', 'Bold', 'Mono', 'MonoBold', 'Condensed'), or default."""
    name = {
        "": "DejaVuSans.ttf",
        "Bold": "DejaVuSans-Bold.ttf",
        "Mono": "DejaVuSansMono.ttf",
        "MonoBold": "DejaVuSansMono-Bold.ttf",
        "Condensed": "DejaVuSansCondensed-Oblique.ttf",
    }[style]
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size=size)


def _handwrite(
    canvas: Image.Image,
    xy: tuple[int, int],
    text: str,
    size: int,
    rng: random.Random,
    ink: tuple[int, int, int] = BLUE_INK,
) -> None:
    """Text with a small, seeded wobble per letter so it reads as handwriting."""
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


def _paper(width: int, height: int, rng: random.Random, tint: tuple[int, int, int]) -> Image.Image:
    """A sheet with a light, seeded grain."""
    paper = Image.new("RGB", (width, height), tint)
    grain = ImageDraw.Draw(paper)
    for _ in range(width * height // 90):
        px, py = rng.randrange(width), rng.randrange(height)
        shade = rng.randint(-10, 4)
        grain.point((px, py), fill=tuple(max(0, min(255, c + shade)) for c in tint))
    return paper


# -- photo 1: the supervisor's list of workers --------------------------------------------------

LIST_HEAD = ("Lp.", "Pracownik", "Obyw.", "Umowa", "Zezwolenie / dokument", "Paszport")
LIST_COLUMNS = (40, 96, 330, 420, 560, 880)
LIST_ROWS = (
    ("1", "Nino G.", "GEO", "zlecenie", "w porządku / ok", "własny"),
    ("2", "Tamar B.", "GEO", "zlecenie", "w porządku / ok", "własny"),
    ("3", "Ramesh T.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
    ("4", "Bikash R.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
    ("5", "Suman K.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
    ("6", "Dipak M.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
    ("7", "Hari S.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
    ("8", "Anil G.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
    ("9", "Prakash B.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
    ("10", "Sunil D.", "NPL", "zlecenie", "inny pracodawca *", "biuro"),
)


def worker_list(target: Path) -> None:
    rng = random.Random(2)
    width, height = 1040, 720
    sheet = _paper(width, height, rng, (246, 246, 242))
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (40, 30),
        "SZKLARNIE NOWA ŁĄKA - wykaz pracowników",
        font=font(26, "Bold"),
        fill=(20, 20, 20),
    )
    draw.text(
        (40, 66),
        "List of workers (fictional farm) - sezon / season",
        font=font(17),
        fill=(90, 90, 90),
    )
    top = 112
    draw.rectangle([(30, top), (width - 30, top + 38)], fill=(220, 222, 226))
    for x, head in zip(LIST_COLUMNS, LIST_HEAD, strict=True):
        draw.text((x, top + 9), head, font=font(17, "Bold"), fill=(20, 20, 20))
    row_font = font(18, "Mono")
    for i, row in enumerate(LIST_ROWS):
        y = top + 46 + i * 40
        if i % 2:
            draw.rectangle([(30, y - 4), (width - 30, y + 32)], fill=(236, 237, 240))
        for x, cell in zip(LIST_COLUMNS, row, strict=True):
            draw.text((x, y + 4), cell, font=row_font, fill=(30, 30, 30))
    bottom = top + 46 + len(LIST_ROWS) * 40
    draw.line([(30, bottom), (width - 30, bottom)], fill=(120, 120, 120), width=2)
    draw.text(
        (40, bottom + 12),
        "* zezwolenie dla innego podmiotu (zakład pakowania) / permit names another employer",
        font=font(15),
        fill=(70, 70, 70),
    )
    # the supervisor's pencilled margin note, and the passport column bracketed
    draw.line([(870, top + 126), (862, top + 126), (862, bottom - 8), (870, bottom - 8)], PENCIL, 3)
    _handwrite(sheet, (560, bottom + 50), "paszporty NPL - u mnie w biurze,", 26, rng, PENCIL)
    _handwrite(sheet, (560, bottom + 86), "do rejestracji.   - K.", 26, rng, PENCIL)
    sheet = sheet.rotate(0.8, resample=Image.Resampling.BICUBIC, fillcolor=(120, 104, 84))
    sheet.filter(ImageFilter.GaussianBlur(0.35)).save(target, format="PNG", optimize=True)


# -- photo 2: Nino's notebook -------------------------------------------------------------------

NINO_LINES = (
    "Часы работы / godziny - август",
    "01-07.08   6 дн x 11 ч = 66 ч",
    "08-14.08   7 дн x 11 ч = 77 ч",
    "15-21.08   6 дн x 12 ч = 72 ч",
    "22-31.08   9 дн x 11 ч = 99 ч",
    "итого / razem: 314 ч",
    "договор: 19 zł/ч, 8 ч в день",
    "заплатили 14.09 (поздно!): 4 200 zł",
    "сверхурочные - 0 !!",
)


def nino_hours(target: Path) -> None:
    rng = random.Random(314)
    width, height = 760, 620
    page = _paper(width, height, rng, (250, 250, 244))
    draw = ImageDraw.Draw(page)
    for x in range(0, width, 24):  # squared notebook paper
        draw.line([(x, 0), (x, height)], fill=(206, 220, 236), width=1)
    for y in range(0, height, 24):
        draw.line([(0, y), (width, y)], fill=(206, 220, 236), width=1)
    draw.line([(64, 0), (64, height)], fill=(232, 150, 150), width=2)
    _handwrite(page, (80, 26), "სამუშაო საათები", 30, rng)
    for i, line in enumerate(NINO_LINES):
        _handwrite(page, (80, 86 + i * 56), line, 27, rng)
    draw.ellipse([(70, 360), (300, 412)], outline=(190, 40, 40), width=3)  # "razem" circled
    draw.line([(80, 540 + 18), (330, 540 + 18)], fill=(190, 40, 40), width=3)
    page = page.rotate(-1.5, resample=Image.Resampling.BICUBIC, fillcolor=(70, 80, 92))
    page.filter(ImageFilter.GaussianBlur(0.35)).save(target, format="PNG", optimize=True)


# -- photo 3: Ramesh's settlement slip ----------------------------------------------------------

SETTLEMENT = (
    ("Wynagrodzenie / Pay (sierpień / August)", "3 900,00"),
    ("- Zakwaterowanie / Bed (kontener / container)", "  900,00"),
    ("- Transport (bus)", "  400,00"),
    ("- Wyżywienie / Food", "  900,00"),
    ("- Rata: wiza + bilet / Visa + ticket instalment", "  900,00"),
    ("DO WYPŁATY / TO PAY", "  800,00"),
)


def ramesh_settlement(target: Path) -> None:
    rng = random.Random(800)
    width, height = 820, 640
    slip = _paper(width, height, rng, (244, 240, 230))
    draw = ImageDraw.Draw(slip)
    draw.text((36, 28), "ROZLICZENIE / SETTLEMENT", font=font(28, "Bold"), fill=(20, 20, 20))
    draw.text((36, 66), "Ramesh T.   nr 3   08/--", font=font(18, "Mono"), fill=(60, 60, 60))
    draw.line([(30, 100), (width - 30, 100)], fill=(60, 60, 60), width=2)
    for i, (label, amount) in enumerate(SETTLEMENT):
        y = 118 + i * 44
        bold = i == len(SETTLEMENT) - 1
        face = font(19, "MonoBold" if bold else "Mono")
        if bold:
            draw.line([(30, y - 8), (width - 30, y - 8)], fill=(60, 60, 60), width=1)
        draw.text((36, y), label, font=face, fill=(25, 25, 25))
        draw.text((640, y), f"{amount} zł", font=face, fill=(25, 25, 25))
    y = 118 + len(SETTLEMENT) * 44 + 20
    draw.rectangle([(30, y), (width - 30, y + 140)], outline=(60, 60, 60), width=2)
    debt_lines = (
        ("Saldo zadłużenia / Debt balance:", "Bold"),
        ("poprzednio / before:        9 400,00 zł", "Mono"),
        ("- rata / instalment 900,  + opłaty / fees 1 700", "Mono"),
        ("TERAZ / NOW:               10 200,00 zł", "MonoBold"),
    )
    for i, (text, style) in enumerate(debt_lines):
        draw.text(
            (44, y + 12 + 31 * i), text, font=font(19 if i == 0 else 18, style), fill=(25, 25, 25)
        )
    _handwrite(slip, (520, y + 152), "podpis / signature: ____", 22, rng, PENCIL)
    slip = slip.rotate(1.1, resample=Image.Resampling.BICUBIC, fillcolor=(96, 110, 96))
    slip.filter(ImageFilter.GaussianBlur(0.3)).save(target, format="PNG", optimize=True)


# -- voice: the supervisor's message to the workers' group --------------------------------------

GROUP_MESSAGE = (
    "Listen, boys. Inspection today. You say: contract good, passport with you, everything okay. "
    "Who talks too much, goes home. And the debt goes to the family."
)


def group_voice(target: Path, work: Path) -> None:
    wav = work / "group.wav"
    _run(["espeak-ng", "-v", "en", "-s", "150", "-p", "30", "-w", str(wav), GROUP_MESSAGE])
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
            str(target),
        ]
    )  # fmt: skip


# -- video: the farm gate in the morning --------------------------------------------------------

FPS = 12
SECONDS = 6


def _greenhouse(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, label: str) -> None:
    draw.rectangle([(x, y + h // 3), (x + w, y + h)], fill=(196, 222, 214), outline=(120, 140, 136))
    draw.pieslice([(x, y), (x + w, y + 2 * h // 3)], 180, 360, fill=(206, 230, 222))
    draw.arc([(x, y), (x + w, y + 2 * h // 3)], 180, 360, fill=(120, 140, 136), width=2)
    for rib in range(x + 14, x + w, 22):
        draw.line([(rib, y + h // 3), (rib, y + h)], fill=(150, 172, 166), width=1)
    draw.text((x + 8, y + h - 22), label, font=font(13, "Bold"), fill=(60, 80, 76))


def _farm_frame(index: int) -> Image.Image:
    t = index / FPS
    image = Image.new("RGB", (640, 360), (200, 214, 230))
    draw = ImageDraw.Draw(image)
    for band in range(0, 120, 6):  # morning sky
        shade = 236 - band // 3
        draw.rectangle([(0, band), (640, band + 6)], fill=(shade, shade - 6, 214 + band // 10))
    draw.rectangle([(0, 170), (640, 360)], fill=(150, 160, 128))  # ground
    _greenhouse(draw, 20, 104, 150, 96, "1")
    _greenhouse(draw, 180, 100, 150, 100, "2")
    _greenhouse(draw, 340, 96, 150, 104, "3")
    # containers behind greenhouse 3, with a washing line
    for cx in (500, 560):
        draw.rectangle([(cx, 150), (cx + 54, 196)], fill=(176, 98, 70), outline=(110, 60, 44))
        draw.rectangle([(cx + 8, 160), (cx + 24, 174)], fill=(60, 70, 80))
    draw.line([(498, 140), (620, 134)], fill=(80, 80, 80), width=1)
    for i, colour in enumerate(((230, 230, 236), (90, 120, 170), (200, 90, 80))):
        sway = int(2 * math.sin(t * 2.4 + i))
        draw.rectangle([(514 + 30 * i + sway, 138), (530 + 30 * i + sway, 152)], fill=colour)
    # the fence and the gate, padlocked
    draw.line([(0, 246), (640, 246)], fill=(90, 90, 96), width=3)
    for post in range(0, 640, 40):
        draw.line([(post, 206), (post, 262)], fill=(90, 90, 96), width=2)
    draw.rectangle([(260, 204), (380, 262)], outline=(60, 60, 66), width=4)
    for bar in range(270, 380, 12):
        draw.line([(bar, 206), (bar, 260)], fill=(80, 80, 86), width=2)
    draw.rectangle([(314, 228), (326, 242)], fill=(200, 170, 60))
    draw.rectangle([(196, 176), (444, 200)], fill=(250, 250, 246), outline=(60, 60, 66))
    draw.text((204, 180), "SZKLARNIE NOWA ŁĄKA", font=font(15, "Bold"), fill=(40, 90, 50))
    # a white van by the containers
    draw.rounded_rectangle([(430, 206), (540, 244)], radius=6, fill=(240, 240, 240))
    draw.rectangle([(500, 212), (532, 226)], fill=(120, 150, 170))
    for wheel in (450, 516):
        draw.ellipse([(wheel, 236), (wheel + 16, 252)], fill=(30, 30, 30))
    # the supervisor walks from the containers towards the gate
    mx = 470 - int(22 * t)
    draw.ellipse([(mx, 262), (mx + 20, 282)], fill=(64, 54, 48))
    draw.rounded_rectangle([(mx - 6, 282), (mx + 26, 336)], radius=7, fill=(50, 80, 60))
    step = int(4 * math.sin(t * 6))
    draw.line([(mx + 4, 336), (mx + 2 + step, 352)], fill=(40, 40, 40), width=5)
    draw.line([(mx + 16, 336), (mx + 18 - step, 352)], fill=(40, 40, 40), width=5)
    draw.text((10, 336), f"07:3{min(9, 2 + int(t))}", font=font(14, "Mono"), fill=(30, 30, 30))
    return image


def farm_video(target: Path, work: Path) -> None:
    for index in range(FPS * SECONDS):
        _farm_frame(index).save(work / f"frame{index:03d}.png")
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
            ("worker_list.png", worker_list),
            ("nino_hours.png", nino_hours),
            ("ramesh_settlement.png", ramesh_settlement),
        ):
            made[name] = work / name
            build(made[name])
        made["group_voice.ogg"] = work / "group_voice.ogg"
        group_voice(made["group_voice.ogg"], work)
        made["farm_arrival.mp4"] = work / "farm_arrival.mp4"
        farm_video(made["farm_arrival.mp4"], work)
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
