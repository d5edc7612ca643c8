// fuzz_image.c — libFuzzer target: image bytes through what the loader does with a file: probe,
// decode (exact, or fast with DCT scaling when the first byte says so), then resize + ToTensor +
// Normalize to a small square. The pixel limit is lowered so that a header claiming a huge image
// is refused quickly, as it would be (at Pillow's limit) in frost.
#include <stdint.h>
#include <stdlib.h>

#include "image_decode.h"
#include "image_transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    if (len < 1) return 0;
    image_decode_opts o = {.max_pixels = 1 << 22};
    if (data[0] & 1) o.dct_min_side = 16, o.fast_dct = 1;
    image_info info;
    char err[256];
    image_probe(data, len, &info, err, sizeof err);
    image_rgb8 img = {0};
    if (image_decode(data, len, &o, &img, &info, err, sizeof err) == 0) {
        transform_params p;
        transform_params_seed(&p);
        p.size = 24;
        p.fit = (data[0] & 2) ? TRANSFORM_SHORT_CROP : TRANSFORM_SQUARE;
        p.fast = (data[0] & 4) != 0;
        float *dst = malloc(3 * 24 * 24 * sizeof *dst);
        transform_scratch s;
        transform_scratch_init(&s);
        if (dst) transform_apply(&p, img.rgb, img.width, img.height, dst, &s, err, sizeof err);
        transform_scratch_free(&s);
        free(dst);
    }
    image_free(&img);
    return 0;
}
