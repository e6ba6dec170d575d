#include "agent/catalog_watcher.hpp"

#include <algorithm>

#include "agent/common/log.hpp"
#include "probes/catalog_zone.hpp"
#include "probes/nsid.hpp"

namespace soawatch {

namespace {

using std::chrono::seconds;

// Before the first SOA is seen, and the bounds on the SOA's own timers: a catalog whose SOA asks
// for a refresh every second must not make us transfer it every second.
constexpr seconds kDefaultRetry{60};
constexpr seconds kMinSoaTimer{10};
constexpr seconds kMaxSoaTimer{24 * 3600};

seconds clamp_soa_timer(uint32_t value) {
    return std::clamp(seconds{value}, kMinSoaTimer, kMaxSoaTimer);
}

// A record's identity in the catalog: owner, type, class and RDATA, names in RDATA decoded (the
// same PTR arrives compressed differently in an AXFR and an IXFR). An IXFR removes a record by
// this identity (RFC 1995 4).
std::string record_key(const dns::ResourceRecord& rr) {
    std::string key = dns::canonical_name(rr.owner) + ' ' + std::to_string(rr.type) + ' ' +
                      std::to_string(rr.rclass) + ' ';
    if (rr.soa) {
        const auto& s = *rr.soa;
        key += dns::canonical_name(s.mname) + ' ' + dns::canonical_name(s.rname) + ' ' +
               std::to_string(s.serial);
    } else if (!rr.target.empty()) {
        key += dns::canonical_name(rr.target);
    } else {
        key += nsid_hex({reinterpret_cast<const char*>(rr.rdata.data()), rr.rdata.size()});
    }
    return key;
}

std::string join(const std::vector<std::string>& items, std::size_t max = 20) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < max; ++i) out += (i ? "," : "") + items[i];
    if (items.size() > max) out += ",... (" + std::to_string(items.size() - max) + " more)";
    return out;
}

}  // namespace

struct CatalogWatcher::Catalog {
    CatalogConfig config;
    CatalogStatus status;
    // The records of the catalog at records_serial (the last good one), by identity: an IXFR
    // applies to them. Empty: the next transfer is an AXFR.
    std::map<std::string, dns::ResourceRecord> records;
    uint32_t records_serial = 0;
    std::optional<seconds> soa_refresh, soa_retry;  // from the last SOA seen
    bool running = false;
    bool again = false;  // a NOTIFY (or a new primary) came during the refresh
    EventLoop::TimerId timer = 0;
    uint64_t generation = 0;  // of the refresh in flight: late answers of an older one are dropped
};

CatalogWatcher::CatalogWatcher(EventLoop& loop, ZoneTransferClient& client,
                               std::function<void()> members_changed,
                               std::function<void(const CatalogStatus&)> status_changed)
    : loop_(loop),
      client_(client),
      members_changed_(std::move(members_changed)),
      status_changed_(std::move(status_changed)),
      snapshot_(std::make_shared<const CatalogStatusList>()) {}

CatalogWatcher::~CatalogWatcher() {
    for (auto& [name, catalog] : catalogs_) loop_.cancel_timer(catalog->timer);
}

void CatalogWatcher::apply(const std::vector<CatalogConfig>& catalogs) {
    std::map<std::string, std::unique_ptr<Catalog>> next;
    std::vector<Catalog*> start;
    for (const auto& config : catalogs) {
        auto it = catalogs_.find(config.name);
        std::unique_ptr<Catalog> catalog;
        bool restart = true;
        if (it != catalogs_.end()) {
            catalog = std::move(it->second);
            const CatalogConfig& old = catalog->config;
            // Another source: ask it now. The same one keeps its schedule.
            restart = !(old.primary == config.primary && old.tsig == config.tsig);
            if (restart) {
                catalog->generation = next_generation_++;  // the refresh in flight is moot
                catalog->running = false;
                catalog->records.clear();
            }
        } else {
            catalog = std::make_unique<Catalog>();
            catalog->status.catalog = config.name;
        }
        catalog->config = config;
        catalog->status.primary = config.primary.to_string();
        if (restart) start.push_back(catalog.get());
        next.emplace(config.name, std::move(catalog));
    }
    for (auto& [name, catalog] : catalogs_)
        if (catalog) loop_.cancel_timer(catalog->timer);  // removed
    catalogs_ = std::move(next);
    publish();
    for (Catalog* catalog : start) refresh(*catalog);
}

