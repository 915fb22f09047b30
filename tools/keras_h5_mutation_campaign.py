"""Every byte of the HDF5 files ember writes flipped in turn (issue 11; not in CI): a small
compiled model's .weights.h5 (loaded with load_weights) and legacy .h5 (load_model). Each mutant
loads in a child process with an address-space cap and a 20 s alarm; a child that crashes is
recorded and a new one goes on from the next byte. Counted: refused (ValueError), same (the
original weights), DIFFERENT (loaded other weights silently), OTHER (another exception type),
HANG and CRASH. Takes ~10-25 min per file on a loaded 2-core machine.

    PYTHONPATH=python python tools/keras_h5_mutation_campaign.py [weights] [model]
"""
import json
import os
import subprocess
import sys
import tempfile

CHILD = r'''
import io, json, resource, signal, sys, warnings, os
warnings.simplefilter("ignore")
import numpy as np
from ember import keras as ek
with open("/proc/self/status") as f:
    vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30)))
class Hang(BaseException): pass
def on_alarm(*_): raise Hang()
signal.signal(signal.SIGALRM, on_alarm)
path, start, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
original = open(path, "rb").read()
def model():
    m = ek.Sequential([ek.Input((4,)), ek.layers.Dense(3, activation="tanh"), ek.layers.Dense(2)])
    m.compile(optimizer="adam", loss=ek.losses.MeanSquaredError())
    return m
def load(p):
    if kind == "weights":
        m = model()
        m.load_weights(p)
        return m
    return ek.models.load_model(p)
def arrays(m):
    return [w.detach().numpy().copy() for w in m.weights]
expected = arrays(load(path))
tmp = path + ".mut" + (".weights.h5" if kind == "weights" else ".h5")
for at in range(start, len(original)):
    mutant = bytearray(original)
    mutant[at] ^= 1 << (at % 8)
    open(tmp, "wb").write(mutant)
    print("AT", at, flush=True)
    signal.alarm(20)
    try:
        got = arrays(load(tmp))
        same = len(got) == len(expected) and all(np.array_equal(a, b)
                                                 for a, b in zip(got, expected))
        out = "same" if same else "DIFFERENT"
    except Hang:
        out = "HANG"
    except ValueError:
        out = "refused"
    except BaseException as e:
        out = "OTHER " + type(e).__module__ + "." + type(e).__name__ + ": " + str(e)[:100]
    finally:
        signal.alarm(0)
    print("R", at, out, flush=True)
print("DONE", flush=True)
'''

def run(path, kind):
    size = os.path.getsize(path)
    counts, problems, start = {}, [], 0
    env = dict(os.environ, OMP_NUM_THREADS="1")
    while start < size:
        proc = subprocess.run([sys.executable, "-c", CHILD, path, str(start), kind],
                              capture_output=True, text=True, env=env)
        last_at = None
        for line in proc.stdout.splitlines():
            if line.startswith("AT "):
                last_at = int(line.split()[1])
            elif line.startswith("R "):
                _, at, out = line.split(" ", 2)
                key = out.split(":")[0] if out.startswith("OTHER") else out
                counts[key] = counts.get(key, 0) + 1
                if out not in ("same", "refused"):
                    problems.append((int(at), out))
                last_at = None
        if "DONE" in proc.stdout:
            break
        if last_at is None:
            print("child failed before any load:", proc.stderr[-1500:])
            break
        counts["CRASH"] = counts.get("CRASH", 0) + 1
        problems.append((last_at, f"crash rc={proc.returncode}"))
        start = last_at + 1
    return size, counts, problems

def _saved_files(folder):
    """A small compiled model trained one epoch, saved as .weights.h5 and legacy .h5."""
    import numpy as np
    from ember import keras as ek
    model = ek.Sequential([ek.Input((4,)), ek.layers.Dense(3, activation="tanh"),
                           ek.layers.Dense(2)])
    model.compile(optimizer="adam", loss=ek.losses.MeanSquaredError())
    x = np.random.RandomState(0).rand(5, 4).astype("float32")
    model.fit(x, np.ones((5, 2), "float32"), epochs=1, verbose=0)
    files = {"weights": os.path.join(folder, "m.weights.h5"), "model": os.path.join(folder, "m.h5")}
    model.save_weights(files["weights"])
    model.save(files["model"])
    return files


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")
    files = _saved_files(tempfile.mkdtemp())
    for kind in sys.argv[1:] or ["weights", "model"]:
        size, counts, problems = run(files[kind], kind)
        print(json.dumps({"file": kind, "bytes": size, "counts": counts,
                          "problems": problems[:30]}))
