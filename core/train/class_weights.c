// class_weights.c — the loss's class weights from text and the dataset's counts (see class_weights.h).
#include "class_weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

// Parses "W1,W2,..." into out (at most cap); returns the count, or -1 with err.
static long parse_list(const char *text, float *out, size_t cap, char *err, size_t errlen) {
    long n = 0;
    const char *c = text;
    while (*c) {
        char *end;
        double v = strtod(c, &end);
        if (end == c || (*end && *end != ',') || !(v >= 0) || !isfinite(v) || v > 1e6) {
            errmsg_set(err, errlen, "class weights are auto, none, or numbers from 0 (\"2,1\"): '%s'", text);
            return -1;
        }
        if (out && (size_t)n < cap) out[n] = (float)v;
        n++;
        c = *end ? end + 1 : end;
        if (*end && !*c) {
            errmsg_set(err, errlen, "the class weights end with a comma");
            return -1;
        }
    }
    return n;
}

int class_weights_check(const char *text, char *err, size_t errlen) {
    if (!text || !*text || strcmp(text, "none") == 0 || strcmp(text, "auto") == 0) return 0;
    return parse_list(text, NULL, 0, err, errlen) < 0 ? -1 : 0;
}

int class_weights_resolve(const char *text, const size_t *counts, size_t n_classes, float *out, char *err,
                          size_t errlen) {
    if (!text || !*text || strcmp(text, "none") == 0) return 0;
    if (strcmp(text, "auto") == 0) {
        size_t total = 0;
        for (size_t c = 0; c < n_classes; c++) total += counts[c];
        if (!total) {
            errmsg_set(err, errlen, "class weights: the training split has no images");
            return -1;
        }
        for (size_t c = 0; c < n_classes; c++)   // a class with no images never meets the loss
            out[c] = counts[c] ? (float)((double)total / ((double)n_classes * (double)counts[c])) : 0.0f;
        return 1;
    }
    long n = parse_list(text, out, n_classes, err, errlen);
    if (n < 0) return -1;
    if ((size_t)n != n_classes) {
        errmsg_set(err, errlen, "%ld class weights for %zu classes (one per class, in the classes' order)", n,
                   n_classes);
        return -1;
    }
    int any = 0;
    for (size_t c = 0; c < n_classes; c++) any |= out[c] > 0;
    if (!any) {
        errmsg_set(err, errlen, "class weights: at least one must be above 0");
        return -1;
    }
    return 1;
}

void class_weights_describe(const float *w, const char *const *names, size_t n, char *buf, size_t len) {
    size_t used = 0;
    if (len) buf[0] = 0;
    for (size_t c = 0; c < n && used < len; c++) {
        int k = snprintf(buf + used, len - used, "%s%s %.4g", c ? ", " : "", names[c], (double)w[c]);
        if (k < 0) break;
        used += (size_t)k;
    }
}
