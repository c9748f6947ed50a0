// The exec source's output_file (Google's executable-sourced credentials,
// AIP-4117): a file where the command caches its last response, so that a
// later attempt can use it instead of running the command again.
//
// The command writes the file; wif-tokend only reads it, with the same
// payload rules as the command's standard output. Pure function of the file
// and its arguments; the read is small and synchronous (control loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "sources/common/payload.h"

namespace wif::sources {

struct CachedResponse {
  // The token, when the file holds a valid, unexpired payload.
  std::optional<ParsedToken> token;
  // What relative expiries counted from: the file's modification time,
  // capped at now (an old file does not look fresh).
  int64_t base_ms = 0;
  // Why the file cannot be used, for a debug line; "" when it is missing
  // (the usual case before the first run) or usable. Never holds file bytes.
  std::string unusable;
};

CachedResponse read_output_file(const std::string& path, const PayloadOptions& payload,
                                int64_t now_ms, size_t max_bytes);

}  // namespace wif::sources
