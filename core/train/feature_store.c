// feature_store.c — the feature cache on disk (see feature_store.h for the format and its rules).
#include "feature_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errmsg.h"
#include "fetch.h"
#include "number.h"
#include "path.h"
#include "safetensors.h"
#include "weights.h"

// The rows are written as the host holds them: the format says little-endian.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "feature_store writes floats as the host holds them; the format is little-endian"
#endif

#define META_VERSION "frost.features"
#define META_KEY "frost.features.key"
#define ENTRY_SUFFIX ".safetensors"
#define TMP_MARK ".safetensors.tmp."
#define STALE_TMP_SECONDS 3600

// ---------------------------------------------------------------------------------------------
// the folder, its cap

int feature_store_dir(char *out, size_t len, char *err, size_t errlen) {
    char base[4096];
    if (fetch_cache_dir(base, sizeof base, err, errlen) != 0) return -1;
    int n = snprintf(out, len, "%s/features", base);
    if (n < 0 || (size_t)n >= len) {
        errmsg_set(err, errlen, "the feature cache's path is too long");
        return -1;
    }
    return 0;
}

long long feature_store_cap(char *from, size_t fromlen, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    const char *env = getenv(FEATURE_STORE_ENV);
    if (env && *env) {
        long long mb;
        if (number_parse_int(env, 0, 1000000000LL, &mb) == 0) {
            if (from) snprintf(from, fromlen, "%s", FEATURE_STORE_ENV);
            return mb * 1000000;
        }
        errmsg_set(err, errlen, "%s=%s is not a size in MB (0 turns the disk cache off); using %d MB",
                   FEATURE_STORE_ENV, env, FEATURE_STORE_DEFAULT_MB);
    }
    frost_config c;
    char ignored[512];
    (void)config_load(&c, ignored, sizeof ignored);   // its mistakes are said where the commands read it
    if (c.feature_cache_mb >= 0) {
        if (from) snprintf(from, fromlen, "feature_cache_mb in %s", c.path);
        return c.feature_cache_mb * 1000000;
    }
    if (from) snprintf(from, fromlen, "the default");
    return (long long)FEATURE_STORE_DEFAULT_MB * 1000000;
}

// ---------------------------------------------------------------------------------------------
// keys

static void hex(const unsigned char *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", p[i]);
}

