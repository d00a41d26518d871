//! `gongwen bench doc`: throughput of the document layer. Prints figures; judges nothing.

use std::process::ExitCode;
use std::time::Instant;

use gongwen_doc::draft::Draft;

use crate::doc_cmd::{doc_err, read};
use crate::error::CliError;

const DRAFT: &str = include_str!("../../../examples/letter.toml");

/// A typical 函 DI is about 5 KB; the example is shorter, so repeat its 說明 items to that size.
fn typical_size(di: &mut gongwen_doc::Di) {
    let gongwen_doc::Document::Letter(l) = &mut di.document else {
        return;
    };
    let Some(items) = l.sections.first().map(|s| s.items.clone()) else {
        return;
    };
    let mut next = items.len();
    while gongwen_doc::write_di(di).map_or(0, |t| t.len()) < 5_000 {
        let gongwen_doc::Document::Letter(l) = &mut di.document else {
            return;
        };
        let mut item = items[next % items.len()].clone();
        next += 1;
        item.number = format!("{next}、");
        l.sections[0].items.push(item);
    }
}

/// Starts a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The large-attachment run: where, how large, the letter, and who seals and opens it.
struct StreamingRun<'a> {
    dir: &'a std::path::Path,
    /// Size of the attachment, in MiB.
    large_mb: usize,
    /// The letter: its base file name, DI and SW, and the attachment's name.
    base: &'a str,
    di: &'a str,
    sw: &'a str,
    att_name: &'a str,
    /// The sender's keys, the recipient's encryption certificate, and the recipient that
    /// opens the package with its trust store and the sender's bound key.
    signer: gongwen_trust::cms::Signer<'a>,
    to: &'a gongwen_trust::cms::Certificate,
    me: gongwen_trust::package::Recipient<'a>,
    store: &'a gongwen_trust::path::TrustStore,
    bound: [u8; 32],
    now: i64,
}

/// Streaming seal and open of one large attachment, as `gongwen seal` and `open` do, each
/// with its own peak-memory measurement.
fn streaming(run: StreamingRun<'_>) -> Result<String, CliError> {
    let StreamingRun {
        dir,
        large_mb,
        base,
        di,
        sw,
        att_name,
        signer,
        to,
        me,
        store,
        bound,
        now,
    } = run;
    use gongwen_trust::package::stream::{StreamSeal, open_to_dir, seal_to_file};
    use std::io::Write;
    let att = dir.join(att_name);
    {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&att).map_err(|e| CliError::io(&att, e))?,
        );
        let mut chunk = vec![0u8; 1024 * 1024];
        filler(&mut chunk);
        for _ in 0..large_mb {
            f.write_all(&chunk).map_err(|e| CliError::io(&att, e))?;
        }
        f.flush().map_err(|e| CliError::io(&att, e))?;
    }
    let pkg = dir.join("large.pkg");
    reset_peak_rss();
    let t = Instant::now();
    seal_to_file(
        &StreamSeal {
            di: (format!("{base}.di"), di.as_bytes().to_vec()),
            sw: Some((format!("{base}.sw"), sw.as_bytes().to_vec())),
            attachments: vec![(att_name.to_string(), att.clone())],
            signer,
            recipients: std::slice::from_ref(to),
            options: Default::default(),
            now,
        },
        &pkg,
    )?;
    let seal_s = t.elapsed().as_secs_f64();
    let seal_rss = peak_rss_mb();
    let _ = std::fs::remove_file(&att);
    reset_peak_rss();
    let t = Instant::now();
    open_to_dir(&pkg, &me, store, &|_| vec![bound], &dir.join("large-out"))?;
    let open_s = t.elapsed().as_secs_f64();
    let open_rss = peak_rss_mb();
    let mb = large_mb as f64 * 1.048_576;
    println!(
        "串流：附件 {large_mb} MiB、1 個收件者：封裝 {seal_s:.1} 秒（{:.0} MB/秒，附件讀三次），最高記憶體 {seal_rss:.1} MB；開啟 {open_s:.1} 秒（{:.0} MB/秒），最高記憶體 {open_rss:.1} MB",
        mb / seal_s,
        mb / open_s
    );
    Ok(format!(
        "{{\"streaming_mib\":{large_mb},\"seal_s\":{seal_s:.2},\"seal_peak_rss_mb\":{seal_rss:.1},\"open_s\":{open_s:.2},\"open_mb_s\":{:.0},\"open_peak_rss_mb\":{open_rss:.1}}}",
        mb / open_s
    ))
}

