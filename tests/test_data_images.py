"""Image decoding and validation: every kind of bad file, mode conversion and resizing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lookbook.data.images import ImageError, decode_image, fit_square, reduction_factor

RED = (200, 30, 30)


def product_image(width=180, height=240, mode="RGB"):
    """A red block on white, the layout of a product photo."""
    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = RED
    return Image.fromarray(pixels).convert(mode)


def encode(image, fmt="JPEG", **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_decode_rgb_jpeg_colours(tmp_path):
    path = write(tmp_path, "1.jpg", encode(product_image(), quality=95))
    decoded = decode_image(path, target=240)
    assert decoded.rgb.shape == (240, 180, 3)
    assert decoded.mode == "RGB"
    assert np.abs(decoded.rgb[120, 90].astype(int) - RED).max() <= 6
    assert decoded.rgb[2, 2].min() >= 250


def test_decode_reduces_large_jpeg(tmp_path):
    path = write(tmp_path, "1.jpg", encode(product_image(900, 1200)))
    decoded = decode_image(path, target=224, resize="pad")
    assert decoded.reduction == 4
    assert decoded.rgb.shape == (300, 225, 3)
    assert (decoded.width, decoded.height) == (900, 1200)


@pytest.mark.parametrize(
    ("size", "target", "resize", "expected"),
    [
        ((1800, 2400), 224, "pad", 8),
        ((1800, 2400), 224, "squash", 8),
        ((1800, 2400), 64, "pad", 8),
        ((60, 80), 224, "pad", 1),
        ((224, 224), 224, "pad", 1),
        ((600, 800), 224, "pad", 2),
        ((500, 800), 224, "squash", 2),
        ((400, 800), 224, "squash", 1),
    ],
)
def test_reduction_factor_keeps_target(size, target, resize, expected):
    assert reduction_factor(*size, target, resize) == expected


def test_decode_grayscale_jpeg_to_rgb(tmp_path):
    path = write(tmp_path, "1.jpg", encode(product_image(mode="L")))
    decoded = decode_image(path, target=240)
    assert decoded.mode == "L"
    assert decoded.rgb.shape[2] == 3
    assert np.ptp(decoded.rgb[120, 90].astype(int)) <= 2


def test_decode_cmyk_jpeg_keeps_colour(tmp_path):
    path = write(tmp_path, "1.jpg", encode(product_image(mode="CMYK"), quality=95))
    decoded = decode_image(path, target=240)
    assert decoded.mode == "CMYK"
    assert np.abs(decoded.rgb[120, 90].astype(int) - RED).max() <= 12


def test_decode_rgba_png_composites_on_white(tmp_path):
    pixels = np.zeros((80, 60, 4), dtype=np.uint8)
    pixels[20:60, 15:45] = (*RED, 255)
    path = write(tmp_path, "1.jpg", encode(Image.fromarray(pixels, mode="RGBA"), "PNG"))
    decoded = decode_image(path, target=64)
    assert decoded.format == "PNG"
    assert decoded.mode == "RGBA"
    assert decoded.rgb[0, 0].tolist() == [255, 255, 255]
    assert decoded.rgb[40, 30].tolist() == list(RED)


def test_decode_palette_png_to_rgb(tmp_path):
    image = product_image(60, 80).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    path = write(tmp_path, "1.jpg", encode(image, "PNG"))
    decoded = decode_image(path, target=64)
    assert decoded.mode == "P"
    assert decoded.rgb[40, 30].tolist() == list(RED)


def test_decode_truncated_jpeg_rejected(tmp_path):
    # Large enough that OpenCV would return a partly grey image instead of failing.
    data = encode(product_image(900, 1200), quality=95)
    path = write(tmp_path, "1.jpg", data[: len(data) * 2 // 3])
    with pytest.raises(ImageError) as error:
        decode_image(path, target=64)
    assert error.value.reason == "truncated"


def test_decode_jpeg_with_trailing_bytes_accepted(tmp_path):
    # Some encoders pad after the end-of-image marker; the image is still complete.
    path = write(tmp_path, "1.jpg", encode(product_image()) + b"\x00" * 16)
    assert decode_image(path, target=240).rgb.shape == (240, 180, 3)


def test_decode_truncated_png_rejected(tmp_path):
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 150, 3), dtype=np.uint8)), "PNG")
    path = write(tmp_path, "1.jpg", data[: len(data) // 2])
    with pytest.raises(ImageError) as error:
        decode_image(path, target=64)
    assert error.value.reason == "truncated"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty_file"),
        (b"<html><body>404 Not Found</body></html>", "not_an_image"),
        (b"\xff\xd8\xff\xe0garbage", "truncated"),
    ],
)
def test_decode_unreadable_file_reason(tmp_path, data, reason):
    path = write(tmp_path, "1.jpg", data)
    with pytest.raises(ImageError) as error:
        decode_image(path, target=64)
    assert error.value.reason == reason


def test_decode_missing_file_reason(tmp_path):
    with pytest.raises(ImageError) as error:
        decode_image(tmp_path / "404.jpg", target=64)
    assert error.value.reason == "missing_image"


def test_fit_square_pad_centres_on_white():
    rgb = np.zeros((80, 60, 3), dtype=np.uint8)
    square = fit_square(rgb, 64, "pad")
    assert square.shape == (64, 64, 3)
    assert square[:, :8].min() == 255
    assert square[:, -8:].min() == 255
    assert square[:, 10:54].max() == 0


def test_fit_square_squash_fills_square():
    rgb = np.zeros((80, 60, 3), dtype=np.uint8)
    square = fit_square(rgb, 32, "squash")
    assert square.shape == (32, 32, 3)
    assert square.max() == 0


def test_fit_square_enlarges_small_images():
    rgb = np.zeros((80, 60, 3), dtype=np.uint8)
    assert fit_square(rgb, 224, "pad").shape == (224, 224, 3)


def test_fit_square_rejects_unknown_mode():
    with pytest.raises(ValueError, match="pad"):
        fit_square(np.zeros((4, 4, 3), dtype=np.uint8), 8, "crop")
