"""Named tuples returned by the order-statistic functions, as torch.return_types: each has
.values and .indices and unpacks as (values, indices)."""
from collections import namedtuple

from .functions import return_max as max, return_min as min  # noqa: F401

sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])
kthvalue = namedtuple("kthvalue", ["values", "indices"])
median = namedtuple("median", ["values", "indices"])
nanmedian = namedtuple("nanmedian", ["values", "indices"])
mode = namedtuple("mode", ["values", "indices"])
cummax = namedtuple("cummax", ["values", "indices"])
cummin = namedtuple("cummin", ["values", "indices"])
