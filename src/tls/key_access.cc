#include "src/tls/key_access.h"

#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace wif::tls {
namespace {

// The readers a mode grants beyond the owner: "group", "others" or both.
std::string extra_readers(mode_t mode) {
  const bool group = (mode & S_IRGRP) != 0;
  const bool others = (mode & S_IROTH) != 0;
  if (group && others) {
    return "group and others";
  }
  return group ? "group" : "others";
}

void check_file(const std::string& path, std::string_view what, KeyAccess allowed) {
  struct stat st {};
  // stat(2), not lstat: what counts is the file a symlink (a Kubernetes
  // secret volume, say) leads to.
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    return;
  }
  mode_t refused = 0;
  switch (allowed) {
    case KeyAccess::kOwner:
      refused = S_IRGRP | S_IROTH;
      break;
    case KeyAccess::kGroup:
      refused = S_IROTH;
      break;
    case KeyAccess::kAnyone:
      return;
  }
  if ((st.st_mode & refused) == 0) {
    return;
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  const bool others = (st.st_mode & S_IROTH) != 0;
  throw ContextError(std::string(what) + " " + path + " is readable by " +
                     extra_readers(st.st_mode) + " (mode " + mode + "): make it readable by " +
                     (allowed == KeyAccess::kGroup ? "owner and group only (chmod 640)"
                                                   : "its owner only (chmod 600)") +
                     ", or allow it with tls.key_readable_by: " + (others ? "anyone" : "group"));
}

}  // namespace

void check_key_access(const ContextOptions& options) {
  check_file(options.key_file, "key", options.key_readable_by);
  check_file(options.key_passphrase_file, "key_passphrase_file", options.key_readable_by);
}

}  // namespace wif::tls
