"""Generate the clips of scenario AIR-01-NV (dialogues/air-01-nv/media/).

    .venv/bin/python tools/make_air_01_nv_media.py

Needs Pillow (the `media` extra) and the Debian packages espeak-ng and ffmpeg. The output is
deterministic and the script idempotent: every drawing uses fixed coordinates and a seeded
random generator, ffmpeg runs single-threaded with bit-exact flags and without metadata, and a
file is only replaced when its bytes change. Everything shown is fiction: "Larissa Tavares",
"Paweł Dudek", the hostel, the airline and the addresses are invented, and no real document,
form, app or person is reproduced.

Clips:
- handover_note.png      the first-line officer's sticky note on a printout (photo)
- arrivals_flowers.mp4   5 s drawn scene: a man with flowers and a sign at arrivals (video)
- pawel_voicemail.ogg    Paweł's voice message in Portuguese, espeak-ng -> Opus (voice)
- booking_cancelled.png  her phone: the hostel's cancellation email (photo)
- return_ticket.png      her phone: the ticket home in an airline app (photo)
- pawel_messages.png     her phone: Paweł's messages, in Portuguese (photo)
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "dialogues" / "air-01-nv" / "media"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
BUDGET_BYTES = 3 * 1024 * 1024
INK = (24, 40, 112)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, style: str = "") -> Font:
    """DejaVu Sans in the given style, or Pillow's default if DejaVu is not installed."""
    name = {
        "": "DejaVuSans.ttf",
        "Bold": "DejaVuSans-Bold.ttf",
        "Mono": "DejaVuSansMono.ttf",
        "MonoBold": "DejaVuSansMono-Bold.ttf",
        "Hand": "DejaVuSansCondensed-Oblique.ttf",
    }[style]
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=face) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    return lines


# -- photo 1: the handover note --------------------------------------------------------------

PRINTOUT_LINES = (
    "STRAŻ GRANICZNA  -  Lotnisko Kraków-Balice",
    "Kontrola II linii / second-line check",
    "",
    "Nazwisko / Surname:   TAVARES",
    "Imię / Given name:    LARISSA",
    "Obywatelstwo:         BRA",
    "Lot / Flight:         LHR -> KRK  21:20",
    "Cel / Purpose:        ...................",
    "Funkcjonariusz II:    ...................",
)
NOTE_LINES = (
    "1st Schengen entry",
    '"tourist, 3 wks"',
    "hostel booking shown:",
    "CANCELLED !",
    'phone ringing non-stop "Paweł ♥"',
    "cash ~400 EUR + card",
    "PT, little English",
    "-> pls check, PT interpreter",
)


def _handwrite(
    canvas: Image.Image, xy: tuple[int, int], text: str, size: int, rng: random.Random
) -> None:
    """Ballpoint text with a small, seeded wobble per letter so it reads as handwriting."""
    x, y = xy
    face = font(size, "Hand")
    draw = ImageDraw.Draw(canvas)
    drift = 0.0
    for char in text:
        drift = max(-2.0, min(2.0, drift + rng.uniform(-0.3, 0.3)))
        draw.text((x, y + drift + rng.uniform(-0.7, 0.7)), char, font=face, fill=INK)
        x += int(draw.textlength(char, font=face) * rng.uniform(0.97, 1.05)) + 1


def handover_note(target: Path) -> None:
    rng = random.Random(2203)
    width, height = 900, 620
    desk = Image.new("RGB", (width, height), (118, 104, 88))
    grain = ImageDraw.Draw(desk)
    for y in range(0, height, 3):  # wood grain
        shade = 104 + int(10 * math.sin(y / 17.0)) + rng.randint(-4, 4)
        grain.line([(0, y), (width, y + rng.randint(-2, 2))], fill=(shade + 14, shade, shade - 16))
    paper = Image.new("RGB", (640, 560), (250, 250, 246))
    draw = ImageDraw.Draw(paper)
    mono = font(17, "Mono")
    for i, line in enumerate(PRINTOUT_LINES):
        face = font(17, "MonoBold") if i == 0 else mono
        draw.text((34, 30 + i * 30), line, font=face, fill=(40, 40, 44))
    draw.line([(34, 96), (606, 96)], fill=(120, 120, 120), width=1)
    desk.paste(paper.rotate(1.5, expand=True, fillcolor=(118, 104, 88)), (60, 20))
    note = Image.new("RGB", (430, 400), (252, 232, 110))
    shade = ImageDraw.Draw(note)
    shade.rectangle([(0, 0), (430, 34)], fill=(240, 218, 92))  # the sticky strip
    for i, line in enumerate(NOTE_LINES):
        _handwrite(note, (22, 48 + i * 42), line, 25, rng)
    shade.line([(22, 214), (152, 218)], fill=INK, width=3)  # CANCELLED, underlined twice
    shade.line([(22, 221), (154, 225)], fill=INK, width=2)
    _handwrite(note, (300, 364), "- A.K.", 20, rng)
    stuck = note.rotate(-4.0, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))
    mask = Image.new("L", note.size, 255).rotate(-4.0, expand=True)
    desk.paste(stuck, (430, 170), mask)
    desk.filter(ImageFilter.GaussianBlur(0.35)).save(target, format="PNG", optimize=True)


