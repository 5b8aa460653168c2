// The sandbox of an audit, as the forked child builds it (replay.cpp runs
// the probes): user and network namespaces (or network namespaces as root),
// a router namespace with veths to a client and a server namespace held by
// file descriptors, and the ruleset loaded into the router with a tracing
// table in front. Private to src/audit.
#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "audit/replay.hpp"
#include "audit/ruleset_text.hpp"

namespace callwall::audit::sandbox {

inline constexpr std::string_view kTraceTable = "callwall_audit_trace";
inline constexpr const char* kRouterOutside = "100.64.77.1";
inline constexpr const char* kServerLink = "100.64.77.2";
inline constexpr const char* kRouterOutside6 = "fd64:77::1";
inline constexpr const char* kServerLink6 = "fd64:77::2";

struct Namespaces {
    int router = -1, client = -1, server = -1;
};

/// What a helper that reads the user's ruleset (nft -c -f, nft -f,
/// iptables-nft-restore) may see: a mount namespace of its own whose root
/// is an empty tmpfs holding the system's programs and libraries (/usr and
/// the links or directories beside it), the few /etc files they read, and
/// the ruleset's directory (the audit's private copy): no /home, /root,
/// /proc, /dev or other /etc file, whatever an include names.
struct Confinement {
    std::string root;  ///< an empty directory the tmpfs is mounted on (made by prepare_confinement)
    std::string dir;  ///< the ruleset's directory, shown at the same path
    std::string tool_dir;  ///< CALLWALL_AUDIT_TOOL_DIR, when set, shown too
    bool usable = false;  ///< a trial helper ran confined
    std::string why;  ///< when not usable: why not
};

/// Makes the root directory and tries a confined helper (`true`); `why`
/// says what failed when it cannot be used (the helpers then run
/// unconfined, and the run's notes say so).
void prepare_confinement(const std::string& ruleset_dir, Confinement& c);
/// Removes the root directory (empty outside the helpers' namespaces).
void remove_confinement(Confinement& c);
/// In a forked child: the mount namespace, the tmpfs root, the binds,
/// chroot. False (with `why`) when a step is refused.
bool enter_confinement(const Confinement& c, std::string& why);

/// Starts `args` in namespace `ns` (-1: the router's), stdout+stderr into a
/// pipe; confined (when given and usable) to what `confine` shows.
pid_t spawn(int ns, std::vector<std::string> args, int& out_fd, int in_fd = -1, const Confinement* confine = nullptr);

/// How long one helper (nft, ip, iptables-nft-restore) may take before it
/// is killed: loading a 20,000-rule ruleset takes a few seconds.
inline constexpr int kHelperTimeoutMs = 60000;

/// Runs a command to its end, at most `timeout_ms`; returns its exit status
/// (-1: not run, or killed for taking too long: `out` then says so), output in `out`.
int run(int ns, std::vector<std::string> args, std::string& out, std::string_view input = {},
        int timeout_ms = kHelperTimeoutMs, const Confinement* confine = nullptr);

/// Writes `text` to an existing file (a /proc setting); false when refused.
bool write_file(const char* path, const std::string& text);

/// Enters new user and network namespaces (network only when user namespaces are refused and we are root).
bool enter_namespaces(bool user_namespace, std::string& mode, std::string& error);

/// Makes the client and server namespaces beside the router's.
bool make_peer_namespaces(Namespaces& ns, std::string& error);

/// Joins them with veths named as the ruleset expects, addresses and routes;
/// IPv6 beside IPv4 where the kernel has it (`ipv6_unavailable` says why not).
bool wire(const SandboxSpec& spec, const Namespaces& ns, std::string& error, std::string& ipv6_unavailable);

/// Lints and loads the ruleset (nft or an iptables dump), lists it, adds the
/// tracing table. The helpers that read the ruleset's files run confined to
/// its directory; when they cannot be, r.mode says so.
bool load_ruleset(const SandboxSpec& spec, ReplayOutput& r, IptablesRules& names);

}  // namespace callwall::audit::sandbox
