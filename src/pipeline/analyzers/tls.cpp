// TLS analyzer. See pipeline/analyzers/tls.hpp.
#include "pipeline/analyzers/tls.hpp"

#include <algorithm>
#include <cstdint>

namespace callwall::pipeline {

namespace tls = proto::tls;

bool probe_tls(const ProbeInput& in) noexcept { return tls::probe(in.payload); }

std::unique_ptr<AppAnalyzer> make_tls(DissectShared& shared) { return std::make_unique<TlsAnalyzer>(shared); }

void TlsAnalyzer::on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) {
    start_state<TlsFlow>(a);
    a.labels |= kTlsLabel;
}

void TlsAnalyzer::on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) {
    TlsFlow& t = flow_state<TlsFlow>(a);
    add(f, a, t, d, m.tcp_seq, m.payload, ts_us, TlsAnchor{f.tcp.isn_known[d], f.tcp.isn[d]});
}

void TlsAnalyzer::describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) {
    describe_flights(f, a, flow_state<TlsFlow>(a), out, final);
}

void TlsAnalyzer::describe_flights(const flow::Flow& f, const FlowApp& a, const TlsFlow& t, FlowColumns& out,
                                   bool final) {
    const SecondFlight& r = t.retry;
    out.tls_server_hello = t.h.server_hello;
    // After a HelloRetryRequest the server's last word is its answer to the second hello.
    out.tls_alert = r.alert >= 0 ? r.alert : t.h.alert;
    if (!final) return;
    emit_hello(s_, f, a, t.h);
    if ((r.bits & SecondFlight::kHello) == 0) return;
    HelloFacts second = t.h;  // the name and ALPN are the first hello's (RFC 8446 §4.1.2)
    second.ts_us = t.h.ts_us + r.ts_delta_us;
    second.version = r.version;
    second.ech = (r.bits & SecondFlight::kEch) != 0;
    second.server_hello = (r.bits & SecondFlight::kServerHello) != 0;
    second.server_version = r.server_version;
    second.alert = r.alert;
    emit_hello(s_, f, a, second);
}

void TlsAnalyzer::release_state(TlsFlow& t) noexcept {
    if (t.client >= 0) pool_.release(t.client);
    if (t.server >= 0) pool_.release(t.server);
    t.client = t.server = -1;
}

// Handshake buffers: reclaimed from the least recently progressed owner when
// the pool is full or the client address is at its bound; the owner that
// lost one gives that side up.
int32_t TlsAnalyzer::lend(const flow::Flow& f, const FlowApp& a, uint8_t role) {
    SlotOwner evicted;
    bool reclaimed = false;
    const uint64_t source = decode::hash_append(decode::kFnvOffsetBasis, f.client_ip);
    const int32_t i = pool_.acquire(source, SlotOwner{s_.index_of(a), role}, &evicted, &reclaimed);
    if (reclaimed && evicted.flow < s_.apps.size()) {
        TlsFlow& x = flow_state<TlsFlow>(s_.apps[evicted.flow]);
        const bool client = evicted.role == kRoleClient;
        const flow::Dir side = client ? flow::kFromClient : flow::kFromServer;
        (client ? x.client : x.server) = -1;
        if (!side_done(x.h, side))
            (client ? x.h.hello_failed : x.h.server_failed) = true;
        else  // its second flight
            x.retry.bits |= client ? SecondFlight::kHelloFailed : SecondFlight::kServerFailed;
        x.cut |=
            static_cast<uint8_t>(kCutLost << (evicted.role == kRoleClient ? flow::kFromClient : flow::kFromServer));
    }
    return i;
}

void TlsAnalyzer::note_cut(TlsFlow& t, flow::Dir d, uint32_t seq, size_t len) noexcept {
    if ((t.cut & (kCutLost << d)) == 0 || (t.cut & (kCutSeen << d)) != 0) return;
    if (static_cast<int32_t>(seq + static_cast<uint32_t>(len) - t.end[d]) <= 0) return;  // nothing new
    t.cut |= static_cast<uint8_t>(kCutSeen << d);
    ++s_.stats.hellos_cut;
}

