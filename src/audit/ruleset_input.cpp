#include "audit/ruleset_input.hpp"

#include "audit/ruleset_text.hpp"

#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace callwall::audit {

namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

std::string real_path(const std::string& p) {
    char buf[PATH_MAX];
    return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

std::string working_dir() {
    char buf[PATH_MAX];
    return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string("/");
}

size_t line_of(std::string_view text, size_t offset) {
    return static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n')) + 1;
}

bool under(const std::string& path, const std::string& dir) {
    if (dir == "/") return true;
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// Opens `path` without blocking (a FIFO with no writer would block open()).
int open_nonblocking(const std::string& path, bool follow) {
    return ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
}

struct Expander {
    std::string dir;  // real path of the directory includes may read from
    size_t total = 0;  // bytes read so far, the ruleset's included
    std::vector<IncludedFile>* files = nullptr;
    std::string error;

    // `text` (read from `where`, for messages) with its includes rewritten
    // to the copies; their files read and expanded in turn.
    std::string expand(const std::string& text, const std::string& where, int depth) {
        const auto refs = find_includes(text);
        if (refs.empty()) return text;
        if (depth >= kMaxIncludeDepth) {
            fail(where, text, refs[0], "includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
            return {};
        }
        std::string out;
        size_t at = 0;
        for (const auto& ref : refs) {
            const std::string name = text.substr(ref.offset, ref.length);
            std::string copy = include(name, where, text, ref, depth);
            if (!error.empty()) return {};
            out.append(text, at, ref.offset - at);
            out += copy;
            at = ref.offset + ref.length;
        }
        out.append(text, at, std::string::npos);
        return out;
    }

    void fail(const std::string& where, const std::string& text, const IncludeRef& ref, const std::string& why) {
        if (!error.empty()) return;
        error = where + ":" + std::to_string(line_of(text, ref.offset)) + ": include \"" +
                text.substr(ref.offset, ref.length) + "\": " + why;
    }

    // One include: its files read, copied under inc/K/, and the name nft
    // is given instead (a glob becomes the copy directory's "*").
    std::string include(const std::string& name, const std::string& where, const std::string& text,
                        const IncludeRef& ref, int depth) {
        const bool glob_pattern = name.find_first_of("*?[") != std::string::npos;
        const std::string full = !name.empty() && name[0] == '/' ? name : dir + "/" + name;
        std::vector<std::string> paths;
        if (glob_pattern) {
            glob_t g{};
            if (::glob(full.c_str(), 0, nullptr, &g) == 0)
                for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
            ::globfree(&g);
        } else {
            paths.push_back(full);
        }
        const std::string k = std::to_string(files->size() + 1);
        for (size_t i = 0; i < paths.size(); ++i) {
            const std::string real = real_path(paths[i]);
            if (real.empty()) {
                fail(where, text, ref, paths[i] + ": " + std::strerror(errno));
                return {};
            }
            if (!under(real, dir) || under(real, "/proc") || under(real, "/sys") || under(real, "/dev")) {
                fail(where, text, ref,
                     "refused: " + real + " is outside the ruleset's directory " + dir +
                         " (an audit reads included files only from there)");
                return {};
            }
            struct stat st {};
            if (::stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
                fail(where, text, ref, "refused: " + real + " is not a regular file");
                return {};
            }
            // A ruleset is readable by everyone (nft -f reads it as any user
            // would); a file that is not is a secret (/etc/shadow beside a
            // ruleset kept in /etc), and nft's errors would leak its lines'
            // shape. Checked again on the open file below.
            if ((st.st_mode & S_IROTH) == 0) {
                fail(where, text, ref,
                     "refused: " + real + " is not world-readable (a ruleset is; this is kept secret)");
                return {};
            }
            if (files->size() >= kMaxIncludedFiles) {
                fail(where, text, ref, "more than " + std::to_string(kMaxIncludedFiles) + " included files");
                return {};
            }
            const int fd = open_nonblocking(real, false);
            std::string body, why;
            struct stat fst {};
            if (fd < 0 || ::fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) || (fst.st_mode & S_IROTH) == 0) {
                fail(where, text, ref,
                     fd >= 0 && (fst.st_mode & S_IROTH) == 0
                         ? "refused: " + real + " is not world-readable (a ruleset is; this is kept secret)"
                         : "cannot read " + real + ": " + std::strerror(errno));
                if (fd >= 0) ::close(fd);
                return {};
            }
            const bool read = read_bounded(fd, kMaxRulesetBytes - total, kReadTimeoutMs, body, why);
            ::close(fd);
            if (!read) {
                fail(where, text, ref, real + ": " + why);
                return {};
            }
            total += body.size();
            char seq[24];
            std::snprintf(seq, sizeof seq, "%04zu-", i + 1);
            const std::string base = std::filesystem::path(real).filename().string();
            const std::string copy = "inc/" + k + "/" + (glob_pattern ? std::string(seq) : std::string()) + base;
            const size_t slot = files->size();
            files->push_back(IncludedFile{real, copy, {}});
            std::string expanded = expand(body, real, depth + 1);
            if (!error.empty()) return {};
            (*files)[slot].text = std::move(expanded);
        }
        if (glob_pattern) return std::string(kSandboxDirToken) + "/inc/" + k + "/*";
        return std::string(kSandboxDirToken) + "/" + files->back().copy;
    }
};

void prepare(RulesetInput& in, bool nft) {
    if (!nft) {
        in.text = in.raw;
        return;
    }
    Expander x;
    x.dir = real_path(in.dir);
    if (x.dir.empty()) x.dir = in.dir;
    x.total = in.raw.size();
    x.files = &in.includes;
    in.text = x.expand(in.raw, in.path == "-" ? std::string("<stdin>") : in.path, 0);
    in.error = x.error;
}

}  // namespace

bool read_bounded(int fd, size_t max_bytes, int timeout_ms, std::string& out, std::string& error) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[65536];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int left = ms_left(deadline);
        const int rc = ::poll(&p, 1, left);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) {
            error = "nothing more to read after " + std::to_string(timeout_ms / 1000) + " s (" +
                    std::to_string(out.size()) + " bytes read): a FIFO or terminal no one writes to?";
            return false;
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) {
            error = std::string("read: ") + std::strerror(errno);
            return false;
        }
        if (n == 0) return true;
        if (out.size() + static_cast<size_t>(n) > max_bytes) {
            error = "more than " + std::to_string(max_bytes >> 20) + " MiB: not a ruleset";
            return false;
        }
        out.append(buf, static_cast<size_t>(n));
    }
}

