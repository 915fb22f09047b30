"""A process killed (SIGKILL) while ModelCheckpoint overwrites a good checkpoint never leaves a
corrupt file where the good one was: every save writes a temporary file and renames it."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from ember import keras as ek

_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from ember import keras as ek
    x = np.random.default_rng(0).random((256, 20), dtype=np.float32)
    y = x.sum(axis=1, keepdims=True)
    net = ek.Sequential([ek.Input((20,)), ek.layers.Dense(256, activation="relu"),
                         ek.layers.Dense(256, activation="relu"), ek.layers.Dense(1)])
    net.compile(optimizer="adam", loss="mse")
    checkpoint = ek.callbacks.ModelCheckpoint({path!r}, save_weights_only={weights_only},
                                              save_freq=1)
    net.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[checkpoint])  # the first save
    print("saved", flush=True)
    net.fit(x, y, batch_size=8, epochs=1000, verbose=0, callbacks=[checkpoint])
""")


def _model():
    return ek.Sequential([ek.Input((20,)), ek.layers.Dense(256, activation="relu"),
                          ek.layers.Dense(256, activation="relu"), ek.layers.Dense(1)])


@pytest.mark.parametrize("name,weights_only", [("ckpt.keras", False),
                                               ("ckpt.weights.h5", True), ("ckpt.h5", False)])
def test_a_kill_during_checkpointing_leaves_a_whole_file(tmp_path, name, weights_only):
    path = str(tmp_path / name)
    script = _SCRIPT.format(path=path, weights_only=weights_only)
    x = np.random.default_rng(1).random((4, 20), dtype=np.float32)
    for delay in (0.05, 0.13, 0.31):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "saved", proc.stderr.read()
            time.sleep(delay)  # checkpoints are being overwritten every batch by now
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            proc.kill()
            proc.stdout.close(), proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        if weights_only:
            net = _model()
            net.load_weights(path)
        else:
            net = ek.models.load_model(path)
        assert np.isfinite(net.predict(x, verbose=0)).all()
