#include "audit/pace.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace callwall::audit {

Pace pace_of(const std::vector<RateLimit>& limits) {
    Pace p;
    for (const auto& l : limits) {
        if (l.count > 0) {
            const size_t n = std::max<size_t>(1, l.count / 2);
            p.at_once = p.at_once == 0 ? n : std::min(p.at_once, n);
            p.flush_conntrack = true;
        }
        if (l.per_s <= 0) continue;
        const double flows_per_s = l.per_s / (l.new_only ? 1 : 4) / 2;
        const int every = static_cast<int>(std::min(60000.0, 1000.0 / flows_per_s)) + 1;
        const int f = static_cast<int>(l.burst / (l.new_only ? 2 : 8));
        for (int k = 0; k < 2; ++k) {
            if (!l.transport.empty() && l.transport != (k == 1 ? "tcp" : "udp")) continue;
            p.every_ms[k] = std::max(p.every_ms[k], every);
            p.free[k] = p.free[k] < 0 ? f : std::min(p.free[k], f);
        }
    }
    return p;
}

bool flush_conntrack() {
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) return false;
    struct {
        nlmsghdr nh;
        nfgenmsg nf;
    } req{};
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.nf.nfgen_family = AF_UNSPEC;
    req.nf.version = NFNETLINK_V0;
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    bool ok = ::sendto(fd, &req, sizeof req, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) > 0;
    pollfd pfd{fd, POLLIN, 0};
    char buf[256];
    ok = ok && ::poll(&pfd, 1, 1000) > 0 && ::recv(fd, buf, sizeof buf, 0) > 0;
    ::close(fd);
    return ok;
}

int Limits::index_of(const TraceEvent& e, const std::string& table, const std::string& chain) const {
    if (names) {
        const auto it = names->find({table + " " + chain, e.handle});
        if (it != names->end()) return it->second.position - 1;
    }
    for (const auto& c : chains.chains) {
        if (c.table != table || c.name != chain) continue;
        for (size_t i = 0; i < c.rules.size(); ++i)
            if (rule_without_counts(c.rules[i].text) == e.rule) return static_cast<int>(i);
    }
    return -1;
}

int limit_on_path(const std::vector<TracedPacket>& packets, const std::function<bool(const TracedPacket&)>& is_request,
                  const std::string& proto, const Limits& limits) {
    if (limits.list.empty()) return -1;
    for (const auto& p : packets) {
        if (!is_request(p)) continue;
        for (size_t i = 0; i < limits.list.size(); ++i) {
            const RateLimit& l = limits.list[i];
            if (!l.transport.empty() && l.transport != proto) continue;
            bool traversed = false, decided_before = false;
            for (const auto& e : p.events) {
                if (e.table != l.table || e.chain != l.chain) continue;
                traversed = true;
                const bool final = e.verdict == "accept" || e.verdict == "drop";
                if (final && !e.policy) {
                    const int at = limits.index_of(e, l.table, l.chain);
                    decided_before = at >= 0 && static_cast<size_t>(at) < l.index;
                }
            }
            if (traversed && !decided_before) return static_cast<int>(i);
        }
        return -1;
    }
    return -1;
}

}  // namespace callwall::audit
