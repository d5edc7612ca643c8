#!/usr/bin/python3
"""seed_train.py — the tutorial's training script, made runnable here, for bench/run to time.

What the tutorial does, step by step (see ../shared/seed/README.md), rewritten for this benchmark:
torchvision's VGG16 or ResNet50 (no pretrained download: random weights, the cost is the same),
every parameter frozen, the head replaced (VGG16: the whole classifier, ending in Linear(4096, N);
ResNet50: fc = Linear(2048, N)), Resize([224,224]) + ToTensor + Normalize(0.5), ImageFolder +
DataLoader(batch 16, shuffle), Adam(lr 1e-5) over the new head, cross-entropy; each epoch a train
phase (model.train(True), backward, step) and a valid phase (model.train(False)). Differences from
the tutorial, on purpose: the device is chosen at run time (the tutorial calls .cuda() always), and
the optimizer is built once. It prints one JSON line: seconds, images/s, final valid accuracy.

usage: bench/seed_train.py DATASET vgg16|resnet50|resnetNN EPOCHS
"""
import json
import os
import sys
import time

import torch
import torchvision
from torchvision import datasets, transforms


def main():
    root, arch, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    start = time.time()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tf = transforms.Compose([transforms.Resize([224, 224]), transforms.ToTensor(),
                             transforms.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])])
    data = {s: datasets.ImageFolder(os.path.join(root, s), tf) for s in ("train", "valid")}
    loaders = {s: torch.utils.data.DataLoader(data[s], batch_size=16, shuffle=True) for s in data}
    classes = len(data["train"].classes)
    torch.manual_seed(0)
    if arch == "vgg16":
        model = torchvision.models.vgg16()
        for p in model.parameters():
            p.requires_grad = False
        model.classifier = torch.nn.Sequential(
            torch.nn.Linear(25088, 4096), torch.nn.ReLU(), torch.nn.Dropout(p=0.5),
            torch.nn.Linear(4096, 4096), torch.nn.ReLU(), torch.nn.Dropout(p=0.5),
            torch.nn.Linear(4096, classes))
        head = model.classifier
    else:   # resnet50 (or another ResNet, for bench/run --quick)
        model = getattr(torchvision.models, arch)()
        for p in model.parameters():
            p.requires_grad = False
        model.fc = torch.nn.Linear(model.fc.in_features, classes)
        head = model.fc
    model = model.to(device)
    loss_f = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-5)
    images = 0
    acc = 0.0
    for epoch in range(epochs):
        for phase in ("train", "valid"):
            model.train(phase == "train")
            correct, seen = 0, 0
            for x, y in loaders[phase]:
                x, y = x.to(device), y.to(device)
                with torch.set_grad_enabled(phase == "train"):
                    out = model(x)
                    loss = loss_f(out, y)
                    if phase == "train":
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()
                correct += int((out.argmax(1) == y).sum())
                seen += y.numel()
            images += seen
            acc = 100.0 * correct / max(seen, 1)
            print(f"epoch {epoch + 1} {phase} ACC:{acc:.4f}", file=sys.stderr, flush=True)
    secs = time.time() - start
    print(json.dumps({"seconds": secs, "images_per_s": images / secs, "valid_acc": acc,
                      "threads": torch.get_num_threads(), "device": str(device)}))


if __name__ == "__main__":
    main()
