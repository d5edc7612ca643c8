/*
 * app.h — the full-screen interface's state and the pieces its screens share.
 *
 * One main loop (app.c) reads a key with a timeout, finds it in the key table, and hands the action
 * to the screen in front; screens draw from the state here and from core/ and the shim, nothing else.
 */
#ifndef FROST_TUI_APP_H
#define FROST_TUI_APP_H

#include <stddef.h>

#include "dataset.h"
#include "events.h"
#include "frost_torch.h"
#include "trainer.h"
#include "weights_table.h"

typedef enum {
    ACT_NONE, ACT_QUIT, ACT_HELP, ACT_SCREEN_DATA, ACT_SCREEN_MODEL,
    ACT_UP, ACT_DOWN, ACT_PAGE_UP, ACT_PAGE_DOWN, ACT_HOME, ACT_END,
    ACT_NEXT_ARCH, ACT_PREV_ARCH, ACT_TOGGLE_HEAD, ACT_TOGGLE_FREEZE, ACT_FREEZE_BACKBONE, ACT_UNFREEZE_ALL,
    ACT_FOLD, ACT_SCREEN_TRAIN, ACT_LEFT, ACT_RIGHT, ACT_START, ACT_PAUSE, ACT_STOP,
    ACT_SCREEN_PREDICT, ACT_THEME,                 // every screen
    ACT_DIFF, ACT_BLOCK_FREEZE, ACT_BLOCK_THAW, ACT_BN_MODE,   // model
    ACT_OPEN, ACT_EVALUATE, ACT_SWITCH_PANE,       // predict (and data: ACT_SWITCH_PANE moves class list / files)
    ACT_MOUSE                                      // a mouse event (read with getmouse)
} app_action;

enum { SCREEN_DATA = 0, SCREEN_MODEL = 1, SCREEN_TRAIN = 2, SCREEN_PREDICT = 3, N_SCREENS = 4 };

// What the command line gives the interface: `frost [DATASET] [--theme NAME] [--checkpoint FILE]`.
typedef struct {
    const char *dataset;      // default "sample_data"
    const char *theme;        // NULL: $FROST_THEME, else "dark"
    const char *checkpoint;   // NULL: none; else opened in the Predict screen
    const char *arch;         // NULL: resnet18; the architecture the Model and Train screens start with
} app_options;

#define TR_LOG_LINES 12
#define TR_MAX_EPOCH_ROWS 64

typedef struct {
    char *text;
    size_t node;
    int closing;
} model_line;

typedef struct {
    // data
    char root[1024];
    dataset d;
    int have_dataset;
    char dataset_error[512];
    int data_sel;               // selected class row: split * n_classes + class
    // model
    size_t arch_index;
    int head_replaced;
    ft_model *model;
    model_line *lines;
    size_t n_lines;
    unsigned char *folded;      // per node
    int model_sel, model_top;   // in visible lines
    // train: the form (indices into each field's choices) and the run
    int tr_field, tr_epochs, tr_batch, tr_lr, tr_opt, tr_size, tr_bn, tr_cache, tr_device;
    trainer *tr;
    event_queue *tr_events;
    int tr_running, tr_epochs_total;
    train_event tr_last, tr_phase_end[2];
    train_event tr_epoch_rows[TR_MAX_EPOCH_ROWS];
    int tr_n_epoch_rows;
    char tr_log[TR_LOG_LINES][160];
    char tr_trainable[1024];    // the Model screen's choice, as given to the trainer ("" = the seed's)
    char tr_device_name[32];
    int tr_weights, tr_norm;    // weights: 0 none, 1 ImageNet; normalise: 0 follows the weights, 1 seed, 2 ImageNet
    struct fetch_job *tr_fetch; // getting the weights before a run
    const weights_entry *tr_fetch_entry;
    char tr_weights_path[4096];
    pipeline_opts tr_prep;      // the run's preprocessing (for predicting with its model)
    // model: the side-by-side view (before / after head replacement) and the blocks
    int diff;                   // 1: side by side
    model_line *before;         // lines of the architecture as torchvision builds it (for the diff)
    size_t n_before;
    size_t before_arch;         // which architecture `before` was made for
    // predict: the model to predict with (from the last training run, or a checkpoint), owned here
    ft_model *pr_model;
    char pr_source[1024];       // where it came from, as shown
    struct predict_view *pr;    // screen_predict.c's own state
    struct data_view *dv;       // screen_data.c's own state (preview, doctor findings)
    const app_options *opts;
    int mouse_y, mouse_x;       // the last click, for ACT_MOUSE (screen coordinates)
    // the loop
    int screen;
    int help;
    int quit;
    char status[512];
} app;

int app_run(const app_options *opts);

// screen_data.c
void data_draw(app *a, int top, int rows, int cols);
void data_act(app *a, app_action act, int rows);
// screen_model.c
void model_draw(app *a, int top, int rows, int cols);
void model_act(app *a, app_action act, int rows);
void model_rebuild(app *a);   // (re)builds the selected architecture and its lines
void model_free(app *a);
// The Model screen's freeze choices as a trainer `trainable` spec ("layer4,fc"), or "" when they are
// the seed's (only the new head) or there is no head-replaced model of the selected architecture.
void model_trainable_spec(app *a, char *buf, size_t len);
// screen_train.c
void train_defaults(app *a);
void train_draw(app *a, int top, int rows, int cols);
void train_act(app *a, app_action act);
void train_poll(app *a);            // drains the trainer's events; every tick
void train_stop_and_join(app *a);   // on the way out
// screen_predict.c
void predict_draw(app *a, int top, int rows, int cols);
void predict_act(app *a, app_action act, int rows);
void predict_poll(app *a);          // every tick (a background job's progress)
void predict_free(app *a);
// The Train screen hands over its trained model after a run: the app owns m from then on (any
// earlier pr_model is freed); its class names are a->d.classes, its preprocessing *tf (the trainer's
// config.prep.tf). source is what the screen shows ("trained resnet18, 3 epochs").
void predict_set_model(app *a, ft_model *m, const char *source, const transform_params *tf);
// screen_data.c
void data_poll(app *a);             // every tick
void data_free(app *a);

#endif
