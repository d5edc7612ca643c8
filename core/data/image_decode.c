// image_decode.c - JPEG / PNG / PNM to 8-bit RGB, byte-exact to Pillow 9.4's open().convert('RGB').
//
// JPEG goes through TurboJPEG (tjDecompress2) straight into the caller's RGB buffer; CMYK JPEGs
// go through a scratch buffer and Pillow's own CMYK->RGB arithmetic. PNG goes through libpng with
// as few libpng transforms as possible, the rest (palette, grey scaling, 16-bit grey clipping) is
// done here because Pillow's rules differ from libpng's. Binary PNM (P4/P5/P6) is parsed here:
// the format is a few header tokens and raw samples, and Pillow's header tokenizer and maxval
// scaling are easier to reproduce exactly in 100 lines than to get from a library.
//
// Fidelity notes (each one checked against Pillow by tests/oracle/pil_decode_oracle.py):
//  - Pillow ignores libjpeg warnings (corrupt entropy data is decoded as libjpeg recovers it) but
//    refuses a JPEG whose data runs out before EOI ("image file is truncated"). TurboJPEG reports
//    both as warnings, so a warning is split by walking the markers ourselves; and TurboJPEG 2.1
//    labels a fatal error that follows a warning as a warning too, so its text decides.
//  - Pillow checks the CRC of every PNG chunk before the first IDAT, and of none after it.
//  - Limits: no plain-text PNM, no 12-bit/lossless JPEG, palette PNG needs its PLTE (see header).
//
// Memory: the pixel limit is applied to the header's size before any pixel buffer exists; the
// decoder keeps its scratch buffers between images and grows them only when an image is larger.

#include "image_decode.h"

#include "errmsg.h"
#include "regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

struct image_decoder {
    tjhandle tj;       // made on the first JPEG: PNG-only workers never pay for it
    int tj_scale[9];   // tj_scale[d]: TurboJPEG offers the 1/d DCT scaling factor (d = 2, 4, 8)
    uint8_t *file;     // whole-file bytes for image_decoder_load_file
    size_t file_cap;
    uint8_t *scratch;   // CMYK pixels before Pillow's conversion
    size_t scratch_cap;
    png_bytep *rows;   // libpng row pointers into the output buffer
    size_t rows_cap;
    char png_msg[200];   // libpng's error text, written by the error callback before its longjmp
};

// Hard ceiling whatever max_pixels says, so that width*height*4 always fits in size_t.
#define IMAGE_ABSOLUTE_MAX_PIXELS (1LL << 40)

// File-size ceiling for image_decoder_load_file: far above any image under the pixel limit.
// Larger files are refused, not read: a camera's JPEG is tens of MB, and a file of gigabytes named
// .jpg (a picture followed by zeros) would otherwise be read whole by every loader thread.
#define IMAGE_MAX_FILE_BYTES (256LL << 20)

// ---------------------------------------------------------------------------------------------
// Errors

// Thread-safe strerror (the XSI strerror_r: _GNU_SOURCE is not defined).
static const char *errno_text(int e, char *buf, size_t len) {
    if (strerror_r(e, buf, len) != 0) snprintf(buf, len, "error %d", e);
    return buf;
}

static int check_limit(const char *format, long long w, long long h, const image_decode_opts *o, char *err,
                       size_t errlen) {
    long long max = (o && o->max_pixels > 0) ? o->max_pixels : IMAGE_MAX_PIXELS_DEFAULT;
    if (max > IMAGE_ABSOLUTE_MAX_PIXELS) max = IMAGE_ABSOLUTE_MAX_PIXELS;
    if (w * h > max) {
        errmsg_set(err, errlen, "%s image %lldx%lld exceeds the pixel limit (%lld)", format, w, h, max);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Buffers

// Makes *buf hold at least need bytes. The old contents are not kept (free + malloc, no realloc
// copy): every caller overwrites the whole buffer.
static int buf_reserve(uint8_t **buf, size_t *cap, size_t need) {
    if (*buf && need <= *cap) return 0;
    free(*buf);
    *buf = malloc(need ? need : 1);
    *cap = *buf ? need : 0;
    return *buf ? 0 : -1;
}

static int out_reserve(image_rgb8 *out, size_t need) {
    if (out->rgb && need <= out->cap) return 0;
    free(out->rgb);
    out->rgb = malloc(need ? need : 1);
    out->cap = out->rgb ? need : 0;
    return out->rgb ? 0 : -1;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

// ---------------------------------------------------------------------------------------------
// Format detection (magic bytes, never the file name)

typedef enum { FMT_UNKNOWN, FMT_JPEG, FMT_PNG, FMT_PNM, FMT_BMP, FMT_TIFF, FMT_WEBP, FMT_GIF } image_format;

static const char *const format_names[] = {"", "JPEG", "PNG", "PPM", "BMP", "TIFF", "WEBP", "GIF"};

// Pillow's PNM whitespace set.
static int pnm_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

static image_format detect_format(const uint8_t *d, size_t n) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return FMT_JPEG;   // Pillow's own test
    if (n >= 8 && memcmp(d, png_sig, 8) == 0) return FMT_PNG;
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && pnm_space(d[2])) return FMT_PNM;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return FMT_BMP;
    if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0 || memcmp(d, "II+\0", 4) == 0 ||
                   memcmp(d, "MM\0+", 4) == 0))
        return FMT_TIFF;
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return FMT_WEBP;
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) return FMT_GIF;
    return FMT_UNKNOWN;
}

