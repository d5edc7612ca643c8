#!/usr/bin/env python3
"""cross_entropy.py - PyTorch's CrossEntropyLoss on given logits, for tests/shim/test_class_weights.c.

  cross_entropy.py IN.json   (IN.json: {"logits": [[...], ...], "labels": [...], "weight": [...] or null})

Prints the mean loss as nn.CrossEntropyLoss(weight=...) computes it (with weights: the weighted sum
divided by the labels' summed weights), in double precision from the float32 logits.
"""
import json
import sys

import torch
import torch.nn as nn

with open(sys.argv[1]) as f:
    spec = json.load(f)
logits = torch.tensor(spec['logits'], dtype=torch.float32)
labels = torch.tensor(spec['labels'], dtype=torch.int64)
weight = torch.tensor(spec['weight'], dtype=torch.float32) if spec['weight'] is not None else None
loss = nn.CrossEntropyLoss(weight=weight)(logits, labels)
print(repr(loss.item()))
