// The event stream fed by the packet path: ended flows
// become `flow` events (Zeek conn.log fields and the Community ID), a vendor's
// TLS/QUIC server name on a flow becomes a `name` event, and DNS answers for
// a vendor's names become `dns` events. Run and verdict events come from the
// run itself (events/events.hpp has every event's fields).
//
// Off the packet path's budget on purpose: lines are formatted (and
// allocated) only when --events asks for them, once per ended flow or vendor
// DNS answer, never per packet.
#pragma once

#include <cstdint>
#include <string>

#include "catalog/catalog.hpp"
#include "events/events.hpp"
#include "facts/fact_sink.hpp"
#include "facts/flow_sink.hpp"
#include "facts/message_records.hpp"

namespace callwall::events {

class EventSink final : public facts::FactSink, public facts::FlowObserver {
public:
    /// Lines go to `log`; `catalog` decides which names are a vendor's (null:
    /// no dns/name events, flows only). Neither is owned.
    EventSink(EventLog& log, const catalog::Catalog* catalog, int64_t run_id) noexcept
        : log_(log), catalog_(catalog), run_id_(run_id) {}

    /// DNS answers for a vendor's names are lines; the other facts are not.
    void write(facts::Fact f) override {
        if (const auto* answer = std::get_if<const facts::DnsAnswerFact*>(&f)) dns_answer(**answer);
    }

    void flow_ended(const flow::Flow& f, const facts::FlowRecord& record) noexcept override;

    [[nodiscard]] uint64_t flows() const noexcept { return flows_; }

private:
    /// The vendor owning `name` ("" for none); several: joined by ','.
    [[nodiscard]] std::string vendor_of(std::string_view name) const;
    void dns_answer(const facts::DnsAnswerFact& f);
    void write_line(const std::string& line) noexcept;

    EventLog& log_;
    const catalog::Catalog* catalog_;
    int64_t run_id_;
    uint64_t flows_ = 0;
    facts::DnsAnswerRecord answers_;
};

}  // namespace callwall::events
