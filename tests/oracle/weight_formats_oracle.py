#!/usr/bin/python3
# weight_formats_oracle.py -- weight files in the formats people actually have, for frost's readers.
#
# Run by `make test` as  /usr/bin/python3 tests/oracle/weight_formats_oracle.py OUTDIR
# (Debian's python3-torch and torchvision: 1.13 / 0.14 on Debian 12, 2.6 / 0.21 on Debian 13). Nothing is downloaded: weights are random
# (torch.manual_seed) and the formats are written by torch.save itself, or byte by byte for
# safetensors (the timm layout is made here from torchvision's keys).
#
# Outputs under OUTDIR/wf/:
#   resnet18.pth            torch.save zip format (the default since PyTorch 1.6)
#   resnet18_legacy.pth     torch.save(..., _use_new_zipfile_serialization=False), and without the
#                           num_batches_tracked buffers, like torchvision's old files
#   resnet18_timm.safetensors   timm's layout (for ResNet the same keys as torchvision's)
#   resnet18_io.safetensors {"input": 2x3x64x64, "logits": 2x1000} of the model above, in eval mode
#   vgg11_timm.safetensors  timm's VGG layout: pre_logits.fc1 (4096x512x7x7 conv), pre_logits.fc2
#                           (4096x4096x1x1), head.fc; features.* as torchvision's
#   vgg11_io.safetensors    input 2x3x32x32 and its logits
#   resnet18_head2.pth      zip format, a 2-class head (fits no 1000-class model: a mismatch case)
#   tiny.pth, tiny_legacy.pth   {"a": 2x3 float, "b": int64[4], "c": a.t() (non-contiguous),
#                           "d": a slice at an offset into a bigger storage, "s": a 0-dim double}
#   tiny.tsv                name<TAB>dtype<TAB>shape<TAB>values (comma separated, contiguous order)
#   evil.pth                a zip whose data.pkl calls os.system (the reader must refuse it)
#   tiny_big_endian.pth     tiny.pth with a "byteorder" entry saying "big" (as PyTorch 2 writes it)

import io
import os
import sys
import zipfile

import torch
from torchvision import models

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_oracle import write_safetensors  # noqa: E402

# torchvision classifier index -> (timm name, shape maker)
TIMM_VGG = {
    "classifier.0.weight": ("pre_logits.fc1.weight", lambda t: t.reshape(4096, 512, 7, 7)),
    "classifier.0.bias": ("pre_logits.fc1.bias", None),
    "classifier.3.weight": ("pre_logits.fc2.weight", lambda t: t.reshape(4096, 4096, 1, 1)),
    "classifier.3.bias": ("pre_logits.fc2.bias", None),
    "classifier.6.weight": ("head.fc.weight", None),
    "classifier.6.bias": ("head.fc.bias", None),
}


def atomic_save(path, obj, **kw):
    tmp = path + ".tmp"
    torch.save(obj, tmp, **kw)
    os.replace(tmp, path)


def atomic_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def logits_io(model, size):
    model.eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        y = model(x)
    return {"input": x, "logits": y}


def do_resnet18(out):
    torch.manual_seed(11)
    m = models.resnet18()
    # non-trivial running statistics, so that loading them is tested too
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.copy_(torch.randn_like(mod.running_mean) * 0.1)
            mod.running_var.copy_(torch.rand_like(mod.running_var) + 0.5)
    sd = m.state_dict()
    atomic_save(os.path.join(out, "resnet18.pth"), sd)
    old = type(sd)((k, v) for k, v in sd.items() if not k.endswith("num_batches_tracked"))
    atomic_save(os.path.join(out, "resnet18_legacy.pth"), old, _use_new_zipfile_serialization=False)
    write_safetensors(os.path.join(out, "resnet18_timm.safetensors"), sd)
    write_safetensors(os.path.join(out, "resnet18_io.safetensors"), logits_io(m, 64))
    m.fc = torch.nn.Linear(512, 2)
    atomic_save(os.path.join(out, "resnet18_head2.pth"), m.state_dict())


def do_vgg11(out):
    torch.manual_seed(12)
    m = models.vgg11()
    timm = {}
    for k, v in m.state_dict().items():
        name, reshape = TIMM_VGG.get(k, (k, None))
        timm[name] = reshape(v) if reshape else v
    write_safetensors(os.path.join(out, "vgg11_timm.safetensors"), timm)
    write_safetensors(os.path.join(out, "vgg11_io.safetensors"), logits_io(m, 32))


def do_tiny(out):
    a = torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1
    big = torch.arange(20, dtype=torch.float32)
    tiny = {
        "a": a,
        "b": torch.tensor([1, -2, 3, 1 << 40], dtype=torch.int64),
        "c": a.t(),
        "d": big[5:11].view(3, 2),
        "s": torch.tensor(2.25, dtype=torch.float64),
    }
    atomic_save(os.path.join(out, "tiny.pth"), tiny)
    atomic_save(os.path.join(out, "tiny_legacy.pth"), tiny, _use_new_zipfile_serialization=False)
    lines = []
    names = {torch.float32: "F32", torch.int64: "I64", torch.float64: "F64"}
    for k, v in tiny.items():
        vals = ",".join(repr(x) for x in v.contiguous().reshape(-1).tolist())
        lines.append("%s\t%s\t%s\t%s\n" % (k, names[v.dtype], ",".join(str(d) for d in v.shape), vals))
    atomic_bytes(os.path.join(out, "tiny.tsv"), "".join(lines).encode())


def do_evil(out):
    # what a hostile .pth looks like: a pickle that calls os.system("true") when unpickled
    pkl = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil/data.pkl", pkl)
        z.writestr("evil/version", "3\n")
    atomic_bytes(os.path.join(out, "evil.pth"), buf.getvalue())


def do_big_endian(out):
    # PyTorch 2.x (Debian 13) writes a "byteorder" entry of its own ("little"): it is replaced, not
    # added a second time (a zip with two entries of one name is no file torch.save writes)
    buf = io.BytesIO()
    with zipfile.ZipFile(os.path.join(out, "tiny.pth")) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        byteorder = src.infolist()[0].filename.split("/")[0] + "/byteorder"
        for info in src.infolist():
            if info.filename != byteorder:
                z.writestr(info.filename, src.read(info.filename))
        z.writestr(byteorder, "big")
    atomic_bytes(os.path.join(out, "tiny_big_endian.pth"), buf.getvalue())


def main():
    out = os.path.join(sys.argv[1], "wf")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    do_tiny(out)
    do_big_endian(out)
    do_evil(out)
    do_resnet18(out)
    do_vgg11(out)


if __name__ == "__main__":
    main()
