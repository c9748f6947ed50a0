// File system helpers for the config loader: making configured paths
// absolute and checking, at load time, that the files they name can be read.
// Any thread; they touch nothing but the file system.
#pragma once

#include <optional>
#include <string>

namespace wif::config {

// `dir` made absolute (against the process's working directory) and
// normalised, without a trailing "/".
std::string absolute_dir(const std::string& dir);

// `path` itself when absolute, else joined to `base_dir`; normalised.
std::string resolve_path(const std::string& base_dir, const std::string& path);

// Why `path` cannot be opened for reading, as strerror text ("No such file or
// directory", "Is a directory"), or nullopt when it can.
std::optional<std::string> unreadable(const std::string& path);

}  // namespace wif::config
