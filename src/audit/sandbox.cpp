// The sandbox of an audit: the namespaces, their wiring, and the ruleset
// loaded into the router (sandbox.hpp). Runs in the forked child only.
#include "audit/sandbox.hpp"

#include "audit/kernel_features.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

namespace {

// `path` (absolute) made as directories under `root`.
bool make_dirs(const std::string& root, const std::string& path) {
    std::string at = root;
    for (size_t i = 1; i <= path.size(); ++i) {
        if (i < path.size() && path[i] != '/') continue;
        at = root + path.substr(0, i);
        if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
    return true;
}

// Shows `from` (a file or a directory) at the same path under `root`,
// read-only where the kernel lets a namespace make it so.
bool show(const std::string& root, const std::string& from, std::string& why) {
    struct stat st {};
    if (::stat(from.c_str(), &st) != 0) return true;  // not on this system: nothing to show
    const std::string to = root + from;
    const size_t slash = from.rfind('/');
    if (!make_dirs(root, slash == 0 ? std::string() : from.substr(0, slash))) {
        why = "mkdir " + to + ": " + std::strerror(errno);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        if (::mkdir(to.c_str(), 0755) != 0 && errno != EEXIST) {
            why = "mkdir " + to + ": " + std::strerror(errno);
            return false;
        }
    } else {
        const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            why = "create " + to + ": " + std::strerror(errno);
            return false;
        }
        ::close(fd);
    }
    if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        why = "bind " + from + ": " + std::strerror(errno);
        return false;
    }
    ::mount(nullptr, to.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr);
    return true;
}

}  // namespace

void prepare_confinement(const std::string& ruleset_dir, Confinement& c) {
    c.dir = ruleset_dir;
    if (const char* t = std::getenv("CALLWALL_AUDIT_TOOL_DIR"); t && *t) c.tool_dir = t;
    // Showing "/" (or a relative path) would show everything: not a confinement.
    for (const std::string* d : {&c.dir, &c.tool_dir})
        if (!d->empty() && (d->front() != '/' || d->find_first_not_of('/') == std::string::npos)) {
            c.why = "'" + *d + "' is not a directory of its own";
            return;
        }
    if (c.dir.empty()) {
        c.why = "no ruleset directory";
        return;
    }
    std::string tmpl = "/tmp/callwall-nft-root-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
        c.why = std::string("cannot make its root directory: ") + std::strerror(errno);
        return;
    }
    c.root = tmpl;
    // A trial: `true` run confined, so that a kernel or container refusing
    // mount namespaces is found here, not as a failing nft.
    std::string out;
    const int rc = run(-1, {"true"}, out, {}, 10000, &c);
    c.usable = rc == 0;
    if (!c.usable) {
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
        c.why = out.empty() ? "the trial helper exited with " + std::to_string(rc) : out;
    }
}

void remove_confinement(Confinement& c) {
    if (!c.root.empty()) ::rmdir(c.root.c_str());
    c.root.clear();
    c.usable = false;
}