// ---------------------------------------------------------------------------------------------
// JPEG: our own marker walk (header fields, truncation)

typedef struct {
    int width, height, comps, precision;
} jpeg_header;

// The next marker at or after *pos, found the way libjpeg's next_marker() finds it: non-FF bytes
// (entropy-coded data, junk), FF fill bytes and stuffed FF00 pairs are skipped. Returns the code
// after FF and leaves *pos just past it; -1 when the data ends first.
static int jpeg_next_marker(const uint8_t *d, size_t n, size_t *pos) {
    size_t i = *pos;
    for (;;) {
        while (i < n && d[i] != 0xFF) i++;
        while (i < n && d[i] == 0xFF) i++;
        if (i >= n) return -1;
        uint8_t c = d[i++];
        if (c != 0) {
            *pos = i;
            return c;
        }
    }
}

// Markers without a length field: RSTn, TEM, SOI, EOI.
static int jpeg_standalone(int m) { return (m >= 0xD0 && m <= 0xD9) || m == 0x01; }

static int jpeg_is_sof(int m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

// 1 when libjpeg would run out of data before it reaches EOI. TurboJPEG's memory source then
// inserts a fake EOI and warns; Pillow's suspending source instead asks for more data and raises
// "image file is truncated". Scans need no special case: their bytes are skipped like junk.
static int jpeg_runs_out(const uint8_t *d, size_t n) {
    size_t pos = 2;
    for (;;) {
        int m = jpeg_next_marker(d, n, &pos);
        if (m < 0) return 1;
        if (m == 0xD9) return 0;
        if (jpeg_standalone(m)) continue;
        if (n - pos < 2) return 1;
        size_t len = be16(d + pos);
        if (len < 2) return 0;   // a fatal libjpeg error, not a truncation
        if (len > n - pos) return 1;
        pos += len;
    }
}

// Reads markers up to the first SOS, as Pillow's JpegImageFile._open does, for the frame size and
// the number of components (Pillow's mode comes from that count alone).
static int jpeg_parse_header(const uint8_t *d, size_t n, jpeg_header *h, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    size_t pos = 2;
    int have_sof = 0;
    for (;;) {
        int m = jpeg_next_marker(d, n, &pos);
        if (m < 0) goto truncated;
        if (m == 0xD9) {
            errmsg_set(err, errlen, "corrupt JPEG data: no image before the end marker");
            return -1;
        }
        if (m == 0xD8) {
            errmsg_set(err, errlen, "corrupt JPEG data: a second start-of-image marker");
            return -1;
        }
        if (jpeg_standalone(m)) continue;
        if (n - pos < 2) goto truncated;
        size_t len = be16(d + pos);
        if (len < 2) {
            errmsg_set(err, errlen, "corrupt JPEG data: marker 0x%02X has a bad length", m);
            return -1;
        }
        if (len > n - pos) goto truncated;
        if (jpeg_is_sof(m)) {
            if (len < 8) {
                errmsg_set(err, errlen, "corrupt JPEG data: frame header too short");
                return -1;
            }
            h->precision = d[pos + 2];
            h->height = (int)be16(d + pos + 3);
            h->width = (int)be16(d + pos + 5);
            h->comps = d[pos + 7];
            have_sof = 1;
        }
        if (m == 0xDA) break;
        pos += len;
    }
    if (!have_sof) {
        errmsg_set(err, errlen, "corrupt JPEG data: scan before the frame header");
        return -1;
    }
    if (h->precision != 8) {
        errmsg_set(err, errlen, "unsupported JPEG: %d-bit samples (only 8-bit)", h->precision);
        return -1;
    }
    if (h->comps != 1 && h->comps != 3 && h->comps != 4) {
        errmsg_set(err, errlen, "unsupported JPEG: %d colour components", h->comps);
        return -1;
    }
    if (h->width == 0 || h->height == 0) {
        errmsg_set(err, errlen, "corrupt JPEG data: image size %dx%d", h->width, h->height);
        return -1;
    }
    return 0;
truncated:
    errmsg_set(err, errlen, "truncated JPEG data (the headers end early)");
    return -1;
}

static const char *jpeg_mode(const jpeg_header *h) { return h->comps == 1 ? "L" : h->comps == 3 ? "RGB" : "CMYK"; }

// ---------------------------------------------------------------------------------------------
// JPEG: decoding

static int jpeg_init(image_decoder *dec, char *err, size_t errlen) {
    if (dec->tj) return 0;
    dec->tj = tjInitDecompress();
    if (!dec->tj) {
        errmsg_set(err, errlen, "cannot start the JPEG decoder: %s", tjGetErrorStr2(NULL));
        return -1;
    }
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);
    for (int i = 0; sf && i < n; i++)
        if (sf[i].num == 1 && (sf[i].denom == 2 || sf[i].denom == 4 || sf[i].denom == 8))
            dec->tj_scale[sf[i].denom] = 1;
    return 0;
}

