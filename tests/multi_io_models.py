"""The same small multi-input / multi-output model in ember's Keras face and in real Keras 3,
with equal weights, for the tests/test_keras_multi_io*.py comparisons.

Inputs: one array (N, 4), a list [x (N, 4), z (N, 2)] or a dict {"x": ..., "z": ...}. A shared
trunk Dense(8, relu) feeds two heads: "cls" Dense(3, softmax) and "reg" Dense(1). ``kind``
picks what call() returns: "list", "tuple", "dict" ({"cls", "reg"}), "rdict" ({"reg", "cls"}:
insertion order differs from sorted order) or "single" (cls only). ``output_names`` set on the
ember model stands for a Functional model's (the attribute contract); the Keras twin is then a
real Functional model with those output layer names.
"""
import numpy as np

N = 12


def data(seed=0, n=N):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    z = rng.normal(size=(n, 2)).astype(np.float32)
    labels = rng.integers(0, 3, n)
    target = rng.normal(size=(n, 1)).astype(np.float32)
    return x, z, labels, target


def _merge(inputs):
    if isinstance(inputs, dict):
        return inputs["x"], inputs["z"]
    if isinstance(inputs, (list, tuple)):
        return inputs[0], inputs[1]
    return inputs, None


def _outputs(kind, cls, reg):
    if kind == "list":
        return [cls, reg]
    if kind == "tuple":
        return (cls, reg)
    if kind == "dict":
        return {"cls": cls, "reg": reg}
    if kind == "rdict":
        return {"reg": reg, "cls": cls}
    return cls


def _weights(seed=1):
    rng = np.random.default_rng(seed)
    return {"trunk": [rng.normal(size=(4, 8)).astype(np.float32) * 0.5,
                      rng.normal(size=(8,)).astype(np.float32) * 0.1],
            "side": [rng.normal(size=(2, 8)).astype(np.float32) * 0.5],
            "cls": [rng.normal(size=(8, 3)).astype(np.float32) * 0.5,
                    rng.normal(size=(3,)).astype(np.float32) * 0.1],
            "reg": [rng.normal(size=(8, 1)).astype(np.float32) * 0.5,
                    rng.normal(size=(1,)).astype(np.float32) * 0.1]}


def _two_heads(keras, kind):
    """The subclassed model, written once for ember's Keras face and for real Keras."""
    layers = keras.layers

    class TwoHeads(keras.Model):
        def __init__(self):
            super().__init__()
            self.trunk = layers.Dense(8, activation="relu", name="trunk")
            self.side = layers.Dense(8, use_bias=False, name="side")
            self.cls = layers.Dense(3, activation="softmax", name="cls")
            self.reg = layers.Dense(1, name="reg")

        def call(self, inputs):
            x, z = _merge(inputs)
            h = self.trunk(x)
            if z is not None:
                h = h + self.side(z)
            return _outputs(kind, self.cls(h), self.reg(h))

    return TwoHeads()


def ember_model(kind="list", output_names=None):
    from ember import keras

    model = _two_heads(keras, kind)
    if output_names is not None:
        model.output_names = list(output_names)
    return model


def set_weights(model, seed=1):
    """The fixed weights, on an ember model or a real Keras model (built by a first call)."""
    names = {layer.name for layer in model.layers}
    for name, values in _weights(seed).items():
        layer = getattr(model, name, None) or (model.get_layer(name) if name in names else None)
        if layer is not None and layer.built:
            layer.set_weights(values)


def build(model, inputs):
    """Calls the model once so every layer has weights, then sets the fixed weights."""
    model(inputs)
    set_weights(model)
    return model


def keras_model(keras, kind="list", functional=False, several_inputs=None):
    """The real-Keras twin: a subclassed model, or (functional=True) a Functional one whose
    output layers are named "cls" and "reg"."""
    layers = keras.layers
    if functional:
        x = keras.Input((4,), name="x")
        trunk = layers.Dense(8, activation="relu", name="trunk")
        h = trunk(x)
        inputs = x
        if several_inputs is not None:
            z = keras.Input((2,), name="z")
            h = layers.Add()([h, layers.Dense(8, use_bias=False, name="side")(z)])
            inputs = [x, z] if several_inputs == "list" else {"x": x, "z": z}
        cls = layers.Dense(3, activation="softmax", name="cls")(h)
        reg = layers.Dense(1, name="reg")(h)
        return keras.Model(inputs, _outputs(kind, cls, reg))

    return _two_heads(keras, kind)
