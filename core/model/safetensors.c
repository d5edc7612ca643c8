// safetensors.c - safetensors reader (mmap, validating) and atomic writer.
//
// The reader trusts nothing in the file: every length, offset and shape is
// checked before use, and the tensors must tile the data buffer exactly, as
// the format's spec requires. Tensor data is not copied; it points into a
// read-only private mapping, so a file truncated by another process while it
// is open can still raise SIGBUS on access - nothing in user space stops that.
// The writer goes through core/base/atomic_file (a temp file + fsync + rename +
// folder fsync, over a regular file only), so readers see either the old file
// or the complete new one, never a mix; the
// rename can be held back (safet_write_pending) to put several files in
// place together. A digest of the data (SHA-256) can go into the metadata:
// its value is a placeholder in the header until the data is written, then
// overwritten in place, so the data is produced and written only once.
// Limits: no big-endian hosts are special-cased (bytes are passed through).

#include "safetensors.h"

#include "atomic_file.h"
#include "errmsg.h"
#include "regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
// Error messages

// Copies s into out (for quoting in a message), cut to a whole UTF-8
// character and marked with "..." when longer than the buffer allows.
#define SHOW_LEN 64
static const char *show(const char *s, char out[SHOW_LEN]) {
    size_t len = strlen(s);
    if (len < SHOW_LEN) {
        memcpy(out, s, len + 1);
        return out;
    }
    size_t keep = SHOW_LEN - 4;
    while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    memcpy(out, s, keep);
    memcpy(out + keep, "...", 4);
    return out;
}

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "list";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "value";
}

// ---------------------------------------------------------------------------
// Dtypes

static const struct {
    const char *name;
    size_t size;
} dtype_table[] = {
    [SAFET_F32] = {"F32", 4}, [SAFET_F64] = {"F64", 8},   [SAFET_F16] = {"F16", 2}, [SAFET_BF16] = {"BF16", 2},
    [SAFET_I64] = {"I64", 8}, [SAFET_I32] = {"I32", 4},   [SAFET_I16] = {"I16", 2}, [SAFET_I8] = {"I8", 1},
    [SAFET_U8] = {"U8", 1},   [SAFET_BOOL] = {"BOOL", 1},
};
#define N_DTYPES (sizeof dtype_table / sizeof dtype_table[0])

static int dtype_valid(safet_dtype d) {
    // Compared as unsigned so a negative value forced into the enum fails too.
    return (unsigned)d < N_DTYPES;
}

const char *safet_dtype_name(safet_dtype d) { return dtype_valid(d) ? dtype_table[d].name : "?"; }

size_t safet_dtype_size(safet_dtype d) { return dtype_valid(d) ? dtype_table[d].size : 0; }

int safet_dtype_parse(const char *s, safet_dtype *out) {
    if (!s) return -1;
    for (size_t i = 0; i < N_DTYPES; i++) {
        if (strcmp(s, dtype_table[i].name) == 0) {
            if (out) *out = (safet_dtype)i;
            return 0;
        }
    }
    return -1;
}

// Element count and byte size of a shape. Refuses (-1) any product that would
// not fit in int64, the type offsets are written with, even when a later dim
// is 0: code downstream multiplies dims in any order and must not overflow.
static int shape_size(const int64_t *shape, int ndim, safet_dtype d, uint64_t *numel, uint64_t *nbytes) {
    uint64_t prod = 1;
    int any_zero = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] == 0) {
            any_zero = 1;
            continue;
        }
        if (prod > (uint64_t)INT64_MAX / (uint64_t)shape[i]) return -1;
        prod *= (uint64_t)shape[i];
    }
    size_t es = safet_dtype_size(d);
    if (es == 0 || prod > (uint64_t)INT64_MAX / es) return -1;
    *numel = any_zero ? 0 : prod;
    *nbytes = *numel * es;
    return 0;
}

int64_t safet_numel(const safet_tensor *t) {
    int64_t n = 1;
    for (int i = 0; t && i < t->ndim; i++) n *= t->shape[i];   // cannot overflow: safet_open checked the full product
    return n;
}

