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

// Both return 0 on success, -1 with one line in err.
int weights_load(ft_model *m, const char *path, char *err, size_t errlen);
int weights_save(ft_model *m, const char *path, char *err, size_t errlen);

#endif
