"""Generate the clips of scenario LAB-02-NV (dialogues/lab-02-nv/media/).

    .venv/bin/python tools/make_lab_02_nv_media.py

Needs Pillow (the `media` extra) and the Debian packages espeak-ng and ffmpeg. The output is
deterministic and the script idempotent: every drawing uses fixed coordinates and a seeded
random generator, ffmpeg runs single-threaded with bit-exact flags and without metadata, and a
file is only replaced when its bytes change. Everything shown is fiction: the farm, "Gulnora",
"Dilfuza", "Mr Orlik" and the other names are invented, and no real document, form or person is
reproduced.

Clips:
- timesheet.png        the farm's neat working-time record for September (photo)
- notebook.png         Gulnora's own notebook of the hours she really worked (photo)
- dilfuza_message.ogg  her friend's voice message in Uzbek, espeak-ng -> Opus (voice)
- greenhouse.mp4       5 s drawn scene: a greenhouse row, a worker spraying without a mask (video)
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
MEDIA = ROOT / "dialogues" / "lab-02-nv" / "media"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
BUDGET_BYTES = 3 * 1024 * 1024

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, style: str = "") -> Font:
    """DejaVu Sans in the given style ('', 'Bold', 'Mono', 'Condensed'), or Pillow's default."""
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


# -- photo 1: the farm's working-time record ----------------------------------------------------

WORKERS = (
    "Gulnora R.",
    "Madina T.",
    "Shahlo K.",
    "Feruza M.",
    "Nodira A.",
    "Kamola E.",
    "Zarina H.",
    "Malika Y.",
    "Dilnoza S.",
    "Bekzod U.",
    "Jasur N.",
    "Oybek Z.",
    "Sardor I.",
    "Rustam P.",
)


