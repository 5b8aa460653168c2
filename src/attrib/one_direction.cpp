// Which of a capture's interfaces hold one direction only (attrib.hpp's
// OneDirection): each judged on its own, from the flows seen on it.
#include <string>
#include <vector>

#include "attrib/attrib.hpp"

namespace callwall::attrib {

void OneDirection::add(uint32_t interfaces, bool far_side, uint64_t flows) {
    if (interfaces == 0) interfaces = 1;
    seen_ |= interfaces;
    if (far_side) far_side_ |= interfaces;
    for (auto& [set, n] : by_interfaces_)
        if (set == interfaces) {
            n += flows;
            return;
        }
    by_interfaces_.emplace_back(interfaces, flows);
}

uint64_t OneDirection::flows_on(uint32_t interfaces) const noexcept {
    uint64_t n = 0;
    for (const auto& [set, count] : by_interfaces_)
        if ((set & interfaces) != 0) n += count;
    return n;
}

uint64_t OneDirection::flows_for(uint32_t interfaces) const noexcept {
    if (interfaces == 0) interfaces = 1;
    const uint32_t one = one_sided();
    return one != 0 && (interfaces & ~one) == 0 ? flows_on(interfaces) : 0;
}

std::vector<std::string> OneDirection::notes() const {
    const uint32_t one = one_sided();
    if (one == 0) return {};
    if (one == seen_) return {one_direction_note(flows())};
    std::vector<std::string> out;
    for (int i = 0; i < 32; ++i) {
        const uint32_t bit = uint32_t{1} << i;
        if ((one & bit) == 0) continue;
        out.push_back((i < 31 ? "interface " + std::to_string(i) : std::string("interfaces 31 and above")) +
                      " of this capture holds one direction only: " + std::to_string(flows_on(bit)) +
                      " flows, no packet from any server (the others show both)");
    }
    return out;
}

}  // namespace callwall::attrib
