#include "audit/kernel_features.hpp"

#include <algorithm>
#include <cctype>

namespace callwall::audit {

namespace {

std::vector<std::string_view> feature_lines(std::string_view s) {
    std::vector<std::string_view> out;
    size_t at = 0;
    while (at <= s.size()) {
        const size_t nl = s.find('\n', at);
        out.push_back(s.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
        if (nl == std::string_view::npos) break;
        at = nl + 1;
    }
    return out;
}

bool feature_word(std::string_view line, std::string_view word) {
    for (size_t at = line.find(word); at != std::string_view::npos; at = line.find(word, at + 1)) {
        const bool before = at == 0 || !(std::isalnum(static_cast<unsigned char>(line[at - 1])) || line[at - 1] == '_');
        const size_t end = at + word.size();
        const bool after =
            end >= line.size() || !(std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_');
        if (before && after) return true;
    }
    return false;
}

// The feature a refused source line uses, from the statements nft parses
// into expressions a kernel may lack (modules that distributions build but
// minimal kernels leave out).
bool feature_of(std::string_view line, std::string_view underlined, MissingFeature& f) {
    const std::string_view text = underlined.empty() ? line : underlined;
    if (feature_word(text, "flowtable") || text.find("flow add @") != std::string_view::npos ||
        text.find("flow offload @") != std::string_view::npos || feature_word(line, "flowtable")) {
        f.feature = "flowtables (nf_flow_table)";
        f.can_leave_out = true;
        return true;
    }
    static constexpr std::pair<std::string_view, std::string_view> kFeatures[] = {
        {"queue", "queue (nfnetlink_queue)"},
        {"synproxy", "synproxy (nft_synproxy)"},
        {"tproxy", "tproxy (nft_tproxy)"},
        {"osf", "osf (nfnetlink_osf)"},
        {"numgen", "numgen (nft_numgen)"},
        {"fib", "fib (nft_fib)"},
        {"xfrm", "ipsec (nft_xfrm)"},
        {"socket", "socket (nft_socket)"},
        {"dup", "dup (nft_dup)"},
        {"fwd", "fwd (nft_fwd_netdev)"},
        {"tunnel", "tunnel (nft_tunnel)"},
        {"connlimit", "ct count (nft_connlimit)"},
        {"last", "last (nft_last)"},
        {"inner", "inner (nft_inner)"},
    };
    for (const auto& [word, name] : kFeatures)
        if (feature_word(text, word)) {
            f.feature = std::string(name);
            return true;
        }
    return false;
}

}  // namespace

std::vector<MissingFeature> missing_features(std::string_view out) {
    constexpr std::string_view kEnoent = ": Error: Could not process rule: No such file or directory";
    std::vector<MissingFeature> found;
    const auto lines = feature_lines(out);
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string_view l = lines[i];
        if (l.find(": Error: ") == std::string_view::npos) continue;
        // Any other error is the ruleset's own: nothing to blame on the kernel.
        if (l.find(kEnoent) == std::string_view::npos) return {};
        const std::string_view source = i + 1 < lines.size() ? lines[i + 1] : std::string_view{};
        const std::string_view carets = i + 2 < lines.size() ? lines[i + 2] : std::string_view{};
        std::string_view underlined;
        if (const size_t b = carets.find('^'); b != std::string_view::npos && b < source.size()) {
            const size_t e = carets.find_last_of('^');
            underlined = source.substr(b, e - b + 1);
        }
        MissingFeature f;
        if (!feature_of(source, underlined, f)) return {};
        // "FILE:LINE:COLS: Error: ..." -> "FILE:LINE".
        std::string_view head = l.substr(0, l.find(": Error: "));
        if (const size_t c = head.rfind(':'); c != std::string_view::npos) head = head.substr(0, c);
        f.where = std::string(head);
        size_t s = 0;
        while (s < underlined.size() && underlined[s] == ' ') ++s;
        f.statement = std::string(underlined.substr(s));
        found.push_back(std::move(f));
    }
    return found;
}

std::string without_flowtables(std::string_view text) {
    std::string out;
    const auto lines = feature_lines(text);
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string l(lines[i]);
        const size_t ft = l.find("flowtable ");
        const size_t hash = l.find('#');
        if (ft != std::string::npos && (hash == std::string::npos || ft < hash) &&
            l.find('{', ft) != std::string::npos && l.find("flow add") == std::string::npos &&
            l.find("flow offload") == std::string::npos) {
            // "flowtable NAME {" ... its closing brace: one empty set line, then blank lines.
            size_t n = ft + 10;
            while (n < l.size() && l[n] == ' ') ++n;
            size_t e = n;
            while (e < l.size() && l[e] != ' ' && l[e] != '{') ++e;
            const std::string name = l.substr(n, e - n);
            int depth = 0;
            size_t j = i;
            for (; j < lines.size(); ++j) {
                const std::string_view x = j == i ? std::string_view(l).substr(ft) : lines[j];
                for (char c : x) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
                if (depth <= 0) break;
            }
            out += l.substr(0, ft) + "set callwall_no_flowtable_" + name + " { type ipv4_addr; }";
            for (size_t k = i; k < j && k + 1 < lines.size(); ++k) out += "\n";
            i = j;
            if (i + 1 < lines.size()) out += "\n";
            continue;
        }
        for (const std::string_view verb : {"flow add @", "flow offload @"}) {
            for (size_t at = l.find(verb); at != std::string::npos; at = l.find(verb, at)) {
                size_t e = at + verb.size();
                while (e < l.size() && (std::isalnum(static_cast<unsigned char>(l[e])) || l[e] == '_' || l[e] == '-'))
                    ++e;
                l.replace(at, e - at, "counter");
            }
        }
        out += l;
        if (i + 1 < lines.size()) out += "\n";
    }
    return out;
}

std::string features_text(const std::vector<MissingFeature>& missing) {
    std::string out;
    for (const auto& f : missing) {
        const std::string one = f.feature + " at " + f.where + (f.statement.empty() ? "" : " ('" + f.statement + "')");
        if (out.find(one) == std::string::npos) out += (out.empty() ? "" : ", ") + one;
    }
    return out;
}

}  // namespace callwall::audit
