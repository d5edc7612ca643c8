#!/usr/bin/python3
# torchvision_oracle.py -- the test oracle for frost's fidelity tests.
#
# It records what torchvision prints and holds for the VGG and ResNet families,
# so frost's libtorch C++ rebuild can be checked against the real thing: the
# print(model) text, the state_dict keys/dtypes/shapes, parameter counts,
# per-module output shapes, and forward-pass fixtures (weights + input + logits)
# as safetensors files. Checked with torchvision 0.14 / PyTorch 1.13 (Debian 12)
# and 0.21 / 2.6 (Debian 13): every file it writes is the same, byte for byte.
#
# It is only run by `make test`, as:
#     /usr/bin/python3 tests/oracle/torchvision_oracle.py OUTDIR
# (Debian's /usr/bin/python3 is the interpreter that has torch/torchvision.)
# It never downloads anything: every model is built with weights=None.
#
# Outputs under OUTDIR:
#   print/<arch>.txt, print/<arch>_head2.txt, print/{resnet18,vgg11_bn}_head7.txt
#       str(model) + "\n", plain (1000 classes) and after the seed-style head
#       replacement (all params frozen, new classifier / fc with N outputs).
#   state/<arch>.tsv, state/<arch>_head2.tsv
#       key<TAB>dtype(F32|I64)<TAB>shape (comma-separated, empty for 0-dim),
#       one line per state_dict entry, in order.
#   counts.tsv
#       arch<TAB>variant(plain|head2)<TAB>total params<TAB>trainable params
#   summary/<arch>_<S>.tsv
#       path<TAB>ClassName<TAB>outshape for the root (path "") and then every
#       module in named_modules() order; output shape of that module for a
#       zero 1x3xSxS input in eval mode ("-" if never called). A module called
#       more than once (e.g. the shared ReLU in a ResNet block) reports the
#       shape of its LAST call.
#   macs.tsv, saved.tsv   what frost's cost estimate is checked against (see do_costs)
#   fwd/<arch>_io.safetensors   for every architecture: the input, the eval-mode and train-mode
#       logits and the running statistics after the train-mode pass, of a model whose weights and
#       BatchNorm statistics follow a formula frost's test reproduces (see do_forward).

import json
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision import models

ARCHS = [
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
    "vgg19", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
]
HEAD7 = ["resnet18", "vgg11_bn"]
SUMMARIES = [("resnet18", 224), ("resnet50", 224), ("vgg16", 224),
             ("vgg11_bn", 64), ("resnet152", 64)]

DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}

_written = []


# ---------------------------------------------------------------- helpers

def _atomic_write_bytes(path, chunks):
    """Write an iterable of bytes-like chunks to path via a temp file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)
    _written.append(path)


def write_text(path, text):
    _atomic_write_bytes(path, [text.encode("utf-8")])


class NoInit:
    """Make the torch.nn.init functions used during construction no-ops."""
    NAMES = ["kaiming_normal_", "kaiming_uniform_", "normal_", "constant_",
             "uniform_", "zeros_", "ones_"]

    def __enter__(self):
        self.saved = {n: getattr(torch.nn.init, n) for n in self.NAMES}
        for n in self.NAMES:
            setattr(torch.nn.init, n, lambda tensor, *a, **k: tensor)
        return self

    def __exit__(self, *exc):
        for n, fn in self.saved.items():
            setattr(torch.nn.init, n, fn)
        return False


def build(arch):
    return getattr(models, arch)(weights=None)


def replace_head(model, arch, n):
    """The seed's head replacement: freeze everything, then a new head."""
    for p in model.parameters():
        p.requires_grad = False
    if arch.startswith("vgg"):
        model.classifier = torch.nn.Sequential(
            torch.nn.Linear(25088, 4096),
            torch.nn.ReLU(),
            torch.nn.Dropout(p=0.5),
            torch.nn.Linear(4096, 4096),
            torch.nn.ReLU(),
            torch.nn.Dropout(p=0.5),
            torch.nn.Linear(4096, n))
    else:
        model.fc = torch.nn.Linear(model.fc.in_features, n)
    return model


