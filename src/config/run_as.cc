#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "src/config/sections.h"

namespace wif::config {
namespace {

constexpr std::string_view kUserExpected = "the name of a user on this system";
constexpr std::string_view kGroupExpected = "the name of a group on this system";

// getpwnam_r(3) and getgrnam_r(3) with a buffer that grows on ERANGE.
// nullopt when there is no such entry (or the lookup failed).
template <typename Entry, typename Lookup>
std::optional<Entry> look_up(const std::string& name, Lookup lookup) {
  std::vector<char> buffer(4096);
  for (;;) {
    Entry entry{};
    Entry* found = nullptr;
    const int rc = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) {
      return std::nullopt;
    }
    return entry;  // the strings inside point into buffer: only ids are used
  }
}

}  // namespace

void read_run_as(YamlReader& reader, const Value* user, const Value* group, RunAs& out) {
  if (group != nullptr && user == nullptr) {
    reader.error(*group, "is set without user (expected user as well, or neither)");
    return;
  }
  if (user == nullptr) {
    return;
  }
  const std::optional<Scalar> user_name = reader.scalar(*user, kUserExpected);
  if (!user_name) {
    return;
  }
  const std::optional<passwd> pw = look_up<passwd>(user_name->text, getpwnam_r);
  if (user_name->text.empty() || !pw) {
    reader.reject(*user, *user_name, kUserExpected);
    return;
  }
  out.user = user_name->text;
  out.uid = pw->pw_uid;
  out.gid = pw->pw_gid;
  out.mark = user->mark;
  if (group == nullptr) {
    return;
  }
  const std::optional<Scalar> group_name = reader.scalar(*group, kGroupExpected);
  if (!group_name) {
    return;
  }
  const std::optional<::group> gr = look_up<::group>(group_name->text, getgrnam_r);
  if (group_name->text.empty() || !gr) {
    reader.reject(*group, *group_name, kGroupExpected);
    return;
  }
  out.group = group_name->text;
  out.gid = gr->gr_gid;
}

}  // namespace wif::config
