#include "src/token/token_source.h"

namespace wif::token {

void SourceRegistry::add(std::string type, SourceFactory factory) {
  factories_.insert_or_assign(std::move(type), std::move(factory));
}

std::unique_ptr<TokenSource> SourceRegistry::create(const config::SourceSpec& spec,
                                                    const SourceContext& context,
                                                    config::Diagnostics& diag) const {
  auto it = factories_.find(spec.type);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [type, factory] : factories_) {
      known += known.empty() ? type : ", " + type;
    }
    diag.error(spec.mark, "tokens." + context.token_name + ".source.type",
               "unknown source type \"" + spec.type + "\" (expected one of: " + known + ")");
    return nullptr;
  }
  return it->second(spec, context, diag);
}

}  // namespace wif::token