# -- phone screens ----------------------------------------------------------------------------

PHONE_W, PHONE_H = 540, 960
SCREEN = (40, 40, PHONE_W - 40, PHONE_H - 40)


def _phone(background: tuple[int, int, int], clock: str) -> tuple[Image.Image, ImageDraw.Draw]:
    image = Image.new("RGB", (PHONE_W, PHONE_H), (36, 34, 32))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([(24, 16), (PHONE_W - 24, PHONE_H - 16)], radius=46, fill=(12, 12, 14))
    draw.rounded_rectangle([SCREEN[:2], SCREEN[2:]], radius=34, fill=background)
    draw.text((66, 50), clock, font=font(18, "Bold"), fill=(30, 30, 30))
    draw.text((PHONE_W - 150, 50), "4G  78%", font=font(16), fill=(30, 30, 30))
    draw.rounded_rectangle([(200, PHONE_H - 70), (340, PHONE_H - 62)], radius=4, fill=(70, 70, 70))
    return image, draw


def booking_cancelled(target: Path) -> None:
    image, draw = _phone((246, 246, 248), "22:09")
    draw.rectangle([(40, 80), (PHONE_W - 40, 150)], fill=(232, 236, 242))
    draw.text((64, 96), "‹  Caixa de entrada", font=font(20), fill=(40, 90, 160))
    draw.text((64, 176), "Booking cancelled", font=font(28, "Bold"), fill=(24, 24, 24))
    draw.text((64, 214), "Rezerwacja anulowana", font=font(20), fill=(90, 90, 90))
    draw.ellipse([(64, 262), (114, 312)], fill=(244, 196, 40))
    draw.text((80, 272), "ŻT", font=font(18, "Bold"), fill=(60, 50, 10))
    draw.text((128, 264), "Hostel Żółty Tramwaj", font=font(20, "Bold"), fill=(30, 30, 30))
    draw.text((128, 292), "to: larissa.t.farm@…", font=font(16), fill=(110, 110, 110))
    body = (
        "Dear Larissa, your booking for 3 nights (dorm, female, 6 beds) has been "
        "cancelled at the guest's request. No charge has been made."
    )
    y = 350
    for line in _wrap(draw, body, font(20), PHONE_W - 140):
        draw.text((64, y), line, font=font(20), fill=(40, 40, 40))
        y += 30
    box = (64, y + 20, PHONE_W - 64, y + 150)
    draw.rounded_rectangle(
        [box[:2], box[2:]], radius=12, fill=(255, 240, 238), outline=(214, 90, 80)
    )
    draw.text((84, y + 36), "Status: CANCELLED", font=font(20, "Bold"), fill=(180, 50, 40))
    draw.text((84, y + 70), "Cancelled by: guest", font=font(19), fill=(60, 60, 60))
    draw.text((84, y + 100), "Sunday, 18:02", font=font(19), fill=(60, 60, 60))
    note_y = y + 190
    draw.rounded_rectangle(
        [(64, note_y), (PHONE_W - 64, note_y + 120)], radius=12, fill=(255, 250, 214)
    )
    draw.text((84, note_y + 16), "Notas", font=font(17, "Bold"), fill=(120, 100, 20))
    draw.text((84, note_y + 46), "Paweł: ul. Kasztanowa 14/3", font=font(20), fill=(40, 40, 40))
    draw.text((84, note_y + 76), "Kraków", font=font(20), fill=(40, 40, 40))
    image.save(target, format="PNG", optimize=True)


