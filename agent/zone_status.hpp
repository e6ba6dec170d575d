// The evaluated state of one zone: what the exporters (metrics, API, page, alerts) read.
// Produced by the Evaluator, published as immutable snapshots by the StatusStore.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/shared_list.hpp"
#include "agent/config/dnssec_mode.hpp"
#include "agent/delegation_status.hpp"
#include "agent/optional_moment.hpp"
#include "agent/shared_target.hpp"
#include "probes/discovery.hpp"
#include "probes/observation.hpp"
#include "probes/transfer_observation.hpp"

namespace soawatch {

// Where one nameserver address stands against the reference serial.
enum class ServerState : uint8_t {
    reference,     // the configured hidden primary, answering: it defines the reference
    in_sync,       // same serial as the reference
    behind,        // older than the reference (RFC 1982)
    ahead,         // newer than the reference (only possible with a configured primary)
    incomparable,  // RFC 1982 leaves the comparison undefined (difference of exactly 2^31)
    unusable,      // no usable SOA this round: see `error`
};
// One row per ServerState, in enum order: the name used by metrics, logs, JSON and alerts.
struct ServerStateInfo {
    ServerState state;
    std::string_view name;
};
inline constexpr std::array<ServerStateInfo, 6> kServerStates{{
    {ServerState::reference, "reference"},
    {ServerState::in_sync, "in_sync"},
    {ServerState::behind, "behind"},
    {ServerState::ahead, "ahead"},
    {ServerState::incomparable, "incomparable"},
    {ServerState::unusable, "unusable"},
}};
static_assert(kServerStates.back().state == ServerState::unusable, "the table covers the enum");
std::string_view server_state_name(ServerState s);

// Nagios/Icinga plugin conventions: the exit code of `soawatch check`.
enum class Verdict { ok = 0, warning = 1, critical = 2, unknown = 3 };
// One row per Verdict, in enum order: the plugin name (output, JSON, alerts), the status page's
// CSS class, and the rank that picks the worst of several zones (CRITICAL > WARNING > UNKNOWN >
// OK: an unusable zone outranks one that could not be checked, the plugin convention).
struct VerdictInfo {
    Verdict verdict;
    std::string_view name;
    std::string_view css_class;
    int severity_rank;
};
inline constexpr std::array<VerdictInfo, 4> kVerdicts{{
    {Verdict::ok, "OK", "ok", 0},
    {Verdict::warning, "WARNING", "warning", 2},
    {Verdict::critical, "CRITICAL", "critical", 3},
    {Verdict::unknown, "UNKNOWN", "unknown", 1},
}};
static_assert(kVerdicts.back().verdict == Verdict::unknown, "the table covers the enum");
constexpr const VerdictInfo& verdict_info(Verdict v) {
    return kVerdicts[static_cast<std::size_t>(v)];
}
std::string_view verdict_name(Verdict v);  // "OK", "WARNING", "CRITICAL", "UNKNOWN"

// Failed probes of one address by ProbeError (indexed by the enum's value; [0] unused). Most
// addresses never fail: the counters are allocated at the first failure, so a healthy address
// costs one pointer instead of twelve counters (100,000 zones x 3 addresses: 26 MB).
class ErrorCounts {
  public:
    ErrorCounts() = default;
    ErrorCounts(const ErrorCounts& other) : counts_(copy(other)) {}
    ErrorCounts& operator=(const ErrorCounts& other) {
        if (this != &other) counts_ = copy(other);
        return *this;
    }
    ErrorCounts(ErrorCounts&&) noexcept = default;
    ErrorCounts& operator=(ErrorCounts&&) noexcept = default;

    uint64_t operator[](std::size_t reason) const { return counts_ ? (*counts_)[reason] : 0; }
    uint64_t& operator[](std::size_t reason) {
        if (!counts_) counts_ = std::make_unique<Counts>();
        return (*counts_)[reason];
    }