std::vector<IncludeRef> find_includes(std::string_view t) {
    std::vector<IncludeRef> out;
    bool line_start = true;  // only whitespace (or a ';' or brace) since the last statement
    for (size_t i = 0; i < t.size();) {
        const char c = t[i];
        if (c == '#') {
            const size_t eol = t.find('\n', i);
            i = eol == std::string_view::npos ? t.size() : eol;
            continue;
        }
        if (c == '"') {
            const size_t close = t.find('"', i + 1);
            i = close == std::string_view::npos ? t.size() : close + 1;
            line_start = false;
            continue;
        }
        if (c == '\n' || c == ';' || c == '{' || c == '}') {
            line_start = true;
            ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            ++i;
            continue;
        }
        if (line_start && t.substr(i, 7) == "include" && i + 7 < t.size() && (t[i + 7] == ' ' || t[i + 7] == '\t')) {
            size_t q = i + 7;
            while (q < t.size() && (t[q] == ' ' || t[q] == '\t')) ++q;
            if (q < t.size() && t[q] == '"') {
                const size_t close = t.find('"', q + 1);
                if (close != std::string_view::npos) {
                    out.push_back({q + 1, close - q - 1});
                    i = close + 1;
                    line_start = false;
                    continue;
                }
            }
        }
        line_start = false;
        while (i < t.size() && std::string_view(" \t\r\n;{}\"#").find(t[i]) == std::string_view::npos) ++i;
    }
    return out;
}

