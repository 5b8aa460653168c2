// The Public Suffix List (https://publicsuffix.org/list/), as Debian's
// `publicsuffix` package ships it: which names are suffixes under which
// unrelated parties register their own (com, co.uk, com.au, github.io). A
// catalog pattern anchored at one ("*.co.uk", ".github.io") would match every
// site under it, so the catalog refuses it.
//
// Rules (publicsuffix.org "Formal algorithm"): a plain rule names a public
// suffix; "*.x" makes every label under x one; "!a.x" is an exception to a
// wildcard; a single label is one (the default rule "*"). The list's two
// sections are told apart: ICANN (co.uk) and PRIVATE (hosting platforms:
// github.io, cloudfront.net). Not supported: IDN rules are matched as
// written (the catalog's names are ASCII).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callwall::catalog {

/// Where Debian's package puts the list.
inline constexpr const char* kPublicSuffixListPath = "/usr/share/publicsuffix/public_suffix_list.dat";

class PublicSuffixList {
public:
    /// Parses the list's text (comments, blank lines and rules).
    explicit PublicSuffixList(std::string_view text);
    // The rules are views into text_: a copy or a move would leave them
    // pointing into another object's (or a short string's moved) buffer.
    PublicSuffixList(const PublicSuffixList&) = delete;
    PublicSuffixList& operator=(const PublicSuffixList&) = delete;

    /// The list at kPublicSuffixListPath, read once; null when absent
    /// (the check is then skipped).
    [[nodiscard]] static const PublicSuffixList* system();

    enum class Section : uint8_t { None, Icann, Private };
    /// Whether `name` (lower case, no trailing dot) is itself a public
    /// suffix, and of which section (None: it is not).
    [[nodiscard]] Section public_suffix(std::string_view name) const;

    [[nodiscard]] size_t size() const noexcept { return rules_.size() + wildcards_.size(); }

private:
    using Rule = std::pair<std::string_view, Section>;
    /// The first rule for `name` in `rules` (sorted by name, list order kept among equals), or null.
    [[nodiscard]] static const Rule* find(const std::vector<Rule>& rules, std::string_view name) noexcept;

    /// The list in lower case; the rules are views into it (parsed once per
    /// run, about 10,000 rules: no string of their own each).
    std::string text_;
    std::vector<Rule> rules_, wildcards_;  ///< wildcards_: "x" for "*.x"
    std::vector<std::string_view> exceptions_;  ///< sorted
};

}  // namespace callwall::catalog
