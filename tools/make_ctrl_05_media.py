"""Generate the clips of scenario CTRL-05 (dialogues/ctrl-05/media/).

    .venv/bin/python tools/make_ctrl_05_media.py

Needs Pillow (the `media` extra) and the Debian packages espeak-ng and ffmpeg. The output is
deterministic and the script idempotent: every drawing uses fixed coordinates and a seeded
random generator, ffmpeg runs single-threaded with bit-exact flags and without metadata, and a
file is only replaced when its bytes change. Everything shown is fiction: "Bistro Lotos",
"ul. Przykładowa 14", Minh, Mr Tuan and the workers are invented, and no real document, form,
emblem or person is reproduced.

Clips:
- briefing_card.png      the typed briefing card for the check (photo)
- dining_room.mp4        5 s drawn scene: the staff lined up, the manager walking over (video)
- interpreter_intro.ogg  the interpreter introducing herself in Vietnamese, espeak-ng (voice)
- tuan_message.ogg       the manager's voice message to Minh in Vietnamese, espeak-ng (voice)
- storeroom.png          Officer Lis's photo of the storeroom with three mattresses (photo)
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
MEDIA = ROOT / "dialogues" / "ctrl-05" / "media"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
BUDGET_BYTES = 3 * 1024 * 1024

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, style: str = "") -> Font:
    """DejaVu in the given style ('', 'Bold', 'Mono', 'MonoBold', 'Condensed'), or the default."""
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


# -- photo 1: the briefing card -----------------------------------------------------------------

CARD_LINES = (
    ("Kontrola legalności pobytu i zatrudnienia", "Check of legality of stay and employment"),
    (
        "Obiekt: Bistro LOTOS, ul. Przykładowa 14, Warszawa-Wola",
        "Site: restaurant + back storeroom",
    ),
    ("Zgłoszeni pracownicy: 6 (obyw. Wietnamu)", "Declared workers: 6 (Vietnamese)"),
    ("Kierownik: „Tuan” — mówi po polsku", "Manager: “Tuan”, speaks Polish"),
    ("Sygnał (sąsiedzi): wejścia tylnymi drzwiami", "Tip (neighbours): back door after"),
    ("  po 24:00, światło w magazynie całą noc", "  midnight, storeroom lit all night"),
    ("Tłumacz j. wietnamskiego: dyżur, wideo", "Vietnamese interpreter: on call, video"),
)


def briefing_card(target: Path) -> None:
    rng = random.Random(505)
    width, height = 960, 640
    desk = Image.new("RGB", (width, height), (86, 92, 98))
    grain = ImageDraw.Draw(desk)
    for _ in range(6000):  # the car's dashboard-grey mat under the card
        px, py = rng.randrange(width), rng.randrange(height)
        shade = rng.randint(74, 100)
        grain.point((px, py), fill=(shade, shade + 4, shade + 8))
    card = Image.new("RGB", (880, 570), (246, 244, 236))
    draw = ImageDraw.Draw(card)
    for _ in range(4000):  # paper fibre
        px, py = rng.randrange(880), rng.randrange(570)
        shade = rng.randint(232, 244)
        draw.point((px, py), fill=(shade, shade - 2, shade - 10))
    draw.rectangle([(0, 0), (879, 62)], fill=(52, 70, 96))
    draw.text(
        (24, 14), "KARTA ODPRAWY / BRIEFING CARD", font=font(28, "Bold"), fill=(255, 255, 255)
    )
    draw.text((640, 22), "17:30, zespół 2", font=font(18, "Mono"), fill=(210, 220, 236))
    typed, gloss = font(19, "MonoBold"), font(16, "Mono")
    y = 84
    for polish, english in CARD_LINES:
        draw.text((28, y), polish, font=typed, fill=(30, 30, 34))
        draw.text((28, y + 24), english, font=gloss, fill=(104, 108, 118))
        y += 56
    draw.text((28, y + 6), "Plan rozmów / Interview plan:", font=typed, fill=(30, 30, 34))
    draw.rectangle([(370, y + 2), (850, y + 36)], outline=(150, 150, 160), width=2)
    draw.line([(28, 540), (850, 540)], fill=(190, 190, 196), width=1)
    draw.text(
        (28, 546), "SZKOLENIE — FIKCJA / TRAINING — FICTION", font=font(14), fill=(150, 60, 60)
    )
    card = card.rotate(1.4, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(86, 92, 98))
    desk.paste(card, (24, 8))
    draw = ImageDraw.Draw(desk)
    # a paper clip over the top edge
    draw.rounded_rectangle([(820, 2), (856, 96)], radius=16, outline=(190, 194, 200), width=4)
    draw.rounded_rectangle([(828, 14), (850, 84)], radius=10, outline=(170, 174, 180), width=3)
    desk = desk.filter(ImageFilter.GaussianBlur(0.35))
    desk.save(target, format="PNG", optimize=True)


# -- photo 2: the storeroom ----------------------------------------------------------------------


def storeroom(target: Path) -> None:
    rng = random.Random(1300)
    width, height = 900, 600
    image = Image.new("RGB", (width, height), (58, 54, 48))
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 400), (width, height)], fill=(74, 70, 64))  # concrete floor
    for _ in range(5000):
        px, py = rng.randrange(width), rng.randrange(400, height)
        shade = rng.randint(60, 90)
        draw.point((px, py), fill=(shade, shade - 2, shade - 6))
    # shelving with rice sacks on the left
    for shelf_y in (120, 250, 380):
        draw.rectangle([(20, shelf_y), (360, shelf_y + 10)], fill=(120, 110, 96))
    for post in (20, 190, 350):
        draw.rectangle([(post, 60), (post + 10, 400)], fill=(110, 100, 88))
    sack_font = font(14, "Bold")
    for row, top in enumerate((58, 188, 318)):
        for col in range(4):
            x = 34 + col * 80 + rng.randint(-4, 4)
            draw.rounded_rectangle([(x, top), (x + 72, top + 62)], radius=12, fill=(226, 218, 196))
            draw.text((x + 10, top + 12), "GẠO", font=sack_font, fill=(170, 40, 40))
            draw.text((x + 10, top + 32), "25kg", font=font(12), fill=(80, 80, 80))
            if row == 2 and col == 3:
                break
    # three thin mattresses behind the shelves, with blankets
    for i, (mx, my) in enumerate(((400, 430), (560, 452), (720, 436))):
        draw.rounded_rectangle([(mx, my), (mx + 150, my + 110)], radius=8, fill=(196, 190, 172))
        blanket = ((92, 118, 150), (140, 80, 80), (96, 130, 96))[i]
        draw.polygon(
            [(mx + 40, my + 6), (mx + 150, my + 10), (mx + 146, my + 108), (mx + 30, my + 100)],
            fill=blanket,
        )
        draw.ellipse([(mx + 6, my + 10), (mx + 40, my + 40)], fill=(228, 226, 220))  # pillow
    # washing line with shirts and aprons
    draw.line([(380, 150), (880, 170)], fill=(30, 30, 30), width=2)
    for i, hx in enumerate(range(400, 860, 70)):
        hy = 150 + (hx - 380) * 20 // 500
        colour = ((236, 236, 236), (70, 80, 110), (220, 220, 210), (160, 60, 60))[i % 4]
        if i % 2 == 0:  # a shirt
            draw.polygon(
                [(hx, hy), (hx + 50, hy), (hx + 58, hy + 22), (hx + 46, hy + 24),
                 (hx + 46, hy + 78), (hx + 4, hy + 78), (hx + 4, hy + 24), (hx - 8, hy + 22)],
                fill=colour,
            )  # fmt: skip
        else:  # an apron
            draw.rectangle([(hx + 6, hy), (hx + 44, hy + 86)], fill=colour)
    # rice cooker on a crate
    draw.rectangle([(800, 320), (880, 400)], fill=(140, 112, 76))
    draw.rounded_rectangle([(810, 276), (870, 322)], radius=12, fill=(236, 236, 232))
    draw.ellipse([(832, 290), (846, 304)], fill=(200, 40, 40))
    # the shift list taped to the wall
    draw.rectangle([(520, 262), (690, 388)], fill=(244, 242, 232))
    draw.rectangle([(590, 256), (620, 268)], fill=(210, 200, 150))  # tape
    hand = font(17, "Condensed")
    for i, text in enumerate(("LỊCH / grafik", "8:00 - 1:00", "T2 - CN", "Minh, Lan, Hùng")):
        draw.text((532, 274 + i * 27), text, font=hand, fill=(30, 40, 110))
    # one bare bulb, and its light falling off towards the corners
    draw.line([(450, 0), (450, 40)], fill=(20, 20, 20), width=2)
    draw.ellipse([(438, 38), (462, 64)], fill=(255, 246, 200))
    light = Image.new("L", (width, height), 0)
    ImageDraw.Draw(light).ellipse([(60, -180), (840, 620)], fill=255)
    light = light.filter(ImageFilter.GaussianBlur(120))
    dark = Image.new("RGB", (width, height), (14, 12, 10))
    image = Image.composite(image, dark, light)
    draw = ImageDraw.Draw(image)
    draw.text((760, 570), "18:31", font=font(18, "Mono"), fill=(240, 200, 90))
    image.save(target, format="PNG", optimize=True)


# -- voices: the interpreter, and the manager's message --------------------------------------------

INTERPRETER_INTRO = (
    "Chào anh. Tôi là phiên dịch viên. Tôi sẽ dịch chính xác từng lời, "
    "tôi không đứng về phía ai, và tôi giữ kín mọi điều tôi nghe được ở đây. "
    "Anh có quen tôi từ trước không?"
)
TUAN_MESSAGE = (
    "Minh, nhớ lời anh dặn. Em là khách du lịch, em giúp chú, lương ba nghìn, "
    "hộ chiếu để ở nhà. Không nói gì thêm. Xong thì ra ngay."
)


def voice(target: Path, work: Path, text: str, espeak_voice: str, speed: int, pitch: int) -> None:
    wav = work / f"{target.stem}.wav"
    _run(
        ["espeak-ng", "-v", espeak_voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text]
    )
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
            str(target),
        ]
    )  # fmt: skip


# -- video: the dining room as the officers come in ----------------------------------------------

FPS = 12
SECONDS = 5
SIZE = (640, 360)


def _person(
    draw: ImageDraw.ImageDraw, x: int, y: int, body: tuple[int, int, int], head_turn: int = 0
) -> None:
    """A simple standing figure: head (turned by `head_turn` pixels), body, apron or shirt."""
    draw.rounded_rectangle([(x - 16, y), (x + 16, y + 86)], radius=8, fill=body)
    draw.ellipse([(x - 12 + head_turn, y - 28), (x + 12 + head_turn, y - 2)], fill=(206, 170, 130))
    draw.pieslice(
        [(x - 13 + head_turn, y - 30), (x + 13 + head_turn, y - 6)], 180, 360, fill=(30, 26, 24)
    )


def _dining_frame(index: int) -> Image.Image:
    t = index / FPS
    image = Image.new("RGB", SIZE, (228, 214, 190))
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 250), (640, 360)], fill=(150, 112, 78))  # wooden floor
    for x in range(0, 640, 64):
        draw.line([(x, 250), (x - 30, 360)], fill=(136, 100, 70), width=2)
    draw.rectangle([(150, 14), (420, 52)], fill=(140, 30, 36))  # sign
    draw.text((176, 20), "BISTRO LOTOS", font=font(24, "Bold"), fill=(250, 226, 150))
    for lx in (60, 470, 600):  # paper lanterns, swaying a little
        sway = int(3 * math.sin(t * 1.6 + lx))
        draw.line([(lx, 0), (lx + sway, 40)], fill=(60, 40, 30), width=2)
        draw.ellipse([(lx - 16 + sway, 40), (lx + 16 + sway, 78)], fill=(214, 50, 44))
    draw.ellipse([(520, 70), (566, 116)], fill=(250, 250, 244), outline=(40, 40, 40), width=3)
    minute = 42 + int(t // 4)
    angle = math.radians(minute * 6 - 90)
    draw.line([(543, 93), (543 + int(17 * math.cos(angle)), 93 + int(17 * math.sin(angle)))],
              fill=(20, 20, 20), width=2)  # fmt: skip
    draw.line([(543, 93), (552, 86)], fill=(20, 20, 20), width=3)
    draw.rectangle([(20, 110), (96, 250)], fill=(120, 96, 70))  # office door, left
    draw.rectangle([(470, 130), (560, 250)], fill=(170, 176, 178))  # kitchen door, right
    draw.rectangle([(490, 150), (540, 190)], fill=(210, 222, 226))
    for tx in (150, 300):  # tables with chairs
        draw.rectangle([(tx, 230), (tx + 110, 242)], fill=(104, 70, 44))
        draw.rectangle([(tx + 10, 242), (tx + 18, 300)], fill=(90, 60, 40))
        draw.rectangle([(tx + 92, 242), (tx + 100, 300)], fill=(90, 60, 40))
    # the manager walks from the office door towards the officers (the camera), phone in hand
    progress = min(1.0, t / 4.0)
    mx = int(70 + 220 * progress)
    my = int(150 + 40 * progress)
    _person(draw, mx, my, (248, 248, 246))
    draw.rectangle([(mx - 16, my + 56), (mx + 16, my + 90)], fill=(44, 46, 56))  # dark trousers
    draw.rounded_rectangle([(mx + 14, my + 30), (mx + 24, my + 48)], radius=2, fill=(20, 20, 20))
    # five workers in aprons by the kitchen door; the youngest (first) turns to watch him
    for i, wx in enumerate((430, 476, 522, 568, 612)):
        turn = -int(5 * min(1.0, t / 1.5)) if i == 0 else 0
        _person(draw, wx, 172, (250, 250, 250), head_turn=turn)
        draw.rectangle([(wx - 12, 190), (wx + 12, 254)], fill=(60, 90, 70))  # apron
    draw.text((10, 336), f"17:42:{int(t):02d}", font=font(14, "Mono"), fill=(40, 30, 20))
    return image


def dining_video(target: Path, work: Path) -> None:
    for index in range(FPS * SECONDS):
        _dining_frame(index).save(work / f"frame{index:03d}.png")
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
        for name, build in (("briefing_card.png", briefing_card), ("storeroom.png", storeroom)):
            made[name] = work / name
            build(made[name])
        made["interpreter_intro.ogg"] = work / "interpreter_intro.ogg"
        voice(made["interpreter_intro.ogg"], work, INTERPRETER_INTRO, "vi+f3", 140, 55)
        made["tuan_message.ogg"] = work / "tuan_message.ogg"
        voice(made["tuan_message.ogg"], work, TUAN_MESSAGE, "vi", 160, 35)
        made["dining_room.mp4"] = work / "dining_room.mp4"
        dining_video(made["dining_room.mp4"], work)
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
