//! Prometheus metrics of the HTTP layer: requests by route, method and status, their latency,
//! bytes moved through the blob routes, uploads in flight, and whether the storage answered its
//! last readiness check. Served as text at [`crate::ServerConfig::metrics_path`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Latency buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

#[derive(Default)]
struct Histogram {
    /// Observations at most each bucket's bound (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The server's metrics; one per router, shared by its requests.
#[derive(Default)]
pub(crate) struct Metrics {
    /// (route, method, status) -> requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route -> latency.
    latency: Mutex<BTreeMap<String, Histogram>>,
    upload_bytes: AtomicU64,
    download_bytes: AtomicU64,
    uploads_in_flight: AtomicI64,
    /// 1 when the last readiness check passed, 0 when it failed, -1 before any.
    storage_ready: AtomicI64,
}

impl Metrics {
    pub(crate) fn new() -> Arc<Metrics> {
        let metrics = Metrics::default();
        metrics.storage_ready.store(-1, Ordering::Relaxed);
        Arc::new(metrics)
    }

    /// Records the outcome of a readiness check.
    pub(crate) fn set_storage_ready(&self, ready: bool) {
        self.storage_ready
            .store(i64::from(ready), Ordering::Relaxed);
    }

    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((route.to_owned(), method.as_str().to_owned(), status))
            .or_default() += 1;
        let mut latency = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        let histogram = latency.entry(route.to_owned()).or_default();
        if let Some(i) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            histogram.buckets[i] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The metrics in Prometheus's text format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP filesync_http_requests_total HTTP requests answered, by route, method and status.");
        let _ = writeln!(out, "# TYPE filesync_http_requests_total counter");
        let mut errors: BTreeMap<String, u64> = BTreeMap::new();
        for ((route, method, status), count) in self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "filesync_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                escape(route)
            );
            if *status >= 500 {
                *errors.entry(route.clone()).or_default() += count;
            }
        }
        let _ = writeln!(out, "# HELP filesync_http_errors_total Requests answered with a server error (5xx), by route.");
        let _ = writeln!(out, "# TYPE filesync_http_errors_total counter");
        for (route, count) in &errors {
            let _ = writeln!(
                out,
                "filesync_http_errors_total{{route=\"{}\"}} {count}",
                escape(route)
            );
        }
        let _ = writeln!(out, "# HELP filesync_http_request_duration_seconds Time from a request to its answer's headers, by route.");
        let _ = writeln!(
            out,
            "# TYPE filesync_http_request_duration_seconds histogram"
        );
        for (route, histogram) in self
            .latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let route = escape(route);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "filesync_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "filesync_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "filesync_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "filesync_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        let gauges = [
            ("filesync_upload_bytes_total", "counter", "Bytes received by uploads that succeeded (blob and part PUTs).", self.upload_bytes.load(Ordering::Relaxed) as i64),
            ("filesync_download_bytes_total", "counter", "Bytes sent by blob downloads (as their answers declared).", self.download_bytes.load(Ordering::Relaxed) as i64),
            ("filesync_uploads_in_flight", "gauge", "Blob and part uploads being received now.", self.uploads_in_flight.load(Ordering::Relaxed)),
            ("filesync_storage_ready", "gauge", "1 when the storage passed the last readiness check, 0 when it failed, -1 before any.", self.storage_ready.load(Ordering::Relaxed)),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts an upload in flight until dropped.
struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The middleware that records every routed request.
pub(crate) async fn record(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let upload = method == Method::PUT;
    let _in_flight = upload.then(|| {
        metrics.uploads_in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&metrics.uploads_in_flight)
    });
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    metrics.record(
        &route,
        &method,
        status.as_u16(),
        started.elapsed().as_secs_f64(),
    );
    if status.is_success() {
        if upload {
            metrics
                .upload_bytes
                .fetch_add(declared.unwrap_or(0), Ordering::Relaxed);
        } else if method == Method::GET {
            let sent = response
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            metrics.download_bytes.fetch_add(sent, Ordering::Relaxed);
        }
    }
    response
}

/// `GET {metrics_path}`.
pub(crate) async fn serve(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_cumulative_buckets_and_escaped_labels() {
        let metrics = Metrics::new();
        metrics.record("/api/v1/sign/upload", &Method::POST, 200, 0.003);
        metrics.record("/api/v1/sign/upload", &Method::POST, 200, 0.2);
        metrics.record("/a\"b", &Method::GET, 503, 100.0);
        metrics.set_storage_ready(true);
        let text = metrics.render();
        assert!(text.contains(
            "filesync_http_requests_total{route=\"/api/v1/sign/upload\",method=\"POST\",status=\"200\"} 2"
        ));
        assert!(text.contains("filesync_http_request_duration_seconds_bucket{route=\"/api/v1/sign/upload\",le=\"0.005\"} 1"));
        assert!(text.contains("filesync_http_request_duration_seconds_bucket{route=\"/api/v1/sign/upload\",le=\"0.25\"} 2"));
        assert!(text.contains(
            "filesync_http_request_duration_seconds_bucket{route=\"/a\\\"b\",le=\"60\"} 0"
        ));
        assert!(text.contains(
            "filesync_http_request_duration_seconds_bucket{route=\"/a\\\"b\",le=\"+Inf\"} 1"
        ));
        assert!(text.contains("filesync_http_errors_total{route=\"/a\\\"b\"} 1"));
        assert!(text.contains("filesync_storage_ready 1"));
    }
}
