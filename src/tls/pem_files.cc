#include "src/tls/pem_files.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

namespace wif::tls {
namespace {

// PEM_BUFSIZE is the buffer OpenSSL hands to a passphrase callback.
constexpr size_t kMaxPassphraseBytes = PEM_BUFSIZE - 1;

std::string system_reason(int error) { return std::generic_category().message(error); }

// Bigger than any certificate bundle or CRL a daemon should load at start.
constexpr off_t kMaxPemFileBytes = 32 * 1024 * 1024;

// Opens `path` for reading if it is a regular file of a sane size. A FIFO or
// a device would block the control loop (and start-up, and `check`) on
// open() or read(), so the file is opened non-blocking and looked at first.
// `what` names it in the message ("certificate", "key_passphrase_file").
int open_regular_file(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    fail("cannot read " + std::string(what) + " " + path + ": " + system_reason(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("cannot read " + std::string(what) + " " + path + ": not a regular file");
  }
  if (st.st_size > kMaxPemFileBytes) {
    ::close(fd);
    fail("cannot read " + std::string(what) + " " + path + ": larger than " +
         std::to_string(kMaxPemFileBytes / (1024 * 1024)) + " MiB");
  }
  return fd;
}

// The contents of key_passphrase_file. It lives in a fixed buffer read with
// read(2), so no stdio buffer or reallocated string keeps a copy, and it is
// wiped on destruction (OPENSSL_cleanse is not optimised away).
class Passphrase {
 public:
  explicit Passphrase(const std::string& path);
  ~Passphrase() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;

  const char* data() const { return bytes_.data(); }
  size_t size() const { return size_; }

 private:
  std::array<char, kMaxPassphraseBytes + 1> bytes_{};
  size_t size_ = 0;
};

Passphrase::Passphrase(const std::string& path) {
  int fd = open_regular_file(path, "key_passphrase_file");
  // One byte more than the limit is read, to tell "at the limit" from "over".
  while (size_ < bytes_.size()) {
    ssize_t n = ::read(fd, bytes_.data() + size_, bytes_.size() - size_);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int error = errno;
      ::close(fd);
      fail("cannot read key_passphrase_file " + path + ": " + system_reason(error));
    }
    if (n == 0) {
      break;
    }
    size_ += static_cast<size_t>(n);
  }
  ::close(fd);

  if (size_ > 0 && bytes_[size_ - 1] == '\n') {
    --size_;
    if (size_ > 0 && bytes_[size_ - 1] == '\r') {
      --size_;
    }
  }
  if (size_ > kMaxPassphraseBytes) {
    fail("key_passphrase_file " + path + " holds more than " + std::to_string(kMaxPassphraseBytes) +
         " bytes");
  }
  if (size_ == 0) {
    fail("key_passphrase_file " + path + " is empty");
  }
}

struct PassphraseRequest {
  const Passphrase* passphrase = nullptr;  // null: no key_passphrase_file
  bool asked = false;                      // the key turned out to be encrypted
};

// pem_password_cb(3): copies the passphrase, or fails when there is none.
int supply_passphrase(char* buf, int size, int /*rwflag*/, void* userdata) {
  auto* request = static_cast<PassphraseRequest*>(userdata);
  request->asked = true;
  if (request->passphrase == nullptr || size < 0 ||
      request->passphrase->size() > static_cast<size_t>(size)) {
    return -1;
  }
  std::memcpy(buf, request->passphrase->data(), request->passphrase->size());
  return static_cast<int>(request->passphrase->size());
}

}  // namespace

[[noreturn]] void fail(const std::string& message) {
  ERR_clear_error();
  throw ContextError(message);
}

// Appends OpenSSL's reasons, which name no key bytes and no passphrase.
[[noreturn]] void fail_with_reason(const std::string& message) {
  DrainedErrors errors = drain_error_queue();
  if (errors.text.empty()) {
    throw ContextError(message);
  }
  throw ContextError(message + ": " + errors.text);
}

// Opens a file for an OpenSSL reader. Opening it here, not through
// BIO_new_file(3), gives the plain system reason ("No such file or
// directory") instead of three queued OpenSSL errors.
BioPtr open_file(const std::string& path, std::string_view what) {
  const int fd = open_regular_file(path, what);
  std::FILE* file = ::fdopen(fd, "rb");
  if (file == nullptr) {
    const int error = errno;
    ::close(fd);
    fail("cannot read " + std::string(what) + " " + path + ": " + system_reason(error));
  }
  BioPtr bio(BIO_new_fp(file, BIO_CLOSE));
  if (!bio) {
    std::fclose(file);
    fail_with_reason("cannot read " + std::string(what) + " " + path);
  }
  return bio;
}

// Installed wherever OpenSSL may ask for a passphrase and none is expected.
// OpenSSL's default callback (PEM_def_callback) would prompt on the terminal.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

// Reads the private key; PEM_read_bio_PrivateKey(3) takes every PEM form:
// PKCS#8 (plain or encrypted), and the traditional RSA, EC and
// Proc-Type-encrypted ones.
EvpPkeyPtr load_private_key(const ContextOptions& options) {
  std::unique_ptr<Passphrase> passphrase;
  if (!options.key_passphrase_file.empty()) {
    passphrase = std::make_unique<Passphrase>(options.key_passphrase_file);
  }
  BioPtr bio = open_file(options.key_file, "key");
  PassphraseRequest request{passphrase.get()};
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, supply_passphrase, &request));
  if (key) {
    ERR_clear_error();
    return key;
  }
  if (request.asked && !passphrase) {
    fail("key " + options.key_file + " is encrypted and no key_passphrase_file is set");
  }
  if (request.asked) {
    fail("cannot decrypt key " + options.key_file + " with the passphrase from " +
         options.key_passphrase_file);
  }
  fail_with_reason("key " + options.key_file + " holds no usable PEM private key");
}

// Reads every PEM certificate of a file; at least one is required.
std::vector<X509Ptr> load_certificates(const std::string& path, std::string_view what) {
  BioPtr bio = open_file(path, what);
  std::vector<X509Ptr> certificates;
  for (;;) {
    X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr));
    if (!certificate) {
      break;
    }
    certificates.push_back(std::move(certificate));
  }
  // The loop always ends on "no start line" at the end of the file; any other
  // error is a damaged block.
  DrainedErrors errors = drain_error_queue();
  if (errors.codes.size() != 1 || !errors.has(ERR_LIB_PEM, PEM_R_NO_START_LINE)) {
    throw ContextError(std::string(what) + " " + path + ": certificate " +
                       std::to_string(certificates.size() + 1) +
                       " cannot be parsed: " + errors.text);
  }
  if (certificates.empty()) {
    fail(std::string(what) + " " + path + " holds no PEM certificate");
  }
  return certificates;
}

std::vector<X509CrlPtr> load_crls(const std::string& path) {
  BioPtr bio = open_file(path, "crl");
  std::vector<X509CrlPtr> crls;
  for (;;) {
    X509CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, refuse_passphrase, nullptr));
    if (!crl) {
      break;
    }
    crls.push_back(std::move(crl));
  }
  DrainedErrors errors = drain_error_queue();
  if (errors.codes.size() != 1 || !errors.has(ERR_LIB_PEM, PEM_R_NO_START_LINE)) {
    throw ContextError("crl " + path + ": CRL " + std::to_string(crls.size() + 1) +
                       " cannot be parsed: " + errors.text);
  }
  if (crls.empty()) {
    fail("crl " + path + " holds no PEM CRL");
  }
  return crls;
}

}  // namespace wif::tls
