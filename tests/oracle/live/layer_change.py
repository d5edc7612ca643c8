#!/usr/bin/env python3
"""layer_change.py - what a run did to each module, computed by PyTorch from two checkpoints.

  layer_change.py START.safetensors END.safetensors OUT.json

START is a frost checkpoint a run was resumed from, END the one it saved; its architecture, classes
and trainable parameters are START's metadata. For every module of torchvision's model (named_modules
order, "" the root) OUT.json holds, as README's "Layer measurements" defines them:
  change  sqrt(sum ||W - W0||^2 / sum ||W0||^2) over the trainable parameters at and below it (null
          when none trains)
  drift   for a BatchNorm2d, the larger of sqrt(mean((mu - mu0)^2 / (var0 + eps))) and
          sqrt(mean(((var - var0) / (var0 + eps))^2)); above, the largest below it (null when none)
for tests/cli/test_train_layers.c to compare with frost train --json's last "layers" event.
"""
import json
import math
import sys

import numpy as np
import torch.nn as nn
import torchvision

from safetensors_io import read_safetensors

EPS = 1e-5


def main():
    start, meta = read_safetensors(sys.argv[1])
    end, _ = read_safetensors(sys.argv[2])
    start = {k: v.astype(np.float64) for k, v in start.items()}   # the sums in double
    end = {k: v.astype(np.float64) for k, v in end.items()}
    arch, classes = meta['frost.arch'], int(meta['frost.classes'])
    model = getattr(torchvision.models, arch)(weights=None)
    if arch.startswith('vgg'):
        model.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096),
                                         nn.ReLU(), nn.Dropout(), nn.Linear(4096, classes))
    else:
        model.fc = nn.Linear(model.fc.in_features, classes)
    trainable = set(json.loads(meta['frost.trainable']))
    out = {}
    for path, mod in model.named_modules():
        change_sq = base_sq = 0.0
        any_trainable = False
        for name, _ in mod.named_parameters(prefix=path):
            if name in trainable:
                any_trainable = True
                change_sq += float(np.sum((end[name] - start[name]) ** 2))
                base_sq += float(np.sum(start[name] ** 2))
        drift = None
        for sub, m in mod.named_modules(prefix=path):
            if isinstance(m, nn.BatchNorm2d):
                p = sub + '.' if sub else ''
                var0 = start[p + 'running_var'] + EPS
                d_mean = math.sqrt(float(np.mean((end[p + 'running_mean'] - start[p + 'running_mean']) ** 2 / var0)))
                d_var = math.sqrt(float(np.mean(((end[p + 'running_var'] - start[p + 'running_var']) / var0) ** 2)))
                d = max(d_mean, d_var)
                drift = d if drift is None else max(drift, d)
        out[path] = {'change': math.sqrt(change_sq / base_sq) if any_trainable and base_sq > 0 else None,
                     'drift': drift}
    with open(sys.argv[3], 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main()
