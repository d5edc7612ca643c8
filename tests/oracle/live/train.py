#!/usr/bin/env python3
"""train.py - the tutorial's training loop in PyTorch, replaying a frost run for the tests.

The same starting weights (the checkpoint the test wrote: its state_dict, classes and preprocessing),
the same sample order and dropout seed per epoch (the "order" lines of frost train --json), the same
optimizer settings. What it computes - each batch's mean loss and correct count, and the state_dict at
the end - is written for tests/cli/test_train_oracle.c to compare with frost's own.

It takes from frost's log only what is frost's to choose, the shuffle and the dropout seed, and checks
those against the command: every epoch's order is a permutation of the whole split, and the epochs and
phases are the ones asked for (--epochs, train then valid each epoch), so a frost that skipped an epoch
or dropped an image fails here instead of being replayed the same way. What trains comes from the
command's own words (--trainable, --plan; without them the tutorial's: the new head), never from frost's
checkpoint or output.

  train.py --dataset DS --init INIT.safetensors --log FROST.jsonl[,MORE.jsonl] --batch B --optimizer adam|sgd
           --lr X --epochs N [--momentum M] [--weight-decay W] [--bn eval|train] [--pixels FILE]
           [--trainable all|none|PATH,...] [--plan STAGES] [--schedule NAME[:N]] [--block-lr B=M,...|spread:R]
           [--class-weights auto|W,...] --out-json OUT.json --out-weights OUT.safetensors

Fine-tuning, as PyTorch users write it: --plan sets requires_grad per stage at each epoch's start
(head, lastK blocks before the head, all, or A+B module paths) with one parameter group per block that
trains in any stage (frozen parameters have no gradient, so the optimizer passes over them until they
thaw); --block-lr gives those groups their lrs; --schedule is torch.optim.lr_scheduler's
(CosineAnnealingLR, LinearLR then cosine in a SequentialLR, OneCycleLR, LinearLR), stepped after every
optimizer step over --epochs epochs; --class-weights is CrossEntropyLoss(weight=...), "auto" being
N / (C * n_c) from the training split's counts. A log list (comma separated) is one run resumed.

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
import warnings

import numpy as np
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from torchvision.datasets.folder import IMG_EXTENSIONS, default_loader, make_dataset

from safetensors_io import read_safetensors

class Adam113(torch.optim.Adam):
    """torch.optim.Adam with the first moment moved as PyTorch 1.13 moved it, for PyTorch 2.x (Debian 13).

    2.x's Python Adam moves it with exp_avg.lerp_(grad, 1 - beta1); 1.13's, and libtorch's C++
    Adam::step on every release (what frost steps as), with exp_avg.mul_(beta1).add_(grad, alpha=1 -
    beta1). The two differ in the last bit, and Adam's normalisation carries that well past the test's
    1e-5 (measured with 2.6: a ResNet-18 run's losses 1.5e-3 apart by its 11th batch; with the 1.13 form
    within 1e-5 again). Only that line changes: while this optimizer steps, lerp_ is mul_ then add_."""

    def step(self, closure=None):
        lerp = torch.Tensor.lerp_
        torch.Tensor.lerp_ = lambda t, end, weight: t.mul_(1 - weight).add_(end, alpha=weight)
        try:
            return super().step(closure)
        finally:
            torch.Tensor.lerp_ = lerp


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


def build(meta, state, trainable=None):
    """The network with the tutorial's new head, its parameters trainable as the command's --trainable
    says (None: the tutorial's choice, only the new head)."""
    arch, n = meta['frost.arch'], int(meta['frost.classes'])
    m = getattr(torchvision.models, arch)(weights=None)
    if arch.startswith('vgg'):   # the tutorial's new head
        m.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(4096, 4096),
                                     nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(4096, n))
        head = 'classifier'
    else:
        m.fc = nn.Linear(m.fc.in_features, n)
        head = 'fc'
    m.load_state_dict(state, strict=True)
    paths = [head] if trainable is None else [] if trainable == 'none' else trainable.split(',')
    names = [name for name, _ in m.named_parameters()]
    for p in paths:   # a path that names nothing would freeze silently
        if trainable != 'all' and not any(under(name, [p]) for name in names):
            raise SystemExit(f'train.py: --trainable names {p}, which holds no parameter')
    for name, p in m.named_parameters():
        p.requires_grad = trainable == 'all' or under(name, paths)
    return m


def blocks_of(model):
    """What frost freezes as one: (name, [module paths]) for each top-level module with parameters;
    a Sequential of plain layers with pooling (VGG's features) split into stages ending at a MaxPool2d."""
    out = []
    for name, child in model.named_children():
        if not any(True for _ in child.parameters()):
            continue
        kids = list(child.named_children())
        plain = isinstance(child, nn.Sequential) and kids and all(not list(c.children()) for _, c in kids)
        if not (plain and any(isinstance(c, nn.MaxPool2d) for _, c in kids)):
            out.append((name, [name]))
            continue
        start = 0
        for i, (key, c) in enumerate(kids):
            if isinstance(c, nn.MaxPool2d) or i == len(kids) - 1:
                paths = [f'{name}.{k}' for k, m in kids[start:i + 1] if any(True for _ in m.parameters())]
                out.append((f'{name}.{kids[start][0]}-{key}', paths))
                start = i + 1
    return out


def under(name, paths):
    return any(name.startswith(p + '.') for p in paths)


def stage_paths(what, blocks):
    """The module paths a plan stage trains."""
    if what == 'all':
        return [p for _, paths in blocks for p in paths]
    if what == 'head':
        return blocks[-1][1]
    if what.startswith('last') and what[4:].isdigit():
        k = int(what[4:])
        return [p for _, paths in blocks[len(blocks) - 1 - k:] for p in paths]
    return what.split('+')


