#!/usr/bin/env python3
"""load_each.py - torch.load on every file of a folder, for tests/core/test_pth.c's bit flips.

  load_each.py DIR OUT.jsonl

For each DIR/NNNN.pth in name order, one JSON line: {"file": "NNNN.pth", "ok": true, "tensors":
{name: {"dtype": "F32", "shape": [2, 3], "hex": "..."}}} with each tensor's values in contiguous
order as little-endian bytes, or {"file": ..., "ok": false, "error": "..."} when torch.load (with
weights_only=True: tensors and plain containers, as frost's reader allows) refuses it or what it
returns is not a dict of tensors.
"""
import json
import os
import sys
import warnings

import torch

DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.int64: 'I64', torch.int32: 'I32',
          torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL', torch.bfloat16: 'BF16'}


def describe(path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            obj = torch.load(path, map_location='cpu', weights_only=True)
    except BaseException as e:   # any refusal, whatever its type: a corrupt file may raise anything
        return {'ok': False, 'error': f'{type(e).__name__}: {e}'[:200]}
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        return {'ok': False, 'error': 'not a dict of tensors'}
    out = {}
    for name, t in obj.items():
        if t.dtype not in DTYPES:
            return {'ok': False, 'error': f'dtype {t.dtype}'}
        try:   # numpy writes the values in C order whatever the strides (bfloat16 has no numpy type)
            t = t.detach()
            data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        except BaseException as e:
            return {'ok': False, 'error': f'values unreadable: {e}'[:200]}
        out[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'hex': data.hex()}
    return {'ok': True, 'tensors': out}


def main():
    folder, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    with open(out, 'w') as f:
        for name in sorted(n for n in os.listdir(folder) if n.endswith('.pth')):
            d = describe(os.path.join(folder, name))
            d['file'] = name
            f.write(json.dumps(d) + '\n')


if __name__ == '__main__':
    main()
