// Two network namespaces joined by a veth pair, made by a test for itself
// and removed after it, and a way to open a socket inside one of them. The
// live tests' fixtures (capture, LiveReader, fanout) stand on these.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "live/spawn.hpp"

namespace callwall::test {

/// Namespaces A and B and a veth pair between them, one end in each, both
/// up. Named after a prefix and this process's PID, so concurrent test
/// processes do not meet. Removed (namespaces, and with them the veth) when
/// destroyed.
class VethPair {
public:
    VethPair() = default;
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;
    ~VethPair() {
        if (!created_) return;
        run({"ip", "netns", "del", ns_a});
        run({"ip", "netns", "del", ns_b});
    }

    /// Makes namespaces `<ns_prefix>A<pid>` and `<ns_prefix>B<pid>` and veth
    /// `<if_prefix>a<pid>` (in A) to `<if_prefix>b<pid>` (in B); with
    /// `no_dad`, duplicate address detection is off in both first (a fresh
    /// link's tentative link-local address can make neighbour discovery
    /// fail and drop the first IPv6 datagrams). "" when made; otherwise what
    /// failed, and skipped() says whether the machine cannot make
    /// namespaces at all (a container, a chroot: the test skips) rather
    /// than a later step failing (the test fails).
    std::string make(const std::string& ns_prefix, const std::string& if_prefix, bool no_dad = false) {
        const std::string tag = std::to_string(getpid() % 100000);
        ns_a = ns_prefix + "A" + tag;
        ns_b = ns_prefix + "B" + tag;
        veth_a = if_prefix + "a" + tag;
        veth_b = if_prefix + "b" + tag;
        if (run({"ip", "netns", "add", ns_a}) != 0) {
            skipped_ = true;
            return "cannot create network namespaces here (ip netns add failed)";
        }
        created_ = true;
        if (run({"ip", "netns", "add", ns_b}) != 0) return "ip netns add " + ns_b + " failed";
        if (no_dad)
            for (const std::string& ns : {ns_a, ns_b})
                if (run({"ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0",
                         "net.ipv6.conf.default.accept_dad=0"}) != 0)
                    return "cannot turn duplicate address detection off in " + ns;
        if (run({"ip", "link", "add", veth_a, "netns", ns_a, "type", "veth", "peer", "name", veth_b, "netns", ns_b}) !=
            0)
            return "cannot make the veth pair " + veth_a + " - " + veth_b;
        for (const auto& [ns, dev] : {std::pair{ns_a, veth_a}, std::pair{ns_b, veth_b}})
            if (run({"ip", "-n", ns, "link", "set", dev, "up"}) != 0) return "cannot bring " + dev + " up";
        return "";
    }
    [[nodiscard]] bool skipped() const noexcept { return skipped_; }

    /// `ip -n NS addr add ADDRESS dev DEV` plus `extra` (e.g. "nodad"): true when done.
    static bool add_address(const std::string& ns, const std::string& dev, const std::string& address,
                            const std::string& extra = "") {
        std::vector<std::string> args{"ip", "-n", ns, "addr", "add", address, "dev", dev};
        if (!extra.empty()) args.push_back(extra);
        return run(args) == 0;
    }

    std::string ns_a, ns_b, veth_a, veth_b;

private:
    bool created_ = false, skipped_ = false;
};

/// Runs `body()` on this thread inside network namespace `ns`, then comes
/// back (a socket opened there stays in that namespace). False, with
/// `why`, when the namespace cannot be entered; aborts when it cannot come
/// back, since the test process must not stay there.
template <class Body>
bool open_in_netns(const std::string& ns, Body&& body, std::string& why) {
    const int here = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const int there = ::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    const bool entered = here >= 0 && there >= 0 && ::setns(there, CLONE_NEWNET) == 0;
    if (entered) {
        body();
        if (::setns(here, CLONE_NEWNET) != 0) std::abort();
    } else {
        why = "cannot enter network namespace " + ns;
    }
    if (here >= 0) ::close(here);
    if (there >= 0) ::close(there);
    return entered;
}

}  // namespace callwall::test
