"""keras.ops (placeholder while writing)."""
from ember import matmul  # noqa: F401