def shape_str(shape):
    return ",".join(str(int(d)) for d in shape)


def state_tsv(model):
    lines = []
    for k, t in model.state_dict().items():
        dt = DTYPES[t.dtype][0]
        lines.append("%s\t%s\t%s\n" % (k, dt, shape_str(t.shape)))
    return "".join(lines)


def storage_of(t):
    """t's storage, untyped: PyTorch 2.x warns that Tensor.storage() is deprecated, and 1.13 has no
    untyped_storage() (the bytes and the address are the same)."""
    return t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()


def counts(model):
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def write_safetensors(path, tensors):
    """tensors: ordered dict name -> torch tensor (F32 or I64)."""
    header = {"__metadata__": {"format": "pt"}}
    arrays = []
    off = 0
    for name, t in tensors.items():
        dt, npdt = DTYPES[t.dtype]
        # (np.ascontiguousarray would turn a 0-dim tensor into shape [1])
        a = t.detach().cpu().contiguous().numpy().astype(npdt, copy=False)
        assert a.flags["C_CONTIGUOUS"] and a.shape == tuple(t.shape), name
        n = a.nbytes
        header[name] = {"dtype": dt, "shape": [int(d) for d in t.shape],
                        "data_offsets": [off, off + n]}
        arrays.append(a)
        off += n
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-(8 + len(hjson))) % 8
    hjson += b" " * pad
    chunks = [np.uint64(len(hjson)).astype("<u8").tobytes(), hjson]
    chunks += [memoryview(a).cast("B") for a in arrays]
    _atomic_write_bytes(path, chunks)


def read_safetensors(path):
    """Minimal reader, used to self-check the writer."""
    with open(path, "rb") as f:
        buf = f.read()
    n = int(np.frombuffer(buf[:8], dtype="<u8")[0])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    out = {}
    np_of = {"F32": "<f4", "I64": "<i8"}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(data[b:e], dtype=np_of[v["dtype"]]).reshape(v["shape"])
    return header, out


# ---------------------------------------------------------------- sections

def do_text(outdir):
    count_lines = []
    with NoInit():
        for arch in ARCHS:
            m = build(arch)
            write_text(os.path.join(outdir, "print", arch + ".txt"), str(m) + "\n")
            write_text(os.path.join(outdir, "state", arch + ".tsv"), state_tsv(m))
            count_lines.append("%s\tplain\t%d\t%d\n" % ((arch,) + counts(m)))
            replace_head(m, arch, 2)
            write_text(os.path.join(outdir, "print", arch + "_head2.txt"), str(m) + "\n")
            write_text(os.path.join(outdir, "state", arch + "_head2.tsv"), state_tsv(m))
            count_lines.append("%s\thead2\t%d\t%d\n" % ((arch,) + counts(m)))
            del m
        for arch in HEAD7:
            m = replace_head(build(arch), arch, 7)
            write_text(os.path.join(outdir, "print", arch + "_head7.txt"), str(m) + "\n")
            del m
    write_text(os.path.join(outdir, "counts.tsv"), "".join(count_lines))


def do_summaries(outdir):
    for arch, s in SUMMARIES:
        with NoInit():
            m = build(arch)
        with torch.no_grad():
            # weights are uninitialised memory: zero them so the forward is
            # cheap and NaN/denormal-free (only shapes are recorded).
            for t in list(m.parameters()) + list(m.buffers()):
                if t.is_floating_point():
                    t.zero_()
        m.eval()
        named = list(m.named_modules())  # root first, path ""
        shapes = {}
        hooks = []
        for path, mod in named:
            def hook(mod, inp, out, path=path):
                shapes[path] = shape_str(out.shape)
            hooks.append(mod.register_forward_hook(hook))
        with torch.no_grad():
            m(torch.zeros(1, 3, s, s))
        for h in hooks:
            h.remove()
        lines = ["%s\t%s\t%s\n" % (path, type(mod).__name__, shapes.get(path, "-"))
                 for path, mod in named]
        write_text(os.path.join(outdir, "summary", "%s_%d.tsv" % (arch, s)), "".join(lines))
        del m


