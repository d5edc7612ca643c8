/*
 * transfer.h — a network made ready for transfer learning, and what is said about it, in one place.
 *
 * The tutorial's recipe: torchvision's network (optionally with weights), every parameter frozen, the
 * head replaced by a new one for the dataset's classes (trainable), then — frost's addition — any
 * modules the user thaws. The command line (print, summary, train), the interface's Model and Train
 * screens, the trainer and the checkpoint reader all build their models here, and read the same
 * descriptions of them: the trainable list as text (both ways), the blocks that are frozen or thawed
 * as a whole, whether there is BatchNorm, whether a model's classes are a dataset's.
 *
 * Nothing here prints; errors are one line in an err buffer.
 */
#ifndef FROST_TRANSFER_H
#define FROST_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "frost_torch.h"

// The architectures frost builds (ft_arch_name), comma separated, for messages.
void transfer_arch_list(char *buf, size_t len);

// ---------------------------------------------------------------------------------------------
// building

// torchvision builds every network for ImageNet's classes.
#define TRANSFER_IMAGENET_CLASSES 1000

typedef struct {
    const char *arch;      // an ft_arch_name
    int64_t classes;       // the new head's classes; 0: torchvision's 1000-class head, nothing frozen
    const char *weights;   // a state_dict file (weights.h formats); NULL: torchvision's initialisation
    int weights_whole;     // with classes: 1 loads the file into the 1000-class network before the head
                           // is replaced (strict: the trainer's rule); 0 loads it after, keeping the new
                           // head when the file's does not fit (note says so)
} transfer_spec;

// Builds the model the spec describes (with classes: only the new head trainable; then
// transfer_apply_trainable thaws more). 0 with *out (the caller frees it), or -1 with err. note (may be
// NULL) gets a line worth telling the user ("" when none).
int transfer_build(const transfer_spec *spec, ft_model **out, char *note, size_t notelen, char *err, size_t errlen);

// The tutorial's freeze: every parameter frozen but the head's, all of which trains. The one place this
// is decided: transfer_build does it, the Model screen's "freeze all but the head" asks for it again.
// NULL, or a status (the caller frees it).
ft_status *transfer_freeze_all_but_head(ft_model *m);

// ---------------------------------------------------------------------------------------------
// the trainable list: comma-separated module paths ("layer4,fc"), "all" (every parameter) or "none"

// Freezes everything, then thaws each listed module. 0, or -1 with the unknown module in err.
int transfer_apply_trainable(ft_model *m, const char *list, char *err, size_t errlen);
// The model's flags as such a list, in the fewest paths (a module trainable as a whole stands for its
// subtree); "" when only the head trains as a whole (the tutorial's choice: no list needed).
void transfer_trainable_list(ft_model *m, char *buf, size_t len);

// ---------------------------------------------------------------------------------------------
// the module tree (ft_model_nodes) described

// One past the last node of node i's subtree.
size_t transfer_subtree_end(const ft_node *nodes, size_t n, size_t i);

// 1 when any module is a BatchNorm layer.
int transfer_has_batchnorm(const ft_node *nodes, size_t n);

// A block: what is frozen or thawed as one. The top-level modules that hold parameters (ResNet's
// conv1, bn1, layer1..layer4, fc); a top-level Sequential of plain layers with pooling (VGG's
// features) is split into its stages, each ending at a MaxPool2d ("features.0-4").
typedef struct {
    size_t first, end;   // node range [first, end)
    char name[64];
    int64_t params, trainable;
} transfer_block;

#define TRANSFER_MAX_BLOCKS 32

// Fills out (TRANSFER_MAX_BLOCKS at most) in the model's order; returns how many.
size_t transfer_blocks(const ft_node *nodes, size_t n, transfer_block *out);
// The same for model m, with its tree in *nodes, *n: the count, or -1 with err (the tree not readable).
int transfer_model_blocks(ft_model *m, const ft_node **nodes, size_t *n, transfer_block *out, char *err, size_t errlen);
// The module paths that make up a block, comma separated, in the trainable list's form ("layer4";
// "features.0,features.2" for a VGG stage: its layers that hold parameters). Truncated to len.
void transfer_block_paths(const ft_node *nodes, size_t n, const transfer_block *b, char *buf, size_t len);
// Freezes (0) or thaws (1) every parameter of a block.
ft_status *transfer_block_set(ft_model *m, const ft_node *nodes, const transfer_block *b, int trainable);

// ---------------------------------------------------------------------------------------------
// classes

// 1 when a[0..na) and b[0..nb) are the same class names in the same order (a model's head and a
// dataset, or a checkpoint and a dataset).
int transfer_classes_match(const char *const *a, size_t na, const char *const *b, size_t nb);

#endif
