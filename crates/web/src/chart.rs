//! Bar charts drawn on the server as inline SVG (no I/O, no dependency): the statistics pages
//! show them where people would rather look than read.
//!
//! Readable printed in black and white: bars are outlined and hatched rather than told apart
//! by colour, every bar carries its value in text, the target is a dashed line with its own
//! label. Only SVG presentation attributes (`fill`, `stroke` …), never `style=`: the pages'
//! policy allows no inline styles. The chart is `role="img"` with a `<title>` and a `<desc>`
//! for screen readers; the page shows the same numbers in a table beside it.

use std::fmt::Write;

/// One bar: its label under the x axis and its value (None: no data, drawn as 「—」).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
}

/// A bar chart to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart<'a> {
    /// Unique on the page: it names the hatch pattern and ties `<title>`/`<desc>`.
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    /// Printed after each value, e.g. `%`.
    pub unit: &'a str,
    pub bars: &'a [Bar],
    /// A horizontal line (value, label), e.g. the 30 % target.
    pub target: Option<(f64, &'a str)>,
    /// The top of the y axis; None: the largest value or target, rounded up.
    pub y_max: Option<f64>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 48.0;
/// More bars are not drawn (the statistics pages show at most 24 months).
pub const MAX_BARS: usize = 60;

/// Text made safe inside SVG (and HTML) markup.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A value as printed: at most one decimal, without a trailing `.0`.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `v` (the top of the axis).
fn nice_ceiling(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

/// The chart as an `<svg>` element, ready to put in a page.
pub fn bar_chart(c: &BarChart) -> String {
    let bars = &c.bars[..c.bars.len().min(MAX_BARS)];
    let finite = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    let top = c
        .y_max
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or_else(|| {
            let most = bars
                .iter()
                .filter_map(|b| b.value)
                .map(finite)
                .chain(c.target.map(|t| finite(t.0)))
                .fold(0.0, f64::max);
            nice_ceiling(most)
        });
    let id = escape(c.id);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h - (finite(v).min(top) / top) * plot_h;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(c.title),
        escape(c.desc),
    );
    let _ = write!(
        s,
        r##"<defs><pattern id="{id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6"><path d="M0,6 L6,0" stroke="#000" stroke-width="1"/></pattern></defs><rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>"##
    );
    // The y axis: five ticks with their values and light grid lines.
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let ty = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#999" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" fill="#000">{}{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            ty + 4.0,
            number(v),
            escape(c.unit),
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="#000" stroke-width="1"/><line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#000" stroke-width="1"/>"##,
        TOP + plot_h,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h,
    );
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.6).min(48.0);
    for (i, b) in bars.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        let base = TOP + plot_h;
        match b.value {
            Some(v) => {
                let by = y(v);
                let _ = write!(
                    s,
                    r##"<rect class="bar" x="{:.1}" y="{by:.1}" width="{bar_w:.1}" height="{:.1}" fill="url(#{id}-hatch)" stroke="#000" stroke-width="1"/><text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="#000">{}{}</text>"##,
                    cx - bar_w / 2.0,
                    base - by,
                    by - 4.0,
                    number(v),
                    escape(c.unit),
                );
            }
            None => {
                let _ = write!(
                    s,
                    r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="#000">—</text>"##,
                    base - 4.0,
                );
            }
        }
        let _ = write!(
            s,
            r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="#000">{}</text>"##,
            base + 18.0,
            escape(&b.label),
        );
    }
    if let Some((v, label)) = c.target {
        let ty = y(v);
        let _ = write!(
            s,
            r##"<line class="target" x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#000" stroke-width="2" stroke-dasharray="8 4"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" font-weight="bold" fill="#000">{} {}{}</text>"##,
            WIDTH - RIGHT,
            WIDTH - RIGHT,
            ty - 6.0,
            escape(label),
            number(v),
            escape(c.unit),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(bars: &[Bar]) -> String {
        bar_chart(&BarChart {
            id: "rate",
            title: "線上簽核率 <月>",
            desc: "各月 & 目標",
            unit: "%",
            bars,
            target: Some((30.0, "目標")),
            y_max: Some(100.0),
        })
    }

    #[test]
    fn bars_carry_their_values_and_the_target_line() {
        let bars = vec![
            Bar {
                label: "115/01".into(),
                value: Some(62.5),
            },
            Bar {
                label: "115/02".into(),
                value: None,
            },
            Bar {
                label: "<b>".into(),
                value: Some(25.0),
            },
        ];
        let svg = chart(&bars);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"rate-title\">線上簽核率 &lt;月&gt;</title>"));
        assert!(svg.contains("<desc id=\"rate-desc\">各月 &amp; 目標</desc>"));
        assert!(svg.contains(">62.5%</text>"));
        assert!(svg.contains(">25%</text>"));
        assert!(svg.contains(">—</text>"), "no data is shown as such");
        assert!(svg.contains(">&lt;b&gt;</text>"), "labels are escaped");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains(r#"class="target""#) && svg.contains("目標 30%"));
        // The target at 30 of 100: 30 % up the plot (TOP + plot_h·0.7).
        assert!(svg.contains(r#"y1="197.6""#));
        assert_eq!(svg.matches(r#"class="bar""#).count(), 2);
        assert!(
            !svg.contains("style="),
            "no inline styles under the page policy"
        );
        // Well-formed in the simple sense: every element opened is closed.
        for tag in ["svg", "title", "desc", "defs", "pattern", "text"] {
            assert_eq!(
                svg.matches(&format!("<{tag}")).count(),
                svg.matches(&format!("</{tag}>")).count(),
                "{tag}"
            );
        }
    }

    #[test]
    fn the_axis_fits_the_values() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(230.0), 250.0);
        assert_eq!(number(3.04), "3");
        assert_eq!(number(3.06), "3.1");
        let svg = bar_chart(&BarChart {
            id: "d",
            title: "t",
            desc: "d",
            unit: "",
            bars: &[Bar {
                label: "a".into(),
                value: Some(f64::NAN),
            }],
            target: None,
            y_max: None,
        });
        assert!(!svg.contains("NaN"));
    }
}
