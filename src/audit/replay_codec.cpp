#include "audit/replay_codec.hpp"

#include <string>

namespace callwall::audit {

namespace {

void put(std::string& out, std::string_view s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
}

bool get(std::string_view& in, std::string& s) {
    const size_t colon = in.find(':');
    if (colon == std::string_view::npos) return false;
    size_t n = 0;
    for (char c : in.substr(0, colon)) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (in.size() < colon + 1 + n) return false;
    s.assign(in.substr(colon + 1, n));
    in.remove_prefix(colon + 1 + n);
    return true;
}

}  // namespace

std::string encode_replay(const ReplayOutput& r) {
    std::string out;
    put(out, r.ok ? "1" : "0");
    put(out, r.lint_failed ? "1" : "0");
    put(out, r.too_large ? "1" : "0");
    put(out, r.no_filter ? "1" : "0");
    put(out, r.error);
    put(out, r.mode);
    put(out, r.listed);
    put(out, r.iptables_save);
    put(out, r.ip6tables_save);
    put(out, r.ipv6_unavailable);
    for (const auto& p : r.results) {
        put(out, p.probe.transport == catalog::Transport::Tcp ? "tcp" : "udp");
        put(out, p.probe.daddr);
        put(out, std::to_string(p.probe.port));
        put(out, std::to_string(p.probe.client_port));
        put(out, p.probe.inbound ? "1" : "0");
        put(out, std::to_string(static_cast<int>(p.outcome)));
        put(out, p.how);
        put(out, p.decided_by);
        put(out, p.decider.table);
        put(out, p.decider.chain);
        put(out, std::to_string(p.decider.handle));
        put(out, std::to_string(p.decider.position));
        put(out, p.decider.reply ? "1" : "0");
        put(out, std::to_string(p.probe.client_ports.lo));
        put(out, std::to_string(p.probe.client_ports.hi));
        put(out, std::to_string(p.sport));
        put(out, std::to_string(p.limit));
        put(out, p.probe.to);
        put(out, p.probe.inside);
        put(out, std::to_string(p.probe.to_port));
    }
    return out;
}

bool decode_replay(std::string_view in, ReplayOutput& r) {
    std::string ok, lint, large, no_filter, f[20];
    if (!get(in, ok) || !get(in, lint) || !get(in, large) || !get(in, no_filter) || !get(in, r.error) ||
        !get(in, r.mode) || !get(in, r.listed) || !get(in, r.iptables_save) || !get(in, r.ip6tables_save) ||
        !get(in, r.ipv6_unavailable))
        return false;
    r.ok = ok == "1";
    r.lint_failed = lint == "1";
    r.too_large = large == "1";
    r.no_filter = no_filter == "1";
    while (!in.empty()) {
        for (auto& s : f)
            if (!get(in, s)) return false;
        ProbeResult p;
        p.probe.transport = f[0] == "tcp" ? catalog::Transport::Tcp : catalog::Transport::Udp;
        p.probe.daddr = f[1];
        p.probe.port = static_cast<uint16_t>(std::stoul(f[2]));
        p.probe.client_port = static_cast<uint16_t>(std::stoul(f[3]));
        p.probe.inbound = f[4] == "1";
        p.outcome = static_cast<ProbeOutcome>(std::stoi(f[5]));
        p.how = f[6];
        p.decided_by = f[7];
        p.decider.table = f[8];
        p.decider.chain = f[9];
        p.decider.handle = std::stoll(f[10]);
        p.decider.position = std::stoi(f[11]);
        p.decider.reply = f[12] == "1";
        p.probe.client_ports = {static_cast<uint16_t>(std::stoul(f[13])), static_cast<uint16_t>(std::stoul(f[14]))};
        p.sport = static_cast<uint16_t>(std::stoul(f[15]));
        p.limit = std::stoi(f[16]);
        p.probe.to = f[17];
        p.probe.inside = f[18];
        p.probe.to_port = static_cast<uint16_t>(std::stoul(f[19]));
        r.results.push_back(std::move(p));
    }
    return true;
}

}  // namespace callwall::audit
