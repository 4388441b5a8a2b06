"""Generate the clips of scenario RET-04 (dialogues/ret-04/media/).

    .venv/bin/python tools/make_ret_04_media.py

Needs Pillow (the `media` extra) and the Debian packages espeak-ng and ffmpeg. The output is
deterministic and the script idempotent: every drawing uses fixed coordinates and a seeded
random generator, ffmpeg runs single-threaded with bit-exact flags and without metadata, and a
file is only replaced when its bytes change. Everything shown is fiction: "Ana", "Doina",
"Father Tomasz" and "Mihai" are invented, and no real document, form or person is reproduced.
The consent form is a training sample drawn for this scenario, not any organisation's form.

Clips:
- intake_note.png    the duty officer's handwritten note, in Polish (photo)
- phone_calls.png    the call log of the phone her employers gave her, in Romanian (photo)
- doina_message.ogg  the recruiter's voice message in Romanian, espeak-ng -> Opus (voice)
- parish_car.mp4     6 s phone video from the presbytery window: a car at the church gate (video)
- consent_form.png   the consent-to-share form as Ana filled it in, PL/EN (photo)
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "dialogues" / "ret-04" / "media"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
BUDGET_BYTES = 3 * 1024 * 1024
INK = (28, 42, 120)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, style: str = "") -> Font:
    """DejaVu Sans in the given style ('', 'Bold', 'Oblique', 'Mono', 'Condensed'), or default."""
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


def _handwrite(
    canvas: Image.Image, xy: tuple[int, int], text: str, size: int, rng: random.Random
) -> int:
    """Blue-ink text with a small, seeded wobble per letter; returns the x where it ended."""
    x, y = xy
    base = font(size, "Condensed")
    draw = ImageDraw.Draw(canvas)
    drift = 0.0
    for char in text:
        drift += rng.uniform(-0.35, 0.35)
        drift = max(-2.5, min(2.5, drift))
        jitter = rng.uniform(-0.8, 0.8)
        draw.text((x, y + drift + jitter), char, font=base, fill=INK)
        x += int(draw.textlength(char, font=base) * rng.uniform(0.96, 1.06)) + 1
    return x


def _paper(width: int, height: int, rng: random.Random) -> Image.Image:
    paper = Image.new("RGB", (width, height), (246, 244, 232))
    grain = ImageDraw.Draw(paper)
    for _ in range(7000):
        px, py = rng.randrange(width), rng.randrange(height)
        shade = rng.randint(226, 244)
        grain.point((px, py), fill=(shade, shade - 2, shade - 16))
    return paper


# -- photo 1: the duty officer's note ----------------------------------------------------------

NOTE_LINES = (
    "Kobieta, ok. 30 l., ob. MDA (wg oświadczenia)",
    "przyprowadził ks. Tomasz (parafia)",
    "brak paszportu - „zgubiony”",
    "wjazd autobusem w styczniu -> 90 dni minęło",
    "uciekła od „pracodawcy” (sprzątanie)",
    "jęz. rumuński, trochę rosyjski",
    "chce wracać do domu",
    "-> zespół HL?   tłumacz?   SG?",
)


def intake_note(target: Path) -> None:
    rng = random.Random(404)
    width, height = 900, 620
    paper = _paper(width, height, rng)
    draw = ImageDraw.Draw(paper)
    draw.rectangle([(0, 0), (width, 70)], fill=(236, 236, 240))
    draw.text((28, 20), "KOMISARIAT POLICJI", font=font(22, "Bold"), fill=(70, 70, 90))
    draw.text((330, 24), "notatka dyżurnego", font=font(18), fill=(110, 110, 130))
    draw.text((700, 24), "nr ......../", font=font(18, "Mono"), fill=(110, 110, 130))
    for y in range(120, height - 20, 52):
        draw.line([(30, y + 36), (width - 30, y + 36)], fill=(196, 204, 222), width=1)
    _handwrite(paper, (40, 84), "czw. 19:25", 26, rng)
    for i, line in enumerate(NOTE_LINES):
        _handwrite(paper, (40, 130 + i * 52), line, 27, rng)
    # the officer underlines the missing passport and circles his own suggestion
    draw.line([(40, 271), (232, 274)], fill=INK, width=3)
    draw.ellipse([(368, 484), (448, 534)], outline=INK, width=2)
    _handwrite(paper, (640, 570), "sierż. K.", 24, rng)
    note = paper.rotate(0.9, resample=Image.Resampling.BICUBIC, fillcolor=(88, 82, 78))
    note = note.filter(ImageFilter.GaussianBlur(0.35))
    note.save(target, format="PNG", optimize=True)


# -- photo 2: the call log of the employers' phone ---------------------------------------------

CALLS = (
    ("Șefa", "azi 20:58", "17 apeluri pierdute", True),
    ("Doina", "azi 20:41", "9 apeluri pierdute", True),
    ("Doina", "azi 20:40", "mesaj vocal", True),
    ("Mama", "dum. 19:00", "intrare 5:00", False),
    ("Mama", "dum. 19:00", "intrare 4:52", False),
    ("Mama", "dum. 19:00", "intrare 5:00", False),
    ("Mama", "dum. 19:00", "intrare 4:58", False),
)


def phone_calls(target: Path) -> None:
    width, height = 540, 960
    image = Image.new("RGB", (width, height), (46, 42, 40))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([(24, 16), (width - 24, height - 16)], radius=40, fill=(14, 14, 16))
    draw.rounded_rectangle([(40, 40), (width - 40, height - 40)], radius=28, fill=(244, 244, 246))
    draw.rectangle([(40, 40), (width - 40, 76)], fill=(30, 30, 34))
    draw.text((60, 48), "21:03", font=font(17, "Bold"), fill=(240, 240, 240))
    draw.text((width - 130, 48), "▮▮▯ 23%", font=font(16), fill=(240, 240, 240))
    draw.text((60, 96), "Apeluri recente", font=font(30, "Bold"), fill=(30, 30, 30))
    draw.text((60, 138), "Contacte: 3", font=font(18), fill=(120, 120, 120))
    y = 182
    for name, when, detail, alarm in CALLS:
        draw.line([(60, y - 8), (width - 60, y - 8)], fill=(220, 220, 224), width=1)
        colour = (196, 40, 40) if alarm else (30, 30, 30)
        draw.ellipse([(60, y + 4), (108, y + 52)], fill=(200, 206, 214))
        draw.text((73, y + 13), name[0], font=font(22, "Bold"), fill=(255, 255, 255))
        draw.text((126, y), name, font=font(26, "Bold"), fill=colour)
        draw.text((126, y + 34), detail, font=font(18), fill=colour if alarm else (110, 110, 110))
        draw.text((width - 190, y + 6), when, font=font(18), fill=(110, 110, 110))
        y += 84
    draw.rounded_rectangle([(60, height - 150), (width - 60, height - 86)], radius=14,
                           fill=(226, 232, 240))  # fmt: skip
    draw.text((80, height - 134), "Nu există alte contacte.", font=font(20), fill=(80, 80, 96))
    draw.rounded_rectangle([(200, height - 66), (340, height - 58)], radius=4, fill=(90, 90, 90))
    image.save(target, format="PNG", optimize=True)


# -- voice: Doina's message --------------------------------------------------------------------

VOICE_MESSAGE = (
    "Ana, unde ești? Șefa e foarte supărată. Acum datoria ta e o mie două sute de euro. "
    "Întoarce-te diseară și uităm totul. Dacă nu, tot satul o să afle ce fel de muncă "
    "ai făcut la Varșovia. Și gândește-te la Mihai. Școala lui e chiar lângă casa surorii "
    "mele. Ar fi păcat să-l viziteze cineva."
)


def voice_message(target: Path, work: Path) -> None:
    wav = work / "doina.wav"
    _run(["espeak-ng", "-v", "ro+f4", "-s", "150", "-p", "44", "-w", str(wav), VOICE_MESSAGE])
    _run(
        [
            "ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1",
            str(target),
        ]
    )  # fmt: skip


# -- video: the car at the church gate, filmed from the presbytery -----------------------------

FPS = 12
SECONDS = 6


def _car_x(t: float) -> int:
    """The car rolls in from the left, waits at the gate, and leaves to the right."""
    if t < 1.5:
        return int(-230 + (170 + 230) * (1 - (1 - t / 1.5) ** 2))
    if t < 4.6:
        return 170
    return int(170 + 480 * ((t - 4.6) / 1.4) ** 2)


def _man(t: float) -> tuple[int, bool] | None:
    """Where the man is (x of his head) and whether he faces the gate; None while in the car."""
    if t < 1.8 or t >= 4.3:
        return None
    if t < 2.4:
        return int(360 + (t - 1.8) / 0.6 * 56), False
    if t < 3.7:
        return 416, True
    return int(416 - (t - 3.7) / 0.6 * 56), False


def _parish_frame(index: int) -> Image.Image:
    t = index / FPS
    image = Image.new("RGB", (640, 360), (178, 186, 196))  # grey morning sky
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 120), (640, 250)], fill=(150, 84, 64))  # brick wall of the churchyard
    for row, y in enumerate(range(124, 250, 14)):
        offset = 0 if row % 2 else 18
        for x in range(-18 + offset, 640, 36):
            draw.rectangle([(x, y), (x + 33, y + 11)], outline=(128, 70, 54))
    draw.rectangle([(480, 52), (560, 120)], fill=(206, 198, 180))  # the church tower behind
    draw.polygon([(470, 52), (520, 16), (570, 52)], fill=(92, 96, 104))
    draw.line([(520, 16), (520, 0)], fill=(60, 60, 60), width=3)
    draw.line([(512, 6), (528, 6)], fill=(60, 60, 60), width=3)
    draw.ellipse([(506, 66), (534, 94)], outline=(120, 110, 96), width=3)
    draw.rectangle([(430, 150), (530, 250)], fill=(60, 64, 70))  # the gate
    for x in range(436, 530, 12):
        draw.line([(x, 152), (x, 250)], fill=(30, 32, 36), width=3)
    draw.rectangle([(0, 250), (640, 360)], fill=(96, 98, 102))  # the street
    for x in range(0, 640, 80):
        draw.rectangle([(x + 10, 312), (x + 50, 318)], fill=(210, 210, 200))
    car = _car_x(t)
    draw.rounded_rectangle([(car, 236), (car + 220, 296)], radius=12, fill=(28, 30, 36))
    draw.polygon([(car + 40, 236), (car + 70, 206), (car + 170, 206), (car + 196, 236)],
                 fill=(28, 30, 36))  # fmt: skip
    draw.polygon([(car + 56, 234), (car + 78, 212), (car + 116, 212), (car + 116, 234)],
                 fill=(86, 96, 110))  # fmt: skip
    draw.polygon([(car + 124, 234), (car + 124, 212), (car + 164, 212), (car + 184, 234)],
                 fill=(86, 96, 110))  # fmt: skip
    if t < 1.8 or t >= 4.3:  # two heads inside
        for hx in (car + 92, car + 140):
            draw.ellipse([(hx, 216), (hx + 16, 232)], fill=(20, 20, 22))
    else:
        draw.ellipse([(car + 92, 216), (car + 108, 232)], fill=(20, 20, 22))
    for wx in (car + 30, car + 160):
        draw.ellipse([(wx, 280), (wx + 36, 316)], fill=(12, 12, 12))
    man = _man(t)
    if man is not None:
        mx, facing = man
        draw.ellipse([(mx, 186), (mx + 24, 210)], fill=(40, 36, 34))
        draw.rounded_rectangle([(mx - 8, 210), (mx + 32, 300)], radius=8, fill=(44, 46, 52))
        if facing:
            draw.line([(mx + 30, 222), (mx + 48, 210)], fill=(44, 46, 52), width=8)  # at the gate
    # the window frame the priest filmed through, and the phone's recording overlay
    draw.rectangle([(0, 0), (640, 360)], outline=(236, 232, 224), width=14)
    if int(t * 2) % 2 == 0:
        draw.ellipse([(28, 26), (44, 42)], fill=(220, 30, 30))
    draw.text((52, 24), "REC", font=font(16, "Bold"), fill=(255, 255, 255))
    draw.text((520, 326), f"07:42:{10 + int(t):02d}", font=font(15, "Mono"), fill=(255, 255, 255))
    return image


def parish_video(target: Path, work: Path) -> None:
    for index in range(FPS * SECONDS):
        _parish_frame(index).save(work / f"frame{index:03d}.png")
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


# -- photo 3: the consent form as she filled it in --------------------------------------------

FORM_WHAT = (
    (True, "imię i nazwisko, data urodzenia", "name, date of birth"),
    (True, "potrzeby w podróży i zdrowotne", "travel and health needs"),
    (True, "potrzeba ochrony po przyjeździe", "need for protection on arrival"),
    (False, "treść zeznań", "content of her statement"),
    (False, "adres rodziny", "family's address"),
)
FORM_WHO = (
    (True, "IOM Polska", "IOM Poland"),
    (True, "IOM Mołdawia", "IOM Moldova"),
    (True, "Centrum Pomocy i Ochrony, Kiszyniów", "Assistance and Protection Centre, Chișinău"),
    (True, "konsulat - tylko dokument podróży", "consulate - travel document only"),
    (False, "policja w Mołdawii", "police in Moldova"),
    (False, "rodzina, wieś", "family, village"),
)


def _box(draw: ImageDraw.ImageDraw, x: int, y: int, ticked: bool) -> None:
    draw.rectangle([(x, y), (x + 22, y + 22)], outline=(40, 40, 40), width=2)
    if ticked:
        draw.line([(x + 4, y + 11), (x + 10, y + 18), (x + 21, y - 2)], fill=INK, width=4)
    else:
        draw.line([(x + 4, y + 4), (x + 18, y + 18)], fill=INK, width=3)
        draw.line([(x + 18, y + 4), (x + 4, y + 18)], fill=INK, width=3)


def consent_form(target: Path) -> None:
    rng = random.Random(4)
    width, height = 900, 1180
    page = _paper(width, height, rng)
    draw = ImageDraw.Draw(page)
    draw.text((50, 40), "ZGODA NA PRZEKAZANIE INFORMACJI", font=font(30, "Bold"), fill=(20, 20, 20))
    draw.text((50, 82), "CONSENT TO SHARE INFORMATION", font=font(22), fill=(90, 90, 90))
    draw.text((50, 116), "wzór szkoleniowy / training sample - fikcja / fiction",
              font=font(16, "Oblique"), fill=(150, 60, 60))  # fmt: skip
    draw.line([(50, 150), (width - 50, 150)], fill=(40, 40, 40), width=2)
    draw.text((50, 168), "Cel / Purpose:", font=font(20, "Bold"), fill=(20, 20, 20))
    draw.text((230, 168), "bezpieczny dobrowolny powrót i reintegracja", font=font(20),
              fill=(20, 20, 20))  # fmt: skip
    draw.text((230, 196), "safe voluntary return and reintegration", font=font(16),
              fill=(100, 100, 100))  # fmt: skip
    y = 246
    for title, gloss, rows in (
        ("Co? ", "What may be shared", FORM_WHAT),
        ("Komu? ", "With whom", FORM_WHO),
    ):
        draw.text((50, y), title, font=font(22, "Bold"), fill=(20, 20, 20))
        draw.text((140, y + 4), f"/ {gloss}", font=font(18), fill=(100, 100, 100))
        y += 44
        for ticked, polish, english in rows:
            _box(draw, 70, y + 2, ticked)
            draw.text((112, y), polish, font=font(20), fill=(20, 20, 20))
            draw.text((112, y + 26), english, font=font(15), fill=(110, 110, 110))
            y += 62
        y += 20
    draw.line([(50, y), (width - 50, y)], fill=(40, 40, 40), width=1)
    draw.text((50, y + 16), "Zgodę można wycofać w każdej chwili. / Consent can be withdrawn.",
              font=font(17), fill=(60, 60, 60))  # fmt: skip
    draw.text((50, y + 70), "podpis / signature:", font=font(18), fill=(60, 60, 60))
    _handwrite(page, (260, y + 58), "Ana", 40, rng)
    draw.line([(250, y + 108), (560, y + 108)], fill=(40, 40, 40), width=1)
    draw.text((600, y + 70), "tłumacz / interpreter: ✓", font=font(18), fill=(60, 60, 60))
    form = page.rotate(-0.7, resample=Image.Resampling.BICUBIC, fillcolor=(70, 66, 62))
    form.save(target, format="PNG", optimize=True)


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
            ("intake_note.png", intake_note),
            ("phone_calls.png", phone_calls),
            ("consent_form.png", consent_form),
        ):
            made[name] = work / name
            build(made[name])
        made["doina_message.ogg"] = work / "doina_message.ogg"
        voice_message(made["doina_message.ogg"], work)
        made["parish_car.mp4"] = work / "parish_car.mp4"
        parish_video(made["parish_car.mp4"], work)
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