int feature_model_key(const feature_model *m, char *out, size_t len) {
    const transform_params *tf = m->tf;
    const image_decode_opts *d = m->dec;
    int n = snprintf(out, len,
                     "frost.features %d\narch=%s\nweights=%s\ndevice=%s\nsize=%d\nfit=%d\nfast=%d\n"
                     "decode=dct_min_side:%d,fast_dct:%d,max_pixels:%lld\nmean=%.9g,%.9g,%.9g\nstd=%.9g,%.9g,%.9g\n"
                     "bn_eval=%d\nprecision=%d\nfeat=%lld\n",
                     FEATURE_STORE_VERSION, m->arch, m->weights, m->device, tf->size, (int)tf->fit, tf->fast,
                     d->dct_min_side, d->fast_dct, d->max_pixels, tf->mean[0], tf->mean[1], tf->mean[2], tf->std[0],
                     tf->std[1], tf->std[2], m->bn_eval, m->precision, (long long)m->feat);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int is_hex64(const char *s) {
    if (!s || strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

int feature_weights_digest(const char *path, uint64_t seed, size_t classes, char *out, size_t len, char *err,
                           size_t errlen) {
    if (!path) {
        snprintf(out, len, "random:seed=%llu,classes=%zu", (unsigned long long)seed, classes);
        return 0;
    }
    // a frost file carries the digest of its tensors (checked when the model loaded it): no need to
    // read 100 MB again; any other file is hashed whole
    safet_file f;
    char why[512];
    if (safet_open(&f, path, why, sizeof why) == 0) {
        const char *d = safet_meta(&f, WEIGHTS_DIGEST_KEY);
        int ok = is_hex64(d);
        if (ok) snprintf(out, len, "sha256:%s", d);
        safet_close(&f);
        if (ok) return 0;
    }
    char h[65];
    if (fetch_sha256_file(path, h, err, errlen) != 0) return -1;
    snprintf(out, len, "sha256:%s", h);
    return 0;
}

static void sha256(const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc,
                   unsigned char out[32]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;
    memset(out, 0, 32);
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
        EVP_DigestUpdate(md, a, na);
        if (nb) EVP_DigestUpdate(md, b, nb);
        if (nc) EVP_DigestUpdate(md, c, nc);
        EVP_DigestFinal_ex(md, out, &len);
    }
    EVP_MD_CTX_free(md);
}

int feature_entry_path(const char *dir, const char *key, const char *arch, const char *root, const char *split,
                       char *out, size_t len) {
    unsigned char d[32];
    char h[25];
    sha256(key, strlen(key) + 1, root, strlen(root) + 1, split, strlen(split), d);
    hex(d, 12, h);
    int n = snprintf(out, len, "%s/%s-%s-%s" ENTRY_SUFFIX, dir, arch, split, h);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int feature_file_id(const char *path, const char *name, uint8_t id[FEATURE_ID_LEN]) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    unsigned char le[16], d[32];
    uint64_t size = (uint64_t)st.st_size;
    uint64_t ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(size >> (8 * i)), le[8 + i] = (unsigned char)(ns >> (8 * i));
    sha256(name, strlen(name) + 1, le, sizeof le, NULL, 0, d);
    memcpy(id, d, FEATURE_ID_LEN);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// writing an entry

// What an entry keeps and a reader compares whole: the model's key, the dataset folder, the split.
static char *entry_key(const feature_entry_info *info) {
    size_t n = strlen(info->key) + strlen(info->root) + strlen(info->split) + 32;
    char *k = malloc(n);
    if (k) snprintf(k, n, "%sroot=%s\nsplit=%s\n", info->key, info->root, info->split);
    return k;
}

// The value of line "name=..." in a key text, into out ("?" when absent).
static void key_line(const char *key, const char *name, char *out, size_t len) {
    size_t n = strlen(name);
    for (const char *p = key; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            snprintf(out, len, "%.*s", (int)strcspn(p + n + 1, "\n"), p + n + 1);
            return;
        }
    snprintf(out, len, "?");
}

typedef struct {
    const feature_row **good, **bad;
    size_t n_good, n_bad, reason_bytes;
    int64_t feat;
} write_ctx;

static int cmp_row(const void *a, const void *b) {
    return memcmp((*(const feature_row *const *)a)->id, (*(const feature_row *const *)b)->id, FEATURE_ID_LEN);
}

static int fill(void *user, size_t index, void *dst, size_t nbytes, char *err, size_t errlen) {
    (void)err, (void)errlen, (void)nbytes;
    const write_ctx *w = user;
    unsigned char *p = dst;
    size_t row = (size_t)w->feat * sizeof(float);
    switch (index) {
    case 0:
        for (size_t i = 0; i < w->n_good; i++) memcpy(p + i * row, w->good[i]->row, row);
        break;
    case 1:
        for (size_t i = 0; i < w->n_good; i++) memcpy(p + i * FEATURE_ID_LEN, w->good[i]->id, FEATURE_ID_LEN);
        break;
    case 2:
        for (size_t i = 0; i < w->n_bad; i++) memcpy(p + i * FEATURE_ID_LEN, w->bad[i]->id, FEATURE_ID_LEN);
        break;
    default:
        for (size_t i = 0; i < w->n_bad; i++) {
            const char *r = w->bad[i]->reason ? w->bad[i]->reason : "";
            size_t k = strlen(r) + 1;
            memcpy(p, r, k);
            p += k;
        }
    }
    return 0;
}

static int make_parent(const char *path) {
    char *dir = strdup(path);
    if (!dir) return -1;
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        rc = path_mkdirs(dir);
    }
    free(dir);
    return rc;
}

int feature_entry_write(const char *path, const feature_entry_info *info, const feature_row *rows, size_t n,
                        long long *bytes, char *err, size_t errlen) {
    if (bytes) *bytes = 0;
    const feature_row **sorted = malloc((n ? n : 1) * sizeof *sorted);
    write_ctx w = {.feat = info->feat};
    w.good = malloc((n ? n : 1) * sizeof *w.good);
    w.bad = malloc((n ? n : 1) * sizeof *w.bad);
    int rc = -1;
    char *key = NULL;
    if (!sorted || !w.good || !w.bad) {
        errmsg_set(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) sorted[i] = &rows[i];
    qsort(sorted, n, sizeof *sorted, cmp_row);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && memcmp(sorted[i]->id, sorted[i - 1]->id, FEATURE_ID_LEN) == 0) continue;   // one row an image
        if (sorted[i]->row)
            w.good[w.n_good++] = sorted[i];
        else {
            w.bad[w.n_bad++] = sorted[i];
            w.reason_bytes += strlen(sorted[i]->reason ? sorted[i]->reason : "") + 1;
        }
    }
    int64_t fshape[2] = {(int64_t)w.n_good, info->feat}, ishape[2] = {(int64_t)w.n_good, FEATURE_ID_LEN},
            bshape[2] = {(int64_t)w.n_bad, FEATURE_ID_LEN}, rshape[1] = {(int64_t)w.reason_bytes};
    // features first: the data buffer starts 8-byte aligned, so every row is a float array in the map
    safet_entry entries[4] = {{"features", SAFET_F32, 2, fshape},
                              {"ids", SAFET_U8, 2, ishape},
                              {"bad_ids", SAFET_U8, 2, bshape},
                              {"bad_reasons", SAFET_U8, 1, rshape}};
    char version[16];
    snprintf(version, sizeof version, "%d", FEATURE_STORE_VERSION);
    key = entry_key(info);
    const char *keys[] = {META_VERSION, META_KEY};
    const char *values[] = {version, key};
    if (!key) {
        errmsg_set(err, errlen, "out of memory");
        goto out;
    }
    if (make_parent(path) != 0) {
        errmsg_set(err, errlen, "%s: cannot make its folder: %s", path, strerror(errno));
        goto out;
    }
    safet_pending *p = NULL;
    if (safet_write_pending(path, entries, 4, keys, values, 2, fill, &w, WEIGHTS_DIGEST_KEY, &p, err, errlen) != 0 ||
        safet_commit(p, err, errlen) != 0)
        goto out;
    struct stat st;
    if (bytes && stat(path, &st) == 0) *bytes = (long long)st.st_size;
    rc = 0;
out:
    free(key);
    free(sorted);
    free(w.good);
    free(w.bad);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// reading an entry

struct feature_entry {
    safet_file f;
    const float *features;
    const uint8_t *ids, *bad_ids;
    size_t n, n_bad;
    int64_t feat;
    const char **reasons;
};

void feature_entry_close(feature_entry *e) {
    if (!e) return;
    safet_close(&e->f);
    free(e->reasons);
    free(e);
}

// A tensor named name of dtype, 2-D with width columns (1-D when width is 0); its rows in *rows.
static const safet_tensor *tensor(const safet_file *f, const char *name, safet_dtype dtype, int64_t width,
                                  size_t *rows) {
    const safet_tensor *t = safet_find(f, name);
    if (!t || t->dtype != dtype || t->ndim != (width ? 2 : 1) || (width && t->shape[1] != width)) return NULL;
    *rows = (size_t)t->shape[0];
    return t;
}

static int sorted_ids(const uint8_t *ids, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (memcmp(ids + (i - 1) * FEATURE_ID_LEN, ids + i * FEATURE_ID_LEN, FEATURE_ID_LEN) >= 0) return 0;
    return 1;
}

int feature_entry_open(const char *path, const feature_entry_info *info, feature_entry **out, char *err,
                       size_t errlen) {
    *out = NULL;
    const int64_t feat = info->feat;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) return 0;
    feature_entry *e = calloc(1, sizeof *e);
    if (!e) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    char why[1024];
    if (safet_open(&e->f, path, why, sizeof why) != 0) {
        if (errno == ENOENT) {   // evicted by another process just now
            free(e);
            return 0;
        }
        errmsg_set(err, errlen, "damaged (%s)", why);
        free(e);
        return -1;
    }
    const char *version = safet_meta(&e->f, META_VERSION), *model = safet_meta(&e->f, META_KEY);
    char *key = entry_key(info);
    size_t n_ids = 0, n_reasons = 0;
    const safet_tensor *tf = tensor(&e->f, "features", SAFET_F32, feat, &e->n);
    const safet_tensor *ti = tensor(&e->f, "ids", SAFET_U8, FEATURE_ID_LEN, &n_ids);
    const safet_tensor *tb = tensor(&e->f, "bad_ids", SAFET_U8, FEATURE_ID_LEN, &e->n_bad);
    const safet_tensor *tr = tensor(&e->f, "bad_reasons", SAFET_U8, 0, &n_reasons);
    int digest = 0;
    if (!key)
        errmsg_set(err, errlen, "out of memory");
    else if (!version || atoi(version) != FEATURE_STORE_VERSION)
        errmsg_set(err, errlen, "stale (format %s, this frost reads %d)", version ? version : "unknown",
                   FEATURE_STORE_VERSION);
    else if (!model || strcmp(model, key) != 0)
        errmsg_set(err, errlen, "stale (made for another model or preprocessing)");
    else if (!tf || !ti || !tb || !tr || n_ids != e->n)
        errmsg_set(err, errlen, "damaged (its tensors are not what an entry holds)");
    else if ((uintptr_t)tf->data % sizeof(float) != 0)
        errmsg_set(err, errlen, "damaged (misaligned features)");
    else if ((digest = safet_check_digest(&e->f, WEIGHTS_DIGEST_KEY, why, sizeof why)) != 1)
        errmsg_set(err, errlen, "damaged (%s)", digest == 0 ? "no digest" : "its data does not match its digest");
    else if (!sorted_ids(ti->data, e->n) || !sorted_ids(tb->data, e->n_bad))
        errmsg_set(err, errlen, "damaged (rows out of order)");
    else {
        e->features = tf->data;
        e->ids = ti->data;
        e->bad_ids = tb->data;
        e->feat = feat;
        e->reasons = malloc((e->n_bad ? e->n_bad : 1) * sizeof *e->reasons);
        const char *r = tr->data, *end = r + n_reasons;
        size_t k = 0;
        for (; e->reasons && k < e->n_bad && r < end; k++) {
            const char *nul = memchr(r, '\0', (size_t)(end - r));
            if (!nul) break;
            e->reasons[k] = r;
            r = nul + 1;
        }
        if (!e->reasons)
            errmsg_set(err, errlen, "out of memory");
        else if (k != e->n_bad || r != end)
            errmsg_set(err, errlen, "damaged (the reasons of its bad files do not add up)");
        else {
            // its last use: now (least recently used goes first when the cache is full)
            (void)utimensat(AT_FDCWD, path, NULL, 0);
            free(key);
            *out = e;
            return 1;
        }
    }
    free(key);
    feature_entry_close(e);
    return -1;
}

static const uint8_t *search(const uint8_t *ids, size_t n, const uint8_t *id, size_t *at) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(ids + mid * FEATURE_ID_LEN, id, FEATURE_ID_LEN);
        if (c == 0) {
            *at = mid;
            return ids + mid * FEATURE_ID_LEN;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int feature_entry_find(const feature_entry *e, const uint8_t id[FEATURE_ID_LEN], const float **row,
                       const char **reason) {
    size_t at;
    if (search(e->ids, e->n, id, &at)) {
        *row = e->features + at * (size_t)e->feat;
        return 1;
    }
    if (search(e->bad_ids, e->n_bad, id, &at)) {
        *reason = e->reasons[at];
        return 2;
    }
    return 0;
}

size_t feature_entry_rows(const feature_entry *e) { return e ? e->n + e->n_bad : 0; }

// ---------------------------------------------------------------------------------------------
// the whole store

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

// 1 for an entry's name, 2 for a temporary file of a write, 0 for anything else (left alone).
static int kind_of(const char *name) {
    if (name[0] == '.') return 0;
    if (strstr(name, TMP_MARK)) return 2;
    return ends_with(name, ENTRY_SUFFIX) ? 1 : 0;
}

typedef struct {
    char *path;
    long long bytes;
    struct timespec used;
    int kind;
} store_file;

static void files_free(store_file *v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i].path);
    free(v);
}