bool CatalogWatcher::notify(const std::string& zone) {
    const auto it = catalogs_.find(dns::canonical_name(zone));
    if (it == catalogs_.end()) return false;
    log::info("NOTIFY for a catalog: refreshing it", {{"catalog", it->first}});
    refresh(*it->second);
    return true;
}

std::map<std::string, std::vector<std::string>> CatalogWatcher::members() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [name, catalog] : catalogs_) out.emplace(name, catalog->status.members);
    return out;
}

CatalogStatusListPtr CatalogWatcher::snapshot() const {
    MutexLock lock(snapshot_mutex_);
    return snapshot_;
}

void CatalogWatcher::refresh(Catalog& catalog) {
    if (catalog.running) {
        catalog.again = true;
        return;
    }
    loop_.cancel_timer(catalog.timer);
    catalog.timer = 0;
    catalog.running = true;
    catalog.generation = next_generation_++;
    catalog.status.last_attempt = Clock::now();
    const TcpTarget target{catalog.config.primary.address, catalog.config.primary.port};
    client_.query_soa(catalog.config.name, target, catalog.config.timeout,
                      [this, name = catalog.config.name, generation = catalog.generation](
                          SoaQueryResult result) { on_soa(name, generation, std::move(result)); });
}

void CatalogWatcher::on_soa(const std::string& name, uint64_t generation, SoaQueryResult result) {
    const auto it = catalogs_.find(name);
    if (it == catalogs_.end() || it->second->generation != generation) return;
    Catalog& catalog = *it->second;
    if (!result.soa && !result.refused) return failed(catalog, "SOA query: " + result.error);
    if (result.soa) {
        catalog.soa_refresh = clamp_soa_timer(result.soa->refresh);
        catalog.soa_retry = clamp_soa_timer(result.soa->retry);
        // Transfer only when the serial moved (RFC 1996 4.7 and RFC 1035 4.3.5: a secondary
        // compares serials first).
        if (catalog.status.serial && *catalog.status.serial == result.soa->serial)
            return succeeded(catalog, "");
    }
    // A producer that refuses queries for its catalog (Knot) still transfers it: the IXFR from
    // the serial we hold is then the serial check (one SOA back when nothing moved, RFC 1995 4).
    std::optional<uint32_t> ixfr_from;
    if (!catalog.records.empty()) ixfr_from = catalog.records_serial;
    const TcpTarget target{catalog.config.primary.address, catalog.config.primary.port};
    client_.transfer(catalog.config.name, target, ixfr_from, catalog.config.tsig,
                     catalog.config.timeout, [this, name, generation](ZoneTransferResult transfer) {
                         on_transfer(name, generation, std::move(transfer));
                     });
}

