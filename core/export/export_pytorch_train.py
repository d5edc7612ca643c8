#!/usr/bin/env python3
"""train.py - a frost run as a plain PyTorch script, to take it where frost does not go: more GPUs,
more machines, your own code.

Written by `frost export --pytorch`. It rebuilds what frost trained: the torchvision network with its
new head, the frozen and trained layers, BatchNorm's mode, the preprocessing, the optimizer with its
settings, the schedule and per-block learning rates, the staged unfreezing, the class weights, the
seed and the class order - and goes on from the weights frost exported (weights.safetensors, with
the optimizer's state beside it when frost saved one), epoch after epoch, as frost would have.

    python3 train.py --data DATASET                       one process, GPU when there is one
    torchrun --nproc_per_node 4 train.py --data DATASET   DistributedDataParallel, 4 processes
                                                          (nccl on GPUs, gloo on CPUs)

DATASET is torchvision's ImageFolder layout, as frost reads it: DATASET/train/<class>/*.jpg and
DATASET/valid/<class>/*.jpg, with the class folders named as below. After every epoch the first
process saves the model (--out, default trained.safetensors) as a frost checkpoint: `frost predict`
and `frost export` read it, and PyTorch loads it with load_state_dict after the same head
replacement (it is a safetensors file of the state_dict).

One process samples exactly as frost does (the same shuffle of the same seed, the same dropout seed
per epoch), so its losses are frost's. With N processes each takes every N-th sample of that order
(a DistributedSampler) and --batch is per process: the effective batch is N times larger, so you
may want to raise the learning rate (--lr) with it.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import time
import warnings

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from torchvision.datasets import ImageFolder

# ---------------------------------------------------------------------------------------------
# the run, as frost had it

# @FROST_SETTINGS@

# ---------------------------------------------------------------------------------------------
# safetensors (torch 1.13 has no reader for the format): a little-endian header length, a JSON
# header (tensor names, dtypes, shapes, offsets; "__metadata__"), then the raw data

DTYPES = {'F32': np.float32, 'I64': np.int64, 'F64': np.float64, 'I32': np.int32}


def read_safetensors(path):
    """The file's tensors (name -> torch tensor) and metadata (str -> str)."""
    with open(path, 'rb') as f:
        blob = f.read()
    (hlen,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + hlen])
    meta = header.pop('__metadata__', {})
    data = memoryview(blob)[8 + hlen:]
    tensors = {}
    for name, info in header.items():
        start, end = info['data_offsets']
        a = np.frombuffer(data[start:end], dtype=DTYPES[info['dtype']]).reshape(info['shape'])
        tensors[name] = torch.from_numpy(a.copy())
    return tensors, meta


