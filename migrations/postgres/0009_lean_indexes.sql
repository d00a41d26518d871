-- Two indexes no query reads: records are found by id, time, package and participant (the
-- latter through packages_sender), never by (actor, at); packages never by document number.
-- Each cost a page write for every event or package (gongwen bench center).
DROP INDEX IF EXISTS events_actor;
DROP INDEX IF EXISTS packages_doc_number;
