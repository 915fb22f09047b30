"""Every benchmarked model, one module per family: issue 7's table in its order, then the
time-series CNN (no target there)."""

from bench.models import cnn, dense, mnist1d, rnn, timeseries

MODELS = {model.key: model for family in (dense, cnn, rnn, mnist1d, timeseries)
          for model in family.MODELS}
