-- A recipient's copies were indexed by (recipient, status, available_at): every 送達 and every
-- 收文確認 moved the copy's entry to another part of the index, two page writes per receipt.
-- Now the status is no key: one index of every copy by recipient (inbox history, records), and
-- a partial one of the copies still open (available or delivered: the inbox, the receiver's
-- duty list, the metrics), from which only the copy's end (confirmed, returned, failed) removes
-- it. A query reaches the partial index by repeating its condition word for word.
DROP INDEX IF EXISTS copies_inbox;
CREATE INDEX IF NOT EXISTS copies_recipient ON copies (recipient, available_at, package_id, unit);
CREATE INDEX IF NOT EXISTS copies_open ON copies (recipient, available_at, package_id, unit)
    WHERE status IN ('available', 'delivered');
