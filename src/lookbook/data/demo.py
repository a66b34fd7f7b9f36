"""The embedded demo dataset: drawn product photos and metadata in the Kaggle layout.

``write_demo_dataset(out_dir, n_images, seed)`` writes ``styles.csv``, ``images/<id>.jpg``
and ``planted_defects.json``. The same arguments give the same bytes on every run with
the same Pillow and libjpeg. The rows include the defects of the real data set, so the
cleaning step has something to report. They are names with unquoted commas, a missing
image, a zero-byte file, a truncated JPEG, a file that is no image, and grayscale,
CMYK, RGBA and palette images. Then come Unisex rows, empty optional values, years
written as ``2012.0``, an image without a metadata row, a row without a gender, a
duplicated id and a short row.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lookbook.data import demo_shapes as shapes
from lookbook.data.styles import COLUMNS
from lookbook.io import atomic_open, write_json

log = logging.getLogger(__name__)

# Kaggle images are 1800x2400 or 60x80; 180x240 keeps the 3:4 aspect and stays small.
IMAGE_WIDTH, IMAGE_HEIGHT = 180, 240
JPEG_QUALITY = 90
FIRST_ID = 10000


@dataclass(frozen=True)
class Article:
    """An article type of the catalogue, with how to draw it for each gender."""

    article_type: str
    sub_category: str
    master_category: str
    draw: dict[str, shapes.DrawFunction]
    """Drawing function per gender ("Men", "Women"); an absent gender never gets this article."""
    scale: float
    """Height of the product box as a share of the image height."""
    aspect: float = 0.75
    """Width over height of the product box; wide products such as belts and shoes use more."""


def _both(function):
    return {"Men": function, "Women": function}


CATALOGUE: tuple[Article, ...] = (
    Article("Tshirts", "Topwear", "Apparel", {"Men": shapes.tshirt}, 0.7),
    Article("Shirts", "Topwear", "Apparel", {"Men": shapes.shirt}, 0.75),
    Article("Trousers", "Bottomwear", "Apparel", {"Men": shapes.trousers}, 0.85),
    Article("Jeans", "Bottomwear", "Apparel", {"Men": shapes.jeans, "Women": shapes.leggings}, 0.85),
    Article("Shorts", "Bottomwear", "Apparel", {"Men": shapes.shorts}, 0.6),
    Article("Tops", "Topwear", "Apparel", {"Women": shapes.top}, 0.7),
    Article("Dresses", "Dress", "Apparel", {"Women": shapes.dress}, 0.85),
    Article("Skirts", "Bottomwear", "Apparel", {"Women": shapes.skirt}, 0.65),
    Article("Leggings", "Bottomwear", "Apparel", {"Women": shapes.leggings}, 0.85),
    Article("Watches", "Watches", "Accessories", {"Men": shapes.watch_men, "Women": shapes.watch_women}, 0.55),
    Article("Belts", "Belts", "Accessories", {"Men": shapes.belt}, 0.5, aspect=2.0),
    Article("Wallets", "Wallets", "Accessories", _both(shapes.wallet), 0.45, aspect=1.4),
    Article("Caps", "Headwear", "Accessories", {"Men": shapes.cap}, 0.45, aspect=1.4),
    Article("Backpacks", "Bags", "Accessories", {"Men": shapes.backpack}, 0.6),
    Article("Handbags", "Bags", "Accessories", {"Women": shapes.handbag}, 0.55),
    Article("Clutches", "Bags", "Accessories", {"Women": shapes.clutch}, 0.45, aspect=1.8),
    Article("Sunglasses", "Eyewear", "Accessories", _both(shapes.sunglasses), 0.4, aspect=2.2),
    Article("Earrings", "Jewellery", "Accessories", {"Women": shapes.earrings}, 0.4, aspect=1.0),
    Article("Casual Shoes", "Shoes", "Footwear", {"Men": shapes.casual_shoe}, 0.5, aspect=1.5),
    Article("Sports Shoes", "Shoes", "Footwear", {"Men": shapes.sports_shoe, "Women": shapes.sports_shoe}, 0.5, aspect=1.5),
    Article("Formal Shoes", "Shoes", "Footwear", {"Men": shapes.formal_shoe}, 0.5, aspect=1.5),
    Article("Heels", "Shoes", "Footwear", {"Women": shapes.heels}, 0.5, aspect=1.4),
    Article("Flats", "Shoes", "Footwear", {"Women": shapes.flats}, 0.45, aspect=1.5),
    Article("Sandals", "Sandal", "Footwear", _both(shapes.sandals), 0.45, aspect=1.5),
    Article("Flip Flops", "Flip Flops", "Footwear", _both(shapes.flip_flops), 0.5),
    Article("Deodorant", "Fragrance", "Personal Care", {"Men": shapes.deodorant}, 0.6),
    Article("Perfume and Body Mist", "Fragrance", "Personal Care", _both(shapes.perfume), 0.55),
    Article("Lipstick", "Lips", "Personal Care", {"Women": shapes.lipstick}, 0.5),
    Article("Nail Polish", "Nails", "Personal Care", {"Women": shapes.nail_polish}, 0.45),
)

# Mostly Men and Women with a few Boys and Girls, as in the real data. Unisex is set above
# the real share (5 % of the real sample) so that the exclusion shows in small demos.
GENDERS = {"Men": 0.47, "Women": 0.37, "Boys": 0.04, "Girls": 0.04, "Unisex": 0.08}
DRAWN_GENDER = {"Men": "Men", "Boys": "Men", "Women": "Women", "Girls": "Women"}
MASTER_SHARES = {"Apparel": 0.45, "Accessories": 0.27, "Footwear": 0.2, "Personal Care": 0.08}
# Each gender draws colours from its own palette, a second cue next to the cut.
PALETTES = {
    "Men": ["Black", "Navy Blue", "Blue", "Grey", "Charcoal", "Brown", "Olive", "Khaki", "White", "Green", "Teal", "Maroon"],
    "Women": ["Pink", "Red", "Purple", "White", "Beige", "Cream", "Maroon", "Yellow", "Orange", "Black", "Gold", "Teal"],
}
BRANDS = {
    "Men": ["Reid & Taylor", "Jack & Jones", "Peter England", "Puma", "Nike", "Adidas", "Titan", "Fastrack", "Lino Perros", "Wrangler", "Levis", "Wildcraft"],
    "Women": ["Marks & Spencer", "Vero Moda", "Biba", "Puma", "Nike", "Baggit", "Fastrack", "Lakme", "Catwalk", "Only", "Mango", "Titan"],
}
DESCRIPTORS = ["Solid", "Printed", "Striped", "Classic", "Slim Fit", "Casual", "100% Cotton", "Sports_Edition", "Style #7", "Urban", "Essential", "Check"]
SEASONS = ["Summer", "Fall", "Winter", "Spring"]
USAGES = {"Apparel": ["Casual", "Formal", "Sports", "Ethnic"], "Accessories": ["Casual", "Formal"], "Footwear": ["Casual", "Sports", "Formal"], "Personal Care": ["Casual"]}
YEARS = list(range(2010, 2018))


def _choose(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _choose_weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    probabilities = np.array([weights[name] for name in names])
    return names[int(rng.choice(len(names), p=probabilities / probabilities.sum()))]


def make_rows(n_images: int, rng: np.random.Generator) -> list[dict]:
    """Draw ``n_images`` metadata rows (all ten columns as strings) with unique ids."""
    ids = FIRST_ID + rng.choice(50000, size=n_images, replace=False)
    rows = []
    for product_id in ids:
        gender = _choose_weighted(rng, GENDERS)
        drawn = DRAWN_GENDER.get(gender) or _choose(rng, ["Men", "Women"])
        master = _choose_weighted(rng, MASTER_SHARES)
        articles = [article for article in CATALOGUE if article.master_category == master and drawn in article.draw]
        article = _choose(rng, articles)
        colour = _choose(rng, PALETTES[drawn])
        brand = _choose(rng, BRANDS[drawn])
        name = f"{brand} {gender} {_choose(rng, DESCRIPTORS)} {colour} {article.article_type}"
        rows.append(
            {
                "id": str(int(product_id)),
                "gender": gender,
                "masterCategory": master,
                "subCategory": article.sub_category,
                "articleType": article.article_type,
                "baseColour": colour,
                "season": _choose(rng, SEASONS),
                "year": str(_choose(rng, YEARS)),
                "usage": _choose(rng, USAGES[master]),
                "productDisplayName": name,
                "_drawn_gender": drawn,
            }
        )
    return rows


def draw_product(row: dict, rng: np.random.Generator) -> Image.Image:
    """Draw the product of ``row`` in its baseColour on white, at a jittered position and scale."""
    article = next(a for a in CATALOGUE if a.article_type == row["articleType"] and row["_drawn_gender"] in a.draw)
    colour = shapes.COLOURS.get(row["baseColour"] or "", shapes.COLOURS["Grey"])
    image = Image.new("RGB", (IMAGE_WIDTH, IMAGE_HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)

    box_height = IMAGE_HEIGHT * article.scale * rng.uniform(0.9, 1.1)
    box_width = min(IMAGE_WIDTH * 0.92, box_height * article.aspect)
    left = (IMAGE_WIDTH - box_width) / 2 + rng.uniform(-8, 8)
    top = (IMAGE_HEIGHT - box_height) / 2 + rng.uniform(-10, 10)
    article.draw[row["_drawn_gender"]](draw, (left, top, box_width, box_height), colour)
    if row["gender"] != "Unisex":
        shapes.draw_gender_tag(draw, IMAGE_WIDTH, IMAGE_HEIGHT, row["_drawn_gender"])
    return image


def _jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _plant_defects(rows: list[dict], rng: np.random.Generator) -> dict[str, list[int]]:
    """Pick rows for each planted defect; returns defect name -> ids. Edits ``rows`` in place."""
    labelled = [index for index, row in enumerate(rows) if row["gender"] != "Unisex"]
    picks = iter(rng.permutation(labelled).tolist())
    defects: dict[str, list[int]] = {}

    def take(name: str, count: int) -> list[dict]:
        chosen = [rows[next(picks)] for _ in range(count)]
        defects[name] = [int(row["id"]) for row in chosen]
        return chosen

    for row in take("unquoted_comma", 3):
        row["productDisplayName"] = row["productDisplayName"].replace(" ", ", ", 1) + ", Pack of 2"
    for row in take("quote_in_name", 1):
        row["productDisplayName"] = f'{row["productDisplayName"]} 32" Waist'
    take("missing_image", 1)
    take("empty_file", 1)
    take("truncated", 1)
    take("not_an_image", 1)
    take("grayscale", 2)
    take("cmyk", 2)
    take("rgba", 1)
    take("palette", 1)
    for row in take("missing_gender", 1):
        row["gender"] = ""
    for row in take("short_row", 1):
        row["_short"] = True
    for index, row in enumerate(take("empty_optional", 10)):
        column = ["baseColour", "season", "year", "usage", "productDisplayName"][index % 5]
        row[column] = ""
    for row in take("year_with_decimal", 15):
        row["year"] = f"{row['year']}.0"
    defects["duplicate_id"] = [int(rows[next(picks)]["id"])]
    return defects


def write_demo_dataset(out_dir: str | Path, n_images: int = 1500, seed: int = 7, overwrite: bool = False) -> dict:
    """Write the demo dataset to ``out_dir``; returns the planted defects by name.

    Raises FileExistsError when ``out_dir`` already contains styles.csv or images, unless
    ``overwrite`` is set, in which case ``images/`` is replaced.
    """
    if n_images < 60:
        raise ValueError(f"n_images={n_images} is too small; use at least 60 so that every class and defect has rows")
    out_dir = Path(out_dir)
    images_dir = out_dir / "images"
    if (out_dir / "styles.csv").exists() or (images_dir.exists() and any(images_dir.iterdir())):
        if not overwrite:
            raise FileExistsError(f"{out_dir} already contains a dataset; pass --overwrite or choose an empty directory")
        shutil.rmtree(images_dir, ignore_errors=True)
    images_dir.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    rows = make_rows(n_images, rng)
    defects = _plant_defects(rows, rng)
    _write_images(rows, defects, images_dir, rng)
    _write_styles(rows, defects, out_dir / "styles.csv")
    write_json(out_dir / "planted_defects.json", {"seed": seed, "n_images": n_images, "defects": defects})
    log.info("wrote %d demo products to %s with %d planted defect kinds", n_images, out_dir, len(defects))
    return defects


def _write_images(rows: list[dict], defects: dict[str, list[int]], images_dir: Path, rng: np.random.Generator) -> None:
    special = {product_id: name for name, ids in defects.items() for product_id in ids}
    for row in rows:
        product_id = int(row["id"])
        image = draw_product(row, rng)
        kind = special.get(product_id)
        path = images_dir / f"{product_id}.jpg"
        if kind == "missing_image":
            continue
        if kind == "empty_file":
            data = b""
        elif kind == "truncated":
            full = _jpeg_bytes(image)
            data = full[: int(len(full) * 0.6)]
        elif kind == "not_an_image":
            data = b"<html><body><h1>404 Not Found</h1></body></html>\n"
        elif kind == "grayscale":
            data = _jpeg_bytes(image.convert("L"))
        elif kind == "cmyk":
            data = _jpeg_bytes(image.convert("CMYK"))
        elif kind == "rgba":
            # Transparent background, as in cut-out product shots saved as PNG.
            rgba = image.convert("RGBA")
            pixels = np.asarray(rgba).copy()
            white = (pixels[..., :3] >= 250).all(axis=-1)
            pixels[white, 3] = 0
            data = _png_bytes(Image.fromarray(pixels, mode="RGBA"))
        elif kind == "palette":
            data = _png_bytes(image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
        else:
            data = _jpeg_bytes(image)
        path.write_bytes(data)

    # An image whose id has no row in styles.csv.
    orphan_id = max(int(row["id"]) for row in rows) + 1
    _jpeg_path = images_dir / f"{orphan_id}.jpg"
    _jpeg_path.write_bytes(_jpeg_bytes(draw_product({**rows[0]}, rng)))
    defects["no_metadata_row"] = [orphan_id]


def _write_styles(rows: list[dict], defects: dict[str, list[int]], path: Path) -> None:
    unquoted = set(defects["unquoted_comma"])
    duplicate = set(defects["duplicate_id"])
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            values = [row[name] for name in COLUMNS]
            if row.get("_short"):
                # A row cut short, as from a broken export: 8 of the 10 fields.
                handle.write(",".join(values[:8]) + "\n")
            elif int(row["id"]) in unquoted:
                # Written by hand so the commas in the name stay unquoted, as in the real file.
                handle.write(",".join(values) + "\n")
            else:
                writer.writerow(values)
            if int(row["id"]) in duplicate:
                writer.writerow(values)
