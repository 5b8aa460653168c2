// The sandbox of an audit: the namespaces, their wiring, and the ruleset
// loaded into the router (sandbox.hpp). Runs in the forked child only.
#include "audit/sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace callwall::audit::sandbox {

// The tools (nft, ip, iptables-nft-*) come from the system's directories;
// CALLWALL_AUDIT_TOOL_DIR, when set, is looked in first (the tests put a
// failing nft there to play a kernel without nf_tables).
[[noreturn]] static void exec_tool(const std::string& tool, std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (const char* first = std::getenv("CALLWALL_AUDIT_TOOL_DIR"); first && *first)
        ::execv((std::string(first) + "/" + tool).c_str(), argv.data());
    for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
        const std::string path = dir + tool;
        ::execv(path.c_str(), argv.data());
    }
    ::execvp(tool.c_str(), argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", tool.c_str(), std::strerror(errno));
    ::_exit(127);
}

// Starts `args` in namespace `ns` (-1: the router's), stdout+stderr into a pipe.
pid_t spawn(int ns, std::vector<std::string> args, int& out_fd, int in_fd) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (ns >= 0 && ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
        ::dup2(p[1], 1);
        ::dup2(p[1], 2);
        if (in_fd >= 0) ::dup2(in_fd, 0);
        const std::string tool = args[0];
        exec_tool(tool, args);
    }
    ::close(p[1]);
    out_fd = p[0];
    return pid;
}