  private:
    using Counts = std::array<uint64_t, kProbeErrorKinds>;
    static std::unique_ptr<Counts> copy(const ErrorCounts& other) {
        return other.counts_ ? std::make_unique<Counts>(*other.counts_) : nullptr;
    }
    std::unique_ptr<Counts> counts_;
};

// An SOA RDATA that statuses share: the addresses of a zone in sync answer the same SOA, and it
// rarely changes between checks, so they hold one reference-counted copy (names included)
// instead of one each (100,000 zones x 3 addresses: about 36 MB). Reads like
// std::optional<dns::SoaRdata>; writing through -> or * first makes the copy unshared. Only the
// event loop copies these; published statuses are read through const access only.
class SharedSoa {
  public:
    SharedSoa() = default;
    SharedSoa(std::nullopt_t) {}
    SharedSoa(const dns::SoaRdata& soa) : soa_(std::make_shared<dns::SoaRdata>(soa)) {}
    SharedSoa(const std::optional<dns::SoaRdata>& soa) {
        if (soa) soa_ = std::make_shared<dns::SoaRdata>(*soa);
    }

    bool has_value() const { return soa_ != nullptr; }
    explicit operator bool() const { return has_value(); }
    const dns::SoaRdata& operator*() const { return *soa_; }
    const dns::SoaRdata* operator->() const { return soa_.get(); }
    dns::SoaRdata& operator*() { return *unshared(); }
    dns::SoaRdata* operator->() { return unshared(); }
    void reset() { soa_.reset(); }
    operator std::optional<dns::SoaRdata>() const {
        return soa_ ? std::optional<dns::SoaRdata>(*soa_) : std::nullopt;
    }

    // Takes other's copy when both hold the same SOA.
    void share_with(const SharedSoa& other) {
        if (soa_ && other.soa_ && soa_ != other.soa_ && *soa_ == *other.soa_) soa_ = other.soa_;
    }

  private:
    dns::SoaRdata* unshared() {
        if (soa_ && soa_.use_count() > 1) soa_ = std::make_shared<dns::SoaRdata>(*soa_);
        return soa_.get();
    }
    std::shared_ptr<dns::SoaRdata> soa_;
};

// What the RRSIG(SOA) an address serves means (agent/signatures.hpp): one byte, in a row's
// padding (300,000 rows at scale).
struct SignatureFindings {
    bool expired : 1 = false;       // expiration passed: validators reject its answers
    bool expiring : 1 = false;      // less than SignatureExpiringSoon.min_validity left
    bool below_expire : 1 = false;  // validity left < the zone's expire there (SOA or EXPIRE)
    bool older : 1 = false;         // expires before the newest signature another address serves
    bool missing : 1 = false;       // usable answer without RRSIG(SOA), the zone being signed
};
static_assert(sizeof(SignatureFindings) == 1);
// One instance behind an anycast address, known by its NSID (agent/anycast.hpp): the serial it
// last answered and when. Kept only for addresses that answered from two or more NSIDs within
// the window.
struct InstanceStatus {
    SharedNsid nsid;
    uint32_t serial = 0;            // of its last usable answer
    Clock::time_point last_seen{};  // that answer (wall clock: the window is minutes long)
    uint32_t serial_behind = 0;     // RFC 1982 steps behind the zone's reference; 0 unless behind
    // Behind the reference while another instance of the same address answered a newer serial
    // within the window: AnycastInstanceBehind.
    bool lagging = false;
};

// One nameserver address of a zone. 300,000 rows at 100,000 zones, so the fields are laid out
// widest first (no padding between them) and optional moments keep "none" in their own bytes.
struct NameserverStatus {
    SharedTarget target;  // nameserver name ("" when given as an address), address, port

    // Last probe (error, answered, rcode, authoritative, transport: below, with the small ones).
    SharedString error_detail;  // the same few texts for many rows: one copy each
    SharedSoa soa;              // of the last usable answer this round
    std::chrono::duration<double> rtt{0};

