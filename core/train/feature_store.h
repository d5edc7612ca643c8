/*
 * feature_store.h — the feature cache on disk: a frozen backbone's outputs kept from run to run, so a
 * second run on the same images (another head, lr or schedule) starts training at once.
 *
 * Where: $XDG_CACHE_HOME/frost/features (default ~/.cache/frost/features), one file per entry.
 *
 * An entry is one (model, dataset folder, split): its name is a digest of the three. The model is
 * everything that changes what the backbone computes, written out as a key text that the entry keeps
 * and a reader compares whole (feature_model_key): the format version, architecture, the weights'
 * digest (or, for random weights, the seed that drew them), input size, resize mode, mean/std, the
 * BatchNorm mode, precision, device kind and feature width. Inside, one row per image, keyed by the
 * image's identity (feature_file_id: its name inside its class folder, size and modification time in
 * ns) rather than by its place in the split. Why rows and not one blob per split: adding or removing
 * a few images, or relabelling some (moving them to another class folder, which keeps name, size and
 * mtime), reuses every other row; a touched file gets a new identity and is computed again. Labels
 * are never stored: they come from the dataset as it is now. Files that failed to decode are kept as
 * bad rows with their reason, so the next run reports them as skipped again without reading them.
 *
 * The file is safetensors (the project's reader validates it; Python's safetensors opens it for a
 * look): tensors "ids" U8 [n, 16] (sorted), "features" F32 [n, D] (little-endian IEEE floats, row i
 * the image with ids[i]), "bad_ids" U8 [m, 16] (sorted) and "bad_reasons" U8 (m NUL-terminated
 * UTF-8 texts, in bad_ids' order); metadata "frost.features" (the format version: the magic),
 * "frost.features.key" (the model's key text, then the dataset folder and the split: a reader compares
 * it whole, so no byte of it goes unchecked) and "frost.data_sha256", the SHA-256 of all tensor data. Nothing in it depends on the host's pointer size. A reader checks the version, the
 * key, the shapes and the digest before any row is used: a corrupt, truncated or stale entry is
 * refused (then recomputed and replaced by the run). SHA-256 rather than a CRC: OpenSSL's runs at
 * about 1.3 GB/s on the development machine (`openssl speed`), under a millisecond per megabyte, next to the seconds the
 * backbone takes per hundred images; and it is the digest the project already writes and checks.
 *
 * Writing is safetensors' atomic write (a temporary file in the same folder, fsync, rename, the
 * folder fsynced): no reader ever sees half an entry, and two frost processes writing the same entry
 * leave one whole file or the other. Readers map the file, so an entry replaced or evicted while read
 * stays whole for them.
 *
 * Size: capped (feature_store_cap: $FROST_FEATURE_CACHE_MB, else the config file's
 * feature_cache_mb, else 2048 MB; 0 turns the disk cache off). Least recently used first out: an
 * entry's modification time is its last use (set when it is written or read), and after each write
 * the oldest entries go until the total fits the cap. An entry larger than the cap, or than half the
 * free space of its disk, is not written. Files that vanish while the folder is walked (another
 * process evicting) are skipped.
 *
 * Nothing here prints; functions return 0 or -1 with one line in err.
 */
#ifndef FROST_FEATURE_STORE_H
#define FROST_FEATURE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "image_decode.h"
#include "image_transform.h"

#define FEATURE_STORE_VERSION 1
#define FEATURE_STORE_DEFAULT_MB 2048
#define FEATURE_STORE_ENV "FROST_FEATURE_CACHE_MB"
#define FEATURE_ID_LEN 16

// ---------------------------------------------------------------------------------------------
// the folder, its cap

// $XDG_CACHE_HOME/frost/features (not made here). 0, or -1 with err.
int feature_store_dir(char *out, size_t len, char *err, size_t errlen);

