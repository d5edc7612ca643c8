#!/usr/bin/env python3
"""torchvision's side of bench/data: the seed's exact input pipeline, timed.

ImageFolder(train) + ImageFolder(valid) with Resize([S,S]), ToTensor(), Normalize(0.5, 0.5), a
DataLoader with batch 16 and shuffle, iterated once over both splits. Prints one line:
`torchvision workers=W threads=T images=N seconds=S images_per_s=R`.
With --dump-resized FILE it instead writes PIL's uint8 Resize([S,S]) output of every train and valid
image, in ImageFolder order, as raw bytes (N x S x S x 3), for frost's pixel-difference check.

usage: torchvision_data.py DATASET [--workers W] [--size S] [--dump-resized FILE]
Run with Debian's /usr/bin/python3 (python3-torchvision); bench/data calls it.
"""
import argparse
import os
import time

import torch
from torchvision import datasets, transforms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--dump-resized")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.dump_resized:
        resize = transforms.Resize([a.size, a.size])
        with open(a.dump_resized, "wb") as out:
            for split in ("train", "valid"):
                ds = datasets.ImageFolder(os.path.join(a.dataset, split), transform=resize)
                for img, _ in ds:
                    out.write(img.tobytes())
        return
    tf = transforms.Compose([transforms.Resize([a.size, a.size]), transforms.ToTensor(),
                             transforms.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])])
    n = 0
    start = time.perf_counter()
    for split in ("train", "valid"):
        ds = datasets.ImageFolder(os.path.join(a.dataset, split), transform=tf)
        loader = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=True, num_workers=a.workers)
        for x, y in loader:
            n += x.shape[0]
    secs = time.perf_counter() - start
    print(f"torchvision workers={a.workers} threads=1 images={n} seconds={secs:.3f} images_per_s={n / secs:.1f}")


if __name__ == "__main__":
    main()
