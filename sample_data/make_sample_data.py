#!/usr/bin/python3
# make_sample_data.py -- generator for frost's small demo dataset.
#
# The JPEGs next to this script were made by running, from the repo root:
#     /usr/bin/python3 sample_data/make_sample_data.py
# (Debian's /usr/bin/python3 with PIL/Pillow; no other dependency.)
#
# Layout is torchvision ImageFolder style:
#     sample_data/{train,valid}/{circles,squares,triangles}/{circle,square,triangle}_NNN.jpg
# 40 train + 12 valid images per class, each a 112x112 RGB JPEG (quality 85):
# enough for a short training run to visibly learn, small enough to commit.
# Every image is drawn synthetically: a random two-colour gradient
# background, a few faint distractor strokes, one filled shape (a circle or
# an axis-aligned / slightly rotated square, or a triangle) of random colour, size and
# position with an outline, then per-pixel noise and a light blur so it looks
# more like a photo than clip art. The shape's hue leans towards its class
# (see HUES). Output is deterministic: a fixed seed
# (SEED below) drives Python's `random`, so re-running rewrites identical
# files (given the same Pillow version / libjpeg).

import colorsys
import math
import os
import random

from PIL import Image, ImageDraw, ImageFilter

SEED = 20240613
SIZE = 112
QUALITY = 85
COUNTS = {"train": 40, "valid": 12}
CLASSES = [("circles", "circle"), ("squares", "square"), ("triangles", "triangle")]
ROOT = os.path.dirname(os.path.abspath(__file__))


def rand_colour(rng, lo=0, hi=255):
    return tuple(rng.randint(lo, hi) for _ in range(3))


def gradient(rng):
    """Linear gradient between two random colours in a random direction."""
    c0, c1 = rand_colour(rng, 30, 230), rand_colour(rng, 30, 230)
    ang = rng.uniform(0, 2 * math.pi)
    dx, dy = math.cos(ang), math.sin(ang)
    img = Image.new("RGB", (SIZE, SIZE))
    px = img.load()
    half = SIZE / 2.0
    for y in range(SIZE):
        for x in range(SIZE):
            t = ((x - half) * dx + (y - half) * dy) / (SIZE * 0.75) + 0.5
            t = min(1.0, max(0.0, t))
            px[x, y] = tuple(int(a + (b - a) * t) for a, b in zip(c0, c1))
    return img


def add_noise(img, rng, amp):
    px = img.load()
    for y in range(SIZE):
        for x in range(SIZE):
            n = rng.randint(-amp, amp)
            r, g, b = px[x, y]
            px[x, y] = (min(255, max(0, r + n + rng.randint(-3, 3))),
                        min(255, max(0, g + n + rng.randint(-3, 3))),
                        min(255, max(0, b + n + rng.randint(-3, 3))))


# Each class draws its shape's hue from its own third of the colour wheel, so that even a network with random, frozen weights, which sees colour far better than
# shape, visibly learns in a few epochs; with pretrained weights the shapes themselves are learnable.
HUES = {"circle": 0.0, "square": 1.0 / 3.0, "triangle": 2.0 / 3.0}


def class_colour(rng, kind):
    hue = (HUES[kind] + rng.uniform(-0.12, 0.12)) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(0.55, 1.0), rng.uniform(0.6, 1.0))
    return (int(r * 255), int(g * 255), int(b * 255))


def contrasting(rng, bg_mean, kind):
    """A colour of the class's hues that stands out against the background mean."""
    best = None
    for _ in range(200):
        c = class_colour(rng, kind)
        d = sum(abs(a - b) for a, b in zip(c, bg_mean))
        if d > 180:
            return c
        if best is None or d > best[0]:
            best = (d, c)
    return best[1]


def draw_image(kind, rng):
    img = gradient(rng)
    bg_mean = img.resize((1, 1)).getpixel((0, 0))
    d = ImageDraw.Draw(img)
    # faint distractor strokes
    for _ in range(rng.randint(1, 3)):
        col = tuple(min(255, max(0, v + rng.randint(-40, 40))) for v in bg_mean)
        pts = [(rng.randint(0, SIZE), rng.randint(0, SIZE)) for _ in range(2)]
        d.line(pts, fill=col, width=rng.randint(1, 3))
    fill = contrasting(rng, bg_mean, kind)
    outline = tuple(max(0, v - 70) for v in fill)
    r = rng.randint(14, 36)                       # half-size of the shape
    cx = rng.randint(r + 4, SIZE - r - 4)
    cy = rng.randint(r + 4, SIZE - r - 4)
    if kind == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline,
                  width=rng.randint(1, 3))
    elif kind == "triangle":
        ang = rng.uniform(0, 2 * math.pi)
        corners = [(cx + r * math.cos(ang + k * 2 * math.pi / 3),
                    cy + r * math.sin(ang + k * 2 * math.pi / 3)) for k in range(3)]
        d.polygon(corners, fill=fill, outline=outline)
    else:
        ang = math.radians(rng.choice([0, 0, rng.uniform(-20, 20)]))
        corners = []
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            x, y = sx * r, sy * r
            corners.append((cx + x * math.cos(ang) - y * math.sin(ang),
                            cy + x * math.sin(ang) + y * math.cos(ang)))
        d.polygon(corners, fill=fill, outline=outline)
    # a soft highlight for a bit of shading
    hl = tuple(min(255, v + 50) for v in fill)
    hr = max(3, r // 4)
    d.ellipse([cx - r // 2 - hr, cy - r // 2 - hr, cx - r // 2 + hr, cy - r // 2 + hr],
              fill=hl)
    img = img.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.4, 1.0)))
    add_noise(img, rng, rng.randint(4, 12))
    return img


def main():
    rng = random.Random(SEED)
    n = 0
    for split, count in COUNTS.items():
        for folder, stem in CLASSES:
            out = os.path.join(ROOT, split, folder)
            os.makedirs(out, exist_ok=True)
            for i in range(count):
                img = draw_image(stem, rng)
                path = os.path.join(out, "%s_%03d.jpg" % (stem, i))
                img.save(path, "JPEG", quality=QUALITY)
                n += 1
    print("make_sample_data: wrote %d images under %s" % (n, ROOT))


if __name__ == "__main__":
    main()
