// Shell commands for the firewall namespace tests (nft, iptables, ipset
// inside `ip netns exec`): bounded in time, output and exit code kept.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace callwall::test {

struct ShellOutput {
    int code = -1;
    std::string text;  ///< stdout and stderr
};

/// `s` as one single-quoted shell word.
inline std::string shell_word(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

/// Runs `command` with sh, killed after `limit_s` seconds; its exit code and output.
inline ShellOutput shell(const std::string& command, int limit_s = 20) {
    ShellOutput r;
    FILE* p =
        ::popen(("timeout -k 1 " + std::to_string(limit_s) + " sh -c " + shell_word(command) + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.text.append(buf, n);
    const int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The packet count of the first rule in an `nft list` output that contains
/// `marker` (its comment), or -1.
inline long counted_packets(const std::string& listing, const std::string& marker) {
    std::istringstream in(listing);
    for (std::string l; std::getline(in, l);) {
        if (l.find(marker) == std::string::npos) continue;
        std::smatch m;
        if (std::regex_search(l, m, std::regex("counter packets ([0-9]+)"))) return std::stol(m[1]);
    }
    return -1;
}

// Debian's /etc/nftables.conf as the nftables package installs it.
inline constexpr const char* kDebianStockNftConf = R"(#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter;
	}
	chain forward {
		type filter hook forward priority filter;
	}
	chain output {
		type filter hook output priority filter;
	}
}
)";

/// The command lines of a `catalog export` header ("#  nft add rule ...")
/// that start with `prefix`, exactly as written.
inline std::vector<std::string> export_header_commands(const std::string& exported, const std::string& prefix) {
    std::vector<std::string> out;
    std::istringstream in(exported);
    for (std::string l; std::getline(in, l);) {
        if (l.starts_with("#  " + prefix)) out.push_back(l.substr(3));
    }
    return out;
}

}  // namespace callwall::test
