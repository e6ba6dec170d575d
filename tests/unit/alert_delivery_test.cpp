// What receivers get: the payload of each receiver type, and the dispatcher's delivery (retries,
// dead letters, bounded queues, shutdown deadline) against a real HTTP server on loopback.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "exporters/alerts/alert_dispatcher.hpp"
#include "exporters/alerts/alert_metrics.hpp"
#include "exporters/alerts/alert_payloads.hpp"
#include "tests/support/http_recorder.hpp"

using namespace soawatch;
using namespace std::chrono_literals;
using nlohmann::json;
using test::HttpRecorder;
using test::RecordedRequest;

namespace {

const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

Alert make_alert(const std::string& alertname, const std::string& severity, AlertState state) {
    Alert a;
    a.labels = {{"address", "192.0.2.1"},
                {"alertname", alertname},
                {"nameserver", "ns1.a.test."},
                {"severity", severity},
                {"zone", "a.test."}};
    a.fingerprint = "0123456789abcdef";
    a.summary = "ns1.a.test. (192.0.2.1) is 2 serial(s) behind on a.test.";
    a.description = "serves serial 5 for a.test. <b>&</b>";
    a.generator_url = "http://soawatch.test:9353/#zone=a.test.";
    a.state = state;
    a.active_since = T0;
    a.firing_since = T0 + 60s;
    if (state == AlertState::resolved) a.resolved_at = T0 + 120s;
    return a;
}

AlertNotification notification(std::vector<Alert> alerts, std::size_t receiver = 0) {
    AlertNotification n;
    n.receiver = receiver;
    n.group_key = "{zone=\"a.test.\"}";
    n.group_labels = {{"zone", "a.test."}};
    n.firing = false;
    for (const auto& a : alerts) n.firing = n.firing || a.state == AlertState::firing;
    n.alerts = std::move(alerts);
    n.external_url = "http://soawatch.test:9353";
    return n;
}

PayloadContext context() {
    PayloadContext ctx;
    ctx.receiver = "hooks";
    ctx.external_url = "http://soawatch.test:9353";
    ctx.now = T0 + 100s;
    ctx.resend_interval = 60s;
    return ctx;
}

AlertingConfig one_receiver(const std::string& url, ReceiverType type = ReceiverType::webhook,
                            unsigned max_attempts = 3, std::size_t capacity = 16) {
    AlertingConfig c;
    ReceiverConfig r;
    r.name = "r";
    r.type = type;
    r.url = url;
    r.timeout = 300ms;
    r.max_attempts = max_attempts;
    r.headers = {{"Authorization", "Bearer t0k3n"}};
    c.receivers.push_back(r);
    c.queue_capacity = capacity;
    return c;
}

DispatcherOptions fast() {
    DispatcherOptions o;
    o.initial_backoff = 20ms;
    o.max_backoff = 100ms;
    return o;
}

// Waits until pred() or 10 s.
template <typename Pred>
bool wait_for(Pred pred) {
    for (int i = 0; i < 1000; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

}  // namespace

TEST_CASE("payload: webhook is Alertmanager's webhook v4", "[alerts][payload]") {
    const auto body = json::parse(webhook_payload(
        notification({make_alert("NameserverBehind", "warning", AlertState::firing),
                      make_alert("ZoneSerialMismatch", "warning", AlertState::resolved)}),
        context()));
    CHECK(body["version"] == "4");
    CHECK(body["status"] == "firing");
    CHECK(body["receiver"] == "hooks");
    CHECK(body["groupKey"] == "{zone=\"a.test.\"}");
    CHECK(body["groupLabels"] == json{{"zone", "a.test."}});
    CHECK(body["commonLabels"]["zone"] == "a.test.");
    CHECK_FALSE(body["commonLabels"].contains("alertname"));
    CHECK(body["externalURL"] == "http://soawatch.test:9353");
    CHECK(body["truncatedAlerts"] == 0);
    REQUIRE(body["alerts"].size() == 2);
    const auto& a = body["alerts"][0];
    CHECK(a["status"] == "firing");
    CHECK(a["labels"]["alertname"] == "NameserverBehind");
    CHECK(a["startsAt"] == "2027-01-15T08:01:00Z");
    CHECK(a["endsAt"] == "0001-01-01T00:00:00Z");
    CHECK(a["annotations"]["description"] == "serves serial 5 for a.test. <b>&</b>");
    CHECK(body["alerts"][1]["status"] == "resolved");
    CHECK(body["alerts"][1]["endsAt"] == "2027-01-15T08:02:00Z");
}

TEST_CASE("payload: Slack message within Slack's limits, escaped, coloured", "[alerts][payload]") {
    Alert big = make_alert("NameserverBehind", "critical", AlertState::firing);
    big.description = std::string(5000, 'x') + "\xc3\xa9";
    std::vector<Alert> alerts(25, big);
    const auto body = json::parse(slack_payload(notification(alerts), context()));
    CHECK(body["text"].get<std::string>().rfind("[FIRING:25] a.test.", 0) == 0);
    REQUIRE(body["blocks"].size() == 1);
    CHECK(body["blocks"][0]["type"] == "header");
    CHECK(body["blocks"][0]["text"]["type"] == "plain_text");
    CHECK(body["blocks"][0]["text"]["text"].get<std::string>().size() <= 150);
    const auto& att = body["attachments"][0];
    CHECK(att["color"] == "#d00000");  // critical
    const auto& blocks = att["blocks"];
    CHECK(blocks.size() == kMaxSlackAlerts + 2);  // 20 alerts, "and 5 more", the footer
    for (const auto& b : blocks) {
        if (b["type"] == "section") {
            CHECK(b["text"]["type"] == "mrkdwn");
            CHECK(b["text"]["text"].get<std::string>().size() <= 3000);
        }
    }
    CHECK(blocks[20]["elements"][0]["text"] == "and 5 more alerts: see the status page");

    const auto small = json::parse(slack_payload(
        notification({make_alert("NameserverBehind", "warning", AlertState::firing)}), context()));
    const std::string text = small["attachments"][0]["blocks"][0]["text"]["text"];
    CHECK(text.find("&lt;b&gt;&amp;&lt;/b&gt;") != std::string::npos);  // mrkdwn escaping
    CHECK(small["attachments"][0]["color"] == "#e8a200");
    const auto resolved = json::parse(slack_payload(
        notification({make_alert("NameserverBehind", "warning", AlertState::resolved)}),
        context()));
    CHECK(resolved["text"] == "[RESOLVED] a.test.");
    CHECK(resolved["attachments"][0]["color"] == "#2eb886");
}

TEST_CASE("payload: Alertmanager postable alerts end by themselves unless re-sent",
          "[alerts][payload]") {
    const auto body = json::parse(alertmanager_payload(
        notification({make_alert("NameserverBehind", "warning", AlertState::firing),
                      make_alert("PrimaryUnreachable", "critical", AlertState::resolved)}),
        context()));
    REQUIRE(body.is_array());
    REQUIRE(body.size() == 2);
    CHECK(body[0]["labels"]["alertname"] == "NameserverBehind");
    CHECK(body[0]["startsAt"] == "2027-01-15T08:01:00Z");
    CHECK(body[0]["endsAt"] == "2027-01-15T08:05:40Z");  // now + 4 x resend_interval
    CHECK(body[0]["generatorURL"] == "http://soawatch.test:9353/#zone=a.test.");
    CHECK(body[1]["endsAt"] == "2027-01-15T08:02:00Z");  // resolved_at
}

TEST_CASE("dispatcher: posts the payload with the receiver's headers", "[alerts][dispatch]") {
    HttpRecorder server([](const RecordedRequest&, std::size_t) { return 200; });
    AlertDispatcher d(one_receiver(server.url("/api/hook")), fast());
    d.enqueue(notification({make_alert("NameserverBehind", "warning", AlertState::firing)}));
    REQUIRE(wait_for([&] { return d.stats()[0].success == 1; }));
    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].path == "/api/hook");
    CHECK(requests[0].header("Authorization") == "Bearer t0k3n");
    CHECK(requests[0].header("Content-Type") == "application/json");
    CHECK(json::parse(requests[0].body)["version"] == "4");
    CHECK(d.stats()[0].queued == 0);
}