def write_safetensors(path, tensors, meta):
    """Writes tensors (name -> tensor) with meta; to a temporary file renamed into place, so a killed
    run never leaves half a file under path. The data's SHA-256 goes into the metadata, as frost's
    own files carry it (frost checks it when loading)."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        b = a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': {np.dtype('float32'): 'F32', np.dtype('int64'): 'I64'}[a.dtype],
                        'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    data = b''.join(blobs)
    header['__metadata__'] = dict(meta, **{'frost.data_sha256': hashlib.sha256(data).hexdigest()})
    h = json.dumps(header, ensure_ascii=False).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = f'{path}.tmp.{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(struct.pack('<Q', len(h)))
            f.write(h)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------------------
# the network

def build_model(state):
    """torchvision's network, its head replaced as frost (and the tutorial) does, the weights loaded
    strictly, and the trainable parameters marked."""
    model = getattr(torchvision.models, ARCH)(weights=None)
    if HEAD_REPLACED:
        if ARCH.startswith('vgg'):
            model.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(p=0.5),
                                             nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
                                             nn.Linear(4096, len(CLASSES)))
        else:
            model.fc = nn.Linear(model.fc.in_features, len(CLASSES))
    model.load_state_dict(state, strict=True)
    for name, p in model.named_parameters():
        p.requires_grad = name in TRAINABLE
    return model


def blocks_of(model):
    """What frost freezes, thaws and gives a learning rate as one: (name, [module paths]) for each
    top-level module with parameters (ResNet's conv1, bn1, layer1..layer4, fc); a Sequential of plain
    layers with pooling (VGG's features) is split into stages ending at a MaxPool2d ("features.0-4")."""
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
    """The module paths a stage of the plan trains: head, lastK (the K blocks before the head too),
    all, or module paths joined by '+'."""
    if what == 'all':
        return [p for _, paths in blocks for p in paths]
    if what == 'head':
        return blocks[-1][1]
    if what.startswith('last') and what[4:].isdigit():
        k = int(what[4:])
        return [p for _, paths in blocks[len(blocks) - 1 - k:] for p in paths]
    return what.split('+')


def parse_plan(text):
    """'head:2,last1:3' -> [('head', 2), ('last1', 3)]; a stage without epochs (0) lasts to the end."""
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


def set_bn_mode(model):
    """model.train() puts every BatchNorm in train mode; frost's rule (BN = 'eval') keeps a BatchNorm
    whose parameters are all frozen in eval mode, its running statistics fixed."""
    if BN == 'eval':
        for mod in model.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm) and not any(p.requires_grad for p in mod.parameters()):
                mod.eval()


# ---------------------------------------------------------------------------------------------
# the order frost samples in: splitmix64 (Steele, Lea, Flood 2014) and a Fisher-Yates shuffle

MASK = (1 << 64) - 1
GOLDEN = 0x9e3779b97f4a7c15


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GOLDEN) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        limit = MASK - MASK % n
        while True:
            v = self.next()
            if v < limit:
                return v % n


def frost_order(seed, epoch, n):
    """The order frost takes a split's n samples in, in epoch (1-based)."""
    r = SplitMix64(seed ^ ((GOLDEN * epoch) & MASK))
    order = list(range(n))
    for i in range(n, 1, -1):
        j = r.below(i)
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


class FrostSampler(DistributedSampler):
    """A DistributedSampler whose shuffle is frost's: each of the N processes takes every N-th sample
    of frost's order for the epoch (padded, as DistributedSampler pads, so all take as many)."""

    def __init__(self, dataset, num_replicas, rank, seed, shuffle=True):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed, drop_last=False)
        self.given = None

    def __iter__(self):
        n = len(self.dataset)
        if self.given is not None:
            order = list(self.given)
        elif self.shuffle:
            order = frost_order(self.seed, self.epoch, n)
        else:
            order = list(range(n))
        order += order[:self.total_size - len(order)]
        return iter(order[self.rank:self.total_size:self.num_replicas])


def epoch_seed(epoch):
    """The seed of torch's generator as frost starts epoch's training (dropout's masks come from it)."""
    return (SEED * 1000003 + epoch) & 0x7fffffffffffffff


# ---------------------------------------------------------------------------------------------
# the data

class FrostImageFolder(ImageFolder):
    """ImageFolder with the class order of the trained head, not the folder's: a dataset whose classes
    differ is refused rather than silently mislabelled."""

    def find_classes(self, directory):
        found = sorted(e.name for e in os.scandir(directory) if e.is_dir())
        if sorted(found) != sorted(CLASSES):
            sys.exit(f'train.py: {directory} has the classes {found}; the model was trained for {CLASSES}')
        return list(CLASSES), {c: i for i, c in enumerate(CLASSES)}


def transform():
    size = [T.Resize([INPUT_SIZE, INPUT_SIZE])] if RESIZE == 'square' else [T.Resize(INPUT_SIZE), T.CenterCrop(INPUT_SIZE)]
    return T.Compose(size + [T.ToTensor(), T.Normalize(MEAN, STD)])


