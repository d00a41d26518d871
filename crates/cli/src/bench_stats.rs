//! `gongwen bench stats`: a center's year of records (10 million copies by default, as issue 19
//! asks), loaded in bulk on SQLite (default) or PostgreSQL (`--database-url`), then the daily
//! rollup of the statistics over the whole year, the minute's rollup of today, and the month's
//! dashboard (`gongwen_center::stats::report`, what `/stats`, `/stats.csv` and `/stats.json`
//! answer with) timed over `--samples` runs. Prints figures, and a last line of JSON; judges
//! nothing.

use std::process::ExitCode;
use std::time::Instant;

use gongwen_center::stats::{self, Period};
use gongwen_store::{Db, args};

use crate::bench_center::{arg, drop_postgres, fresh_postgres, pct};
use crate::error::CliError;

#[derive(clap::Args)]
pub struct StatsBench {
    /// PostgreSQL 位址（如 postgres://postgres@127.0.0.1:5432/postgres，另建一個暫用資料庫）；不指定則用暫存的 SQLite 檔
    #[arg(long)]
    pub database_url: Option<String>,
    /// 載入的公文份數（一年，每份公文三個收文者）
    #[arg(long, default_value_t = 10_000_000)]
    pub copies: u64,
    /// 參與者（收文機關）數
    #[arg(long, default_value_t = 2000)]
    pub participants: u64,
    /// 月統計的量測次數
    #[arg(long, default_value_t = 50)]
    pub samples: usize,
}

const DAY_MS: i64 = 86_400_000;
/// Copies per statement while loading.
const CHUNK: u64 = 500_000;

