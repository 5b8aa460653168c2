// `callwall catalog import`: a vendor's machine-readable list (read from a
// local file: no network at run time) written as a schema-2 catalog file,
// with the list's version in [document] list_version.
//
// Formats:
//   o365           Microsoft 365's endpoints web service JSON (the array of
//                  endpoint sets: id, serviceArea, urls, ips, tcpPorts,
//                  udpPorts, category, required, notes). The JSON carries no
//                  version: give it (the service's /endpoints/version).
//   aws-ip-ranges  AWS ip-ranges.json (syncToken, createDate, prefixes,
//                  ipv6_prefixes): the prefixes of one service
//                  (CHIME_MEETINGS by default). The list has no ports: the
//                  vendor's page gives them (--transport, --ports).
//   cidr-list      one item a line, as Zoom, Webex and others publish their
//                  ranges: an IPv4 or IPv6 prefix, a bare address, or a
//                  start-end range; '#' starts a comment, blank lines are
//                  skipped. A line that is none of these is an error naming
//                  its line (ImportResult::error_line). The list names no
//                  vendor, page or ports: --vendor and --url are required,
//                  the ports come from the vendor's page (--ports).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::catalog {

struct ImportOptions {
    std::string format;  ///< "o365", "aws-ip-ranges" or "cidr-list"
    std::string vendor;  ///< [document] vendor (default per format)
    std::string id_prefix;  ///< entry id prefix (default per format)
    std::string url;  ///< the page the list belongs to (default per format)
    std::string transcribed;  ///< ISO date written as `transcribed` (required)
    std::string list_version;  ///< o365: required; aws-ip-ranges: from the file when empty; cidr-list: optional
    std::string date;  ///< the page's date (ISO), written as [document] date; empty: undated
    std::string edition;  ///< [document] edition; empty: none
    std::string title;  ///< [document] title (default per format)
    std::string service;  ///< o365: serviceArea filter ("Skype" for Teams; empty: all); aws: the service
    /// aws-ip-ranges, cidr-list: the entries' transports and ports (from the vendor's page).
    std::vector<std::pair<Transport, std::vector<PortRange>>> ports;
};

struct ImportResult {
    std::string toml;  ///< the catalog file; empty on error
    std::string error;  ///< why nothing was written
    size_t error_line = 0;  ///< cidr-list: the line of the list the error is about (1-based; 0: none)
    std::vector<std::string> skipped;  ///< what of the list was left out, and why
    size_t entries = 0;
};

/// Converts the list; the result loads (it is checked with load_string).
[[nodiscard]] ImportResult import_list(std::string_view text, const ImportOptions& opt);

}  // namespace callwall::catalog
