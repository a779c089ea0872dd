"""Draw the app icons of the web app manifest into app/static/img/ (dev tool, Pillow only).

    .venv/bin/python scripts/make_icons.py

No fonts (the result must be the same on every machine): a form sheet with three lines
and a tick, in the site's colours (app.css: --primary #004b76, --focus #fd0).

* ``icon-192.png``, ``icon-512.png``: ``purpose: any``, a rounded square, transparent corners.
* ``icon-maskable-192.png``, ``icon-maskable-512.png``: ``purpose: maskable``, full-bleed
  background; everything that matters lies inside the safe zone (the central circle with
  a radius of 40 % of the size, W3C Manifest "icon masks").

The PNGs are palette images (16 colours), drawn at 4× and scaled down for smooth edges, so
they stay small: the service worker precaches them.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "app" / "static" / "img"
PRIMARY = (0, 75, 118, 255)
WHITE = (255, 255, 255, 255)
YELLOW = (255, 221, 0, 255)
LINE = (0, 75, 118, 255)
SUPERSAMPLE = 4


def _sheet(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """The form sheet, centred; ``scale`` is its height as a share of ``size``."""
    h = size * scale
    w = h * 0.78
    x0, y0 = (size - w) / 2, (size - h) / 2
    r = h * 0.06
    draw.rounded_rectangle((x0, y0, x0 + w, y0 + h), radius=r, fill=WHITE)
    # three text lines
    lw = h * 0.055
    for i, share in enumerate((0.72, 0.58, 0.44)):
        y = y0 + h * (0.2 + i * 0.16)
        draw.rounded_rectangle(
            (x0 + w * 0.14, y, x0 + w * (0.14 + share), y + lw), radius=lw / 2, fill=LINE
        )
    # a tick in a yellow disc, bottom right of the sheet
    cr = h * 0.2
    cx, cy = x0 + w * 0.7, y0 + h * 0.76
    draw.ellipse(
        (cx - cr, cy - cr, cx + cr, cy + cr),
        fill=YELLOW,
        outline=PRIMARY,
        width=max(1, round(h * 0.025)),
    )
    t = h * 0.05
    draw.line(
        [
            (cx - cr * 0.5, cy + cr * 0.02),
            (cx - cr * 0.12, cy + cr * 0.42),
            (cx + cr * 0.55, cy - cr * 0.38),
        ],
        fill=PRIMARY,
        width=round(t),
        joint="curve",
    )


def draw_icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=PRIMARY)
        _sheet(draw, big, 0.56)  # inside the 80 % safe circle
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.18, fill=PRIMARY)
        _sheet(draw, big, 0.7)
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    if maskable:  # no transparency at all: the platform's mask cuts the shape
        small = small.convert("RGB")
    return small.quantize(colors=16, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        for maskable in (False, True):
            name = f"icon-{'maskable-' if maskable else ''}{size}.png"
            path = OUT / name
            draw_icon(size, maskable=maskable).save(path, optimize=True)
            print(f"{path.relative_to(OUT.parent.parent.parent)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
