// Sends a probe plan, paced, and records what each probe saw from its own
// side. The verdicts come later, from the capture (probe/capture.hpp) judged
// by the same attribution as `analyze`; these results add what only the
// sender knows: the reflector's token, and what a TLS server said.
//
// Pacing: probe i starts at i / rate seconds (a token bucket of depth one);
// retransmissions ride on their probe's schedule (wire.hpp kStunScheduleS),
// the kernel's own SYN retransmissions on a TCP probe's (it waits
// kTcpWaitS for the handshake: SYNs at 0, 1 and 3 s); a swept UDP port
// rides on kSweepScheduleS. At most SendOptions::max_active probes are in
// flight; a new one waits for a slot.
#pragma once

#include <array>
#include <csignal>
#include <string>
#include <vector>

#include "probe/plan.hpp"

namespace callwall::probe {

inline constexpr double kTcpWaitS = 3.5;
inline constexpr double kTlsWaitS = 1.5;
inline constexpr size_t kMaxActive = 256;
/// A swept UDP port's schedule: two sends, 0.5 s apart (one retransmission,
/// which attribution reads as "the client persisted"), then kUdpWaitAfterLastS.
inline constexpr std::array<double, 2> kSweepScheduleS{0.0, 0.5};

struct SendOptions {
    double rate_per_s = 20;
    /// Reflector key: answers must carry its token. With a key a TCP probe
    /// sends a challenge (a plain probe's challenge message, a TLS probe's
    /// ClientHello) and waits kTlsWaitS for the token (probe/wire.hpp).
    std::string key;
    /// Local ports a probe never sends from: the inbound entries' local
    /// ports, so the probe's own flows (answered on an ephemeral port that
    /// happens to lie there) are never evidence for a requirement it did
    /// not exercise.
    std::vector<catalog::PortRange> avoid_local_ports;
    /// Probes in flight at most (each holds a socket): kMaxActive, or more
    /// for a sweep, within the process's file limit.
    size_t max_active = kMaxActive;
};

struct ProbeResult {
    std::string seen;  ///< e.g. "connected", "refused", "no-answer", "stun-answered", "echoed", "intercepted"
    std::string detail;  ///< one line for people
    uint32_t sends = 0;  ///< requests sent (UDP), 1 for TCP
    uint32_t send_failures = 0;  ///< of those, the ones the kernel refused (send() failed)
    std::string send_error;  ///< the last refusal's reason
    double start_s = 0;  ///< monotonic start time
    bool intercepted = false;  ///< answered, but not by the reflector (token missing or wrong)
    uint16_t local_port = 0;  ///< the probe socket's own port (0: never opened)
};

/// Runs every probe; returns one result per probe, in plan order. Stops early
/// (probes not started get seen = "not-sent") when *stop becomes non-zero.
std::vector<ProbeResult> send_probes(const std::vector<Probe>& probes, const SendOptions& o,
                                     const volatile std::sig_atomic_t* stop);

/// A sweep's ports that got no answer at all (no STUN answer, no ICMP
/// error), sent again with the full STUN schedule (Probe::confirming): a
/// port is blocked only when both tries went unanswered. At most
/// kConfirmAtMost: past that the silence is a rule's, not a lost packet's,
/// and the first pass stands. The probes sent again are appended to
/// plan.probes, their results to `results`; returns the run's note lines.
inline constexpr size_t kConfirmAtMost = 512;
inline constexpr double kConfirmRatePerS = 100;
std::string confirm_unanswered(Plan& plan, std::vector<ProbeResult>& results, SendOptions o,
                               const volatile std::sig_atomic_t* stop);

}  // namespace callwall::probe