// ---------------------------------------------------------------------------
// Reading: one tensor entry

// Validates one header entry against the data buffer and fills t (except the
// name, which the caller owns). begin/end are returned for the coverage check.
static int parse_tensor(const char *path, const char *name, json_t *val, const char *data, size_t data_len,
                        safet_tensor *t, uint64_t *begin_out, uint64_t *end_out, char *err, size_t errlen) {
    char nm[SHOW_LEN], tmp[SHOW_LEN];
    show(name, nm);

    if (!json_is_object(val)) {
        errmsg_set(err, errlen, "%s: tensor '%s': entry is a JSON %s, not an object", path, nm, json_kind(val));
        return -1;
    }

    json_t *jd = json_object_get(val, "dtype");
    if (!jd) {
        errmsg_set(err, errlen, "%s: tensor '%s': no dtype given", path, nm);
        return -1;
    }
    if (!json_is_string(jd)) {
        errmsg_set(err, errlen, "%s: tensor '%s': dtype is a JSON %s, not a string", path, nm, json_kind(jd));
        return -1;
    }
    if (safet_dtype_parse(json_string_value(jd), &t->dtype) != 0) {
        errmsg_set(err, errlen, "%s: tensor '%s': unknown dtype '%s'", path, nm, show(json_string_value(jd), tmp));
        return -1;
    }

    json_t *js = json_object_get(val, "shape");
    if (!json_is_array(js)) {
        errmsg_set(err, errlen, "%s: tensor '%s': shape is %s, not a list of integers", path, nm,
                   js ? json_kind(js) : "missing");
        return -1;
    }
    size_t nd = json_array_size(js);
    if (nd > SAFET_MAX_DIMS) {
        errmsg_set(err, errlen, "%s: tensor '%s': shape has %zu dims, at most %d are supported", path, nm, nd,
                   SAFET_MAX_DIMS);
        return -1;
    }
    t->ndim = (int)nd;
    for (size_t i = 0; i < nd; i++) {
        json_t *e = json_array_get(js, i);
        if (!json_is_integer(e)) {
            errmsg_set(err, errlen, "%s: tensor '%s': shape[%zu] is a JSON %s, not an integer", path, nm, i,
                       json_kind(e));
            return -1;
        }
        json_int_t v = json_integer_value(e);
        if (v < 0) {
            errmsg_set(err, errlen, "%s: tensor '%s': shape[%zu] is negative (%lld)", path, nm, i, (long long)v);
            return -1;
        }
        t->shape[i] = (int64_t)v;
    }
    uint64_t numel, need;
    if (shape_size(t->shape, t->ndim, t->dtype, &numel, &need) != 0) {
        errmsg_set(err, errlen, "%s: tensor '%s': shape has too many elements (size overflows)", path, nm);
        return -1;
    }

    json_t *jo = json_object_get(val, "data_offsets");
    if (!json_is_array(jo) || json_array_size(jo) != 2 || !json_is_integer(json_array_get(jo, 0)) ||
        !json_is_integer(json_array_get(jo, 1))) {
        errmsg_set(err, errlen, "%s: tensor '%s': data_offsets must be a list of two integers", path, nm);
        return -1;
    }
    json_int_t b = json_integer_value(json_array_get(jo, 0));
    json_int_t e = json_integer_value(json_array_get(jo, 1));
    if (b < 0 || e < b) {
        errmsg_set(err, errlen, "%s: tensor '%s': data_offsets [%lld, %lld] are not 0 <= begin <= end", path, nm,
                   (long long)b, (long long)e);
        return -1;
    }
    if ((uint64_t)e > data_len) {
        errmsg_set(err, errlen,
                   "%s: tensor '%s': data_offsets [%lld, %lld] run past the end of the data buffer "
                   "(%zu bytes)",
                   path, nm, (long long)b, (long long)e, data_len);
        return -1;
    }
    if ((uint64_t)(e - b) != need) {
        errmsg_set(err, errlen, "%s: tensor '%s': data_offsets span %lld bytes but %llu %s elements need %llu", path,
                   nm, (long long)(e - b), (unsigned long long)numel, safet_dtype_name(t->dtype),
                   (unsigned long long)need);
        return -1;
    }

    t->data = data + b;
    t->nbytes = (size_t)need;
    *begin_out = (uint64_t)b;
    *end_out = (uint64_t)e;
    return 0;
}

