#!/usr/bin/python3
# pil_transform_oracle.py -- the test oracle for frost's image resize and transform.
#
# It records what Pillow 9.4 and torchvision 0.14 make of RGB images, so
# core/data/image_resize.c and core/data/image_transform.c can be checked byte for byte:
# Image.resize(size, BILINEAR) outputs and the float32 tensors of
#   seed:     Compose([Resize([S,S]), ToTensor(), Normalize([.5]*3, [.5]*3)])
#   imagenet: Compose([Resize([S,S]), ToTensor(), Normalize(IMAGENET)])
#   crop:     Compose([Resize(S), CenterCrop(S), ToTensor(), Normalize(IMAGENET)])
#   pad:      Compose([CenterCrop(S), ToTensor(), Normalize(IMAGENET)])
#             (S larger than the image on some side: torchvision pads with 0)
#
# It is only run by `make test` (or by hand), as:
#     /usr/bin/python3 tests/oracle/pil_transform_oracle.py OUTDIR
# and writes under OUTDIR/transform/ only. Deterministic: the test images come
# from a fixed numpy seed, and are also saved as PNG (lossless) for tools that
# want to decode them. If ../shared/datasets/dvc-mini exists (relative to the
# working directory, the repo root), the first 30 files of train/dog in sorted
# name order are added as "photos": PIL's decode, the 224x224 resize and the
# seed tensor of each, and the crop tensor of the first 10.
#
# Outputs under OUTDIR/transform/ (all raw, no headers; rgb = HWC uint8,
# f32 = little-endian float32 CHW, 3 x S x S):
#   img/<name>.rgb, img/<name>.png      the source images (photos: PIL's
#                                       Image.open(f).convert('RGB'), no PNG)
#   images.tsv    name<TAB>w<TAB>h           synthetic images
#   photos.tsv    name<TAB>w<TAB>h<TAB>file  photos (file: path under dvc-mini)
#   resize.tsv    name<TAB>out_w<TAB>out_h<TAB>relpath   PIL resize outputs
#   tensor.tsv    name<TAB>variant<TAB>S<TAB>relpath     torchvision tensors

import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
SEED_NORM = ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])

SIZES = [(1, 1), (1, 5), (5, 1), (2, 2), (3, 7), (7, 3), (1, 300), (300, 1),
         (16, 16), (17, 13), (31, 64), (64, 48), (100, 75), (223, 225),
         (224, 224), (225, 224), (256, 256), (320, 240), (333, 500),
         (500, 375), (640, 427), (1024, 683), (37, 1001), (1000, 3)]

# Images whose 224 tensors are recorded (each is 600 KB a variant); every
# image gets the small-S tensors.
BIG_TENSORS = {"s223x225", "s500x375", "s333x500", "s1x300"}
SMALL_S = [32, 57]
PAD_CASES = [("s1x1", 32), ("s3x7", 32), ("s17x13", 32), ("s31x64", 40), ("s64x48", 57),
             ("s16x16", 16)]

N_PHOTOS = 30
N_PHOTO_CROPS = 10  # the crop variant for the first 10 only (600 KB each)


