// block_lr.c — per-block learning rates as parameter groups (see block_lr.h).
#include "block_lr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

int block_lr_parse(const char *text, block_lr *b, char *err, size_t errlen) {
    memset(b, 0, sizeof *b);
    if (!text || !*text) return 0;
    if (strncmp(text, "spread:", 7) == 0) {
        char *end;
        double r = strtod(text + 7, &end);
        if (!text[7] || *end || !(r >= 1) || !isfinite(r)) {
            errmsg_set(err, errlen, "'%s': the spread is a ratio of 1 or more (\"spread:100\")", text);
            return -1;
        }
        b->spread = 1;
        b->ratio = r;
        return 0;
    }
    const char *c = text;
    while (*c) {
        size_t len = strcspn(c, ",");
        char item[128];
        if (len >= sizeof item || b->n == TRANSFER_MAX_BLOCKS) {
            errmsg_set(err, errlen, "the block learning rates are too long");
            return -1;
        }
        memcpy(item, c, len);
        item[len] = 0;
        char *eq = strchr(item, '=');
        char *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || eq == item || !eq[1] || *end || !(v > 0) || !isfinite(v) || (size_t)(eq - item) >= 64) {
            errmsg_set(err, errlen, "'%s' is not BLOCK=MULTIPLIER (\"layer4=0.1\"), with a multiplier above 0", item);
            return -1;
        }
        *eq = 0;
        memcpy(b->names[b->n], item, (size_t)(eq - item) + 1);   // fits: checked above
        b->mult[b->n++] = v;
        c += len;
        if (*c == ',') c++;
    }
    return 0;
}

int block_lr_groups(const block_lr *b, ft_model *m, const unsigned char *trains, double lr, ft_param_group *groups,
                    block_lr_paths *paths, char *err, size_t errlen) {
    const ft_node *nodes;
    size_t n;
    transfer_block blocks[TRANSFER_MAX_BLOCKS];
    int got = transfer_model_blocks(m, &nodes, &n, blocks, err, errlen);
    if (got < 0) return -1;
    size_t nb = (size_t)got;
    // every name given must be a block of this model
    for (size_t i = 0; b && !b->spread && i < b->n; i++) {
        int found = strcmp(b->names[i], "head") == 0;
        for (size_t k = 0; !found && k < nb; k++) found = strcmp(blocks[k].name, b->names[i]) == 0;
        if (!found) {
            char list[1024] = "";
            size_t used = 0;
            for (size_t k = 0; k < nb && used < sizeof list; k++) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", blocks[k].name);
                if (w < 0) break;
                used += (size_t)w;
            }
            errmsg_set(err, errlen, "%s has no block '%s' (its blocks: %s)", ft_model_arch(m), b->names[i], list);
            return -1;
        }
    }
    size_t trained = 0;
    for (size_t k = 0; k < nb; k++) trained += trains[k] != 0;
    int count = 0;
    size_t rank = 0;   // among the trained blocks, in order
    for (size_t k = 0; k < nb; k++) {
        if (!trains[k]) continue;
        double mult = 1;
        if (b && b->spread && trained > 1) mult = pow(b->ratio, -(double)(trained - 1 - rank) / (double)(trained - 1));
        for (size_t i = 0; b && !b->spread && i < b->n; i++)
            if (strcmp(b->names[i], blocks[k].name) == 0 || (strcmp(b->names[i], "head") == 0 && k + 1 == nb))
                mult = b->mult[i];
        transfer_block_paths(nodes, n, &blocks[k], paths[count], sizeof paths[count]);
        groups[count].modules = paths[count];
        groups[count].lr = lr * mult;
        count++;
        rank++;
    }
    return count;
}
