#include "probes/notify_request.hpp"

namespace soawatch {

namespace {

// A NOTIFY has one question and perhaps the new SOA in the answer section (RFC 1996 3.7), and a
// TSIG or OPT record: a handful of records. More is not a NOTIFY worth parsing.
constexpr std::size_t kMaxRecords = 64;

}  // namespace

NotifyRequest decode_notify(std::span<const uint8_t> datagram) {
    NotifyRequest request;
    auto parsed = dns::parse_message(datagram, kMaxRecords);
    request.message = std::move(parsed.message);
    const auto& msg = request.message;
    if (!parsed.ok()) {
        request.ignored = "malformed: " + std::string(dns::parse_error_name(parsed.error));
    } else if (msg.header.qr) {
        request.ignored = "a response, not a request";
    } else if (msg.header.opcode != dns::opcode::NOTIFY) {
        request.ignored = "opcode " + std::to_string(msg.header.opcode) + ", not NOTIFY";
    } else if (msg.questions.size() != 1) {
        request.ignored = std::to_string(msg.questions.size()) + " questions, not one";
    } else if (msg.questions[0].type != dns::rrtype::SOA ||
               msg.questions[0].qclass != dns::class_IN) {
        request.ignored = "not a NOTIFY for an SOA of class IN";
    } else {
        request.zone = dns::canonical_name(msg.questions[0].name);
    }
    return request;
}

std::vector<uint8_t> answer_notify(const NotifyRequest& request, bool watched) {
    if (request.zone.empty()) return {};
    return dns::build_notify_response(request.message,
                                      watched ? dns::rcode::NOERROR : dns::rcode::NOTAUTH);
}

}  // namespace soawatch
