"""Full decoding and validation of product images, RGB conversion and square resizing.

Each file is identified from its header with Pillow, which reads no pixel data, and
then decoded once. JPEGs go through OpenCV at a reduced scale
(``IMREAD_REDUCED_COLOR_2/4/8``, libjpeg's DCT scaling) when the largest target size
allows it, so the 1800x2400 originals decode several times faster. Other formats go
through Pillow. Files that cannot be decoded raise ``ImageError`` with a reason code
that ends up in the exclusion table.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

RESIZE_MODES = ("pad", "squash")
# Background of the padding: product photos are shot on white.
PAD_VALUE = (255, 255, 255)
_REDUCED_FLAGS = {8: cv2.IMREAD_REDUCED_COLOR_8, 4: cv2.IMREAD_REDUCED_COLOR_4, 2: cv2.IMREAD_REDUCED_COLOR_2}
# JPEG markers: start of scan (SOS) and end of image (EOI). Entropy-coded data never
# contains FF D9, because the JPEG standard stuffs every FF data byte with 00, so a
# complete file has an EOI after its last SOS.
_SOS = b"\xff\xda"
_EOI = b"\xff\xd9"


class ImageError(Exception):
    """An image that cannot be used; ``reason`` is the exclusion code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class DecodedImage:
    """A decoded image with the format, mode and size from its file header."""

    rgb: np.ndarray
    """uint8 ``[H, W, 3]`` RGB, with the original sides divided by ``reduction``."""
    format: str
    """Pillow's format name of the file content, such as ``JPEG`` or ``PNG``."""
    mode: str
    """Pillow mode of the file before conversion: ``RGB``, ``L``, ``CMYK``, ``RGBA``, ``P`` ..."""
    width: int
    height: int
    reduction: int
    """DCT scaling factor used while decoding: 1, 2, 4 or 8."""


def reduction_factor(width: int, height: int, target: int, resize: str) -> int:
    """Return the largest JPEG scale-down (8, 4, 2 or 1) that still leaves ``target`` pixels.

    pad needs the longer side to reach ``target``; squash needs both sides to.
    """
    side = max(width, height) if resize == "pad" else min(width, height)
    for factor in (8, 4, 2):
        if side // factor >= target:
            return factor
    return 1


def decode_image(path: str | Path, target: int, resize: str = "pad") -> DecodedImage:
    """Decode the whole file at ``path`` to RGB, reduced as far as ``target`` pixels allow.

    Raises ImageError with reason ``missing_image``, ``empty_file``, ``not_an_image``,
    ``truncated`` or ``decode_failed``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError("missing_image", f"{path} not found") from None
    except OSError as error:
        raise ImageError("decode_failed", f"{path}: {error}") from None
    if not data:
        raise ImageError("empty_file", f"{path} has 0 bytes")

    try:
        with warnings.catch_warnings():
            # Pillow warns about huge images, but a large product photo is expected here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            header = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError("not_an_image", f"{path}: {len(data)} bytes in no image format Pillow knows") from None
    except (OSError, SyntaxError, ValueError) as error:
        # A known format whose header is cut short or invalid.
        reason = "truncated" if "runcated" in str(error) else "decode_failed"
        raise ImageError(reason, f"{path}: header unreadable: {error}") from None
    width, height = header.size
    if width < 1 or height < 1:
        raise ImageError("decode_failed", f"{path}: size {width}x{height}")

    if header.format == "JPEG":
        return _decode_jpeg(path, data, header, target, resize)
    return _decode_with_pillow(path, header, width, height)


def _decode_jpeg(path: Path, data: bytes, header: Image.Image, target: int, resize: str) -> DecodedImage:
    # libjpeg treats a premature end of data as a warning and fills the missing rows
    # with grey. OpenCV 5.1 then returns None, but other builds may return the partial
    # image, so truncation is checked on the bytes, whatever the build.
    if data.rfind(_EOI) < data.rfind(_SOS):
        raise ImageError("truncated", f"{path}: JPEG ends without an end-of-image marker after its last scan")
    width, height = header.size
    factor = reduction_factor(width, height, target, resize)
    flag = _REDUCED_FLAGS.get(factor, cv2.IMREAD_COLOR)
    # NOTE: a complete file with corrupt entropy-coded data still decodes, with
    # libjpeg warnings on stderr and garbled pixels. It is not detected here.
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
    if bgr is None or bgr.size == 0:
        raise ImageError("decode_failed", f"{path}: OpenCV could not decode this {width}x{height} {header.mode} JPEG")
    # IMREAD_COLOR converts grayscale and CMYK (Adobe inverted too) to 3-channel BGR.
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return DecodedImage(rgb=rgb, format="JPEG", mode=header.mode, width=width, height=height, reduction=factor)


def _decode_with_pillow(path: Path, image: Image.Image, width: int, height: int) -> DecodedImage:
    mode = image.mode
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        reason = "truncated" if "truncated" in str(error) else "decode_failed"
        raise ImageError(reason, f"{path}: {image.format} {mode}: {error}") from None
    rgb = np.asarray(to_rgb(image))
    return DecodedImage(rgb=rgb, format=image.format or "unknown", mode=mode, width=width, height=height, reduction=1)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB; transparent pixels become white, not black."""
    if image.mode == "RGB":
        return image
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, PAD_VALUE + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grayscale: scale to 8 bits before the RGB conversion, which would clip.
        values = np.asarray(image, dtype=np.float64)
        scale = 255.0 / max(float(values.max()), 1.0)
        return Image.fromarray((values * scale).round().astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def fit_square(rgb: np.ndarray, size: int, resize: str = "pad") -> np.ndarray:
    """Resize uint8 ``[H, W, 3]`` to ``[size, size, 3]``.

    pad scales the longer side to ``size`` and centres the image on white; squash
    stretches both sides to ``size``. Area interpolation when shrinking (no aliasing),
    bilinear when enlarging, such as the 60x80 "small" images at 224 px.
    """
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize mode {resize!r} is invalid; use one of {RESIZE_MODES}")
    height, width = rgb.shape[:2]
    if height == width == size:
        # Already the target: the 224x224 copies of the data set need no resize.
        return rgb
    if resize == "squash":
        interpolation = cv2.INTER_AREA if min(height, width) >= size else cv2.INTER_LINEAR
        return cv2.resize(rgb, (size, size), interpolation=interpolation)

    scale = size / max(height, width)
    new_w = max(1, min(size, round(width * scale)))
    new_h = max(1, min(size, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = rgb if (new_w, new_h) == (width, height) else cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    top = (size - new_h) // 2
    left = (size - new_w) // 2
    return cv2.copyMakeBorder(
        resized, top, size - new_h - top, left, size - new_w - left, cv2.BORDER_CONSTANT, value=PAD_VALUE
    )