bool enter_confinement(const Confinement& c, std::string& why) {
    if (c.root.empty()) {
        why = "no root directory";
        return false;
    }
    if (::unshare(CLONE_NEWNS) != 0) {
        why = std::string("mount namespace refused: ") + std::strerror(errno);
        return false;
    }
    // Nothing mounted here reaches the namespace we came from.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        why = std::string("cannot make the mounts private: ") + std::strerror(errno);
        return false;
    }
    if (::mount("callwall-nft", c.root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) {
        why = std::string("tmpfs refused: ") + std::strerror(errno);
        return false;
    }
    // The programs and their libraries: /usr, and beside it the links
    // (merged /usr) or directories of /bin, /sbin and /lib*.
    if (!show(c.root, "/usr", why)) return false;
    for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
        struct stat st {};
        if (::lstat(top, &st) != 0) continue;
        if (S_ISLNK(st.st_mode)) {
            char target[256];
            const ssize_t n = ::readlink(top, target, sizeof target - 1);
            if (n <= 0) continue;
            target[n] = '\0';
            if (::symlink(target, (c.root + top).c_str()) != 0) {
                why = std::string("symlink ") + top + ": " + std::strerror(errno);
                return false;
            }
        } else if (!show(c.root, top, why)) {
            return false;
        }
    }
    // What the loader and nft read of /etc: the library cache, protocol and
    // service names, iproute2's tables.
    for (const char* f : {"/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/protocols", "/etc/services",
                          "/etc/nsswitch.conf", "/etc/iproute2", "/etc/ethertypes"})
        if (!show(c.root, f, why)) return false;
    if (!show(c.root, c.dir, why)) return false;
    if (!c.tool_dir.empty() && !show(c.root, c.tool_dir, why)) return false;
    if (::chroot(c.root.c_str()) != 0 || ::chdir(c.dir.c_str()) != 0) {
        why = std::string("chroot: ") + std::strerror(errno);
        return false;
    }
    return true;
}