// ---------------------------------------------------------------------------
// Reading: metadata and coverage

static int parse_meta(safet_file *f, const char *path, json_t *val, char *err, size_t errlen) {
    if (!json_is_object(val)) {
        errmsg_set(err, errlen, "%s: __metadata__ is a JSON %s, not an object", path, json_kind(val));
        return -1;
    }
    size_t n = json_object_size(val);
    f->meta_keys = calloc(n ? n : 1, sizeof *f->meta_keys);
    f->meta_values = calloc(n ? n : 1, sizeof *f->meta_values);
    if (!f->meta_keys || !f->meta_values) {
        errmsg_set(err, errlen, "%s: out of memory reading metadata", path);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(val, key, v) {
        char k[SHOW_LEN];
        if (!json_is_string(v)) {
            errmsg_set(err, errlen, "%s: __metadata__ value for '%s' is a JSON %s, not a string", path, show(key, k),
                       json_kind(v));
            return -1;
        }
        char *ks = strdup(key);
        char *vs = strdup(json_string_value(v));
        if (!ks || !vs) {
            free(ks);
            free(vs);
            errmsg_set(err, errlen, "%s: out of memory reading metadata", path);
            return -1;
        }
        f->meta_keys[f->n_meta] = ks;
        f->meta_values[f->n_meta] = vs;
        f->n_meta++;
    }
    return 0;
}

typedef struct {
    uint64_t begin, end;
    size_t idx;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

// The spec requires the tensors to tile [0, data_len) exactly: no byte shared
// by two tensors (aliasing would let a write through one corrupt the other),
// and no byte owned by none (room to smuggle data past a reader).
static int check_coverage(const safet_file *f, const char *path, span *sp, size_t data_len, char *err, size_t errlen) {
    qsort(sp, f->n_tensors, sizeof *sp, span_cmp);
    uint64_t cursor = 0;
    size_t prev = 0;
    int have_prev = 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        if (sp[i].begin < cursor) {
            char a[SHOW_LEN], b[SHOW_LEN];
            errmsg_set(err, errlen, "%s: tensors '%s' and '%s' overlap in the data buffer at byte %llu", path,
                       show(have_prev ? f->tensors[prev].name : "?", a), show(f->tensors[sp[i].idx].name, b),
                       (unsigned long long)sp[i].begin);
            return -1;
        }
        if (sp[i].begin > cursor) {
            errmsg_set(err, errlen, "%s: hole in the data buffer: bytes [%llu, %llu) belong to no tensor", path,
                       (unsigned long long)cursor, (unsigned long long)sp[i].begin);
            return -1;
        }
        if (sp[i].end > cursor || !have_prev) {
            cursor = sp[i].end;
            prev = sp[i].idx;
            have_prev = 1;
        }
    }
    if (cursor != data_len) {
        errmsg_set(err, errlen,
                   "%s: hole in the data buffer: bytes [%llu, %zu) after the last tensor belong to "
                   "no tensor",
                   path, (unsigned long long)cursor, data_len);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------
// Reading: the file

// Parses and validates the mapped file into f; on error the caller closes f,
// which frees whatever was filled in so far.
static int parse_file(safet_file *f, const char *path, char *err, size_t errlen) {
    const unsigned char *p = f->map;
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)p[i] << (8 * i);

    if (hlen == 0) {
        errmsg_set(err, errlen, "%s: not a safetensors file (header length is 0)", path);
        return -1;
    }
    if (hlen > SAFET_MAX_HEADER) {
        errmsg_set(err, errlen, "%s: not a safetensors file (header length %llu is implausible, limit %u)", path,
                   (unsigned long long)hlen, SAFET_MAX_HEADER);
        return -1;
    }
    if (hlen > f->map_len - 8) {
        errmsg_set(err, errlen, "%s: header length %llu runs past the end of the file (%zu bytes)", path,
                   (unsigned long long)hlen, f->map_len);
        return -1;
    }
    const char *hdr = (const char *)p + 8;
    if (hdr[0] != '{') {
        errmsg_set(err, errlen, "%s: not a safetensors file (header does not start with '{')", path);
        return -1;
    }
    // jansson would report a NUL (a common wrong padding byte) confusingly.
    const char *nul = memchr(hdr, '\0', (size_t)hlen);
    if (nul) {
        errmsg_set(err, errlen, "%s: header has a NUL byte at offset %zu (padding must be spaces)", path,
                   (size_t)(nul - hdr));
        return -1;
    }
    const char *data = hdr + hlen;
    size_t data_len = f->map_len - 8 - (size_t)hlen;

    // Trailing spaces are whitespace to jansson, so writer padding just works.
    json_error_t je;
    json_t *root = json_loadb(hdr, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (strstr(je.text, "duplicate"))
            errmsg_set(err, errlen, "%s: header names the same key twice: %s", path, je.text);
        else
            errmsg_set(err, errlen, "%s: header is not valid JSON: %s (line %d, column %d)", path, je.text, je.line,
                       je.column);
        return -1;
    }
    if (!json_is_object(root)) {   // unreachable after the '{' check; kept for safety
        errmsg_set(err, errlen, "%s: not a safetensors file (header is a JSON %s, not an object)", path,
                   json_kind(root));
        json_decref(root);
        return -1;
    }

    int rc = -1;
    size_t n_obj = json_object_size(root);
    span *sp = calloc(n_obj ? n_obj : 1, sizeof *sp);
    f->tensors = calloc(n_obj ? n_obj : 1, sizeof *f->tensors);
    if (!sp || !f->tensors) {
        errmsg_set(err, errlen, "%s: out of memory reading header (%zu entries)", path, n_obj);
        goto out;
    }

    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if (parse_meta(f, path, val, err, errlen) != 0) goto out;
            continue;
        }
        safet_tensor *t = &f->tensors[f->n_tensors];
        t->name = strdup(key);
        if (!t->name) {
            errmsg_set(err, errlen, "%s: out of memory reading header", path);
            goto out;
        }
        size_t idx = f->n_tensors++;
        sp[idx].idx = idx;
        if (parse_tensor(path, key, val, data, data_len, t, &sp[idx].begin, &sp[idx].end, err, errlen) != 0) goto out;
    }
    if (check_coverage(f, path, sp, data_len, err, errlen) != 0) goto out;
    rc = 0;
out:
    free(sp);
    json_decref(root);
    return rc;
}

