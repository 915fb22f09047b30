"""ember.onnx: ONNX export and import (issue 13). `import ember.onnx` works without the onnx
package; the functions that need it say how to install it (pip install "ember[onnx]")."""
from .export import export
from .load import load  # noqa: F401  (needs the onnx package only when called)