// Starts `args` in namespace `ns` (-1: the router's), stdout+stderr into a pipe.
pid_t spawn(int ns, std::vector<std::string> args, int& out_fd, int in_fd, const Confinement* confine) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (ns >= 0 && ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
        ::dup2(p[1], 1);
        ::dup2(p[1], 2);
        if (in_fd >= 0) ::dup2(in_fd, 0);
        if (confine && !confine->root.empty()) {
            std::string why;
            if (!enter_confinement(*confine, why)) {
                std::fprintf(stderr, "%s\n", why.c_str());
                ::_exit(125);
            }
        }
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
int run(int ns, std::vector<std::string> args, std::string& out, std::string_view input, int timeout_ms,
        const Confinement* confine) {
    int in[2] = {-1, -1};
    if (!input.empty() && ::pipe2(in, O_CLOEXEC) != 0) return -1;
    int fd = -1;
    std::string what;
    for (const auto& a : args) what += (what.empty() ? "" : " ") + a;
    const pid_t pid = spawn(ns, std::move(args), fd, in[0], confine);
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

namespace {

// Fixed link-layer addresses, so that each side's IPv6 neighbours can be
// written down (static entries) instead of discovered.
constexpr const char* kMacInside = "02:00:00:77:00:01";  // the router's inside veth
constexpr const char* kMacClient = "02:00:00:77:00:02";  // cw-c
constexpr const char* kMacOutside = "02:00:00:77:00:03";  // the router's outside veth
constexpr const char* kMacServer = "02:00:00:77:00:04";  // cw-s

// IPv6 beside IPv4: addresses without duplicate address detection (usable
// at once), routes, and static neighbours. Neighbour discovery is ICMPv6,
// which an ip6tables ruleset with policy DROP and no ICMPv6 accept would
// stop between the namespaces although the router it describes (whose
// INPUT/OUTPUT chains rarely drop it on the LAN) would not: with permanent
// entries no packet of it is needed, and the probes meet only the
// ruleset's verdicts on their own packets.
bool wire_ipv6(const SandboxSpec& spec, const Namespaces& ns, std::string& why) {
    if (::access("/proc/sys/net/ipv6", F_OK) != 0) {
        why = "the kernel has no IPv6 (no /proc/sys/net/ipv6)";
        return false;
    }
    const std::string len6 = std::to_string(spec.inside_prefix_len6);
    std::string router = "addr add " + spec.router_inside6 + "/" + len6 + " dev " + spec.inside + " nodad\n" +
                         "addr add " + kRouterOutside6 + "/64 dev " + spec.outside + " nodad\n" + "neigh add " +
                         spec.client_addr6 + " lladdr " + kMacClient + " dev " + spec.inside + " nud permanent\n" +
                         "neigh add " + kServerLink6 + " lladdr " + kMacServer + " dev " + spec.outside +
                         " nud permanent\n" + "route add ::/0 via " + kServerLink6 + "\n";
    const std::string client = "addr add " + spec.client_addr6 + "/" + len6 + " dev cw-c nodad\nneigh add " +
                               spec.router_inside6 + " lladdr " + kMacInside +
                               " dev cw-c nud permanent\nroute add ::/0 via " + spec.router_inside6 + "\n";
    std::string server = "addr add " + std::string(kServerLink6) + "/64 dev cw-s nodad\n";
    for (const auto& a : spec.server_addrs)
        if (a.find(':') != std::string::npos) server += "addr add " + a + "/128 dev cw-s nodad\n";
    server += "neigh add " + std::string(kRouterOutside6) + " lladdr " + kMacOutside +
              " dev cw-s nud permanent\nroute add ::/0 via " + kRouterOutside6 + "\n";
    std::string out;
    if (run(-1, {"ip", "-batch", "-"}, out, router) != 0 || run(ns.client, {"ip", "-batch", "-"}, out, client) != 0 ||
        run(ns.server, {"ip", "-batch", "-"}, out, server) != 0) {
        while (!out.empty() && out.back() == '\n') out.pop_back();
        why = "IPv6 could not be wired in the sandbox: " + out;
        return false;
    }
    if (!write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1\n")) {
        why = std::string("cannot enable IPv6 forwarding in the router namespace: ") + std::strerror(errno);
        return false;
    }
    // As for IPv4 below: every reject answered, not rate-limited into a drop
    // (no type in the mask: the global limit of 50 at once is not applied).
    write_file("/proc/sys/net/ipv6/icmp/ratemask", "\n");
    write_file("/proc/sys/net/ipv6/icmp/ratelimit", "0\n");
    return true;
}

}  // namespace

bool wire(const SandboxSpec& spec, const Namespaces& ns, std::string& error, std::string& ipv6_unavailable) {
    const std::string c = std::to_string(ns.client), s = std::to_string(ns.server);
    const std::string router =
        "link set lo up\n"
        "link add " +
        spec.inside + " address " + kMacInside + " type veth peer name cw-c address " + kMacClient +
        "\n"
        "link set cw-c netns /proc/self/fd/" +
        c +
        "\n"
        "link add " +
        spec.outside + " address " + kMacOutside + " type veth peer name cw-s address " + kMacServer +
        "\n"
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
    // Port forwards: the public addresses their rules name, on the router's
    // outside; the inside servers they forward to, in the client's namespace
    // (routed to it where the inside network does not hold them).
    std::string extra_router, extra_client;
    for (const auto& a : spec.public_addrs) extra_router += "addr add " + a + "/32 dev " + spec.outside + "\n";
    for (const auto& a : spec.inside_servers) {
        if (a == spec.client_addr) continue;
        extra_client += "addr add " + a + "/32 dev cw-c\n";
        extra_router += "route add " + a + "/32 dev " + spec.inside + "\n";
    }
    for (const auto& a : spec.server_addrs)
        if (a.find(':') == std::string::npos) server += "addr add " + a + "/32 dev cw-s\n";
    server += "link set cw-s up\nroute add default via " + std::string(kRouterOutside) + "\n";
    std::string out;
    if (run(-1, {"ip", "-batch", "-"}, out, router) != 0 || run(ns.client, {"ip", "-batch", "-"}, out, client) != 0 ||
        run(ns.server, {"ip", "-batch", "-"}, out, server) != 0 ||
        (!extra_client.empty() && run(ns.client, {"ip", "-batch", "-"}, out, extra_client) != 0) ||
        (!extra_router.empty() && run(-1, {"ip", "-batch", "-"}, out, extra_router) != 0)) {
        error = "cannot wire the sandbox: " + out;
        return false;
    }
    if (!wire_ipv6(spec, ns, ipv6_unavailable) && ipv6_unavailable.empty())
        ipv6_unavailable = "IPv6 could not be wired in the sandbox";
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
    // A set the dump matches (-m set --match-set NAME) that the sandbox does not hold.
    const std::string sets = out.find("Set ") != std::string::npos && out.find("doesn't exist") != std::string::npos
                                 ? " (the dump matches ipsets: give their 'ipset save' output with --ipset FILE)"
                                 : "";
    if (what.empty() || line.empty())
        return "iptables-nft-restore --test " + path + " refused the dump:\n" + out + sets;
    return path + ":" + line + ": " + what + " (iptables-nft-restore --test)" + sets;
}

// An iptables-save dump: `iptables-nft-restore --test` says what is wrong
// and where ("line 7 failed"), then it is loaded as nftables rules (so the
// trace sees them), and the dump as loaded is kept to name rules by their
// iptables line.
// An iptables-save (or ip6tables-save) dump: `iptables-nft-restore --test`
// says what is wrong and where ("line 7 failed"), then it is loaded as
// nftables rules (so the trace sees them), and the dump as loaded is kept
// to name rules by their iptables line. ip6tables-save's dump beside it
// (spec.input6) is read from standard input the same way.
static bool restore_dump(const SandboxSpec& spec, ReplayOutput& r, bool ip6, const std::string& path,
                         std::string_view input) {
    const std::string tool = ip6 ? "ip6tables-nft-restore" : "iptables-nft-restore";
    std::vector<std::string> test{tool, "--test"}, load{tool};
    if (input.empty()) {
        test.push_back(path);
        load.push_back(path);
    }
    std::string out;
    if (run(-1, test, out, input, spec.helper_timeout_ms) != 0) {
        // netlink's buffer refusing a large batch is the sandbox's limit, not
        // the dump's fault: as root the audit retries outside a user namespace
        // (where the socket's buffer can be forced), as it does for nft.
        if (out.find("Message too long") != std::string::npos) {
            r.too_large = true;
            r.error = tool + " " + path + ": netlink refused the batch (Message too long) ";
            return false;
        }
        r.lint_failed = true;
        r.error = iptables_lint_error(path, out);
        if (out.find("cannot run") != std::string::npos) {
            r.lint_failed = false;
            r.error = tool + " is not installed (Debian's iptables package): " + out;
        }
        return false;
    }
    out.clear();
    if (run(-1, load, out, input, spec.helper_timeout_ms) != 0) {
        r.too_large = out.find("Message too long") != std::string::npos;
        r.error = tool + " " + path + " failed in the sandbox:\n" + out;
        return false;
    }
    return true;
}

// The ipsets the dumps match, from `ipset save` output, into the router's
// namespace (ipsets are per network namespace) before the dumps load.
static bool restore_ipsets(const SandboxSpec& spec, ReplayOutput& r) {
    if (spec.ipsets.empty()) return true;
    std::string out;
    if (run(-1, {"ipset", "restore"}, out, spec.ipsets, spec.helper_timeout_ms) == 0) return true;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (out.find("cannot run") != std::string::npos) {
        r.error = "ipset is not installed (Debian's ipset package), needed for --ipset: " + out;
        return false;
    }
    r.lint_failed = out.find("Kernel error") == std::string::npos && out.find("ernel support") == std::string::npos;
    r.error = spec.ipset_path + ": ipset restore refused the sets: " + out.substr(0, out.find('\n')) +
              (r.lint_failed ? "" : " (the sandbox's kernel lacks ipset support)");
    return false;
}

static bool load_iptables(const SandboxSpec& spec, ReplayOutput& r, IptablesRules& names) {
    if (!restore_ipsets(spec, r)) return false;
    if (!restore_dump(spec, r, spec.ip6tables_main, spec.ruleset_path, {})) return false;
    const bool v6_beside = !spec.input6.raw.empty();
    if (v6_beside && !restore_dump(spec, r, true, spec.input6.path, spec.input6.raw)) return false;
    std::string with_handles;
    const bool v4 = !spec.ip6tables_main, v6 = spec.ip6tables_main || v6_beside;
    if (run(-1, {"nft", "list", "ruleset"}, r.listed) != 0 ||
        run(-1, {"nft", "-a", "list", "ruleset"}, with_handles) != 0 ||
        (v4 && run(-1, {"iptables-nft-save"}, r.iptables_save) != 0) ||
        (v6 && run(-1, {"ip6tables-nft-save"}, r.ip6tables_save) != 0)) {
        r.error = "cannot list the loaded dump: " + r.listed + with_handles + r.iptables_save + r.ip6tables_save;
        return false;
    }
    names = iptables_rules(with_handles, r.iptables_save);
    names.merge(iptables_rules(with_handles, r.ip6tables_save, "ip6"));
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

// The private copy of the ruleset (its directory: the main file and its
// includes) with its flowtables left out (without_flowtables).
static bool leave_out_flowtables(const std::string& main_path) {
    const std::filesystem::path dir = std::filesystem::path(main_path).parent_path();
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::stringstream text;
        {
            std::ifstream in(it->path());
            text << in.rdbuf();
        }
        std::ofstream out(it->path(), std::ios::trunc);
        out << without_flowtables(text.str());
        if (!out) return false;
    }
    return !ec;
}

// nft refused the ruleset: when what it refused are kernel features the
// sandbox lacks, either the flowtables are left out (true: lint again) or
// the refusal is the sandbox's (false, r.error naming the features; exit
// 6). False with r.error empty: the ruleset's own error.
static bool without_missing_features(const SandboxSpec& spec, const std::string& out, ReplayOutput& r, bool& left_out) {
    const auto missing = missing_features(out);
    if (missing.empty()) return false;
    const bool all_optional =
        std::all_of(missing.begin(), missing.end(), [](const MissingFeature& f) { return f.can_leave_out; });
    if (all_optional && !left_out && leave_out_flowtables(spec.ruleset_path)) {
        left_out = true;
        r.mode += "; the sandbox's kernel has no " + features_text(missing) +
                  ": audited without the ruleset's flowtables (they only offload flows conntrack already "
                  "established, which the replay's verdicts do not depend on; rule handles unchanged)";
        return true;
    }
    r.error = "the sandbox's kernel lacks " + features_text(missing) +
              ", which the ruleset uses: nft cannot load it here (not a fault of the ruleset; audit it on a kernel "
              "with that support)";
    return false;
}

bool load_ruleset(const SandboxSpec& spec, ReplayOutput& r, IptablesRules& names) {
    if (!nftables_usable(r)) return false;
    // An iptables dump has no includes: iptables-nft-restore reads the one file.
    if (spec.iptables) return load_iptables(spec, r, names) && has_filter_chain(spec, r) && add_trace_table(r);
    // nft follows `include`s itself: it reads the ruleset confined to its directory.
    Confinement confine;
    const size_t slash = spec.ruleset_path.rfind('/');
    prepare_confinement(
        slash == std::string::npos || slash == 0 ? std::string("/") : spec.ruleset_path.substr(0, slash), confine);
    struct Removed {
        Confinement& c;
        ~Removed() { remove_confinement(c); }
    } removed{confine};
    if (!confine.usable) r.mode += "; nft read the ruleset without a mount namespace of its own (" + confine.why + ")";
    const Confinement* conf = confine.usable ? &confine : nullptr;
    std::string out;
    for (bool left_out = false;;) {
        out.clear();
        if (run(-1, {"nft", "-c", "-f", spec.ruleset_path}, out, {}, spec.helper_timeout_ms, conf) == 0) break;
        if (without_missing_features(spec, out, r, left_out)) continue;
        if (!r.error.empty()) return false;  // a feature the kernel lacks: the sandbox's limit
        r.too_large = out.find("Message too long") != std::string::npos;
        r.lint_failed = !r.too_large;
        r.error = "nft -c -f " + spec.ruleset_path + " refused the ruleset:\n" + out;
        return false;
    }
    out.clear();
    if (run(-1, {"nft", "-f", spec.ruleset_path}, out, {}, spec.helper_timeout_ms, conf) != 0) {
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
