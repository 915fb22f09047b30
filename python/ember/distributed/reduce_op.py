"""ReduceOp with PyTorch's names; each maps to the MPI operation that computes it (AVG is a SUM
divided by the world size afterwards, as MPI has no average)."""
from __future__ import annotations

import enum


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    PREMUL_SUM = "premul_sum"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


def mpi_op(op, MPI, owner):
    """The MPI.Op that carries out ``op`` (AVG: the SUM the caller then divides)."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{owner}: op must be an ember.distributed.ReduceOp, got {op!r}")
    if op is ReduceOp.PREMUL_SUM:
        raise NotImplementedError(f"{owner}: ReduceOp.PREMUL_SUM is not supported by ember's "
                                  "MPI backend")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]
