// pth_file.c — .pth readers (see pth_file.h): the zip format through libzip, the legacy format as a
// run of pickles followed by raw storages; both end in the same step that turns the pickled dict of
// tensor records into contiguous safet_tensor entries.
#include "pth_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "errmsg.h"
#include "pickle.h"
#include "regular_file.h"

// what libzip 1.10 and later say of an archive cut short (before that: ZIP_ER_NOZIP)
#ifdef ZIP_ER_TRUNCATED_ZIP
#define ZIP_ER_TRUNCATED ZIP_ER_TRUNCATED_ZIP
#else
#define ZIP_ER_TRUNCATED ZIP_ER_NOZIP
#endif

// Limits that keep a hostile file from asking for absurd amounts of memory up front.
#define PTH_MAX_PICKLE ((zip_uint64_t)1 << 30)
#define PTH_MAX_STORAGE ((uint64_t)1 << 36)

static const uint8_t LEGACY_MAGIC[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

// A storage: its key, element type and bytes (into the file, or a buffer in f->owned).
typedef struct {
    const char *key;
    safet_dtype dtype;
    int64_t numel;
    const uint8_t *data;   // NULL until found
} storage_ref;

typedef struct {
    storage_ref *items;
    size_t n;
} storage_list;

pth_format pth_sniff(const void *head, size_t len) {
    const uint8_t *b = head;
    if (len >= 4 && memcmp(b, "PK\3\4", 4) == 0) return PTH_ZIP;
    // a protocol-2 pickle of the magic number: PROTO 2, LONG1 10 bytes
    if (len >= 4 && b[0] == 0x80 && b[1] == 2 && b[2] == 0x8a && b[3] == 10) return PTH_LEGACY;
    return 0;
}

const char *pth_format_name(pth_format f) {
    return f == PTH_ZIP ? "torch.save zip" : f == PTH_LEGACY ? "legacy torch.save" : "unknown";
}

static int own(pth_file *f, void *p) {
    if (f->n_owned == f->owned_cap) {
        size_t cap = f->owned_cap ? f->owned_cap * 2 : 64;
        void **np = realloc(f->owned, cap * sizeof *np);
        if (!np) return -1;
        f->owned = np;
        f->owned_cap = cap;
    }
    f->owned[f->n_owned++] = p;
    return 0;
}

void pth_close(pth_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_owned; i++) free(f->owned[i]);
    free(f->owned);
    if (f->map) munmap(f->map, f->map_len);
    memset(f, 0, sizeof *f);
}

// ---------------------------------------------------------------------------------------------
// the object: a dict of str -> tensor; collect the storages it uses

static int collect_storages(const pk_obj *root, storage_list *sl, const char *name, char *err, size_t errlen) {
    if (root->type != PK_DICT) {
        errmsg_set(err, errlen, "%s: holds a pickled %s, not a state_dict (a dict of tensors)", name,
                   pk_type_name(root->type));
        return -1;
    }
    sl->items = calloc(root->n / 2 + 1, sizeof *sl->items);
    if (!sl->items) {
        errmsg_set(err, errlen, "%s: out of memory", name);
        return -1;
    }
    for (size_t i = 0; i + 1 < root->n; i += 2) {
        const pk_obj *k = root->items[i], *v = root->items[i + 1];
        if (k->type != PK_STR) {
            errmsg_set(err, errlen, "%s: a key of the state_dict is a %s, not a str", name, pk_type_name(k->type));
            return -1;
        }
        if (v->type != PK_TENSOR) {
            errmsg_set(err, errlen,
                       "%s: '%.80s' is a %s, not a tensor (is this a whole checkpoint rather than a state_dict?)", name,
                       k->s, pk_type_name(v->type));
            return -1;
        }
        const pk_obj *st = v->storage;
        size_t j = 0;
        while (j < sl->n && strcmp(sl->items[j].key, st->s) != 0) j++;
        if (j == sl->n) {
            sl->items[sl->n++] = (storage_ref){st->s, st->dtype, st->numel, NULL};
        } else if (sl->items[j].dtype != st->dtype || sl->items[j].numel != st->numel) {
            errmsg_set(err, errlen, "%s: storage '%.40s' is named with two types or sizes", name, st->s);
            return -1;
        }
    }
    return 0;
}

