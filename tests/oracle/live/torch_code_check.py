#!/usr/bin/env python3
"""torch_code_check.py - runs the PyTorch code frost shows (core/teach/torch_code.c) and says what it built.

  torch_code_check.py OUT.json CODE.py:STAGE[:STEPS] ...

For each CODE.py (the code of one state, as `frost train --show-code` and the code pane show it) the
file is imported as a module (its main() does not run: it is under `if __name__ == "__main__"`), then:
  model = build_model(weights=None)      (nothing downloaded; WEIGHTS itself must still resolve)
  set_stage(model, STAGE)                (when the code has a plan of stages and STAGE > 0)
  optimizer = make_optimizer(model)      (before set_stage: groups are made once, as frost does)
  train_mode(model)
  scheduler = make_scheduler(optimizer, STEPS), stepped STEPS * EPOCHS times (no gradients: nothing moves)
Writes OUT.json, one entry per CODE.py: the model's print, the names of the parameters that require
grad, the optimizer's param groups (lr, weight_decay, momentum or betas[0], the names of their
parameters), the BatchNorm modules left in eval mode by train_mode, the transform's Resize, CenterCrop
and Normalize, and the last group's lr before each scheduler step. tests/core/test_torch_code.c compares
it with frost's own model and optimizer.
"""
import importlib.util
import json
import sys
import warnings

import torch
import torch.nn as nn
from torchvision import transforms

warnings.filterwarnings('ignore', category=UserWarning)   # SequentialLR's step(0) is deprecated


def load(path, k):
    spec = importlib.util.spec_from_file_location(f'frost_code_{k}', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def describe(mod, stage, steps):
    assert mod.WEIGHTS is None or hasattr(mod.WEIGHTS, 'url'), 'WEIGHTS is not a torchvision weights enum'
    model = mod.build_model(weights=None)
    optimizer = mod.make_optimizer(model)
    if hasattr(mod, 'set_stage') and stage > 0:
        mod.set_stage(model, stage)
    mod.train_mode(model)
    names = {id(p): n for n, p in model.named_parameters()}
    groups = []
    for g in optimizer.param_groups:
        groups.append({'lr': g['lr'], 'weight_decay': g['weight_decay'],
                       'momentum': g['momentum'] if 'momentum' in g else g['betas'][0],
                       'params': [names[id(p)] for p in g['params']]})
    tf = {}
    for t in mod.transform.transforms:
        if isinstance(t, transforms.Resize):
            tf['resize'] = list(t.size) if isinstance(t.size, (list, tuple)) else [t.size]
        elif isinstance(t, transforms.CenterCrop):
            tf['crop'] = list(t.size)
        elif isinstance(t, transforms.Normalize):
            tf['mean'], tf['std'] = list(t.mean), list(t.std)
    lrs = []
    if steps > 0:
        sched = mod.make_scheduler(optimizer, steps)
        for _ in range(steps * mod.EPOCHS):
            lrs.append(optimizer.param_groups[-1]['lr'])
            optimizer.step()
            if sched is not None:
                sched.step()
    return {
        'print': repr(model),
        'trainable': [n for n, p in model.named_parameters() if p.requires_grad],
        'groups': groups,
        'bn_eval': [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d) and not m.training],
        'transform': tf,
        'lrs': lrs,
    }


def main():
    out, items = sys.argv[1], sys.argv[2:]
    result = []
    for k, item in enumerate(items):
        path, stage, *rest = item.split(':')
        result.append(describe(load(path, k), int(stage), int(rest[0]) if rest else 0))
    with open(out, 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    main()