def parse_plan(text):
    stages = []
    for item in text.split(','):
        what, _, epochs = item.rpartition(':') if ':' in item else (item, '', '0')
        stages.append((what, int(epochs)))
    return stages


def stage_at(stages, epoch):
    end = 0
    for k, (_, n) in enumerate(stages):
        end += n
        if n == 0 or epoch <= end:
            return k
    return len(stages) - 1


def check_orders(orders, splits, epochs):
    """frost's orders are what the command asked for: each of the epochs, train then valid, and each
    phase's order a permutation of its whole split."""
    want = [(e, p) for e in range(1, epochs + 1) for p in ('train', 'valid') if splits[p]]
    got = [(o['epoch'], o['phase']) for o in orders]
    if got != want:
        raise SystemExit(f'train.py: frost ran the phases {got}, the command asked for {want}')
    for o in orders:
        n = len(splits[o['phase']])
        if sorted(o['items']) != list(range(n)):
            raise SystemExit(f"train.py: epoch {o['epoch']} {o['phase']}: frost's order is no permutation of the "
                             f"split's {n} images: {o['items']}")


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
    ap.add_argument('--plan')
    ap.add_argument('--schedule', default='constant')
    ap.add_argument('--block-lr')
    ap.add_argument('--class-weights')
    ap.add_argument('--epochs', type=int, required=True)
    ap.add_argument('--trainable')
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings('ignore', category=UserWarning)   # SequentialLR's step(0) is deprecated

    state, meta = read_safetensors_torch(args.init)
    model = build(meta, state, args.trainable)
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

    blocks = blocks_of(model)
    stages = parse_plan(args.plan) if args.plan else None
    named = dict(model.named_parameters())
    if stages:   # the blocks any stage trains, each a group from the start
        trains = set()
        for what, _ in stages:
            paths = stage_paths(what, blocks)
            trains |= {b for b, bp in blocks if any(under(n, paths) and under(n, bp) for n in named)}
    else:
        trains = {b for b, bp in blocks if any(p.requires_grad and under(n, bp) for n, p in named.items())}
    if stages or args.block_lr:
        order = [(b, bp) for b, bp in blocks if b in trains]
        mult = {b: 1.0 for b, _ in order}
        if args.block_lr and args.block_lr.startswith('spread:'):
            r, k = float(args.block_lr[7:]), len(order)
            for rank, (b, _) in enumerate(order):
                mult[b] = r ** (-(k - 1 - rank) / (k - 1)) if k > 1 else 1.0
        elif args.block_lr:
            for item in args.block_lr.split(','):
                b, _, m = item.partition('=')
                mult[blocks[-1][0] if b == 'head' else b] = float(m)
        groups = [{'params': [p for n, p in named.items() if under(n, bp)], 'lr': args.lr * mult[b]} for b, bp in order]
    else:
        groups = [{'params': [p for p in model.parameters() if p.requires_grad], 'lr': args.lr}]
    if args.optimizer == 'adam':
        adam = torch.optim.Adam if torch.__version__.startswith('1.') else Adam113
        opt = adam(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)

    steps = (len(splits['train']) + args.batch - 1) // args.batch * args.epochs
    kind, _, warm = args.schedule.partition(':')
    S = torch.optim.lr_scheduler
    if kind == 'cosine' and warm:
        sched = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=int(warm)),
                                     S.CosineAnnealingLR(opt, T_max=steps - int(warm))], milestones=[int(warm)])
    elif kind == 'cosine':
        sched = S.CosineAnnealingLR(opt, T_max=steps)
    elif kind == 'one-cycle':
        sched = S.OneCycleLR(opt, max_lr=[g['lr'] for g in opt.param_groups], total_steps=steps)
    elif kind == 'warmup':
        sched = S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=int(warm))
    else:
        sched = None

    weight = None
    if args.class_weights == 'auto':
        counts = np.bincount([label for _, label in splits['train']], minlength=len(classes))
        weight = torch.tensor([len(splits['train']) / (len(classes) * c) if c else 0.0 for c in counts],
                              dtype=torch.float32)
    elif args.class_weights and args.class_weights != 'none':
        weight = torch.tensor([float(w) for w in args.class_weights.split(',')], dtype=torch.float32)
    loss_f = nn.CrossEntropyLoss(weight=weight)

    batches = []
    orders = []
    for log in args.log.split(','):
        with open(log) as f:
            orders += [e for e in map(json.loads, f) if e['event'] == 'order']
    check_orders(orders, splits, args.epochs)
    for o in orders:   # each phase, in the order frost ran them
        phase, samples = o['phase'], splits[o['phase']]
        if phase == 'train' and stages:   # the epoch's stage decides what trains
            paths = stage_paths(stages[stage_at(stages, o['epoch'])][0], blocks)
            for n, p in named.items():
                p.requires_grad = under(n, paths)
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
                step_lr = opt.param_groups[-1]['lr']
                opt.step()
                if sched:
                    sched.step()
            else:
                with torch.no_grad():
                    out = model(x)
                    loss = loss_f(out, y)
            batches.append({'epoch': o['epoch'], 'phase': phase, 'batch': k // args.batch + 1, 'loss': loss.item(),
                            'correct': int((out.argmax(1) == y).sum()), 'n': len(chunk),
                            'lr': step_lr if phase == 'train' else None})
    with open(args.out_json, 'w') as f:
        json.dump({'batches': batches}, f)
    write_safetensors(args.out_weights, model.state_dict())


if __name__ == '__main__':
    main()
