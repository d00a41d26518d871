//! `gongwen bench office`: a city hall's year of cases (a million by default, as SIGNOFF.md's
//! scale asks) in the document-management system, then the three things people wait for: their
//! worklists, the case page, and one signed sign-off step (prepare, sign with the card, check
//! and commit). Prints figures, with the card's bare signing time beside the step's for a
//! ratio that does not drift with the machine; judges nothing.

use std::process::ExitCode;
use std::time::Instant;

use gongwen_office::cases;
use gongwen_office::steps::{self, Action, NewVersion, Office, Request};
use gongwen_store::Db;
use gongwen_testbed::office::{self as fixture, Card};

use crate::bench_center::{arg, database_url, drop_postgres, fresh_postgres, pct};
use crate::error::CliError;

#[derive(clap::Args)]
pub struct OfficeBench {
    /// 資料庫：sqlite 或 postgres（GONGWEN_BENCH_DATABASE_URL，預設本機 postgres）
    #[arg(long, default_value = "postgres")]
    pub db: String,
    /// 載入的案件數（一年）
    #[arg(long, default_value_t = 1_000_000)]
    pub cases: usize,
    /// 每項量測的次數
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
}

pub fn run(b: OfficeBench) -> Result<ExitCode, CliError> {
    if b.cases < 1000 || b.samples == 0 {
        return Err(arg("--cases 至少 1000，--samples 至少 1"));
    }
    let dir = std::env::temp_dir().join(format!("gongwen-bench-office-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(&dir, e))?;
    let rt = crate::runtime()?;
    let result = rt.block_on(drive(&b, &dir));
    if b.db == "postgres" {
        let base = database_url("postgres", &dir)?;
        rt.block_on(drop_postgres(&base, "office"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// p50 and p99 in milliseconds, as one line.
fn line(name: &str, mut ms: Vec<f64>) {
    let (p50, p99) = (pct(&mut ms, 0.5), pct(&mut ms, 0.99));
    println!(
        "{name:<12} p50 {p50:8.2} ms   p99 {p99:8.2} ms   （{} 次）",
        ms.len()
    );
}

fn since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

async fn drive(b: &OfficeBench, dir: &std::path::Path) -> Result<ExitCode, CliError> {
    let mut url = database_url(&b.db, dir)?;
    if b.db == "postgres" {
        url = fresh_postgres(&url, "office").await?;
    }
    let db = Db::connect(&url).await?;
    let (mut ca, trust) = fixture::people_ca(&dir.join("ca")).map_err(arg)?;
    let card = Card::issue(&mut ca, "承辦人零").map_err(arg)?;
    let org = fixture::city_hall(&db, &card).await.map_err(arg)?;
    println!(
        "公文管理系統：{} 個承辦人，資料庫 {}；載入 {} 件案件……",
        org.officers.len(),
        db.engine(),
        b.cases
    );
    let t = Instant::now();
    let mut shown = 0;
    fixture::load_year(&db, &org, &card, b.cases, |n| {
        if n * 10 / b.cases > shown {
            shown = n * 10 / b.cases;
            eprintln!("  已載入 {n} 件（{:.0} 秒）", t.elapsed().as_secs_f64());
        }
    })
    .await
    .map_err(arg)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "載入        {secs:.1} 秒（每秒 {:.0} 件，含每件一版簽與兩個步驟）",
        b.cases as f64 / secs
    );
    let settled = Instant::now();
    fixture::settle(&db).await.map_err(arg)?;
    println!(
        "整理        {:.1} 秒（ANALYZE 與 checkpoint，量測穩定狀態而非剛載入時）",
        settled.elapsed().as_secs_f64()
    );

    let calendar = gongwen_office::timing::WorkCalendar::with_bundled().unwrap_or_default();
    // The statistics rollup of what was loaded, as the office's daily round builds it.
    let rolled = Instant::now();
    gongwen_office::closed::catch_up_all(&db, &calendar)
        .await
        .map_err(office_err)?;
    let looked = db
        .fetch_all("SELECT COUNT(*) AS n FROM office_closed", &[])
        .await?
        .first()
        .map_or(Ok(0), |r| r.i64("n"))?;
    println!(
        "彙整        {:.1} 秒（{looked} 件結案的統計列，每秒 {:.0} 件）",
        rolled.elapsed().as_secs_f64(),
        looked as f64 / rolled.elapsed().as_secs_f64().max(0.001)
    );
    let office = Office {
        db: &db,
        agency: "379000000A 臺北市政府",
        trust: &trust,
        calendar: &calendar,
        extensions: Default::default(),
    };
    let now = || crate::clock::unix_now() * 1000;
    let day = gongwen_office::taipei_day(now());
    let mut worklists = Vec::new();
    for i in 0..b.samples {
        let who = &org.officers[(i * 37) % org.officers.len()];
        let t = Instant::now();
        let lists = cases::worklists_for(&db, who, &day, 50)
            .await
            .map_err(office_err)?;
        worklists.push(since(t));
        if lists.is_empty() {
            return Err(arg(format!("{who} 沒有工作清單")));
        }
    }
    line("工作清單", worklists);

    let mut pages = Vec::new();
    for i in 0..b.samples {
        let id = format!("115{:07}", (i * 7_919) % b.cases);
        let t = Instant::now();
        cases::case(&db, &id).await.map_err(office_err)?;
        cases::versions(&db, &id).await.map_err(office_err)?;
        steps::steps(&db, &id).await.map_err(office_err)?;
        cases::consults(&db, &id).await.map_err(office_err)?;
        pages.push(since(t));
    }
    line("案件頁", pages);

    // officer-0's open cases: each gets one signed 擬辦 (a new version of its memo).
    let mine = cases::worklist(
        &db,
        cases::State::WithOfficer,
        cases::Scope::Holder(&org.officers[0]),
        b.samples as i64,
    )
    .await
    .map_err(office_err)?;
    let (mut signoff, mut signing) = (Vec::new(), Vec::new());
    for (n, item) in mine.iter().enumerate() {
        let mut req = Request::new(&item.id, Action::Draft, &org.officers[0], now());
        req.version = Some(NewVersion {
            doc: "memo-1".to_string(),
            kind: "memo".to_string(),
            content: format!("簽：第 {n} 次修正").into_bytes(),
        });
        let t = Instant::now();
        let text = steps::prepare(&office, &req).await.map_err(office_err)?;
        let s = Instant::now();
        let signature = card.sign(&text).map_err(arg)?;
        signing.push(since(s));
        steps::commit(&office, &req, &signature, now())
            .await
            .map_err(office_err)?;
        signoff.push(since(t));
    }
    // The month dashboard of the statistics page: indicators, timeliness and stages of last
    // month, as the page computes them.
    let last = gongwen_office::indicators::Month::of_ms(now()).prev();
    let (mut dashboard, mut parts) = (Vec::new(), [Vec::new(), Vec::new(), Vec::new()]);
    let mut closed = 0;
    for _ in 0..b.samples.clamp(1, 20) {
        let t = Instant::now();
        gongwen_office::indicators::report(&db, &Default::default(), last, last, None)
            .await
            .map_err(office_err)?;
        parts[0].push(since(t));
        let u = Instant::now();
        gongwen_office::timeliness::report(&db, last, last)
            .await
            .map_err(office_err)?;
        parts[1].push(since(u));
        let v = Instant::now();
        let st = gongwen_office::stages::report(&db, last, last)
            .await
            .map_err(office_err)?;
        parts[2].push(since(v));
        dashboard.push(since(t));
        closed = st.closed;
    }
    println!("統計頁（{}，當月結案 {closed} 件）：", last.iso());
    line("月統計", dashboard);
    let [ind, timely, stage] = parts;
    line("其中指標", ind);
    line("其中時效", timely);
    line("其中階段", stage);
    let (mut a, mut s) = (signoff.clone(), signing.clone());
    let ratio = pct(&mut a, 0.5) / pct(&mut s, 0.5).max(0.001);
    line("簽核一步", signoff);
    line("其中卡片簽章", signing);
    println!("簽核一步的中位數是卡片簽章的 {ratio:.1} 倍（同一次執行中比較，不受機器快慢影響）");
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

fn office_err(e: gongwen_office::OfficeError) -> CliError {
    CliError::Service {
        code: e.code().as_str(),
        detail: e.to_string(),
    }
}
