// Catalog queries. The per-flow ones (match_host, entry_has_port,
// vendor_for_host, match_any_destination) are noexcept and allocation-free.
#include <algorithm>
#include <filesystem>

#include "catalog/catalog.hpp"

namespace callwall::catalog {

namespace {

template <class T>
const T* find_by_id(const std::vector<std::pair<std::string, uint32_t>>& ids, const std::vector<T>& items,
                    std::string_view id) noexcept {
    auto it = std::lower_bound(
        ids.begin(), ids.end(), id,
        [](const std::pair<std::string, uint32_t>& p, std::string_view k) { return p.first.compare(k) < 0; });
    if (it == ids.end() || it->first != id) return nullptr;
    return &items[it->second];
}

// Insertion sort: at most kMaxHostMatches elements, no allocation.
template <class T>
void sort_small(T* v, size_t n) noexcept {
    for (size_t i = 1; i < n; ++i) {
        const T x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            --j;
        }
        v[j] = x;
    }
}

}  // namespace

const Entry* Catalog::find_entry(std::string_view id) const noexcept { return find_by_id(entry_ids_, entries_, id); }

const Product* Catalog::find_product(std::string_view id) const noexcept {
    return find_by_id(product_ids_, products_, id);
}

std::optional<uint32_t> Catalog::entry_index(std::string_view id) const noexcept {
    const Entry* e = find_entry(id);
    if (!e) return std::nullopt;
    return static_cast<uint32_t>(e - entries_.data());
}

std::optional<uint16_t> Catalog::vendor_index(std::string_view vendor) const noexcept {
    auto it = std::lower_bound(vendors_.begin(), vendors_.end(), vendor,
                               [](const std::string& a, std::string_view b) { return a.compare(b) < 0; });
    if (it == vendors_.end() || *it != vendor) return std::nullopt;
    return static_cast<uint16_t>(it - vendors_.begin());
}

void Catalog::match_host(std::string_view host, HostMatches& out) const noexcept {
    bool overflowed = false;
    out.count = static_cast<uint32_t>(entry_index_.lookup(host, out.entries, overflowed));
    out.overflowed = overflowed;
    sort_small(out.entries.data(), out.count);
}

bool Catalog::entry_has_port(uint32_t idx, uint16_t port) const noexcept {
    return idx < entries_.size() && entries_[idx].port_set.contains(port);
}

VendorMatches Catalog::vendor_for_host(std::string_view host) const noexcept {
    VendorMatches out;
    std::array<uint32_t, kMaxVendorMatches> buf{};
    bool overflowed = false;
    const size_t n = vendor_index_.lookup(host, buf, overflowed);
    for (size_t i = 0; i < n; ++i) out.vendors[i] = static_cast<uint16_t>(buf[i]);
    out.count = static_cast<uint32_t>(n);
    out.overflowed = overflowed;
    sort_small(out.vendors.data(), out.count);
    return out;
}

std::pair<std::string, std::string> edition_rank(const Document& d) {
    // list_version is a number of fixed width (Microsoft's 2022072800):
    // longer is larger, then the text.
    std::string version = std::string(10 - std::min<size_t>(d.list_version.size(), 10), '0') + d.list_version;
    return {d.date.empty() ? d.transcribed : d.date, version};
}

uint32_t Catalog::judging_document(uint16_t vendor_index) const noexcept {
    return vendor_index < judging_document_.size() ? judging_document_[vendor_index] : 0;
}

std::string Catalog::choose_edition(std::string_view name) {
    std::vector<uint32_t> found;
    for (uint32_t i = 0; i < documents_.size(); ++i) {
        const Document& d = documents_[i];
        const std::string file = std::filesystem::path(d.catalog_file).filename().string();
        const std::string stem = std::filesystem::path(d.catalog_file).stem().string();
        if ((!d.edition.empty() && d.edition == name) || file == name || stem == name) found.push_back(i);
    }
    if (found.empty()) {
        std::string known;
        for (const Document& d : documents_) {
            bool several = false;
            for (const Document& o : documents_) several |= &o != &d && o.vendor == d.vendor;
            if (!several) continue;
            known += (known.empty() ? "" : ", ") + std::string("'") +
                     (d.edition.empty() ? std::filesystem::path(d.catalog_file).stem().string() : d.edition) + "' (" +
                     d.vendor + ")";
        }
        return "no edition '" + std::string(name) + "' in the catalog; editions: " + (known.empty() ? "none" : known);
    }
    const std::string& vendor = documents_[found.front()].vendor;
    for (uint32_t i : found)
        if (documents_[i].vendor != vendor)
            return "edition '" + std::string(name) + "' names editions of " + vendor + " and of " +
                   documents_[i].vendor + "; give the catalog file's name instead";
    if (found.size() > 1)
        return "edition '" + std::string(name) + "' names " + std::to_string(found.size()) + " documents of " + vendor +
               "; give the catalog file's name instead";
    const auto vi = vendor_index(vendor);
    if (vi && *vi < judging_document_.size()) judging_document_[*vi] = found.front();
    return "";
}

std::vector<PortRange> Catalog::inbound_local_ports() const {
    std::vector<PortRange> out;
    for (const auto& e : entries_)
        if (e.direction == Direction::Inbound)
            for (const auto& r : e.port_set.intervals()) out.push_back(r);
    return out;
}

std::span<const uint32_t> Catalog::any_destination_entries(Transport t) const noexcept {
    return any_entries_[static_cast<size_t>(t)];
}

std::span<const uint32_t> Catalog::port_hint_entries(Transport t, uint16_t port) const noexcept {
    const PortHintIndex& x = port_hints_[static_cast<size_t>(t)];
    if (x.starts.empty()) return {};
    // The last segment starting at or below the port (starts[0] is 0).
    const auto seg =
        static_cast<size_t>(std::upper_bound(x.starts.begin(), x.starts.end(), uint32_t{port}) - x.starts.begin()) - 1;
    return std::span<const uint32_t>(x.entries).subspan(x.offsets[seg], x.offsets[seg + 1] - x.offsets[seg]);
}

void Catalog::match_any_destination(Transport t, uint16_t port, HostMatches& out) const noexcept {
    out.clear();
    // Linear over ANY entries only: the catalog has a handful (Sendbird P2P,
    // Whereby has none); names never go through this path.
    for (uint32_t idx : any_entries_[static_cast<size_t>(t)]) {
        if (!entries_[idx].port_set.contains(port)) continue;
        if (out.count < kMaxHostMatches) {
            out.entries[out.count++] = idx;
        } else {
            out.overflowed = true;
        }
    }
}

bool Catalog::prefers_udp(uint16_t vendor_index) const noexcept {
    return vendor_index < vendor_prefers_udp_.size() && vendor_prefers_udp_[vendor_index] != 0;
}

}  // namespace callwall::catalog
