// Vendor addresses from DNS answers. See run/vendor_addresses.hpp.
#include "run/vendor_addresses.hpp"

#include <algorithm>

namespace callwall::run {

void VendorAddresses::dns_answer(const facts::DnsAnswerFact& f) {
    if (!f.has_address || f.address.family == 0) return;
    if (std::find(seen_.begin(), seen_.end(), f.address) != seen_.end()) return;
    if (catalog_.vendor_for_host(f.qname).count == 0) return;
    add(f.address);
}

void VendorAddresses::add(const decode::IpAddr& a) {
    if (seen_.size() >= catalog::kMaxFilterAddresses) {
        ++left_out_;
        return;
    }
    seen_.push_back(a);
    addresses_.push_back(decode::to_string(a));
}

void VendorAddresses::take_from(const VendorAddresses& other, Cursor& at) {
    for (; at.addresses < other.seen_.size(); ++at.addresses) {
        const decode::IpAddr& a = other.seen_[at.addresses];
        if (std::find(seen_.begin(), seen_.end(), a) == seen_.end()) add(a);
    }
    left_out_ += other.left_out_ - at.left_out;  // beyond the worker's own bound
    at.left_out = other.left_out_;
}

}  // namespace callwall::run