// Whether an iptables-save rule line names an IPv6 address or ICMPv6
// (an ip6tables-save dump's), or an IPv4 address.
void address_family(std::string_view l, bool& v6, bool& v4) {
    if (l.find("ipv6-icmp") != std::string_view::npos || l.find("icmpv6") != std::string_view::npos) v6 = true;
    for (std::string_view opt : {" -s ", " -d ", " --source ", " --destination "}) {
        const size_t at = l.find(opt);
        if (at == std::string_view::npos) continue;
        std::string_view a = l.substr(at + opt.size());
        a = a.substr(0, a.find(' '));
        if (a.find(':') != std::string_view::npos) v6 = true;
        if (a.find('.') != std::string_view::npos && a.find(':') == std::string_view::npos) v4 = true;
    }
}

std::string format_hint(std::string_view text, bool nft, bool ip6) {
    bool save_table = false, save_rule = false, nft_word = false;
    bool v6 = false, v4 = false;
    int filters = 0;
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view l = text.substr(pos, eol - pos);
        pos = eol + 1;
        while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
        for (std::string_view t : {"*filter", "*nat", "*mangle", "*raw", "*security"})
            if (l == t) save_table = true;
        if (l == "*filter") ++filters;
        if (l.rfind("# Generated by ip6tables-save", 0) == 0) v6 = true;
        if (l.rfind("# Generated by iptables-save", 0) == 0) v4 = true;
        if (l.rfind("-A ", 0) == 0) address_family(l, v6, v4);
        if (l.rfind("-A ", 0) == 0 || (l.size() > 1 && l[0] == ':' && l.find(" [") != std::string_view::npos))
            save_rule = true;
        for (std::string_view w : {"table ", "flush ruleset", "chain ", "define ", "include \""})
            if (l.rfind(w, 0) == 0) nft_word = true;
    }
    // Both halves in one file: which lines are whose cannot be told safely
    // (ip6tables-save's header may be gone, a table may be in one half only).
    if (save_table && save_rule && !nft_word && v6 && (v4 || filters > 1))
        return "this file holds an iptables-save dump and an ip6tables-save dump one after the other: give "
               "each its own file, iptables-save's as --iptables FILE and ip6tables-save's as --ip6tables FILE";
    if (!nft && !ip6 && save_table && save_rule && !nft_word && v6)
        return "this is an ip6tables-save dump (IPv6 addresses or ICMPv6), not an iptables-save dump: give it "
               "as --ip6tables FILE";
    if (ip6 && save_table && save_rule && !nft_word && v4 && !v6)
        return "this is an iptables-save dump (IPv4 addresses), not an ip6tables-save dump: give it as "
               "--iptables FILE";
    if (nft && save_table && save_rule && !nft_word)
        return "this is an iptables-save dump ('*filter' and '-A' lines), not an nftables ruleset: "
               "give it as --iptables FILE";
    if (!nft && nft_word && !save_table)
        return "this is an nftables ruleset ('table' and 'chain' blocks), not an iptables-save dump: "
               "give it as --nft FILE";
    return {};
}

