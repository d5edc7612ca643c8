/*
 * weights.h — a model's state_dict to and from safetensors files.
 *
 * Loading is strict, like PyTorch's load_state_dict(strict=True): every key of the model must be in
 * the file with the same dtype and shape, and the file may hold nothing else. All of it is checked
 * before anything is copied, so a refused file leaves the model as it was. Saving is atomic (a
 * temporary file renamed into place): an existing file is replaced whole or not at all.
 */
#ifndef FROST_WEIGHTS_H
#define FROST_WEIGHTS_H

#include <stddef.h>

#include "frost_torch.h"
#include "safetensors.h"

// Both return 0 on success, -1 with one line in err.
int weights_load(ft_model *m, const char *path, char *err, size_t errlen);
int weights_save(ft_model *m, const char *path, char *err, size_t errlen);

// weights_load on a file already open (the checkpoint reader checks its metadata first, so both
// come from the same version of the file). `path` only names the file in messages.
int weights_load_file(ft_model *m, const safet_file *f, const char *path, char *err, size_t errlen);

// weights_save with n_extra more metadata pairs (string -> string) after the three it always writes
// ("format": "pt", "frost.arch", "frost.classes"); a key repeated is an error.
int weights_save_meta(ft_model *m, const char *path, const char *const *keys, const char *const *values,
                      size_t n_extra, char *err, size_t errlen);

#endif