def timesheet(target: Path) -> None:
    """A printed A4-ish table, photographed slightly askew on a desk: every row identical."""
    rng = random.Random(2024)
    width, height = 1000, 720
    paper = Image.new("RGB", (width, height), (250, 250, 246))
    draw = ImageDraw.Draw(paper)
    draw.text(
        (40, 26), "EWIDENCJA CZASU PRACY – WRZESIEŃ", font=font(30, "Bold"), fill=(20, 20, 20)
    )
    draw.text(
        (40, 68),
        "Gospodarstwo szklarniowe „Zielony Stok” · pracownicy sezonowi",
        font=font(18),
        fill=(60, 60, 60),
    )
    columns = (40, 90, 330, 560, 700, 860, 960)
    headers = ("Lp.", "Nazwisko i imię", "Godziny pracy", "Dni", "Godz./dzień", "Razem")
    top, row_h = 110, 36
    draw.rectangle([(columns[0], top), (columns[-1], top + row_h)], fill=(222, 226, 232))
    for x, label in zip(columns, headers, strict=False):
        draw.text((x + 8, top + 8), label, font=font(17, "Bold"), fill=(20, 20, 20))
    body = font(18, "Mono")
    for i, name in enumerate(WORKERS):
        y = top + row_h * (i + 1)
        if i % 2:
            draw.rectangle([(columns[0], y), (columns[-1], y + row_h)], fill=(243, 244, 246))
        cells = (f"{i + 1}.", name, "7:00–15:00", "21", "8", "168")
        for x, cell in zip(columns, cells, strict=False):
            draw.text((x + 8, y + 8), cell, font=body, fill=(30, 30, 30))
    bottom = top + row_h * (len(WORKERS) + 1)
    for x in columns:
        draw.line([(x, top), (x, bottom)], fill=(120, 120, 120), width=1)
    for i in range(len(WORKERS) + 2):
        y = top + row_h * i
        draw.line([(columns[0], y), (columns[-1], y)], fill=(120, 120, 120), width=1)
    draw.text(
        (40, bottom + 22), "Sporządził: kierownik gospodarstwa", font=font(17), fill=(50, 50, 50)
    )
    signature = [(420 + k * 9, bottom + 34 + int(7 * math.sin(k * 0.9))) for k in range(22)]
    draw.line(signature, fill=(30, 50, 140), width=2)
    draw.text((650, bottom + 22), "R. Orlik", font=font(22, "Condensed"), fill=(30, 50, 140))
    for _ in range(2500):  # a little scanner/photo noise
        px, py = rng.randrange(width), rng.randrange(height)
        shade = rng.randint(232, 250)
        draw.point((px, py), fill=(shade, shade, shade - 4))
    desk = Image.new("RGB", (width + 80, height + 80), (118, 96, 74))
    sheet = paper.rotate(
        1.4, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(118, 96, 74)
    )
    desk.paste(sheet, (40 - (sheet.width - width) // 2, 40 - (sheet.height - height) // 2))
    desk = desk.filter(ImageFilter.GaussianBlur(0.5))
    desk.save(target, format="PNG", optimize=True)


# -- photo 2: Gulnora's notebook ------------------------------------------------------------------

NOTEBOOK_DAYS = (
    ("02.09", "6:30–18:30", "11,5"),
    ("03.09", "6:30–19:00", "12"),
    ("04.09", "6:30–18:30", "11,5"),
    ("05.09", "6:30–18:30", "11,5"),
    ("06.09", "6:30–19:00", "12"),
    ("07.09 (shanba)", "6:30–16:00", "9"),
    ("09.09", "6:30–18:30", "11,5"),
    ("10.09", "6:30–19:00", "12"),
    ("11.09", "6:30–18:30", "11,5"),
    ("12.09", "6:30–18:30", "11,5"),
    ("13.09", "6:30–19:00", "12"),
    ("14.09 (shanba)", "6:30–16:00", "9"),
    ("...", "", ""),
)


def _handwrite(
    canvas: Image.Image, xy: tuple[int, int], text: str, size: int, rng: random.Random
) -> None:
    """Pencil-grey text with a small, seeded wobble per letter so it reads as handwriting."""
    ink = (54, 58, 74)
    x, y = xy
    base = font(size, "Condensed")
    draw = ImageDraw.Draw(canvas)
    drift = 0.0
    for char in text:
        drift += rng.uniform(-0.3, 0.3)
        drift = max(-2.0, min(2.0, drift))
        draw.text((x, y + drift + rng.uniform(-0.7, 0.7)), char, font=base, fill=ink)
        x += int(draw.textlength(char, font=base) * rng.uniform(0.97, 1.05)) + 1


def notebook(target: Path) -> None:
    rng = random.Random(270)
    width, height = 720, 900
    page = Image.new("RGB", (width, height), (246, 246, 240))
    draw = ImageDraw.Draw(page)
    for x in range(0, width, 24):  # squared paper
        draw.line([(x, 0), (x, height)], fill=(206, 220, 236), width=1)
    for y in range(0, height, 24):
        draw.line([(0, y), (width, y)], fill=(206, 220, 236), width=1)
    draw.rectangle([(0, 0), (34, height)], fill=(226, 220, 206))  # binding
    for y in range(30, height, 60):
        draw.ellipse([(10, y), (24, y + 14)], fill=(150, 150, 150))
    _handwrite(page, (70, 36), "Sentabr – ish soatlari", 34, rng)
    draw.line([(70, 84), (420, 86)], fill=(54, 58, 74), width=2)
    for i, (day, span, hours) in enumerate(NOTEBOOK_DAYS):
        y = 110 + i * 52
        _handwrite(page, (70, y), day, 26, rng)
        _handwrite(page, (290, y), span, 26, rng)
        _handwrite(page, (520, y), hours, 26, rng)
    _handwrite(page, (300, 800), "Jami: 270 soat", 34, rng)
    draw.ellipse([(284, 786), (566, 852)], outline=(54, 58, 74), width=3)
    _handwrite(page, (70, 858), "pasek: 168", 22, rng)
    photo = page.rotate(-2.0, resample=Image.Resampling.BICUBIC, fillcolor=(70, 74, 66))
    photo = photo.filter(ImageFilter.GaussianBlur(0.45))
    photo.save(target, format="PNG", optimize=True)


# -- voice: Dilfuza's message ---------------------------------------------------------------------

MESSAGE = (
    "Gulnora, bu men, Dilfuza. Qo'ziqorin fermasida ish sakkiz soat, "
    "oylikni har oyning o'ninchi sanasida berishadi. "
    "Tayyor bo'lsang, senga ham joy bor. Qo'ng'iroq qil."
)


def voice_message(target: Path, work: Path) -> None:
    wav = work / "message.wav"
    _run(["espeak-ng", "-v", "uz+f3", "-s", "140", "-p", "60", "-w", str(wav), MESSAGE])
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
            str(target),
        ]
    )  # fmt: skip


# -- video: a greenhouse row, a worker spraying -------------------------------------------------

FPS = 12
SECONDS = 5
VIDEO_SIZE = (640, 360)


