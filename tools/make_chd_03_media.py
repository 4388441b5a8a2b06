"""Generate the clips of scenario CHD-03 (dialogues/chd-03/media/).

    .venv/bin/python tools/make_chd_03_media.py

Needs Pillow (the `media` extra) and the Debian packages espeak-ng and ffmpeg. The output is
deterministic and the script idempotent: every drawing uses fixed coordinates and seeded random
generators, ffmpeg runs single-threaded with bit-exact flags and without metadata, and a file is
only replaced when its bytes change. Everything shown is fiction: "Daria", "Oleh" and
"Nataliia K." are invented, the notary and the stamp are made up and marked as training
material, and no real document, form or person is reproduced.

Clips:
- coach_bay.mp4        5 s drawn night scene of the second-line bay, the coach (video)
- consent_letter.png   the mother's notarised consent letter, Ukrainian and English (photo)
- oleh_voice.ogg       Oleh's voice message in Ukrainian, espeak-ng -> Opus (voice)
- phone_chat.png       her phone screen with Oleh's messages, in Ukrainian (photo)
- corridor_cctv.mp4    5 s corridor camera view: Oleh stopped at the family-room door (video)
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
MEDIA = ROOT / "dialogues" / "chd-03" / "media"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
BUDGET_BYTES = 3 * 1024 * 1024
FPS = 12
SECONDS = 5

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, style: str = "") -> Font:
    """DejaVu (with Cyrillic) in the given style, or Pillow's default."""
    name = {
        "": "DejaVuSans.ttf",
        "Bold": "DejaVuSans-Bold.ttf",
        "Oblique": "DejaVuSans-Oblique.ttf",
        "Mono": "DejaVuSansMono.ttf",
        "Serif": "DejaVuSerif.ttf",
        "SerifBold": "DejaVuSerif-Bold.ttf",
        "SerifItalic": "DejaVuSerif-Italic.ttf",
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
    if line:
        lines.append(line)
    return lines


# -- photo 1: the notarised consent letter -------------------------------------------------------

LETTER_UK = (
    "Я, Наталія К., мати неповнолітньої Дарії К., 14.03.2009 р. н., даю згоду на "
    "виїзд моєї доньки до Республіки Польща на літній відпочинок з 10.07.2025 по "
    "24.07.2025 у супроводі Олега Г., 1994 р. н."
)
LETTER_EN = (
    "I, Nataliia K., mother of the minor Daria K., born 14.03.2009, consent to my daughter "
    "travelling to the Republic of Poland for a summer holiday from 10.07.2025 to "
    "24.07.2025, accompanied by Oleh H., born 1994."
)


def _stamp(canvas: Image.Image, centre: tuple[int, int], rng: random.Random) -> None:
    """A round violet notary stamp, slightly patchy, on its own layer."""
    size = 230
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    ink = (88, 52, 150, 190)
    draw.ellipse([(6, 6), (size - 6, size - 6)], outline=ink, width=5)
    draw.ellipse([(30, 30), (size - 30, size - 30)], outline=ink, width=2)
    ring = "ПРИВАТНИЙ НОТАРІУС • НАВЧАЛЬНИЙ ЗРАЗОК • "
    face = font(15, "Bold")
    radius = 95
    for i, char in enumerate(ring):
        angle = -math.pi / 2 + 2 * math.pi * i / len(ring)
        x = size / 2 + radius * math.cos(angle)
        y = size / 2 + radius * math.sin(angle)
        glyph = Image.new("RGBA", (24, 24), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((4, 2), char, font=face, fill=ink)
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        layer.alpha_composite(glyph, (int(x - 12), int(y - 12)))
    draw.text((size / 2, size / 2 - 14), "№ 0000", font=font(22, "Bold"), fill=ink, anchor="mm")
    draw.text((size / 2, size / 2 + 16), "ВИГАДАНО", font=font(16, "Bold"), fill=ink, anchor="mm")
    pixels = layer.load()
    for _ in range(2600):  # patchy ink
        px, py = rng.randrange(size), rng.randrange(size)
        red, green, blue, alpha = pixels[px, py]
        if alpha:
            pixels[px, py] = (red, green, blue, max(0, alpha - rng.randint(60, 170)))
    layer = layer.rotate(14, resample=Image.Resampling.BICUBIC)
    canvas.alpha_composite(layer, (centre[0] - size // 2, centre[1] - size // 2))


def consent_letter(target: Path) -> None:
    rng = random.Random(903)
    width, height = 900, 1180
    paper = Image.new("RGBA", (width, height), (250, 249, 244, 255))
    grain = ImageDraw.Draw(paper)
    for _ in range(7000):  # paper grain
        px, py = rng.randrange(width), rng.randrange(height)
        shade = rng.randint(232, 246)
        grain.point((px, py), fill=(shade, shade, shade - 6, 255))
    draw = ImageDraw.Draw(paper)
    body = font(23, "Serif")
    draw.text((width / 2, 70), "ЗАЯВА", font=font(34, "SerifBold"), fill=(20, 20, 24), anchor="mm")
    draw.text(
        (width / 2, 110), "про згоду на виїзд дитини", font=body, fill=(40, 40, 44), anchor="mm"
    )
    y = 170
    for line in _wrap(draw, LETTER_UK, body, width - 150):
        draw.text((75, y), line, font=body, fill=(24, 24, 28))
        y += 36
    draw.line([(75, y + 18), (width - 75, y + 18)], fill=(180, 180, 176), width=1)
    y += 50
    draw.text(
        (width / 2, y),
        "CONSENT TO TRAVEL",
        font=font(26, "SerifBold"),
        fill=(20, 20, 24),
        anchor="mm",
    )
    y += 46
    italic = font(22, "SerifItalic")
    for line in _wrap(draw, LETTER_EN, italic, width - 150):
        draw.text((75, y), line, font=italic, fill=(40, 40, 48))
        y += 34
    y += 40
    draw.text((75, y), "01.07.2025", font=body, fill=(24, 24, 28))
    draw.text((520, y), "Наталія К. / Nataliia K.", font=body, fill=(24, 24, 28))
    # the mother's signature: a seeded scribble in blue ink
    points, x0 = [], 560
    for step in range(46):
        points.append((x0 + step * 5, y + 70 + int(14 * math.sin(step / 2.3) + rng.uniform(-4, 4))))
    draw.line(points, fill=(30, 46, 140), width=3)
    y += 150
    notary = (
        "Посвідчено приватним нотаріусом (вигадана особа). Зареєстровано в реєстрі за № 0000.",
        "Certified by a private notary (fictional person). Register No. 0000.",
    )
    small = font(18, "Serif")
    for line in notary:
        for part in _wrap(draw, line, small, width - 420):
            draw.text((75, y), part, font=small, fill=(50, 50, 56))
            y += 28
        y += 6
    _stamp(paper, (700, y - 40), rng)
    footer = "Fictional document for training / Вигаданий документ для навчання"
    draw.text(
        (width / 2, height - 40),
        footer,
        font=font(16, "Oblique"),
        fill=(150, 150, 150),
        anchor="mm",
    )
    sheet = paper.convert("RGB").rotate(
        0.8, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(70, 74, 80)
    )
    sheet = sheet.filter(ImageFilter.GaussianBlur(0.35))
    sheet.save(target, format="PNG", optimize=True)


# -- photo 2: her phone with Oleh's messages -----------------------------------------------------

MESSAGES = (
    ("01:52", "Не кажи їм нічого зайвого."),
    ("01:52", "Скажи, що тобі майже 18."),
    ("01:53", "Ми друзі сім'ї. Канікули. І все."),
    ("01:58", "Мамі про Берлін ні слова."),
    ("02:05", "Видали цей чат."),
)


def phone_chat(target: Path) -> None:
    width, height = 540, 960
    image = Image.new("RGB", (width, height), (28, 30, 34))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([(24, 16), (width - 24, height - 16)], radius=46, fill=(8, 8, 10))
    draw.rounded_rectangle([(40, 40), (width - 40, height - 40)], radius=34, fill=(214, 226, 236))
    draw.rectangle([(40, 74), (width - 40, 160)], fill=(52, 112, 168))
    draw.text((64, 48), "02:06", font=font(18, "Bold"), fill=(40, 40, 40))
    draw.rounded_rectangle([(418, 50), (458, 68)], radius=3, outline=(40, 40, 40), width=2)
    draw.rectangle([(421, 53), (424, 65)], fill=(210, 40, 40))  # battery almost empty
    draw.text((408, 50), "3%", font=font(15, "Bold"), fill=(200, 40, 40), anchor="ra")
    draw.ellipse([(60, 90), (114, 144)], fill=(176, 188, 198))
    draw.text((87, 117), "О", font=font(26, "Bold"), fill=(255, 255, 255), anchor="mm")
    draw.text((130, 92), "Олег ♥", font=font(28, "Bold"), fill=(255, 255, 255))
    draw.text((130, 126), "в мережі", font=font(18), fill=(206, 224, 240))
    y = 196
    bubble_font = font(24)
    for time, text in MESSAGES:
        lines = _wrap(draw, text, bubble_font, 330)
        box_w = max(int(draw.textlength(s, font=bubble_font)) for s in lines) + 90
        box_h = 34 * len(lines) + 40
        draw.rounded_rectangle([(60, y), (60 + box_w, y + box_h)], radius=16, fill=(255, 255, 255))
        for i, part in enumerate(lines):
            draw.text((78, y + 10 + 34 * i), part, font=bubble_font, fill=(24, 24, 24))
        draw.text((60 + box_w - 62, y + box_h - 23), time, font=font(15), fill=(130, 130, 130))
        y += box_h + 22
    banner = (56, height - 190, width - 56, height - 110)
    draw.rounded_rectangle([banner[:2], banner[2:]], radius=18, fill=(60, 60, 66))
    draw.text((78, height - 178), "Олег ♥", font=font(20, "Bold"), fill=(255, 255, 255))
    draw.text(
        (78, height - 148), "Голосове повідомлення · 0:07", font=font(19), fill=(190, 214, 240)
    )
    draw.rounded_rectangle([(200, height - 70), (340, height - 62)], radius=4, fill=(60, 60, 60))
    image.save(target, format="PNG", optimize=True)


# -- voice: Oleh's voice message ---------------------------------------------------------------

VOICE_MESSAGE = (
    "Дарино, це Олег. Нічого не бійся. Скажи, що ми їдемо на канікули, і все. "
    "Паспорт у мене. Я тебе чекаю."
)


def voice_message(target: Path, work: Path) -> None:
    wav = work / "voice.wav"
    _run(["espeak-ng", "-v", "uk", "-s", "140", "-p", "34", "-w", str(wav), VOICE_MESSAGE])
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
            str(target),
        ]
    )  # fmt: skip


# -- video 1: the second-line bay at night -----------------------------------------------------


def _person(draw: ImageDraw.ImageDraw, x: int, top: int, height: int, body: tuple) -> None:
    """A simple standing figure: head and body, `height` pixels tall from `top`."""
    head = height // 5
    draw.ellipse([(x, top), (x + head, top + head)], fill=(196, 170, 150))
    draw.rounded_rectangle(
        [(x - head // 3, top + head), (x + head + head // 3, top + height)], radius=6, fill=body
    )


def _bay_frame(index: int) -> Image.Image:
    t = index / FPS
    rng = random.Random(1000 + index)
    image = Image.new("RGB", (640, 360), (14, 20, 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 250), (640, 360)], fill=(52, 54, 60))  # wet asphalt
    for x in range(0, 640, 64):
        draw.line([(x, 300), (x + 30, 300)], fill=(200, 200, 190), width=3)
    # floodlights with a slight flicker
    for pole in (70, 560):
        draw.line([(pole, 40), (pole, 250)], fill=(90, 92, 100), width=5)
        glow = 190 + int(12 * math.sin(t * 7 + pole))
        draw.polygon(
            [(pole - 14, 44), (pole + 14, 44), (pole + 90, 250), (pole - 90, 250)],
            fill=(glow // 3, glow // 3, glow // 4),
        )
        draw.rectangle([(pole - 16, 34), (pole + 16, 46)], fill=(glow, glow, 200))
    # the booth, its lit window on the right
    draw.rectangle([(470, 130), (620, 262)], fill=(150, 156, 166))
    draw.rectangle([(486, 150), (604, 200)], fill=(236, 224, 160))
    draw.text((494, 208), "KONTROLA", font=font(14, "Bold"), fill=(30, 40, 70))
    # the coach on the left, engine idling (a small vertical shake)
    shake = round(math.sin(t * 30))
    draw.rounded_rectangle([(20, 128 + shake), (400, 262 + shake)], radius=14, fill=(214, 216, 222))
    draw.rectangle([(20, 138 + shake), (400, 160 + shake)], fill=(34, 40, 62))
    sign = "LVIV – WARSZAWA"
    draw.text((46, 140 + shake), sign, font=font(16, "Bold"), fill=(255, 190, 60))
    for wx in range(36, 390, 52):
        draw.rectangle([(wx, 170 + shake), (wx + 40, 206 + shake)], fill=(72, 84, 104))
    for wheel in (84, 320):
        draw.ellipse([(wheel, 240), (wheel + 44, 284)], fill=(22, 22, 24))
    for i in range(3):  # exhaust puffs drifting left
        age = (t * 1.6 + i / 3) % 1
        r = int(6 + 16 * age)
        grey = int(70 + 50 * (1 - age))
        cx = 10 - int(60 * age)
        draw.ellipse(
            [(cx - r, 250 - r - int(20 * age)), (cx + r, 250 + r - int(20 * age))], fill=(grey,) * 3
        )
    # the man at the booth window holding out two passports, the girl half a step behind
    _person(draw, 430, 166, 96, (40, 44, 58))
    arm = int(4 * math.sin(t * 2))
    draw.rectangle([(452, 190), (486 + arm, 196)], fill=(40, 44, 58))
    draw.rectangle([(482 + arm, 184), (496 + arm, 202)], fill=(24, 52, 120))
    draw.rectangle([(488 + arm, 188), (502 + arm, 206)], fill=(24, 52, 120))
    _person(draw, 404, 178, 84, (150, 60, 90))
    draw.arc([(400, 174), (430, 200)], 180, 360, fill=(150, 60, 90), width=5)  # hood
    for _ in range(60):  # rain
        rx, ry = rng.randrange(640), rng.randrange(360)
        draw.line([(rx, ry), (rx - 3, ry + 10)], fill=(110, 120, 150), width=1)
    draw.text((10, 336), f"01:40:{int(t):02d}", font=font(14, "Mono"), fill=(200, 200, 200))
    return image


# -- video 2: the corridor camera --------------------------------------------------------------


def _corridor_frame(index: int) -> Image.Image:
    t = index / FPS
    rng = random.Random(2000 + index)
    image = Image.new("L", (640, 360), 96)
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 360), (640, 360), (420, 200), (220, 200)], fill=118)  # floor
    draw.polygon([(0, 0), (220, 120), (220, 200), (0, 360)], fill=84)  # left wall
    draw.polygon([(640, 0), (420, 120), (420, 200), (640, 360)], fill=104)  # right wall
    draw.rectangle([(220, 120), (420, 200)], fill=70)  # far end
    draw.polygon([(470, 70), (540, 30), (540, 300), (470, 240)], fill=150)  # the door
    draw.polygon([(478, 90), (532, 60), (532, 96), (478, 120)], fill=210)
    draw.text((482, 92), "POKÓJ", font=font(11, "Bold"), fill=40)
    draw.text((482, 104), "DLA RODZIN", font=font(9, "Bold"), fill=40)
    # Oleh walks from the far end towards the door, then stops
    walk = min(t / 3.2, 1.0)
    scale = 0.45 + 0.75 * walk
    mx = int(290 + 90 * walk)
    top = int(150 - 70 * walk)
    tall = int(150 * scale)
    head = tall // 5
    draw.ellipse([(mx, top), (mx + head, top + head)], fill=60)
    draw.rounded_rectangle(
        [(mx - head // 3, top + head), (mx + head + 8, top + tall)], radius=5, fill=35
    )
    draw.line([(mx + head, top + head + 12), (mx + head + 24, top + head + 8)], fill=35, width=5)
    draw.rectangle([(mx + head + 22, top + head + 2), (mx + head + 32, top + head + 14)], fill=230)
    # Officer Lis steps in from the right after three seconds, a hand raised
    if t > 2.6:
        step = min((t - 2.6) / 1.2, 1.0)
        ox = int(610 - 140 * step)
        draw.ellipse([(ox, 124), (ox + 30, 154)], fill=70)
        draw.rounded_rectangle([(ox - 8, 154), (ox + 38, 296)], radius=6, fill=50)
        draw.line([(ox - 6, 166), (ox - 30, 140)], fill=50, width=7)
    for _ in range(1400):  # sensor noise
        draw.point((rng.randrange(640), rng.randrange(360)), fill=rng.randint(40, 200))
    for y in range(0, 360, 4):  # scan lines
        draw.line([(0, y), (640, y)], fill=88)
    draw.text((12, 10), "CAM 03  KORYTARZ", font=font(15, "Mono"), fill=235)
    draw.text((468, 334), f"02:58:{int(t):02d}", font=font(15, "Mono"), fill=235)
    if int(t * 2) % 2 == 0:
        draw.ellipse([(600, 12), (614, 26)], fill=255)
    return image.filter(ImageFilter.GaussianBlur(0.6)).convert("RGB")


def drawn_video(target: Path, work: Path, frame: Callable[[int], Image.Image]) -> None:
    folder = work / target.stem
    folder.mkdir()
    for index in range(FPS * SECONDS):
        frame(index).save(folder / f"frame{index:03d}.png")
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error",
            "-framerate", str(FPS), "-i", str(folder / "frame%03d.png"),
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
            ("consent_letter.png", consent_letter),
            ("phone_chat.png", phone_chat),
        ):
            made[name] = work / name
            build(made[name])
        made["oleh_voice.ogg"] = work / "oleh_voice.ogg"
        voice_message(made["oleh_voice.ogg"], work)
        for name, frame in (
            ("coach_bay.mp4", _bay_frame),
            ("corridor_cctv.mp4", _corridor_frame),
        ):
            made[name] = work / name
            drawn_video(made[name], work, frame)
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
