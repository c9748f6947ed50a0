// The list of token source types the daemon knows. One line per type.
#pragma once

#include "src/token/token_source.h"

namespace wif::sources {

void register_all(token::SourceRegistry& registry);

}  // namespace wif::sources