    // Tracking across rounds (kept by the Evaluator from the previous status).
    double lag_seconds = 0;        // how long it has not had the reference serial; 0 when in sync
    OptionalInstant behind_since;  // first round it lacked the reference
    OptionalTime last_in_sync;     // last round it had the reference
    OptionalTime last_success;     // last usable answer
    std::optional<double> last_propagation_seconds;  // time the last new reference took to arrive
    // Set while this address lacks a reference serial whose arrival we can time: the moment
    // that serial was first seen (or announced by NOTIFY). Cleared when it arrives.
    OptionalInstant propagation_pending_since;
    uint64_t probes_total = 0;
    // Failed probes by ProbeError (indexed by the enum's value; [0] unused), cumulative while
    // the zone and address stay watched: soawatch_probe_errors_total{reason}.
    ErrorCounts errors_by_reason;

    // EDNS EXPIRE (RFC 7314), kept by agent/replication.cpp (with the flags below:
    // expire_supported: the last usable answer carried the option, or not; expire_asked: the
    // probe carried it (EDNS on); expired: unusable once expires_at has passed, the zone expired
    // there; refresh_failing: refresh age beyond SecondaryRefreshFailing's bound; expiry_near:
    // the EXPIRE-based ZoneExpiryRisk, most of expire used up).
    // When its last EXPIRE answer says it stops serving the zone (kept while it is unusable).
    OptionalTime expires_at;

    // NSID (RFC 5001) of the instance that answered last, octets as received (probes/nsid.hpp
    // renders them); empty when the last answer carried none (EDNS off, a server without an
    // identity configured, one that ignores the option).
    SharedNsid nsid;

    // The instances behind this address (sorted by NSID octets), while two or more NSIDs
    // answered it within the window (agent/anycast.hpp); null otherwise, as for most addresses.
    std::shared_ptr<const std::vector<InstanceStatus>> instances;

    unsigned rcode = 0;                 // of the last probe, when answered
    uint32_t serial_behind = 0;         // RFC 1982 steps behind the reference; 0 unless behind
    unsigned consecutive_failures = 0;  // unusable rounds in a row
    std::optional<uint32_t> expire_remaining;  // this round: seconds before it expires the zone
    // Reference SOA expire - remaining: how long since this secondary last reached its primary.
    std::optional<uint32_t> refresh_age;

    // DNSSEC (agent/signatures.hpp): the RRSIG(SOA) of the last usable answer this round, as
    // answered (dnssec_asked and signature_findings below), and its times on the clock: RFC 4034
    // 3.1.5 read against the time of that answer (last_success).
    std::optional<RrsigTimes> rrsig;
    struct Signature {
        int64_t inception = 0;   // seconds since the epoch
        int64_t expiration = 0;  // seconds since the epoch
        uint16_t key_tag = 0;
        uint8_t algorithm = 0;
    };
    std::optional<Signature> signature() const;

    ServerState state = ServerState::unusable;
    ProbeError error = ProbeError::none;   // of the last probe
    Transport transport = Transport::udp;  // of the last probe
    bool is_primary = false;  // the configured hidden primary (not necessarily in the NS set)
    bool in_ns_set = true;    // listed in the zone's NS RRset (false for a hidden primary)
    std::optional<bool> expire_supported;  // the last usable answer carried EXPIRE (or not)
    bool answered = false;
    bool expire_asked = false;
    bool expired = false;
    bool dnssec_asked = false;  // the probe set DO (EDNS on, dnssec not false)
    bool authoritative = false;
    bool refresh_failing = false;
    bool expiry_near = false;
    SignatureFindings signature_findings;
};

// How messages (the zone's reasons, alert texts) name a server: "ns1.example. (192.0.2.1)",
// "192.0.2.1" where it has no NS name, "primary 192.0.2.53" for the hidden primary.
std::string describe_server(const NameserverStatus& s);

// A field in which a server's SOA differs from the reference SOA at the same serial.
struct SoaFieldMismatch {
    std::string nameserver;  // label: name, or address where none
    std::string address;
    std::string field;      // "mname", "rname", "refresh", "retry", "expire", "minimum"
    std::string value;      // what that server answers
    std::string reference;  // what the reference SOA has
};

// A measured propagation: a new reference serial reached one nameserver address.
struct PropagationSample {
    std::string nameserver;  // name, or address where none
    std::string address;
    uint32_t serial = 0;
    double seconds = 0;
};

// The latest transfer audit of a zone (transfer_check): what each address answered to an
// unsigned AXFR, and the hidden primary to a TSIG-signed IXFR. Shared between the statuses of
// one zone until the next audit.
struct TransferAudit {
    Clock::time_point at;                            // when the last request finished
    std::vector<TransferObservation> axfr;           // one per address: primary first, then NS set
    std::optional<TransferObservation> signed_ixfr;  // of the primary, when a key is configured
};

// One per watched zone (100,000 at scale): the fields are laid out widest first, so no padding
// sits between them.
struct ZoneStatus {
    std::string zone;  // canonical, trailing dot

