#include "sources/exec/exec_options.h"

#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <filesystem>

#include "sources/common/spec_reader.h"

namespace wif::sources {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCommandExpected =
    "a command such as [/usr/local/bin/mint, --aud, x] or \"/usr/local/bin/mint --aud x\"";

// The subject token types Google executables may print (AIP-4117).
constexpr std::string_view kJwtType = "urn:ietf:params:oauth:token-type:jwt";
constexpr std::string_view kIdTokenType = "urn:ietf:params:oauth:token-type:id_token";
constexpr std::string_view kSaml2Type = "urn:ietf:params:oauth:token-type:saml2";

constexpr std::string_view kExecCredentialV1 = "client.authentication.k8s.io/v1";
constexpr std::string_view kExecCredentialV1Beta1 = "client.authentication.k8s.io/v1beta1";

// Fields that only make sense with one compat setting.
constexpr std::string_view kGoogleFields[] = {"audience", "subject_token_type",
                                              "impersonated_email"};
constexpr std::string_view kKubernetesFields[] = {"api_version"};

std::string errno_text(int err) {
  return std::string(uv_err_name(-err)) + " (" + uv_strerror(-err) + ")";
}

// "" when `path` is an executable regular file, else what is wrong with it.
std::string executable_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return errno_text(errno);
  }
  if (S_ISDIR(st.st_mode)) {
    return "a directory";
  }
  if (!S_ISREG(st.st_mode)) {
    return "not a regular file";
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return errno_text(errno);
  }
  return {};
}

// argv[0] to an absolute path: a path with a slash is taken relative to the
// config folder, a bare name is looked up in kHookPath (the PATH the command
// will get), never in the daemon's own PATH.
std::string resolve_program(SpecReader& reader, const std::string& program,
                            const std::string& base_dir) {
  if (program.find('/') != std::string::npos) {
    fs::path path(program);
    if (path.is_relative()) {
      path = fs::path(base_dir.empty() ? fs::current_path().string() : base_dir) / path;
    }
    const std::string resolved = path.lexically_normal().string();
    if (const std::string problem = executable_problem(resolved); !problem.empty()) {
      reader.error("command", "got " + in_quotes(program) + " (expected an executable file; " +
                                  resolved + ": " + problem + ")");
    }
    return resolved;
  }
  std::string_view dirs = kHookPath;
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string candidate = std::string(dirs.substr(0, colon)) + "/" + program;
    if (executable_problem(candidate).empty()) {
      return candidate;
    }
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  reader.error("command", "got " + in_quotes(program) +
                              " (expected an absolute path, or a program found in " +
                              std::string(kHookPath) + ")");
  return program;
}

std::vector<std::string> read_command(SpecReader& reader, const std::string& base_dir) {
  bool is_list = false;
  std::optional<std::vector<std::string>> values =
      reader.strings("command", kCommandExpected, /*required=*/true, &is_list);
  if (!values) {
    return {};
  }
  std::vector<std::string> argv;
  if (is_list) {
    argv = std::move(*values);
  } else if (!values->empty()) {
    argv = split_command(values->front());
  }
  if (argv.empty() || argv.front().empty()) {
    reader.error("command", "got " + in_quotes(is_list ? "[]" : reader.raw("command")) +
                                " (expected " + std::string(kCommandExpected) + ")");
    return {};
  }
  argv.front() = resolve_program(reader, argv.front(), base_dir);
  return argv;
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
    return false;
  }
  for (char c : name) {
    const bool allowed =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

// Names the daemon sets itself: passing them through would make the
// command's environment depend on the daemon's.
bool is_reserved_name(std::string_view name) {
  return name == "PATH" || name == "KUBERNETES_EXEC_INFO" || name.starts_with("WIF_TOKEND_") ||
         name.starts_with("GOOGLE_EXTERNAL_ACCOUNT_");
}

void read_pass_env(SpecReader& reader, const config::Environment& environ_lookup,
                   std::vector<std::string>& env) {
  std::optional<std::vector<std::string>> names =
      reader.strings("pass_env", "a list of environment variable names such as [HOME, LANG]");
  for (const std::string& name : names.value_or(std::vector<std::string>{})) {
    if (!is_variable_name(name)) {
      reader.error("pass_env", "got " + in_quotes(name) +
                                   " (expected an environment variable name: letters, digits "
                                   "and _, not starting with a digit)");
    } else if (is_reserved_name(name)) {
      reader.error("pass_env", "got " + in_quotes(name) +
                                   " (expected a name wif-tokend does not set itself: not PATH, "
                                   "WIF_TOKEND_*, GOOGLE_EXTERNAL_ACCOUNT_* or "
                                   "KUBERNETES_EXEC_INFO)");
    } else if (std::optional<std::string> value = environ_lookup(name)) {
      // A name the daemon was started without is simply left out.
      env.push_back(name + "=" + *value);
    }
  }
}

// The variables Google's executable-sourced credentials set (AIP-4117).
void read_google(SpecReader& reader, std::vector<std::string>& env) {
  std::optional<std::string> audience = reader.string(
      "audience", "the workload identity pool provider audience, such as //iam.googleapis.com/...",
      /*required=*/true);
  const std::string type =
      reader.choice("subject_token_type", {kJwtType, kIdTokenType, kSaml2Type}, kJwtType);
  std::optional<std::string> email =
      reader.string("impersonated_email", "a service account email address");
  env.push_back("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE=" + audience.value_or(""));
  env.push_back("GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE=" + type);
  env.push_back("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE=0");
  if (email && !email->empty()) {
    env.push_back("GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL=" + *email);
  }
}

// What kubectl hands a client-go credential plugin: a non-interactive
// ExecCredential request, without cluster information.
void read_kubernetes(SpecReader& reader, std::vector<std::string>& env) {
  const std::string api_version =
      reader.choice("api_version", {kExecCredentialV1, kExecCredentialV1Beta1}, kExecCredentialV1);
  env.push_back(R"(KUBERNETES_EXEC_INFO={"apiVersion":")" + api_version +
                R"(","kind":"ExecCredential","spec":{"interactive":false}})");
}

