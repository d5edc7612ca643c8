// train_log.c — see train_log.h.
#include "train_log.h"

#include <stdio.h>
#include <string.h>

void train_log_lines(const train_event *e, long log_every, train_log_fn fn, void *user) {
    char line[1200];
    switch (e->kind) {
    case EV_INFO:
    case EV_PRECISION: fn(user, e->text); break;
    case EV_PHASE_START:
        if (e->phase == PHASE_TRAIN) {
            snprintf(line, sizeof line, "Epoch %d/%d", e->epoch, e->epochs);
            fn(user, line);
            fn(user, "----------------------------------------");
        }
        fn(user, e->phase == PHASE_TRAIN ? "Training..." : "Validing...");
        break;
    case EV_BATCH:
        if (e->phase == PHASE_TRAIN && log_every > 0 && e->batch % (size_t)log_every == 0) {
            snprintf(line, sizeof line, "Batch %zu,Train Loss:%.6f,Train ACC:%.4f", e->batch, e->running_loss,
                     e->running_acc);
            fn(user, line);
        }
        break;
    case EV_PHASE_END:
        snprintf(line, sizeof line, "%s Loss:%.6f ACC:%.4f", e->phase == PHASE_TRAIN ? "train" : "valid",
                 e->running_loss, e->running_acc);
        fn(user, line);
        if (e->phase == PHASE_TRAIN && e->lr_moves && e->lr > 0) {   // frost's: where the schedule has taken the lr
            snprintf(line, sizeof line, "lr %.4g at the phase's last step", e->lr);
            fn(user, line);
        }
        break;
    case EV_STAGE:
        snprintf(line, sizeof line, "Stage %d/%d from epoch %d: training %s", e->stage, e->stages, e->epoch,
                 strcmp(e->text, "all") == 0 ? "every layer" : e->text);
        fn(user, line);
        break;
    case EV_SAVED:
        snprintf(line, sizeof line, "saved %s", e->text);
        fn(user, line);
        break;
    case EV_FINISHED:
        if (e->status == 0 || e->status == 1) {
            snprintf(line, sizeof line, "%s %.1f s", e->status == 0 ? "Training complete in" : "Stopped after",
                     e->seconds);
            fn(user, line);
        }
        break;
    case EV_EPOCH:
    case EV_SKIPPED:
    case EV_ERROR:
    case EV_LAYERS:
    case EV_ALARM:
    case EV_LR_POINT:
    case EV_LR_SUGGEST: break;
    }
}
