#!/usr/bin/env python3
"""train.py - the tutorial's training loop in PyTorch, replaying a frost run for the tests.

The same starting weights (frost's checkpoint: its state_dict, classes, trainable parameters and
preprocessing), the same sample order and dropout seed per epoch (the "order" lines of frost train
--json), the same optimizer settings. What it computes - each batch's mean loss and correct count, and
the state_dict at the end - is written for tests/cli/test_train_oracle.c to compare with frost's own.

  train.py --dataset DS --init INIT.safetensors --log FROST.jsonl --batch B --optimizer adam|sgd
           --lr X [--momentum M] [--weight-decay W] [--bn eval|train] [--pixels FILE] --out-json OUT.json
           --out-weights OUT.safetensors

--pixels FILE: the images as frost's `--resize fast` makes them (frost bench-data --dump-resized: every
train then valid image as SxSx3 bytes, in the dataset's order) instead of PIL's Resize; ToTensor and
Normalize are PyTorch's. What is checked then is training on those pixels, not the pixels themselves
(how far they are from PIL's is the transform tests' and the benchmark's business).

Reads and writes safetensors itself (a header of JSON, then raw little-endian data): torch 1.13 has
no reader for the format.
"""
import argparse
import json
import struct

import numpy as np
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from torchvision.datasets.folder import IMG_EXTENSIONS, default_loader, make_dataset

from safetensors_io import read_safetensors

def read_safetensors_torch(path):
    """The file's tensors as torch tensors, and its metadata."""
    arrays, meta = read_safetensors(path)
    return {name: torch.from_numpy(a) for name, a in arrays.items()}, meta


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().contiguous().numpy()
        b = a.tobytes()
        header[name] = {'dtype': 'F32' if a.dtype == np.float32 else 'I64', 'shape': list(a.shape),
                        'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def build(meta, state):
    arch, n = meta['frost.arch'], int(meta['frost.classes'])
    m = getattr(torchvision.models, arch)(weights=None)
    if arch.startswith('vgg'):   # the tutorial's new head
        m.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(4096, 4096),
                                     nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(4096, n))
    else:
        m.fc = nn.Linear(m.fc.in_features, n)
    m.load_state_dict(state, strict=True)
    trainable = set(json.loads(meta['frost.trainable']))
    for name, p in m.named_parameters():
        p.requires_grad = name in trainable
    return m


def main():
    ap = argparse.ArgumentParser()
    for a in ('--dataset', '--init', '--log', '--out-json', '--out-weights', '--optimizer'):
        ap.add_argument(a, required=True)
    ap.add_argument('--batch', type=int, required=True)
    ap.add_argument('--lr', type=float, required=True)
    ap.add_argument('--momentum', type=float, default=0.9)
    ap.add_argument('--weight-decay', type=float, default=0.0)
    ap.add_argument('--bn', default='eval')
    ap.add_argument('--pixels')
    args = ap.parse_args()
    torch.set_num_threads(1)

    state, meta = read_safetensors_torch(args.init)
    model = build(meta, state)
    size = int(meta['frost.input_size'])
    steps = [T.Resize([size, size])] if meta['frost.resize'] == 'square' else [T.Resize(size), T.CenterCrop(size)]
    tf = T.Compose(steps + [T.ToTensor(), T.Normalize(json.loads(meta['frost.mean']), json.loads(meta['frost.std']))])
    classes = json.loads(meta['frost.class_names'])
    to_idx = {c: i for i, c in enumerate(classes)}
    splits = {p: make_dataset(f'{args.dataset}/{p}', to_idx, IMG_EXTENSIONS) for p in ('train', 'valid')}
    load = {p: (lambda path, _p=p: tf(default_loader(path))) for p in splits}
    if args.pixels:   # frost's own pixels, image k of a split at its place in the dump
        raw = np.fromfile(args.pixels, dtype=np.uint8).reshape(-1, size, size, 3)
        assert len(raw) == len(splits['train']) + len(splits['valid']), 'the dump holds every image once'
        norm = T.Normalize(json.loads(meta['frost.mean']), json.loads(meta['frost.std']))
        base = {'train': 0, 'valid': len(splits['train'])}
        where = {p: {path: base[p] + k for k, (path, _) in enumerate(splits[p])} for p in splits}
        for p in splits:
            load[p] = lambda path, _p=p: norm(torch.from_numpy(raw[where[_p][path]]).permute(2, 0, 1).contiguous()
                                              .to(dtype=torch.float32).div(255))

    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == 'adam':
        opt = torch.optim.Adam(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    loss_f = nn.CrossEntropyLoss()

    batches = []
    with open(args.log) as f:
        orders = [e for e in map(json.loads, f) if e['event'] == 'order']
    for o in orders:   # each phase, in the order frost ran them
        phase, samples = o['phase'], splits[o['phase']]
        if phase == 'train':
            torch.manual_seed(o['torch_seed'])
            model.train(True)
            if args.bn == 'eval':   # frost's rule: a BatchNorm whose parameters are all frozen stays in eval mode
                for mod in model.modules():
                    if isinstance(mod, nn.BatchNorm2d) and not any(p.requires_grad for p in mod.parameters()):
                        mod.eval()
        else:
            model.train(False)
        items = o['items']
        for k in range(0, len(items), args.batch):
            chunk = [samples[i] for i in items[k:k + args.batch]]
            x = torch.stack([load[phase](path) for path, _ in chunk])
            y = torch.tensor([label for _, label in chunk])
            if phase == 'train':
                opt.zero_grad()
                out = model(x)
                loss = loss_f(out, y)
                loss.backward()
                opt.step()
            else:
                with torch.no_grad():
                    out = model(x)
                    loss = loss_f(out, y)
            batches.append({'epoch': o['epoch'], 'phase': phase, 'batch': k // args.batch + 1, 'loss': loss.item(),
                            'correct': int((out.argmax(1) == y).sum()), 'n': len(chunk)})
    with open(args.out_json, 'w') as f:
        json.dump({'batches': batches}, f)
    write_safetensors(args.out_weights, model.state_dict())


if __name__ == '__main__':
    main()
