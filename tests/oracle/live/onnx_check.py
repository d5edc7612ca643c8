#!/usr/bin/env python3
"""onnx_check.py - the onnx package's own verdict on a file frost exported, for tests/core/test_onnx_export.c.

  onnx_check.py MODEL.onnx

Loads the file with python3-onnx, runs onnx.checker.check_model(full_check=True) (the schema of every
node at the file's opset, then shape inference, which fails on a shape that does not add up), and prints
one JSON line:

  {"opset": 14, "ir_version": 8, "producer_name": "frost", "doc_string": "...",
   "inputs": [{"name": "input", "elem_type": 1, "shape": ["batch", 3, 224, 224]}],
   "outputs": [{"name": "logits", ...}], "metadata": {"frost.arch": "resnet18", ...},
   "ops": ["Conv", "Relu", ...], "initializers": 62, "inferred_output": ["batch", 3]}

A dimension is its dim_param (a string) or its dim_value (a number); "ops" lists the op types in node
order; "inferred_output" is the output's shape as shape inference computes it from the input's (null
where it cannot tell). A file the checker rejects: the reason on stderr, exit 1.
"""
import json
import sys

import onnx
from onnx import shape_inference


def dims(value_info):
    shape = value_info.type.tensor_type.shape
    out = []
    for d in shape.dim:
        which = d.WhichOneof('value')
        out.append(d.dim_param if which == 'dim_param' else d.dim_value if which == 'dim_value' else None)
    return out


def describe(v):
    return {'name': v.name, 'elem_type': v.type.tensor_type.elem_type, 'shape': dims(v)}


def main():
    if len(sys.argv) != 2:
        print('usage: onnx_check.py MODEL.onnx', file=sys.stderr)
        return 2
    path = sys.argv[1]
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as e:   # the checker's own exception types differ between onnx versions
        print(f'onnx rejects {path}: {type(e).__name__}: {e}'.replace('\n', ' '), file=sys.stderr)
        return 1
    opsets = {o.domain: o.version for o in model.opset_import}
    out = {
        'opset': opsets.get('', opsets.get('ai.onnx')),
        'opset_domains': sorted(opsets),
        'ir_version': model.ir_version,
        'producer_name': model.producer_name,
        'doc_string': model.doc_string,
        'inputs': [describe(v) for v in model.graph.input],
        'outputs': [describe(v) for v in model.graph.output],
        'metadata': {p.key: p.value for p in model.metadata_props},
        'ops': [n.op_type for n in model.graph.node],
        'initializers': len(model.graph.initializer),
        'inferred_output': dims(inferred.graph.output[0]) if inferred.graph.output else None,
    }
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