TEST_CASE("dispatcher: Alertmanager receivers post to /api/v2/alerts", "[alerts][dispatch]") {
    HttpRecorder server([](const RecordedRequest&, std::size_t) { return 200; });
    AlertDispatcher d(one_receiver(server.url(""), ReceiverType::alertmanager), fast());
    d.enqueue(notification({make_alert("NameserverBehind", "warning", AlertState::firing)}));
    REQUIRE(wait_for([&] { return d.stats()[0].success == 1; }));
    CHECK(server.requests()[0].path == "/api/v2/alerts");
    CHECK(json::parse(server.requests()[0].body).is_array());
}

TEST_CASE("dispatcher: 5xx is retried with backoff, 4xx is a dead letter at once",
          "[alerts][dispatch]") {
    HttpRecorder flaky([](const RecordedRequest&, std::size_t i) { return i < 2 ? 503 : 200; });
    AlertDispatcher d(one_receiver(flaky.url()), fast());
    d.enqueue(notification({make_alert("NameserverBehind", "warning", AlertState::firing)}));
    REQUIRE(wait_for([&] { return d.stats()[0].success == 1; }));
    CHECK(d.stats()[0].retry == 2);
    CHECK(flaky.count() == 3);

    HttpRecorder refusing([](const RecordedRequest&, std::size_t) { return 400; });
    AlertDispatcher d2(one_receiver(refusing.url()), fast());
    d2.enqueue(notification({make_alert("NameserverBehind", "warning", AlertState::firing)}));
    REQUIRE(wait_for([&] { return d2.stats()[0].failed == 1; }));
    CHECK(d2.stats()[0].retry == 0);
    CHECK(refusing.count() == 1);
}