    SharedSoa reference_soa;          // the SOA that defines the reference
    OptionalInstant reference_seen;   // first sighting of the current reference
    OptionalTime last_serial_change;  // when the reference last moved

    std::vector<NameserverStatus> servers;  // sorted: primary first, then by name, address
    std::vector<UnresolvedNameserver> unresolved_nameservers;  // NS names without address
    std::string discovery_error;  // why discovery failed (empty when it worked)

    std::vector<std::string> reasons;  // one sentence per problem, for people

    OptionalTime last_check;
    std::chrono::duration<double> check_duration{0};
    uint64_t checks_total = 0;

    // Propagations completed in the round that produced this status (emitted once).
    std::vector<PropagationSample> new_propagations;

    // The SOA beyond the serial (agent/replication.cpp): servers whose SOA at the reference
    // serial differs from the reference SOA, and the sanity rules the reference SOA's timers
    // fail (one sentence each; empty: sane, or no reference SOA).
    std::vector<SoaFieldMismatch> soa_field_mismatches;
    std::vector<std::string> soa_timer_problems;
    // DNSSEC (agent/signatures.hpp): the zone's dnssec setting and whether any address served an
    // RRSIG(SOA) this round (both below), and the latest expiration among them (the others are
    // held to it).
    std::optional<int64_t> newest_signature_expiration;
    // The latest transfer audit; null while the audit is off or has not finished yet. Its
    // findings are in verdict and reasons (apply_transfer_findings); the evaluator's own verdict
    // and number of reasons are kept so a new audit replaces the old findings.
    std::shared_ptr<const TransferAudit> transfer;
    // The latest delegation check (agent/delegation_check.hpp); null while it is off or has not
    // finished yet. Its findings are added to verdict and reasons after the transfer audit's.
    std::shared_ptr<const DelegationAudit> delegation;
    OptionalTime delegation_checked_at;  // when that check's last answer came
    std::size_t evaluated_reasons = 0;

    std::optional<uint32_t> reference_serial;
    // Without a primary: an older serial every address has agreed on, and for how many rounds
    // in a row (a deliberate rollback once it reaches kReferenceRollbackRounds).
    std::optional<uint32_t> rollback_serial;
    unsigned rollback_rounds = 0;
    // Set in the round the reference moved back to an older serial by that rule: the serial it
    // moved back from (the scheduler logs it).
    std::optional<uint32_t> rolled_back_from;
    unsigned usable_servers = 0;  // usable addresses in the NS set (the primary excluded)
    Verdict verdict = Verdict::unknown;
    Verdict evaluated_verdict = Verdict::unknown;
    DnssecMode dnssec = DnssecMode::automatic;

    bool has_primary = false;
    // The primary's serial (now or last known); false: the newest among the nameservers, used
    // without a primary and while a configured primary has never answered.
    bool reference_from_primary = false;
    bool discovery_from_cache = false;  // the resolver failed; last good answer used
    bool nameservers_capped = false;    // more NS names/addresses than the configured caps
    bool consistent = false;            // every usable nameserver has the reference serial
    // True while the zone is being re-probed fast after a reference change or a NOTIFY.
    bool fast_reprobe = false;
    bool signed_zone = false;  // some address served an RRSIG(SOA) this round
};

using ZoneStatusPtr = std::shared_ptr<const ZoneStatus>;

}  // namespace soawatch
