/*
 * model_print.h — a model's module tree as text: PyTorch's print(model), and a summary table.
 *
 * Both read the shim's node table (ft_model_nodes), so the text, the tree view and the parameter
 * totals all come from the same walk of the same model.
 */
#ifndef FROST_MODEL_PRINT_H
#define FROST_MODEL_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "frost_torch.h"

// Called once per line of PyTorch's repr, without the newline. `node` is the index of the module the
// line belongs to; `closing` is 1 for the ")" line that ends a container.
typedef void (*model_line_fn)(void *user, const char *line, size_t node, int closing);

// Produces the lines of repr(model), exactly as PyTorch 1.13's nn.Module.__repr__ writes them.
void model_repr_lines(const ft_node *nodes, size_t n, model_line_fn fn, void *user);

// Writes repr(model) followed by a newline, as print(model) does.
void model_print_repr(FILE *out, const ft_node *nodes, size_t n);

// Writes the summary table: one row per module (path, type, output shape, parameters, trainable),
// then total / trainable / non-trainable parameter counts. Output shapes come from ft_model_trace
// with a 1x3xSxS input (`size`); untraced nodes show "-".
void model_print_summary(FILE *out, const ft_node *nodes, size_t n, long size);

// 138357544 -> "138,357,544"
void format_count(char *buf, size_t len, long long v);

#endif
