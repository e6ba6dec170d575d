// An answered NSID (RFC 5001): the shared copy probes and statuses keep, and how it reads to
// people, in JSON and in metric labels.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace soawatch {

// An answered NSID's octets, as probes and statuses keep them: one instance answers for many
// zones, so its identity is one shared copy (16 bytes a row instead of a string each; 300,000
// addresses at 100,000 zones). Empty when none was answered; an empty NSID (a server without an
// identity) is the same as none. Reads as a string_view; never written after it is made.
class SharedNsid {
  public:
    SharedNsid() = default;
    // The octets, as a copy shared with the other statuses of the same identity: the last few
    // identities made on this thread are reused. A fixed handful, so a server that sends a new
    // identity with every answer costs one copy per answer, never a growing table.
    static SharedNsid of(std::string_view octets);

    bool empty() const { return octets_ == nullptr; }
    explicit operator bool() const { return !empty(); }
    std::string_view view() const {
        return octets_ ? std::string_view(*octets_) : std::string_view();
    }
    operator std::string_view() const { return view(); }
    friend bool operator==(const SharedNsid& a, std::string_view b) {
        return !a.empty() && a.view() == b;
    }

  private:
    std::shared_ptr<const std::string> octets_;
};

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
