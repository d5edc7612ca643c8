/*
 * weights.h — a model's state_dict from the weight files people have, and to safetensors files.
 *
 * Formats read (found by their first bytes, not by the file name):
 * - safetensors in torchvision's key layout (frost's own files, and timm's ResNets, whose keys are
 *   torchvision's), or in timm's VGG layout (`timm/vgg16.tv_in1k`): pre_logits.fc1 (a 4096x512x7x7
 *   convolution), pre_logits.fc2 (4096x4096x1x1) and head.fc, mapped to classifier.0/.3/.6 and
 *   reshaped to torchvision's Linear shapes;
 * - torchvision's .pth files: torch.save's zip format and its legacy format (pth_file.h).
 *
 * Loading is strict, like PyTorch's load_state_dict(strict=True): every key of the model must be in
 * the file with the same dtype and shape, and the file may hold nothing else. One exception, as in
 * PyTorch: a BatchNorm's num_batches_tracked may be absent (files saved before PyTorch 0.4.1, such
 * as torchvision's older ones, lack it); it is then set to 0. All of it is checked before anything is
 * copied, so a refused file leaves the model as it was. The error lists what does not fit.
 *
 * The head: frost (as the seed) loads ImageNet weights into the 1000-class model and replaces the
 * head afterwards, so weights_load wants the file's head to fit too. weights_load_backbone is for a
 * model whose head was replaced already: it loads everything else strictly and leaves the head as
 * it is when the file's head is what does not fit, saying so in `note`.
 *
 * Saving is atomic (a temporary file renamed into place): an existing file is replaced whole or not
 * at all. Every file frost writes carries the SHA-256 of its tensor data in its metadata
 * (WEIGHTS_DIGEST_KEY); loading checks it, so a flipped bit in the data is refused, not loaded.
 */
#ifndef FROST_WEIGHTS_H
#define FROST_WEIGHTS_H

#include <stddef.h>

#include "frost_torch.h"
#include "pth_file.h"
#include "safetensors.h"

// The metadata key of the SHA-256 of a frost file's tensor data (64 hex digits).
#define WEIGHTS_DIGEST_KEY "frost.data_sha256"

// ---------------------------------------------------------------------------------------------
// an open weight file of any format

typedef enum { WEIGHTS_SAFETENSORS = 1, WEIGHTS_PTH_ZIP = 2, WEIGHTS_PTH_LEGACY = 3 } weights_container;

typedef struct {
    weights_container container;
    int timm_layout;               // 1 when timm's VGG names were mapped to torchvision's
    const safet_tensor *tensors;   // in torchvision's names and shapes, the file's order
    size_t n_tensors;
    // private
    safet_file st;
    pth_file pth;
    safet_tensor *mapped;
} weights_file;

// Zero-inits w; on error w is left closed. 0, or -1 with one line in err.
int weights_file_open(weights_file *w, const char *path, char *err, size_t errlen);
void weights_file_close(weights_file *w);   // accepts a zeroed or closed struct
// "safetensors, torchvision layout", "safetensors, timm layout", "torch.save zip", "legacy torch.save"
const char *weights_format_name(const weights_file *w);
// A metadata value of a safetensors file ("frost.arch" of a checkpoint), or NULL (absent, or a .pth).
const char *weights_file_meta(const weights_file *w, const char *key);

// The architecture (an ft_arch_name) whose state_dict the file's names and counts suggest, from the
// names alone (no model is built), or NULL. weights_fit then says whether it really fits.
const char *weights_guess_arch(const weights_file *w);

typedef enum { WEIGHTS_MISSING, WEIGHTS_UNEXPECTED, WEIGHTS_MISMATCHED } weights_problem;
// Called for each key that does not fit; detail is "" or "file [..], model [..]" / "file F64, model F32".
typedef void (*weights_problem_fn)(void *user, weights_problem kind, const char *key, const char *detail);
// Checks w against m as weights_load would; returns the number of problems (0: it fits).
size_t weights_fit(const ft_model *m, const weights_file *w, weights_problem_fn fn, void *user);

// ---------------------------------------------------------------------------------------------
// loading and saving

// All return 0 on success, -1 with one line in err.
int weights_load(ft_model *m, const char *path, char *err, size_t errlen);
// As weights_load, but when everything that does not fit lies under the model's head
// (ft_model_head_path: "classifier" or "fc"), the head is left as it is (all its keys) and the rest
// is loaded; note then says what was dropped (note is "" when nothing was). note may be NULL.
int weights_load_backbone(ft_model *m, const char *path, char *note, size_t notelen, char *err, size_t errlen);
int weights_save(ft_model *m, const char *path, char *err, size_t errlen);

// weights_load on a file already open (the checkpoint reader checks its metadata first, so both
// come from the same version of the file). `path` only names the file in messages.
int weights_load_file(ft_model *m, const safet_file *f, const char *path, char *err, size_t errlen);

// weights_save with n_extra more metadata pairs (string -> string) after the three it always writes
// ("format": "pt", "frost.arch", "frost.classes"); a key repeated is an error. With pending, the file
// is left written but not in place (safet_write_pending): the caller commits or aborts it.
int weights_save_meta(ft_model *m, const char *path, const char *const *keys, const char *const *values, size_t n_extra,
                      safet_pending **pending, char *err, size_t errlen);

// A table of tensors to write, read through two functions: a model's state_dict, an optimizer's state.
typedef struct {
    size_t n;
    ft_status *(*info)(void *src, size_t i, ft_tensor_info *out);
    ft_status *(*get)(void *src, size_t i, void *dst, size_t nbytes);
    void *src;
} tensor_table;

// Writes every tensor of t, in its order, with the metadata pairs and the digest, to a safetensors file
// (atomically; with pending, left for the caller to commit). 0, or -1 with err.
int weights_write_tensors(const char *path, const tensor_table *t, const char *const *keys, const char *const *values,
                          size_t n_meta, safet_pending **pending, char *err, size_t errlen);

#endif
