// The long-running agent: config, event loop (scheduler, discovery, probes, NOTIFY listener),
// status store, and the HTTP server's exporters. Wiring only; each part lives in its own file.
#include <malloc.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "agent/alerting/alert_engine.hpp"
#include "agent/catalog_members.hpp"
#include "agent/catalog_watcher.hpp"
#include "agent/cli/agent_flags.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/flags.hpp"
#include "agent/common/log.hpp"
#include "agent/common/quoted.hpp"
#include "agent/config/config.hpp"
#include "agent/config/shard.hpp"
#include "agent/config/vantage.hpp"
#include "agent/evaluator.hpp"
#include "agent/loop_assignment.hpp"
#include "agent/loop_set.hpp"
#include "agent/notify_listener.hpp"
#include "agent/scheduler.hpp"
#include "agent/status_store.hpp"
#include "agent/zone_check.hpp"
#include "exporters/alerts/alert_dispatcher.hpp"
#include "exporters/alerts/alert_metrics.hpp"
#include "exporters/http/http_server.hpp"
#include "exporters/http/web_config.hpp"
#include "exporters/metrics/catalog_metrics.hpp"
#include "exporters/metrics/metrics.hpp"
#include "probes/discovery.hpp"
#include "probes/dns_wire.hpp"
#include "probes/event_loop.hpp"
#include "probes/soa_probe.hpp"
#include "probes/unique_fd.hpp"
#include "probes/zone_transfer_client.hpp"

namespace soawatch {

namespace {

// HTTP thread: waits for work posted to the loop, up to `budget`, but gives up as soon as the
// agent is stopping (the loop will not run it any more), so shutdown never waits out a budget.
template <typename T>
bool wait_for_loop(std::future<T>& future, std::chrono::milliseconds budget,
                   const std::atomic<bool>& stopping) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    while (!stopping.load()) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return false;
        const auto slice =
            std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50));
        if (future.wait_for(slice) == std::future_status::ready) return true;
    }
    return false;
}

std::vector<ServerAddress> to_servers(const std::vector<Endpoint>& endpoints) {
    std::vector<ServerAddress> servers;
    servers.reserve(endpoints.size());
    for (const auto& e : endpoints) servers.push_back({e.address, e.port});
    return servers;
}

// Everything that lives on the event loop thread.
class Agent {
  public:
    Agent(AgentFlags flags, Config config)
        : flags_(std::move(flags)),
          config_(std::move(config)),
          vantage_(effective_vantage(flags_.vantage, config_.global.vantage)),
          metrics_(BuildInfo{SOAWATCH_VERSION, SOAWATCH_REVISION},
                   MetricsOptions{.per_address = flags_.per_address, .vantage = vantage_}),
          alerts_(config_.alerting, ""),
          catalog_client_(loop_),
          catalogs_(
              loop_, catalog_client_, [this] { apply_zones(); },
              [this](const CatalogStatus& c) { observe_catalog(c); }),
          dispatcher_(config_.alerting, DispatcherOptions{"soawatch/" SOAWATCH_VERSION}),
          loops_(loop_, loops_to_run(config_.global.loops), discovery_options(config_),
                 [this](unsigned) {
                     // The observers run on the thread of the loop that checked the zone.
                     return LoopSet::Observers{[this](const ZoneCheckResult& r,
                                                      const ZoneStatus& z) { on_checked(r, z); },
                                               [this](const ZoneStatus& z) { observe_alerts(z); }};
                 }) {
        index_alert_rules(config_);
        loops_.set_vantage(vantage_);
        {
            MutexLock lock(alerts_mutex_);
            alerts_.set_vantage(vantage_);
        }
        loops_.set_stats_augmenter([this](LoopShard& shard, AgentStats& stats) {
            stats.queries_sent = shard.prober.queries_sent() + shard.discovery.lookups_sent() +
                                 shard.delegation_prober.queries_sent();
            stats.queries_inflight = shard.prober.inflight();
            stats.discovery_errors = shard.discovery.lookup_errors();
            if (&shard != &loops_.main()) return;  // the NOTIFY listener is on the main loop
            stats.notify_received = notify_received_before_ + (notify_ ? notify_->accepted() : 0);
            stats.notify_ignored = notify_ignored_before_ + (notify_ ? notify_->ignored() : 0);
        });
    }

