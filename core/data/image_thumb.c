// image_thumb.c — decode, fit into a box, describe (see image_thumb.h).
#include "image_thumb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errmsg.h"
#include "image_decode.h"
#include "image_resize.h"

void image_thumb_fit(int w, int h, int max_w, int max_h, int *out_w, int *out_h) {
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    if (max_w < 1) max_w = 1;
    if (max_h < 1) max_h = 1;
    // the side that limits: compare w/h with max_w/max_h without rounding (64-bit products)
    long long ow, oh;
    if ((long long)w * max_h >= (long long)h * max_w) {
        ow = max_w;
        oh = ((long long)h * max_w * 2 + w) / (2LL * w);   // rounded
    } else {
        oh = max_h;
        ow = ((long long)w * max_h * 2 + h) / (2LL * h);
    }
    *out_w = (int)(ow < 1 ? 1 : ow > max_w ? max_w : ow);
    *out_h = (int)(oh < 1 ? 1 : oh > max_h ? max_h : oh);
}

void image_thumb_free(image_thumb *t) {
    if (!t) return;
    free(t->rgb);
    memset(t, 0, sizeof *t);
}

int image_thumb_load(const char *path, int max_w, int max_h, image_thumb *out, thumb_info *info, char *err,
                     size_t errlen) {
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    if (max_w < 1 || max_h < 1) {
        errmsg_set(err, errlen, "the box to fit into is empty (%dx%d)", max_w, max_h);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0) info->bytes = (long long)st.st_size;

    image_decoder *dec = image_decoder_new();
    if (!dec) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    // DCT scaling: the scaled short side stays >= the box's short side, which is never smaller than
    // the fitted picture's short side, so the resize below only ever shrinks or keeps
    image_decode_opts o = {0};
    o.dct_min_side = max_w < max_h ? max_w : max_h;
    image_rgb8 img = {0};
    image_info ii = {0};
    int rc = image_decoder_load_file(dec, path, &o, &img, &ii, err, errlen);
    snprintf(info->format, sizeof info->format, "%s", ii.format);
    snprintf(info->mode, sizeof info->mode, "%s", ii.mode);
    info->width = ii.width;
    info->height = ii.height;
    image_decoder_free(dec);
    if (rc != 0) {
        image_free(&img);
        return -1;
    }

    int fw, fh;
    image_thumb_fit(ii.width, ii.height, max_w, max_h, &fw, &fh);
    out->rgb = malloc((size_t)fw * (size_t)fh * 3);
    if (!out->rgb) {
        image_free(&img);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    if (fw == img.width && fh == img.height) {
        memcpy(out->rgb, img.rgb, (size_t)fw * (size_t)fh * 3);
    } else {
        resize_scratch s;
        resize_scratch_init(&s);
        rc = resize_rgb8(img.rgb, img.width, img.height, 0, fw, fh, NULL, out->rgb, 0, 0, &s, err, errlen);
        resize_scratch_free(&s);
        if (rc != 0) {
            image_free(&img);
            image_thumb_free(out);
            return -1;
        }
    }
    image_free(&img);
    out->width = fw;
    out->height = fh;
    return 0;
}

void image_thumb_describe(const thumb_info *info, char *buf, size_t buflen) {
    char size[32];
    double b = (double)info->bytes;
    if (info->bytes < 1024)
        snprintf(size, sizeof size, "%lld B", info->bytes);
    else if (b < 1024.0 * 1024.0)
        snprintf(size, sizeof size, "%.1f KB", b / 1024.0);
    else
        snprintf(size, sizeof size, "%.1f MB", b / (1024.0 * 1024.0));
    snprintf(buf, buflen, "%s %dx%d %s, %s", info->format[0] ? info->format : "?", info->width, info->height,
             info->mode[0] ? info->mode : "?", size);
}
