"""Subclassed models in Keras' files: a registered subclass (or one given in custom_objects)
saved by real Keras 3 loads into ember with the same predictions, and the reverse; an unknown
class is a clear ValueError."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras, to_numpy


def _two_dense_class(keras):
    """The same subclass written against either library, registered as tests>TwoDense."""

    @keras.saving.register_keras_serializable(package="tests")
    class TwoDense(keras.Model):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = keras.layers.Dense(units, activation="relu")
            self.out = keras.layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return TwoDense


@pytest.mark.parametrize("writer", ["keras", "ember"])
def test_registered_subclasses_go_both_ways(writer, tmp_path):
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    _two_dense_class(loading)
    model = _two_dense_class(saving)(units=5)
    x = np.random.RandomState(0).rand(3, 4).astype(np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, np.ones((3, 2), np.float32), verbose=0)
        model.save(tmp_path / "m.keras")
        expected = to_numpy(model.predict(x, verbose=0))
        loaded = loading.models.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(to_numpy(loaded.predict(x, verbose=0)), expected,
                                   rtol=1e-5, atol=1e-5)
    assert loaded.units == 5 and int(loaded.optimizer.iterations) == 1


def test_an_unregistered_subclass_needs_custom_objects(tmp_path):
    class Plain(ek.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = ek.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Plain()
    model.build((None, 3))
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="unknown model class 'Plain'"):
        ek.models.load_model(tmp_path / "m.keras")
    loaded = ek.models.load_model(tmp_path / "m.keras", custom_objects={"Plain": Plain})
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