    int run() {
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGHUP);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        signal_fd_.reset(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
        loop_.watch_fd(signal_fd_.get(), true, false, [this](bool, bool) { on_signal(); });

        if (config_.global.notify_listen) {
            notify_ = make_notify_listener(*config_.global.notify_listen);
            notify_endpoint_ = *config_.global.notify_listen;
        }
        loops_.start([](LoopShard& shard) { shard.loop.run(); });
        catalogs_.apply(config_.catalogs);
        apply_zones();
        publish_config_values();
        metrics_.set_reload_result(true, Clock::now());

        std::string listen_error;
        auto listen = parse_endpoint(flags_.listen, 9353, &listen_error, true, 0);
        if (!listen) {
            log::error("bad --web.listen-address", {{"error", listen_error}});
            return 1;
        }
        HttpServerOptions http_options;
        http_options.listen = *listen;
        http_options.enable_lifecycle = flags_.enable_lifecycle;
        http_options.web = flags_.web;
        http_ = std::make_unique<HttpServer>(http_options, http_hooks());
        {
            MutexLock lock(alerts_mutex_);
            alerts_.set_default_external_url(default_external_url(*listen, http_->port()));
        }
        log::info(
            "soawatch started",
            {{"version", SOAWATCH_VERSION},
             {"revision", SOAWATCH_REVISION},
             {"config", config_.path},
             {"zones", std::to_string(watched_zones_)},
             {"catalogs", std::to_string(config_.catalogs.size())},
             {"listen", flags_.listen},
             {"shard", flags_.shard.to_string()},
             {"loops", std::to_string(loops_.size())},
             {"vantage", vantage_},
             {"port", std::to_string(http_->port())},
             {"tls", http_->tls() ? "on" : "off"},
             {"basic_auth", flags_.web.basic_auth_users.empty() ? "off" : "on"},
             {"basic_auth_users", std::to_string(flags_.web.basic_auth_users.size())},
             {"web_config", flags_.web_config_file.empty() ? "none" : flags_.web_config_file},
             {"lifecycle", flags_.enable_lifecycle ? "on" : "off"},
             {"notify_listen",
              config_.global.notify_listen ? config_.global.notify_listen->to_string() : "off"},
             {"receivers", receiver_summary()}});

        // Housekeeping: fresh stats for scrapes, idle probe channels closed.
        schedule_housekeeping();
        loop_.run();

        log::info("shutting down");
        loops_.stop();
        // SIGTERM must end the agent within a second. No client holds an HTTP thread; a /probe
        // still waiting for its check (it sees stopping_) gets the grace time, past which the
        // server is left as it is and the process ends without waiting for it.
        const bool http_stopped = http_->stop(std::chrono::milliseconds(300));
        http_.reset();
        // What is queued gets a short chance to go out: SIGTERM must stop us within a second.
        dispatcher_.shutdown(std::chrono::milliseconds(600));
        if (!http_stopped) {
            log::warn("HTTP clients still connected; exiting without waiting for them");
            std::_Exit(0);
        }
        return 0;
    }

  private:
    static DiscoveryOptions discovery_options(const Config& config) {
        DiscoveryOptions options;
        options.resolvers = to_servers(config.global.resolvers);
        options.timeout = config.global.discovery_timeout();
        return options;
    }

    // A zone's new status to the alert engine: after each check, and after a transfer audit.
    // Any loop's thread: with global.loops above 1 the loops take turns at the engine.
    void observe_alerts(const ZoneStatus& status) EXCLUDES(alerts_mutex_) {
        MutexLock lock(alerts_mutex_);
        const auto rules = zone_alert_rules_.find(status.zone);
        alerts_.observe(status, rules == zone_alert_rules_.end() ? global_rules_ : *rules->second,
                        status.last_check.value_or(Clock::now()));
    }

    // The thread of the loop that checked the zone.
    void on_checked(const ZoneCheckResult& result, const ZoneStatus& status) {
        observe_alerts(status);
        // The engine's timers and the notifications run from the housekeeping tick (1 s): with
        // thousands of zones, a tick per check would rebuild the alert snapshot per check.
        if (result.primary) metrics_.observe_probe(*result.primary);
        for (const auto& obs : result.observations) metrics_.observe_probe(obs);
        for (const auto& sample : status.new_propagations) {
            metrics_.observe_propagation(sample);
            log::info("serial propagated", {{"zone", status.zone},
                                            {"nameserver", sample.nameserver},
                                            {"address", sample.address},
                                            {"serial", std::to_string(sample.serial)},
                                            {"seconds", std::to_string(sample.seconds)}});
        }
    }

