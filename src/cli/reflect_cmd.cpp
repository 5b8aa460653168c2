// callwall reflect --listen ADDR [--tcp RANGES] [--udp RANGES] --key K: the far
// end of `probe --reflector` (see probe/reflector.hpp).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/run_common.hpp"
#include "probe/reflector.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

int run_reflect(int argc, char** argv) {
    po::options_description opts(
        "callwall reflect --listen ADDR [--tcp RANGES] [--udp RANGES] --key K\n\n"
        "Accepts TCP and answers STUN/TURN on every port of the ranges, for 'probe --reflector'.\n\n"
        "options");
    probe::ReflectOptions o;
    std::string tcp, udp;
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("listen", po::value(&o.listen)->value_name("ADDR"), "IPv4 or IPv6 address the probes are sent to (required)")
        ("tcp", po::value(&tcp)->value_name("RANGES"), "TCP ports, e.g. 443,1024-65535")
        ("udp", po::value(&udp)->value_name("RANGES"), "UDP ports, e.g. 3478,10000-65535")
        ("key", po::value(&o.key)->value_name("K"), "HMAC key shared with the probe (required)")
        ("port", po::value(&o.redirect_port)->value_name("N"), "the one port the ranges are redirected to (default 30999)")
        ("nft", "load the redirect table with nft (CAP_NET_ADMIN) and delete it on exit")
        ("duration", po::value(&o.duration_s)->value_name("S"), "stop after S seconds (default: at SIGINT/SIGTERM)");
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
        std::cout << opts;
        return kExitOk;
    }
    std::string err;
    if (o.listen.empty() || o.key.empty() || (!tcp.empty() && !probe::parse_ranges(tcp, &o.tcp, &err)) ||
        (!udp.empty() && !probe::parse_ranges(udp, &o.udp, &err)) || o.redirect_port == 0) {
        std::fprintf(stderr, "callwall reflect: %s\n",
                     err.empty() ? "--listen ADDR and --key K are required" : err.c_str());
        return kExitUsage;
    }
    o.install_nft = vm.count("nft") > 0;
    install_stop_handlers();
    return probe::run_reflector(o, &g_stop_signal, stderr) == 0 ? kExitOk : kExitInput;
}

}  // namespace callwall::cli
