"""ember.onnx.export: writes an ember model (either face) as an ONNX file, with
torch.onnx.export's arguments.

The model runs twice in eval mode (its modules' modes are restored after) while
export_trace.py records its ops: once on ``args`` and once on a twin whose dynamic axes are
longer and whose values differ. Comparing the two tells which sizes are dynamic and catches
values that reach the graph from outside ember's ops. export_ops/ maps each op to ONNX nodes;
a model using an op without a mapping gets an error naming the op and the module.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from . import export_trace
from .export_graph import ExportError, Graph
from .export_cleanup import named_outputs, optimize_graph
from .export_write import write

DEFAULT_OPSET = 20          # torch.onnx's default in PyTorch 2.13
MIN_OPSET = 13              # per-axis Softmax, Squeeze/Unsqueeze axes as inputs


def _require_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError('ember.onnx.export needs onnx: pip install "ember[onnx]"') from error
    return onnx


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=True, external_data=True,
           dynamic_shapes=None, custom_translation_table=None, report=False, optimize=True,
           verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=None, operator_export_type=None, do_constant_folding=True,
           custom_opsets=None, export_modules_as_functions=False, autograd_inlining=True):
    """Exports ``model`` run on ``args`` to the ONNX file ``f`` (a path, written atomically,
    or a binary file object), as torch.onnx.export does; returns None.

    ``dynamic_axes`` ({name: {axis: "dim_name"}} or {name: [axis, ...]}) makes those axes of
    the named inputs and outputs symbolic, so the file runs at other sizes. With a path and
    ``external_data=True`` (PyTorch's default) the weights go to ``f + ".data"`` beside it.
    ``dynamo`` and ``autograd_inlining`` choose among PyTorch's exporters; ember has one.
    """
    onnx = _require_onnx()
    if not isinstance(model, Module):
        raise TypeError(f"ember.onnx.export: model must be an ember.nn.Module (or a Keras model), "
                        f"got {type(model).__name__}")
    _reject_unsupported(f, dynamic_shapes, custom_translation_table, report, verify, profile,
                        dump_exported_program, export_params, training, operator_export_type,
                        do_constant_folding, custom_opsets, export_modules_as_functions)
    opset = _check_opset(onnx, opset_version)
    args, kwargs = _split_args(args, kwargs)
    input_names = _input_names(model, args, kwargs, input_names)
    axes = _dynamic_axes(dynamic_axes)
    inputs = [t for t in list(args) + list(kwargs.values()) if isinstance(t, Tensor)]
    _check_axes(axes, input_names, inputs)
    trace, twin = _trace_twice(model, args, kwargs, input_names, axes)
    output_names = _output_names(output_names, len(trace.outputs))
    unknown = sorted(set(axes) - set(input_names) - set(output_names))
    if unknown:
        raise ValueError(f"ember.onnx.export: dynamic_axes names {unknown} are neither in "
                         f"input_names {input_names} nor in output_names {output_names}")
    proto = _build(onnx, opset, model, trace, twin, input_names, output_names, axes,
                   keep_initializers_as_inputs, optimize)
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    write(onnx, proto, f, external_data)


def _reject_unsupported(f, dynamic_shapes, custom_translation_table, report, verify, profile,
                        dump_exported_program, export_params, training, operator_export_type,
                        do_constant_folding, custom_opsets, export_modules_as_functions):
    if f is None:
        raise NotImplementedError("ember.onnx.export: f=None (returning an ONNXProgram) is not "
                                  "supported by ember; pass a file path or a binary file object")
    checks = (("dynamic_shapes", dynamic_shapes is not None, "give dynamic_axes instead"),
              ("custom_translation_table", bool(custom_translation_table), ""),
              ("report", bool(report), ""), ("verify", bool(verify), ""),
              ("profile", bool(profile), ""),
              ("dump_exported_program", bool(dump_exported_program), ""),
              ("export_params=False", not export_params, "the weights are always exported"),
              ("training", _enum_name(training, "EVAL") != "EVAL",
               "ember exports the model in eval mode"),
              ("operator_export_type", _enum_name(operator_export_type, "ONNX") != "ONNX",
               "ember writes standard ONNX operators only"),
              ("do_constant_folding=False", not do_constant_folding,
               "ember always folds ops on constants"),
              ("custom_opsets", bool(custom_opsets), ""),
              ("export_modules_as_functions", bool(export_modules_as_functions), ""))
    for name, used, hint in checks:
        if used:
            raise NotImplementedError(f"ember.onnx.export: {name} is not supported by ember"
                                      + (f"; {hint}" if hint else ""))


def _enum_name(value, default):
    if value is None:
        return default
    return str(getattr(value, "name", value)).rsplit(".", 1)[-1].upper()


def _check_opset(onnx, opset_version):
    newest = onnx.defs.onnx_opset_version()
    if opset_version is None:
        return min(DEFAULT_OPSET, newest)
    if isinstance(opset_version, bool) or not isinstance(opset_version, (int, np.integer)) \
            or not MIN_OPSET <= opset_version <= newest:
        raise ValueError(f"ember.onnx.export: opset_version must be an int from {MIN_OPSET} to "
                         f"{newest} (the installed onnx's newest); got {opset_version!r}")
    return int(opset_version)


def _split_args(args, kwargs):
    """args as a tuple and kwargs as a dict; a trailing dict in args is kwargs (PyTorch's
    legacy form)."""
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(f"ember.onnx.export: args must be a tensor or a tuple, got "
                        f"{type(args).__name__}")
    if kwargs is None and args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], args[-1]
    kwargs = dict(kwargs or {})
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, (tuple, list, dict)) and any(
                isinstance(v, Tensor) for v in export_trace.flatten_outputs(value)):
            raise NotImplementedError("ember.onnx.export: tensors nested in a tuple, list or "
                                      "dict argument are not supported; pass them one by one")
    return args, kwargs


def _input_names(model, args, kwargs, given):
    """The given names, then the forward's parameter names (as PyTorch's exporter uses), then
    input_<i>."""
    params = []
    try:
        signature = inspect.signature(model.forward)
        params = [p.name for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        pass
    defaults = [params[i] if i < len(params) else f"input_{i}"
                for i, a in enumerate(args) if isinstance(a, Tensor)]
    defaults += [k for k, v in kwargs.items() if isinstance(v, Tensor)]
    given = list(given or [])
    if len(given) > len(defaults):
        raise ValueError(f"ember.onnx.export: {len(given)} input_names for {len(defaults)} "
                         "tensor inputs")
    names = given + defaults[len(given):]
    if len(set(names)) != len(names):
        raise ValueError(f"ember.onnx.export: input names must be unique, got {names}")
    return names


def _output_names(given, count):
    given = list(given or [])
    if len(given) > count:
        raise ValueError(f"ember.onnx.export: {len(given)} output_names for {count} outputs")
    defaults = ["output"] if count == 1 else [f"output_{i}" for i in range(count)]
    names = given + defaults[len(given):]
    if len(set(names)) != len(names):
        raise ValueError(f"ember.onnx.export: output names must be unique, got {names}")
    return names


def _dynamic_axes(dynamic_axes):
    """{name: {axis: dim name}} from either of PyTorch's forms."""
    result = {}
    for key, value in (dynamic_axes or {}).items():
        if isinstance(value, dict):
            result[key] = {int(a): str(n) for a, n in value.items()}
        elif isinstance(value, (list, tuple)):
            result[key] = {int(a): f"{key}_dynamic_axes_{i + 1}" for i, a in enumerate(value)}
        else:
            raise TypeError(f"ember.onnx.export: dynamic_axes[{key!r}] must be a dict or a "
                            f"list of axes, got {type(value).__name__}")
    return result


