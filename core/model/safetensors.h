// safetensors.h - read and write the safetensors tensor file format.
//
// On disk: an 8-byte little-endian u64 header length N, then N bytes of UTF-8
// JSON (one object naming each tensor's dtype, shape and byte range, plus an
// optional "__metadata__" object of string -> string), then the raw data
// buffer. Limits: the ten dtypes below only, at most SAFET_MAX_DIMS dims, and
// headers up to SAFET_MAX_HEADER bytes. Tensor bytes are never byte-swapped:
// they are little-endian on disk and are handed out (and taken in) as is.
//
// Reading maps the file read-only and validates everything before returning;
// tensor data is not copied. Writing is atomic: temp file, fsync, rename.
// Every function returns 0 / -1 and fills err with one line; none print.

#ifndef FROST_SAFETENSORS_H
#define FROST_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

// ---------------------------------------------------------------------------
// Types

typedef enum {
    SAFET_F32,
    SAFET_F64,
    SAFET_F16,
    SAFET_BF16,
    SAFET_I64,
    SAFET_I32,
    SAFET_I16,
    SAFET_I8,
    SAFET_U8,
    SAFET_BOOL
} safet_dtype;

#define SAFET_MAX_DIMS 8

// Same limit as the reference implementation: a longer header is taken as a
// sign that the file is not safetensors at all (or is hostile).
#define SAFET_MAX_HEADER 100000000u

typedef struct {
    char *name;   // owned by the file
    safet_dtype dtype;
    int ndim;                        // 0 for a scalar
    int64_t shape[SAFET_MAX_DIMS];   // entries past ndim are 0
    const void *data;                // into the read-only mmap; may be unaligned
    size_t nbytes;                   // numel * dtype size; may be 0
} safet_tensor;

typedef struct {
    void *map;   // whole file, mmap'd PROT_READ, MAP_PRIVATE
    size_t map_len;
    safet_tensor *tensors;   // in header JSON order
    size_t n_tensors;
    char **meta_keys;   // in header JSON order
    char **meta_values;
    size_t n_meta;
} safet_file;

// ---------------------------------------------------------------------------
// Dtypes

const char *safet_dtype_name(safet_dtype d);              // "F32" ...; "?" if out of range
size_t safet_dtype_size(safet_dtype d);                   // bytes per element; 0 if out of range
int safet_dtype_parse(const char *s, safet_dtype *out);   // exact, case-sensitive; 0 ok, -1 unknown

// Element count of t's shape (1 for a scalar, 0 if any dim is 0).
int64_t safet_numel(const safet_tensor *t);

// ---------------------------------------------------------------------------
// Reading

// Zero-inits f first; on error f is left closed (nothing to free). The file
// must not be truncated by anyone else while open (the mapping would fault).
int safet_open(safet_file *f, const char *path, char *err, size_t errlen);
const safet_tensor *safet_find(const safet_file *f, const char *name);   // NULL if absent
const char *safet_meta(const safet_file *f, const char *key);            // NULL if absent
void safet_close(safet_file *f);   // accepts a zeroed / already-closed struct; idempotent

// ---------------------------------------------------------------------------
// Writing

// One tensor to write; shape may be NULL when ndim is 0.
typedef struct {
    const char *name;
    safet_dtype dtype;
    int ndim;
    const int64_t *shape;
} safet_entry;

// Called once per entry, in order, to produce exactly nbytes little-endian
// bytes into dst (zeroed beforehand). Non-zero return aborts the write and
// its err message is handed back to safet_write's caller unchanged.
typedef int (*safet_fill_fn)(void *user, size_t index, void *dst, size_t nbytes, char *err, size_t errlen);

// Writes path atomically: on any error nothing at path changes and no temp
// file is left behind. Tensors are laid out in entry order with no gaps; the
// header is space-padded so the data buffer starts 8-byte aligned. The new
// file takes the mode of the file it replaces, or 0644.
int safet_write(const char *path, const safet_entry *entries, size_t n, const char *const *meta_keys,
                const char *const *meta_values, size_t n_meta, safet_fill_fn fill, void *user, char *err,
                size_t errlen);

// safet_write in two steps: the file is written and synced under a temporary name next to path, and
// *out holds it until safet_commit renames it into place (or safet_abort removes it), so that several
// files can be written first and put in place only when all of them were. With digest_key, that
// metadata key gets the SHA-256 of the data buffer as 64 hex digits.
typedef struct safet_pending safet_pending;
int safet_write_pending(const char *path, const safet_entry *entries, size_t n, const char *const *meta_keys,
                        const char *const *meta_values, size_t n_meta, safet_fill_fn fill, void *user,
                        const char *digest_key, safet_pending **out, char *err, size_t errlen);
// Renames the file into place and syncs its folder; frees p. 0, or -1 with err (the temporary file
// removed).
int safet_commit(safet_pending *p, char *err, size_t errlen);
// Removes the temporary file; frees p. Accepts NULL.
void safet_abort(safet_pending *p);

// When the metadata holds key (a digest safet_write_pending wrote), checks the data buffer against it:
// 1 when it matches, 0 when there is no such key, -1 with err when the data differs.
int safet_check_digest(const safet_file *f, const char *key, char *err, size_t errlen);

#endif