def return_ticket(target: Path) -> None:
    image, draw = _phone((240, 244, 250), "22:12")
    draw.rectangle([(40, 80), (PHONE_W - 40, 170)], fill=(18, 94, 120))
    draw.text((64, 96), "SABIÁ AIR", font=font(30, "Bold"), fill=(255, 255, 255))
    draw.text((64, 136), "Minhas viagens", font=font(18), fill=(200, 230, 236))
    card = (64, 200, PHONE_W - 64, 760)
    draw.rounded_rectangle([card[:2], card[2:]], radius=18, fill=(255, 255, 255))
    draw.text((88, 222), "PASSAGEIRO / PASSENGER", font=font(14), fill=(120, 120, 120))
    draw.text((88, 242), "TAVARES / LARISSA MS", font=font(22, "Bold"), fill=(24, 24, 24))
    legs = (
        ("24 MAR", "KRK", "07:10", "LHR", "08:35"),
        ("24 MAR", "LHR", "21:50", "GRU", "05:40+1"),
    )
    y = 300
    for day, dep, dep_t, arr, arr_t in legs:
        draw.text((88, y), day, font=font(16, "Bold"), fill=(18, 94, 120))
        draw.text((88, y + 28), dep, font=font(40, "Bold"), fill=(24, 24, 24))
        draw.text((290, y + 28), arr, font=font(40, "Bold"), fill=(24, 24, 24))
        draw.text((210, y + 36), "✈", font=font(30), fill=(18, 94, 120))
        draw.text((88, y + 80), dep_t, font=font(18), fill=(80, 80, 80))
        draw.text((290, y + 80), arr_t, font=font(18), fill=(80, 80, 80))
        y += 140
    draw.line([(88, 590), (PHONE_W - 88, 590)], fill=(220, 220, 220), width=2)
    draw.text((88, 608), "Reserva / Booking: SB7Q4K", font=font(18), fill=(60, 60, 60))
    draw.rounded_rectangle([(88, 650), (330, 700)], radius=25, fill=(222, 244, 228))
    draw.text((108, 662), "✔ Confirmada · paga", font=font(18, "Bold"), fill=(30, 120, 60))
    rng = random.Random(24)
    for i in range(44):  # a barcode, seeded
        x = 88 + i * 8
        if rng.random() < 0.62:
            draw.rectangle([(x, 790), (x + rng.choice((2, 3, 5)), 850)], fill=(20, 20, 20))
    image.save(target, format="PNG", optimize=True)


MESSAGES = (
    ("21:31", "Pousou? ✈", False),
    ("21:58", "Tô na saída, com flores ✿", False),
    ("22:14", "Tudo bem aí? Tá demorando...", False),
    ("22:15", "Sem pressa. Responde tudo com calma ♥", False),
    ("22:16", "Minha mãe já perguntou 3x se você chegou ☺", False),
    ("22:31", "Tô bem. Ainda na imigração. Já vou ♥", True),
)


def pawel_messages(target: Path) -> None:
    image, draw = _phone((230, 222, 212), "22:31")
    draw.rectangle([(40, 80), (PHONE_W - 40, 166)], fill=(40, 84, 72))
    draw.ellipse([(60, 96), (114, 150)], fill=(182, 190, 176))
    draw.text((130, 96), "Paweł ♥", font=font(28, "Bold"), fill=(255, 255, 255))
    draw.text((130, 130), "online", font=font(17), fill=(200, 226, 214))
    face = font(23)
    y = 196
    for time, text, mine in MESSAGES:
        lines = _wrap(draw, text, face, 300)
        box_w = max(int(draw.textlength(s, font=face)) for s in lines) + 84
        box_h = 32 * len(lines) + 40
        left = PHONE_W - 60 - box_w if mine else 60
        fill = (214, 246, 196) if mine else (255, 255, 255)
        draw.rounded_rectangle([(left, y), (left + box_w, y + box_h)], radius=16, fill=fill)
        for i, part in enumerate(lines):
            draw.text((left + 18, y + 10 + 32 * i), part, font=face, fill=(24, 24, 24))
        draw.text((left + box_w - 60, y + box_h - 23), time, font=font(15), fill=(120, 120, 120))
        y += box_h + 20
    image.save(target, format="PNG", optimize=True)


# -- voice: Paweł's voice message ---------------------------------------------------------------

VOICEMAIL = (
    "Lari, tá tudo bem? Estou na saída, com as flores. Sem pressa. "
    "Conta tudo do jeito que é, você não tem nada a esconder. Te amo."
)


def voicemail(target: Path, work: Path) -> None:
    wav = work / "voicemail.wav"
    _run(["espeak-ng", "-v", "pt-br", "-s", "150", "-p", "42", "-w", str(wav), VOICEMAIL])
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
            str(target),
        ]
    )  # fmt: skip


# -- video: the arrivals hall, a man with flowers and a sign ------------------------------------