// The DCT scaling denominator for the fast mode: the largest of 8, 4, 2 whose scaled short side
// stays >= min_side, and only when the short side is at least 2*min_side.
static int jpeg_scale_denom(const image_decoder *dec, int w, int h, int min_side) {
    if (min_side <= 0) return 1;
    long long s = w < h ? w : h;
    if (s < 2LL * min_side) return 1;
    for (int denom = 8; denom >= 2; denom /= 2)
        if (dec->tj_scale[denom] && (s + denom - 1) / denom >= min_side) return denom;
    return 1;
}

// Pillow opens every 4-component JPEG as Adobe-inverted CMYK (rawmode "CMYK;I": each byte
// inverted), then Convert.c's cmyk2rgb does, per channel, with nk = 255 - k:
//     out = CLIP8(nk - MULDIV255(c, nk)),  MULDIV255(a, b) = (t = a*b + 128, ((t >> 8) + t) >> 8)
// With the stored (non-inverted) bytes, c = 255 - stored_c and nk = stored_k. The result never
// leaves 0..255, so the clip is a no-op.
static void cmyk_to_rgb(const uint8_t *src, uint8_t *dst, size_t npx) {
    for (size_t i = 0; i < npx; i++, src += 4, dst += 3) {
        unsigned nk = src[3];
        for (int c = 0; c < 3; c++) {
            unsigned t = (255u - src[c]) * nk + 128u;
            dst[c] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
        }
    }
}

// TurboJPEG 2.1 says TJERR_WARNING whenever a warning came first, even when a fatal error ended
// the decode after it, so the code alone cannot tell them apart. The message can: a fatal error
// always overwrites it, while a warning only sets it when it is the first one. These are
// libjpeg's JWRN_* texts (jerror.h); no JERR_* text starts like any of them.
static int jpeg_is_warning(const char *msg) {
    static const char *const warnings[] = {
        "Corrupt JPEG data: ",                     // JWRN_EXTRANEOUS_DATA, HIT_MARKER, HUFF_BAD_CODE, ...
        "Premature end of JPEG file",              // JWRN_JPEG_EOF
        "Unknown Adobe color transform code",      // JWRN_ADOBE_XFORM
        "Inconsistent progression sequence",       // JWRN_BOGUS_PROGRESSION
        "Warning: unknown JFIF revision number",   // JWRN_JFIF_MAJOR
        "Invalid SOS parameters for sequential",   // JWRN_NOT_SEQUENTIAL
        "Application transferred too many",        // JWRN_TOO_MUCH_DATA
    };
    for (size_t i = 0; i < sizeof warnings / sizeof warnings[0]; i++)
        if (strncmp(msg, warnings[i], strlen(warnings[i])) == 0) return 1;
    return 0;
}

