#include "src/daemon/privileges.h"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wif::daemon {
namespace {

std::string failed(const char* call, int error) {
  return std::string(call) + " failed: " + std::strerror(error);
}

std::string who(const config::RunAs& run_as) {
  return run_as.user + " (uid " + std::to_string(run_as.uid) + ", gid " +
         std::to_string(run_as.gid) + ")";
}

// Every one of real, effective and saved ids, and the supplementary groups,
// must be the target's: a saved uid of 0 would let the process become root
// again (setuid(2)).
std::string verify(const config::RunAs& run_as) {
  uid_t ruid = 0;
  uid_t euid = 0;
  uid_t suid = 0;
  gid_t rgid = 0;
  gid_t egid = 0;
  gid_t sgid = 0;
  if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) {
    return failed("getresuid", errno);
  }
  if (ruid != run_as.uid || euid != run_as.uid || suid != run_as.uid || rgid != run_as.gid ||
      egid != run_as.gid || sgid != run_as.gid) {
    return "after switching to " + who(run_as) + " the process still has other ids";
  }
  gid_t groups[2];
  const int count = getgroups(2, groups);
  if (count != 1 || groups[0] != run_as.gid) {
    return "after switching to " + who(run_as) + " the process keeps other groups";
  }
  if (run_as.uid != 0 && setuid(0) == 0) {
    return "after switching to " + who(run_as) + " the process could become root again";
  }
  return "";
}

}  // namespace

RunAsResult drop_privileges(const config::RunAs& run_as) {
  RunAsResult result;
  const bool root = geteuid() == 0;
  if (run_as.user.empty()) {
    result.outcome = root ? RunAsOutcome::kStayedRoot : RunAsOutcome::kNotRoot;
    return result;
  }
  if (!root) {
    if (getuid() == run_as.uid && geteuid() == run_as.uid && getgid() == run_as.gid &&
        getegid() == run_as.gid) {
      result.outcome = RunAsOutcome::kAlreadyThem;
    } else {
      result.error = "user is " + who(run_as) + ", but the daemon runs as uid " +
                     std::to_string(geteuid()) +
                     " and only root can switch users (start it as root, or as that user)";
    }
    return result;
  }

  // Groups first: once the uid is not 0 any more, changing them is refused.
  const gid_t gid = run_as.gid;
  if (setgroups(1, &gid) != 0) {
    result.error = failed("setgroups", errno);
    return result;
  }
  if (setgid(run_as.gid) != 0) {
    result.error = failed("setgid", errno);
    return result;
  }
  if (setuid(run_as.uid) != 0) {
    result.error = failed("setuid", errno);
    return result;
  }
  result.error = verify(run_as);
  result.outcome = RunAsOutcome::kDropped;
  return result;
}

}  // namespace wif::daemon
