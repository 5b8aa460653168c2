// What `callwall probe` will send: one Probe per (entry, host, port), derived
// from the catalog entries of the chosen vendors, and for every entry it
// cannot exercise the reason. Pure apart from the resolver it is given.
//
// Hosts: an exact destination is itself; ".x.com" is x.com; "*.x.com" needs
// --target ENTRY_ID=HOST (or, with a reflector, the stand-in name
// "callwall-probe.x.com", since the reflector answers whatever the name; through
// a reflector an entry is probed through one name, see make_plan). ANY
// destinations need --target or a reflector. Inbound entries cannot be
// exercised from the client (the vendor's servers open them).
// Ports: through a reflector (which answers every port) every port of every
// range, swept (PlanOptions::sweep); otherwise, or when a sample is asked
// for, every port of a range of at most ports_per_range ports, else its two
// boundaries plus an even spread (spread_ports), and the plan says how much
// of each entry's ports the sample covers (Plan::coverage).
// Kinds: TCP 443/5349/8443 get a TLS ClientHello with the host as SNI, other
// TCP a bare connection; UDP gets a TURN Allocate when the entry's service
// names TURN or a relay, else a STUN Binding request.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::probe {

enum class ProbeKind : uint8_t { Tcp, Tls, StunBinding, TurnAllocate };
std::string_view to_string(ProbeKind k) noexcept;
/// The probe's transport as a flow's row names it: "udp" for STUN and TURN, "tcp" otherwise.
[[nodiscard]] constexpr std::string_view transport_of(ProbeKind k) noexcept {
    return k == ProbeKind::StunBinding || k == ProbeKind::TurnAllocate ? "udp" : "tcp";
}

struct Probe {
    std::string entry_id;
    std::string host;  ///< name the probe stands for (SNI on TLS); empty for an ANY entry's address
    std::string addr;  ///< IPv4 or IPv6 literal it is sent to
    uint16_t port = 0;
    ProbeKind kind = ProbeKind::Tcp;
    /// A UDP probe whose silence says something: a TURN Allocate to a port
    /// the entry lists (not one picked from a spread of a wide range), or
    /// any STUN request to the STUN ports 3478 and 5349 (RFC 8489 §18.6).
    /// Elsewhere the vendor's server need not answer STUN at all.
    bool answer_expected = false;
    /// One port of a range probed port by port (a sweep): the sender gives
    /// it a shorter schedule, since a sweep sends thousands.
    bool swept = false;
    /// A swept port sent again because the sweep got no answer there: the
    /// full STUN schedule (kStunScheduleS), so that a request the sweep
    /// lost (a burst dropped by a rate limit, a loaded machine) is no block.
    bool confirming = false;
};

/// How much of an entry's ports a plan probes.
struct Coverage {
    uint32_t ports = 0;  ///< the entry's ports, all ranges
    uint32_t probed = 0;  ///< distinct ports the plan sends to
    bool swept = false;  ///< a range wider than a sample was probed port by port
};

struct NotExercised {
    std::string entry_id;
    std::string reason;
};

struct PlanOptions {
    std::vector<std::string> vendors;  ///< case-insensitive vendor names
    std::string product;  ///< empty: every product
    std::vector<std::string> entries;  ///< non-empty: only these entry ids (of the vendors chosen)
    std::map<std::string, std::string> resolve;  ///< NAME -> ADDR (lowercase names)
    std::map<std::string, std::string> targets;  ///< ENTRY_ID -> HOST
    std::string reflector;  ///< every probe goes here when set
    uint32_t ports_per_range = 16;
    /// With a reflector: every port of every range, not a sample.
    bool sweep = false;
    uint32_t budget = 2000;  ///< most probes sent; the rest are listed as not exercised
};

struct Plan {
    std::vector<Probe> probes;
    std::vector<NotExercised> skipped;
    /// host -> address of every probe: the names the capture records as DNS
    /// answers (a TLS flow reset before its ClientHello has no SNI to name it).
    std::map<std::string, std::string> names;
    std::vector<std::string> destinations;  ///< distinct addresses, sorted (the allowed set)
    std::map<std::string, Coverage> coverage;  ///< by entry id, for every entry with probes
};

/// "16 of 64,512 ports sampled", "every port (64,512) swept", "every port (3)":
/// how much of an entry a plan measured, in words.
std::string coverage_text(const Coverage& c);

/// Resolves a name to one IPv4 address, or "" with *error set.
using Resolver = std::function<std::string(const std::string& name, std::string* error)>;
/// getaddrinfo for one address of `family` (AF_INET: A, AF_INET6: AAAA).
std::string system_resolve(const std::string& name, std::string* error, int family = AF_INET);

/// The ports a range is probed on: all of them when it has at most `per_range`
/// ports, else lo, hi and per_range - 2 ports spread evenly in between,
/// ascending and distinct. per_range < 2 counts as 2.
std::vector<uint16_t> spread_ports(catalog::PortRange r, uint32_t per_range);

Plan make_plan(const catalog::Catalog& c, const PlanOptions& o, const Resolver& resolve);

}  // namespace callwall::probe
