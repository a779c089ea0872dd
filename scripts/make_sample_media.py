#!/usr/bin/env python3
"""Generate the SAMPLE sign-language (DGS) and explainer videos and the media index.

Dev tool only -- the app never runs this at runtime. Its output is committed:

* ``app/static/media/<id>-240.webm`` and ``<id>-480.webm`` (VP9, 25 fps, no audio)
* ``app/static/media/<id>-poster.png`` (320x240)
* ``app/static/media/<id>.de.vtt`` and ``<id>.en.vtt`` (WebVTT captions)
* ``app/i18n/media.json`` (media index; titles and transcripts are gettext msgids)

The videos are placeholders until the Jobcenter delivers the real signed videos.
Every frame says "Beispielvideo / Sample", every entry in the index has
``"sample": true``, and every generated file carries ``SAMPLE_MARKER`` (WebM title
metadata, a NOTE block in the captions, a tEXt chunk in the poster) so that
``tests/test_media_index.py`` can tell generated files from real ones.

When a real video arrives: put its files into ``app/static/media/``, remove the id
from ``TOPICS`` below (or stop using this script), and edit its entry in
``media.json`` by hand with ``"sample": false`` and the real byte sizes.

Needs ``ffmpeg`` with libvpx-vp9, the PNG encoder and drawtext (libfreetype), plus
the DejaVu fonts (Debian: ``fonts-dejavu-core``). Nothing is downloaded.
Encoding is single-threaded and bit-exact so re-running gives identical files.

Usage::

    python scripts/make_sample_media.py
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "app" / "static"
MEDIA = STATIC / "media"
INDEX = ROOT / "app" / "i18n" / "media.json"

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

# Kept in sync with tests/test_media_index.py (ASCII only, it is searched for as bytes).
SAMPLE_MARKER = "jobcenter.digital generated sample media (scripts/make_sample_media.py)"

FPS = 25
RENDITIONS = (  # (width, height, VP9 CRF, byte budget) -- smallest first
    (320, 240, 40, 120_000),
    (640, 480, 40, 250_000),
)
POSTER_SIZE = (320, 240)
POSTER_BUDGET = 6_000
TOTAL_BUDGET = 1_500_000

# Colours (0xRRGGBB). Background: calm blue-grey, neither black nor white.
BG = "0xB4C4D4"
BAND = "0xE3E9F0"
INK = "0x1A2633"
LABEL_BG = "0x1F3A5F"
CLOTHES = "0x2F3E4E"
SKIN = "0xE2BF9C"
PAPER = "0xF3F0E8"

# Title and transcript are German gettext msgids (translated for English and
# Leichte Sprache in the catalogs). Each transcript sentence becomes one caption cue;
# ``captions_en`` is the English caption text, sentence by sentence.
TOPICS: list[dict] = [
    {
        "id": "dgs-angebot",
        "kind": "dgs",
        "title": "Was Sie auf dieser Website tun können",
        "sentences_de": [
            "Auf dieser Website können Sie dem Jobcenter online etwas mitteilen.",
            "Sie können eine Veränderung mitteilen, zum Beispiel eine neue Arbeit "
            "oder einen Umzug.",
            "Sie können eine Ortsabwesenheit beantragen, wenn Sie verreisen möchten.",
            "Später kommen weitere Online-Dienste dazu.",
        ],
        "captions_en": [
            "On this website you can send information to the Jobcenter online.",
            "You can report a change, for example a new job or a move.",
            "You can request permission to be away if you want to travel.",
            "More online services will be added later.",
        ],
    },
    {
        "id": "dgs-navigation",
        "kind": "dgs",
        "title": "So finden Sie sich auf dieser Website zurecht",
        "sentences_de": [
            "Oben auf jeder Seite ist der Kopfbereich.",
            "Dort können Sie die Sprache wechseln.",
            "In der Mitte steht der Hauptinhalt der Seite.",
            "Unten im Fußbereich finden Sie die Links zu Barrierefreiheit, Feedback und Hilfe.",
        ],
        "captions_en": [
            "At the top of every page is the header.",
            "There you can change the language.",
            "The main content of the page is in the middle.",
            "At the bottom, in the footer, you find the links to Accessibility, Feedback and Help.",
        ],
    },
    {
        "id": "dgs-barrierefreiheit",
        "kind": "dgs",
        "title": "Erklärung zur Barrierefreiheit: das Wichtigste",
        "sentences_de": [
            "Diese Website ist teilweise barrierefrei.",
            "In der Erklärung zur Barrierefreiheit steht, welche Inhalte noch nicht "
            "barrierefrei sind und warum.",
            "Über das Feedback-Formular können Sie uns Barrieren melden.",
            "Wenn wir das Problem nicht lösen, hilft Ihnen die Schlichtungsstelle "
            "kostenlos weiter.",
        ],
        "captions_en": [
            "This website is partly accessible.",
            "The accessibility statement says which content is not accessible yet and why.",
            "You can tell us about barriers with the feedback form.",
            "If we do not solve the problem, the conciliation body helps you free of charge.",
        ],
    },
    {
        "id": "dgs-weitere-inhalte",
        "kind": "dgs",
        "title": "Weitere Inhalte in Gebärdensprache und Leichter Sprache",
        "sentences_de": [
            "Weitere Videos in Deutscher Gebärdensprache finden Sie auf der Seite "
            "„Gebärdensprache“.",
            "Texte in Leichter Sprache finden Sie auf der Seite „Leichte Sprache“.",
        ],
        "captions_en": [
            "You find more videos in German Sign Language on the page “Sign language”.",
            "You find texts in Easy Language on the page “Easy Language”.",
        ],
    },
    {
        "id": "erklaer-veraenderung",
        "kind": "explainer",
        "title": "Veränderung mitteilen: warum und wie",
        "icon": "\u270e",  # pencil
        "sentences_de": [
            "Wenn sich in Ihrem Leben etwas ändert, müssen Sie das dem Jobcenter mitteilen.",
            "Das gilt zum Beispiel für eine neue Arbeit, ein anderes Einkommen oder einen Umzug.",
            "Nur so bekommen Sie die richtigen Leistungen.",
            "Wählen Sie „Veränderung mitteilen“, beantworten Sie die Fragen und "
            "senden Sie die Mitteilung ab.",
        ],
        "captions_en": [
            "If something changes in your life, you must tell the Jobcenter.",
            "This applies, for example, to a new job, a different income or a move.",
            "This is the only way to get the right benefits.",
            "Choose “Report a change”, answer the questions and send the report.",
        ],
    },
    {
        "id": "erklaer-ortsabwesenheit",
        "kind": "explainer",
        "title": "Ortsabwesenheit: wann Sie eine Zustimmung brauchen",
        "icon": "\u2708",  # aeroplane
        "sentences_de": [
            "Wenn Sie Leistungen vom Jobcenter bekommen, müssen Sie erreichbar sein.",
            "Wenn Sie verreisen und nicht in der Nähe Ihres Wohnorts sind, brauchen "
            "Sie vorher die Zustimmung des Jobcenters.",
            "Beantragen Sie die Ortsabwesenheit rechtzeitig, bevor Sie wegfahren.",
            "Ohne Zustimmung können Ihre Leistungen für diese Zeit wegfallen.",
        ],
        "captions_en": [
            "If you receive benefits from the Jobcenter, you must be reachable.",
            "If you travel and are not near your home, you need the Jobcenter's "
            "consent beforehand.",
            "Request the absence in good time, before you leave.",
            "Without consent, you may lose your benefits for that time.",
        ],
    },
]


def duration_for(topic: dict) -> int:
    """8-12 s, longer for longer transcripts (about 22 characters per second)."""
    chars = sum(len(s) for s in topic["sentences_de"])
    return max(8, min(12, math.ceil(chars / 22)))


# --------------------------------------------------------------------------- ffmpeg


def ffmpeg_bin() -> str:
    path = shutil.which("ffmpeg")
    if not path:
        sys.exit("ffmpeg not found: install it (apt-get install ffmpeg) and re-run.")
    return path


def run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"ffmpeg failed (rc={proc.returncode})")


class TextFiles:
    """drawtext reads its text from files: no filtergraph escaping of user text."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.n = 0

    def __call__(self, text: str) -> str:
        self.n += 1
        path = self.dir / f"t{self.n}.txt"
        path.write_text(text, encoding="utf-8")
        return str(path)


