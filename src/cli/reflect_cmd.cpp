// callwall reflect --listen ADDR [--tcp RANGES] [--udp RANGES] --key-file FILE:
// the far end of `probe --reflector` (see probe/reflector.hpp).
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "probe/reflector.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

int run_reflect(int argc, char** argv) {
    po::options_description opts(
        "callwall reflect --listen ADDR [--tcp RANGES] [--udp RANGES] --key-file FILE [--nft]\n\n"
        "Answers 'probe --reflector' on every port of the ranges: accepts TCP, answers STUN/TURN.\n"
        "Only requests authenticated with the shared key are answered, each once, never with\n"
        "more bytes than the request, within a per-source rate; started as root it drops to\n"
        "--user with no capabilities once its sockets and table are set up.\n\n"
        "options");
    probe::ReflectOptions o;
    std::string tcp, udp, key_file, key_arg, user = "nobody";
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("listen", po::value(&o.listen)->value_name("ADDR"), "IPv4 or IPv6 address the probes are sent to (required; 0.0.0.0 or :: for every local address)")
        ("tcp", po::value(&tcp)->value_name("RANGES"), "TCP ports, e.g. 443,1024-65535 (ports this host's own services listen on are left out unless named alone)")
        ("udp", po::value(&udp)->value_name("RANGES"), "UDP ports, e.g. 3478,10000-65535 (likewise)")
        ("key-file", po::value(&key_file)->value_name("FILE"), "the key shared with the probe: the file's first line")
        ("key", po::value(&key_arg)->value_name("K"), "the key itself (visible in ps: prefer --key-file or CALLWALL_REFLECT_KEY)")
        ("port", po::value(&o.redirect_port)->value_name("N"), "the one port the ranges are redirected to (default 30999)")
        ("nft", "load the redirect table (CAP_NET_ADMIN); it goes when the reflector ends")
        ("user", po::value(&user)->value_name("NAME"), "when started as root, run as this user once set up (default nobody)")
        ("rate-limit", po::value(&o.limits.per_source_rate)->value_name("N"), "answers per second to one source address (default 4000)")
        ("duration", po::value(&o.duration_s)->value_name("S"), "stop after S seconds (default: at SIGINT/SIGTERM)")
        ("quiet,q", "log only refusals and errors");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall reflect: %s (try 'callwall reflect --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts << "\nThe key may also come from the environment variable " << kReflectKeyEnv << ".\n";
        return kExitOk;
    }
    std::string err = read_reflect_key(key_file, key_arg, "reflect", &o.key);
    if (err.empty() && (o.listen.empty() || o.key.empty()))
        err = "--listen ADDR and a key (--key-file FILE or " + std::string(kReflectKeyEnv) + ") are required";
    if (err.empty() && ((!tcp.empty() && !probe::parse_ranges(tcp, &o.tcp, &err)) ||
                        (!udp.empty() && !probe::parse_ranges(udp, &o.udp, &err))))
        err = "--tcp/--udp: " + err;
    if (err.empty() && o.redirect_port == 0) err = "--port takes 1-65535";
    if (err.empty() && !(o.limits.per_source_rate > 0 && o.limits.per_source_rate <= 1e6))
        err = "--rate-limit takes 0 < N <= 1000000";
    if (!err.empty()) {
        std::fprintf(stderr, "callwall reflect: %s\n", err.c_str());
        return kExitUsage;
    }
    o.limits.per_source_burst = std::max(1.0, o.limits.per_source_rate);
    if (::geteuid() == 0 && user != "root" && ::getpwnam(user.c_str()) == nullptr) {
        std::fprintf(stderr, "callwall reflect: no such user '%s' for --user\n", user.c_str());
        return kExitPermission;
    }
    if (::geteuid() == 0 && user == "root")
        std::fprintf(stderr, "callwall reflect: warning: --user root: answering the internet as root\n");
    o.drop_privileges = [user] { return drop_privileges(user); };
    o.install_nft = vm.count("nft") > 0;
    o.quiet = vm.count("quiet") > 0;
    install_stop_handlers();
    return probe::run_reflector(o, &g_stop_signal, stderr) == 0 ? kExitOk : kExitInput;
}

}  // namespace callwall::cli
