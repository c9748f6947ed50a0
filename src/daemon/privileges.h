// Giving up root once the sockets are bound: `user:` and `group:` of the
// config. Main thread only, before any other thread starts (the calls change
// the whole process, and glibc would have to signal every thread to do it).
#pragma once

#include <string>

#include "src/config/config.h"

namespace wif::daemon {

// What drop_privileges() did, for the start-up log.
enum class RunAsOutcome {
  kDropped,      // started as root, now runs as run_as.uid:run_as.gid
  kAlreadyThem,  // not root, and already the configured user and group
  kStayedRoot,   // root with no user configured: allowed, but warned about
  kNotRoot,      // neither root nor configured: nothing to do
};

struct RunAsResult {
  RunAsOutcome outcome = RunAsOutcome::kNotRoot;
  std::string error;  // non-empty: the daemon must not go on
};

// Started as root with a user: setgroups (just the target group), setgid,
// setuid, in that order, then checks that real, effective and saved ids all
// changed and that root cannot be regained. Not root with a user: only
// checks that we already are that user and group, since nobody else can
// switch. Returns an error naming the call and the system's reason.
RunAsResult drop_privileges(const config::RunAs& run_as);

}  // namespace wif::daemon
