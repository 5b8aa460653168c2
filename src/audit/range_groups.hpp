// A vendor's published address ranges grouped by what a ruleset can tell
// apart (no I/O). Every range an entry lists is a destination the vendor
// uses, so the audit tries an address in each; ranges that the ruleset's own
// addresses, prefixes, ranges and set elements cover alike cannot be told
// apart by any of its rules, and one address stands for all of them. A range
// that a ruleset prefix covers only in part is cut at the prefix's edges.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "audit/ruleset_addresses.hpp"
#include "catalog/catalog.hpp"

namespace callwall::audit {

/// Published ranges (or parts of them) that the ruleset cannot tell apart.
struct AddressGroup {
    std::string address;  ///< the address probed for all of them (inside the first)
    /// The published ranges as written ("52.112.0.0/14"); a part of one as
    /// "52.112.0.0-52.112.255.255 of 52.112.0.0/14".
    std::vector<std::string> ranges;
};

/// The entry's IPv4 ranges grouped by which of `ruleset`'s ranges cover
/// them, in the order of their first range (0.0.0.0/0 singles nothing out).
/// Empty when the entry publishes no IPv4 range. At most `max_groups`
/// groups: past that, parts join the last group (the ruleset names so many
/// prefixes inside the vendor's ranges that trying each is unbounded).
[[nodiscard]] std::vector<AddressGroup> group_ranges(std::span<const catalog::AddressRange> published,
                                                     std::span<const V4Range> ruleset, size_t max_groups = 256);

/// The same for the entry's IPv6 ranges and the ruleset's IPv6 ones.
[[nodiscard]] std::vector<AddressGroup> group_ranges6(std::span<const catalog::AddressRange> published,
                                                      std::span<const V6Range> ruleset, size_t max_groups = 256);

/// "13.107.64.0/18", "52.112.0.0/14 and 52.120.0.0/14", "A, B and C".
[[nodiscard]] std::string ranges_text(const std::vector<std::string>& ranges);

}  // namespace callwall::audit