FPS = 12
SECONDS = 5


def _arrivals_frame(index: int) -> Image.Image:
    t = index / FPS
    image = Image.new("RGB", (640, 360), (220, 222, 218))
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 0), (640, 40)], fill=(196, 198, 194))  # ceiling
    for x in range(0, 640, 80):
        draw.rectangle([(x + 20, 12), (x + 60, 20)], fill=(252, 250, 236))
    draw.rectangle([(0, 262), (640, 360)], fill=(168, 164, 160))  # floor
    draw.rectangle([(30, 52), (330, 132)], fill=(24, 32, 52))  # board
    draw.text((44, 60), "PRZYLOTY / ARRIVALS", font=font(19, "Bold"), fill=(250, 204, 70))
    board = font(15, "Mono")
    draw.text((44, 88), "LHR  21:20  WYLĄDOWAŁ/LANDED", font=board, fill=(236, 236, 236))
    draw.text((44, 108), "DUB  22:05  OCZEKIWANY/EXP.", font=board, fill=(170, 176, 190))
    draw.rectangle([(430, 60), (610, 262)], fill=(156, 174, 182))  # sliding doors
    gap = int(5 + 3 * (1 + math.sin(t * 1.2)))
    draw.rectangle([(520 - gap, 64), (520 + gap, 262)], fill=(96, 108, 116))
    draw.line([(0, 250), (410, 250)], fill=(90, 90, 96), width=5)  # barrier
    for i, x in enumerate((28, 330, 372)):  # other people waiting
        draw.ellipse([(x, 172), (x + 26, 198)], fill=(80, 72, 70))
        draw.rounded_rectangle([(x - 6, 198), (x + 32, 282)], radius=8, fill=(96 + 26 * i, 90, 104))
    # the man by the barrier: walks up and down, flowers in one hand, a sign in the other,
    # and every second looks at his phone
    mx = 176 + int(34 * math.sin(t * 0.9))
    draw.ellipse([(mx, 158), (mx + 30, 188)], fill=(214, 180, 150))
    draw.pieslice([(mx - 2, 154), (mx + 32, 180)], 180, 360, fill=(92, 64, 40))  # hair
    draw.rounded_rectangle([(mx - 8, 188), (mx + 38, 286)], radius=9, fill=(52, 86, 128))
    sign = (mx - 92, 150, mx - 12, 204)
    draw.rectangle([sign[:2], sign[2:]], fill=(252, 252, 246), outline=(60, 60, 60))
    draw.text((mx - 88, 156), "BEM-VINDA", font=font(11, "Bold"), fill=(200, 40, 60))
    draw.text((mx - 82, 176), "LARI! ♥", font=font(14, "Bold"), fill=(30, 110, 60))
    draw.line([(mx - 12, 200), (mx - 4, 214)], fill=(52, 86, 128), width=6)  # arm to the sign
    stems = (mx + 44, 204)
    draw.line([(mx + 36, 226), stems], fill=(52, 86, 128), width=6)  # arm to the flowers
    for k, (dx, dy) in enumerate(((0, -22), (-10, -14), (10, -14), (-4, -30), (8, -28))):
        colour = ((226, 60, 90), (250, 170, 40), (230, 90, 150), (250, 220, 60), (210, 50, 60))[k]
        cx, cy = stems[0] + dx, stems[1] + dy
        draw.line([stems, (cx, cy)], fill=(40, 120, 50), width=2)
        draw.ellipse([(cx - 6, cy - 6), (cx + 6, cy + 6)], fill=colour)
    if int(t) % 2 == 1:  # a glance at the phone: its screen lights up
        draw.rectangle([(mx + 4, 198), (mx + 16, 214)], fill=(150, 210, 250))
    draw.text((10, 336), f"22:20:{int(t):02d}", font=font(14, "Mono"), fill=(40, 40, 40))
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
    photos: dict[str, Callable[[Path], None]] = {
        "handover_note.png": handover_note,
        "booking_cancelled.png": booking_cancelled,
        "return_ticket.png": return_ticket,
        "pawel_messages.png": pawel_messages,
    }
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        made: dict[str, Path] = {}
        for name, build in photos.items():
            made[name] = work / name
            build(made[name])
        made["pawel_voicemail.ogg"] = work / "pawel_voicemail.ogg"
        voicemail(made["pawel_voicemail.ogg"], work)
        made["arrivals_flowers.mp4"] = work / "arrivals_flowers.mp4"
        arrivals_video(made["arrivals_flowers.mp4"], work)
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