static int jpeg_decode(image_decoder *dec, const uint8_t *d, size_t n, const jpeg_header *h, const image_decode_opts *o,
                       image_rgb8 *out, char *err, size_t errlen) {
    if (jpeg_init(dec, err, errlen) != 0) return -1;

    // libjpeg's own header reading must agree with ours (it is authoritative when it works; it
    // refuses some unusual chroma subsamplings that the full decode handles, so failure is fine).
    int tw, th, tsamp, tcs;
    if (tjDecompressHeader3(dec->tj, d, (unsigned long)n, &tw, &th, &tsamp, &tcs) == 0 &&
        (tw != h->width || th != h->height)) {
        errmsg_set(err, errlen, "corrupt JPEG data: frame headers disagree (%dx%d vs %dx%d)", h->width, h->height, tw,
                   th);
        return -1;
    }

    int denom = jpeg_scale_denom(dec, h->width, h->height, o ? o->dct_min_side : 0);
    int ow = (h->width + denom - 1) / denom, oh = (h->height + denom - 1) / denom;   // TJSCALED
    size_t npx = (size_t)ow * (size_t)oh;
    if (out_reserve(out, npx * 3) != 0) goto oom;
    uint8_t *dst = out->rgb;
    int pf = TJPF_RGB, pitch = ow * 3;
    if (h->comps == 4) {
        if (buf_reserve(&dec->scratch, &dec->scratch_cap, npx * 4) != 0) goto oom;
        dst = dec->scratch;
        pf = TJPF_CMYK;
        pitch = ow * 4;
    }
    int flags = (o && o->fast_dct) ? (TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE) : 0;
    if (tjDecompress2(dec->tj, d, (unsigned long)n, dst, ow, pitch, oh, pf, flags) != 0) {
        // Truncation first: cut data can also surface as a fatal error (a table read past the end).
        if (jpeg_runs_out(d, n)) {
            errmsg_set(err, errlen, "truncated JPEG data");
            return -1;
        }
        const char *msg = tjGetErrorStr2(dec->tj);
        if (tjGetErrorCode(dec->tj) != TJERR_WARNING || !jpeg_is_warning(msg)) {
            const char *api = strstr(msg, "(): ");   // "tjDecompress2(): ..." -> "..."
            errmsg_set(err, errlen, "corrupt JPEG data: %s", api ? api + 4 : msg);
            return -1;
        }
        // Only warnings, and the data complete: libjpeg recovered (corrupt entropy data, junk before
        // a marker) and Pillow, which ignores libjpeg warnings, keeps the same pixels.
    }
    if (h->comps == 4) cmyk_to_rgb(dec->scratch, out->rgb, npx);
    out->width = ow;
    out->height = oh;
    return 0;
oom:
    errmsg_set(err, errlen, "out of memory for a %dx%d JPEG image", ow, oh);
    return -1;
}

// ---------------------------------------------------------------------------------------------
// PNG: IHDR (read by hand for the probe and the pixel limit, before libpng allocates anything)

typedef struct {
    uint32_t width, height;
    int depth, ctype, interlace;
} png_header;