TEST_CASE("dispatcher: a receiver that is not listening is retried max_attempts times",
          "[alerts][dispatch]") {
    uint16_t port;
    {
        HttpRecorder gone([](const RecordedRequest&, std::size_t) { return 200; });
        port = gone.port();
    }
    AlertDispatcher d(
        one_receiver("http://127.0.0.1:" + std::to_string(port) + "/", ReceiverType::webhook, 3),
        fast());
    d.enqueue(notification({make_alert("NameserverBehind", "warning", AlertState::firing)}));
    REQUIRE(wait_for([&] { return d.stats()[0].failed == 1; }));
    CHECK(d.stats()[0].retry == 2);
    CHECK(d.stats()[0].queued == 0);
}

TEST_CASE("dispatcher: a hanging receiver keeps a bounded queue and cannot hold up shutdown",
          "[alerts][dispatch]") {
    HttpRecorder hanging([](const RecordedRequest&, std::size_t) { return 0; });
    HttpRecorder healthy([](const RecordedRequest&, std::size_t) { return 200; });
    AlertingConfig config = one_receiver(hanging.url(), ReceiverType::webhook, 2, 3);
    ReceiverConfig good = config.receivers[0];
    good.name = "good";
    good.url = healthy.url();
    config.receivers.push_back(good);
    AlertDispatcher d(config, fast());
    for (int i = 0; i < 10; ++i)
        d.enqueue(notification({make_alert("NameserverBehind", "warning", AlertState::firing)}, 0));
    for (int i = 0; i < 3; ++i)
        d.enqueue(notification({make_alert("NameserverBehind", "warning", AlertState::firing)}, 1));
    // The healthy receiver is not held up by the other one (each attempt there takes 300 ms).
    const auto enqueued = std::chrono::steady_clock::now();
    REQUIRE(wait_for([&] { return d.stats()[1].success == 3; }));
    CHECK(std::chrono::steady_clock::now() - enqueued < 250ms);
    REQUIRE(wait_for([&] { return d.stats()[0].dropped >= 7; }));
    CHECK(d.stats()[0].queued <= 3);
    CHECK(d.stats()[0].success == 0);

    std::string metrics;
    append_alert_metrics(metrics, AlertsSnapshot{}, d.stats());
    CHECK(metrics.find("soawatch_notifications_total{receiver=\"good\",result=\"success\"} 3") !=
          std::string::npos);
    CHECK(metrics.find("soawatch_notification_queue_length{receiver=\"r\"}") != std::string::npos);
    CHECK(metrics.find("soawatch_alerts_firing{alertname=\"NameserverBehind\"} 0") !=
          std::string::npos);

    const auto start = std::chrono::steady_clock::now();
    d.shutdown(200ms);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < 1s);
    CHECK(d.stats()[0].queued == 0);
}
