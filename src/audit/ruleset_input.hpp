// The ruleset file of an audit, read once by the caller (never by nft from
// the user's path): a file, a pipe (`--nft <(cat f)`, /dev/stdin) or
// standard input ("-"), bounded in size and in time, with the files its
// `include` statements name read the same way and only from the ruleset's
// own directory. The sandbox writes these bytes into a private directory of
// its own and hands nft that copy, with each include pointing at the copy
// of the file it named: nft never opens a path the user's ruleset chose.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace callwall::audit {

/// Everything read for one audit: the ruleset and the files it includes
/// together (a ruleset is a few MB at 20,000 rules; /dev/zero is not one).
inline constexpr size_t kMaxRulesetBytes = size_t{32} << 20;
/// How long reading may wait for more bytes (a FIFO no one writes to, a terminal).
inline constexpr int kReadTimeoutMs = 10000;
/// nft's own limit of nested includes.
inline constexpr int kMaxIncludeDepth = 16;
/// Files an include may name, after glob expansion (nftables.d/*.nft).
inline constexpr size_t kMaxIncludedFiles = 256;

/// A file an include named, as the sandbox writes it: `copy` is its path
/// relative to the sandbox's directory ("inc/3/lan.nft").
struct IncludedFile {
    std::string original;  ///< the path it was read from
    std::string copy;
    std::string text;  ///< its includes already rewritten to their copies
};

struct RulesetInput {
    std::string path;  ///< as the user wrote it ("-": standard input)
    std::string name;  ///< the file name the sandbox gives its copy ("stdin.nft" for a pipe)
    std::string text;  ///< the bytes read; includes rewritten to "@DIR@/inc/N/..." (the sandbox's directory)
    std::string raw;  ///< the bytes exactly as read
    std::string dir;  ///< the directory includes may read from (the file's, or the working directory for a pipe)
    std::vector<IncludedFile> includes;
    std::string error;  ///< why it cannot be used; empty: ok
    [[nodiscard]] bool ok() const { return error.empty(); }
};

/// The placeholder for the sandbox's directory in RulesetInput::text.
inline constexpr std::string_view kSandboxDirToken = "@CALLWALL_RULESET_DIR@";

/// Reads `path` ("-": standard input) once; `nft` false: an iptables-save
/// dump (no includes). Never blocks longer than kReadTimeoutMs without a byte.
[[nodiscard]] RulesetInput read_ruleset_input(const std::string& path, bool nft);

/// The same for bytes already in memory (a patched dump, a test's text).
[[nodiscard]] RulesetInput ruleset_from_text(std::string text, std::string name, bool nft, std::string dir = {});

/// Reads at most `max_bytes` from `fd`, waiting at most `timeout_ms` for
/// each chunk. False with `error` set when the limit or the wait is exceeded.
[[nodiscard]] bool read_bounded(int fd, size_t max_bytes, int timeout_ms, std::string& out, std::string& error);

/// When `text` is plainly the other format than the flag given (an
/// iptables-save dump under --nft, an nftables ruleset under --iptables,
/// ip6tables-save's dump under --iptables and iptables-save's under
/// --ip6tables, `ip6` true), or holds both dumps, what to say: which flag
/// reads it. Empty otherwise (nft's own lint speaks).
[[nodiscard]] std::string format_hint(std::string_view text, bool nft, bool ip6 = false);

/// The include statements of nft text: for each, the offset and length of
/// its quoted file name (without the quotes). Comments and other strings are skipped.
struct IncludeRef {
    size_t offset = 0, length = 0;
};
[[nodiscard]] std::vector<IncludeRef> find_includes(std::string_view text);

/// The ruleset as read, written into a directory of the audit's own (mode
/// 0700) with its includes pointing at their copies there: nft reads these
/// files and no other. Removed with this object.
class RulesetCopy {
public:
    RulesetCopy() = default;
    RulesetCopy(const RulesetCopy&) = delete;
    RulesetCopy& operator=(const RulesetCopy&) = delete;
    ~RulesetCopy();
    /// Writes `in` (main file and includes); false with `error` set when it cannot.
    bool write(const RulesetInput& in, std::string& error);
    /// The main file's copy.
    [[nodiscard]] const std::string& main() const { return main_; }
    /// A message of nft about the copies, as the user reads it: the paths
    /// they gave, and no line quoted from an included file.
    [[nodiscard]] std::string user_paths(std::string_view message, const RulesetInput& in) const;

private:
    [[nodiscard]] std::string resolve(std::string_view text) const;
    bool put(const std::string& rel, std::string_view text, std::string& error) const;
    static void replace_all(std::string& s, const std::string& from, const std::string& to);
    std::string dir_, main_;
};

}  // namespace callwall::audit
