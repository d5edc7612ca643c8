// train_plan.c — staged unfreezing plans (see train_plan.h).
#include "train_plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "number.h"
#include "transfer.h"

// 1 when what is a stage's set parse accepts: head, all, lastK (K >= 1), or paths joined with '+'.
static int valid_what(const char *what, char *err, size_t errlen) {
    if (!*what) {
        errmsg_set(err, errlen, "a stage names no modules (head, lastK, all, or paths joined with +)");
        return 0;
    }
    if (strncmp(what, "last", 4) == 0 && isdigit((unsigned char)what[4])) {
        long long k;
        if (number_parse_int(what + 4, 1, TRANSFER_MAX_BLOCKS, &k) != 0) {
            errmsg_set(err, errlen, "'%s': lastK takes a K from 1 to %d", what, TRANSFER_MAX_BLOCKS);
            return 0;
        }
        return 1;
    }
    for (const char *c = what; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '_' || *c == '+' || *c == '-')) {
            errmsg_set(err, errlen, "'%s' is not a stage (head, lastK, all, or module paths joined with +)", what);
            return 0;
        }
    return 1;
}

int train_plan_parse(const char *text, train_plan *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    if (!text || !*text) {
        errmsg_set(err, errlen, "the plan is empty (say \"head:2,all:3\")");
        return -1;
    }
    const char *c = text;
    while (*c) {
        if (p->n == TRAIN_PLAN_MAX_STAGES) {
            errmsg_set(err, errlen, "a plan has at most %d stages", TRAIN_PLAN_MAX_STAGES);
            return -1;
        }
        size_t len = strcspn(c, ",");
        char item[300];
        if (len >= sizeof item) {
            errmsg_set(err, errlen, "a stage of the plan is too long");
            return -1;
        }
        memcpy(item, c, len);
        item[len] = 0;
        plan_stage *st = &p->stages[p->n];
        char *colon = strrchr(item, ':');
        if (colon) {
            *colon = 0;
            long long e;
            if (number_parse_int(colon + 1, 1, 100000, &e) != 0) {
                errmsg_set(err, errlen, "'%s:%s': a stage's epochs are a whole number from 1", item, colon + 1);
                return -1;
            }
            st->epochs = (int)e;
        }
        if (strlen(item) >= sizeof st->what) {
            errmsg_set(err, errlen, "a stage of the plan is too long");
            return -1;
        }
        snprintf(st->what, sizeof st->what, "%s", item);
        if (!valid_what(st->what, err, errlen)) return -1;
        p->n++;
        c += len;
        if (*c == ',') {
            c++;
            if (!*c) {
                errmsg_set(err, errlen, "the plan ends with a comma");
                return -1;
            }
        }
    }
    for (int s = 0; s + 1 < p->n; s++)
        if (p->stages[s].epochs == 0) {
            errmsg_set(err, errlen, "stage '%s' needs its epochs (\"%s:2\"): only the last may leave them out",
                       p->stages[s].what, p->stages[s].what);
            return -1;
        }
    return 0;
}

void train_plan_format(const train_plan *p, char *buf, size_t len) {
    size_t used = 0;
    if (len) buf[0] = 0;
    for (int s = 0; s < p->n && used < len; s++) {
        int k = p->stages[s].epochs
                    ? snprintf(buf + used, len - used, "%s%s:%d", s ? "," : "", p->stages[s].what, p->stages[s].epochs)
                    : snprintf(buf + used, len - used, "%s%s", s ? "," : "", p->stages[s].what);
        if (k < 0) break;
        used += (size_t)k;
    }
}

int train_plan_epochs(const train_plan *p) {
    int total = 0;
    for (int s = 0; s < p->n; s++) total += p->stages[s].epochs;
    return total;
}

int train_plan_open_ended(const train_plan *p) { return p->n > 0 && p->stages[p->n - 1].epochs == 0; }

int train_plan_stage_at(const train_plan *p, int epoch) {
    int end = 0;
    for (int s = 0; s < p->n; s++) {
        end += p->stages[s].epochs;
        if (p->stages[s].epochs == 0 || epoch <= end) return s;
    }
    return p->n > 0 ? p->n - 1 : 0;   // past the plan: its last stage goes on
}

int train_plan_stage_start(const train_plan *p, int s) {
    int start = 1;
    for (int k = 0; k < s && k < p->n; k++) start += p->stages[k].epochs;
    return start;
}

int train_plan_trainable(const train_plan *p, int s, ft_model *m, char *buf, size_t len, char *err, size_t errlen) {
    const char *what = p->stages[s].what;
    const char *head = ft_model_head_path(m);
    if (strcmp(what, "head") == 0 || strcmp(what, "all") == 0) {
        snprintf(buf, len, "%s", strcmp(what, "all") == 0 ? "all" : head);
        return 0;
    }
    if (strncmp(what, "last", 4) == 0 && isdigit((unsigned char)what[4])) {
        size_t k = (size_t)strtol(what + 4, NULL, 10);
        const ft_node *nodes;
        size_t n;
        transfer_block blocks[TRANSFER_MAX_BLOCKS];
        int got = transfer_model_blocks(m, &nodes, &n, blocks, err, errlen);
        if (got < 0) return -1;
        size_t nb = (size_t)got;
        size_t before_head = nb > 0 ? nb - 1 : 0;   // the head is the last block
        if (k > before_head) {
            errmsg_set(err, errlen, "'%s': %s has %zu blocks before its head", what, ft_model_arch(m), before_head);
            return -1;
        }
        size_t used = 0;
        buf[0] = 0;
        for (size_t b = before_head - k; b < nb && used < len; b++) {
            char paths[2048];
            transfer_block_paths(nodes, n, &blocks[b], paths, sizeof paths);
            int w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", paths);
            if (w < 0) break;
            used += (size_t)w;
        }
        return 0;
    }
    // module paths joined with '+': the trainable list's commas
    snprintf(buf, len, "%s", what);
    for (char *c = buf; *c; c++)
        if (*c == '+') *c = ',';
    return 0;
}
