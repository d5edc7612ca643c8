/*
 * torch_code.h — the PyTorch code that does what frost holds now: the Model screen's network and
 * freeze choice, the Train form's run (`frost train ... --show-code` and the interface's code pane).
 *
 * The code, in the tutorial's order and its words: the imports; the transforms (frost's resize, crop
 * and normalisation); build_model() — torchvision's network with its weights, every parameter frozen,
 * the new head as frost builds it, then exactly the modules that train now thawed (freeze all, thaw
 * the named ones); set_stage() for a plan of stages; make_optimizer() with its parameter groups (which
 * modules, lr, weight decay, momentum or betas); make_scheduler(); train_mode() (BatchNorm's rule); the
 * loop over the epochs; main() under `if __name__ == "__main__"`, so that a test imports the file and
 * calls the functions without training (build_model(weights=None): nothing downloaded).
 *
 * Nothing is decided here: what trains is what the model's flags say after frost's own calls
 * (transfer_apply_trainable, train_plan_trainable), the groups are read back from the optimizer frost
 * makes (train_recipe_optimizer), the rest comes from the trainer_config as the trainer reads it.
 * Nothing prints; errors are one line in err.
 */
#ifndef FROST_TORCH_CODE_H
#define FROST_TORCH_CODE_H

#include <stddef.h>

#include "frost_torch.h"
#include "trainer.h"

typedef struct {
    const trainer_config *cfg;   // the run: arch, weights, opt, epochs, batch, seed, prep, bn_eval, trainable,
                                 // plan, schedule, block_lr, class_weights
    int pretrained;              // 1: torchvision's ImageNet weights for cfg->arch (what --pretrained takes)
    size_t n_classes;            // the new head's outputs (the dataset's classes)
    const char *data;            // the dataset's folder (NULL: "DATASET")
} torch_code_input;

// The code for in, with m the model frost builds for it (transfer_build: cfg->arch, n_classes, the head
// replaced). m's trainable flags are set to the run's start (the trainable list, or the plan's first
// stage) and left so. malloc'd text, or NULL with err (a trainable list or plan the model cannot take,
// nothing to train).
char *torch_code(const torch_code_input *in, ft_model *m, char *err, size_t errlen);

#endif
