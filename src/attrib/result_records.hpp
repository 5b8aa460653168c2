// Attribution's results as the records a writer takes (records/attribution.hpp):
// each flow's matches and vendor gaps, each entry as the run judged it and
// its verdict, each product's conclusion. The words and JSON lists of the
// tables are made here; a writer (the store's AttributionIo) binds the
// records as they are.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attrib/attrib.hpp"
#include "catalog/catalog.hpp"
#include "records/attribution.hpp"

namespace callwall::attrib {

/// A match of flow `flow_id` to an entry of `c`.
[[nodiscard]] records::FlowMatch match_record(uint64_t flow_id, const catalog::Catalog& c, const Match& m,
                                              bool counted) noexcept;

/// A flow of a vendor that no entry of the vendor explains.
[[nodiscard]] records::UnmatchedFlow gap_record(uint64_t flow_id, const catalog::Catalog& c, const Gap& g) noexcept;

/// An entry's catalog_entry and verdict records, with the text (its ports,
/// destinations and conditions; the verdict's lists as JSON arrays) they
/// view: neither copied nor moved.
class EntryRecords {
public:
    /// `document_title`: the title of the entry's vendor document (catalog
    /// [document] title), shown as the report's source.
    EntryRecords(const catalog::Entry& e, std::string_view document_title, const EntryVerdict& v);
    EntryRecords(const EntryRecords&) = delete;
    EntryRecords& operator=(const EntryRecords&) = delete;

    [[nodiscard]] const records::CatalogEntry& entry() const noexcept { return entry_; }
    [[nodiscard]] const records::Verdict& verdict() const noexcept { return verdict_; }

private:
    std::string ports_, destinations_, conditions_, reasons_, observed_, blocked_, evidence_;
    records::CatalogEntry entry_;
    records::Verdict verdict_;
};

/// Each product's conclusion as a record (views into `products`).
[[nodiscard]] std::vector<records::ProductVerdict> product_records(std::span<const ProductConclusion> products);

}  // namespace callwall::attrib
