"""The Keras functional graph: symbolic tensors (keras_tensor.py), one Node per layer call
(node.py), layer calls on symbolic tensors (symbolic_call.py) and graph ordering (graph.py).

Leaf modules: nothing here imports ember.keras.layers or ember.keras.models.
"""