    // Loop thread: what the alert engine says must go out now, to the dispatcher's queues.
    void dispatch_alerts() EXCLUDES(alerts_mutex_) {
        std::vector<Alert> transitions;
        {
            MutexLock lock(alerts_mutex_);
            for (auto& n : alerts_.tick(Clock::now())) dispatcher_.enqueue(std::move(n));
            transitions = alerts_.take_transitions();
        }
        for (const Alert& a : transitions) {
            log::Level level = a.state == AlertState::firing ? log::Level::warn : log::Level::info;
            log::write(level, a.state == AlertState::firing ? "alert firing" : "alert resolved",
                       {{"alertname", a.label("alertname")},
                        {"zone", a.label("zone")},
                        {"catalog", a.label("catalog")},
                        {"nameserver", a.label("nameserver")},
                        {"address", a.label("address")},
                        {"severity", a.label("severity")},
                        {"summary", a.summary}});
        }
    }

    // Zones with their own alerting rules (zones[].alerting, a catalog's defaults), by name;
    // the others use the global rules. Copied from the watched zones (shared rule sets): the
    // loops read them under the lock while config_ changes on the main loop. Rebuilt whenever
    // the watched zones change.
    void index_alert_rules(const Config& watched) EXCLUDES(alerts_mutex_) {
        std::map<std::string, std::shared_ptr<const AlertRuleSet>> rules;
        for (const auto& z : watched.zones)
            if (z.alert_rules) rules.emplace(z.name, z.alert_rules);
        MutexLock lock(alerts_mutex_);
        zone_alert_rules_ = std::move(rules);
        global_rules_ = config_.alerting.rules;
    }

    // Main loop thread. The zones to watch: the file's and the catalogs' members (their last good
    // lists), given to the loops exactly as a reloaded file is: zones that stay keep their
    // state, removed ones are forgotten and their alerts resolve.
    void apply_zones() EXCLUDES(alerts_mutex_) {
        // Without catalogs the file's zones are all (config_ is cut to the shard already); a
        // second copy of them would cost ~26 MB at 100,000 zones. With catalogs, a copy with
        // the members for as long as the loops take it, and config_ keeps the file's zones for
        // the next change of members.
        if (config_.catalogs.empty()) {
            apply_watched_zones(config_);
            // Nothing reads them again (a reload loads the file anew; without catalogs no member
            // change re-applies them), and the loops have their own specs: ~26 MB at 100,000.
            config_.zones = {};
            return;
        }
        Config watched = with_catalog_members(config_, catalogs_.members());
        keep_shard_zones(watched, flags_.shard);
        apply_watched_zones(watched);
    }

    void apply_watched_zones(const Config& watched) EXCLUDES(alerts_mutex_) {
        watched_zones_ = watched.zones.size();
        // Each zone to the loop that owns it; every loop has its part when this returns, so no
        // check of a removed zone reaches the alert engine after retain_zones.
        loops_.apply(watched);
        index_alert_rules(watched);
        std::set<std::string> keep;
        for (const auto& z : watched.zones) keep.insert(z.name);
        for (const auto& c : config_.catalogs) keep.insert(AlertEngine::catalog_alert_key(c.name));
        MutexLock lock(alerts_mutex_);
        alerts_.retain_zones(keep, Clock::now());
    }

    // Main loop: a catalog's new state (transferred, or failing) to the alert engine.
    void observe_catalog(const CatalogStatus& catalog) EXCLUDES(alerts_mutex_) {
        MutexLock lock(alerts_mutex_);
        alerts_.observe_catalog(catalog, config_.alerting.rules, Clock::now());
    }

    std::string receiver_summary() const {
        std::string out;
        for (const auto& r : config_.alerting.receivers)
            out += (out.empty() ? "" : ",") + r.name + "(" +
                   std::string(receiver_type_name(r.type)) + ")";
        return out.empty() ? "none" : out;
    }

    static std::string default_external_url(const Endpoint& listen, uint16_t port) {
        if (listen.address.empty()) {  // any address: the host's name is what others can reach
            char name[256] = {};
            const std::string host =
                ::gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "localhost";
            return "http://" + host + ":" + std::to_string(port);
        }
        return "http://" + Endpoint{listen.address, port}.to_string();  // IPv6 in brackets
    }

