#!/usr/bin/python3
"""torch_forward.py — PyTorch's own forward floor, for bench/floor to set beside frost's.

The backbone of a torchvision network (everything before the head: ResNet's fc, VGG's classifier,
replaced by Identity) in eval mode without gradients, on the dataset's images decoded and
transformed before the clock starts (the tutorial's Resize([224,224]), ToTensor, Normalize(0.5)),
batch after batch, with the threads and batch size given; the first batch is timed apart and not
counted, as `frost bench-forward` does. Modes: what PyTorch itself offers on a CPU:
  eager          the module as built (NCHW, float32): what frost's fp32 does
  channels_last  the same module and input in channels_last memory format
  bf16           channels_last, module and input in bfloat16
  jit            torch.jit.freeze + optimize_for_inference (BatchNorm folded, oneDNN layouts, fusions)
  mm             no network: a 4096x4096 float32 matrix product (the BLAS libtorch calls)
  conv           no network: a 3x3 convolution, 256 to 256 channels on 56x56, batch 16,
                 channels_last float32 (oneDNN): the practical peak for a backbone's arithmetic
                 (mm-bf16, conv-bf16: the same in bfloat16); these print GFLOP/s, not images/s
Prints one JSON line.

usage: bench/torch_forward.py ARCH DATASET MODE [--images N] [--threads N] [--batch N]
"""
import json
import sys
import time

import torch
import torchvision
from torchvision import datasets, transforms


def arg(argv, name, default):
    return int(argv[argv.index(name) + 1]) if name in argv else default


def peak(kind, dtype, threads):
    """The best of five of one operation, in GFLOP/s (a multiply-add counts two)."""
    torch.set_num_threads(threads)
    if kind == "mm":
        n = 4096
        a, b = torch.rand(n, n, dtype=dtype), torch.rand(n, n, dtype=dtype)
        op, flops = (lambda: torch.mm(a, b)), 2.0 * n ** 3
    else:
        conv = torch.nn.Conv2d(256, 256, 3, padding=1, bias=False).to(dtype).to(memory_format=torch.channels_last)
        x = torch.rand(16, 256, 56, 56, dtype=dtype).contiguous(memory_format=torch.channels_last)
        op, flops = (lambda: conv(x)), 2.0 * 16 * 56 * 56 * 256 * 256 * 9
    with torch.no_grad():
        op()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            op()
            best = min(best, time.perf_counter() - t0)
    return {"gflops": flops / best / 1e9}


def main():
    argv = sys.argv[1:]
    arch, root, mode = argv[0], argv[1], argv[2]
    images, threads, batch = arg(argv, "--images", 600), arg(argv, "--threads", 2), arg(argv, "--batch", 16)
    if mode in ("mm", "mm-bf16", "conv", "conv-bf16"):
        print(json.dumps(peak(mode.split("-")[0], torch.bfloat16 if mode.endswith("bf16") else torch.float32, threads)))
        return
    torch.set_num_threads(threads)
    tf = transforms.Compose([transforms.Resize([224, 224]), transforms.ToTensor(),
                             transforms.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])])
    xs = []
    for split in ("train", "valid"):
        for x, _ in datasets.ImageFolder(f"{root}/{split}", tf):
            if len(xs) < images:
                xs.append(x)
    x = torch.stack(xs)
    model = getattr(torchvision.models, arch)()
    if arch.startswith("vgg"):
        model.classifier = torch.nn.Identity()
    else:
        model.fc = torch.nn.Identity()
    model.eval()
    if mode in ("channels_last", "bf16"):
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if mode == "bf16":
        model, x = model.to(torch.bfloat16), x.to(torch.bfloat16)
    with torch.no_grad():
        if mode == "jit":
            model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(model)))
        t0 = time.perf_counter()
        model(x[:batch])
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k in range(0, len(x), batch):
            model(x[k:k + batch])
        secs = time.perf_counter() - t0
    print(json.dumps({"images": len(x), "seconds": secs, "ips": len(x) / secs, "first": first}))


if __name__ == "__main__":
    main()
