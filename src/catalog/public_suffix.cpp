// The Public Suffix List. See catalog/public_suffix.hpp.
#include "catalog/public_suffix.hpp"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "catalog/host_text.hpp"

namespace callwall::catalog {

PublicSuffixList::PublicSuffixList(std::string_view text) : text_(text) {
    for (char& c : text_) c = ascii_lower(c);
    const std::string_view all = text_;
    size_t pos = 0;
    Section section = Section::Icann;
    while (pos < all.size()) {
        size_t end = all.find('\n', pos);
        if (end == std::string_view::npos) end = all.size();
        std::string_view line = all.substr(pos, end - pos);
        pos = end + 1;
        // A rule is the line's first word; "//" starts a comment.
        if (line.substr(0, 2) == "//") {
            if (line.find("===begin private domains===") != std::string_view::npos) section = Section::Private;
            continue;
        }
        const size_t space = line.find_first_of(" \t\r");
        if (space != std::string_view::npos) line = line.substr(0, space);
        if (line.empty()) continue;
        if (line.substr(0, 2) == "*.")
            wildcards_.emplace_back(line.substr(2), section);
        else if (line[0] == '!')
            exceptions_.push_back(line.substr(1));
        else
            rules_.emplace_back(line, section);
    }
    const auto by_name = [](const Rule& a, const Rule& b) { return a.first < b.first; };
    std::stable_sort(rules_.begin(), rules_.end(), by_name);
    std::stable_sort(wildcards_.begin(), wildcards_.end(), by_name);
    std::sort(exceptions_.begin(), exceptions_.end());
}

const PublicSuffixList::Rule* PublicSuffixList::find(const std::vector<Rule>& rules, std::string_view name) noexcept {
    const auto it = std::lower_bound(rules.begin(), rules.end(), name,
                                     [](const Rule& r, std::string_view n) { return r.first < n; });
    return it != rules.end() && it->first == name ? &*it : nullptr;
}

const PublicSuffixList* PublicSuffixList::system() {
    static const std::unique_ptr<const PublicSuffixList> list = []() -> std::unique_ptr<const PublicSuffixList> {
        std::ifstream in(kPublicSuffixListPath, std::ios::binary);
        if (!in) return nullptr;
        std::ostringstream text;
        text << in.rdbuf();
        return std::make_unique<const PublicSuffixList>(text.str());
    }();
    return list.get();
}

PublicSuffixList::Section PublicSuffixList::public_suffix(std::string_view name) const {
    if (name.empty()) return Section::None;
    if (const Rule* r = find(rules_, name)) return r->second;
    if (std::binary_search(exceptions_.begin(), exceptions_.end(), name)) return Section::None;
    const size_t dot = name.find('.');
    if (dot == std::string_view::npos) return Section::Icann;  // the default rule "*": any top-level label
    const Rule* w = find(wildcards_, name.substr(dot + 1));
    return w ? w->second : Section::None;
}

}  // namespace callwall::catalog
