"""Two ranks as two hosts: each in its own network namespace (its own hostname too), joined only
by a virtual ethernet pair, with MPI restricted to TCP on that link -- so the gradients really
cross a network. mpiexec runs in the first namespace and starts the second host's daemon
through a stand-in for ssh. Needs root, iproute2 and unshare; skipped otherwise."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from distributed_launch import PYTHON_DIR, WORKER, require_mpi
from distributed_worker import STEPS, train_reference

SUBNET = "10.231.77.0/24"


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def two_hosts():
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("unshare"):
        pytest.skip("network namespaces need root, iproute2 and unshare")
    tag = f"e{os.getpid() % 100000}"
    ns = (f"{tag}a", f"{tag}b")
    try:
        _ip("netns", "add", ns[0])
        _ip("netns", "add", ns[1])
        _ip("link", "add", f"{tag}va", "type", "veth", "peer", "name", f"{tag}vb")
        for side, address in zip("ab", ("10.231.77.1/24", "10.231.77.2/24")):
            _ip("link", "set", f"{tag}v{side}", "netns", f"{tag}{side}")
            _ip("-n", f"{tag}{side}", "addr", "add", address, "dev", f"{tag}v{side}")
            _ip("-n", f"{tag}{side}", "link", "set", f"{tag}v{side}", "up")
            _ip("-n", f"{tag}{side}", "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, OSError) as exc:
        for name in ns:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        pytest.skip(f"cannot create network namespaces here: {exc}")
    yield tag
    for name in ns:  # deleting a namespace deletes its end of the veth pair, hence both
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _tx_bytes(tag):
    out = subprocess.run(["ip", "netns", "exec", f"{tag}a", "cat",
                          f"/sys/class/net/{tag}va/statistics/tx_bytes"],
                         capture_output=True, text=True, check=True).stdout
    return int(out)


def test_ddp_across_two_network_namespaces(tmp_path, two_hosts):
    mpiexec = require_mpi()
    tag = two_hosts
    fake_ssh = tmp_path / "fake_ssh"  # "fake_ssh [options] HOST command": HOST's namespace
    fake_ssh.write_text(
        "#!/bin/sh\nwhile [ $# -gt 0 ]; do case \"$1\" in -*) shift;; *) break;; esac; done\n"
        f"host=$1; shift\nexec ip netns exec {tag}b unshare --uts sh -c \"hostname $host; $*\"\n")
    fake_ssh.chmod(0o755)
    hostfile = tmp_path / "hosts"
    hostfile.write_text("hosta slots=1\nhostb slots=1\n")
    mpi = [mpiexec, "--hostfile", str(hostfile), "-n", "2",
           "--mca", "plm_ssh_agent", str(fake_ssh), "--mca", "pml", "ob1",
           "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", SUBNET,
           "--mca", "oob_tcp_if_include", SUBNET, "-x", "PYTHONPATH", "-x", "OMP_NUM_THREADS",
           sys.executable, WORKER, "network", str(tmp_path)]
    script = "hostname hosta; exec " + " ".join(f"'{a}'" for a in mpi)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, OMP_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    before = _tx_bytes(tag)
    result = subprocess.run(["ip", "netns", "exec", f"{tag}a", "unshare", "--uts", "sh", "-c",
                             script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _tx_bytes(tag) - before > 2 ** 18 * 8  # the 2 MB all_reduce went over the veth
    reference = train_reference(2)
    for r in range(2):
        d = np.load(tmp_path / f"ddp-rank{r}.npz")
        for i, ref in enumerate(reference[STEPS - 1]):
            np.testing.assert_allclose(d[f"step{STEPS - 1}_p{i}"], ref, rtol=0, atol=1e-12)
        assert float(np.load(tmp_path / f"network-rank{r}.npz")["total"]) == 2.0 * 2 ** 18
