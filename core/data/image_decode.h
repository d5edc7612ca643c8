// image_decode.h - decode image files to 8-bit RGB exactly as PIL.Image.open(f).convert('RGB') does.
//
// frost reads datasets the way torchvision's ImageFolder does, so the pixels must be Pillow 9.4's
// pixels, byte for byte: JPEG through TurboJPEG (the same libjpeg-turbo Pillow links, default ISLOW
// DCT and fancy upsampling), PNG through libpng with Pillow's mode rules redone here, and binary
// PPM/PGM/PBM through a small parser. EXIF orientation is not applied (Pillow's open/convert does
// not). BMP, TIFF, WebP and GIF are recognised by their magic bytes and refused as unsupported.
//
// Limits: no plain-text PNM (P1-P3), no 12-bit or lossless JPEG, no palette PNG without a PLTE
// chunk (Pillow accepts that one with a grey ramp; libpng refuses it). The pixel limit is checked
// from the header before any pixel memory is allocated.
//
// Every function returns 0 / -1 and fills err with one line naming the problem (never the path:
// the caller adds it); none print, none exit. An image_decoder is not thread-safe: give each
// worker thread its own.

#ifndef FROST_IMAGE_DECODE_H
#define FROST_IMAGE_DECODE_H

#include <stddef.h>
#include <stdint.h>

// ---------------------------------------------------------------------------------------------
// Types

// Pillow's DecompressionBombError threshold (2 * Image.MAX_IMAGE_PIXELS): an image with more
// pixels than this is refused.
#define IMAGE_MAX_PIXELS_DEFAULT 178956970LL

typedef struct {
    char format[8];      // what the bytes are, by magic number: "JPEG", "PNG", "PPM" (also "BMP",
                         // "TIFF", "WEBP", "GIF" for the refused ones; "" when unknown)
    char mode[8];        // the mode Pillow reports: "RGB", "L", "CMYK", "P", "RGBA", "LA", "I", "1"
    int width, height;   // as stored in the file (before any DCT scaling)
} image_info;

typedef struct {
    int width, height;
    uint8_t *rgb;   // width*height*3 bytes, row-major RGB, owned (malloc); image_free releases it
    size_t cap;     // bytes allocated at rgb: the image_decoder_* functions reuse and grow it
} image_rgb8;

typedef struct {
    long long max_pixels;   // refuse before allocating when width*height exceeds it (<= 0: default)
    int dct_min_side;       // 0: full-size decode (exact). >0: a JPEG whose short side is at least
                            // 2*dct_min_side is decoded with TurboJPEG's DCT scaling (1/2, 1/4 or
                            // 1/8), the smallest scale whose short side is still >= dct_min_side.
                            // Not exact; the fast mode uses it. Ignored for PNG and PPM.
    int fast_dct;           // 1: TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE (not exact; fast mode)
} image_decode_opts;

// A per-thread decoder: holds the TurboJPEG handle and the scratch buffers (file bytes, CMYK
// pixels, PNG row pointers) so that a worker decodes thousands of images without re-creating
// them. Opaque.
typedef struct image_decoder image_decoder;

// ---------------------------------------------------------------------------------------------
// Decoder context

// NULL when out of memory. The TurboJPEG handle is made on the first JPEG.
image_decoder *image_decoder_new(void);

// Accepts NULL.
void image_decoder_free(image_decoder *dec);

// ---------------------------------------------------------------------------------------------
// Decoding

// Header only, no pixel decode: format, Pillow's mode and the stored size. For a recognised but
// unsupported format, info->format is filled and -1 returned. Does not apply the pixel limit.
int image_probe(const uint8_t *data, size_t len, image_info *info, char *err, size_t errlen);

// Decodes data (a whole file's bytes) into out, reusing out->rgb when it is big enough and
// growing it otherwise. out must be zeroed or hold an earlier result; on failure out->width and
// out->height are 0 and the buffer is kept for the next call. opts NULL = defaults. info may be
// NULL; when given it is filled as far as the header could be read, even on failure.
int image_decoder_decode(image_decoder *dec, const uint8_t *data, size_t len, const image_decode_opts *opts,
                         image_rgb8 *out, image_info *info, char *err, size_t errlen);

// Reads the whole file into the decoder's own buffer (reused between calls), then decodes it as
// image_decoder_decode does. Refuses symbolic-link loops, anything that is not a regular file,
// unreadable and empty files, with the reason in err.
int image_decoder_load_file(image_decoder *dec, const char *path, const image_decode_opts *opts, image_rgb8 *out,
                            image_info *info, char *err, size_t errlen);

// One-shot forms: a temporary decoder, and *out is overwritten (not read, not freed first).
int image_decode(const uint8_t *data, size_t len, const image_decode_opts *opts, image_rgb8 *out, image_info *info,
                 char *err, size_t errlen);
int image_load_file(const char *path, const image_decode_opts *opts, image_rgb8 *out, image_info *info, char *err,
                    size_t errlen);

// Frees out->rgb and zeroes the struct. Accepts a zeroed struct; idempotent.
void image_free(image_rgb8 *img);

#endif
