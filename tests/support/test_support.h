// Small helpers shared by every test binary: where the test PKI is, a fresh
// temporary folder per test, and file helpers. Real files, no mocks.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace wif::testing {

// The folder made by scripts/make-pki.sh for this build (WIF_TEST_PKI).
std::filesystem::path pki_dir();
std::string pki(std::string_view file);  // pki_dir() / file, as a string

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, std::string_view content);

// A temporary folder removed with its contents when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace wif::testing
