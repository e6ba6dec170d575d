// The CatalogWatcher: follows each catalog zone of zones_from_catalog (RFC 9432) on the event
// loop. A refresh asks the primary for the catalog's SOA over TCP and transfers the catalog only
// when the serial moved: an IXFR from the serial it holds (RFC 1995; an AXFR-style answer is
// taken whole), an AXFR the first time, TSIG-signed when a key is configured. Refreshes come
// every SOA refresh (or the configured refresh), after a failure every SOA retry, and at once on
// a NOTIFY for the catalog (RFC 1996). A catalog that fails to transfer or is broken keeps its
// last good member list; the status says why. When a member list changes the owner is told, and
// re-applies its zones through the scheduler's reload path (staying zones keep their state).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/catalog_status.hpp"
#include "agent/common/thread_annotations.hpp"
#include "agent/config/config.hpp"
#include "probes/event_loop.hpp"
#include "probes/zone_transfer_client.hpp"

namespace soawatch {

class CatalogWatcher {
  public:
    // `members_changed` runs on the loop thread after a catalog's member list changed;
    // `status_changed` after any refresh ended (for the alert rule).
    CatalogWatcher(EventLoop& loop, ZoneTransferClient& client,
                   std::function<void()> members_changed,
                   std::function<void(const CatalogStatus&)> status_changed = {});
    ~CatalogWatcher();
    CatalogWatcher(const CatalogWatcher&) = delete;
    CatalogWatcher& operator=(const CatalogWatcher&) = delete;

    // Loop thread. The catalogs to follow. Those that stay keep their member list and state (a
    // changed primary or key refreshes at once); new ones refresh at once; removed ones are
    // forgotten. Does not call members_changed: the caller applies its zones itself.
    void apply(const std::vector<CatalogConfig>& catalogs);

    // Loop thread. A NOTIFY for `zone`: when it is a catalog, refresh it now (or right after the
    // refresh in progress). False when it is not a catalog.
    bool notify(const std::string& zone);

    // Loop thread. Each catalog's member list in use (its last good one).
    std::map<std::string, std::vector<std::string>> members() const;

    // Any thread: the catalogs' statuses, ordered by name.
    CatalogStatusListPtr snapshot() const EXCLUDES(snapshot_mutex_);

  private:
    struct Catalog;
    void refresh(Catalog& catalog);
    void on_soa(const std::string& name, uint64_t generation, SoaQueryResult result);
    void on_transfer(const std::string& name, uint64_t generation, ZoneTransferResult result);
    void succeeded(Catalog& catalog, std::string transfer);
    void failed(Catalog& catalog, std::string error);
    void end_refresh(Catalog& catalog, std::chrono::seconds next);
    void publish() EXCLUDES(snapshot_mutex_);

    EventLoop& loop_;
    ZoneTransferClient& client_;
    std::function<void()> members_changed_;
    std::function<void(const CatalogStatus&)> status_changed_;
    std::map<std::string, std::unique_ptr<Catalog>> catalogs_;  // loop thread
    uint64_t next_generation_ = 1;

    mutable Mutex snapshot_mutex_;
    CatalogStatusListPtr snapshot_ GUARDED_BY(snapshot_mutex_);
};

}  // namespace soawatch
