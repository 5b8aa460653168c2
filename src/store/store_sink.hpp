// The store's fact writer: the FactSink that turns the packet path's facts
// into rows (store::make_fact_writer hands one out), where facts become
// database text (addresses, hex transaction ids, SVCB parameters; record
// types, rcodes and handshake versions are spelt by proto/dns_text.hpp and
// proto/tls_text.hpp). Scratch strings are members, reused: no allocation once warm.
#pragma once

#include <exception>
#include <string>

#include "facts/fact_sink.hpp"
#include "facts/message_records.hpp"
#include "store/store.hpp"

namespace callwall::store {

class StoreSink final : public facts::FactSink {
public:
    /// `error`: the first store error is kept there; once set, nothing more is written.
    /// `per_message_rows` false: dns_answer, hello and stun_message write
    /// nothing and dns_query counts the question in dns_name alone (the flow
    /// row, its names and the questions per name carry what verdicts need).
    StoreSink(Store& store, int64_t run_id, std::exception_ptr& error, bool per_message_rows = true) noexcept
        : store_(store), run_id_(run_id), error_(error), per_message_rows_(per_message_rows) {}

    /// The fact's record to the store (store_sink.cpp has one add() per kind).
    void write(facts::Fact f) override;

private:
    /// A fact of kind `F` as its record; specialised for each kind in
    /// store_sink.cpp, so that a new kind of fact is written there alone.
    template <class F>
    void add(const F& f);

    /// Runs `f` on the store unless an error was kept; keeps the first one.
    template <class F>
    void guarded(F&& f) noexcept {
        if (error_) return;
        try {
            f(store_);
        } catch (...) {
            error_ = std::current_exception();
        }
    }

    Store& store_;
    int64_t run_id_;
    std::exception_ptr& error_;
    bool per_message_rows_;
    facts::DnsAnswerRecord answers_;
    std::string version_, server_version_;
};

}  // namespace callwall::store