static const storage_ref *find_storage(const storage_list *sl, const char *key) {
    for (size_t j = 0; j < sl->n; j++)
        if (strcmp(sl->items[j].key, key) == 0) return &sl->items[j];
    return NULL;
}

// Turns every tensor record into a contiguous safet_tensor.
static int make_tensors(pth_file *f, const pk_obj *root, const storage_list *sl, const char *name, char *err,
                        size_t errlen) {
    size_t n = root->n / 2;
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    if (!f->tensors) goto oom;
    for (size_t i = 0; i < n; i++) {
        const pk_obj *k = root->items[2 * i], *t = root->items[2 * i + 1];
        const storage_ref *st = find_storage(sl, t->storage->s);
        safet_tensor *out = &f->tensors[f->n_tensors];
        if (!(out->name = strdup(k->s))) goto oom;
        f->n_tensors++;
        out->dtype = st->dtype;
        out->ndim = t->ndim;
        size_t esize = safet_dtype_size(st->dtype);
        // numel and the last element it reaches, in storage elements, without overflow
        uint64_t numel = 1, reach = (uint64_t)t->offset;
        int contiguous = 1;
        uint64_t expect_stride = 1;
        for (int d = t->ndim - 1; d >= 0; d--) {
            uint64_t size = (uint64_t)t->shape[d], stride = (uint64_t)t->stride[d];
            out->shape[d] = t->shape[d];
            if (size > PTH_MAX_STORAGE || __builtin_mul_overflow(numel, size, &numel) || numel > PTH_MAX_STORAGE) {
                errmsg_set(err, errlen, "%s: '%.80s' is too large", name, k->s);
                return -1;
            }
            if (size > 1 && stride != expect_stride) contiguous = 0;
            expect_stride *= size ? size : 1;
            uint64_t span;
            if (size > 0 &&
                (__builtin_mul_overflow(size - 1, stride, &span) || __builtin_add_overflow(reach, span, &reach))) {
                errmsg_set(err, errlen, "%s: '%.80s' has strides out of range", name, k->s);
                return -1;
            }
        }
        out->nbytes = (size_t)numel * esize;
        if (numel == 0) {
            out->data = st->data;
            continue;
        }
        if (reach >= (uint64_t)st->numel) {
            errmsg_set(err, errlen, "%s: '%.80s' reaches past the end of its storage (%lld elements)", name, k->s,
                       (long long)st->numel);
            return -1;
        }
        const uint8_t *base = st->data + (size_t)t->offset * esize;
        if (contiguous) {
            out->data = base;
            continue;
        }
        uint8_t *copy = malloc(out->nbytes);
        if (!copy || own(f, copy) != 0) {
            free(copy);
            goto oom;
        }
        int64_t idx[SAFET_MAX_DIMS] = {0};
        for (uint64_t e = 0; e < numel; e++) {
            size_t src = 0;
            for (int d = 0; d < t->ndim; d++) src += (size_t)idx[d] * (size_t)t->stride[d];
            memcpy(copy + e * esize, base + src * esize, esize);
            for (int d = t->ndim - 1; d >= 0; d--) {
                if (++idx[d] < t->shape[d]) break;
                idx[d] = 0;
            }
        }
        out->data = copy;
    }
    return 0;
oom:
    errmsg_set(err, errlen, "%s: out of memory", name);
    return -1;
}

// ---------------------------------------------------------------------------------------------
// zip