RulesetInput read_ruleset_input(const std::string& path, bool nft) {
    RulesetInput in;
    in.path = path;
    int fd = -1;
    bool regular = false;
    if (path == "-") {
        fd = ::dup(0);
    } else {
        fd = open_nonblocking(path, true);
        if (fd < 0) {
            in.error = "cannot read " + path + ": " + std::strerror(errno);
            return in;
        }
    }
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        in.error = "cannot read " + path + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return in;
    }
    regular = S_ISREG(st.st_mode);
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        in.error = "cannot read " + path + ": a directory";
        return in;
    }
    std::string why;
    const bool read = read_bounded(fd, kMaxRulesetBytes, kReadTimeoutMs, in.raw, why);
    ::close(fd);
    if (!read) {
        in.error = "cannot read " + (path == "-" ? std::string("standard input") : path) + ": " + why;
        return in;
    }
    // A file's includes come from its directory; a pipe's (`<(cat f)`,
    // standard input) from the working directory.
    if (regular) {
        const std::string real = real_path(path);
        const std::filesystem::path p(real.empty() ? path : real);
        in.dir = p.parent_path().string();
        in.name = p.filename().string();
    } else {
        in.dir = working_dir();
        in.name = nft ? "stdin.nft" : "stdin.rules";
    }
    if (in.dir.empty()) in.dir = working_dir();
    if (in.name.empty() || in.name == "." || in.name == "..") in.name = nft ? "ruleset.nft" : "ruleset.rules";
    prepare(in, nft);
    return in;
}

RulesetInput ruleset_from_text(std::string text, std::string name, bool nft, std::string dir) {
    RulesetInput in;
    in.path = name;
    in.name = std::filesystem::path(name).filename().string();
    if (in.name.empty()) in.name = nft ? "ruleset.nft" : "ruleset.rules";
    in.raw = std::move(text);
    in.dir = dir.empty() ? working_dir() : dir;
    prepare(in, nft);
    return in;
}

RulesetCopy::~RulesetCopy() {
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}
std::string RulesetCopy::resolve(std::string_view text) const {
    std::string out(text);
    for (size_t at = 0; (at = out.find(kSandboxDirToken, at)) != std::string::npos; at += dir_.size())
        out.replace(at, kSandboxDirToken.size(), dir_);
    return out;
}
bool RulesetCopy::put(const std::string& rel, std::string_view text, std::string& error) const {
    const std::filesystem::path path = std::filesystem::path(dir_) / rel;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const std::string body = resolve(text);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < body.size();) {
        const ssize_t n = ::write(fd, body.data() + off, body.size() - off);
        ok = n > 0;
        off += ok ? static_cast<size_t>(n) : 0;
    }
    if (fd >= 0) ::close(fd);
    if (!ok) error = "cannot write the ruleset's copy " + path.string() + ": " + std::strerror(errno);
    return ok;
}
bool RulesetCopy::write(const RulesetInput& in, std::string& error) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "callwall-audit-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        error = "cannot make a private directory for the ruleset in " +
                std::filesystem::temp_directory_path().string() + ": " + std::strerror(errno);
        return false;
    }
    dir_ = tmpl;
    main_ = dir_ + "/" + in.name;
    if (!put(in.name, in.text, error)) return false;
    for (const auto& f : in.includes)
        if (!put(f.copy, f.text, error)) return false;
    return true;
}
// A message of nft about the copies, as the user reads it: the paths
// they gave, and no line quoted from an included file (an include of a
// file that is not a ruleset must not print it).
std::string RulesetCopy::user_paths(std::string_view message, const RulesetInput& in) const {
    if (dir_.empty()) return std::string(message);
    std::string out;
    bool quoting_included = false;
    for (std::string_view line : split_lines(message)) {
        std::string l(line);
        const bool located = l.find(": Error:") != std::string::npos || l.find(": Warning:") != std::string::npos ||
                             l.rfind("In file included from", 0) == 0 || l.find(" from ") != std::string::npos;
        if (located) {
            quoting_included = false;
            for (const auto& f : in.includes) {
                const std::string copy = dir_ + "/" + f.copy;
                if (l.rfind(copy + ":", 0) == 0 && l.find(": Error:") != std::string::npos) quoting_included = true;
            }
        } else if (quoting_included) {
            continue;
        }
        for (const auto& f : in.includes) replace_all(l, dir_ + "/" + f.copy, f.original);
        replace_all(l, main_, in.path == "-" ? std::string("<stdin>") : in.path);
        out += l;
        out += '\n';
    }
    if (!message.ends_with('\n') && !out.empty()) out.pop_back();
    return out;
}
void RulesetCopy::replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
}

}  // namespace callwall::audit
