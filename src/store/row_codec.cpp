// Write-behind rows applied on the thread that owns the connection, and
// their sizes. See store/store.hpp (put_encoded, encoded_row_size) and
// store/row_codec.hpp.
#include "store/conn.hpp"
#include "store/dns_names.hpp"
#include "store/row_codec.hpp"
#include "store/row_tap.hpp"
#include "store/store.hpp"
#include "store/write_behind.hpp"

namespace callwall::store {

using namespace codec;  // the values' tags and where a DNS question's are (row_codec.hpp)

// On the writer thread (or a thread lending it its idle time): rows of one
// batch from byte `from` on, at most `max_rows` (a commit and a job count as
// one), in order, bound and stepped as put() would have done them. Text is
// bound in place (the batch outlives the step). Returns where the next row starts.
size_t Store::apply_rows(const std::vector<char>& b, size_t from, size_t max_rows) {
    const char* p = b.data() + from;
    const char* const end = b.data() + b.size();
    for (size_t n = 0; n < max_rows && p + 2 <= end; ++n) {
        const auto slot = static_cast<Slot>(p[0]);
        if (slot == Slot::Commit) {
            p += 2;
            commit_batch();
            continue;
        }
        if (slot == Slot::Job) {
            p += 2;
            flush_groups();  // a job may read what they hold
            wb_->run_job();
            continue;
        }
        p += apply_row(p);
    }
    return p + 2 <= end ? static_cast<size_t>(p - b.data()) : b.size();
}

size_t Store::apply_row(const char* const row) {
    const auto slot = static_cast<Slot>(row[0]);
    const int n = static_cast<unsigned char>(row[1]);
    if (RowGroup* g = c_->group(slot); g && n == g->values) {
        note_row();
        const size_t size = encoded_row_size(row, SIZE_MAX);
        g->add(row, size);
        if (g->full()) write_group(*g);
        return size;
    }
    if (touches_groups(slot)) flush_groups();
    note_row();
    sqlite3_stmt* st = c_->statement(slot);  // null for a question counted alone
    if (st) sqlite3_reset(st);
    Binder bind{st, c_->bound(slot)};
    // A DNS question's values, as put_dns encoded them, for its count.
    const bool question = slot == Slot::DnsQuery || slot == Slot::DnsQuestion;
    int64_t ints[kDnsValues] = {};
    double ts = 0;
    std::string_view texts[kDnsValues];
    const char* const end =
        bind_encoded(row + 2, n, bind, 1, [&](int i, char tag, int64_t v, double r, std::string_view text) {
            if (!question || i >= kDnsValues) return;
            if (tag == kIntValue) ints[i] = v;
            if (tag == kRealValue) ts = r;
            if (tag == kTextValue) texts[i] = text;
        });
    if (question)
        dns_names_->add(ints[kDnsRunId], texts[kDnsQname], ts, ints[kDnsAnswered] != 0, texts[kDnsRcode],
                        static_cast<uint32_t>(ints[kDnsAnswers]));
    if (st) Conn::write_row(*this, st, Conn::what(slot));
    return static_cast<size_t>(end - row);
}

void Store::put_encoded(const char* row, size_t n) {
    const auto slot = static_cast<Slot>(row[0]);
    if (tap_ && (slot == Slot::DnsQuery || slot == Slot::DnsQuestion || slot == Slot::Flow || slot == Slot::FlowAgain))
        tap_->rows_unseen(slot == Slot::Flow || slot == Slot::FlowAgain,
                          slot == Slot::DnsQuery || slot == Slot::DnsQuestion);
    if (wb_ && !wb_->on_writer_thread()) {
        std::vector<char>& b = wb_->batch();
        b.insert(b.end(), row, row + n);
        wb_->row_done();
        return;
    }
    apply_row(row);
}

size_t Store::encoded_row_size(const char* row, size_t avail, char** flow_id) noexcept {
    if (flow_id) *flow_id = nullptr;
    if (avail < 2) return 0;
    const auto slot = static_cast<Slot>(row[0]);
    const int n = static_cast<unsigned char>(row[1]);
    // The flow id: the second value (after run_id) of the per-flow rows, an
    // ICMP error's where its columns put it (null when no flow matched).
    constexpr int kIcmpFlowId = records::value_index(records::IcmpError::kColumns, "flow_id");
    const int id_at = slot == Slot::IcmpError ? kIcmpFlowId : (slot == Slot::UpdateRun ? -1 : 1);
    size_t at = 2;
    for (int i = 0; i < n; ++i) {
        if (at >= avail) return 0;
        const char tag = row[at++];
        size_t len = 0;
        if (tag == kIntValue || tag == kRealValue) {
            len = 8;
            if (tag == kIntValue && i == id_at && flow_id && at + 8 <= avail) *flow_id = const_cast<char*>(row + at);
        } else if (tag == kTextValue) {
            uint32_t l;
            if (at + 4 > avail) return 0;
            std::memcpy(&l, row + at, 4);
            len = 4 + size_t{l};
        }
        if (avail - at < len) return 0;
        at += len;
    }
    return at;
}

}  // namespace callwall::store
