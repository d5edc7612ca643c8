#!/usr/bin/env python3
"""lr_schedule.py - the learning rates PyTorch's own schedulers give each step, for the tests.

  lr_schedule.py --schedule constant|cosine|one-cycle|warmup --optimizer sgd|adam --lrs X,Y,...
                 --total N [--warmup W] [--warmup-start F] [--min-factor F] [--pct-start P]
                 [--div-factor D] [--final-div-factor D] [--no-cycle-momentum]

Builds a real optimizer with one parameter group per lr and the real torch.optim.lr_scheduler objects
core/train/lr_schedule.h describes (cosine with --warmup W > 0: SequentialLR of LinearLR then
CosineAnnealingLR, milestone W), then steps it N times the usual way: a loss, backward,
optimizer.step(), scheduler.step(). Prints, as JSON on stdout, what each group holds before each
step: {"lr": [[group0, group1, ...] per step], "momentum": [...]} - momentum is SGD's momentum or
Adam's betas[0]. tests/core/test_lr_schedule.c compares core/train/lr_schedule.c with it.

--min-factor F: eta_min is F times each group's lr, but CosineAnnealingLR takes one eta_min for all
groups, so then every group gets an optimizer and scheduler of its own (the groups are independent).
"""
import argparse
import json
import warnings

import torch
from torch.optim import lr_scheduler as S

# SequentialLR calls scheduler.step(0) itself at the milestone, which warns that passing an epoch is
# deprecated; that is torch talking to itself, not to us.
warnings.filterwarnings('ignore', message='The epoch parameter', category=UserWarning)


def make_scheduler(a, opt, lrs, eta_min):
    if a.schedule == 'constant':
        return S.LambdaLR(opt, lambda _: 1.0)
    if a.schedule == 'warmup':
        return S.LinearLR(opt, start_factor=a.warmup_start, end_factor=1.0, total_iters=a.warmup)
    if a.schedule == 'one-cycle':
        return S.OneCycleLR(opt, max_lr=lrs, total_steps=a.total, pct_start=a.pct_start, anneal_strategy='cos',
                            cycle_momentum=a.cycle_momentum, base_momentum=0.85, max_momentum=0.95,
                            div_factor=a.div_factor, final_div_factor=a.final_div_factor, three_phase=False)
    if a.warmup <= 0:
        return S.CosineAnnealingLR(opt, T_max=a.total, eta_min=eta_min)
    warm = S.LinearLR(opt, start_factor=a.warmup_start, end_factor=1.0, total_iters=a.warmup)
    cos = S.CosineAnnealingLR(opt, T_max=a.total - a.warmup, eta_min=eta_min)
    return S.SequentialLR(opt, [warm, cos], milestones=[a.warmup])


def run(a, lrs):
    """[[lr of each group] per step], [[momentum of each group] per step] for one optimizer."""
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    groups = [{'params': [p], 'lr': lr} for p, lr in zip(params, lrs)]
    if a.optimizer == 'sgd':
        opt = torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    else:
        opt = torch.optim.Adam(groups, lr=lrs[0], betas=(0.9, 0.999))
    sched = make_scheduler(a, opt, lrs, a.min_factor * lrs[0])
    lr, mom = [], []
    for _ in range(a.total):
        lr.append([g['lr'] for g in opt.param_groups])
        mom.append([g['momentum'] if a.optimizer == 'sgd' else g['betas'][0] for g in opt.param_groups])
        opt.zero_grad()
        sum(p.sum() for p in params).backward()
        opt.step()
        sched.step()
    return lr, mom


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--schedule', required=True, choices=['constant', 'cosine', 'one-cycle', 'warmup'])
    ap.add_argument('--optimizer', default='sgd', choices=['sgd', 'adam'])
    ap.add_argument('--lrs', required=True)
    ap.add_argument('--total', type=int, required=True)
    ap.add_argument('--warmup', type=int, default=0)
    ap.add_argument('--warmup-start', type=float, default=0.1)
    ap.add_argument('--min-factor', type=float, default=0.0)
    ap.add_argument('--pct-start', type=float, default=0.3)
    ap.add_argument('--div-factor', type=float, default=25.0)
    ap.add_argument('--final-div-factor', type=float, default=1e4)
    ap.add_argument('--no-cycle-momentum', dest='cycle_momentum', action='store_false')
    a = ap.parse_args()
    lrs = [float(x) for x in a.lrs.split(',')]

    if a.min_factor == 0:
        lr, mom = run(a, lrs)
    else:
        each = [run(a, [x]) for x in lrs]
        lr = [[e[0][k][0] for e in each] for k in range(a.total)]
        mom = [[e[1][k][0] for e in each] for k in range(a.total)]
    print(json.dumps({'lr': lr, 'momentum': mom}))


if __name__ == '__main__':
    main()