def drawtext(
    tf: TextFiles,
    text: str,
    *,
    size: int,
    color: str,
    x: str,
    y: str,
    bold: bool = False,
    box: str | None = None,
    boxborder: int = 0,
) -> str:
    opts = [
        f"fontfile={FONT_BOLD if bold else FONT}",
        f"textfile={tf(text)}",
        f"fontsize={size}",
        f"fontcolor={color}",
        f"x='{x}'",
        f"y='{y}'",
    ]
    if box:
        opts += ["box=1", f"boxcolor={box}", f"boxborderw={boxborder}"]
    return "drawtext=" + ":".join(opts)


def balanced_lines(text: str, max_width: int) -> list[str]:
    """Wrap into as few lines as fit ``max_width``, with line lengths evened out."""
    n = len(textwrap.wrap(text, width=max_width))
    for width in range(math.ceil(len(text) / n), max_width + 1):
        lines = textwrap.wrap(text, width=width)
        if len(lines) <= n:
            return lines
    return textwrap.wrap(text, width=max_width)


def drawbox(x: int, y: int, w: int, h: int, color: str) -> str:
    return f"drawbox=x={x}:y={y}:w={w}:h={h}:color={color}:t=fill"


def filtergraph(topic: dict, width: int, height: int, duration: int, tf: TextFiles) -> str:
    s = width / 320  # every coordinate below is designed for 320x240
    cx = width // 2

    def px(v: float) -> int:
        return round(v * s)

    f: list[str] = [f"color=c={BG}:s={width}x{height}:r={FPS}:d={duration}"]

    if topic["kind"] == "dgs":
        # Stylised signer: dark upper body, head, two hands that move slowly
        # (real DGS videos: signer in dark clothes against a plain background).
        f.append(drawbox(cx - px(48), px(104), px(96), px(74), CLOTHES))
        f.append(drawbox(cx - px(9), px(92), px(18), px(14), SKIN))  # neck
        f.append(drawtext(tf, "\u25cf", size=px(64), color=SKIN, x="(w-text_w)/2", y=f"{px(40)}"))
        for side, phase in ((-1, 0.0), (1, 1.6)):
            x = f"{cx}+({side}*{px(34)})-text_w/2+{px(10)}*sin(2*PI*t/2.4+{phase})"
            y = f"{px(112)}+{px(12)}*cos(2*PI*t/1.9+{phase})"
            f.append(drawtext(tf, "\u25cf", size=px(24), color=SKIN, x=x, y=y))
        # DGS logo box, top right.
        f.append(drawbox(width - px(58), px(6), px(52), px(28), LABEL_BG))
        f.append(drawbox(width - px(56), px(8), px(48), px(24), "white"))
        f.append(
            drawtext(
                tf,
                "DGS",
                size=px(16),
                color=LABEL_BG,
                bold=True,
                x=f"{width - px(56)}+({px(48)}-text_w)/2",
                y=f"{px(8)}+({px(24)}-text_h)/2",
            )
        )
    else:
        # Explainer: a form sheet with lines being "filled in" and a topic icon.
        left, top, w, h = cx - px(52), px(46), px(104), px(124)
        f.append(drawbox(left, top, w, h, PAPER))
        for i in range(6):
            f.append(
                drawbox(
                    left + px(12), top + px(16 + i * 17), px(80 - (i % 3) * 14), px(4), "0x8A97A6"
                )
            )
        f.append(
            drawtext(
                tf,
                "\u25b6",
                size=px(14),
                color=LABEL_BG,
                x=f"{left}-text_w-{px(4)}",
                y=f"{top + px(10)}+{px(17)}*mod(floor(t/1.5),6)",
            )
        )
        f.append(
            drawtext(
                tf,
                topic["icon"],
                size=px(40),
                color=LABEL_BG,
                x=f"{left + w + px(10)}",
                y=f"{top + px(4)}",
            )
        )

    # Sample label, top left.
    f.append(
        drawtext(
            tf,
            "Beispielvideo / Sample",
            size=px(13),
            color="white",
            bold=True,
            x=f"{px(10)}",
            y=f"{px(12)}",
            box=LABEL_BG,
            boxborder=px(5),
        )
    )

    # Title band at the bottom, at most two centred lines.
    f.append(drawbox(0, px(184), width, height - px(184), BAND))
    lines = balanced_lines(topic["title"], max_width=34)
    if len(lines) > 2:
        raise SystemExit(f"title too long for two lines: {topic['title']!r}")
    top = px(190) if len(lines) == 2 else px(202)
    for i, line in enumerate(lines):
        f.append(
            drawtext(
                tf,
                line,
                size=px(14),
                color=INK,
                bold=True,
                x="(w-text_w)/2",
                y=f"{top + i * px(20)}",
            )
        )
    return ",".join(f)


