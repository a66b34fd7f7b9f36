"""Product drawings for the demo dataset: one function per article type.

Each function draws into ``box`` (left, top, width, height in pixels) with shape
coordinates given as fractions of the box, so the same product can be drawn at any
position and scale. Men's and women's versions differ in cut (boxy versus fitted,
flat versus heeled), and ``draw_gender_tag`` adds a brand tag whose shape and colour
depend on the gender, so gender stays learnable for products both genders share.
"""

from __future__ import annotations

from typing import Callable

from PIL import ImageDraw

Box = tuple[float, float, float, float]
Colour = tuple[int, int, int]

COLOURS: dict[str, Colour] = {
    "Black": (30, 30, 32),
    "White": (246, 246, 246),
    "Blue": (40, 90, 200),
    "Navy Blue": (25, 35, 95),
    "Grey": (128, 128, 132),
    "Red": (205, 30, 45),
    "Green": (40, 140, 65),
    "Brown": (115, 72, 40),
    "Pink": (240, 130, 175),
    "Purple": (120, 50, 145),
    "Yellow": (240, 205, 40),
    "Beige": (222, 202, 160),
    "Maroon": (122, 22, 45),
    "Olive": (112, 120, 52),
    "Orange": (242, 130, 30),
    "Silver": (190, 192, 198),
    "Gold": (212, 175, 55),
    "Khaki": (190, 172, 112),
    "Charcoal": (60, 62, 68),
    "Teal": (0, 128, 128),
    "Cream": (248, 238, 208),
}
TAG_COLOURS = {"Men": (20, 40, 120), "Women": (215, 20, 120)}


def outline_of(colour: Colour) -> Colour:
    """Darker edge colour, so white products stay visible on the white background."""
    return tuple(max(0, int(channel * 0.55)) for channel in colour)  # type: ignore[return-value]


