/*
 * checkpoint.h — a trained model on disk: weights, what is needed to use it, and optimizer state.
 *
 * FILE is a safetensors file whose tensors are exactly the model's state_dict (PyTorch's names,
 * dtypes and shapes, num_batches_tracked included), so torchvision loads it with
 * load_state_dict(strict=True) after the same head replacement. Its "__metadata__" (string ->
 * string; lists and objects as JSON text) holds:
 *
 *   format              "pt"                         (so PyTorch tooling takes it as a state_dict)
 *   frost.arch          "resnet18"
 *   frost.classes       "3"                          the head's outputs
 *   frost.checkpoint    "1"                          what makes it a checkpoint (format version)
 *   frost.class_names   ["cat", "dog", "émeu"]       index order, UTF-8
 *   frost.head_replaced "1" | "0"                    head swapped as ft_model_replace_head does
 *   frost.input_size    "224"
 *   frost.resize        "square" | "crop"            Resize([S,S])  |  Resize(S) + CenterCrop(S)
 *   frost.mean          [0.5, 0.5, 0.5]              Normalize's mean and std
 *   frost.std           [0.5, 0.5, 0.5]
 *   frost.trainable     ["fc.weight", "fc.bias"]     parameters with requires_grad, state_dict order
 *   frost.epoch         "3"                          epochs completed
 *   frost.metrics       {"train_loss": 0.41, "train_acc": 0.88, "valid_loss": null, ...}
 *   frost.save_id       "18c1f0a3b2c4d5e6-1234-1"    pairs FILE with its FILE.optim
 *   frost.optimizer     "sidecar" | "none"           whether this save wrote FILE.optim
 *   frost.data_sha256   "3a7b..."                    SHA-256 of the tensor data, checked when loaded
 *   frost.train         {...}                        optional: the trainer's own settings, verbatim
 *
 * FILE.optim (optional) is a safetensors file of the optimizer's state, one tensor per
 * ft_optimizer_state entry, named "<parameter name>.<field>" ("fc.weight.exp_avg"), with the same
 * frost.save_id. Restoring goes by parameter name, so entries of parameters that are not trained
 * now are ignored: a resumed run may freeze or unfreeze other layers.
 *
 * A save replaces FILE and FILE.optim as one: both are written whole (temporary files, fsync) before
 * either is put in place, so a save that fails (a full disk, an unwritable folder) changes nothing.
 * Putting them in place is two renames; meanwhile the old sidecar waits as FILE.optim.prev, so a save
 * killed at any moment leaves a FILE whose own sidecar (by save id) is at FILE.optim or
 * FILE.optim.prev, and checkpoint_load_optimizer takes that one. A killed writer may leave a
 * "FILE.tmp.XXXXXX" behind, never a broken FILE. The data digests make a flipped bit an error.
 *
 * Every function returns 0 on success or -1 with one line in err (no newline); none print.
 */
#ifndef FROST_CHECKPOINT_H
#define FROST_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "frost_torch.h"
#include "image_transform.h"

#define CHECKPOINT_VERSION 1
#define CHECKPOINT_OPTIM_SUFFIX ".optim"
#define CHECKPOINT_PREV_SUFFIX ".prev"   // PATH.optim.prev: the old sidecar while a save puts the new pair in place

typedef struct {
    char arch[32];         // filled by load; save takes the model's own
    int64_t num_classes;   // must equal the model's head outputs
    char **class_names;    // num_classes UTF-8 strings, index order (owned after load)
    int head_replaced;     // 1: ft_model_replace_head(num_classes) was applied (forced on save when
                           // num_classes != 1000)
    transform_params tf;   // size, fit (square / crop), mean, std; tf.fast is not stored (0 on load)
    int epoch;             // epochs completed (0 before any)
    double train_loss, train_acc, valid_loss, valid_acc;   // NAN when unknown; acc as a fraction 0..1
    char *train_config;   // optional JSON text stored verbatim as frost.train (NULL: none)
    // Filled by load only (save reads the model's flags): parameter names that were trainable.
    char **trainable;
    size_t n_trainable;
} checkpoint_meta;

// Zeroes *meta, sets the metrics to NAN and tf to the seed's transform. Nothing to free yet.
void checkpoint_meta_init(checkpoint_meta *meta);
// Frees what load filled (class_names, train_config, trainable) and re-inits. Accepts NULL. Do not
// call it on a meta whose strings the caller owns (save never takes ownership).
void checkpoint_meta_free(checkpoint_meta *meta);

// What save would refuse, without a model: class names missing, empty or not UTF-8, a bad transform,
// train_config that is not a JSON value. A trainer can call it before the first epoch.
int checkpoint_meta_check(const checkpoint_meta *meta, char *err, size_t errlen);

// Writes m's weights and *meta to path, and opt's state (when opt is not NULL and holds any) to
// path + ".optim"; with no optimizer state an old path.optim is removed, so a stale one is never
// paired with the new file. The model's weights and flags are only read, but its node table is
// refreshed (ft_model_nodes, to read the trainable flags): node pointers held from before are stale.
int checkpoint_save(const char *path, ft_model *m, ft_optimizer *opt, const checkpoint_meta *meta, char *err,
                    size_t errlen);

// Whether a checkpoint could be saved at path, asked before any work is done: its folder exists and
// can be written, and path, its sidecar and the sidecar's ".prev" are regular files or missing
// (core/base/atomic_file's rule). 0, or -1 with the reason in err, naming the path.
int checkpoint_check_target(const char *path, char *err, size_t errlen);

// Builds the recorded architecture on the CPU, replaces the head when recorded, restores the
// trainable flags, loads the weights strictly, and returns the model in eval mode. *out and *meta
// are set only on success (meta is init'ed first; free it with checkpoint_meta_free). Refuses, with
// the reason and -1: a missing or unreadable file, a file that is not safetensors, an unknown arch,
// class names whose count differs from frost.classes or from the head's tensors; and with
// CHECKPOINT_E_WEIGHTS a plain state_dict (safetensors without frost's checkpoint metadata), which
// loads as weights instead (meta->arch then holds the architecture frost's own weights name, or "").
#define CHECKPOINT_E_WEIGHTS (-2)
int checkpoint_load(const char *path, ft_model **out, checkpoint_meta *meta, char *err, size_t errlen);

// Restores path + ".optim" into opt by parameter name; *restored counts the entries used (entries of
// parameters opt does not hold are skipped). No sidecar: returns 0 with *restored = 0. A sidecar
// from another save than path's (a save killed between the two renames) is refused. On an error
// opt may hold part of the state: create a fresh one.
int checkpoint_load_optimizer(const char *path, ft_optimizer *opt, size_t *restored, char *err, size_t errlen);

// Three floats as frost.mean / frost.std hold them: "[0.485, 0.456, 0.406]", each the shortest decimal
// that reads back as the same float (other files that describe a model's input say it the same way).
void checkpoint_float3_json(char *buf, size_t len, const float v[3]);

// The optimizer state file that pairs with path (the one checkpoint_load_optimizer reads), checked
// (save id, data digest): 1 with *spath (malloc'd), 0 when there is none, -1 with err.
int checkpoint_sidecar(const char *path, char **spath, char *err, size_t errlen);

#endif