pub fn run(b: StatsBench) -> Result<ExitCode, CliError> {
    if b.copies < 3000 || b.samples == 0 || !(20..=100_000).contains(&b.participants) {
        return Err(arg(
            "--copies 至少 3000，--samples 至少 1，--participants 為 20 到 100000",
        ));
    }
    let dir = std::env::temp_dir().join(format!("gongwen-bench-stats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(&dir, e))?;
    let rt = crate::runtime()?;
    let result = rt.block_on(drive(&b, &dir));
    if let Some(base) = &b.database_url {
        rt.block_on(drop_postgres(base, "stats"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn refused(e: gongwen_net::Refusal) -> CliError {
    CliError::Service {
        code: e.code.as_str(),
        detail: e.detail,
    }
}

/// The numbers `0..n` as the rows of a statement: `s(i)`, from `$1` (first) to `$2` (end).
fn with_seq(db: &Db, body: &str) -> String {
    if db.is_postgres() {
        format!("WITH s(i) AS (SELECT generate_series($1::bigint, $2::bigint - 1)) {body}")
    } else {
        format!(
            "WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < $2) {body}"
        )
    }
}

/// Loads `n` copies (three to a package) spread evenly over the year before `now`: the last
/// three days' copies are open (available or delivered), the others ended — 1 % failed, 3 %
/// returned, the rest confirmed 1 to 53 hours after they became available (some late). Each
/// copy has its records, as the center writes them.
async fn load(db: &Db, n: u64, participants: u64, now: i64) -> Result<u64, CliError> {
    let span = 365 * DAY_MS;
    let t0 = now - span;
    let open_after = now - 3 * DAY_MS;
    let mut tx = db.begin().await?;
    for chunk in (0..participants).collect::<Vec<_>>().chunks(500) {
        let mut sql =
            String::from("INSERT INTO participants (code, name, state, updated_at) VALUES ");
        let rows: Vec<String> = chunk
            .iter()
            .map(|p| format!("('R{}', '測試機關{p}', 'active', {now})", 100_000 + p))
            .collect();
        sql.push_str(&rows.join(", "));
        tx.execute(&sql, &[]).await?;
    }
    tx.commit().await?;
    // One row of numbers per copy: its package, recipient (three different ones to a
    // package), time and fate.
    let copy = format!(
        "SELECT i, i / 3 + 1000000000 AS p, 'R' || CAST(100000 + ((i / 3) * 13 + (i % 3) * 7) % {participants} AS TEXT) AS r, \
         {t0} + (i * {span}) / {n} AS at, 3600000 * (1 + i % 53) AS delay, \
         CASE WHEN {t0} + (i * {span}) / {n} > {open_after} THEN (CASE WHEN i % 2 = 0 THEN 'available' ELSE 'delivered' END) \
              WHEN i % 100 = 0 THEN 'failed' WHEN i % 100 < 4 THEN 'returned' ELSE 'confirmed' END AS st \
         FROM s"
    );
    let recipient = "x.r";
    let statements = [
        // Packages: the first copy of each.
        format!(
            "INSERT INTO packages (id, sender, doc_number, subject, urgency, header_json, body_sha256, content_sha256, body_size, submitted_at, idem_key, confirm_now) \
             SELECT 'p' || CAST(x.p AS TEXT), 'S' || CAST(x.p % 500 AS TEXT), '測字第' || CAST(x.p AS TEXT) || '號', '測試主旨', '普通件', '{{}}', '', '', 1000, x.at, 'k' || CAST(x.p AS TEXT), 0 \
             FROM ({copy}) x WHERE x.i % 3 = 0"
        ),
        format!(
            "INSERT INTO copies (package_id, recipient, unit, copy_kind, status, status_at, available_at, delivered_at, fail_reason, return_reason) \
             SELECT 'p' || CAST(x.p AS TEXT), {recipient}, '', '正本', x.st, \
             CASE WHEN x.st IN ('confirmed', 'returned') THEN x.at + x.delay ELSE x.at END, \
             CASE WHEN x.st = 'failed' THEN NULL ELSE x.at END, \
             CASE WHEN x.st IN ('confirmed', 'returned') THEN x.at + x.delay / 2 WHEN x.st = 'delivered' THEN x.at + 60000 ELSE NULL END, \
             CASE WHEN x.st = 'failed' THEN 'unknown_recipient' ELSE NULL END, \
             CASE WHEN x.st = 'returned' THEN '誤送' ELSE NULL END \
             FROM ({copy}) x"
        ),
        // The records: 收件 for every copy, then what happened to it.
        format!(
            "INSERT INTO events (at, actor, kind, package_id, recipient) \
             SELECT x.at, 'S' || CAST(x.p % 500 AS TEXT), 'accepted', 'p' || CAST(x.p AS TEXT), {recipient} FROM ({copy}) x"
        ),
        format!(
            "INSERT INTO events (at, actor, kind, package_id, recipient) \
             SELECT x.at, 'center', CASE WHEN x.st = 'failed' THEN 'failed' ELSE 'available' END, 'p' || CAST(x.p AS TEXT), {recipient} FROM ({copy}) x"
        ),
        format!(
            "INSERT INTO events (at, actor, kind, package_id, recipient) \
             SELECT CASE WHEN x.st = 'delivered' THEN x.at + 60000 ELSE x.at + x.delay / 2 END, {recipient}, 'delivered', 'p' || CAST(x.p AS TEXT), {recipient} \
             FROM ({copy}) x WHERE x.st IN ('delivered', 'confirmed', 'returned')"
        ),
        format!(
            "INSERT INTO events (at, actor, kind, package_id, recipient) \
             SELECT x.at + x.delay, {recipient}, x.st, 'p' || CAST(x.p AS TEXT), {recipient} \
             FROM ({copy}) x WHERE x.st IN ('confirmed', 'returned')"
        ),
    ];
    // The secondary indexes go while loading and come back after (built once, not grown a row
    // at a time): the same definitions, read from the schema.
    let indexes = secondary_indexes(db).await?;
    for (name, _) in &indexes {
        db.execute(&format!("DROP INDEX {name}"), &[]).await?;
    }
    let t = Instant::now();
    let mut first = 0;
    while first < n {
        let end = (first + CHUNK).min(n);
        let mut tx = db.begin().await?;
        for s in &statements {
            tx.execute(&with_seq(db, s), &args![first as i64, end as i64])
                .await?;
        }
        tx.commit().await?;
        first = end;
        eprintln!("  已載入 {first} 份（{:.0} 秒）", t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    for (_, sql) in &indexes {
        db.execute(sql, &[]).await?;
    }
    eprintln!(
        "  已重建 {} 個索引（{:.0} 秒）",
        indexes.len(),
        t.elapsed().as_secs_f64()
    );
    let events = db
        .fetch_optional("SELECT COUNT(*) FROM events", &[])
        .await?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    db.execute("ANALYZE", &[]).await?;
    Ok(events as u64)
}

/// The indexes of the loaded tables other than their keys: (name, definition).
async fn secondary_indexes(db: &Db) -> Result<Vec<(String, String)>, CliError> {
    let sql = if db.is_postgres() {
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename IN ('events', 'copies', 'packages') AND indexdef NOT LIKE 'CREATE UNIQUE%'"
    } else {
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
         AND tbl_name IN ('events', 'copies', 'packages') AND sql IS NOT NULL"
    };
    let mut out = Vec::new();
    for r in db.fetch_all(sql, &[]).await? {
        out.push((r.text(0)?, r.text(1)?));
    }
    Ok(out)
}

fn since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

async fn drive(b: &StatsBench, dir: &std::path::Path) -> Result<ExitCode, CliError> {
    let url = match &b.database_url {
        Some(base) if base.starts_with("postgres") => fresh_postgres(base, "stats").await?,
        Some(other) => return Err(arg(format!("--database-url「{other}」應為 postgres://…"))),
        None => format!("sqlite://{}", dir.join("center.db").display()),
    };
    let db = Db::connect(&url).await?;
    let now = crate::clock::unix_now() * 1000;
    println!(
        "交換中心統計：資料庫 {}；載入一年 {} 份公文（{} 個收文機關）……",
        db.engine(),
        b.copies,
        b.participants
    );
    let t = Instant::now();
    let events = load(&db, b.copies, b.participants, now).await?;
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "載入        {load_s:.1} 秒（每秒 {:.0} 份，含 {events} 筆紀錄）",
        b.copies as f64 / load_s
    );

    let cal = gongwen_calendar::WorkCalendar::with_bundled().unwrap_or_default();
    let t = Instant::now();
    let mut days = 0;
    loop {
        let r = stats::rollup(&db, &cal, now, 400).await.map_err(refused)?;
        days += r.days;
        if !r.pending {
            break;
        }
    }
    let rollup_s = t.elapsed().as_secs_f64();
    println!(
        "逐日統計    {rollup_s:.1} 秒（{days} 天，平均每天 {:.0} ms）",
        rollup_s * 1000.0 / f64::from(days.max(1))
    );
    // What the sweeper does every minute: today again (the closed days are not read).
    let mut minute = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        stats::rollup(&db, &cal, now, 400).await.map_err(refused)?;
        minute.push(since(t));
    }
    let (mut m, mut d) = (minute.clone(), Vec::new());
    let minute_p50 = pct(&mut m, 0.5);
    println!("每分鐘更新  p50 {minute_p50:8.2} ms（重算今天）");

    let today = stats::day_of(now);
    let month = Period::this_month(today);
    let month = if month.days().count() < 7 {
        // Early in a month: the month before, a whole one.
        let last = month.from.previous_day().unwrap_or(month.from);
        Period::this_month(last)
    } else {
        month
    };
    let mut shown = None;
    for _ in 0..b.samples {
        let t = Instant::now();
        let r = stats::report(&db, &cal, now, month)
            .await
            .map_err(refused)?;
        let csv = stats::csv(&r);
        d.push(since(t));
        shown.get_or_insert((r.total.accepted, r.open_now, csv.len()));
    }
    let (accepted, open, csv_bytes) = shown.unwrap_or_default();
    let (p50, p99) = (pct(&mut d, 0.5), pct(&mut d, 0.99));
    println!(
        "月統計      p50 {p50:8.2} ms   p99 {p99:8.2} ms   （{} 次；{} 至 {}，收件 {accepted} 份，目前未確認 {open} 份，CSV {csv_bytes} 位元組）",
        b.samples,
        stats::iso(month.from),
        stats::iso(month.to)
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "stats",
            "engine": db.engine(),
            "copies": b.copies,
            "events": events,
            "load_s": (load_s * 10.0).round() / 10.0,
            "rollup_days": days,
            "rollup_s": (rollup_s * 10.0).round() / 10.0,
            "minute_rollup_p50_ms": (minute_p50 * 100.0).round() / 100.0,
            "month_from": stats::iso(month.from),
            "month_to": stats::iso(month.to),
            "month_accepted": accepted,
            "open_now": open,
            "dashboard_samples": b.samples,
            "dashboard_p50_ms": (p50 * 100.0).round() / 100.0,
            "dashboard_p99_ms": (p99 * 100.0).round() / 100.0,
        })
    );
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