def _check_axes(axes, input_names, inputs):
    for name, tensor in zip(input_names, inputs):
        for axis in axes.get(name, {}):
            if not 0 <= axis < tensor.ndim:
                raise ValueError(f"ember.onnx.export: dynamic axis {axis} of input {name!r} is "
                                 f"out of range for its shape {tuple(tensor.shape)}")
            if tensor.shape[axis] == 0:
                raise ValueError(f"ember.onnx.export: dynamic axis {axis} of input {name!r} has "
                                 "size 0; give an example with at least one entry")


def _trace_twice(model, args, kwargs, input_names, axes):
    modules = [(m, name) for name, m in model.named_modules()]
    modes = [(m, m.training) for m, _ in modules]
    model.eval()
    try:
        trace = export_trace.run(model, *_fresh(args, kwargs, input_names, axes, None), modules)
        extend = {}
        for name in input_names:  # each dynamic dim name grows by its own amount
            for dim_name in axes.get(name, {}).values():
                extend.setdefault(dim_name, len(extend) + 1)
        twin = export_trace.run(model, *_fresh(args, kwargs, input_names, axes, extend),
                                modules)
    finally:
        for m, mode in modes:
            m.training = mode
    if len(trace.ops) != len(twin.ops) or len(trace.outputs) != len(twin.outputs) or any(
            a.kind is not b.kind for a, b in zip(trace.ops, twin.ops)):
        raise ExportError("ember.onnx.export: the model ran different ops on an input of "
                          "other values or dynamic sizes (control flow that depends on the "
                          "input), so one ONNX graph cannot represent it")
    return trace, twin


def _fresh(args, kwargs, input_names, axes, extend):
    """Copies of the tensor arguments (so aliased arguments stay distinct inputs); for the twin
    run (extend given) with other values and dynamic axes longer by extend[dim name]."""
    names = iter(input_names)

    def copy(value):
        if not isinstance(value, Tensor):
            return value
        a = np.array(value._array, copy=True)
        name = next(names)
        if extend is not None:
            a = _other_values(a)
            for axis, dim_name in sorted(axes.get(name, {}).items()):
                extra = np.repeat(np.take(a, [0], axis=axis), extend[dim_name], axis=axis)
                a = np.concatenate([a, extra], axis=axis)
        return Tensor(a)

    return tuple(copy(a) for a in args), {k: copy(v) for k, v in kwargs.items()}


