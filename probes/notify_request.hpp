// One datagram on the NOTIFY port, decoded and checked (RFC 1996), and the answer to it. Pure:
// the NotifyListener sends what this decides, the notify fuzz target feeds it arbitrary bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"

namespace soawatch {

struct NotifyRequest {
    // Canonical name of the zone the NOTIFY announces; empty when the datagram is not a NOTIFY
    // for an SOA (then `ignored` says why and no answer is sent: answering junk or answers
    // would make the listener a reflector).
    std::string zone;
    std::string ignored;
    dns::Message message;  // as parsed, for the answer
};

// Decodes a datagram: a query (QR=0) with opcode NOTIFY and exactly one question of type SOA,
// class IN (RFC 1996 section 3.7).
NotifyRequest decode_notify(std::span<const uint8_t> datagram);

// The answer to a decoded NOTIFY (RFC 1996 section 4.7): NOERROR when the zone is watched,
// NOTAUTH when it is not. Empty for a request decode_notify ignored.
std::vector<uint8_t> answer_notify(const NotifyRequest& request, bool watched);

}  // namespace soawatch
