// test_train_log.c — the tutorial's log (core/train/train_log.c), line for line, from trainer events: the
// shapes the seed's script prints (its text: ../shared/seed), with frost's fixed number formats.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "train_log.h"

typedef struct {
    char text[4096];
    int lines;
} log_buf;

static void add(void *user, const char *line) {
    log_buf *b = user;
    size_t n = strlen(b->text);
    snprintf(b->text + n, sizeof b->text - n, "%s\n", line);
    b->lines++;
}

static const char *lines_of(const train_event *e, long log_every) {
    static log_buf b;
    memset(&b, 0, sizeof b);
    train_log_lines(e, log_every, add, &b);
    return b.text;
}

Test(train_log, the_tutorials_lines) {
    train_event e = {.kind = EV_PHASE_START, .epoch = 2, .epochs = 5, .phase = PHASE_TRAIN};
    cr_expect_str_eq(lines_of(&e, 500), "Epoch 2/5\n----------------------------------------\nTraining...\n");
    e.phase = PHASE_VALID;
    cr_expect_str_eq(lines_of(&e, 500), "Validing...\n", "the seed's spelling");
    e = (train_event){
        .kind = EV_BATCH, .phase = PHASE_TRAIN, .batch = 1000, .running_loss = 0.0239783339, .running_acc = 99.0625};
    cr_expect_str_eq(lines_of(&e, 500), "Batch 1000,Train Loss:0.023978,Train ACC:99.0625\n");
    e.batch = 999;
    cr_expect_str_eq(lines_of(&e, 500), "", "only every log_every batches");
    cr_expect_str_eq(lines_of(&e, 0), "", "never with 0");
    e.phase = PHASE_VALID;
    e.batch = 1000;
    cr_expect_str_eq(lines_of(&e, 500), "", "no Batch lines while validating");
    e = (train_event){
        .kind = EV_PHASE_END, .phase = PHASE_VALID, .running_loss = 0.045007430016994476, .running_acc = 98};
    cr_expect_str_eq(lines_of(&e, 500), "valid Loss:0.045007 ACC:98.0000\n");
    e = (train_event){.kind = EV_FINISHED, .status = 0, .seconds = 926.04};
    cr_expect_str_eq(lines_of(&e, 500), "Training complete in 926.0 s\n");
    e.status = 1;
    cr_expect_str_eq(lines_of(&e, 500), "Stopped after 926.0 s\n");
    e.status = -1;
    cr_expect_str_eq(lines_of(&e, 500), "", "a failed run's error says it all");
    e = (train_event){.kind = EV_SAVED};
    snprintf(e.text, sizeof e.text, "run.safetensors");
    cr_expect_str_eq(lines_of(&e, 500), "saved run.safetensors\n");
    e.kind = EV_INFO;
    cr_expect_str_eq(lines_of(&e, 500), "run.safetensors\n");
    e.kind = EV_ERROR;
    cr_expect_str_eq(lines_of(&e, 500), "", "errors go where each front end puts them");
    e.kind = EV_SKIPPED;
    cr_expect_str_eq(lines_of(&e, 500), "");
}

// The seed's own log (its script's output in the tutorial) has these shapes; frost's lines match them
// but for the number formats.
Test(train_log, the_seeds_shapes) {
    const char *seed = tu_shared("seed/000_242abea8521abdbb.txt");
    if (!seed) cr_skip_test("../shared/seed is absent: the seed's log cannot be compared");
    char *text = tu_read_file(seed, NULL);
    cr_assert_not_null(text);
    const char *shapes[] = {"\nBatch 500,Train Loss:", ",Train ACC:", "\ntrain Loss:", " ACC:", "\nvalid Loss:"};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) cr_expect(strstr(text, shapes[i]), "%s", shapes[i]);
    train_event e = {.kind = EV_BATCH, .phase = PHASE_TRAIN, .batch = 500, .running_loss = 0.02, .running_acc = 99};
    cr_expect(strncmp(lines_of(&e, 500), "Batch 500,Train Loss:", 21) == 0);
    free(text);
}
