#!/usr/bin/python3
# pil_decode_oracle.py -- the test oracle for core/data/image_decode.c.
#
# frost must decode images to exactly the bytes of PIL.Image.open(f).convert('RGB') (what
# torchvision's ImageFolder does). This script makes small fixture images in every mode that
# matters, asks Pillow for its verdict on each, and writes it down for
# tests/test_image_decode.c to compare against. frost follows Debian 12's Pillow 9.4; where
# Debian 13's 11.1 says otherwise (16-bit grey's mode name, indices past a short palette), the
# test says so (pillow_version.txt tells it which Pillow spoke).
#
# It is only run by `make test`, as:
#     /usr/bin/python3 tests/oracle/pil_decode_oracle.py OUTDIR
# (Debian's /usr/bin/python3 is the interpreter that has PIL and numpy.) It writes under
# OUTDIR/decode/ only, is deterministic, never downloads anything, and prints one line.
#
# Outputs under OUTDIR/decode/:
#   files/<name>        the fixture images (JPEG, PNG, PPM); most written by Pillow, odd PNGs by the
#                       tiny encoder below (Pillow cannot write 16-bit RGB, 2-bit grey, interlaced
#                       or deliberately damaged PNGs), some JPEGs by TurboJPEG (through ctypes: YCCK,
#                       4:4:0, 4:1:1) and by jpegtran/cjpeg (restart markers, arithmetic coding, RGB
#                       colourspace) when libjpeg-turbo-progs is installed.
#   expected/<name>.rgb Pillow's convert('RGB') bytes (row-major RGB), for the fixtures it decodes.
#   manifest.tsv        name<TAB>format<TAB>mode<TAB>width<TAB>height<TAB>result, where format, mode
#                       and size are what Image.open reports ("-" when open itself fails) and
#                       result is "ok" or "error: <Pillow's exception>".
#   photos.tsv          the same for the first 20 files (sorted, as ImageFolder sorts) of
#                       ../shared/datasets/dvc-mini/train/cat, name being the path relative to
#                       ../shared; expected/photos/<file>.rgb. Absent when that folder is absent.
#   tools_missing.txt   one line per missing optional tool (jpegtran, cjpeg), naming its package.
#   pillow_version.txt  PIL.__version__, one line.

import ctypes
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zlib

import numpy as np
import PIL
from PIL import Image

warnings.simplefilter("ignore")  # Pillow warns about palette transparency in bytes; irrelevant here


# ---------------------------------------------------------------------------------------------
# Source pictures: smooth colour gradients, a few hard edges and some noise, so that chroma
# subsampling, upsampling and the DCT all have something to get wrong.

