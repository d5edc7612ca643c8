/*
 * export_pytorch.h — a frost run as a folder a PyTorch user can take anywhere (`frost export CKPT
 * --pytorch DIR`, and the Train screen's export before a run).
 *
 * DIR receives:
 *   train.py                    core/export/export_pytorch_train.py with the run's settings written in as
 *                               constants at its top: architecture, classes in head order, transform,
 *                               trainable parameters, optimizer and its settings, plan, schedule,
 *                               per-block learning rates, class weights, seed, BatchNorm mode, the
 *                               epoch reached and the course's epochs. It goes on from there, on CPU
 *                               or GPU, alone or under torchrun (DistributedDataParallel).
 *   weights.safetensors         the weights it starts from: the checkpoint, byte for byte (so frost
 *                               reads it too), or the model as built before a run
 *   weights.safetensors.optim   the optimizer's state, when the checkpoint has one
 *   README.md                   what the folder is and the commands that run it
 *
 * Every file is written into a temporary folder inside DIR first and renamed into place only when all
 * of them are whole: a failure (an unwritable folder, a full disk) leaves none of them, and no file
 * under one of those names is ever half written. An existing one is refused unless overwrite is set.
 * DIR is created (with its parents) when missing. Nothing here prints; errors are one line in err.
 */
#ifndef FROST_EXPORT_PYTORCH_H
#define FROST_EXPORT_PYTORCH_H

#include <stdatomic.h>
#include <stddef.h>

#include "checkpoint.h"
#include "frost_torch.h"
#include "trainer.h"

// The script, as the build embeds it (scripts/embed-text.sh).
extern const char export_pytorch_train_py[];

// The names written into DIR.
#define EXPORT_PYTORCH_SCRIPT "train.py"
#define EXPORT_PYTORCH_WEIGHTS "weights.safetensors"
#define EXPORT_PYTORCH_README "README.md"

// What the writers return when DIR already holds an export and overwrite is not set (err says which
// file): a caller that asks before replacing decides on this code, not on err's text.
#define EXPORT_PYTORCH_EXISTS (-2)

// From a checkpoint frost saved: checked by loading it whole (a damaged or truncated file is refused
// before anything is written). 0, EXPORT_PYTORCH_EXISTS, or -1 with err.
int export_pytorch_checkpoint(const char *ckpt, const char *dir, int overwrite, char *err, size_t errlen);

// What export_pytorch_config returns when cancel was set before the files were put in place:
// nothing was written.
#define EXPORT_PYTORCH_CANCELLED (-3)

// Before any run: the model c describes for a dataset of the n classes (their names, in the head's
// order), built as the trainer builds it (the network, its weights, the new head, c's trainable
// list), with c's settings. cancel (NULL: none) is read between the steps (a background job's stop).
// 0, EXPORT_PYTORCH_EXISTS, EXPORT_PYTORCH_CANCELLED, or -1 with err.
int export_pytorch_config(const trainer_config *c, char *const *classes, size_t n, const char *dir, int overwrite,
                          const atomic_int *cancel, char *err, size_t errlen);

// train.py's text for a checkpoint's metadata (its train_config holding the recipe and settings):
// the template with the settings block filled in. malloc'd; NULL with err.
char *export_pytorch_script(const checkpoint_meta *meta, char *err, size_t errlen);

#endif