# ---------------------------------------------------------------------------------------------
# the optimizer, its groups and schedule

def make_optimizer(model, stages, blocks, lr):
    named = dict(model.named_parameters())
    if stages:   # every block that trains in some stage has its group from the start
        trains = set()
        for what, _ in stages:
            paths = stage_paths(what, blocks)
            trains |= {b for b, bp in blocks if any(under(n, paths) and under(n, bp) for n in named)}
    else:
        trains = {b for b, bp in blocks if any(p.requires_grad and under(n, bp) for n, p in named.items())}
    if stages or BLOCK_LR:
        order = [(b, bp) for b, bp in blocks if b in trains]
        mult = {b: 1.0 for b, _ in order}
        if BLOCK_LR and BLOCK_LR.startswith('spread:'):   # geometric, from lr at the head to lr/R
            r, k = float(BLOCK_LR[7:]), len(order)
            for rank, (b, _) in enumerate(order):
                mult[b] = r ** (-(k - 1 - rank) / (k - 1)) if k > 1 else 1.0
        elif BLOCK_LR:
            for item in BLOCK_LR.split(','):
                b, _, m = item.partition('=')
                mult[blocks[-1][0] if b == 'head' else b] = float(m)
        groups = [{'params': [p for n, p in named.items() if under(n, bp)], 'lr': lr * mult[b]} for b, bp in order]
    else:
        groups = [{'params': [p for p in model.parameters() if p.requires_grad], 'lr': lr}]
    if OPTIMIZER == 'adam':
        return torch.optim.Adam(groups, lr=lr, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)
    return torch.optim.SGD(groups, lr=lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)


def make_schedule(opt, total_steps, steps_per_epoch):
    """torch.optim.lr_scheduler's, stepped after every optimizer step."""
    kind, _, n = (SCHEDULE or 'constant').partition(':')
    S = torch.optim.lr_scheduler
    if kind == 'cosine' and n:
        warm = int(n)
        return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=warm),
                                    S.CosineAnnealingLR(opt, T_max=total_steps - warm)], milestones=[warm])
    if kind == 'cosine':
        return S.CosineAnnealingLR(opt, T_max=total_steps)
    if kind == 'one-cycle':
        return S.OneCycleLR(opt, max_lr=[g['lr'] for g in opt.param_groups], total_steps=total_steps)
    if kind == 'warmup':
        return S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=int(n) if n else steps_per_epoch)
    return None


def restore_optimizer(opt, model, path):
    """frost's optimizer state (a safetensors file of '<parameter>.<field>' tensors) into opt."""
    tensors, _ = read_safetensors(path)
    named = dict(model.named_parameters())
    used = 0
    for key, t in tensors.items():
        name, _, field = key.rpartition('.')
        p = named.get(name)
        if p is None:
            continue
        st = opt.state[p]
        st[field] = torch.tensor(float(t.item())) if field == 'step' else t.to(p.device)
        used += 1
    return used


