// The FactSink that writes facts to the store: the only place the dissect
// stage touches store::Store, and where facts become database text (record
// type names, rcodes, TLS/QUIC version names, hex transaction ids, address
// text). Scratch strings are members, reused: no allocation once warm.
#pragma once

#include <exception>
#include <string>

#include "store/store.hpp"
#include "facts/fact_sink.hpp"

namespace callwall::pipeline {

class StoreSink final : public facts::FactSink {
public:
    /// `error`: the first store error is kept there; once set, nothing more is written.
    /// `per_message_rows` false: dns_answer, hello and stun_message write
    /// nothing and dns_query counts the question in dns_name alone (the flow
    /// row, its names and the questions per name carry what verdicts need).
    StoreSink(store::Store& store, int64_t run_id, std::exception_ptr& error, bool per_message_rows = true) noexcept
        : store_(store), run_id_(run_id), error_(error), per_message_rows_(per_message_rows) {}

    void dns_query(const facts::DnsQueryFact& f) override;
    void dns_answer(const facts::DnsAnswerFact& f) override;
    void hello(const facts::HelloFact& f) override;
    void stun_message(const facts::StunFact& f) override;
    void rtp_stream(const facts::RtpStreamFact& f) override;
    void flow_name(uint64_t flow_id, std::string_view name, std::string_view source) override;

private:
    template <class F>
    void write(F&& f) noexcept {
        if (error_) return;
        try {
            f(store_);
        } catch (...) {
            error_ = std::current_exception();
        }
    }

    store::Store& store_;
    int64_t run_id_;
    std::exception_ptr& error_;
    bool per_message_rows_;
    std::string answer_, rrtype_, version_, server_version_;
};

/// Database text of protocol values (exposed for tests).
[[nodiscard]] std::string_view rcode_name(uint16_t rc) noexcept;
void rrtype_name(uint16_t t, std::string& out);
void tls_version_name(uint16_t v, std::string& out);
void quic_version_name(uint32_t v, std::string& out);

}  // namespace callwall::pipeline
