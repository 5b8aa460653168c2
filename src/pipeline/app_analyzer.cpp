// Dispatch helpers of the analyzer registry. See pipeline/app_analyzer.hpp.
#include "pipeline/app_analyzer.hpp"

#include <cstring>

namespace callwall::pipeline {

AppAnalyzer* DissectShared::find(std::string_view name) const noexcept {
    const auto rows = registry();
    for (size_t i = 0; i < rows.size() && i < analyzers.size(); ++i)
        if (rows[i].name == name) return analyzers[i].get();
    return nullptr;
}

int classify(std::span<const AnalyzerRow> rows, const flow::Flow& f, flow::Dir d, ByteView payload) noexcept {
    const L4 l4 = f.proto == decode::kProtoTcp ? L4::Tcp : L4::Udp;
    for (size_t i = 0; i < rows.size(); ++i) {
        const AnalyzerRow& row = rows[i];
        if (row.l4 != l4) continue;
        const bool hinted = row.port_use != PortUse::Any &&
                            (in_ranges(row.ports, f.server_port) || in_ranges(row.ports, f.client_port));
        if (row.port_use == PortUse::Required && !hinted) continue;
        if (row.probe(ProbeInput{f, d, payload, hinted})) return static_cast<int>(i);
    }
    return -1;
}

size_t label_text(std::span<const std::string_view> labels, uint16_t bits, char* buf, size_t cap) noexcept {
    size_t n = 0;
    for (size_t i = 0; i < labels.size() && i < 16; ++i) {
        if (!(bits & (1u << i))) continue;
        const size_t need = labels[i].size() + (n ? 1 : 0);
        if (n + need > cap) break;
        if (n) buf[n++] = '+';
        std::memcpy(buf + n, labels[i].data(), labels[i].size());
        n += labels[i].size();
    }
    return n;
}

}  // namespace callwall::pipeline