def class_weights(dataset):
    if not CLASS_WEIGHTS or CLASS_WEIGHTS == 'none':
        return None
    if CLASS_WEIGHTS == 'auto':   # N / (C * n_c) from the training split's counts
        counts = np.bincount(dataset.targets, minlength=len(CLASSES))
        return torch.tensor([len(dataset) / (len(CLASSES) * c) if c else 0.0 for c in counts], dtype=torch.float32)
    return torch.tensor([float(w) for w in CLASS_WEIGHTS.split(',')], dtype=torch.float32)


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description='Go on with a frost run in PyTorch (see the top of this file).')
    ap.add_argument('--data', required=True, help='the dataset: DATA/train/<class>/..., DATA/valid/<class>/...')
    ap.add_argument('--epochs', type=int, default=EPOCHS,
                    help=f'train until this epoch (default {EPOCHS}; frost had done {START_EPOCH})')
    ap.add_argument('--weights', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), WEIGHTS),
                    help='the weights to start from (default: the exported ones)')
    ap.add_argument('--out', default='trained.safetensors', help='the checkpoint written after each epoch')
    ap.add_argument('--lr', type=float, default=LR, help=f'the base learning rate (default {LR})')
    ap.add_argument('--batch', type=int, default=BATCH, help=f'images per step and process (default {BATCH})')
    ap.add_argument('--device', default='auto', help='auto (a GPU when there is one), cpu, cuda')
    ap.add_argument('--workers', type=int, default=2, help='DataLoader worker processes per process')
    ap.add_argument('--log', help='write every batch and epoch as a JSON line to this file')
    ap.add_argument('--order', help="a `frost train --json` log: take its samples in the order of its 'order' lines")
    ap.add_argument('--threads', type=int, help='torch.set_num_threads')
    args = ap.parse_args()
    warnings.filterwarnings('ignore', category=UserWarning)   # SequentialLR's step(0) is deprecated
    if args.threads:
        torch.set_num_threads(args.threads)

    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local = int(os.environ.get('LOCAL_RANK', '0'))
    cuda = torch.cuda.is_available() if args.device == 'auto' else args.device.startswith('cuda')
    device = torch.device(f'cuda:{local}' if cuda and world > 1 else ('cuda' if cuda else 'cpu'))
    if cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(backend='nccl' if cuda else 'gloo')
    say = print if rank == 0 else (lambda *a, **k: None)
    log = open(args.log, 'w') if args.log and rank == 0 else None

    def emit(**event):
        if log:
            log.write(json.dumps(event) + '\n')
            log.flush()

    state, _ = read_safetensors(args.weights)
    model = build_model(state).to(device)
    blocks = blocks_of(model)
    stages = parse_plan(PLAN) if PLAN else None
    data = {p: FrostImageFolder(os.path.join(args.data, p), transform=transform()) for p in ('train', 'valid')}
    samplers = {p: FrostSampler(data[p], world, rank, SEED + k, shuffle=True) for k, p in enumerate(('train', 'valid'))}
    loaders = {p: DataLoader(data[p], batch_size=args.batch, sampler=samplers[p], num_workers=args.workers,
                             pin_memory=cuda) for p in data}
    orders = {}
    if args.order:   # frost's own order, epoch by epoch (one process)
        with open(args.order) as f:
            for e in map(json.loads, f):
                if e.get('event') == 'order':
                    orders[(e['phase'], e['epoch'])] = e['items']

    opt = make_optimizer(model, stages, blocks, args.lr)
    steps_per_epoch = len(loaders['train'])
    sched = make_schedule(opt, steps_per_epoch * max(args.epochs, EPOCHS), steps_per_epoch)
    side = args.weights + '.optim'
    if os.path.exists(side):
        say(f'optimizer state: {restore_optimizer(opt, model, side)} tensors from {side}')
    for _ in range(START_EPOCH * steps_per_epoch if sched else 0):   # the schedule where frost left it
        sched.step()
    weight = class_weights(data['train'])
    loss_f = nn.CrossEntropyLoss(weight=weight.to(device) if weight is not None else None)
    say(f'{ARCH}, {len(CLASSES)} classes, {len(data["train"])} train / {len(data["valid"])} valid images, '
        f'{world} process{"es" if world > 1 else ""} on {device}; epochs {START_EPOCH + 1} to {args.epochs}')

    net, trains, metrics = model, None, {}
    for epoch in range(START_EPOCH + 1, args.epochs + 1):
        if stages:   # the epoch's stage decides what trains
            paths = stage_paths(stages[stage_at(stages, epoch)][0], blocks)
            for n, p in model.named_parameters():
                p.requires_grad = under(n, paths)
        now = tuple(p.requires_grad for p in model.parameters())
        if world > 1 and now != trains:   # DDP reduces the gradients of what trains when it is made
            net = DistributedDataParallel(model, device_ids=[local] if cuda else None)
        trains = now
        for phase in ('train', 'valid'):
            sampler = samplers[phase]
            sampler.set_epoch(epoch)
            sampler.given = orders.get((phase, epoch))
            if phase == 'train':
                torch.manual_seed((epoch_seed(epoch) + rank) & 0x7fffffffffffffff)
                net.train()
                set_bn_mode(model)
            else:
                net.eval()
            sums = torch.zeros(3, dtype=torch.float64, device=device)   # loss * n, correct, n
            started = time.time()
            for k, (x, y) in enumerate(loaders[phase], 1):
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                if phase == 'train':
                    opt.zero_grad()
                    out = net(x)
                    loss = loss_f(out, y)
                    loss.backward()
                    lr = opt.param_groups[-1]['lr']
                    opt.step()
                    if sched:
                        sched.step()
                else:
                    with torch.no_grad():
                        out = net(x)
                        loss = loss_f(out, y)
                    lr = None
                correct = int((out.argmax(1) == y).sum())
                sums += torch.tensor([loss.item() * len(y), correct, len(y)], dtype=torch.float64, device=device)
                emit(event='batch', phase=phase, epoch=epoch, batch=k, loss=loss.item(), correct=correct, n=len(y),
                     lr=lr)
            if world > 1:
                dist.all_reduce(sums)
            loss_mean, acc = (sums[0] / sums[2]).item(), (sums[1] / sums[2]).item()
            metrics[f'{phase}_loss'], metrics[f'{phase}_acc'] = loss_mean, acc
            emit(event='phase_end', phase=phase, epoch=epoch, loss=loss_mean, acc=acc, n=int(sums[2].item()))
            say(f'epoch {epoch}/{args.epochs} {phase}: loss {loss_mean:.4f}, accuracy {100 * acc:.2f}% '
                f'({time.time() - started:.1f} s)')
        if rank == 0:
            save(args.out, model, epoch, metrics, args)
            say(f'saved {args.out}')
    if log:
        log.close()
    if world > 1:
        dist.destroy_process_group()