void TlsAnalyzer::add(const flow::Flow& f, FlowApp& a, TlsFlow& t, flow::Dir d, uint32_t seq, ByteView payload,
                      int64_t ts_us, TlsAnchor anchor) {
    if (payload.empty()) return;
    if (side_done(t, d)) {
        note_cut(t, d, seq, payload.size());
        return;
    }
    const bool second = side_done(t.h, d);  // after a HelloRetryRequest
    const uint32_t end = seq + static_cast<uint32_t>(payload.size());
    if ((t.cut & (kEndKnown << d)) == 0 || static_cast<int32_t>(end - t.end[d]) > 0) t.end[d] = end;
    t.cut |= static_cast<uint8_t>(kEndKnown << d);
    int32_t& idx = d == flow::kFromClient ? t.client : t.server;
    if (idx < 0) {
        idx = lend(f, a, d == flow::kFromClient ? kRoleClient : kRoleServer);
        if (idx < 0) return;
    }
    Slot& s = pool_.at(idx);
    tls::FlightAssembler* fa = nullptr;
    if (d == flow::kFromClient) {
        if (!s.client) s.client.emplace(std::span<uint8_t>(s.buf));
        fa = &*s.client;
    } else {
        if (!s.server) s.server.emplace(std::span<uint8_t>(s.buf));
        fa = &*s.server;
    }
    if (fa->stats().segments == 0) {
        if (second)
            fa->start_second_flight(t.retry.next_seq[d]);
        else if (anchor.known)
            fa->anchor_syn(anchor.isn);
    }
    const size_t held = fa->contiguous_bytes();
    const auto st = fa->add_segment(seq, payload);
    if (fa->contiguous_bytes() > held) pool_.touch(idx);  // progress: reclaimed last
    if (second)
        on_second_done(t, d, s, st, ts_us);
    else
        on_done(a, t, d, s, st, ts_us);
    // A flight done: its buffer goes back (a second flight, when one follows, lends a new one).
    if ((second ? side_done(t, d) : side_done(t.h, d)) && idx >= 0) {
        pool_.release(idx);
        idx = -1;
    }
}

void TlsAnalyzer::on_done(FlowApp& a, TlsFlow& t, flow::Dir d, Slot& s, tls::AssemblyStatus st, int64_t ts_us) {
    HelloFacts& h = t.h;
    if (st == tls::AssemblyStatus::Failed) {
        (d == flow::kFromClient ? h.hello_failed : h.server_failed) = true;
        return;
    }
    if (st != tls::AssemblyStatus::Done) return;
    if (d == flow::kFromClient) {
        auto ch = s.client->client_hello();
        if (ch) {
            record_client_hello(s_, a, h, *ch, facts::HelloProtocol::Tls, ts_us);
            a.labels |= kTlsLabel;
            ++s_.stats.tls_hellos;
            if (s.client->next_flight_seq(t.retry.next_seq[flow::kFromClient]))
                t.retry.bits |= SecondFlight::kClientNext;
        } else {
            h.hello_failed = true;  // done by an alert, or a hello that does not parse
        }
        return;
    }
    auto sf = s.server->server_flight();
    if (sf) {
        if (sf->has_server_hello) {
            h.server_hello = true;
            a.labels |= kTlsLabel;
            h.server_version = sf->server_hello.version();
            // A HelloRetryRequest: the client's second ClientHello and the
            // server's answer to it follow, each after its side's first flight.
            if (sf->server_hello.hello_retry_request && h.hello && (t.retry.bits & SecondFlight::kClientNext) &&
                s.server->next_flight_seq(t.retry.next_seq[flow::kFromServer]))
                t.retry.bits |= SecondFlight::kArmed;
        }
        if (sf->fatal_alert()) h.alert = sf->alert_description;
    }
    if (!h.server_hello) h.server_failed = true;
}

void TlsAnalyzer::on_second_done(TlsFlow& t, flow::Dir d, Slot& s, tls::AssemblyStatus st, int64_t ts_us) {
    SecondFlight& r = t.retry;
    const bool client = d == flow::kFromClient;
    if (st == tls::AssemblyStatus::Failed) {
        r.bits |= client ? SecondFlight::kHelloFailed : SecondFlight::kServerFailed;
        return;
    }
    if (st != tls::AssemblyStatus::Done) return;
    if (client) {
        auto ch = s.client->client_hello();
        if (!ch) {
            r.bits |= SecondFlight::kHelloFailed;
            return;
        }
        r.bits |= SecondFlight::kHello;
        if (ch->ech) r.bits |= SecondFlight::kEch;
        r.version = ch->offered_version();
        // Microseconds after the first hello, within what 32 bits hold (71 minutes).
        const int64_t delta = ts_us - t.h.ts_us;
        r.ts_delta_us = static_cast<uint32_t>(std::clamp<int64_t>(delta, 0, UINT32_MAX));
        return;
    }
    auto sf = s.server->server_flight();
    if (sf) {
        if (sf->has_server_hello) {
            r.bits |= SecondFlight::kServerHello;
            r.server_version = sf->server_hello.version();
        }
        if (sf->fatal_alert()) r.alert = sf->alert_description;
    }
    if ((r.bits & SecondFlight::kServerHello) == 0) r.bits |= SecondFlight::kServerFailed;
}

}  // namespace callwall::pipeline
