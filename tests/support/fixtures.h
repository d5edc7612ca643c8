/*
 * fixtures.h — datasets, files and environments the tests make, for the modules whose core and
 * command-line tests (tests/core, tests/cli) need the same ones.
 */
#ifndef FROST_TESTS_FIXTURES_H
#define FROST_TESTS_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "frost_torch.h"

// root + "/" + rel in one of 8 rotating buffers (copy it to keep it longer).
const char *fx_at(const char *root, const char *rel);

// A w x h JPEG at path (its folders made) with a pattern that depends on seed: red and green
// gradients, blue from x*y and the seed. Returns its size in bytes.
size_t fx_pattern_jpeg(const char *path, int w, int h, int seed);

// doctor's dataset under root: train/cats 6 good images (60x50 to 95x65), an empty file, a text file
// and a truncated JPEG, all named .jpg; train/dogs 3 good; valid/cats 2 good (valid has no dogs).
void fx_doctor_dataset(const char *root);

// Two classes a small network learns: warm images bright at the top, cold ones bright at the bottom,
// with noise so no two are alike; per_class_train and per_class_valid side x side JPEGs per class.
void fx_two_class_dataset(const char *root, int per_class_train, int per_class_valid, int side);

// (Before any test runs, FROST_FEATURE_CACHE_MB=0 is set for the whole suite: no test touches the user's
// feature cache on disk unless it sets a cap and a private XDG_CACHE_HOME itself.)

// A suite's private caches (.init and .fini of a TestSuite): fx_tmp is a fresh folder, the caches
// are under it (fx_private_caches), fx_cache is frost's own.
extern char *fx_tmp;
extern char fx_cache[1024];
void fx_caches_init(void);
void fx_caches_fini(void);

// n bytes from seed (malloc'd), their sha256 as hex, and file checks for what a download wrote.
unsigned char *fx_random_bytes(size_t n, unsigned seed);
void fx_sha256_hex(const unsigned char *p, size_t n, char hex[65]);
int fx_exists(const char *path);
void fx_expect_file_is(const char *path, const unsigned char *data, size_t len);

// The weight caches under dir (XDG_CACHE_HOME dir/xdg, TORCH_HOME dir/torch, HF_HOME dir/hf), no mirror
// and no proxy for 127.0.0.1; frost's own cache folder (dir/xdg/frost) goes into cache.
void fx_private_caches(const char *dir, char *cache, size_t len);

// A network as the tutorial makes it: torchvision's arch, and with classes > 0 everything frozen and
// the head replaced for that many classes (asserts).
ft_model *fx_model(const char *arch, long classes);
// The index of m's state_dict entry called name (fails the test when there is none).
size_t fx_state_index(ft_model *m, const char *name);
// Every state_dict entry of m, its bytes one after another in state order (asserts; caller frees).
unsigned char *fx_state_bytes(ft_model *m, size_t *len);

// Weights by formula, the same as the torchvision oracle's (tests/oracle/torchvision_oracle.py,
// formula_values): for element i of state entry k, u = (((i * 2654435761 + (k + 1) * 97531) mod 2^32)
// >> 7) mod 2001, v = (u - 1000) / 1000; by kind: FX_WEIGHT v * sqrt(6 / fan_in) (fan_in: numel /
// shape[0]), FX_SCALE 1 + 0.5 v (a BatchNorm's weight, running_var), FX_RESIDUAL 0.05 * (1 + 0.5 v)
// (a bottleneck's bn3.weight: deep ResNets stay well conditioned in train mode), FX_SHIFT 0.1 v (biases,
// running_mean), FX_INPUT v; computed in double, rounded to float once.
typedef enum { FX_WEIGHT, FX_SCALE, FX_RESIDUAL, FX_SHIFT, FX_INPUT } fx_formula_kind;
void fx_formula_fill(float *dst, const int64_t *shape, int ndim, uint64_t k, fx_formula_kind kind);
// Every float32 entry of m's state_dict by the formula (asserts).
void fx_formula_model(ft_model *m);

// The weight_formats oracle's file `name` ($FROST_ORACLE/wf/name), in one of 4 rotating buffers.
const char *fx_weight_file(const char *name);

// Checkpoints: metadata for n class names (head replaced), saved and loaded with asserts.
void fx_meta_for(checkpoint_meta *meta, char **names, int64_t n);
void fx_save_checkpoint(const char *path, ft_model *m, ft_optimizer *opt, const checkpoint_meta *meta);
ft_model *fx_load_checkpoint(const char *path, checkpoint_meta *meta);

// What a writer must never replace (core/base/atomic_file's rule): a character device (mknod: a private
// node with /dev/null's numbers, so a write into it would be harmless), a FIFO, a symbolic link (to
// PATH.target, a regular file holding "keep\n"), a socket.
typedef enum { FX_DEVICE, FX_FIFO, FX_SYMLINK, FX_SOCKET } fx_special;
#define FX_SPECIALS 4
extern const char *const fx_special_name[FX_SPECIALS];   // "device", "FIFO", ...
// Makes one at path (its folders made): 0, or -1 when this machine forbids it (mknod without
// CAP_MKNOD: said with cr_log_info, the caller goes on with the others).
int fx_make_special(const char *path, fx_special kind);
// Expects path to be what fx_make_special made, unchanged (kind, device numbers, the link and its
// target's bytes), and its folder to hold no temporary file (".tmp."); what names the writer tried.
void fx_expect_special(const char *path, fx_special kind, const char *what);
// Removes what fx_make_special made at path.
void fx_remove_special(const char *path, fx_special kind);

// At most n photos (absolute paths), the same ones every run: ../shared's Dogs-vs-Cats validation
// images (a cat, a dog, a cat, ... the first by name) when there, else pattern JPEGs made in root (said
// with cr_log_info; in CI, tu_in_ci, the test fails instead). Returns how many.
int fx_photos(const char *root, char paths[][2048], int n);

#endif
