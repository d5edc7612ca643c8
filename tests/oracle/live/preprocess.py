#!/usr/bin/env python3
"""preprocess.py CKPT OUT.f32 IMAGE... - the images as a model input, the way torchvision prepares them
for the checkpoint: PIL's decoding, then Resize([S, S]) (or Resize(S) + CenterCrop(S)), ToTensor and
Normalize with the checkpoint's own size, mean and std. Writes N x 3 x S x S float32 (native order),
for running an exported model in another runtime on exactly what PyTorch would feed it."""
import json
import sys

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

from safetensors_io import read_safetensors


def main():
    ckpt, out, images = sys.argv[1], sys.argv[2], sys.argv[3:]
    _, meta = read_safetensors(ckpt)
    size = int(meta['frost.input_size'])
    steps = [T.Resize([size, size])] if meta['frost.resize'] == 'square' else [T.Resize(size), T.CenterCrop(size)]
    tf = T.Compose(steps + [T.ToTensor(), T.Normalize(json.loads(meta['frost.mean']), json.loads(meta['frost.std']))])
    x = torch.stack([tf(Image.open(p).convert('RGB')) for p in images])
    x.numpy().astype(np.float32).tofile(out)


if __name__ == '__main__':
    main()