void reject_fields_of_other_compat(SpecReader& reader, std::string_view compat) {
  for (std::string_view field : kGoogleFields) {
    if (compat != "google" && reader.has(field)) {
      reader.error(field, "set without compat: google (expected compat: google, or no " +
                              std::string(field) + ")");
    }
  }
  for (std::string_view field : kKubernetesFields) {
    if (compat != "kubernetes" && reader.has(field)) {
      reader.error(field, "set without compat: kubernetes (expected compat: kubernetes, or no " +
                              std::string(field) + ")");
    }
  }
}

std::string absolute_path(const std::string& path, const std::string& base_dir) {
  fs::path resolved(path);
  if (resolved.is_relative()) {
    resolved = fs::path(base_dir.empty() ? fs::current_path().string() : base_dir) / resolved;
  }
  return resolved.lexically_normal().string();
}

}  // namespace

std::vector<std::string> split_command(std::string_view command) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < command.size()) {
    while (i < command.size() && (command[i] == ' ' || command[i] == '\t')) {
      ++i;
    }
    const size_t start = i;
    while (i < command.size() && command[i] != ' ' && command[i] != '\t') {
      ++i;
    }
    if (i > start) {
      words.emplace_back(command.substr(start, i - start));
    }
  }
  return words;
}

std::optional<ExecSourceOptions> read_exec_source_options(
    const config::SourceSpec& spec, const token::SourceContext& context, config::Diagnostics& diag,
    const config::Environment& environ_lookup) {
  SpecReader reader(spec, context.token_name, diag);
  if (!context.allow_exec) {
    reader.error("type",
                 "got \"exec\", which runs commands and is refused unless allowed (expected "
                 "wif-tokend to be started with --allow-exec or WIF_TOKEND_ALLOW_EXEC=1)");
  }

  ExecSourceOptions options;
  options.token_name = context.token_name;
  options.working_dir = context.base_dir;
  options.argv = read_command(reader, context.base_dir);
  options.timeout_ms = reader.duration_ms("timeout", 30'000, 1'000, 120'000);
  options.reexec_interval_ms =
      reader.duration_ms("reexec_interval", 5 * 60'000, 1'000, 24 * 3'600'000);
  options.refresh_ahead_ms =
      reader.duration_ms("refresh_ahead", kDefaultRefreshAheadMs, 0, 24 * 3'600'000);
  if (std::optional<std::string> file = reader.string("output_file", "a file path")) {
    if (file->empty() || fs::path(*file).filename().empty()) {
      reader.error("output_file", "got " + in_quotes(*file) + " (expected a file path)");
    } else {
      options.output_file = absolute_path(*file, context.base_dir);
    }
  }
  options.payload = read_payload_options(reader);

  options.env.push_back("PATH=" + std::string(kHookPath));
  options.env.push_back("WIF_TOKEND_TOKEN_NAME=" + context.token_name);
  options.env.push_back("WIF_TOKEND_TIMEOUT_MS=" + std::to_string(options.timeout_ms));
  const std::string compat = reader.choice("compat", {"none", "google", "kubernetes"}, "none");
  if (compat == "google") {
    read_google(reader, options.env);
  } else if (compat == "kubernetes") {
    read_kubernetes(reader, options.env);
  }
  reject_fields_of_other_compat(reader, compat);
  if (!options.output_file.empty()) {
    // Google's name for it, whatever the compat: the command writes its
    // response there for later runs to find (AIP-4117).
    options.env.push_back("GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE=" + options.output_file);
  }
  read_pass_env(reader, environ_lookup, options.env);

  std::vector<std::string_view> known = {"command", "timeout", "reexec_interval", "refresh_ahead",
                                         "output_file"};
  known.insert(known.end(), kPayloadFields.begin(), kPayloadFields.end());
  known.insert(known.end(), {"compat", "audience", "subject_token_type", "impersonated_email",
                             "api_version", "pass_env"});
  reader.reject_unknown(known);

  if (!reader.ok()) {
    return std::nullopt;
  }
  return options;
}

}  // namespace wif::sources