def formula_values(k, shape, kind):
    """Entry k's values by frost's test formula (tests/support/fixtures.c: fx_formula_fill): for
    element i, u = (((i * 2654435761 + (k + 1) * 97531) mod 2^32) >> 7) mod 2001 and v = (u - 1000)
    / 1000, in [-1, 1]; then by kind, all in double and rounded to float32 once at the end:
      weight (2-D and more): v * sqrt(6 / fan_in)   (He's uniform: activations keep their size)
      scale (a BatchNorm's 1-D weight) and running_var: 1 + 0.5 v
      residual (a bottleneck's last BatchNorm weight, bn3.weight): 0.05 * (1 + 0.5 v), so its branch
          adds little and the deep ResNets stay well conditioned in train mode (with 1 + 0.5 v, a
          ResNet-152's train-mode logits move by 1e-2 for a 1e-7 change of the input)
      bias, running_mean: 0.1 v
      input: v"""
    n = int(np.prod(shape)) if len(shape) else 1
    # the hash in uint32, whose products wrap mod 2^32 as the formula says; u has only 2001 values,
    # so each value's float32 is computed once (in double, as above) and looked up: the same bits as
    # computing every element in double, several times faster on VGG's 100M-weight layers
    i = np.arange(n, dtype=np.uint32)
    h = i * np.uint32(2654435761)
    h += np.uint32(((k + 1) * 97531) & 0xFFFFFFFF)
    h >>= np.uint32(7)
    h %= np.uint32(2001)
    v = (np.arange(2001, dtype=np.float64) - 1000.0) / 1000.0
    if kind == "weight":
        v = v * float(np.sqrt(6.0 / (n // shape[0])))
    elif kind == "scale":
        v = 1.0 + 0.5 * v
    elif kind == "residual":
        v = 0.05 * (1.0 + 0.5 * v)
    elif kind == "shift":
        v = 0.1 * v
    return torch.from_numpy(v.astype(np.float32)[h].reshape(shape))


def formula_kind(name, t):
    if name.endswith("bn3.weight"):
        return "residual"
    if name.endswith("running_var"):
        return "scale"
    if name.endswith("running_mean") or name.endswith("bias"):
        return "shift"
    return "weight" if t.dim() >= 2 else "scale"


def do_forward(outdir):
    """fwd/<arch>_io.safetensors for every architecture: the weights and BatchNorm statistics of
    the formula above (no weights file: frost's test fills its model by the same formula), an input
    x (2x3xSxS, S=64 resnets, 32 VGGs; the formula with k = 100000, kind input), and
      logits         the model in eval mode on x
      logits_train   then in train mode, after torch.manual_seed(7) (dropout masks; BatchNorm on
                     the batch's statistics)
      after.<key>    every BatchNorm running statistic after that train-mode pass"""
    for arch in ARCHS:
        with NoInit():   # every float entry is written below
            m = build(arch)
        with torch.no_grad():
            for k, (name, t) in enumerate(m.state_dict().items()):
                if t.dtype == torch.float32:
                    t.copy_(formula_values(k, list(t.shape), formula_kind(name, t)))
        s = 64 if arch.startswith("resnet") else 32
        x = formula_values(100000, [2, 3, s, s], "input")
        m.eval()
        with torch.no_grad():
            logits = m(x)
            torch.manual_seed(7)
            m.train()
            logits_train = m(x)
        out = {"input": x, "logits": logits.contiguous(), "logits_train": logits_train.contiguous()}
        for name, t in m.state_dict().items():
            if name.endswith("running_mean") or name.endswith("running_var"):
                out["after." + name] = t
        path = os.path.join(outdir, "fwd", arch + "_io.safetensors")
        write_safetensors(path, out)
        header, back = read_safetensors(path)   # the writer checked: read back, bit for bit
        assert [k for k in header if k != "__metadata__"] == list(out), "safetensors key order"
        for key, t in out.items():
            assert np.array_equal(back[key], t.numpy()), key
        del m


def do_costs(outdir):
    """What frost's cost estimate is checked against (core/model/cost.h, tests/core/test_cost.c):
      macs.tsv   arch<TAB>multiply-adds of one 224x224 image<TAB>those of its first call: forward hooks
                 on every Conv2d (output elements x in_channels/groups x kh x kw) and Linear (output
                 elements x in_features)
      saved.tsv  arch<TAB>size<TAB>batch<TAB>trainable<TAB>bytes: the tensors autograd keeps for the
                 backward pass (torch.autograd.graph.saved_tensors_hooks), each storage once, parameters
                 and buffers left out, for a forward pass in train mode with frozen BatchNorm in eval
                 mode (frost's default) and only the listed modules trainable"""
    lines = []
    for arch in ARCHS:
        with NoInit():
            m = build(arch)
        m.eval()
        counts = []

        def hook(mod, inp, out):
            if isinstance(mod, torch.nn.Conv2d):
                counts.append(out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1])
            elif isinstance(mod, torch.nn.Linear):
                counts.append(out.numel() * mod.in_features)
        handles = [mod.register_forward_hook(hook) for mod in m.modules()
                   if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))]
        with torch.no_grad():
            m(torch.zeros(1, 3, 224, 224))
        for h in handles:
            h.remove()
        lines.append("%s\t%d\t%d\n" % (arch, sum(counts), counts[0]))
        del m
    write_text(os.path.join(outdir, "macs.tsv"), "".join(lines))

    cases = [("resnet18", 64, 2, "fc"), ("resnet18", 64, 2, "layer4,fc"), ("resnet18", 64, 2, "all"),
             ("vgg11_bn", 64, 2, "classifier"), ("vgg11_bn", 64, 2, "features.22,classifier"),
             ("vgg11_bn", 64, 2, "all")]
    lines = []
    for arch, size, batch, trainable in cases:
        torch.manual_seed(0)
        m = replace_head(build(arch), arch, 2)
        for name, p in m.named_parameters():
            p.requires_grad = trainable == "all" or any(name == t or name.startswith(t + ".")
                                                        for t in trainable.split(","))
        m.train()
        for mod in m.modules():   # frost's default: a frozen BatchNorm stays in eval mode
            if isinstance(mod, torch.nn.BatchNorm2d) and not any(p.requires_grad for p in mod.parameters()):
                mod.eval()
        own = {storage_of(t).data_ptr() for t in list(m.parameters()) + list(m.buffers())}
        kept = {}

        def pack(t):
            st = storage_of(t)
            if st.data_ptr() not in own:
                kept[st.data_ptr()] = st.nbytes()
            return t
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            m(torch.randn(batch, 3, size, size))
        lines.append("%s\t%d\t%d\t%s\t%d\n" % (arch, size, batch, trainable, sum(kept.values())))
        del m
    write_text(os.path.join(outdir, "saved.tsv"), "".join(lines))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: /usr/bin/python3 %s OUTDIR\n" % sys.argv[0])
        return 2
    outdir = sys.argv[1]
    torch.set_num_threads(2)
    # the releases whose output this file has been checked against: Debian 12's and Debian 13's
    release = (torch.__version__[:4], torchvision.__version__[:4])
    assert release in [("1.13", "0.14"), ("2.6.", "0.21")], release
    os.makedirs(outdir, exist_ok=True)
    do_text(outdir)
    do_summaries(outdir)
    do_forward(outdir)
    do_costs(outdir)
    print("oracle: wrote %d files to %s" % (len(_written), outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
