#include "tests/support/test_support.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wif::testing {

std::filesystem::path pki_dir() {
  const char* dir = std::getenv("WIF_TEST_PKI");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error("WIF_TEST_PKI is not set: run the tests through `meson test`");
  }
  return dir;
}

std::string pki(std::string_view file) { return (pki_dir() / file).string(); }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string());
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "wif-test-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace wif::testing