int safet_open(safet_file *f, const char *path, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!f) {
        errmsg_set(err, errlen, "safet_open: no file struct given");
        return -1;
    }
    memset(f, 0, sizeof *f);
    if (!path) {
        errmsg_set(err, errlen, "safet_open: no path given");
        return -1;
    }

    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    if (fd < 0) {
        errmsg_set(err, errlen, "%s: %s", path, why);
        return -1;
    }
    if (st.st_size < 8) {
        errmsg_set(err, errlen, "%s: file is too short to be a safetensors file (%lld bytes, need at least 8)", path,
                   (long long)st.st_size);
        close(fd);
        return -1;
    }
    if ((uintmax_t)st.st_size > SIZE_MAX) {
        errmsg_set(err, errlen, "%s: file is too large to map (%lld bytes)", path, (long long)st.st_size);
        close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);   // the mapping keeps the file alive
    if (map == MAP_FAILED) {
        errmsg_set(err, errlen, "%s: cannot mmap: %s", path, strerror(map_errno));
        return -1;
    }
    f->map = map;
    f->map_len = len;

    if (parse_file(f, path, err, errlen) != 0) {
        safet_close(f);
        return -1;
    }
    return 0;
}

const safet_tensor *safet_find(const safet_file *f, const char *name) {
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *safet_meta(const safet_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

void safet_close(safet_file *f) {
    if (!f) return;
    if (f->tensors)
        for (size_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    if (f->map) munmap(f->map, f->map_len);
    memset(f, 0, sizeof *f);
}

// ---------------------------------------------------------------------------
// Writing: header

// Builds the header JSON (metadata first, then tensors in entry order) and
// returns it as 8 length bytes + JSON + space padding to a multiple of 8, so
// the data buffer starts 8-aligned. sizes[i] gets each tensor's byte count.
static unsigned char *build_header(const char *path, const safet_entry *entries, size_t n, const char *const *meta_keys,
                                   const char *const *meta_values, size_t n_meta, uint64_t *sizes, size_t *out_len,
                                   char *err, size_t errlen) {
    char nm[SHOW_LEN];
    unsigned char *buf = NULL;
    char *text = NULL;
    json_t *root = json_object();
    if (!root) goto oom;

    if (n_meta > 0) {
        json_t *m = json_object();
        if (!m || json_object_set_new(root, "__metadata__", m) != 0) goto oom;
        for (size_t i = 0; i < n_meta; i++) {
            if (!meta_keys[i] || !meta_values[i]) {
                errmsg_set(err, errlen, "%s: metadata entry %zu has no key or value", path, i);
                goto fail;
            }
            if (json_object_get(m, meta_keys[i])) {
                errmsg_set(err, errlen, "%s: duplicate metadata key '%s'", path, show(meta_keys[i], nm));
                goto fail;
            }
            json_t *s = json_string(meta_values[i]);
            if (!s || json_object_set_new(m, meta_keys[i], s) != 0) {
                errmsg_set(err, errlen, "%s: metadata '%s': key or value is not valid UTF-8", path,
                           show(meta_keys[i], nm));
                goto fail;
            }
        }
    }

    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const safet_entry *e = &entries[i];
        if (!e->name) {
            errmsg_set(err, errlen, "%s: tensor %zu has no name", path, i);
            goto fail;
        }
        show(e->name, nm);
        if (strcmp(e->name, "__metadata__") == 0) {
            errmsg_set(err, errlen, "%s: '__metadata__' is reserved and cannot name a tensor", path);
            goto fail;
        }
        if (json_object_get(root, e->name)) {
            errmsg_set(err, errlen, "%s: duplicate tensor name '%s'", path, nm);
            goto fail;
        }
        if (!dtype_valid(e->dtype)) {
            errmsg_set(err, errlen, "%s: tensor '%s': invalid dtype %d", path, nm, (int)e->dtype);
            goto fail;
        }
        if (e->ndim < 0 || e->ndim > SAFET_MAX_DIMS || (e->ndim > 0 && !e->shape)) {
            errmsg_set(err, errlen, "%s: tensor '%s': ndim %d is not 0..%d with a shape", path, nm, e->ndim,
                       SAFET_MAX_DIMS);
            goto fail;
        }
        uint64_t numel, nbytes;
        if (shape_size(e->shape, e->ndim, e->dtype, &numel, &nbytes) != 0 || nbytes > SIZE_MAX ||
            off > (uint64_t)INT64_MAX - nbytes) {
            errmsg_set(err, errlen, "%s: tensor '%s': shape has a negative dim or is too large", path, nm);
            goto fail;
        }
        sizes[i] = nbytes;

        // json_string refuses invalid UTF-8 just as a key set would, but says
        // so distinctly from running out of memory.
        json_t *probe = json_string(e->name);
        if (!probe) {
            errmsg_set(err, errlen, "%s: tensor name '%s' is not valid UTF-8", path, nm);
            goto fail;
        }
        json_decref(probe);
        json_t *t = json_object();
        if (!t || json_object_set_new(root, e->name, t) != 0) goto oom;
        if (json_object_set_new(t, "dtype", json_string(safet_dtype_name(e->dtype))) != 0) goto oom;
        json_t *shape = json_array();
        if (json_object_set_new(t, "shape", shape) != 0) goto oom;
        json_t *offs = json_array();
        if (json_object_set_new(t, "data_offsets", offs) != 0) goto oom;
        for (int d = 0; d < e->ndim; d++)
            if (json_array_append_new(shape, json_integer(e->shape[d])) != 0) goto oom;
        if (json_array_append_new(offs, json_integer((json_int_t)off)) != 0 ||
            json_array_append_new(offs, json_integer((json_int_t)(off + nbytes))) != 0)
            goto oom;
        off += nbytes;
    }

    text = json_dumps(root, JSON_COMPACT);
    if (!text) goto oom;
    size_t tlen = strlen(text);
    size_t hlen = (tlen + 7) & ~(size_t)7;
    if (hlen > SAFET_MAX_HEADER) {
        errmsg_set(err, errlen, "%s: header would be %zu bytes, over the %u byte limit", path, hlen, SAFET_MAX_HEADER);
        goto fail;
    }
    buf = malloc(8 + hlen);
    if (!buf) goto oom;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, text, tlen);
    memset(buf + 8 + tlen, ' ', hlen - tlen);
    *out_len = 8 + hlen;
    free(text);
    json_decref(root);
    return buf;

oom:
    errmsg_set(err, errlen, "%s: out of memory building the header", path);
fail:
    free(text);
    json_decref(root);
    return NULL;
}

// ---------------------------------------------------------------------------
// Writing: file

struct safet_pending {
    atomic_file f;   // written, fsynced and closed: the rename is what is pending
};

// The 64 '0's the digest's metadata value holds until the data is written; then overwritten in place.
static const char DIGEST_PLACEHOLDER[] = "0000000000000000000000000000000000000000000000000000000000000000";

// Where in the header the placeholder value of `key` starts: after "key":" in the compact JSON.
static long digest_offset(const unsigned char *hdr, size_t hdr_len, const char *key) {
    char pat[256];
    int n = snprintf(pat, sizeof pat, "\"%s\":\"%s\"", key, DIGEST_PLACEHOLDER);
    if (n < 0 || (size_t)n >= sizeof pat) return -1;
    for (size_t i = 8; i + (size_t)n <= hdr_len; i++)
        if (memcmp(hdr + i, pat, (size_t)n) == 0) return (long)(i + strlen(key) + 4);
    return -1;
}

int safet_write_pending(const char *path, const safet_entry *entries, size_t n, const char *const *meta_keys,
                        const char *const *meta_values, size_t n_meta, safet_fill_fn fill, void *user,
                        const char *digest_key, safet_pending **out, char *err, size_t errlen) {
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    if (!path || !*path) {
        errmsg_set(err, errlen, "safet_write: no path given");
        return -1;
    }
    if ((n > 0 && (!entries || !fill)) || (n_meta > 0 && (!meta_keys || !meta_values))) {
        errmsg_set(err, errlen, "%s: safet_write called without entries, fill or metadata arrays", path);
        return -1;
    }

    int rc = -1, opened = 0;
    atomic_file af;
    unsigned char *hdr = NULL;
    EVP_MD_CTX *md = NULL;
    const char **keys = calloc(n_meta + 1, sizeof *keys), **values = calloc(n_meta + 1, sizeof *values);
    uint64_t *sizes = calloc(n ? n : 1, sizeof *sizes);
    if (!sizes || !keys || !values) {
        errmsg_set(err, errlen, "%s: out of memory", path);
        goto out;
    }
    // the digest's placeholder rides in the metadata; its real value is written once the data is
    if (n_meta > 0) {
        memcpy(keys, meta_keys, n_meta * sizeof *keys);
        memcpy(values, meta_values, n_meta * sizeof *values);
    }
    size_t n_all = n_meta;
    if (digest_key) {
        keys[n_all] = digest_key;
        values[n_all++] = DIGEST_PLACEHOLDER;
        if (!(md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
            errmsg_set(err, errlen, "%s: out of memory", path);
            goto out;
        }
    }
    size_t hdr_len = 0;
    hdr = build_header(path, entries, n, keys, values, n_all, sizes, &hdr_len, err, errlen);
    if (!hdr) goto out;
    long digest_at = digest_key ? digest_offset(hdr, hdr_len, digest_key) : 0;
    if (digest_at < 0) {
        errmsg_set(err, errlen, "%s: the digest's place in the header was not found", path);
        goto out;
    }

    if (atomic_file_open(&af, path, err, errlen) != 0) goto out;
    opened = 1;
    int fd = af.fd;
    if (atomic_file_write_all(fd, hdr, hdr_len) != 0) {
        errmsg_set(err, errlen, "%s: write failed: %s", path, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t nb = (size_t)sizes[i];
        // Zeroed, so a fill that writes short cannot leak heap bytes to disk.
        void *buf = calloc(nb ? nb : 1, 1);
        if (!buf) {
            char nm[SHOW_LEN];
            errmsg_set(err, errlen, "%s: out of memory for %zu bytes of tensor '%s'", path, nb,
                       show(entries[i].name, nm));
            goto out;
        }
        if (err && errlen) err[0] = '\0';
        if (fill(user, i, buf, nb, err, errlen) != 0) {
            free(buf);
            if (err && errlen && err[0] == '\0') {
                char nm[SHOW_LEN];
                errmsg_set(err, errlen, "%s: filling tensor '%s' failed", path, show(entries[i].name, nm));
            }
            goto out;
        }
        if (md) EVP_DigestUpdate(md, buf, nb);
        int w = atomic_file_write_all(fd, buf, nb);
        int e = errno;
        free(buf);
        if (w != 0) {
            errmsg_set(err, errlen, "%s: write failed: %s", path, strerror(e));
            goto out;
        }
    }
    if (md) {
        unsigned char digest[32];
        unsigned len = 0;
        char hex[65];
        EVP_DigestFinal_ex(md, digest, &len);
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        if (pwrite(fd, hex, 64, (off_t)digest_at) != 64) {
            errmsg_set(err, errlen, "%s: write failed: %s", path, strerror(errno));
            goto out;
        }
    }
    if (atomic_file_close(&af, err, errlen) != 0) goto out;
    safet_pending *p = calloc(1, sizeof *p);
    if (!p) {
        errmsg_set(err, errlen, "%s: out of memory", path);
        goto out;
    }
    p->f = af;
    opened = 0;   // the pending file's now: committed or aborted by the caller
    *out = p;
    if (err && errlen) err[0] = '\0';
    rc = 0;
out:
    if (opened) atomic_file_abort(&af);
    EVP_MD_CTX_free(md);
    free(hdr);
    free(sizes);
    free(keys);
    free(values);
    return rc;
}

int safet_commit(safet_pending *p, char *err, size_t errlen) {
    int rc = atomic_file_commit(&p->f, 1, err, errlen);
    free(p);
    return rc;
}

void safet_abort(safet_pending *p) {
    if (!p) return;
    atomic_file_abort(&p->f);
    free(p);
}

int safet_write(const char *path, const safet_entry *entries, size_t n, const char *const *meta_keys,
                const char *const *meta_values, size_t n_meta, safet_fill_fn fill, void *user, char *err,
                size_t errlen) {
    safet_pending *p;
    if (safet_write_pending(path, entries, n, meta_keys, meta_values, n_meta, fill, user, NULL, &p, err, errlen) != 0)
        return -1;
    return safet_commit(p, err, errlen);
}

int safet_check_digest(const safet_file *f, const char *key, char *err, size_t errlen) {
    const char *want = safet_meta(f, key);
    if (!want) return 0;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | ((const unsigned char *)f->map)[i];
    const unsigned char *data = (const unsigned char *)f->map + 8 + hlen;
    size_t len = f->map_len - 8 - (size_t)hlen;
    unsigned char digest[32];
    unsigned dlen = 0;
    char hex[65];
    if (EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL) != 1) {
        errmsg_set(err, errlen, "out of memory for the data's digest");
        return -1;
    }
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    if (strcmp(hex, want) != 0) {
        errmsg_set(err, errlen, "its tensor data does not match the digest it was saved with (the file is damaged)");
        return -1;
    }
    return 1;
}
