#!/usr/bin/env python3
"""gradcam.py CKPT IMAGE:LAYER:CLASS... - Grad-CAM as PyTorch users write it, for tests/cli/test_gradcam.c.

The model is torchvision's, rebuilt from the frost checkpoint as train.py does (its state_dict, its new
head), in eval mode; each image is prepared as preprocess.py does (PIL, Resize, ToTensor, Normalize with
the checkpoint's settings). For each IMAGE:LAYER:CLASS (LAYER a module path, "" for the default: ResNet's
layer4, VGG's last Conv2d of features; CLASS an index, -1 for the top class) a forward hook keeps the
module's output A and a full backward hook its gradient dy/dA, y being the class's logit; the map is
ReLU(sum_k mean_hw(dy/dA_k) A_k), not normalised. Prints one JSON list: per job {"layer", "class", "h",
"w", "map"} (the map row-major), and "logits".

Every ReLU is made out-of-place first (the same numbers): torchvision's in-place ReLU after the hooked
module would overwrite the output the hook kept, and a backward hook refuses an output changed in place.
Every parameter requires a gradient, as in a plain pretrained model, so that the backward pass reaches
any layer whatever the checkpoint froze.
"""
import json
import sys

import torch
import torch.nn as nn
import torchvision.transforms as T
from PIL import Image

from train import build, read_safetensors_torch


def build_uninitialised(meta, state):
    """train.py's build without torchvision's random initialisation (VGG's takes seconds): every value is
    the checkpoint's, load_state_dict(strict=True) sees to that."""
    names = ('kaiming_normal_', 'kaiming_uniform_', 'normal_', 'constant_', 'uniform_')
    saved = {n: getattr(nn.init, n) for n in names}
    for n in names:
        setattr(nn.init, n, lambda t, *args, **kwargs: t)
    try:
        return build(meta, state)
    finally:
        for n, f in saved.items():
            setattr(nn.init, n, f)


def default_layer(model, arch):
    if arch.startswith('resnet'):
        return 'layer4'
    return [f'features.{k}' for k, m in model.features.named_children() if isinstance(m, nn.Conv2d)][-1]


def gradcam(model, x, layer, cls):
    module = dict(model.named_modules())[layer]
    kept = {}
    hooks = [module.register_forward_hook(lambda m, i, o: kept.__setitem__('A', o)),
             module.register_full_backward_hook(lambda m, gi, go: kept.__setitem__('G', go[0]))]
    try:
        model.zero_grad(set_to_none=True)
        logits = model(x)
        c = int(logits[0].argmax()) if cls < 0 else cls
        logits[0, c].backward()
    finally:
        for h in hooks:
            h.remove()
    A, G = kept['A'].detach(), kept['G'].detach()
    alpha = G.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((alpha * A).sum(dim=1))[0]
    return c, cam, logits[0].detach()


def main():
    ckpt, jobs = sys.argv[1], sys.argv[2:]
    torch.set_num_threads(1)
    state, meta = read_safetensors_torch(ckpt)
    model = build_uninitialised(meta, state)
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    for p in model.parameters():
        p.requires_grad_(True)
    model.eval()
    size = int(meta['frost.input_size'])
    steps = [T.Resize([size, size])] if meta['frost.resize'] == 'square' else [T.Resize(size), T.CenterCrop(size)]
    tf = T.Compose(steps + [T.ToTensor(), T.Normalize(json.loads(meta['frost.mean']), json.loads(meta['frost.std']))])
    out = []
    for job in jobs:
        image, layer, cls = job.rsplit(':', 2)
        layer = layer or default_layer(model, meta['frost.arch'])
        x = tf(Image.open(image).convert('RGB')).unsqueeze(0)
        c, cam, logits = gradcam(model, x, layer, int(cls))
        out.append({'layer': layer, 'class': c, 'h': cam.shape[0], 'w': cam.shape[1],
                    'map': [float(v) for v in cam.flatten()], 'logits': [float(v) for v in logits]})
    json.dump(out, sys.stdout)
    print()


if __name__ == '__main__':
    main()