def save(path, model, epoch, metrics, args):
    """The model as a frost checkpoint: the state_dict with frost's metadata."""
    recipe = {k: v for k, v in (('plan', PLAN), ('schedule', SCHEDULE), ('block_lr', BLOCK_LR),
                                ('class_weights', CLASS_WEIGHTS)) if v}
    recipe['run'] = {'optimizer': OPTIMIZER, 'lr': args.lr, 'momentum': MOMENTUM, 'weight_decay': WEIGHT_DECAY,
                     'betas': list(BETAS), 'eps': EPS, 'batch': args.batch, 'seed': SEED, 'bn': BN,
                     'epochs': max(args.epochs, EPOCHS)}
    meta = {
        'format': 'pt',
        'frost.arch': ARCH,
        'frost.classes': str(len(CLASSES)),
        'frost.checkpoint': '1',
        'frost.class_names': json.dumps(CLASSES, ensure_ascii=False),
        'frost.head_replaced': '1' if HEAD_REPLACED else '0',
        'frost.input_size': str(INPUT_SIZE),
        'frost.resize': RESIZE,
        'frost.mean': json.dumps(MEAN),
        'frost.std': json.dumps(STD),
        'frost.trainable': json.dumps([n for n, p in model.named_parameters() if p.requires_grad]),
        'frost.epoch': str(epoch),
        'frost.metrics': json.dumps({k: metrics.get(k) for k in ('train_loss', 'train_acc', 'valid_loss', 'valid_acc')}),
        'frost.save_id': f'{time.time_ns():x}-{os.getpid()}-{epoch}',
        'frost.optimizer': 'none',
        'frost.train': json.dumps(recipe),
    }
    write_safetensors(args.out if path is None else path, model.state_dict(), meta)


if __name__ == '__main__':
    main()
