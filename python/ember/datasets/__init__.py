"""Small datasets shipped inside the ember package (no network needed)."""

from .digits import load_digits

__all__ = ["load_digits"]