void CatalogWatcher::on_transfer(const std::string& name, uint64_t generation,
                                 ZoneTransferResult result) {
    const auto it = catalogs_.find(name);
    if (it == catalogs_.end() || it->second->generation != generation) return;
    Catalog& catalog = *it->second;
    if (!result.ok()) {
        catalog.records.clear();  // the next try is a plain AXFR
        return failed(catalog, "transfer: " + result.error);
    }
    const ZoneTransferReader& reader = *result.reader;
    catalog.soa_refresh = clamp_soa_timer(reader.soa().refresh);
    catalog.soa_retry = clamp_soa_timer(reader.soa().retry);
    if (reader.style() == TransferStyle::up_to_date) return succeeded(catalog, "up_to_date");

    std::map<std::string, dns::ResourceRecord> records;
    std::string style = "axfr";
    if (reader.style() == TransferStyle::full) {
        for (const auto& rr : reader.records()) records.emplace(record_key(rr), rr);
        style = catalog.records.empty() ? "axfr" : "ixfr";  // an IXFR answered AXFR-style
    } else {
        // RFC 1995 4: each difference sequence takes the zone from one serial to the next.
        records = catalog.records;
        uint32_t serial = catalog.records_serial;
        for (const ZoneChange& change : reader.changes()) {
            if (change.from != serial) {
                catalog.records.clear();
                return failed(catalog, "transfer: IXFR difference from serial " +
                                           std::to_string(change.from) + ", we hold " +
                                           std::to_string(serial));
            }
            for (const auto& rr : change.removed) records.erase(record_key(rr));
            for (const auto& rr : change.added) records.emplace(record_key(rr), rr);
            serial = change.to;
        }
        style = "ixfr";
    }
    std::vector<dns::ResourceRecord> list;
    list.reserve(records.size() + 1);
    for (const auto& [key, rr] : records) {
        if (rr.type != dns::rrtype::SOA) list.push_back(rr);
    }
    // The SOA the transfer started with: the zone's current one.
    dns::ResourceRecord soa;
    soa.owner = catalog.config.name;
    soa.type = dns::rrtype::SOA;
    soa.rclass = dns::class_IN;
    soa.soa = reader.soa();
    list.push_back(soa);
    CatalogParse parse = parse_catalog(catalog.config.name, list);
    if (!parse.ok()) {
        catalog.records.clear();
        return failed(catalog, "catalog rejected (serial " + std::to_string(reader.serial()) +
                                   "): " + parse.error);
    }
    std::erase_if(records, [](const auto& entry) { return entry.second.type == dns::rrtype::SOA; });
    catalog.records = std::move(records);
    catalog.records_serial = reader.serial();
    CatalogMembers& members = *parse.members;
    if (!members.duplicates.empty()) {
        log::warn("catalog lists zones twice; the later listings are ignored (RFC 9432 4.1)",
                  {{"catalog", catalog.config.name}, {"zones", join(members.duplicates)}});
    }
    std::vector<std::string> added, removed;
    std::set_difference(members.zones.begin(), members.zones.end(), catalog.status.members.begin(),
                        catalog.status.members.end(), std::back_inserter(added));
    std::set_difference(catalog.status.members.begin(), catalog.status.members.end(),
                        members.zones.begin(), members.zones.end(), std::back_inserter(removed));
    const bool changed = !added.empty() || !removed.empty() || !catalog.status.serial;
    log::info("catalog transferred", {{"catalog", catalog.config.name},
                                      {"serial", std::to_string(members.serial)},
                                      {"transfer", style},
                                      {"messages", std::to_string(reader.messages())},
                                      {"members", std::to_string(members.zones.size())},
                                      {"added", join(added)},
                                      {"removed", join(removed)}});
    catalog.status.serial = members.serial;
    catalog.status.members = std::move(members.zones);
    succeeded(catalog, style);
    if (changed && members_changed_) members_changed_();
}

void CatalogWatcher::succeeded(Catalog& catalog, std::string transfer) {
    if (catalog.status.refreshed && !catalog.status.up)
        log::info("catalog available again", {{"catalog", catalog.config.name}});
    catalog.status.up = true;
    catalog.status.refreshed = true;
    catalog.status.error.clear();
    catalog.status.last_success = Clock::now();
    if (!transfer.empty()) {
        catalog.status.last_transfer = std::move(transfer);
        ++catalog.status.transfers;
    }
    end_refresh(catalog, catalog.config.refresh ? std::chrono::duration_cast<seconds>(std::max(
                                                      *catalog.config.refresh, Duration{1000}))
                                                : catalog.soa_refresh.value_or(kDefaultRetry));
}

void CatalogWatcher::failed(Catalog& catalog, std::string error) {
    catalog.status.up = false;
    catalog.status.refreshed = true;
    ++catalog.status.failures;
    catalog.status.error = std::move(error);
    log::warn(
        "catalog refresh failed; keeping the last good member list",
        {{"catalog", catalog.config.name},
         {"primary", catalog.status.primary},
         {"error", catalog.status.error},
         {"members", std::to_string(catalog.status.members.size())},
         {"serial", catalog.status.serial ? std::to_string(*catalog.status.serial) : "none"}});
    // RFC 1035 3.3.13: after a failed refresh, try again after the SOA's retry.
    seconds retry = catalog.soa_retry.value_or(kDefaultRetry);
    if (catalog.config.refresh) {
        retry = std::min(retry, std::chrono::duration_cast<seconds>(
                                    std::max(*catalog.config.refresh, Duration{1000})));
    }
    end_refresh(catalog, retry);
}

void CatalogWatcher::end_refresh(Catalog& catalog, seconds next) {
    catalog.running = false;
    publish();
    if (status_changed_) status_changed_(catalog.status);
    if (catalog.again) {
        catalog.again = false;
        return refresh(catalog);
    }
    catalog.timer = loop_.add_timer(next, [this, name = catalog.config.name] {
        const auto it = catalogs_.find(name);
        if (it == catalogs_.end()) return;
        it->second->timer = 0;
        refresh(*it->second);
    });
}

void CatalogWatcher::publish() {
    auto list = std::make_shared<CatalogStatusList>();
    list->reserve(catalogs_.size());
    for (const auto& [name, catalog] : catalogs_) list->push_back(catalog->status);
    MutexLock lock(snapshot_mutex_);
    snapshot_ = std::move(list);
}

}  // namespace soawatch