def picture(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin(x / 5.0 + y / 7.0)
    img = np.stack([r, g, b], axis=2)
    img[(x // 8 + y // 8) % 5 == 0] = [250, 20, 30]  # sharp red tiles
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# A minimal PNG writer: any bit depth / colour type, Adam7, per-row filters, split IDAT, extra
# chunks. Samples come as a numpy array (h, w, channels) of ints.

def chunk(kind, data, bad_crc=False):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    if bad_crc:
        crc ^= 0x5A5A5A5A
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def pack_row(samples, depth):
    # samples: 1-D array of one row's samples (all channels interleaved)
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // depth
    pad = (-len(samples)) % per
    s = np.concatenate([samples, np.zeros(pad, dtype=samples.dtype)]).astype(np.uint8).reshape(-1, per)
    out = np.zeros(len(s), dtype=np.uint8)
    for i in range(per):
        out |= s[:, i] << (8 - depth * (i + 1))
    return out.tobytes()


def filter_rows(rows, bpp, first_filter):
    # Applies filter type (first_filter + row index) % 5 to each packed row.
    out, prior = [], None
    for i, raw in enumerate(rows):
        a = np.frombuffer(raw, dtype=np.uint8).astype(np.int32)
        up = np.frombuffer(prior, dtype=np.uint8).astype(np.int32) if prior is not None else np.zeros_like(a)
        left = np.concatenate([np.zeros(bpp, np.int32), a[:-bpp]]) if len(a) > bpp else np.zeros_like(a)
        ul = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]]) if len(a) > bpp else np.zeros_like(a)
        ft = (first_filter + i) % 5
        if ft == 0:
            f = a
        elif ft == 1:
            f = a - left
        elif ft == 2:
            f = a - up
        elif ft == 3:
            f = a - (left + up) // 2
        else:
            p = left + up - ul
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, ul))
            f = a - pred
        out.append(bytes([ft]) + (f & 0xFF).astype(np.uint8).tobytes())
        prior = raw
    return b"".join(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(px, depth, ctype, plte=None, trns=None, interlace=False, filt=0, idat_parts=1,
              before_idat=b"", after_idat=b"", bad_idat_crc=False, no_iend=False):
    h, w, ch = px.shape
    bpp = max(1, ch * depth // 8)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = px[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            raw += filter_rows([pack_row(r.reshape(-1), depth) for r in sub], bpp, filt)
    else:
        raw = filter_rows([pack_row(r.reshape(-1), depth) for r in px], bpp, filt)
    z = zlib.compress(raw, 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, int(interlace)))
    out += before_idat
    if plte is not None:
        out += chunk(b"PLTE", plte)
    if trns is not None:
        out += chunk(b"tRNS", trns)
    step = max(1, -(-len(z) // idat_parts))
    for i in range(0, len(z), step):
        out += chunk(b"IDAT", z[i:i + step], bad_crc=bad_idat_crc and i == 0)
    out += after_idat
    if not no_iend:
        out += chunk(b"IEND", b"")
    return out


# ---------------------------------------------------------------------------------------------
# Other encoders: Pillow, TurboJPEG through ctypes, jpegtran / cjpeg.

def pil_bytes(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def tj_compress(px, pixel_format, subsamp, quality=85):
    """TurboJPEG's tjCompress2; returns None when libturbojpeg cannot be loaded."""
    try:
        tj = ctypes.CDLL("libturbojpeg.so.0")
    except OSError:
        return None
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(tj.tjInitCompress())
    h, w, ch = px.shape
    src = np.ascontiguousarray(px, dtype=np.uint8).tobytes()
    buf = ctypes.POINTER(ctypes.c_ubyte)()
    size = ctypes.c_ulong(0)
    rc = tj.tjCompress2(handle, src, w, 0, h, pixel_format, ctypes.byref(buf), ctypes.byref(size), subsamp,
                        quality, 0)
    data = ctypes.string_at(buf, size.value) if rc == 0 else None
    tj.tjFree(buf)
    tj.tjDestroy(handle)
    return data


def run_tool(args, data):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout


def strip_app14(jpeg):
    """Removes the Adobe APP14 segment (a CMYK JPEG without it is still read as inverted by Pillow)."""
    i = 2
    while i + 4 <= len(jpeg) and jpeg[i] == 0xFF:
        marker, length = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        if marker == 0xEE:
            return jpeg[:i] + jpeg[i + 2 + length:]
        if marker == 0xDA:
            break
        i += 2 + length
    raise ValueError("no APP14")


def scan_start(jpeg):
    """Offset of the first byte after the first SOS header."""
    i = jpeg.index(b"\xff\xda")
    return i + 2 + struct.unpack(">H", jpeg[i + 2:i + 4])[0]


# ---------------------------------------------------------------------------------------------
# The fixtures

def fixtures(tools_missing):
    f = {}
    pic = picture(97, 61, 1)
    big = picture(320, 240, 2)
    rgb, rgb_big = Image.fromarray(pic), Image.fromarray(big)
    gray = rgb.convert("L")

    # JPEG written by Pillow (libjpeg-turbo underneath)
    f["jpeg_444.jpg"] = pil_bytes(rgb, "JPEG", quality=90, subsampling=0)
    f["jpeg_422.jpg"] = pil_bytes(rgb, "JPEG", quality=90, subsampling=1)
    f["jpeg_420.jpg"] = pil_bytes(rgb, "JPEG", quality=90, subsampling=2)
    f["jpeg_420_big_q75.jpg"] = pil_bytes(rgb_big, "JPEG", quality=75)
    f["jpeg_q100.jpg"] = pil_bytes(rgb, "JPEG", quality=100, subsampling=0)
    f["jpeg_optimized.jpg"] = pil_bytes(rgb_big, "JPEG", quality=80, optimize=True)
    f["jpeg_progressive_420.jpg"] = pil_bytes(rgb_big, "JPEG", quality=85, progressive=True)
    f["jpeg_progressive_444.jpg"] = pil_bytes(rgb, "JPEG", quality=85, progressive=True, subsampling=0)
    f["jpeg_gray.jpg"] = pil_bytes(gray, "JPEG", quality=90)
    f["jpeg_gray_progressive.jpg"] = pil_bytes(gray, "JPEG", quality=90, progressive=True)
    cmyk = rgb.convert("CMYK")
    cmyk_px = np.asarray(cmyk).copy()
    cmyk_px[..., 3] = np.asarray(picture(97, 61, 3))[..., 0]  # a real K channel, not all zero
    cmyk = Image.fromarray(cmyk_px, "CMYK")
    f["jpeg_cmyk_adobe.jpg"] = pil_bytes(cmyk, "JPEG", quality=90)
    f["jpeg_cmyk_progressive.jpg"] = pil_bytes(cmyk, "JPEG", quality=90, progressive=True)
    f["jpeg_cmyk_no_adobe.jpg"] = strip_app14(f["jpeg_cmyk_adobe.jpg"])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation "rotate 90": Pillow's open/convert does not apply it
    f["jpeg_exif_orientation6.jpg"] = pil_bytes(rgb, "JPEG", quality=90, exif=exif.tobytes())
    f["jpeg_1x1.jpg"] = pil_bytes(Image.fromarray(picture(1, 1, 4)), "JPEG")
    f["jpeg_7x5_420.jpg"] = pil_bytes(Image.fromarray(picture(7, 5, 5)), "JPEG", subsampling=2)
    f["jpeg_17x9_422.jpg"] = pil_bytes(Image.fromarray(picture(17, 9, 6)), "JPEG", subsampling=1)
    f["jpeg_16x16_gray.jpg"] = pil_bytes(Image.fromarray(picture(16, 16, 7)).convert("L"), "JPEG")

    # JPEG written by TurboJPEG: YCCK (4-component with Adobe transform 2), 4:4:0, 4:1:1
    tj_cmyk = tj_compress(cmyk_px, 11, 2)  # TJPF_CMYK, TJSAMP_420 -> YCCK
    if tj_cmyk:
        f["jpeg_ycck.jpg"] = tj_cmyk
        f["jpeg_440.jpg"] = tj_compress(pic, 0, 4)
        f["jpeg_411.jpg"] = tj_compress(big, 0, 5)

    # JPEG remade by jpegtran / cjpeg (libjpeg-turbo-progs)
    if shutil.which("jpegtran"):
        base = f["jpeg_420_big_q75.jpg"]
        f["jpeg_restart_rows.jpg"] = run_tool(["jpegtran", "-restart", "1"], base)
        f["jpeg_restart_blocks.jpg"] = run_tool(["jpegtran", "-restart", "1B"], f["jpeg_444.jpg"])
        f["jpeg_restart_progressive.jpg"] = run_tool(["jpegtran", "-progressive", "-restart", "2B"], base)
        f["jpeg_restart_gray.jpg"] = run_tool(["jpegtran", "-restart", "1"], f["jpeg_gray.jpg"])
        f["jpeg_arithmetic.jpg"] = run_tool(["jpegtran", "-arithmetic"], base)
    else:
        tools_missing.append("jpegtran (Debian package libjpeg-turbo-progs): no restart-marker or arithmetic JPEGs")
    if shutil.which("cjpeg"):
        ppm = pil_bytes(rgb, "PPM")
        f["jpeg_rgb_colorspace.jpg"] = run_tool(["cjpeg", "-rgb", "-quality", "90"], ppm)
        f["jpeg_sample_2x1_1x2.jpg"] = run_tool(["cjpeg", "-sample", "2x1,1x2,1x1"], ppm)
    else:
        tools_missing.append("cjpeg (Debian package libjpeg-turbo-progs): no RGB-colourspace JPEG")

    # Damaged JPEGs. Pillow ignores libjpeg's warnings, so some of these decode (and must match);
    # the ones where libjpeg runs out of data before EOI Pillow refuses as truncated.
    base = f["jpeg_420_big_q75.jpg"]
    prog = f["jpeg_progressive_420.jpg"]
    s = scan_start(base)
    mid = s + (len(base) - s) // 2
    rng = np.random.default_rng(9)
    garbage = bytes(int(v) for v in rng.integers(0, 255, 40))  # 0..254: no 0xFF, so no marker
    f["bad_jpeg_garbage_in_scan.jpg"] = base[:mid] + garbage + base[mid + 40:]
    f["bad_jpeg_extraneous_before_eoi.jpg"] = base[:-2] + b"\x12\x34\x56" + base[-2:]
    f["bad_jpeg_eoi_in_scan.jpg"] = base[:mid] + b"\xff\xd9" + base[mid + 2:]
    f["bad_jpeg_trailing_junk.jpg"] = base + b"junk after the end marker"
    f["bad_jpeg_truncated_half.jpg"] = base[:len(base) // 2]
    f["bad_jpeg_no_eoi.jpg"] = base[:-2]
    f["bad_jpeg_progressive_no_eoi.jpg"] = prog[:-2]
    f["bad_jpeg_progressive_truncated.jpg"] = prog[:len(prog) * 2 // 3]
    f["bad_jpeg_sof_in_scan.jpg"] = base[:mid] + b"\xff\xc0\x00\x11" + base[mid + 4:]
    f["bad_jpeg_header_cut.jpg"] = base[:s - 30]

    # PNG written by Pillow
    f["png_rgb_pil.png"] = pil_bytes(rgb, "PNG")
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(picture(97, 61, 8)[..., 1]))
    f["png_rgba_pil.png"] = pil_bytes(rgba, "PNG")
    f["png_l_pil.png"] = pil_bytes(gray, "PNG")
    f["png_la_pil.png"] = pil_bytes(rgba.convert("LA"), "PNG")
    pal = rgb.quantize(64)
    f["png_p_pil.png"] = pil_bytes(pal, "PNG")
    f["png_p_transparency_pil.png"] = pil_bytes(pal, "PNG", transparency=3)
    f["png_1_pil.png"] = pil_bytes(gray.convert("1"), "PNG")
    i16 = Image.fromarray((np.asarray(gray).astype(np.uint16) * 3)).convert("I;16")
    f["png_i16_pil.png"] = pil_bytes(i16, "PNG")
    f["png_optimized_pil.png"] = pil_bytes(rgb_big, "PNG", optimize=True)

    # PNG written here: every depth / colour type, filters, Adam7, palettes shorter than the
    # indices, tRNS, damaged chunks.
    r = np.random.default_rng(11)
    px = pic.astype(np.int64)
    g8 = np.asarray(gray).astype(np.int64)[..., None]
    g16 = r.integers(0, 600, (61, 97, 1))  # half the values above 255: Pillow clips them
    g16[::7] = r.integers(0, 65536, (len(g16[::7]), 97, 1))
    al = r.integers(0, 256, (61, 97, 1))
    for d in (1, 2, 4):
        f[f"png_gray{d}.png"] = png_bytes(r.integers(0, 1 << d, (23, 37, 1)), d, 0, filt=d)
        idx = r.integers(0, 1 << d, (23, 37, 1))
        f[f"png_pal{d}_short.png"] = png_bytes(idx, d, 3, plte=bytes(range(3 * max(1, (1 << d) - 1))), filt=d)
    f["png_gray8.png"] = png_bytes(g8, 8, 0)
    f["png_gray16.png"] = png_bytes(g16, 16, 0, filt=1)
    f["png_rgb8.png"] = png_bytes(px, 8, 2, filt=2)
    f["png_rgb16.png"] = png_bytes(px * 257 + r.integers(0, 256, px.shape), 16, 2, filt=3)
    f["png_rgba8.png"] = png_bytes(np.concatenate([px, al], 2), 8, 6, filt=4)
    f["png_rgba16.png"] = png_bytes(np.concatenate([px, al], 2) * 257 + 77, 16, 6)
    f["png_ga8.png"] = png_bytes(np.concatenate([g8, al], 2), 8, 4, filt=1)
    f["png_ga16.png"] = png_bytes(np.concatenate([g8 * 256 + 200, al * 256], 2), 16, 4, filt=2)
    f["png_pal8_short.png"] = png_bytes(r.integers(0, 256, (61, 97, 1)), 8, 3, plte=bytes(range(0, 150)))
    f["png_pal8_trns.png"] = png_bytes(r.integers(0, 50, (61, 97, 1)), 8, 3, plte=bytes(range(150)),
                                       trns=bytes(range(0, 250, 10)))
    f["png_gray8_trns.png"] = png_bytes(g8, 8, 0, trns=struct.pack(">H", int(g8[0, 0, 0])))
    f["png_gray16_trns.png"] = png_bytes(g16, 16, 0, trns=struct.pack(">H", 5))
    f["png_rgb8_trns.png"] = png_bytes(px, 8, 2, trns=struct.pack(">HHH", *[int(v) for v in px[0, 0]]))
    gama = chunk(b"gAMA", struct.pack(">I", 100000)) + chunk(b"sBIT", b"\x05\x06\x05")
    f["png_rgb8_gama_sbit.png"] = png_bytes(px, 8, 2, before_idat=gama)
    f["png_rgb8_split_idat.png"] = png_bytes(px, 8, 2, idat_parts=7)
    f["png_1x1_rgb.png"] = png_bytes(px[:1, :1], 8, 2)
    # Adam7, including sizes where some passes are empty
    f["png_interlaced_rgb8.png"] = png_bytes(px[:23, :37], 8, 2, interlace=True, filt=1)
    f["png_interlaced_pal4.png"] = png_bytes(r.integers(0, 16, (7, 13, 1)), 4, 3, plte=bytes(range(30)),
                                             interlace=True, filt=3)
    f["png_interlaced_gray16.png"] = png_bytes(g16[:9, :9], 16, 0, interlace=True, filt=4)
    f["png_interlaced_rgba16.png"] = png_bytes(np.concatenate([px, al], 2)[:3, :5] * 250, 16, 6, interlace=True)
    f["png_interlaced_gray1.png"] = png_bytes(r.integers(0, 2, (10, 10, 1)), 1, 0, interlace=True, filt=2)
    f["png_interlaced_ga8_1x1.png"] = png_bytes(np.array([[[77, 9]]]), 8, 4, interlace=True)
    f["png_interlaced_rgb8_3x1.png"] = png_bytes(px[:1, :3], 8, 2, interlace=True)
    # damage Pillow tolerates: bad IDAT CRC, bad CRC after the image data, no IEND
    f["bad_png_idat_crc.png"] = png_bytes(px, 8, 2, bad_idat_crc=True)
    f["bad_png_crc_after_idat.png"] = png_bytes(px, 8, 2, after_idat=chunk(b"tEXt", b"k\0v", bad_crc=True))
    f["bad_png_no_iend.png"] = png_bytes(px, 8, 2, no_iend=True)
    # damage Pillow refuses
    f["bad_png_ancillary_crc.png"] = png_bytes(px, 8, 2, before_idat=chunk(b"tEXt", b"k\0v", bad_crc=True))
    good = png_bytes(px, 8, 2)
    f["bad_png_truncated.png"] = good[:len(good) // 2]
    z = bytearray(good)
    z[good.index(b"IDAT") + 30:good.index(b"IDAT") + 60] = bytes(range(30))
    f["bad_png_zlib.png"] = bytes(z)

    # PNM
    f["pnm_p5.pgm"] = pil_bytes(gray, "PPM")
    f["pnm_p6.ppm"] = pil_bytes(rgb, "PPM")
    f["pnm_p5_16bit.pgm"] = b"P5\n37 23\n65535\n" + g16[:23, :37].astype(">u2").tobytes()
    f["pnm_p5_maxval100.pgm"] = b"P5 37 23 100\n" + r.integers(0, 101, (23, 37)).astype(np.uint8).tobytes()
    f["pnm_p5_maxval1000.pgm"] = b"P5\n37\n23\n1000\n" + r.integers(0, 1001, (23, 37)).astype(">u2").tobytes()
    f["pnm_p6_maxval1000.ppm"] = b"P6\n37 23\n1000\n" + r.integers(0, 1001, (23, 37, 3)).astype(">u2").tobytes()
    f["pnm_p6_maxval7.ppm"] = b"P6\n37 23\n7\n" + r.integers(0, 8, (23, 37, 3)).astype(np.uint8).tobytes()
    f["pnm_p6_comments.ppm"] = (b"P6 # made by hand\n# another comment\n 3 # width\n2\n255\n" +
                                bytes(range(100, 118)))
    f["pnm_p4.pbm"] = pil_bytes(Image.fromarray(r.integers(0, 2, (5, 11)).astype(bool)), "PPM")
    f["bad_pnm_truncated.ppm"] = pil_bytes(rgb, "PPM")[:-10]
    return f


def verdict(data):
    """Image.open then convert('RGB'): (format, mode, w, h, result, rgb bytes or None)."""
    try:
        im = Image.open(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - any failure is the verdict
        return "-", "-", "-", "-", f"error: {type(e).__name__}: {e}", None
    head = (im.format, im.mode, str(im.size[0]), str(im.size[1]))
    try:
        rgb = np.asarray(im.convert("RGB")).tobytes()
    except Exception as e:  # noqa: BLE001
        return head + (f"error: {type(e).__name__}: {e}", None)
    return head + ("ok", rgb)


def clean(text):
    # one line, and no object addresses ("<_io.BytesIO object at 0x7f...>"): the output is deterministic
    return re.sub(r" at 0x[0-9a-f]+", "", " ".join(str(text).split()))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: pil_decode_oracle.py OUTDIR")
    out = os.path.join(sys.argv[1], "decode")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "files"))
    os.makedirs(os.path.join(out, "expected", "photos"))

    tools_missing = []
    rows = []
    for name, data in sorted(fixtures(tools_missing).items()):
        with open(os.path.join(out, "files", name), "wb") as fh:
            fh.write(data)
        fmt, mode, w, h, result, rgb = verdict(data)
        if rgb is not None:
            with open(os.path.join(out, "expected", name + ".rgb"), "wb") as fh:
                fh.write(rgb)
        rows.append("\t".join([name, fmt, mode, w, h, clean(result)]))
    with open(os.path.join(out, "manifest.tsv"), "w") as fh:
        fh.write("\n".join(rows) + "\n")
    with open(os.path.join(out, "tools_missing.txt"), "w") as fh:
        fh.write("".join(t + "\n" for t in tools_missing))
    with open(os.path.join(out, "pillow_version.txt"), "w") as fh:
        fh.write(PIL.__version__ + "\n")

    # Real photos, when the shared dataset is there.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    shared = os.path.join(root, "..", "shared")
    cats = os.path.join(shared, "datasets", "dvc-mini", "train", "cat")
    n_photos = 0
    if os.path.isdir(cats):
        prow = []
        for name in sorted(os.listdir(cats))[:20]:
            with open(os.path.join(cats, name), "rb") as fh:
                data = fh.read()
            fmt, mode, w, h, result, rgb = verdict(data)
            if rgb is not None:
                with open(os.path.join(out, "expected", "photos", name + ".rgb"), "wb") as fh:
                    fh.write(rgb)
            prow.append("\t".join(["datasets/dvc-mini/train/cat/" + name, fmt, mode, w, h, clean(result)]))
            n_photos += 1
        with open(os.path.join(out, "photos.tsv"), "w") as fh:
            fh.write("\n".join(prow) + "\n")

    note = f" (missing: {', '.join(t.split()[0] for t in tools_missing)})" if tools_missing else ""
    print(f"pil_decode_oracle: {len(rows)} fixtures, {n_photos} photos -> {out}{note}")


if __name__ == "__main__":
    main()
