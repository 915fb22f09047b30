"""Every benchmarked model, one module per family: issue 7's table in its order, then the
time-series CNN (no target there), then issue 12's transformer block and DCGAN."""

from bench.models import cnn, dcgan, dense, mnist1d, rnn, timeseries, transformer

MODELS = {model.key: model for family in
          (dense, cnn, rnn, mnist1d, timeseries, transformer, dcgan)
          for model in family.MODELS}