def encode_video(ff: str, graph: str, out: Path, crf: int) -> None:
    run(
        [
            ff,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            graph,
            "-an",
            "-c:v",
            "libvpx-vp9",
            "-pix_fmt",
            "yuv420p",
            "-b:v",
            "0",
            "-crf",
            str(crf),
            "-deadline",
            "good",
            "-cpu-used",
            "2",
            "-g",
            str(FPS * 5),
            "-threads",
            "1",
            "-row-mt",
            "0",
            "-map_metadata",
            "-1",
            "-metadata",
            f"title={SAMPLE_MARKER}",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            str(out),
        ]
    )


def encode_poster(ff: str, graph: str, out: Path) -> None:
    # Palette PNG (24 colours) keeps the flat graphics sharp and the file tiny.
    graph = (
        graph + ",split[a][b];[a]palettegen=max_colors=24:stats_mode=single[p];"
        "[b][p]paletteuse=dither=none"
    )
    run(
        [
            ff,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            graph,
            "-frames:v",
            "1",
            "-update",
            "1",
            "-c:v",
            "png",
            "-pred",
            "mixed",
            "-compression_level",
            "9",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            str(out),
        ]
    )
    add_png_text(out, "Comment", SAMPLE_MARKER)


def add_png_text(path: Path, key: str, value: str) -> None:
    """Insert a tEXt chunk right after IHDR (ffmpeg's PNG encoder writes none)."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise SystemExit(f"{path.name}: not a PNG")
    ihdr_end = 8 + 4 + 4 + int.from_bytes(data[8:12], "big") + 4
    body = b"tEXt" + key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = (len(body) - 4).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    path.write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])


# --------------------------------------------------------------------------- captions


def vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    sec, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{sec:02d}.{ms:03d}"


def cue_times(sentences_de: list[str], duration: int) -> list[tuple[float, float]]:
    """Split the running time in proportion to the German sentence length.

    The same timing is used for both languages (the signer / narrator defines it).
    """
    total = sum(len(x) for x in sentences_de)
    times, start = [], 0.0
    for i, sentence in enumerate(sentences_de):
        end = duration if i == len(sentences_de) - 1 else start + duration * len(sentence) / total
        end = round(end, 1)
        times.append((start, end))
        start = end
    return times


def write_vtt(path: Path, lines: list[str], times: list[tuple[float, float]], lang: str) -> None:
    note = (
        "Beispielvideo: Platzhalter, bis das echte Video vorliegt."
        if lang == "de"
        else "Sample video: placeholder until the real video arrives."
    )
    out = ["WEBVTT", "", "NOTE", note, SAMPLE_MARKER, ""]
    for n, (text, (start, end)) in enumerate(zip(lines, times, strict=True), 1):
        out += [str(n), f"{vtt_time(start)} --> {vtt_time(end)}", text, ""]
    path.write_text("\n".join(out), encoding="utf-8")


# --------------------------------------------------------------------------- main


def main() -> None:
    ff = ffmpeg_bin()
    for font in (FONT, FONT_BOLD):
        if not font.is_file():
            sys.exit(f"font missing: {font} (apt-get install fonts-dejavu-core)")
    MEDIA.mkdir(parents=True, exist_ok=True)
    index = []
    with tempfile.TemporaryDirectory(prefix="jcd-media-") as tmp:
        for topic in TOPICS:
            tid, duration = topic["id"], duration_for(topic)
            if len(topic["sentences_de"]) != len(topic["captions_en"]):
                raise SystemExit(f"{tid}: German and English captions differ in length")
            renditions = []
            for width, height, crf, budget in RENDITIONS:
                out = MEDIA / f"{tid}-{height}.webm"
                graph = filtergraph(topic, width, height, duration, TextFiles(Path(tmp)))
                encode_video(ff, graph, out, crf)
                size = out.stat().st_size
                if size > budget:
                    raise SystemExit(f"{out.name}: {size} bytes > budget {budget}")
                renditions.append(
                    {
                        "src": out.relative_to(STATIC).as_posix(),
                        "width": width,
                        "height": height,
                        "type": "video/webm",
                        "bytes": size,
                    }
                )
            poster = MEDIA / f"{tid}-poster.png"
            encode_poster(ff, filtergraph(topic, *POSTER_SIZE, 1, TextFiles(Path(tmp))), poster)
            if poster.stat().st_size > POSTER_BUDGET:
                raise SystemExit(f"{poster.name}: {poster.stat().st_size} > {POSTER_BUDGET}")

            times = cue_times(topic["sentences_de"], duration)
            captions = {}
            for lang, lines in (("de", topic["sentences_de"]), ("en", topic["captions_en"])):
                vtt = MEDIA / f"{tid}.{lang}.vtt"
                write_vtt(vtt, lines, times, lang)
                captions[lang] = vtt.relative_to(STATIC).as_posix()

            index.append(
                {
                    "id": tid,
                    "kind": topic["kind"],
                    "sample": True,
                    "title": topic["title"],
                    "transcript": " ".join(topic["sentences_de"]),
                    "duration_s": duration,
                    "poster": poster.relative_to(STATIC).as_posix(),
                    "renditions": sorted(
                        renditions, key=lambda r: (r["width"] * r["height"], r["bytes"])
                    ),
                    "captions": captions,
                }
            )
            print(
                f"{tid}: {duration} s, "
                + ", ".join(f"{r['src']} {r['bytes']} B" for r in renditions)
                + f", poster {poster.stat().st_size} B"
            )

    total = sum(p.stat().st_size for p in MEDIA.iterdir() if p.is_file())
    if total > TOTAL_BUDGET:
        raise SystemExit(f"app/static/media is {total} bytes > {TOTAL_BUDGET}")
    INDEX.parent.mkdir(parents=True, exist_ok=True)
    INDEX.write_text(json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {INDEX.relative_to(ROOT)}; media total {total} bytes")


if __name__ == "__main__":
    main()