    void schedule_housekeeping() {
        loop_.add_timer(std::chrono::seconds(1), [this] {
            dispatch_alerts();
            const bool close_idle = ++housekeeping_ticks_ % 300 == 0;
            loops_.on_each_loop([close_idle](LoopShard& shard) {
                shard.scheduler.publish_stats();
                if (!close_idle) return;
                shard.prober.close_idle_channels(std::chrono::minutes(10));
                // The delegation check's channels idle for most of its interval (10m).
                shard.delegation_prober.close_idle_channels(std::chrono::minutes(30));
            });
            schedule_housekeeping();
        });
    }

    void on_signal() {
        signalfd_siginfo info{};
        while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
            if (info.ssi_signo == SIGHUP) {
                log::info("SIGHUP: reloading the configuration");
                reload();
            } else {
                log::info("signal received, stopping",
                          {{"signal", strsignal(static_cast<int>(info.ssi_signo))}});
                stopping_ = true;
                loop_.stop();
            }
        }
    }

    // Loop thread. A bad file (or a NOTIFY address that cannot be bound) changes nothing.
    ReloadResult reload() {
        try {
            Config next = load_config(flags_.config_file);
            keep_shard_zones(next, flags_.shard);
            warn_if_vantage_changed(next.global);
            std::optional<WebConfig> web;
            if (!flags_.web_config_file.empty()) web = load_web_config(flags_.web_config_file);
            const auto& wanted = next.global.notify_listen;
            const bool notify_changed = wanted.has_value() != (notify_ != nullptr) ||
                                        (wanted && notify_endpoint_ != *wanted);
            std::unique_ptr<NotifyListener> listener;
            if (notify_changed && wanted) listener = bind_notify_listener(*wanted);
            if (next.global.loops != config_.global.loops)
                log::warn("global.loops changes when the agent restarts",
                          {{"loops", std::to_string(loops_.size())}});
            loops_.on_each_loop([resolvers = to_servers(next.global.resolvers),
                                 timeout = next.global.discovery_timeout()](LoopShard& shard) {
                shard.discovery.set_resolvers(resolvers, timeout);
            });
            config_ = std::move(next);
            if (notify_changed) {
                if (notify_) retire_notify_listener();
                notify_ = std::move(listener);
                if (notify_) notify_endpoint_ = *config_.global.notify_listen;
            }
            dispatcher_.configure(config_.alerting);
            {
                MutexLock lock(alerts_mutex_);
                alerts_.configure(config_.alerting);
            }
            catalogs_.apply(config_.catalogs);
            // Every loop has its new zones when this returns: no check of a removed zone
            // reaches the alert engine after retain_zones.
            apply_zones();
            dispatch_alerts();
            publish_config_values();
            if (web && http_) {
                std::string why;
                if (!http_->update_web_config(*web, &why)) log::warn(why);
                flags_.web = std::move(*web);
            }
            metrics_.set_reload_result(true, Clock::now());
            log::info("configuration reloaded", {{"zones", std::to_string(watched_zones_)},
                                                 {"receivers", receiver_summary()}});
            return {true, {}};
        } catch (const std::exception& e) {
            metrics_.set_reload_result(false, Clock::now());
            log::error("configuration reload failed; keeping the old one", {{"error", e.what()}});
            return {false, e.what()};
        }
    }

    // The vantage is part of every series' and alert's identity, and the histograms carry it
    // from their first sample: it is set at start only. A reload that asks for another one
    // says so and changes nothing else.
    void warn_if_vantage_changed(const GlobalConfig& next) const {
        const std::string wanted = effective_vantage(flags_.vantage, next.vantage);
        if (wanted != vantage_)
            log::warn("global.vantage changed: it takes effect at the next restart",
                      {{"vantage", vantage_}, {"configured", wanted}});
    }

    // Loop thread: values HTTP threads need from the config, published atomically.
    void publish_config_values() {
        const auto& p = config_.global.probe;
        // Discovery (up to 3 tries) and the probe's tries, with room for TCP fallback.
        probe_budget_ms_ = (p.timeout * (p.retries + 1) * 3 + std::chrono::seconds(5)).count();
    }

    std::unique_ptr<NotifyListener> make_notify_listener(const Endpoint& listen) {
        return std::make_unique<NotifyListener>(loop_, listen,
                                                [this](const std::string& zone, Instant when) {
                                                    // A catalog may be a watched zone too.
                                                    const bool catalog = catalogs_.notify(zone);
                                                    return loops_.notify(zone, when) || catalog;
                                                });
    }

    // The listener a reload asks for, bound before the old one is retired so that a failure
    // keeps the old one. Only when the old listener may itself hold the port (same port, other
    // address: 127.0.0.1:5300 -> :5300) is it closed first, and bound again if the new one
    // still cannot be. Throws std::runtime_error with the reason.
    std::unique_ptr<NotifyListener> bind_notify_listener(const Endpoint& wanted) {
        try {
            return make_notify_listener(wanted);
        } catch (const std::runtime_error&) {
            if (!notify_ || notify_->port() != wanted.port) throw;
        }
        retire_notify_listener();
        try {
            return make_notify_listener(wanted);
        } catch (const std::runtime_error&) {
            try {
                notify_ = make_notify_listener(notify_endpoint_);
            } catch (const std::runtime_error& e) {
                log::error("NOTIFY listener lost: its old address cannot be bound again",
                           {{"address", notify_endpoint_.to_string()}, {"error", e.what()}});
            }
            throw;
        }
    }

    void retire_notify_listener() {
        notify_received_before_ += notify_->accepted();
        notify_ignored_before_ += notify_->ignored();
        notify_.reset();
    }

    HttpHooks http_hooks() {
        HttpHooks hooks;
        hooks.snapshot = [this] { return loops_.snapshot(); };
        hooks.write_metrics = [this](prom::StreamedText& out) {
            // The snapshot is held until the last piece is sent; the loop goes on meanwhile.
            if (!metrics_.render(*loops_.snapshot(), out)) return;
            append_alert_metrics(out.text(), *alert_snapshot(), dispatcher_.stats());
            append_catalog_metrics(out.text(), *catalogs_.snapshot());
        };
        hooks.alerts = [this] { return alert_snapshot(); };
        hooks.catalogs = [this] { return catalogs_.snapshot(); };
        hooks.ready = [this] { return loops_.first_round_done(); };
        // Only reached with --web.enable-lifecycle: the server answers 403 without it.
        hooks.reload = [this]() -> ReloadResult {
            auto promise = std::make_shared<std::promise<ReloadResult>>();
            auto future = promise->get_future();
            loop_.post([this, promise] { promise->set_value(reload()); });
            if (!wait_for_loop(future, std::chrono::seconds(30), stopping_))
                return {false, stopping_ ? "shutting down" : "reload timed out"};
            return future.get();
        };
        hooks.probe = [this](const std::string& zone, const std::optional<Endpoint>& primary,
                             std::chrono::milliseconds deadline, std::string* error,
                             int* status) { return probe(zone, primary, deadline, error, status); };
        return hooks;
    }

    // Any thread: the alert engine's snapshot (itself behind its own lock: held here briefly).
    AlertsSnapshotPtr alert_snapshot() EXCLUDES(alerts_mutex_) {
        MutexLock lock(alerts_mutex_);
        return alerts_.snapshot();
    }

    // HTTP background thread: a one-off check of one zone on the loop, waited for here, at most
    // until `deadline` (the scraper's timeout; 0: none given) or the probe budget.
    std::optional<std::string> probe(const std::string& zone,
                                     const std::optional<Endpoint>& primary,
                                     std::chrono::milliseconds deadline, std::string* error,
                                     int* http_status) {
        if (auto reason = dns::validate_name(zone); zone.empty() || !reason.empty()) {
            *error = "invalid zone name: " + (zone.empty() ? std::string("empty") : reason);
            *http_status = 400;
            return std::nullopt;
        }
        constexpr int kMaxConcurrentProbes = 8;
        if (probes_running_.fetch_add(1) >= kMaxConcurrentProbes) {
            probes_running_.fetch_sub(1);
            *error = "too many concurrent probes";
            *http_status = 503;
            return std::nullopt;
        }
        auto promise = std::make_shared<std::promise<std::string>>();
        auto future = promise->get_future();
        ZoneConfig zc;
        zc.name = dns::canonical_name(zone);
        zc.primary = primary;
        std::chrono::milliseconds budget(probe_budget_ms_.load());
        if (deadline.count() > 0) budget = std::min(budget, deadline);
        loop_.post([this, zc, promise] {
            // The configured verdict policy (min_usable_nameservers), as the scheduler's checks.
            const VerdictPolicy policy = verdict_policy(config_.global);
            loops_.main().checker.check(
                make_check_spec(config_.global, zc),
                [this, promise, policy](const ZoneCheckResult& result) {
                    ZoneStatus status = evaluate(nullptr, result, policy);
                    promise->set_value(MetricsExporter::render_zone(status, vantage_));
                });
        });
        const bool ready = wait_for_loop(future, budget, stopping_);
        probes_running_.fetch_sub(1);
        if (!ready) {
            *error = stopping_ ? "shutting down" : "probe timed out";
            *http_status = stopping_ ? 503 : 504;
            return std::nullopt;
        }
        return future.get();
    }

    AgentFlags flags_;
    Config config_;              // its zones only while catalogs need them again (apply_zones)
    const std::string vantage_;  // where this agent watches from; "": none (set at start)
    EventLoop loop_;  // the main loop: loop 0 of loops_, signals, NOTIFY, HTTP work, alerts
    MetricsExporter metrics_;
    // The loops feed the engine (each check), the catalog watcher too, and the main loop ticks
    // it: all under this lock.
    Mutex alerts_mutex_;
    AlertEngine alerts_ GUARDED_BY(alerts_mutex_);
    // On the main loop: the catalogs' members reach the loops through apply_zones().
    ZoneTransferClient catalog_client_;
    CatalogWatcher catalogs_;
    // How many zones the loops watch: config_'s and the catalogs' members (apply_zones).
    std::size_t watched_zones_ = 0;
    AlertDispatcher dispatcher_;
    std::map<std::string, std::shared_ptr<const AlertRuleSet>> zone_alert_rules_
        GUARDED_BY(alerts_mutex_);
    AlertRuleSet global_rules_ GUARDED_BY(alerts_mutex_);
    // Zones sharded across loops (global.loops, fixed at start): each loop one thread with its
    // scheduler, discovery, probers and store. After the alert engine, which its threads feed,
    // so that they are joined before it goes.
    LoopSet loops_;
    std::unique_ptr<NotifyListener> notify_;
    Endpoint notify_endpoint_;
    uint64_t notify_received_before_ = 0;
    uint64_t notify_ignored_before_ = 0;
    std::unique_ptr<HttpServer> http_;
    UniqueFd signal_fd_;
    std::atomic<bool> stopping_{false};  // set on SIGTERM/SIGINT: HTTP threads stop waiting
    std::atomic<int> probes_running_{0};
    std::atomic<int64_t> probe_budget_ms_{30000};  // how long /probe waits; set from the config
    uint64_t housekeeping_ticks_ = 0;
};

}  // namespace