/// Peak resident memory of this process, from /proc (Linux); 0 elsewhere.
pub fn peak_rss_mb() -> f64 {
    peak_rss_mb_of("self")
}

/// Peak resident memory of process `pid` ("self" for this one).
pub fn peak_rss_mb_of(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The bundled example letter, built.
fn example_letter() -> Result<gongwen_doc::draft::Built, CliError> {
    let draft: Draft = toml::from_str(DRAFT).map_err(|e| CliError::Draft {
        path: "examples/letter.toml".into(),
        detail: e.to_string(),
    })?;
    draft
        .build(crate::clock::today())
        .map_err(|p| doc_err("examples/letter.toml", gongwen_doc::DocError::Invalid(p)))
}

/// CPU time of this (single-threaded) process so far, in seconds.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns / 1e9)
        .unwrap_or(0.0)
}

pub fn doc(docs: usize, renders: usize) -> Result<ExitCode, CliError> {
    let docs = docs.max(1);
    let mut built = example_letter()?;
    typical_size(&mut built.di);
    let text = gongwen_doc::write_di(&built.di).map_err(|e| doc_err("examples/letter.toml", e))?;
    let bytes = text.as_bytes();
    println!(
        "樣本：範例函加長到典型大小的 DI，{} 位元組（{:.1} KB）",
        bytes.len(),
        bytes.len() as f64 / 1024.0
    );

    let t = Instant::now();
    for _ in 0..docs {
        let di =
            gongwen_doc::read_di(std::hint::black_box(bytes)).map_err(|e| doc_err("bench", e))?;
        std::hint::black_box(di);
    }
    let s = t.elapsed().as_secs_f64();
    let read_rate = docs as f64 / s;
    println!(
        "讀取＋驗證：{docs} 件 {:.3} 秒，{:.0} 件/秒，{:.1} MB/秒",
        s,
        read_rate,
        read_rate * bytes.len() as f64 / 1e6
    );

    let t = Instant::now();
    for _ in 0..docs {
        let out = gongwen_doc::write_di(std::hint::black_box(&built.di))
            .map_err(|e| doc_err("bench", e))?;
        std::hint::black_box(out);
    }
    let s = t.elapsed().as_secs_f64();
    let write_rate = docs as f64 / s;
    println!(
        "寫出（含驗證）：{docs} 件 {:.3} 秒，{:.0} 件/秒",
        s, write_rate
    );

    let mut ms_per_page = 0.0;
    let mut pages = 0;
    if renders > 0 {
        let fonts = crate::doc_cmd::load_fonts(None)?;
        let opts = gongwen_render::RenderOptions::default();
        // The first render loads and parses the font; report it apart.
        let t = Instant::now();
        let first = gongwen_render::render_pdf(&built.di, &fonts, &opts)
            .map_err(crate::doc_cmd::render_err)?;
        let first_ms = t.elapsed().as_secs_f64() * 1000.0;
        pages = gongwen_render::page_count(&built.di, &fonts, &opts)
            .map_err(crate::doc_cmd::render_err)?;
        let t = Instant::now();
        for _ in 0..renders {
            let pdf = gongwen_render::render_pdf(&built.di, &fonts, &opts)
                .map_err(crate::doc_cmd::render_err)?;
            std::hint::black_box(pdf);
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0 / renders as f64;
        ms_per_page = ms / pages.max(1) as f64;
        println!(
            "列印 PDF：{pages} 頁，{} 位元組；首次 {:.1} 毫秒；其後平均 {:.1} 毫秒/件，{:.1} 毫秒/頁",
            first.len(),
            first_ms,
            ms,
            ms_per_page
        );
    }
    let rss = peak_rss_mb();
    println!("最高記憶體用量：{rss:.1} MB");
    println!(
        "{{\"di_bytes\":{},\"read_validate_docs_per_s\":{:.0},\"write_docs_per_s\":{:.0},\"render_pages\":{},\"render_ms_per_page\":{:.2},\"peak_rss_mb\":{:.1}}}",
        bytes.len(),
        read_rate,
        write_rate,
        pages,
        ms_per_page,
        rss
    );
    Ok(ExitCode::SUCCESS)
}

/// Seal and open throughput of sealed packages: the example letter with one attachment of
/// 100 KB and of 10 MB, for 1 and for 50 recipients.
pub fn trust(rounds: usize, large_mb: usize, signer_key: &str) -> Result<ExitCode, CliError> {
    use gongwen_trust::cms::{Signer, load_certs};
    use gongwen_trust::keys::PrivateKey;
    use gongwen_trust::package::{self, Recipient, SealInput};
    use gongwen_trust::path::{StaleCrl, TrustStore, load_crls, spki_sha256};
    use gongwen_trust::pki::{Branch, InitOptions, IssueRequest, KeyType, Subject, TestCa};

    let now = crate::clock::unix_now();
    let dir = std::env::temp_dir().join(format!("gongwen-bench-trust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "準備：測試憑證中心、1 個發文機關（簽章金鑰 {signer_key}）、50 個收文機關（RSA-2048 加密）……"
    );
    let mut ca = TestCa::init(&dir, &InitOptions::default(), now)?;
    let signer_type = KeyType::parse(signer_key)?;
    let mut issue = |code: String, key: KeyType| {
        ca.issue(
            &IssueRequest {
                subject: Subject::Organisation {
                    branch: Branch::Gca,
                    code,
                    name: "量測機關".into(),
                },
                key,
                days: 30,
            },
            now,
        )
    };
    let sender = issue("379000000A".into(), signer_type)?;
    let first = issue("379130000C".into(), KeyType::Rsa2048)?;
    let mut others = Vec::new();
    for i in 0..49 {
        others.push(issue(format!("3{i:08}Z"), KeyType::Rsa2048)?);
    }
    let cert =
        |p: &std::path::Path| -> Result<_, CliError> { Ok(load_certs(&read(p)?)?.remove(0)) };
    let key = |p: &std::path::Path| -> Result<_, CliError> {
        Ok(PrivateKey::from_pem(&String::from_utf8_lossy(&read(p)?))?)
    };
    let sign_key = key(&sender[0].key_file)?;
    let sign_cert = cert(&sender[0].cert_file)?;
    let chain = load_certs(&read(&ca.ca_file(Branch::Gca))?)?;
    let mut to = vec![cert(&first[1].cert_file)?];
    for o in &others {
        to.push(cert(&o[1].cert_file)?);
    }
    let me_key = key(&first[1].key_file)?;
    let me_cert = cert(&first[1].cert_file)?;
    let me_code =
        gongwen_doc::AgencyCode::parse("379130000C").map_err(|e| CliError::Arg(e.message))?;
    let mut crls = Vec::new();
    for s in ["root", "gca"] {
        crls.extend(load_crls(&read(&ca.crl_file(s))?)?);
    }
    let store = TrustStore {
        anchors: load_certs(&read(&ca.root_file())?)?,
        crls,
        stale_crl: StaleCrl::Refuse,
    };
    let bound = spki_sha256(&sign_cert)?;
    let built = example_letter()?;
    let di = gongwen_doc::write_di(&built.di).map_err(|e| doc_err("bench", e))?;
    let sw = gongwen_doc::write_roster(&built.roster).map_err(|e| doc_err("bench", e))?;
    let att_name = built
        .attachments
        .first()
        .map(|a| a.file.clone())
        .unwrap_or_default();
    let mut json = Vec::new();
    // --rounds 0: only the streaming case, in a fresh process, so its peak memory is its own.
    let sizes: &[usize] = if rounds == 0 {
        &[]
    } else {
        &[100 * 1024, 10 * 1024 * 1024]
    };
    for &size in sizes {
        for n in [1usize, 50] {
            let mut att = vec![0u8; size];
            filler(&mut att);
            let input = SealInput {
                di: (format!("{}.di", built.base), di.clone().into_bytes()),
                sw: Some((format!("{}.sw", built.base), sw.clone().into_bytes())),
                attachments: vec![(att_name.clone(), att)],
                signer: Signer {
                    key: &sign_key,
                    cert: &sign_cert,
                    chain: &chain,
                },
                recipients: &to[..n],
                options: Default::default(),
                now,
            };
            let reps = if size > 1024 * 1024 {
                rounds.div_ceil(10)
            } else {
                rounds
            };
            let (wall, cpu) = (Instant::now(), cpu_seconds());
            let mut pkg = Vec::new();
            for _ in 0..reps {
                pkg = package::seal(&input)?.0;
            }
            let seal_s = wall.elapsed().as_secs_f64() / reps as f64;
            let seal_cpu_ms = (cpu_seconds() - cpu) * 1000.0 / reps as f64;
            let me = Recipient {
                key: &me_key,
                cert: &me_cert,
                code: &me_code,
            };
            let (wall, cpu) = (Instant::now(), cpu_seconds());
            for _ in 0..reps {
                std::hint::black_box(package::open(&pkg, &me, &store, &|_| vec![bound])?);
            }
            let open_s = wall.elapsed().as_secs_f64() / reps as f64;
            let open_cpu_ms = (cpu_seconds() - cpu) * 1000.0 / reps as f64;
            let mb = pkg.len() as f64 / 1e6;
            let figures = [
                1.0 / seal_s,
                mb / seal_s,
                seal_cpu_ms,
                1.0 / open_s,
                mb / open_s,
                open_cpu_ms,
            ];
            println!(
                "附件 {:>6} KB、{n:>2} 個收件者：封裝 {:.0} 件/秒 {:.1} MB/秒（CPU {:.2} 毫秒/件）；開啟 {:.0} 件/秒 {:.1} MB/秒（CPU {:.2} 毫秒/件）",
                size / 1024,
                figures[0],
                figures[1],
                figures[2],
                figures[3],
                figures[4],
                figures[5]
            );
            let names = [
                "seal_per_s",
                "seal_mb_s",
                "seal_cpu_ms",
                "open_per_s",
                "open_mb_s",
                "open_cpu_ms",
            ];
            let fields: Vec<String> = names
                .iter()
                .zip(figures)
                .map(|(k, v)| format!("\"{k}\":{v:.3}"))
                .collect();
            json.push(format!(
                "{{\"attachment_kb\":{},\"recipients\":{n},{}}}",
                size / 1024,
                fields.join(",")
            ));
        }
    }
    let rss = peak_rss_mb();
    if !sizes.is_empty() {
        println!("以上（記憶體內處理）最高記憶體用量：{rss:.1} MB");
    }
    if large_mb > 0 {
        json.push(streaming(StreamingRun {
            dir: &dir,
            large_mb,
            base: &built.base,
            di: &di,
            sw: &sw,
            att_name: &att_name,
            signer: Signer {
                key: &sign_key,
                cert: &sign_cert,
                chain: &chain,
            },
            to: &to[0],
            me: Recipient {
                key: &me_key,
                cert: &me_cert,
                code: &me_code,
            },
            store: &store,
            bound,
            now,
        })?);
    }
    println!(
        "{{\"trust\":[{}],\"peak_rss_mb\":{rss:.1}}}",
        json.join(",")
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

/// Incompressible filler, so the numbers are not flattered by repetitive data.
fn filler(buf: &mut [u8]) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
}
