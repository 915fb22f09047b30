"""PyTorch's distributed exception types: DistBackendError is what a collective raises when the
backend fails, here when the other ranks do not answer within the process group's timeout."""


class DistError(RuntimeError):
    """Base of ember.distributed's errors."""


class DistBackendError(DistError):
    """A collective failed in the backend (MPI): a peer died, hung, or the group is broken."""


DistError.__module__ = DistBackendError.__module__ = "ember.distributed"  # as users import them
