-- The office's statistics rollup: one row per closed case (its last 決行 or 發文, now 待歸檔 or
-- 已歸檔), computed when the case closes, reopens or is filed, so that a month of the 時效統計
-- and of 各階段處理時間 is a sum over rows, not a walk over every step.
CREATE TABLE office_closed (
    case_id TEXT PRIMARY KEY REFERENCES office_cases(id),
    -- The closing step's time (Unix ms) and its Taipei month (YYYY-MM).
    closed_at BIGINT NOT NULL,
    month TEXT NOT NULL,
    unit TEXT,
    -- fastest, fast, ordinary, fixed or project (timeliness::Speed).
    speed TEXT NOT NULL,
    -- on_time, late, or no_due (its deadline's year had no calendar).
    verdict TEXT NOT NULL,
    -- Working days in halves (a same-day case 1): the 時效統計's.
    half_days BIGINT NOT NULL,
    -- Calendar days in halves (a same-day case 1): the indicators' 平均處理天數.
    day_halves BIGINT NOT NULL,
    -- 1 when signed off online (no exclusion), and 1 when it was consulted (會辦).
    online BIGINT NOT NULL,
    consulted BIGINT NOT NULL,
    -- Each stage (stages::Stage): working days and milliseconds; NULL when not gone through.
    assign_days BIGINT, assign_ms BIGINT,
    distribute_days BIGINT, distribute_ms BIGINT,
    draft_days BIGINT, draft_ms BIGINT,
    consult_days BIGINT, consult_ms BIGINT,
    review_days BIGINT, review_ms BIGINT,
    dispatch_days BIGINT, dispatch_ms BIGINT,
    file_days BIGINT, file_ms BIGINT
);
CREATE INDEX office_closed_time ON office_closed (closed_at);
CREATE INDEX office_closed_verdict ON office_closed (verdict);