def _other_values(a):
    """Other values for the twin run: the same values moved one place on (so a result that
    depends on where they are changes, an argmax say), and floats scaled by 0.75 * U(0.9, 1.1) and
    shifted by 0.125 (so a constant input changes too). The map keeps positive values positive
    and [-1, 1] inside [-1, 1], so functions with a domain still get valid input."""
    b = np.roll(a.reshape(-1), 1).reshape(a.shape)
    if a.dtype.kind == "f":
        jitter = np.random.default_rng(0).uniform(0.9, 1.1, a.shape)
        b = (b * jitter * 0.75 + 0.125).astype(a.dtype)
    return b


def _build(onnx, opset, model, trace, twin, input_names, output_names, axes,
           keep_initializers_as_inputs, optimize):
    from .export_ops import EMITTERS
    helper = onnx.helper
    param_names = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        param_names.setdefault(id(t._array), name)
    g = Graph(onnx, opset, trace, twin, param_names)
    g._taken.update(input_names + output_names)
    for name, vid in zip(input_names, trace.inputs):
        g.names[vid] = name
    for op, twin_op in zip(trace.ops, twin.ops):
        g.op, g.twin_op = op, twin_op
        emit = EMITTERS.get(op.kind)
        if emit is None:
            raise g.error(f"the op {op.name} has no ONNX mapping in ember")
        emit(g)
        if any(v is not None and v not in g.names for v in op.outputs):
            raise g.error("internal error: an output was left without an ONNX value",
                          ExportError)
    g.op = g.twin_op = None
    sources = [_output_source(g, o, w, name)
               for o, w, name in zip(trace.outputs, twin.outputs, output_names)]
    named_outputs(g, sources, output_names, set(input_names))
    if optimize:
        optimize_graph(g, output_names)
    graph_inputs = [_value_info(helper, name, trace.info[vid], None, axes.get(name, {}), {})
                    for name, vid in zip(input_names, trace.inputs)]
    input_dims = _input_dims(trace, twin, input_names, axes)
    graph_outputs = []
    for name, out, twin_out in zip(output_names, trace.outputs, twin.outputs):
        info = trace.info[out.vid] if isinstance(out, export_trace.Ref) else \
            (tuple(out.shape), out.dtype)
        twin_shape = twin.info[twin_out.vid][0] if isinstance(twin_out, export_trace.Ref) \
            else tuple(twin_out.shape)
        graph_outputs.append(_value_info(helper, name, info, twin_shape, axes.get(name, {}),
                                         input_dims))
    graph = helper.make_graph(g.nodes, "main_graph", graph_inputs, graph_outputs,
                              initializer=g.initializers)
    if keep_initializers_as_inputs:
        graph.input.extend(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                           for t in g.initializers)
    opset_id = helper.make_opsetid("", opset)
    from .. import __version__
    proto = helper.make_model(graph, opset_imports=[opset_id], producer_name="ember",
                              producer_version=__version__)
    proto.ir_version = helper.find_min_ir_version_for([opset_id])
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"ember.onnx.export: internal error, the graph ember built fails "
                          f"onnx.checker: {error}") from None
    return proto


def _output_source(g, out, twin_out, name):
    if isinstance(out, export_trace.Ref):
        return g.names[out.vid]
    try:
        return g.value(out, twin_out)
    except ExportError:
        raise ExportError(f"ember.onnx.export: the output {name!r} is not computed by ember's "
                          "ops from the inputs (it went through NumPy or Python: an argmax, a "
                          "comparison...), so ONNX would get it as a constant") from None


def _input_dims(trace, twin, input_names, axes):
    """(size in the trace, size in the twin) -> dim name, for the inputs' dynamic axes."""
    dims = {}
    for name, vid in zip(input_names, trace.inputs):
        for axis, dim_name in axes.get(name, {}).items():
            dims.setdefault((trace.info[vid][0][axis], twin.info[vid][0][axis]), dim_name)
    return dims


def _value_info(helper, name, info, twin_shape, named, input_dims):
    """A graph input or output: its dims named where dynamic_axes names them or where the twin
    run shows them dynamic (named after the input dim of the same sizes, if any)."""
    shape, dtype = info
    dims = []
    for axis, size in enumerate(shape):
        if axis in named:
            dims.append(named[axis])
        elif twin_shape is not None and twin_shape[axis] != size:
            dims.append(input_dims.get((size, twin_shape[axis]),
                                       f"{name}_dynamic_axes_{axis + 1}"))
        else:
            dims.append(int(size))
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                         dims)
