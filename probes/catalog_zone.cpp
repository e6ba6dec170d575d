#include "probes/catalog_zone.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "probes/tsig.hpp"

namespace soawatch {

namespace {

// The labels of `name` below `parent` (both canonical), outermost last: "a.b.zones.cat." under
// "zones.cat." is {"a", "b"}. nullopt when `name` is not at or below `parent`. Labels are split
// on unescaped dots: canonical names keep a label's own dot escaped ("a\.b").
std::optional<std::vector<std::string>> labels_below(const std::string& name,
                                                     const std::string& parent) {
    if (name == parent) return std::vector<std::string>{};
    if (name.size() <= parent.size() + 1 || !name.ends_with(parent) ||
        name[name.size() - parent.size() - 1] != '.')
        return std::nullopt;
    const std::string_view head(name.data(), name.size() - parent.size() - 1);
    // The dot before `parent` must not be an escaped one ("a\." + "zones.cat.").
    std::size_t backslashes = 0;
    for (std::size_t i = head.size(); i > 0 && head[i - 1] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 1) return std::nullopt;
    std::vector<std::string> labels;
    std::string label;
    for (std::size_t i = 0; i < head.size(); ++i) {
        if (head[i] == '\\' && i + 1 < head.size()) {
            label += head[i];
            label += head[++i];
        } else if (head[i] == '.') {
            labels.push_back(std::move(label));
            label.clear();
        } else {
            label += head[i];
        }
    }
    labels.push_back(std::move(label));
    return labels;
}

// TXT RDATA (RFC 1035 3.3.14): one or more <character-string>s. nullopt when malformed.
std::optional<std::vector<std::string>> txt_strings(const std::vector<uint8_t>& rdata) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < rdata.size()) {
        const std::size_t length = rdata[pos++];
        if (pos + length > rdata.size()) return std::nullopt;
        out.emplace_back(rdata.begin() + static_cast<long>(pos),
                         rdata.begin() + static_cast<long>(pos + length));
        pos += length;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

CatalogParse broken(std::string why) {
    CatalogParse parse;
    parse.error = std::move(why);
    return parse;
}

std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out += u >= 0x20 && u < 0x7f ? std::string(1, c) : "?";
    }
    return out;
}

}  // namespace

CatalogParse parse_catalog(std::string_view catalog_name,
                           std::span<const dns::ResourceRecord> records) {
    const std::string catalog = dns::canonical_name(catalog_name);
    const std::string zones_node = "zones." + catalog;
    const std::string version_node = "version." + catalog;

    std::optional<dns::SoaRdata> soa;
    std::set<std::vector<uint8_t>> version_rdata;  // a set: an AXFR may repeat a record
    // unique-id -> the PTR targets at its member node (distinct RDATA)
    std::map<std::string, std::set<std::string>> member_ptrs;
    std::map<std::string, std::set<std::string>> coo_ptrs;
    for (const auto& rr : records) {
        if (rr.type == dns::rrtype::OPT || rr.type == tsig::kRrType) continue;
        // RFC 9432 4: "The CLASS field of every RR in a catalog zone MUST be IN (1)."
        if (rr.rclass != dns::class_IN)
            return broken("record of class " + std::to_string(rr.rclass) + " at " + rr.owner +
                          " (RFC 9432 4: every record must be of class IN)");
        const std::string owner = dns::canonical_name(rr.owner);
        if (!dns::names_equal(owner, catalog) && !labels_below(owner, catalog))
            return broken("record at " + owner + ", outside the catalog zone " + catalog);
        if (rr.type == dns::rrtype::SOA && owner == catalog && rr.soa) {
            soa = rr.soa;
            continue;
        }
        if (owner == version_node && rr.type == dns::rrtype::TXT) {
            version_rdata.insert(rr.rdata);
            continue;
        }
        const auto below = labels_below(owner, zones_node);
        if (!below || below->empty()) continue;     // elsewhere in the zone: not the schema's
        if (rr.type != dns::rrtype::PTR) continue;  // group TXT, custom properties: ignored
        if (below->size() == 1) {
            member_ptrs[(*below)[0]].insert(dns::canonical_name(rr.target));
        } else if (below->size() == 2 && (*below)[0] == "coo") {
            coo_ptrs[(*below)[1]].insert(dns::canonical_name(rr.target));
        } else if (below->size() >= 2 && (*below)[below->size() - 2] == "ext") {
            continue;  // RFC 9432 4.4: custom member properties, free form
        } else {
            return broken("PTR record at " + owner + " is not a member (<unique-id>.zones." +
                          catalog + ") nor a known member property (RFC 9432 4.1)");
        }
    }
    if (!soa) return broken("no SOA record at the apex " + catalog);
    // RFC 9432 4.2.1: exactly one TXT record at version.CATALOG, and consumers must not process
    // a catalog whose version they do not know.
    if (version_rdata.empty())
        return broken("no version property (TXT at " + version_node + ", RFC 9432 4.2.1)");
    if (version_rdata.size() > 1)
        return broken(std::to_string(version_rdata.size()) + " TXT records at " + version_node +
                      " (RFC 9432 4.2.1: exactly one)");
    const auto strings = txt_strings(*version_rdata.begin());
    if (!strings) return broken("malformed TXT record at " + version_node);
    if (strings->size() != 1 || (*strings)[0] != kCatalogSchemaVersion) {
        std::string text;
        for (const auto& s : *strings) text += (text.empty() ? "\"" : " \"") + printable(s) + "\"";
        return broken("unsupported catalog schema version " + text + " (this reader knows \"" +
                      std::string(kCatalogSchemaVersion) + "\", RFC 9432 4.2.1)");
    }
    for (const auto& [id, targets] : member_ptrs) {
        if (targets.size() > 1)
            return broken(std::to_string(targets.size()) + " PTR records at member node " + id +
                          "." + zones_node + " (RFC 9432 4.1: exactly one)");
    }
    for (const auto& [id, targets] : coo_ptrs) {
        if (targets.size() > 1)
            return broken(std::to_string(targets.size()) + " PTR records at coo." + id + "." +
                          zones_node + " (RFC 9432 4.3.1: exactly one)");
    }

    CatalogMembers members;
    members.serial = soa->serial;
    members.refresh = soa->refresh;
    std::set<std::string> seen;
    // member_ptrs is ordered by unique ID: which of two listings of one zone is ignored does
    // not depend on the order of the transfer.
    for (const auto& [id, targets] : member_ptrs) {
        const std::string& zone = *targets.begin();
        if (!dns::validate_name(zone).empty() || zone == ".") {
            return broken("member " + id + "." + zones_node + " names an invalid zone " +
                          printable(zone));
        }
        if (!seen.insert(zone).second) members.duplicates.push_back(zone);
    }
    members.zones.assign(seen.begin(), seen.end());
    return CatalogParse{std::move(members), {}};
}

}  // namespace soawatch
