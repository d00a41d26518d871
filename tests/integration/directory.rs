//! The directory's tamper-evident log, on the test database's engine: concurrent appends make
//! one unbroken chain; a changed, removed or cut-off entry is found and named.

use gongwen_directory::audit::{self, GENESIS, NewEntry};
use gongwen_integration::fresh_database;
use gongwen_store::Db;

fn entry(i: usize) -> NewEntry {
    NewEntry {
        at: 1_767_580_200_000 + i as i64,
        actor: "審核機關:379000000A".into(),
        action: "participant.updated".into(),
        subject: format!("XA{:08}", i),
        detail: format!(
            "{{\"ip\":\"10.1.2.{}\",\"name\":\"臺北市某協會\"}}",
            i % 250
        ),
    }
}

/// Appends `entry(i)` in a transaction of its own.
async fn append(db: Db, i: usize) {
    let mut tx = db.begin().await.unwrap();
    audit::append(&mut tx, entry(i)).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_chain_shows_where_it_was_changed() {
    let db = Db::connect(&fresh_database("directory_log").await)
        .await
        .unwrap();
    let empty = audit::verify(&db, None).await.unwrap();
    assert_eq!((empty.entries, empty.head, empty.broken), (0, None, None));

    // Appends from many tasks at once still number 1..=40 with each hash chained.
    let tasks = (0..40).map(|i| tokio::spawn(append(db.clone(), i)));
    for t in tasks.collect::<Vec<_>>() {
        t.await.unwrap();
    }
    // One rolled back: nothing of it stays, and the numbering has no gap.
    let mut tx = db.begin().await.unwrap();
    audit::append(&mut tx, entry(99)).await.unwrap();
    drop(tx);
    let r = audit::verify(&db, None).await.unwrap();
    assert_eq!(r.entries, 40);
    assert_eq!(r.first, Some(1));
    assert_eq!(r.broken, None, "{r:?}");
    let (head_seq, head_hash) = r.head.clone().unwrap();
    assert_eq!(head_seq, 40);
    let first = db
        .fetch_optional("SELECT prev FROM directory_log WHERE seq = 1", &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.text(0).unwrap(), GENESIS);
    assert_eq!(
        audit::verify(&db, Some((40, &head_hash)))
            .await
            .unwrap()
            .broken,
        None
    );

    // An entry's detail changed behind the log's back.
    db.execute(
        "UPDATE directory_log SET detail = '{\"ip\":\"10.9.9.9\"}' WHERE seq = 17",
        &[],
    )
    .await
    .unwrap();
    let b = audit::verify(&db, None).await.unwrap().broken.unwrap();
    assert_eq!(b.seq, 17);
    assert!(b.reason.contains("遭修改"), "{b:?}");

    // Rewriting its hash too moves the break to the next entry, which names the old one.
    let row = db
        .fetch_optional(
            "SELECT seq, at, actor, action, subject, detail, prev FROM directory_log WHERE seq = 17",
            &[],
        )
        .await
        .unwrap()
        .unwrap();
    let forged = audit::entry_hash(
        17,
        &row.text(6).unwrap(),
        &NewEntry {
            at: row.i64(1).unwrap(),
            actor: row.text(2).unwrap(),
            action: row.text(3).unwrap(),
            subject: row.text(4).unwrap(),
            detail: row.text(5).unwrap(),
        },
    );
    db.execute(
        "UPDATE directory_log SET hash = $1 WHERE seq = 17",
        &[forged.as_str().into()],
    )
    .await
    .unwrap();
    let b = audit::verify(&db, None).await.unwrap().broken.unwrap();
    assert_eq!(b.seq, 18);
    assert!(b.reason.contains("第 17 筆"), "{b:?}");

    // A removed entry is a gap.
    db.execute("DELETE FROM directory_log WHERE seq = 30", &[])
        .await
        .unwrap();
    let r = audit::verify(&db, None).await.unwrap();
    assert_eq!(r.entries, 39);
    assert_eq!(r.broken.unwrap().seq, 18, "the first break is reported");

    // The newest entries cut off: only the anchor can tell.
    db.execute("DELETE FROM directory_log WHERE seq >= 38", &[])
        .await
        .unwrap();
    let r = audit::verify(&db, Some((head_seq, &head_hash)))
        .await
        .unwrap();
    assert_eq!(r.head.unwrap().0, 37);
    let cut = audit::verify(&db, Some((head_seq, &head_hash)))
        .await
        .unwrap();
    assert_eq!(cut.broken.unwrap().seq, 18);
    db.execute("DELETE FROM directory_log WHERE seq <= 30", &[])
        .await
        .unwrap();
    let r = audit::verify(&db, Some((head_seq, &head_hash)))
        .await
        .unwrap();
    assert_eq!(r.first, Some(31));
    let b = r.broken.unwrap();
    assert_eq!(b.seq, 40);
    assert!(b.reason.contains("錨點"), "{b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purging_old_entries_keeps_what_remains_verifiable() {
    let db = Db::connect(&fresh_database("directory_log_purge").await)
        .await
        .unwrap();
    for i in 0..10 {
        append(db.clone(), i).await;
    }
    let head = audit::verify(&db, None).await.unwrap().head.unwrap();
    // Entries 1..=6 are older than the cut-off; the newest is never purged.
    assert_eq!(audit::purge(&db, 1_767_580_200_000 + 6).await.unwrap(), 6);
    assert_eq!(audit::purge(&db, i64::MAX).await.unwrap(), 3);
    let r = audit::verify(&db, Some((head.0, &head.1))).await.unwrap();
    assert_eq!((r.entries, r.first, r.broken), (1, Some(10), None));
}
