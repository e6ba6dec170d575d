// The delegation check's answers (agent/delegation_check): what one server said to an NS query
// for a zone (RD=0), and to an A or AAAA query for one of the zone's in-zone nameserver names.
// The classifiers are pure (bytes to observation) and fuzzed: everything here came from the
// network.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "agent/common/shared_list.hpp"
#include "probes/observation.hpp"

namespace soawatch {

// One server's answer to "ZONE NS" with RD=0.
struct NsObservation {
    ProbeTarget target;
    std::string error;  // why there is no NS set from it (empty: `names` is its answer)
    // The names came from a referral (authority section, no AA): the parent's view of the
    // delegation (RFC 1034 4.3.2 step 3b). False: an authoritative answer, the zone's own view.
    bool referral = false;
    // Canonical NS targets, sorted, each once; shared: the delegation check keeps every zone's,
    // and most zones of an operator have the same NS set (agent/delegation_check).
    SharedStringList names;
    // Glue (RFC 1034 4.2.1): A/AAAA records of the additional section owned by one of `names`,
    // as (canonical name, address) pairs, sorted, each once.
    std::vector<std::pair<std::string, std::string>> glue;
    bool usable() const { return error.empty(); }
    bool operator==(const NsObservation&) const = default;
};

// One server's answer to "NAME A" or "NAME AAAA" with RD=0.
struct AddressObservation {
    std::string name;  // canonical
    uint16_t type = 0;
    ProbeTarget target;
    std::string error;                   // empty: `addresses` is its authoritative answer
    std::vector<std::string> addresses;  // textual, sorted, each once; empty: NODATA
    bool operator==(const AddressObservation&) const = default;
};

// Fills `obs` from one answer to "zone NS". Checked in a fixed order: parse, QR, question, TC
// (returns true: ask again over TCP, RFC 7766 section 5), rcode, then either an authoritative
// NS RRset at the zone's name or a referral to it. Anything else is an error text.
bool classify_ns_answer(std::span<const uint8_t> wire, const std::string& zone, Transport transport,
                        NsObservation& obs);

// The same for "name A" / "name AAAA": an authoritative answer (AA) whose answer section holds
// the name's records of that type (none: NODATA, an empty list). A CNAME is an error: an NS
// name must not be an alias (RFC 2181 10.3).
bool classify_address_answer(std::span<const uint8_t> wire, const std::string& name, uint16_t type,
                             Transport transport, AddressObservation& obs);

}  // namespace soawatch