def _points(box: Box, coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    left, top, width, height = box
    return [(left + x * width, top + y * height) for x, y in coords]


def _rect(box: Box, x0: float, y0: float, x1: float, y1: float) -> list[float]:
    left, top, width, height = box
    return [left + x0 * width, top + y0 * height, left + x1 * width, top + y1 * height]


def _polygon(draw: ImageDraw.ImageDraw, box: Box, coords, colour: Colour) -> None:
    draw.polygon(_points(box, coords), fill=colour, outline=outline_of(colour), width=2)


def _ellipse(draw, box, x0, y0, x1, y1, colour, width=2, fill=True) -> None:
    draw.ellipse(_rect(box, x0, y0, x1, y1), fill=colour if fill else None, outline=outline_of(colour), width=width)


def _rounded(draw, box, x0, y0, x1, y1, colour, radius=6) -> None:
    draw.rounded_rectangle(_rect(box, x0, y0, x1, y1), radius=radius, fill=colour, outline=outline_of(colour), width=2)


# --- apparel -------------------------------------------------------------------------


def tshirt(draw, box, colour):
    _polygon(draw, box, [(0.35, 0.05), (0.65, 0.05), (0.95, 0.18), (0.85, 0.38), (0.76, 0.32), (0.76, 0.98), (0.24, 0.98), (0.24, 0.32), (0.15, 0.38), (0.05, 0.18)], colour)
    _ellipse(draw, box, 0.40, 0.0, 0.60, 0.11, (255, 255, 255), fill=True)


def shirt(draw, box, colour):
    _polygon(draw, box, [(0.35, 0.04), (0.65, 0.04), (0.9, 0.15), (1.0, 0.86), (0.88, 0.88), (0.78, 0.36), (0.78, 0.98), (0.22, 0.98), (0.22, 0.36), (0.12, 0.88), (0.0, 0.86), (0.1, 0.15)], colour)
    edge = outline_of(colour)
    draw.polygon(_points(box, [(0.36, 0.04), (0.5, 0.16), (0.42, 0.2)]), fill=edge)
    draw.polygon(_points(box, [(0.64, 0.04), (0.5, 0.16), (0.58, 0.2)]), fill=edge)
    for step in range(6):
        y = 0.25 + step * 0.12
        draw.ellipse(_rect(box, 0.485, y, 0.515, y + 0.025), fill=edge)


def trousers(draw, box, colour):
    _polygon(draw, box, [(0.22, 0.02), (0.78, 0.02), (0.84, 0.98), (0.57, 0.98), (0.5, 0.3), (0.43, 0.98), (0.16, 0.98)], colour)
    draw.line(_points(box, [(0.22, 0.07), (0.78, 0.07)]), fill=outline_of(colour), width=3)


def jeans(draw, box, colour):
    trousers(draw, box, colour)
    stitch = (235, 170, 60)
    draw.line(_points(box, [(0.3, 0.1), (0.36, 0.2), (0.48, 0.2)]), fill=stitch, width=2)
    draw.line(_points(box, [(0.7, 0.1), (0.64, 0.2), (0.52, 0.2)]), fill=stitch, width=2)


def shorts(draw, box, colour):
    _polygon(draw, box, [(0.15, 0.25), (0.85, 0.25), (0.93, 0.75), (0.56, 0.78), (0.5, 0.45), (0.44, 0.78), (0.07, 0.75)], colour)


def top(draw, box, colour):
    _polygon(draw, box, [(0.3, 0.05), (0.4, 0.05), (0.5, 0.18), (0.6, 0.05), (0.7, 0.05), (0.72, 0.3), (0.64, 0.55), (0.74, 0.95), (0.26, 0.95), (0.36, 0.55), (0.28, 0.3)], colour)


def dress(draw, box, colour):
    _polygon(draw, box, [(0.38, 0.02), (0.45, 0.02), (0.5, 0.1), (0.55, 0.02), (0.62, 0.02), (0.64, 0.25), (0.57, 0.4), (0.92, 0.98), (0.08, 0.98), (0.43, 0.4), (0.36, 0.25)], colour)
    draw.line(_points(box, [(0.43, 0.4), (0.57, 0.4)]), fill=outline_of(colour), width=3)


def skirt(draw, box, colour):
    _polygon(draw, box, [(0.32, 0.15), (0.68, 0.15), (0.92, 0.85), (0.08, 0.85)], colour)
    draw.rectangle(_rect(box, 0.32, 0.15, 0.68, 0.2), fill=outline_of(colour))


def leggings(draw, box, colour):
    _polygon(draw, box, [(0.32, 0.02), (0.68, 0.02), (0.64, 0.98), (0.54, 0.98), (0.5, 0.3), (0.46, 0.98), (0.36, 0.98)], colour)


# --- accessories ---------------------------------------------------------------------


def watch_men(draw, box, colour):
    strap = (40, 30, 25) if colour != (30, 30, 32) else (90, 90, 95)
    draw.rectangle(_rect(box, 0.38, 0.0, 0.62, 1.0), fill=strap)
    _rounded(draw, box, 0.2, 0.3, 0.8, 0.7, colour, radius=8)
    _ellipse(draw, box, 0.3, 0.36, 0.7, 0.64, (250, 250, 250))
    draw.line(_points(box, [(0.5, 0.5), (0.5, 0.4)]), fill=(0, 0, 0), width=2)
    draw.line(_points(box, [(0.5, 0.5), (0.62, 0.5)]), fill=(0, 0, 0), width=2)


def watch_women(draw, box, colour):
    draw.rectangle(_rect(box, 0.45, 0.05, 0.55, 0.95), fill=colour, outline=outline_of(colour))
    _ellipse(draw, box, 0.35, 0.4, 0.65, 0.6, colour)
    _ellipse(draw, box, 0.4, 0.44, 0.6, 0.56, (250, 250, 250))


def belt(draw, box, colour):
    _rounded(draw, box, 0.0, 0.42, 1.0, 0.58, colour, radius=4)
    draw.rectangle(_rect(box, 0.08, 0.36, 0.24, 0.64), outline=(170, 170, 175), width=4)
    for step in range(4):
        x = 0.5 + step * 0.1
        draw.ellipse(_rect(box, x, 0.48, x + 0.025, 0.52), fill=outline_of(colour))


def wallet(draw, box, colour):
    _rounded(draw, box, 0.1, 0.3, 0.9, 0.72, colour, radius=8)
    draw.line(_points(box, [(0.5, 0.3), (0.5, 0.72)]), fill=outline_of(colour), width=3)


def cap(draw, box, colour):
    draw.chord(_rect(box, 0.15, 0.25, 0.85, 0.85), 180, 360, fill=colour, outline=outline_of(colour), width=2)
    _polygon(draw, box, [(0.5, 0.55), (1.0, 0.55), (0.95, 0.64), (0.5, 0.62)], colour)
    _ellipse(draw, box, 0.47, 0.22, 0.53, 0.28, outline_of(colour))


def backpack(draw, box, colour):
    draw.arc(_rect(box, 0.35, 0.0, 0.65, 0.2), 180, 360, fill=outline_of(colour), width=4)
    _rounded(draw, box, 0.15, 0.08, 0.85, 0.98, colour, radius=18)
    _rounded(draw, box, 0.25, 0.55, 0.75, 0.9, outline_of(colour), radius=8)


def handbag(draw, box, colour):
    draw.arc(_rect(box, 0.25, 0.05, 0.75, 0.6), 180, 360, fill=outline_of(colour), width=5)
    _polygon(draw, box, [(0.18, 0.35), (0.82, 0.35), (0.95, 0.9), (0.05, 0.9)], colour)


def clutch(draw, box, colour):
    _rounded(draw, box, 0.05, 0.38, 0.95, 0.68, colour, radius=6)
    _polygon(draw, box, [(0.05, 0.38), (0.95, 0.38), (0.5, 0.56)], outline_of(colour))


def sunglasses(draw, box, colour):
    lens = (20, 20, 24)
    draw.line(_points(box, [(0.0, 0.42), (0.12, 0.46)]), fill=colour, width=4)
    draw.line(_points(box, [(1.0, 0.42), (0.88, 0.46)]), fill=colour, width=4)
    _ellipse(draw, box, 0.1, 0.38, 0.46, 0.62, lens)
    _ellipse(draw, box, 0.54, 0.38, 0.9, 0.62, lens)
    draw.arc(_rect(box, 0.44, 0.4, 0.56, 0.5), 180, 360, fill=colour, width=4)
    draw.rectangle(_rect(box, 0.1, 0.37, 0.9, 0.4), fill=colour)


def earrings(draw, box, colour):
    for x in (0.3, 0.7):
        draw.line(_points(box, [(x, 0.2), (x, 0.45)]), fill=(190, 160, 60), width=2)
        _ellipse(draw, box, x - 0.1, 0.45, x + 0.1, 0.7, colour)


# --- footwear and personal care --------------------------------------------------------


def casual_shoe(draw, box, colour):
    _polygon(draw, box, [(0.05, 0.62), (0.05, 0.4), (0.35, 0.36), (0.6, 0.48), (0.95, 0.58), (0.97, 0.72), (0.05, 0.72)], colour)
    draw.rectangle(_rect(box, 0.03, 0.72, 0.98, 0.8), fill=(240, 240, 240), outline=(150, 150, 150))


def sports_shoe(draw, box, colour):
    casual_shoe(draw, box, colour)
    draw.line(_points(box, [(0.3, 0.62), (0.5, 0.46), (0.7, 0.62)]), fill=(250, 250, 250), width=4)


def formal_shoe(draw, box, colour):
    _polygon(draw, box, [(0.05, 0.66), (0.08, 0.44), (0.3, 0.42), (0.55, 0.52), (0.9, 0.6), (0.99, 0.7), (0.05, 0.72)], colour)
    draw.rectangle(_rect(box, 0.04, 0.72, 0.2, 0.8), fill=(40, 30, 25))


def heels(draw, box, colour):
    _polygon(draw, box, [(0.05, 0.3), (0.2, 0.28), (0.45, 0.55), (0.95, 0.72), (0.95, 0.78), (0.45, 0.7), (0.15, 0.5)], colour)
    draw.polygon(_points(box, [(0.05, 0.3), (0.14, 0.32), (0.1, 0.8), (0.07, 0.8)]), fill=outline_of(colour))


def flats(draw, box, colour):
    _polygon(draw, box, [(0.05, 0.6), (0.1, 0.5), (0.3, 0.56), (0.65, 0.58), (0.95, 0.64), (0.95, 0.72), (0.05, 0.72)], colour)
    _ellipse(draw, box, 0.68, 0.56, 0.78, 0.63, outline_of(colour))


def sandals(draw, box, colour):
    draw.rectangle(_rect(box, 0.05, 0.66, 0.95, 0.74), fill=(120, 85, 50))
    for x in (0.25, 0.5, 0.75):
        draw.arc(_rect(box, x - 0.12, 0.45, x + 0.12, 0.86), 180, 360, fill=colour, width=6)


def flip_flops(draw, box, colour):
    for x0 in (0.08, 0.52):
        _ellipse(draw, box, x0, 0.08, x0 + 0.38, 0.95, colour)
        mid = x0 + 0.19
        draw.line(_points(box, [(mid, 0.25), (mid - 0.14, 0.5)]), fill=outline_of(colour), width=4)
        draw.line(_points(box, [(mid, 0.25), (mid + 0.14, 0.5)]), fill=outline_of(colour), width=4)


def deodorant(draw, box, colour):
    _rounded(draw, box, 0.32, 0.2, 0.68, 0.98, colour, radius=10)
    _rounded(draw, box, 0.36, 0.06, 0.64, 0.22, (60, 60, 65), radius=4)


def perfume(draw, box, colour):
    _rounded(draw, box, 0.2, 0.4, 0.8, 0.95, colour, radius=10)
    draw.rectangle(_rect(box, 0.44, 0.3, 0.56, 0.4), fill=(200, 200, 205))
    _rounded(draw, box, 0.36, 0.15, 0.64, 0.3, (212, 175, 55), radius=4)


def lipstick(draw, box, colour):
    _rounded(draw, box, 0.38, 0.5, 0.62, 0.95, (40, 40, 44), radius=4)
    draw.rectangle(_rect(box, 0.4, 0.4, 0.6, 0.5), fill=(212, 175, 55))
    _polygon(draw, box, [(0.42, 0.4), (0.58, 0.4), (0.58, 0.2), (0.42, 0.28)], colour)


def nail_polish(draw, box, colour):
    _rounded(draw, box, 0.3, 0.55, 0.7, 0.95, colour, radius=10)
    draw.rectangle(_rect(box, 0.43, 0.12, 0.57, 0.55), fill=(30, 30, 32))


def draw_gender_tag(draw: ImageDraw.ImageDraw, width: int, height: int, gender: str) -> None:
    """Brand tag in the lower-right corner: a navy square for men, a magenta disc for women."""
    side = round(0.15 * width)
    left, top = width - side - 6, height - side - 6
    colour = TAG_COLOURS[gender]
    if gender == "Men":
        draw.rectangle([left, top, left + side, top + side], fill=colour)
    else:
        draw.ellipse([left, top, left + side, top + side], fill=colour)


DrawFunction = Callable[[ImageDraw.ImageDraw, Box, Colour], None]