// The cap in bytes (MB are 10^6 bytes, as every size frost prints; 0: the disk cache is off); from says where it came from ("FROST_FEATURE_CACHE_MB",
// "feature_cache_mb in FILE", "the default"). A bad value in the environment is said in err (one line)
// and the default used; the config file's mistakes are the config reader's to report.
long long feature_store_cap(char *from, size_t fromlen, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// keys

// What the backbone's output depends on. weights: "sha256:<hex>" of the weights' tensors, or
// "random:seed=S" (feature_weights_digest makes it).
typedef struct {
    const char *arch;
    const char *weights;
    const char *device;   // "cpu" or "cuda": the same network gives other roundings there
    const transform_params *tf;
    const image_decode_opts *dec;
    int bn_eval;
    int precision;   // ft_precision
    int64_t feat;    // floats per image
} feature_model;

// The key text of m (lines "name=value", the format version first). 0, or -1 when len is too small.
int feature_model_key(const feature_model *m, char *out, size_t len);

// The weights' digest for the key: "sha256:" + the SHA-256 of a frost file's tensor data (its
// frost.data_sha256, written by frost and checked when loaded), else of the whole file. With path
// NULL: "random:seed=S,classes=N" (random initialisation draws from the seed). 0, or -1 with err.
int feature_weights_digest(const char *path, uint64_t seed, size_t classes, char *out, size_t len, char *err,
                           size_t errlen);

// The entry file for (model key, dataset root, split) in dir: dir/ARCH-SPLIT-<digest>.safetensors.
// root as realpath gives it (one dataset, however it is named). 0, or -1 when len is too small.
int feature_entry_path(const char *dir, const char *key, const char *arch, const char *root, const char *split,
                       char *out, size_t len);

// An image's identity: SHA-256 (first 16 bytes) of name, the file's size and its mtime in ns (stat of
// path). name is what identifies it in the dataset apart from its label (its path inside the class
// folder). 0, or -1 when path cannot be stat'ed.
int feature_file_id(const char *path, const char *name, uint8_t id[FEATURE_ID_LEN]);

// ---------------------------------------------------------------------------------------------
// one entry

typedef struct {
    const uint8_t *id;    // FEATURE_ID_LEN bytes
    const float *row;     // feat floats; NULL for a bad file
    const char *reason;   // a bad file's reason ("" for none)
} feature_row;

typedef struct {
    const char *key;     // feature_model_key
    const char *root;    // the dataset folder (its realpath)
    const char *split;   // "train", "valid"
    int64_t feat;
} feature_entry_info;

// Writes the entry at path atomically (the rows sorted by id, duplicates dropped; the rows are not
// changed). *bytes gets the file's size. 0, or -1 with err (nothing at path changed).
int feature_entry_write(const char *path, const feature_entry_info *info, const feature_row *rows, size_t n,
                        long long *bytes, char *err, size_t errlen);

typedef struct feature_entry feature_entry;

// Opens and checks the entry at path against info (key, root, split and width). 1 with *out, 0 when
// there is none, -1 when it is there but refused, err saying why ("damaged (...)", "stale (...)").
// Marks it used.
int feature_entry_open(const char *path, const feature_entry_info *info, feature_entry **out, char *err, size_t errlen);
// The row of an image: 1 with *row (feat floats, valid until close), 2 for a known bad file with
// *reason, 0 when the entry has none.
int feature_entry_find(const feature_entry *e, const uint8_t id[FEATURE_ID_LEN], const float **row,
                       const char **reason);
size_t feature_entry_rows(const feature_entry *e);   // good and bad
void feature_entry_close(feature_entry *e);          // accepts NULL

// ---------------------------------------------------------------------------------------------
// the whole store

typedef struct {
    char path[4096];
    char arch[32];
    char root[4096];
    char split[16];
    long long rows, bad;   // images with features, known bad files; -1 when the entry is unreadable or stale
    long long bytes;
    int64_t used;   // last use, seconds since the epoch
} feature_store_item;

// The entries in dir, most recently used first (*items malloc'd; *n 0 and no error when dir is
// absent), with their total size. 0, or -1 with err.
int feature_store_list(const char *dir, feature_store_item **items, size_t *n, long long *total, char *err,
                       size_t errlen);

// Removes the least recently used entries until the total is at most cap bytes (and temporary files
// a crashed writer left, older than an hour). *freed and *removed (may be NULL) say what went.
// 0, or -1 with err (a folder that cannot be read).
int feature_store_evict(const char *dir, long long cap, long long *freed, size_t *removed, char *err, size_t errlen);

// Free bytes for an unprivileged user on the disk that holds dir (or its nearest existing parent), or -1.
long long feature_store_free_bytes(const char *dir);

// Removes every entry (and temporary file) in dir. 0, or -1 with err (some could not be removed).
int feature_store_clear(const char *dir, long long *freed, size_t *removed, char *err, size_t errlen);

#endif
