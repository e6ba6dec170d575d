// How a server's NSID (RFC 5001) reads to people, in JSON and in metric labels.
#pragma once

#include <string>
#include <string_view>

namespace soawatch {

// RFC 5001 2.3 leaves the NSID's content opaque: operators mostly configure a host name, but
// some servers send binary ids. These render the octets the way dig's +nsid does: hex always,
// and the text beside it when every octet is printable ASCII.

// True when the NSID is non-empty and every octet is printable ASCII (0x20..0x7e).
bool nsid_is_text(std::string_view octets);
// Lower-case hex, two digits per octet, no separators ("6e7331"); "" for an empty NSID.
std::string nsid_hex(std::string_view octets);
// The text when nsid_is_text, else the hex: the one form shown in tables and metric labels.
std::string nsid_display(std::string_view octets);

}  // namespace soawatch
