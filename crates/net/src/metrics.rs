//! Counters and latency histograms in Prometheus' text format, for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// A small registry: name + one label value → counter or histogram.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    histograms: Mutex<BTreeMap<(&'static str, String), Histogram>>,
    help: Mutex<BTreeMap<&'static str, &'static str>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    pub fn describe(&self, name: &'static str, help: &'static str) {
        lock(&self.help).insert(name, help);
    }

    pub fn inc(&self, name: &'static str, label: &str) {
        self.add(name, label, 1)
    }

    pub fn add(&self, name: &'static str, label: &str, n: u64) {
        *lock(&self.counters)
            .entry((name, label.to_string()))
            .or_default() += n;
    }

    pub fn observe(&self, name: &'static str, label: &str, seconds: f64) {
        let mut h = lock(&self.histograms);
        let h = h.entry((name, label.to_string())).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The text exposition format (version 0.0.4). The label is called `kind`.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let help = lock(&self.help).clone();
        let heading = |out: &mut String, name: &str, kind: &str| {
            let _ = writeln!(out, "# HELP {name} {}", help.get(name).unwrap_or(&name));
            let _ = writeln!(out, "# TYPE {name} {kind}");
        };
        let mut last = "";
        for ((name, label), v) in lock(&self.counters).iter() {
            if *name != last {
                heading(&mut out, name, "counter");
                last = name;
            }
            let _ = writeln!(out, "{name}{{kind=\"{}\"}} {v}", escape(label));
        }
        last = "";
        for ((name, label), h) in lock(&self.histograms).iter() {
            if *name != last {
                heading(&mut out, name, "histogram");
                last = name;
            }
            let l = escape(label);
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{kind=\"{l}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(out, "{name}_bucket{{kind=\"{l}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{kind=\"{l}\"}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{kind=\"{l}\"}} {}", h.count);
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.describe("gongwen_requests_total", "Requests answered");
        m.inc("gongwen_requests_total", "submit");
        m.inc("gongwen_requests_total", "submit");
        m.observe("gongwen_request_seconds", "submit", 0.003);
        let t = m.render(&[("gongwen_up", "1 when serving", 1.0)]);
        assert!(
            t.contains("gongwen_requests_total{kind=\"submit\"} 2"),
            "{t}"
        );
        assert!(t.contains("gongwen_request_seconds_bucket{kind=\"submit\",le=\"0.005\"} 1"));
        assert!(t.contains("gongwen_request_seconds_bucket{kind=\"submit\",le=\"0.0025\"} 0"));
        assert!(t.contains("gongwen_up 1"));
    }
}