def make_image(rng, w, h, kind):
    """Random-ish but structured: noise, gradients, hard edges, and extremes
    (0/255) so rounding, clipping and window edges are all exercised."""
    if kind == 0:
        a = rng.randint(0, 256, size=(h, w, 3))
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        base = 127.5 + 127.5 * np.sin(xx[..., None] * [0.3, 0.11, 0.05] +
                                      yy[..., None] * [0.07, 0.2, 0.13] + kind)
        noise = rng.randint(-40, 41, size=(h, w, 3))
        a = base + noise
        blocks = rng.randint(0, 4, size=((h + 7) // 8, (w + 7) // 8))
        blocks = np.kron(blocks, np.ones((8, 8), dtype=int))[:h, :w]
        a[blocks == 0] = 0
        a[blocks == 1] = 255
    return np.clip(a, 0, 255).astype(np.uint8)


def targets_for(w, h):
    # Outputs capped at CAP a side to keep the oracle small and quick.
    CAP = 400
    t = [(224, 224), (1, 1), (3, 2), (7, 11)]
    t.append((max(1, w * 2 // 3), max(1, h * 5 // 7)))      # odd downscale
    t.append((min(w * 2 + 1, CAP), min(h * 3, CAP)))          # upscale
    t.append((min(w, CAP), min(h * 2, CAP)))                  # vertical pass only (w <= CAP)
    t.append((min(w * 3 // 2 + 1, CAP), min(h, CAP)))         # horizontal pass only (h <= CAP)
    t.append((max(1, w // 7), max(1, h // 3)))                # strong downscale
    if w * h <= CAP * CAP:
        t.append((w, h))                                      # identity
        t.append((w + 1, max(1, h - 1)))
    out = []
    for s in t:
        if s not in out:
            out.append(s)
    return out


class Writer:
    def __init__(self, root):
        self.root = root
        self.lines = {"images.tsv": [], "photos.tsv": [], "resize.tsv": [], "tensor.tsv": []}
        self.nbytes = 0
        for sub in ("img", "resize", "tensor"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)

    def raw(self, rel, data):
        with open(os.path.join(self.root, rel), "wb") as f:
            f.write(data)
        self.nbytes += len(data)

    def resize(self, name, im, ow, oh):
        rel = f"resize/{name}_{ow}x{oh}.rgb"
        self.raw(rel, np.asarray(im.resize((ow, oh), Image.BILINEAR)).tobytes())
        self.lines["resize.tsv"].append(f"{name}\t{ow}\t{oh}\t{rel}")

    def tensor(self, name, im, variant, s):
        if variant == "seed":
            ops, norm = [T.Resize([s, s])], SEED_NORM
        elif variant == "imagenet":
            ops, norm = [T.Resize([s, s])], IMAGENET
        elif variant == "crop":
            ops, norm = [T.Resize(s), T.CenterCrop(s)], IMAGENET
        else:  # pad
            ops, norm = [T.CenterCrop(s)], IMAGENET
        tf = T.Compose(ops + [T.ToTensor(), T.Normalize(*norm)])
        x = tf(im)
        assert x.dtype == torch.float32 and tuple(x.shape) == (3, s, s), (name, variant, x.shape)
        rel = f"tensor/{name}_{variant}_{s}.f32"
        self.raw(rel, x.numpy().astype("<f4").tobytes())
        self.lines["tensor.tsv"].append(f"{name}\t{variant}\t{s}\t{rel}")

    def finish(self):
        for fname, lines in self.lines.items():
            with open(os.path.join(self.root, fname), "w") as f:
                f.write("".join(line + "\n" for line in lines))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: pil_transform_oracle.py OUTDIR")
    torch.set_num_threads(1)
    out = Writer(os.path.join(sys.argv[1], "transform"))

    rng = np.random.RandomState(20240607)
    for i, (w, h) in enumerate(SIZES):
        name = f"s{w}x{h}"
        a = make_image(rng, w, h, i % 3)
        im = Image.fromarray(a, "RGB")
        out.raw(f"img/{name}.rgb", a.tobytes())
        im.save(os.path.join(out.root, f"img/{name}.png"))
        out.lines["images.tsv"].append(f"{name}\t{w}\t{h}")
        for ow, oh in targets_for(w, h):
            out.resize(name, im, ow, oh)
        for s in SMALL_S:
            for variant in ("seed", "imagenet", "crop"):
                out.tensor(name, im, variant, s)
        if name in BIG_TENSORS:
            for variant in ("seed", "imagenet", "crop"):
                out.tensor(name, im, variant, 224)
    images = {line.split("\t")[0]: None for line in out.lines["images.tsv"]}
    for name, s in PAD_CASES:
        assert name in images, name
        w, h = (int(v) for v in name[1:].split("x"))
        a = np.fromfile(os.path.join(out.root, f"img/{name}.rgb"), np.uint8).reshape(h, w, 3)
        out.tensor(name, Image.fromarray(a, "RGB"), "pad", s)

    n_photos = 0
    dog = os.path.join("..", "shared", "datasets", "dvc-mini", "train", "dog")
    if os.path.isdir(dog):
        for fname in sorted(os.listdir(dog))[:N_PHOTOS]:
            with Image.open(os.path.join(dog, fname)) as f:
                im = f.convert("RGB")
            name = "dog_" + os.path.splitext(fname)[0].replace(".", "_")
            out.raw(f"img/{name}.rgb", np.asarray(im).tobytes())
            out.lines["photos.tsv"].append(
                f"{name}\t{im.width}\t{im.height}\ttrain/dog/{fname}")
            out.resize(name, im, 224, 224)
            out.tensor(name, im, "seed", 224)
            if n_photos < N_PHOTO_CROPS:
                out.tensor(name, im, "crop", 224)
            n_photos += 1

    out.finish()
    print(f"pil_transform_oracle: {len(SIZES)} images, {n_photos} photos, "
          f"{len(out.lines['resize.tsv'])} resizes, {len(out.lines['tensor.tsv'])} tensors, "
          f"{out.nbytes / 1e6:.1f} MB in {out.root}")


if __name__ == "__main__":
    main()
