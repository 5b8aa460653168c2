// Vendor addresses from DNS answers. See pipeline/vendor_addresses.hpp.
#include "pipeline/vendor_addresses.hpp"

#include <algorithm>

namespace callwall::pipeline {

void VendorAddresses::dns_answer(const DnsAnswerFact& f) {
    if (!f.has_address || f.address.family == 0) return;
    if (std::find(seen_.begin(), seen_.end(), f.address) != seen_.end()) return;
    if (catalog_.vendor_for_host(f.qname).count == 0) return;
    if (seen_.size() >= catalog::kMaxFilterAddresses) {
        ++left_out_;
        return;
    }
    seen_.push_back(f.address);
    addresses_.push_back(decode::to_string(f.address));
}

}  // namespace callwall::pipeline