def _mist(seed: int) -> list[tuple[float, float, float, float]]:
    """Fixed spray droplets: (x offset, y offset, drift speed, phase)."""
    rng = random.Random(seed)
    return [
        (rng.uniform(0, 70), rng.uniform(-30, 40), rng.uniform(6, 18), rng.uniform(0, 6.28))
        for _ in range(140)
    ]


MIST = _mist(31)


def _greenhouse_frame(index: int) -> Image.Image:
    t = index / FPS
    image = Image.new("RGB", VIDEO_SIZE, (206, 224, 214))
    draw = ImageDraw.Draw(image)
    for x in range(-40, 700, 80):  # glass roof and frame
        draw.line([(x, 0), (320, 120)], fill=(176, 196, 188), width=2)
    draw.rectangle([(0, 0), (640, 8)], fill=(150, 160, 158))
    draw.rectangle([(0, 280), (640, 360)], fill=(150, 132, 108))  # path
    for row, y in enumerate((110, 160, 210)):  # rows of tomato plants, receding
        for x in range(-10, 660, 26):
            sway = int(2 * math.sin(t * 1.7 + x * 0.05 + row))
            draw.line([(x, y + 70), (x + sway, y)], fill=(52, 110, 56), width=3)
            draw.ellipse([(x - 12 + sway, y - 6), (x + 14 + sway, y + 40)], fill=(70, 140, 72))
            if (x // 26 + row) % 3 == 0:
                draw.ellipse([(x - 4, y + 26), (x + 6, y + 36)], fill=(214, 52, 40))
    # thermometer on a post
    draw.rectangle([(30, 60), (40, 300)], fill=(120, 120, 124))
    draw.rounded_rectangle([(44, 70), (124, 118)], radius=6, fill=(250, 250, 250))
    draw.text((52, 78), "31 °C", font=font(24, "Bold"), fill=(200, 40, 30))
    # wall clock
    draw.rounded_rectangle([(520, 20), (622, 62)], radius=6, fill=(30, 30, 34))
    draw.text((532, 26), f"7:52:{int(t):02d}", font=font(18, "Mono"), fill=(120, 240, 140))
    # the worker with a backpack sprayer walks slowly along the path
    wx = 420 - int(24 * t)
    bob = int(3 * abs(math.sin(t * 4)))
    draw.rounded_rectangle([(wx - 16, 200 + bob), (wx + 16, 284)], radius=8, fill=(70, 84, 120))
    draw.rounded_rectangle(
        [(wx + 10, 206 + bob), (wx + 34, 250 + bob)], radius=6, fill=(230, 200, 40)
    )
    draw.ellipse([(wx - 12, 172 + bob), (wx + 12, 198 + bob)], fill=(196, 156, 120))  # bare face
    draw.rectangle([(wx - 13, 168 + bob), (wx + 13, 178 + bob)], fill=(60, 60, 66))  # cap
    lance_end = (wx - 70, 214 + bob + int(6 * math.sin(t * 2.3)))
    draw.line([(wx - 10, 236 + bob), lance_end], fill=(40, 40, 40), width=3)
    mist = Image.new("RGBA", VIDEO_SIZE, (0, 0, 0, 0))
    spray = ImageDraw.Draw(mist)
    for dx, dy, speed, phase in MIST:
        travel = (t * speed + phase * 5) % 40
        px = lance_end[0] - dx - travel
        py = lance_end[1] + dy * 0.6 + 4 * math.sin(t * 3 + phase)
        spray.ellipse([(px - 2, py - 2), (px + 2, py + 2)], fill=(240, 248, 240, 150))
    image = Image.alpha_composite(image.convert("RGBA"), mist).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 330), (640, 360)], fill=(20, 20, 20))
    draw.text(
        (10, 336), "SZKLARNIA 3 / GREENHOUSE 3", font=font(15, "MonoBold"), fill=(230, 230, 230)
    )
    return image


def greenhouse_video(target: Path, work: Path) -> None:
    for index in range(FPS * SECONDS):
        _greenhouse_frame(index).save(work / f"frame{index:03d}.png")
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
        for name, build in (("timesheet.png", timesheet), ("notebook.png", notebook)):
            made[name] = work / name
            build(made[name])
        made["dilfuza_message.ogg"] = work / "dilfuza_message.ogg"
        voice_message(made["dilfuza_message.ogg"], work)
        made["greenhouse.mp4"] = work / "greenhouse.mp4"
        greenhouse_video(made["greenhouse.mp4"], work)
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
