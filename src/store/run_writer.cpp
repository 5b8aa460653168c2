// The store's side of the packet path's sinks. See store/run_writer.hpp.
#include "store/run_writer.hpp"

#include <utility>

#include "util/clock.hpp"

namespace callwall::store {

RunWriter::RunWriter(Store& store, int64_t run_id, bool per_message_rows)
    : store_(store), run_id_(run_id), facts_(make_fact_writer(store, run_id, error_, per_message_rows)) {}

void RunWriter::flow_row(const facts::FlowEnd& e) {
    if (e.replace)
        store_.replace_flow(run_id_, e.record);
    else
        store_.add_flow(run_id_, e.record);
}

void RunWriter::icmp_error(const facts::IcmpErrorFact& e) {
    const decode::PacketMeta& m = *e.packet;
    // Addresses formatted into stack buffers: no allocation per packet.
    char from[64], to[64], qsrc[64], qdst[64];
    records::IcmpError row;
    row.ts = util::us_to_s(e.ts_us);
    row.family = m.ip_version;
    row.from_ip = {from, decode::format_ip(m.src, from, sizeof from)};
    row.to_ip = {to, decode::format_ip(m.dst, to, sizeof to)};
    row.type = m.icmp_type;
    row.code = m.icmp_code;
    row.ttl = m.ttl;
    if (m.quoted.src.family) {
        row.quoted_src = {qsrc, decode::format_ip(m.quoted.src, qsrc, sizeof qsrc)};
        row.quoted_dst = {qdst, decode::format_ip(m.quoted.dst, qdst, sizeof qdst)};
    }
    row.quoted_proto = m.quoted.proto;
    row.quoted_sport = m.quoted.sport;
    row.quoted_dport = m.quoted.dport;
    if (e.flow_id != 0) row.flow_id = static_cast<int64_t>(e.flow_id);
    store_.add(run_id_, row);
}

std::exception_ptr RunWriter::take_error() noexcept { return std::exchange(error_, nullptr); }

}  // namespace callwall::store
