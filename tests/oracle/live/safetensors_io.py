"""safetensors_io.py - reading a safetensors file with numpy alone, for the live oracles (torch 1.13
has no reader for the format): an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian data."""
import json
import struct

import numpy as np

DTYPES = {'F32': np.float32, 'I64': np.int64}


def read_safetensors(path):
    """The file's tensors as numpy arrays of their own dtype (copies, writable), and its metadata."""
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    tensors = {}
    for name, v in header.items():
        a, b = v['data_offsets']
        tensors[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=DTYPES[v['dtype']]).reshape(v['shape']).copy()
    return tensors, meta
