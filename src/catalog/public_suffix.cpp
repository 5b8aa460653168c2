// The Public Suffix List. See catalog/public_suffix.hpp.
#include "catalog/public_suffix.hpp"

#include <fstream>
#include <memory>
#include <sstream>

#include "catalog/host_text.hpp"

namespace callwall::catalog {

PublicSuffixList::PublicSuffixList(std::string_view text) {
    size_t pos = 0;
    Section section = Section::Icann;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        // A rule is the line's first word; "//" starts a comment.
        const size_t space = line.find_first_of(" \t\r");
        if (line.find("===BEGIN PRIVATE DOMAINS===") != std::string_view::npos) section = Section::Private;
        if (space != std::string_view::npos) line = line.substr(0, space);
        if (line.empty() || line.substr(0, 2) == "//") continue;
        std::string rule;
        for (char c : line) rule.push_back(ascii_lower(c));
        if (rule.substr(0, 2) == "*.")
            wildcards_.emplace(rule.substr(2), section);
        else if (rule[0] == '!')
            exceptions_.insert(rule.substr(1));
        else
            rules_.emplace(rule, section);
    }
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
    const std::string key(name);
    if (const auto it = rules_.find(key); it != rules_.end()) return it->second;
    if (exceptions_.count(key)) return Section::None;
    const size_t dot = name.find('.');
    if (dot == std::string_view::npos) return Section::Icann;  // the default rule "*": any top-level label
    const auto it = wildcards_.find(std::string(name.substr(dot + 1)));
    return it == wildcards_.end() ? Section::None : it->second;
}

}  // namespace callwall::catalog