int run_agent_command(int argc, char** argv) {
    ParsedAgentFlags parsed = parse_agent_flags(std::vector<std::string>(argv, argv + argc));
    if (!parsed.error.empty()) {
        std::cerr << "soawatch: " << parsed.error << " (see soawatch --help)\n";
        return 2;
    }
    if (parsed.help || parsed.version) {
        if (parsed.help)
            std::cout << kAgentUsage;
        else
            std::cout << "soawatch " << SOAWATCH_VERSION << " (" << SOAWATCH_REVISION << ")\n";
        return 0;
    }
    std::optional<AgentFlags> flags = std::move(parsed.flags);

    Config config;
    try {
        config = load_config(flags->config_file);
        if (!flags->web_config_file.empty()) flags->web = load_web_config(flags->web_config_file);
    } catch (const std::exception& e) {
        std::cerr << "soawatch: " << e.what() << '\n';
        return 1;
    }
    const std::size_t all_zones = config.zones.size();
    keep_shard_zones(config, flags->shard);
    if (flags->config_check) {
        std::cout << flags->config_file << ": valid, " << all_zones << " zone(s)";
        if (flags->shard.count > 1)
            std::cout << ", " << config.zones.size() << " in shard " << flags->shard.to_string();
        std::cout << '\n';
        if (!flags->web_config_file.empty()) std::cout << flags->web_config_file << ": valid\n";
        return 0;
    }

    // Signals are read from a signalfd on the loop: block them before any thread starts so
    // the HTTP server's threads inherit the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    // Buffers of 1 MiB and more (the /metrics texts: ~200 MB in all at 100,000 zones) straight
    // from and back to the kernel. glibc's default threshold rises to 32 MiB once such buffers
    // are freed, and the heap then keeps a whole scrape's worth of memory resident.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);

    try {
        Agent agent(std::move(*flags), std::move(config));
        return agent.run();
    } catch (const std::exception& e) {
        log::error("cannot start", {{"error", e.what()}});
        return 1;
    }
}

}  // namespace soawatch