static int zip_read_entry(zip_t *z, zip_int64_t idx, uint64_t want, uint8_t **out, const char *name, const char *entry,
                          char *err, size_t errlen) {
    zip_stat_t zs;
    zip_stat_init(&zs);
    if (zip_stat_index(z, (zip_uint64_t)idx, 0, &zs) != 0 || !(zs.valid & ZIP_STAT_SIZE)) {
        errmsg_set(err, errlen, "%s: cannot read %.80s in the zip: %s", name, entry, zip_strerror(z));
        return -1;
    }
    if (want != UINT64_MAX && zs.size != want) {
        errmsg_set(err, errlen, "%s: %.80s holds %llu bytes, its tensors need %llu", name, entry,
                   (unsigned long long)zs.size, (unsigned long long)want);
        return -1;
    }
    if (zs.size > PTH_MAX_STORAGE) {
        errmsg_set(err, errlen, "%s: %.80s is too large (%llu bytes)", name, entry, (unsigned long long)zs.size);
        return -1;
    }
    uint8_t *buf = malloc(zs.size ? zs.size : 1);
    zip_file_t *zf = buf ? zip_fopen_index(z, (zip_uint64_t)idx, 0) : NULL;
    if (!zf) {
        if (buf)
            errmsg_set(err, errlen, "%s: cannot open %.80s in the zip: %s", name, entry, zip_strerror(z));
        else
            errmsg_set(err, errlen, "%s: out of memory for %.80s", name, entry);
        free(buf);
        return -1;
    }
    zip_uint64_t got = 0;
    while (got < zs.size) {
        zip_int64_t r = zip_fread(zf, buf + got, zs.size - got);
        if (r <= 0) break;
        got += (zip_uint64_t)r;
    }
    // one more read reaches the end, where libzip checks the CRC
    uint8_t extra;
    int bad = got != zs.size || zip_fread(zf, &extra, 1) != 0;
    if (bad) errmsg_set(err, errlen, "%s: %.80s in the zip is damaged: %s", name, entry, zip_file_strerror(zf));
    zip_fclose(zf);
    if (bad) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

static int open_zip(pth_file *f, const void *buf, size_t len, const char *name, char *err, size_t errlen) {
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
    if (!z) {
        // a file that starts as a zip but whose directory at the end is gone was cut short (libzip
        // 1.7, Debian 12's, calls it not a zip; 1.11, Debian 13's, a truncated one)
        int code = zip_error_code_zip(&ze);
        if ((code == ZIP_ER_NOZIP || code == ZIP_ER_TRUNCATED) && len >= 4 && memcmp(buf, "PK\3\4", 4) == 0)
            errmsg_set(err, errlen, "%s: a torch.save zip cut short or damaged (its directory at the end is missing)",
                       name);
        else
            errmsg_set(err, errlen, "%s: not a readable zip: %s", name, zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return -1;
    }
    zip_error_fini(&ze);

    int rc = -1;
    pk_arena arena = {0};
    storage_list sl = {0};
    uint8_t *pkl = NULL;
    char prefix[512] = "", entry[600];
    zip_int64_t n = zip_get_num_entries(z, 0), pkl_idx = -1;
    for (zip_int64_t i = 0; i < n && pkl_idx < 0; i++) {
        const char *en = zip_get_name(z, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        const char *slash = en ? strchr(en, '/') : NULL;
        if (slash && strcmp(slash, "/data.pkl") == 0 && (size_t)(slash - en) < sizeof prefix) {
            memcpy(prefix, en, (size_t)(slash - en));
            prefix[slash - en] = '\0';
            pkl_idx = i;
        }
    }
    if (pkl_idx < 0) {
        errmsg_set(err, errlen, "%s: a zip without <name>/data.pkl, so not a torch.save file", name);
        goto done;
    }
    zip_stat_t zs;
    zip_stat_init(&zs);
    if (zip_stat_index(z, (zip_uint64_t)pkl_idx, 0, &zs) != 0 || zs.size > PTH_MAX_PICKLE) {
        errmsg_set(err, errlen, "%s: data.pkl is unreadable or too large", name);
        goto done;
    }
    // PyTorch 2 writes <name>/byteorder ("little" or "big"); older files are little-endian
    snprintf(entry, sizeof entry, "%s/byteorder", prefix);
    zip_int64_t bo_idx = zip_name_locate(z, entry, ZIP_FL_ENC_RAW);
    if (bo_idx >= 0) {
        uint8_t *bo = NULL;
        zip_stat_t bs;
        zip_stat_init(&bs);
        if (zip_stat_index(z, (zip_uint64_t)bo_idx, 0, &bs) != 0 || bs.size > 16) {
            errmsg_set(err, errlen, "%s: unreadable byteorder entry", name);
            goto done;
        }
        if (zip_read_entry(z, bo_idx, bs.size, &bo, name, entry, err, errlen) != 0) goto done;
        int little = bs.size >= 6 && memcmp(bo, "little", 6) == 0;
        free(bo);
        if (!little) {
            errmsg_set(err, errlen, "%s: written on a big-endian machine, which is not supported", name);
            goto done;
        }
    }
    if (zip_read_entry(z, pkl_idx, UINT64_MAX, &pkl, name, "data.pkl", err, errlen) != 0) goto done;
    pk_obj *root;
    size_t used;
    char why[300];
    if (pk_load(&arena, pkl, zs.size, &used, &root, why, sizeof why) != 0) {
        errmsg_set(err, errlen, "%s: %s", name, why);
        goto done;
    }
    if (collect_storages(root, &sl, name, err, errlen) != 0) goto done;
    for (size_t j = 0; j < sl.n; j++) {
        snprintf(entry, sizeof entry, "%s/data/%s", prefix, sl.items[j].key);
        zip_int64_t idx = zip_name_locate(z, entry, ZIP_FL_ENC_RAW);
        if (idx < 0) {
            errmsg_set(err, errlen, "%s: storage %.80s is missing from the zip", name, entry);
            goto done;
        }
        uint64_t bytes;
        if (__builtin_mul_overflow((uint64_t)sl.items[j].numel, (uint64_t)safet_dtype_size(sl.items[j].dtype),
                                   &bytes)) {
            errmsg_set(err, errlen, "%s: storage %.80s is too large", name, entry);
            goto done;
        }
        uint8_t *data;
        if (zip_read_entry(z, idx, bytes, &data, name, entry, err, errlen) != 0) goto done;
        if (own(f, data) != 0) {
            free(data);
            errmsg_set(err, errlen, "%s: out of memory", name);
            goto done;
        }
        sl.items[j].data = data;
    }
    if (make_tensors(f, root, &sl, name, err, errlen) != 0) goto done;
    f->format = PTH_ZIP;
    rc = 0;
done:
    free(pkl);
    free(sl.items);
    pk_arena_free(&arena);
    zip_discard(z);   // read-only: nothing to write back; also frees the source
    return rc;
}

// ---------------------------------------------------------------------------------------------
// legacy

static int open_legacy(pth_file *f, const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen) {
    pk_arena arena = {0};
    storage_list sl = {0};
    pk_obj *v[5];
    size_t pos = 0, used;
    int rc = -1;
    char why[300];
    for (int k = 0; k < 5; k++) {
        if (pk_load(&arena, buf + pos, len - pos, &used, &v[k], why, sizeof why) != 0) {
            errmsg_set(err, errlen, "%s: legacy torch.save, part %d of 5: %s", name, k + 1, why);
            goto done;
        }
        pos += used;
    }
    if (v[0]->type != PK_BIGINT || v[0]->len != sizeof LEGACY_MAGIC ||
        memcmp(v[0]->s, LEGACY_MAGIC, sizeof LEGACY_MAGIC) != 0) {
        errmsg_set(err, errlen, "%s: not a torch.save file (wrong magic number)", name);
        goto done;
    }
    if (v[1]->type != PK_INT || v[1]->i != 1001) {
        errmsg_set(err, errlen, "%s: legacy torch.save protocol %lld is not supported (1001 is)", name,
                   v[1]->type == PK_INT ? (long long)v[1]->i : -1LL);
        goto done;
    }
    const pk_obj *le = pk_dict_get(v[2], "little_endian");
    if (v[2]->type != PK_DICT || (le && le->type == PK_BOOL && le->i == 0)) {
        errmsg_set(err, errlen, "%s: written on a big-endian machine, which is not supported", name);
        goto done;
    }
    if (collect_storages(v[3], &sl, name, err, errlen) != 0) goto done;
    if (v[4]->type != PK_LIST) {
        errmsg_set(err, errlen, "%s: the storage key list is a %s", name, pk_type_name(v[4]->type));
        goto done;
    }
    for (size_t j = 0; j < v[4]->n; j++) {
        const pk_obj *key = v[4]->items[j];
        storage_ref *st = key->type == PK_STR ? (storage_ref *)find_storage(&sl, key->s) : NULL;
        if (!st || st->data) {
            errmsg_set(err, errlen, "%s: storage key %zu is unknown or repeated", name, j);
            goto done;
        }
        if (len - pos < 8) {
            errmsg_set(err, errlen, "%s: truncated at byte %zu (storage %zu of %zu)", name, pos, j + 1, v[4]->n);
            goto done;
        }
        uint64_t count = 0;
        for (int b = 0; b < 8; b++) count |= (uint64_t)buf[pos + b] << (8 * b);
        pos += 8;
        uint64_t bytes;
        if (count != (uint64_t)st->numel ||
            __builtin_mul_overflow(count, (uint64_t)safet_dtype_size(st->dtype), &bytes)) {
            errmsg_set(err, errlen, "%s: storage %zu holds %llu elements, its id says %lld", name, j + 1,
                       (unsigned long long)count, (long long)st->numel);
            goto done;
        }
        if (len - pos < bytes) {
            errmsg_set(err, errlen, "%s: truncated at byte %zu (storage %zu of %zu)", name, pos, j + 1, v[4]->n);
            goto done;
        }
        st->data = buf + pos;
        pos += (size_t)bytes;
    }
    for (size_t j = 0; j < sl.n; j++)
        if (!sl.items[j].data) {
            errmsg_set(err, errlen, "%s: storage %.40s has no data", name, sl.items[j].key);
            goto done;
        }
    if (make_tensors(f, v[3], &sl, name, err, errlen) != 0) goto done;
    f->format = PTH_LEGACY;
    rc = 0;
done:
    free(sl.items);
    pk_arena_free(&arena);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// entry points

// f is zeroed but for map/map_len (pth_open's mapping, released by pth_close on error too).
static int open_buf(pth_file *f, const void *buf, size_t len, const char *name, char *err, size_t errlen) {
    int rc;
    switch (pth_sniff(buf, len)) {
    case PTH_ZIP: rc = open_zip(f, buf, len, name, err, errlen); break;
    case PTH_LEGACY: rc = open_legacy(f, buf, len, name, err, errlen); break;
    default:
        errmsg_set(err, errlen, "%s: not a .pth file (neither a zip nor a legacy torch.save pickle)", name);
        rc = -1;
    }
    if (rc != 0) pth_close(f);
    return rc;
}

int pth_open_mem(pth_file *f, const void *buf, size_t len, const char *name, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    return open_buf(f, buf, len, name, err, errlen);
}

int pth_open(pth_file *f, const char *path, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    if (fd < 0) {
        errmsg_set(err, errlen, "%s: %s", path, why);
        return -1;
    }
    if (st.st_size < 4) {
        errmsg_set(err, errlen, "%s: not a .pth file (not a regular file of 4 bytes or more)", path);
        close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED) {
        errmsg_set(err, errlen, "%s: cannot mmap: %s", path, strerror(map_errno));
        return -1;
    }
    f->map = map;
    f->map_len = len;
    return open_buf(f, map, len, path, err, errlen);
}