static uint32_t crc32_bytes(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

// Pillow's PngImagePlugin._MODES: (bit depth, colour type) -> mode. NULL for an invalid pair.
static const char *png_mode(int depth, int ctype) {
    switch (ctype) {
    case 0: return depth == 1 ? "1" : depth == 2 || depth == 4 || depth == 8 ? "L" : depth == 16 ? "I" : NULL;
    case 2: return depth == 8 || depth == 16 ? "RGB" : NULL;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8 ? "P" : NULL;
    case 4: return depth == 8 ? "LA" : depth == 16 ? "RGBA" : NULL;   // 16-bit LA opens as RGBA
    case 6: return depth == 8 || depth == 16 ? "RGBA" : NULL;
    default: return NULL;
    }
}

static int png_parse_header(const uint8_t *d, size_t n, png_header *h, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    if (n < 33) {
        errmsg_set(err, errlen, "truncated PNG data (no complete IHDR chunk)");
        return -1;
    }
    if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0) {
        errmsg_set(err, errlen, "corrupt PNG data: the first chunk is not a 13-byte IHDR");
        return -1;
    }
    if (crc32_bytes(d + 12, 17) != be32(d + 29)) {   // Pillow checks it too
        errmsg_set(err, errlen, "corrupt PNG data: IHDR: CRC error");
        return -1;
    }
    h->width = be32(d + 16);
    h->height = be32(d + 20);
    h->depth = d[24];
    h->ctype = d[25];
    h->interlace = d[28];
    if (h->width == 0 || h->height == 0 || h->width > 0x7FFFFFFFu || h->height > 0x7FFFFFFFu) {
        errmsg_set(err, errlen, "corrupt PNG data: image size %ux%u", (unsigned)h->width, (unsigned)h->height);
        return -1;
    }
    if (!png_mode(h->depth, h->ctype)) {
        errmsg_set(err, errlen, "corrupt PNG data: bit depth %d with colour type %d", h->depth, h->ctype);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// PNG: decoding through libpng

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} png_source;

static void png_read_cb(png_structp png, png_bytep buf, size_t want) {
    png_source *s = png_get_io_ptr(png);
    if (want > s->len - s->pos) png_error(png, "truncated PNG data");
    memcpy(buf, s->data + s->pos, want);
    s->pos += want;
}

// libpng's default handlers print to stderr; ours keep the text and jump back.
static void png_error_cb(png_structp png, png_const_charp msg) {
    image_decoder *dec = png_get_error_ptr(png);
    snprintf(dec->png_msg, sizeof dec->png_msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

// Warnings (and benign errors, which libpng turns into warnings on read) are dropped: Pillow
// has none of them and decodes on.
static void png_warning_cb(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

// How the raw rows that libpng hands back become RGB (in place, see png_expand_rows).
typedef enum { PNG_ROWS_RGB, PNG_ROWS_GRAY, PNG_ROWS_GRAY16, PNG_ROWS_PALETTE } png_rows_kind;

// Turns each raw row into RGB within its own 3*w-byte slot, walking from the last pixel to the
// first: pixel x is read at x*k (k <= 2 bytes) and written at 3x, which is never below any
// unread byte.
static void png_expand_rows(uint8_t *rgb, int w, int h, png_rows_kind kind, int depth, const uint8_t pal[256][3]) {
    size_t stride = (size_t)w * 3;
    unsigned scale = depth == 1 ? 255 : depth == 2 ? 85 : depth == 4 ? 17 : 1;   // Pillow's L;1/L;2/L;4
    for (int y = 0; y < h; y++) {
        uint8_t *row = rgb + (size_t)y * stride;
        for (size_t x = (size_t)w; x-- > 0;) {
            uint8_t r, g, b;
            if (kind == PNG_ROWS_PALETTE) {
                r = pal[row[x]][0];
                g = pal[row[x]][1];
                b = pal[row[x]][2];
            } else if (kind == PNG_ROWS_GRAY16) {
                // Pillow opens 16-bit grey as mode I; I -> RGB clips each value to 0..255.
                unsigned v = (unsigned)row[2 * x] << 8 | row[2 * x + 1];
                r = g = b = (uint8_t)(v > 255 ? 255 : v);
            } else {
                r = g = b = (uint8_t)(row[x] * scale);
            }
            row[3 * x] = r;
            row[3 * x + 1] = g;
            row[3 * x + 2] = b;
        }
    }
}

// The libpng part, kept apart so that the only state crossing the longjmp is dec, out and the two
// libpng pointers (set before setjmp, never changed after it).
static int png_decode(image_decoder *dec, const uint8_t *d, size_t n, const png_header *hdr, image_rgb8 *out, char *err,
                      size_t errlen) {
    png_source src = {d, n, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, dec, png_error_cb, png_warning_cb);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        errmsg_set(err, errlen, "out of memory for the PNG decoder");
        return -1;
    }
    dec->png_msg[0] = '\0';
    int w = (int)hdr->width, h = (int)hdr->height;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        out->width = out->height = 0;
        if (strcmp(dec->png_msg, "truncated PNG data") == 0 || strncasecmp(dec->png_msg, "out of memory", 13) == 0)
            errmsg_set(err, errlen, "%s", dec->png_msg);
        else
            errmsg_set(err, errlen, "corrupt PNG data: %s", dec->png_msg);
        return -1;
    }
    png_set_read_fn(png, &src, png_read_cb);
    png_set_user_limits(png, 0x7FFFFFFFu, 0x7FFFFFFFu);   // libpng's default 1e6 per side; Pillow has none
    // Pillow verifies the CRC of every chunk before the first IDAT (ancillary ones included) ...
    png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_read_info(png, info);
    // ... and of none from there on (IDAT and later chunks).
    png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);

    if (png_get_image_width(png, info) != hdr->width || png_get_image_height(png, info) != hdr->height)
        png_error(png, "IHDR read twice differently");

    png_rows_kind kind = PNG_ROWS_RGB;
    uint8_t pal[256][3];
    switch (hdr->ctype) {
    case PNG_COLOR_TYPE_GRAY:
        if (hdr->depth < 8) png_set_packing(png);   // one sample per byte, not scaled (done here)
        kind = hdr->depth == 16 ? PNG_ROWS_GRAY16 : PNG_ROWS_GRAY;
        break;
    case PNG_COLOR_TYPE_PALETTE: {
        if (hdr->depth < 8) png_set_packing(png);
        // Pillow's palette starts as a grey ramp; PLTE overwrites its first entries, so an index
        // past the PLTE shows as (i, i, i). tRNS is ignored by convert('RGB').
        for (int i = 0; i < 256; i++) pal[i][0] = pal[i][1] = pal[i][2] = (uint8_t)i;
        png_colorp plte = NULL;
        int nplte = 0;
        if (png_get_PLTE(png, info, &plte, &nplte) == 0) png_error(png, "palette image without a PLTE chunk");
        for (int i = 0; i < nplte && i < 256; i++) {
            pal[i][0] = plte[i].red;
            pal[i][1] = plte[i].green;
            pal[i][2] = plte[i].blue;
        }
        kind = PNG_ROWS_PALETTE;
        break;
    }
    case PNG_COLOR_TYPE_GRAY_ALPHA:   // alpha dropped, not composited; 16 bits -> high byte
        png_set_strip_alpha(png);
        png_set_gray_to_rgb(png);
        if (hdr->depth == 16) png_set_strip_16(png);
        break;
    default:   // RGB, RGBA: same, Pillow's RGB;16B / RGBA;16B unpackers keep the high byte
        if (hdr->ctype == PNG_COLOR_TYPE_RGB_ALPHA) png_set_strip_alpha(png);
        if (hdr->depth == 16) png_set_strip_16(png);
        break;
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t stride = (size_t)w * 3;
    if (png_get_rowbytes(png, info) > stride) png_error(png, "unexpected row size after transforms");
    if (out_reserve(out, stride * (size_t)h) != 0) png_error(png, "out of memory for the PNG image");
    if ((size_t)h > dec->rows_cap) {
        png_bytep *rows = realloc(dec->rows, (size_t)h * sizeof *rows);
        if (!rows) png_error(png, "out of memory for the PNG row table");
        dec->rows = rows;
        dec->rows_cap = (size_t)h;
    }
    for (int y = 0; y < h; y++) dec->rows[y] = out->rgb + (size_t)y * stride;
    png_read_image(png, dec->rows);
    // No png_read_end: Pillow never needs IEND nor checks the chunks after the image data.
    png_destroy_read_struct(&png, &info, NULL);

    if (kind != PNG_ROWS_RGB) png_expand_rows(out->rgb, w, h, kind, hdr->depth, (const uint8_t(*)[3])pal);
    out->width = w;
    out->height = h;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// PNM (P4 bitmap, P5 grey, P6 colour; binary only)

typedef struct {
    int kind;   // 4, 5 or 6
    long long width, height;
    int maxval;    // 1 for P4
    size_t data;   // offset of the first sample
} pnm_header;

// One header token the way Pillow's PpmImageFile._read_token reads it: whitespace ends a token,
// '#' comments run to CR or LF (even inside a token, which then continues), at most 10 characters.
static int pnm_token(const uint8_t *d, size_t n, size_t *pos, long long *value, char *err, size_t errlen) {
    char tok[12];
    size_t len = 0, i = *pos;
    while (len <= 10) {
        if (i >= n) break;
        uint8_t c = d[i++];
        if (pnm_space(c)) {
            if (len == 0) continue;
            break;
        }
        if (c == '#') {
            while (i < n && d[i] != '\r' && d[i] != '\n') i++;
            if (i < n) i++;
            continue;
        }
        tok[len++] = (char)c;
    }
    *pos = i;
    if (len == 0) {
        errmsg_set(err, errlen, "truncated PPM header");
        return -1;
    }
    if (len > 10) {
        errmsg_set(err, errlen, "corrupt PPM header: a token longer than 10 characters");
        return -1;
    }
    long long v = 0;
    for (size_t k = 0; k < len; k++) {
        if (tok[k] < '0' || tok[k] > '9') {
            errmsg_set(err, errlen, "corrupt PPM header: not a number");
            return -1;
        }
        v = v * 10 + (tok[k] - '0');
    }
    *value = v;
    return 0;
}

static int pnm_parse_header(const uint8_t *d, size_t n, pnm_header *h, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    h->kind = d[1] - '0';
    if (h->kind < 4) {
        errmsg_set(err, errlen, "unsupported image format PPM (plain-text P%d)", h->kind);
        return -1;
    }
    size_t pos = 3;   // "Pn" and one whitespace byte (detect_format checked them)
    long long maxval = 1;
    if (pnm_token(d, n, &pos, &h->width, err, errlen) != 0 || pnm_token(d, n, &pos, &h->height, err, errlen) != 0)
        return -1;
    if (h->kind != 4 && pnm_token(d, n, &pos, &maxval, err, errlen) != 0) return -1;
    if (maxval < 1 || maxval > 65535) {
        errmsg_set(err, errlen, "corrupt PPM header: maxval %lld (must be 1..65535)", maxval);
        return -1;
    }
    if (h->width < 1 || h->height < 1 || h->width > 0x7FFFFFFF || h->height > 0x7FFFFFFF) {
        errmsg_set(err, errlen, "corrupt PPM header: image size %lldx%lld", h->width, h->height);
        return -1;
    }
    h->maxval = (int)maxval;
    h->data = pos;
    return 0;
}

static const char *pnm_mode(const pnm_header *h) {
    return h->kind == 4 ? "1" : h->kind == 6 ? "RGB" : h->maxval > 255 ? "I" : "L";
}

// Python's round() of (v / maxval) * out_max, in doubles like Python: round half to even.
static unsigned pnm_scale(unsigned v, unsigned maxval, unsigned out_max) {
    double t = (double)v / (double)maxval * (double)out_max;
    unsigned long long i = (unsigned long long)t;
    double frac = t - (double)i;
    if (frac > 0.5 || (frac == 0.5 && (i & 1))) i++;
    return i > out_max ? out_max : (unsigned)i;
}

static int pnm_decode(const uint8_t *d, size_t n, const pnm_header *h, image_rgb8 *out, char *err, size_t errlen) {
    size_t w = (size_t)h->width, hh = (size_t)h->height, npx = w * hh;
    int bands = h->kind == 6 ? 3 : 1, in_bytes = h->maxval > 255 ? 2 : 1;
    size_t need = h->kind == 4 ? (w + 7) / 8 * hh : npx * (size_t)bands * (size_t)in_bytes;
    if (n - h->data < need) {
        errmsg_set(err, errlen, "truncated PPM data");
        return -1;
    }
    if (out_reserve(out, npx * 3) != 0) {
        errmsg_set(err, errlen, "out of memory for a %zux%zu PPM image", w, hh);
        return -1;
    }
    const uint8_t *s = d + h->data;
    uint8_t *o = out->rgb;
    if (h->kind == 4) {   // Pillow's rawmode "1;I": a set bit is black
        for (size_t y = 0; y < hh; y++, s += (w + 7) / 8)
            for (size_t x = 0; x < w; x++, o += 3) o[0] = o[1] = o[2] = (s[x >> 3] >> (7 - (x & 7)) & 1) ? 0 : 255;
    } else if (h->maxval == 255 || (h->kind == 5 && h->maxval == 65535)) {
        // Pillow's "raw" decoder: L / RGB bytes as they are, or I;16B then I -> RGB clipping.
        if (h->kind == 6) {
            memcpy(o, s, npx * 3);
        } else {
            for (size_t i = 0; i < npx; i++, o += 3) {
                unsigned v = in_bytes == 2 ? be16(s + 2 * i) : s[i];
                o[0] = o[1] = o[2] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    } else {
        // Pillow's "ppm" decoder rescales to 255 (L, RGB) or 65535 (P5 with maxval > 255: mode I,
        // whose conversion to RGB then clips at 255).
        unsigned out_max = (h->kind == 5 && h->maxval > 255) ? 65535 : 255;
        uint8_t lut[256];
        if (in_bytes == 1)
            for (unsigned v = 0; v < 256; v++) {
                unsigned r = pnm_scale(v, (unsigned)h->maxval, out_max);
                lut[v] = (uint8_t)(r > 255 ? 255 : r);
            }
        for (size_t i = 0; i < npx * (size_t)bands; i++) {
            uint8_t v;
            if (in_bytes == 1) {
                v = lut[s[i]];
            } else {
                unsigned r = pnm_scale(be16(s + 2 * i), (unsigned)h->maxval, out_max);
                v = (uint8_t)(r > 255 ? 255 : r);
            }
            if (bands == 3) {
                o[i] = v;
            } else {
                o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = v;
            }
        }
    }
    out->width = (int)w;
    out->height = (int)hh;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Probe and decode

typedef struct {
    image_format fmt;
    jpeg_header jpeg;
    png_header png;
    pnm_header pnm;
} header_any;

static void set_info(image_info *info, image_format fmt, const char *mode, long long w, long long h) {
    if (!info) return;
    snprintf(info->format, sizeof info->format, "%s", format_names[fmt]);
    snprintf(info->mode, sizeof info->mode, "%s", mode);
    info->width = (int)w;
    info->height = (int)h;
}

static int probe_any(const uint8_t *data, size_t len, header_any *hd, image_info *info, char *err, size_t errlen) {
    if (info) memset(info, 0, sizeof *info);
    if (!data || len == 0) {
        errmsg_set(err, errlen, "empty file (0 bytes)");
        return -1;
    }
    hd->fmt = detect_format(data, len);
    set_info(info, hd->fmt, "", 0, 0);
    switch (hd->fmt) {
    case FMT_JPEG:
        if (jpeg_parse_header(data, len, &hd->jpeg, err, errlen) != 0) return -1;
        set_info(info, hd->fmt, jpeg_mode(&hd->jpeg), hd->jpeg.width, hd->jpeg.height);
        return 0;
    case FMT_PNG:
        if (png_parse_header(data, len, &hd->png, err, errlen) != 0) return -1;
        set_info(info, hd->fmt, png_mode(hd->png.depth, hd->png.ctype), hd->png.width, hd->png.height);
        return 0;
    case FMT_PNM:
        if (pnm_parse_header(data, len, &hd->pnm, err, errlen) != 0) return -1;
        set_info(info, hd->fmt, pnm_mode(&hd->pnm), hd->pnm.width, hd->pnm.height);
        return 0;
    case FMT_UNKNOWN: errmsg_set(err, errlen, "not an image (unknown format)"); return -1;
    default: errmsg_set(err, errlen, "unsupported image format %s", format_names[hd->fmt]); return -1;
    }
}

int image_probe(const uint8_t *data, size_t len, image_info *info, char *err, size_t errlen) {
    header_any hd;
    return probe_any(data, len, &hd, info, err, errlen);
}

int image_decoder_decode(image_decoder *dec, const uint8_t *data, size_t len, const image_decode_opts *opts,
                         image_rgb8 *out, image_info *info, char *err, size_t errlen) {
    if (info) memset(info, 0, sizeof *info);
    if (!dec || !out) {
        errmsg_set(err, errlen, "image decode: no decoder or no output");
        return -1;
    }
    out->width = out->height = 0;
    header_any hd;
    if (probe_any(data, len, &hd, info, err, errlen) != 0) return -1;
    int rc = -1;
    switch (hd.fmt) {
    case FMT_JPEG:
        if (check_limit("JPEG", hd.jpeg.width, hd.jpeg.height, opts, err, errlen) == 0)
            rc = jpeg_decode(dec, data, len, &hd.jpeg, opts, out, err, errlen);
        break;
    case FMT_PNG:
        if (check_limit("PNG", hd.png.width, hd.png.height, opts, err, errlen) == 0)
            rc = png_decode(dec, data, len, &hd.png, out, err, errlen);
        break;
    case FMT_PNM:
        if (check_limit("PPM", hd.pnm.width, hd.pnm.height, opts, err, errlen) == 0)
            rc = pnm_decode(data, len, &hd.pnm, out, err, errlen);
        break;
    default: break;
    }
    if (rc != 0) out->width = out->height = 0;
    return rc;
}

// ---------------------------------------------------------------------------------------------
// Files

// The whole file into dec->file (regular_file: a FIFO cannot block the open, and anything but a
// regular file is refused before a byte is read).
static int read_file(image_decoder *dec, const char *path, size_t *len, char *err, size_t errlen) {
    char ebuf[128];
    struct stat st;
    int fd = regular_file_open(path, &st, err, errlen);
    if (fd < 0) return -1;
    if (st.st_size == 0) {
        errmsg_set(err, errlen, "empty file (0 bytes)");
        close(fd);
        return -1;
    }
    if ((long long)st.st_size > IMAGE_MAX_FILE_BYTES) {
        errmsg_set(err, errlen, "file too large for an image (%lld bytes; frost reads images up to %lld MiB)",
                   (long long)st.st_size, IMAGE_MAX_FILE_BYTES >> 20);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size, got = 0;
    if (buf_reserve(&dec->file, &dec->file_cap, size) != 0) {
        errmsg_set(err, errlen, "out of memory for a %zu-byte file", size);
        close(fd);
        return -1;
    }
    while (got < size) {
        ssize_t r = read(fd, dec->file + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            errmsg_set(err, errlen, "cannot read the file: %s", errno_text(errno, ebuf, sizeof ebuf));
            close(fd);
            return -1;
        }
        if (r == 0) break;   // shrank since fstat: decode what is there (truncation is then reported)
        got += (size_t)r;
    }
    close(fd);
    if (got == 0) {
        errmsg_set(err, errlen, "empty file (0 bytes)");
        return -1;
    }
    *len = got;
    return 0;
}

int image_decoder_load_file(image_decoder *dec, const char *path, const image_decode_opts *opts, image_rgb8 *out,
                            image_info *info, char *err, size_t errlen) {
    if (info) memset(info, 0, sizeof *info);
    if (out) out->width = out->height = 0;
    if (!dec || !out || !path) {
        errmsg_set(err, errlen, "image load: no decoder, output or path");
        return -1;
    }
    size_t len = 0;
    if (read_file(dec, path, &len, err, errlen) != 0) return -1;
    return image_decoder_decode(dec, dec->file, len, opts, out, info, err, errlen);
}

// ---------------------------------------------------------------------------------------------
// Decoder lifetime and one-shot forms

image_decoder *image_decoder_new(void) { return calloc(1, sizeof(image_decoder)); }

static void decoder_release(image_decoder *dec) {
    if (dec->tj) tjDestroy(dec->tj);
    free(dec->file);
    free(dec->scratch);
    free(dec->rows);
}

void image_decoder_free(image_decoder *dec) {
    if (!dec) return;
    decoder_release(dec);
    free(dec);
}

int image_decode(const uint8_t *data, size_t len, const image_decode_opts *opts, image_rgb8 *out, image_info *info,
                 char *err, size_t errlen) {
    image_decoder dec = {0};
    if (out) memset(out, 0, sizeof *out);
    int rc = image_decoder_decode(&dec, data, len, opts, out, info, err, errlen);
    decoder_release(&dec);
    if (rc != 0 && out) image_free(out);
    return rc;
}

int image_load_file(const char *path, const image_decode_opts *opts, image_rgb8 *out, image_info *info, char *err,
                    size_t errlen) {
    image_decoder dec = {0};
    if (out) memset(out, 0, sizeof *out);
    int rc = image_decoder_load_file(&dec, path, opts, out, info, err, errlen);
    decoder_release(&dec);
    if (rc != 0 && out) image_free(out);
    return rc;
}

void image_free(image_rgb8 *img) {
    if (!img) return;
    free(img->rgb);
    memset(img, 0, sizeof *img);
}
