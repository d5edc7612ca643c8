// head_name.hpp — the head's name, decided here only: the child module that head replacement swaps
// and that "freeze all but the head" spares ("classifier" for VGG, "fc" for ResNet, as torchvision
// names them). Never included from C.
#pragma once

#include "frost_torch.h"

namespace frost {

inline const char *head_name(ft_family family) { return family == FT_FAMILY_VGG ? "classifier" : "fc"; }

// The head's first Linear, the one that reads the backbone's features (VGG's head is a Sequential).
inline const char *head_first_linear(ft_family family) { return family == FT_FAMILY_VGG ? "classifier.0" : "fc"; }

}   // namespace frost
