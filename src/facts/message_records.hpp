// A decoder's fact as the record its table holds (records/messages.hpp),
// made once for every writer that takes it: the store's dns_answer row and
// the event stream's dns line are the same record.
#pragma once

#include <string>
#include <string_view>

#include "facts/fact_sink.hpp"
#include "records/messages.hpp"

namespace callwall::facts {

/// The target name of a CNAME, HTTPS or SVCB answer as its presentation
/// form spells it: an HTTPS or SVCB record's root target (the owner name
/// itself, what services on their own name publish) is ".".
[[nodiscard]] std::string_view dns_target(const DnsAnswerFact& f) noexcept;

/// DNS answers as dns_answer records, one at a time. The record's text (the
/// two addresses, the type's name, the answer: an address, a CNAME's target
/// or an HTTPS/SVCB record in presentation form, "" for other types) is held
/// here until the next answer, in buffers reused from one to the next.
class DnsAnswerRecord {
public:
    /// `f` as its record: valid until the next call, and while `f`'s names are.
    const records::DnsAnswer& of(const DnsAnswerFact& f);

private:
    char client_[64] = {}, server_[64] = {};
    std::string answer_, rrtype_;
    records::DnsAnswer row_;
};

}  // namespace callwall::facts
