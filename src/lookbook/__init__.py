"""lookbook: a reproducible build of a fashion-recognition study."""

__version__ = "0.1.0"