// Runs a command to its end, at most `timeout_ms`; returns its exit status
// (-1: not run or killed), output in `out`. A helper that does not finish
// in time is killed (by its PID) and `out` ends with a line saying which.
int run(int ns, std::vector<std::string> args, std::string& out, std::string_view input, int timeout_ms) {
    int in[2] = {-1, -1};
    if (!input.empty() && ::pipe2(in, O_CLOEXEC) != 0) return -1;
    int fd = -1;
    std::string what;
    for (const auto& a : args) what += (what.empty() ? "" : " ") + a;
    const pid_t pid = spawn(ns, std::move(args), fd, in[0]);
    if (in[0] >= 0) ::close(in[0]);
    if (pid < 0) {
        if (in[1] >= 0) ::close(in[1]);
        return -1;
    }
    if (in[1] >= 0) ::fcntl(in[1], F_SETFL, O_NONBLOCK);
    const auto start = std::chrono::steady_clock::now();
    size_t written = 0;
    bool timed_out = false;
    char buf[65536];
    for (;;) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        const int left = timeout_ms - static_cast<int>(ms.count());
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd p[2] = {{fd, POLLIN, 0}, {in[1], POLLOUT, 0}};
        const nfds_t n = in[1] >= 0 ? 2 : 1;
        if (::poll(p, n, left) <= 0) continue;
        if (n == 2 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t w = ::write(in[1], input.data() + written, input.size() - written);
            if (w > 0) written += static_cast<size_t>(w);
            if (w < 0 && errno != EAGAIN) written = input.size();
            if (written == input.size()) {
                ::close(in[1]);
                in[1] = -1;
            }
        }
        if (p[0].revents) {
            const ssize_t r = ::read(fd, buf, sizeof buf);
            if (r <= 0) break;
            out.append(buf, static_cast<size_t>(r));
        }
    }
    if (in[1] >= 0) ::close(in[1]);
    ::close(fd);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (timed_out) {
        out += "\n`" + what + "` did not finish within " + std::to_string(timeout_ms / 1000) + " s (killed)\n";
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool write_file(const char* path, const std::string& text) {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

bool enter_namespaces(bool user_namespace, std::string& mode, std::string& error) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (user_namespace && ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
        write_file("/proc/self/setgroups", "deny");
        if (!write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
            !write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n")) {
            error = std::string("cannot map our user into the new user namespace: ") + std::strerror(errno);
            return false;
        }
        mode = "user and network namespaces (unprivileged)";
        return true;
    }
    const int user_errno = user_namespace ? errno : 0;
    if (::unshare(CLONE_NEWNET) == 0) {
        mode = user_namespace ? std::string("network namespaces as root (user namespaces refused: ") +
                                    std::strerror(user_errno) + ")"
                              : std::string("network namespaces as root");
        return true;
    }
    error = std::string("cannot make a sandbox: user namespaces refused (") + std::strerror(user_errno) +
            "; see /proc/sys/user/max_user_namespaces and kernel.unprivileged_userns_clone) and network "
            "namespaces need root (" +
            std::strerror(errno) + ")";
    return false;
}

bool make_peer_namespaces(Namespaces& ns, std::string& error) {
    // Not O_CLOEXEC: `ip link set DEV netns /proc/self/fd/N` reads them.
    ns.router = ::open("/proc/self/ns/net", O_RDONLY);
    for (int* slot : {&ns.client, &ns.server}) {
        if (::unshare(CLONE_NEWNET) != 0) {
            error = std::string("cannot make a network namespace: ") + std::strerror(errno);
            return false;
        }
        *slot = ::open("/proc/self/ns/net", O_RDONLY);
        if (::setns(ns.router, CLONE_NEWNET) != 0) {
            error = std::string("cannot return to the router namespace: ") + std::strerror(errno);
            return false;
        }
    }
    return ns.router >= 0 && ns.client >= 0 && ns.server >= 0;
}

bool wire(const SandboxSpec& spec, const Namespaces& ns, std::string& error) {
    const std::string c = std::to_string(ns.client), s = std::to_string(ns.server);
    const std::string router =
        "link set lo up\n"
        "link add " +
        spec.inside +
        " type veth peer name cw-c\n"
        "link set cw-c netns /proc/self/fd/" +
        c +
        "\n"
        "link add " +
        spec.outside +
        " type veth peer name cw-s\n"
        "link set cw-s netns /proc/self/fd/" +
        s +
        "\n"
        "addr add " +
        spec.router_inside + "/" + std::to_string(spec.inside_prefix_len) + " dev " + spec.inside +
        "\n"
        "addr add " +
        kRouterOutside + "/30 dev " + spec.outside +
        "\n"
        "link set " +
        spec.inside + " up\nlink set " + spec.outside +
        " up\n"
        "route add default via " +
        kServerLink + "\n";
    const std::string client = "link set lo up\naddr add " + spec.client_addr + "/" +
                               std::to_string(spec.inside_prefix_len) +
                               " dev cw-c\nlink set cw-c up\n"
                               "route add default via " +
                               spec.router_inside + "\n";
    std::string server = "link set lo up\naddr add " + std::string(kServerLink) + "/30 dev cw-s\n";
    for (const auto& a : spec.server_addrs) server += "addr add " + a + "/32 dev cw-s\n";
    server += "link set cw-s up\nroute add default via " + std::string(kRouterOutside) + "\n";
    std::string out;
    if (run(-1, {"ip", "-batch", "-"}, out, router) != 0 || run(ns.client, {"ip", "-batch", "-"}, out, client) != 0 ||
        run(ns.server, {"ip", "-batch", "-"}, out, server) != 0) {
        error = "cannot wire the sandbox: " + out;
        return false;
    }
    if (!write_file("/proc/sys/net/ipv4/ip_forward", "1\n")) {
        error = std::string("cannot enable forwarding in the router namespace: ") + std::strerror(errno);
        return false;
    }
    // The router answers every reject: ICMP errors are rate-limited by default
    // (per destination and globally, 1000/s with a burst of 50), which would
    // turn most rejects of a large audit into silent drops. Per namespace
    // since Linux 4.x/6.x; where the write is refused the limits stay.
    write_file("/proc/sys/net/ipv4/icmp_ratemask", "0\n");
    write_file("/proc/sys/net/ipv4/icmp_ratelimit", "0\n");
    write_file("/proc/sys/net/ipv4/icmp_msgs_per_sec", "1000000\n");
    return true;
}

// iptables-nft-restore's complaint as one line, "FILE:LINE: what", when it
// says both (its message, then "Error occurred at line: N"); else all of it.
static std::string iptables_lint_error(const std::string& path, const std::string& out) {
    std::string what, line;
    for (const std::string_view l : split_lines(out)) {
        constexpr std::string_view kAt = "Error occurred at line: ";
        if (l.rfind(kAt, 0) == 0)
            line = l.substr(kAt.size());
        else if (what.empty() && l.rfind("iptables-nft-restore", 0) == 0 && l.find("): ") != std::string::npos)
            what = l.substr(l.find("): ") + 3);
        else if (what.empty() && !l.empty() && l.rfind("Try `", 0) != 0)
            what = l;
    }
    if (what.empty() || line.empty()) return "iptables-nft-restore --test " + path + " refused the dump:\n" + out;
    return path + ":" + line + ": " + what + " (iptables-nft-restore --test)";
}

// An iptables-save dump: `iptables-nft-restore --test` says what is wrong
// and where ("line 7 failed"), then it is loaded as nftables rules (so the
// trace sees them), and the dump as loaded is kept to name rules by their
// iptables line.
static bool load_iptables(const SandboxSpec& spec, ReplayOutput& r, IptablesRules& names) {
    std::string out;
    if (run(-1, {"iptables-nft-restore", "--test", spec.ruleset_path}, out, {}, spec.helper_timeout_ms) != 0) {
        r.lint_failed = true;
        r.error = iptables_lint_error(spec.ruleset_path, out);
        if (out.find("cannot run") != std::string::npos) {
            r.lint_failed = false;
            r.error = "iptables-nft-restore is not installed (Debian's iptables package): " + out;
        }
        return false;
    }
    out.clear();
    if (run(-1, {"iptables-nft-restore", spec.ruleset_path}, out, {}, spec.helper_timeout_ms) != 0) {
        r.error = "iptables-nft-restore " + spec.ruleset_path + " failed in the sandbox:\n" + out;
        return false;
    }
    std::string with_handles;
    if (run(-1, {"nft", "list", "ruleset"}, r.listed) != 0 ||
        run(-1, {"nft", "-a", "list", "ruleset"}, with_handles) != 0 ||
        run(-1, {"iptables-nft-save"}, r.iptables_save) != 0) {
        r.error = "cannot list the loaded dump: " + r.listed + with_handles + r.iptables_save;
        return false;
    }
    names = iptables_rules(with_handles, r.iptables_save);
    return true;
}

static bool add_trace_table(ReplayOutput& r) {
    const std::string trace = "table inet " + std::string(kTraceTable) +
                              " {\n chain trace_prerouting {\n"
                              "  type filter hook prerouting priority -1000; policy accept;\n"
                              "  meta nftrace set 1\n }\n}\n";
    std::string out;
    if (run(-1, {"nft", "-f", "-"}, out, trace) != 0) {
        r.error = "cannot add the tracing chain: " + out;
        return false;
    }
    return true;
}

// nf_tables must work in the sandbox before any ruleset can be judged: a
// kernel without it (or refusing it in a namespace) is the environment, not
// the ruleset, and is said so (not as a lint error).
static bool nftables_usable(ReplayOutput& r) {
    std::string out;
    if (run(-1, {"nft", "list", "ruleset"}, out) == 0) return true;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    r.error = "nftables cannot be used in the sandbox (nft list ruleset: " + out.substr(0, out.find('\n')) +
              "): nft is missing, or the kernel lacks nf_tables or refuses it in a namespace";
    return false;
}

// A ruleset with no base chain of type filter stops nothing: every probe
// would "pass" with no chain deciding. That is almost never the file the
// user meant (an empty pipe, the NAT half of a ruleset), so it is said and
// not audited.
static bool has_filter_chain(const SandboxSpec& spec, ReplayOutput& r) {
    const auto types = chain_types(r.listed);
    if (std::any_of(types.begin(), types.end(), [](const auto& t) { return t.second == "filter"; })) return true;
    r.no_filter = true;
    r.error = (spec.input.path == "-" ? std::string("standard input") : spec.input.path) + " (" +
              std::to_string(spec.input.raw.size()) +
              " bytes) loaded, but it has no filtering chain (no base chain of type filter): every packet would "
              "pass and no rule would decide; nothing to audit" +
              (spec.input.raw.empty() ? " (the file was empty: a pipe read twice, or an empty standard input?)" : "");
    return false;
}

bool load_ruleset(const SandboxSpec& spec, ReplayOutput& r, IptablesRules& names) {
    if (!nftables_usable(r)) return false;
    if (spec.iptables) return load_iptables(spec, r, names) && has_filter_chain(spec, r) && add_trace_table(r);
    std::string out;
    if (run(-1, {"nft", "-c", "-f", spec.ruleset_path}, out, {}, spec.helper_timeout_ms) != 0) {
        r.too_large = out.find("Message too long") != std::string::npos;
        r.lint_failed = !r.too_large;
        r.error = "nft -c -f " + spec.ruleset_path + " refused the ruleset:\n" + out;
        return false;
    }
    out.clear();
    if (run(-1, {"nft", "-f", spec.ruleset_path}, out, {}, spec.helper_timeout_ms) != 0) {
        r.too_large = out.find("Message too long") != std::string::npos;
        r.error = "nft -f " + spec.ruleset_path + " failed in the sandbox:\n" + out;
        return false;
    }
    if (run(-1, {"nft", "list", "ruleset"}, r.listed) != 0) {
        r.error = "nft list ruleset failed: " + r.listed;
        return false;
    }
    return has_filter_chain(spec, r) && add_trace_table(r);
}

}  // namespace callwall::audit::sandbox
