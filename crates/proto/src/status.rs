//! The life of one copy (one package to one recipient), designed once here.
//!
//! ```text
//! accepted ──▶ relayed ──▶ available ──▶ delivered (送達) ──▶ confirmed (收文確認)
//!    │            │            │              └────────────▶ returned (退文, coded reason)
//!    └────────────┴────────────┴──▶ failed (coded reason)
//! ```
//!
//! `accepted`: the home center has the package durably. `relayed`: handed to the recipient's
//! center. `available`: the recipient can list and fetch it. `delivered`: the recipient's
//! signed 送達 receipt, the legal time of receipt. `confirmed`, `returned` and `failed` are final.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CopyStatus {
    Accepted,
    Relayed,
    Available,
    Delivered,
    Confirmed,
    Returned,
    Failed,
}

words!(CopyStatus, parse words_or_labels {
    Accepted => "accepted", "已收件";
    Relayed => "relayed", "已轉送";
    Available => "available", "待收文";
    Delivered => "delivered", "已送達";
    Confirmed => "confirmed", "已收文確認";
    Returned => "returned", "已退文";
    Failed => "failed", "傳送失敗";
});

impl CopyStatus {
    /// Confirmed, returned and failed copies never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CopyStatus::Confirmed | CopyStatus::Returned | CopyStatus::Failed
        )
    }

    /// Can a copy at `self` come to be at `later`, in one move or several? Statuses from
    /// another center may skip steps (a relayed copy reported confirmed), arrive twice or out of
    /// order; only a status `self` reaches moves a copy on.
    pub fn reaches(self, later: CopyStatus) -> bool {
        let mut frontier = vec![self];
        let mut seen = Vec::new();
        while let Some(s) = frontier.pop() {
            for n in CopyStatus::ALL {
                if s.can_move_to(n) && !seen.contains(&n) {
                    if n == later {
                        return true;
                    }
                    seen.push(n);
                    frontier.push(n);
                }
            }
        }
        false
    }

    /// The allowed moves; everything else is refused.
    pub fn can_move_to(self, next: CopyStatus) -> bool {
        use CopyStatus::*;
        matches!(
            (self, next),
            (Accepted, Relayed | Available | Failed)
                | (Relayed, Available | Failed)
                | (Available, Delivered | Failed)
                | (Delivered, Confirmed | Returned)
        )
    }
}

/// Why a copy failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    UnknownRecipient,
    RecipientSuspended,
    RelayGaveUp,
    RefusedByCenter,
}

words!(FailReason, parse words {
    UnknownRecipient => "unknown_recipient", "收文者不在通訊錄中";
    RecipientSuspended => "recipient_suspended", "收文者已停用";
    RelayGaveUp => "relay_gave_up", "轉送至收文者的交換中心逾時未成功";
    RefusedByCenter => "refused_by_center", "收文者的交換中心拒收";
});

labelled! {
    /// 退文原因: the closed list a recipient chooses from, plus free text.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
    pub enum ReturnReason ("退文原因") {
        NotOurs => "非本機關權責",
        Misdelivered => "誤送",
        Incomplete => "附件不全",
        Unreadable => "無法開啟或亂碼",
        Malware => "含惡意程式",
        FormatError => "格式錯誤",
        Duplicate => "重複發送",
        Other => "其他",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_never_move() {
        for s in CopyStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for n in CopyStatus::ALL {
                assert!(!s.can_move_to(n), "{s:?} → {n:?}");
            }
        }
    }

    #[test]
    fn every_state_but_final_has_a_way_out_and_no_state_returns() {
        for s in CopyStatus::ALL {
            assert!(!s.can_move_to(s));
            if !s.is_final() {
                assert!(CopyStatus::ALL.iter().any(|n| s.can_move_to(*n)));
            }
        }
        assert!(!CopyStatus::Available.can_move_to(CopyStatus::Confirmed));
        assert!(!CopyStatus::Delivered.can_move_to(CopyStatus::Available));
    }

    #[test]
    fn reaching_follows_the_moves() {
        use CopyStatus::*;
        for s in CopyStatus::ALL {
            assert!(!s.reaches(s), "{s:?}");
            for n in CopyStatus::ALL {
                if s.can_move_to(n) {
                    assert!(s.reaches(n));
                }
                if s.is_final() {
                    assert!(!s.reaches(n));
                }
            }
        }
        assert!(Accepted.reaches(Confirmed));
        assert!(Relayed.reaches(Returned));
        assert!(Available.reaches(Confirmed));
        assert!(Delivered.reaches(Confirmed));
        assert!(!Delivered.reaches(Failed));
        assert!(!Available.reaches(Relayed));
        assert!(!Confirmed.reaches(Returned));
    }

    #[test]
    fn names_round_trip() {
        for s in CopyStatus::ALL {
            assert_eq!(CopyStatus::parse(s.as_str()), Some(s));
            assert_eq!(CopyStatus::parse(s.label()), Some(s));
        }
        for r in ReturnReason::ALL {
            assert_eq!(ReturnReason::parse(r.label()), Ok(r));
        }
        assert!(
            ReturnReason::parse("不想收")
                .unwrap_err()
                .contains("含惡意程式")
        );
        for r in FailReason::ALL {
            assert_eq!(FailReason::parse(r.as_str()), Some(r));
        }
    }
}
