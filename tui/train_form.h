// train_form.h — the Train screen's form as data: its fields in the order shown, the choices each
// cycles through, the text each shows, Left/Right on one, the run the form describes (a
// trainer_config), and a recorded run's settings put back into it. No curses and no screen state:
// the unit-test binary links it (tests/tui/test_train_form.c). The architecture and BatchNorm are
// not the form's own: they live in the run_state the Model screen shares (app.h).
#ifndef FROST_TRAIN_FORM_H
#define FROST_TRAIN_FORM_H

#include <stddef.h>

#include "app.h"
#include "trainer.h"

// The form's values: indices into each field's choices (train_form.c's lists).
typedef struct {
    int epochs, batch, lr, opt, size, cache, device;
    int weights, norm;   // weights: 0 none, 1 ImageNet; normalise: 0 follows the weights, 1 0.5, 2 ImageNet
    int plan, schedule, block_lr, class_w;   // fine-tuning
    int precision;                           // the frozen backbone's
    double lr_found;                         // the lr finder's suggestion, taken as the learning rate (0: none)
} train_form;

// The form as it opens: the tutorial's values (5 epochs, batch 16, Adam at 1e-5, 224x224), and what the
// user's config says (weights: 0 none, else ImageNet's; cpu: the device field says cpu).
void train_form_init(train_form *t, int weights, int cpu);

// The number of fields, and field f's name (0 <= f < train_form_count()).
int train_form_count(void);
const char *train_form_name(int f);
// Field f's value as the form shows it.
void train_form_text(const train_form *t, const run_state *rs, int f, char *buf, size_t len);
// Left (dir -1) or Right (dir 1) on field f: the next choice, cycling; then train_form_publish.
void train_form_change(train_form *t, run_state *rs, int f, int dir);
// Tells the run_state what the Model screen's cost line needs (batch, size, optimizer, and the
// precision: auto's pick when it is known, else fp32).
void train_form_publish(const train_form *t, run_state *rs);

int train_form_epochs(const train_form *t);
// The precision the form asks for: an ft_precision, or TRAINER_PRECISION_AUTO.
int train_form_precision(const train_form *t);
// The learning rate the form says: the lr finder's, or the list's.
double train_form_lr(const train_form *t);
// The plan for the form's epochs as the trainer reads it ("head:HALF,WHAT"; "" when none).
void train_form_plan(const train_form *t, char *buf, size_t len);
// The normalisation the form asks for: the one chosen, or when it follows the weights, core's rule.
transform_norm train_form_norm(const train_form *t, int pretrained);

// The run the form describes: trainable is what the Model screen marks (NULL: the head, the
// tutorial's), weights the weights file (NULL: none); the plan is written into plan (the config
// points to it, and to trainable and weights: they must outlive it). Workers and keep_model are the
// caller's to set.
void train_form_config(const train_form *t, const run_state *rs, const char *trainable, const char *weights, char *plan,
                       size_t plan_len, trainer_config *out);

// A recorded run's settings into the form (and the run_state's architecture, BatchNorm and trainable
// list): each value its field's nearest choice; what the form cannot hold exactly is listed in missed
// ("epochs 7, schedule step:3"; "" when everything fits).
void train_form_take(train_form *t, run_state *rs, const trainer_config *c, char *missed, size_t len);

#endif
