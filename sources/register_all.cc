#include "sources/register_all.h"

#include "sources/exec/exec_source.h"
#include "sources/file/file_source.h"

namespace wif::sources {

void register_all(token::SourceRegistry& registry) {
  registry.add("exec", make_exec_source);
  registry.add("file", make_file_source);
}

}  // namespace wif::sources
