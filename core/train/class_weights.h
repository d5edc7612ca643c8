/*
 * class_weights.h — weights of the classes in the loss, for datasets with more of some classes.
 *
 * "none" (the tutorial's plain cross-entropy), "auto" (inverse frequency: a class's weight is
 * N / (C * n_c) for N training images in C classes, n_c of them in the class, so that every class
 * weighs as much in the loss as if the classes were balanced; scikit-learn's "balanced"), or one
 * weight per class in the dataset's class order ("2,1"). The loss is then PyTorch's
 * CrossEntropyLoss(weight=w) (ft_model_set_class_weights).
 */
#ifndef FROST_CLASS_WEIGHTS_H
#define FROST_CLASS_WEIGHTS_H

#include <stddef.h>

// Checks text without a dataset: 0, or -1 with a one-line message.
int class_weights_check(const char *text, char *err, size_t errlen);
// The weights for classes with counts[] training images each: 1 with out[0..n_classes) filled, 0 for
// none (text NULL, "" or "none"), -1 with err.
int class_weights_resolve(const char *text, const size_t *counts, size_t n_classes, float *out, char *err,
                          size_t errlen);
// "cat 1.25, dog 0.833" for messages. names: the class names.
void class_weights_describe(const float *w, const char *const *names, size_t n, char *buf, size_t len);

#endif
