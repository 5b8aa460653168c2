// `catalog list` with each file's age, and the names `catalog export` gives
// an entry's sets (for `catalog show` and the tests that load the export).
#pragma once

#include <string>
#include <string_view>

#include "catalog/catalog.hpp"

namespace callwall::catalog {

/// `catalog list`: render_text's tables, then a table of the files with
/// what dates each (the page's or seed document's date; else the day its
/// list version names, as Microsoft's "2022072800"; else the day it was
/// transcribed) and, given `today` (YYYY-MM-DD), its age in the headings
/// and the table ("page dated 2026-03-16, 256 days old"); an empty or
/// malformed `today` leaves the ages out.
[[nodiscard]] std::string render_text(const Catalog& c, const Selection& sel, std::string_view today);

/// The base name of the set `render_export` puts an entry's own `addresses`
/// in (+ "_v4"/"_v6"; in iptables the list:set of those two): "callwall_net_"
/// and the id with every character other than a-z and 0-9 made '_'; longer
/// than 28 characters, its first 23 and '_' with 4 hex digits of a hash of
/// the whole ("callwall_net_twilio_nts_05ac": ipset names hold 31).
[[nodiscard]] std::string range_set_name(const Entry& e);

}  // namespace callwall::catalog