// Our files in dir (entries and temporaries), stat'ed; a file gone meanwhile is left out. *n 0 when dir
// is absent. 0, or -1 with err.
static int scan(const char *dir, store_file **out, size_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        errmsg_set(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        int kind = kind_of(de->d_name);
        if (!kind) continue;
        char *p = path_join(dir, de->d_name);
        struct stat st;
        if (!p || stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (*n == cap) {
            size_t c = cap ? 2 * cap : 16;
            store_file *grown = realloc(*out, c * sizeof *grown);
            if (!grown) {
                free(p);
                errmsg_set(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            *out = grown, cap = c;
        }
        (*out)[(*n)++] = (store_file){p, (long long)st.st_size, st.st_mtim, kind};
    }
    closedir(d);
    if (rc != 0) {
        files_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int older_first(const void *a, const void *b) {
    const store_file *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec) return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec) return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return strcmp(x->path, y->path);
}

// 0 removed, 1 gone already (another process evicted it first: not a failure), -1 with errno
static int remove_file(const char *path) { return unlink(path) == 0 ? 0 : errno == ENOENT ? 1 : -1; }

int feature_store_evict(const char *dir, long long cap, long long *freed, size_t *removed, char *err, size_t errlen) {
    if (freed) *freed = 0;
    if (removed) *removed = 0;
    store_file *v;
    size_t n;
    if (scan(dir, &v, &n, err, errlen) != 0) return -1;
    qsort(v, n, sizeof *v, older_first);
    long long total = 0;
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        int gone;
        if (v[i].kind == 2 && now - v[i].used.tv_sec > STALE_TMP_SECONDS && (gone = remove_file(v[i].path)) >= 0) {
            if (freed && gone == 0) *freed += v[i].bytes;   // a crashed writer's leftover
            v[i].kind = 0;
        }
        if (v[i].kind == 1) total += v[i].bytes;
    }
    for (size_t i = 0; i < n && total > cap; i++) {
        int gone = v[i].kind == 1 ? remove_file(v[i].path) : -1;
        if (gone < 0) continue;
        total -= v[i].bytes;
        if (gone == 1) continue;
        if (freed) *freed += v[i].bytes;
        if (removed) ++*removed;
    }
    files_free(v, n);
    return 0;
}

int feature_store_clear(const char *dir, long long *freed, size_t *removed, char *err, size_t errlen) {
    if (freed) *freed = 0;
    if (removed) *removed = 0;
    store_file *v;
    size_t n;
    if (scan(dir, &v, &n, err, errlen) != 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int gone = remove_file(v[i].path);
        if (gone < 0) {
            if (rc == 0) errmsg_set(err, errlen, "%s: %s", v[i].path, strerror(errno));
            rc = -1;
        }
        if (gone != 0) continue;
        if (freed) *freed += v[i].bytes;
        if (removed && v[i].kind == 1) ++*removed;
    }
    files_free(v, n);
    return rc;
}

static int newer_first(const void *a, const void *b) {
    const feature_store_item *x = a, *y = b;
    if (x->used != y->used) return x->used > y->used ? -1 : 1;
    return strcmp(x->path, y->path);
}

int feature_store_list(const char *dir, feature_store_item **items, size_t *n, long long *total, char *err,
                       size_t errlen) {
    *items = NULL;
    *n = 0;
    if (total) *total = 0;
    store_file *v;
    size_t nf;
    if (scan(dir, &v, &nf, err, errlen) != 0) return -1;
    feature_store_item *it = calloc(nf ? nf : 1, sizeof *it);
    if (!it) {
        files_free(v, nf);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < nf; i++) {
        if (v[i].kind != 1) continue;
        feature_store_item *e = &it[k++];
        snprintf(e->path, sizeof e->path, "%s", v[i].path);
        e->bytes = v[i].bytes;
        e->used = (int64_t)v[i].used.tv_sec;
        e->rows = e->bad = -1;
        if (total) *total += v[i].bytes;
        safet_file f;
        char why[512];
        if (safet_open(&f, v[i].path, why, sizeof why) != 0) continue;   // listed as unreadable
        const char *key = safet_meta(&f, META_KEY), *version = safet_meta(&f, META_VERSION);
        key_line(key, "arch", e->arch, sizeof e->arch);
        key_line(key, "root", e->root, sizeof e->root);
        key_line(key, "split", e->split, sizeof e->split);
        const safet_tensor *ids = safet_find(&f, "ids"), *bad = safet_find(&f, "bad_ids");
        if (key && version && atoi(version) == FEATURE_STORE_VERSION && ids && bad && ids->ndim == 2 && bad->ndim == 2)
            e->rows = ids->shape[0], e->bad = bad->shape[0];
        safet_close(&f);
    }
    files_free(v, nf);
    qsort(it, k, sizeof *it, newer_first);
    *items = it;
    *n = k;
    return 0;
}

// ---------------------------------------------------------------------------------------------

long long feature_store_free_bytes(const char *dir) {
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (;;) {
        struct statvfs s;
        if (statvfs(p, &s) == 0) return (long long)s.f_bavail * (long long)s.f_frsize;
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) return -1;
        *slash = '\0';
    }
}
