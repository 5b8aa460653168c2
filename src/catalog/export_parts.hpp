// `catalog export`'s parts shared with the address code (private to src/catalog).
#pragma once
#include <string>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::catalog::export_detail {

/// The CIDR prefixes that make up an address item, fewest, in order: a
/// prefix is itself, a start-end range is split (an ipset hash:net holds
/// prefixes only).
[[nodiscard]] std::vector<std::string> cidrs_of(const AddressRange& r);

}  // namespace callwall::catalog::export_detail
