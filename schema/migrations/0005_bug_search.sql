-- Hand-written (drizzle-kit does not model virtual tables or triggers).
--
-- The bug list's `q`: a trigram index over what it searches (error type and message), so a
-- substring search reads the index instead of every bug. External content: the text stays in
-- `bugs` only. case_sensitive 0 folds case (Unicode letters included); diacritics are kept.
CREATE VIRTUAL TABLE `bug_search` USING fts5(
  `error_type`, `error_message`,
  content='bugs', content_rowid='id', tokenize='trigram case_sensitive 0'
);--> statement-breakpoint
INSERT INTO `bug_search` (`bug_search`) VALUES ('rebuild');--> statement-breakpoint
-- A report that deduplicates updates counts and times only, never the searched columns, so
-- these fire when a bug is created (or, were it ever to happen, retitled or deleted), not per report.
CREATE TRIGGER `bugs_search_insert` AFTER INSERT ON `bugs`
BEGIN
  INSERT INTO `bug_search` (`rowid`, `error_type`, `error_message`)
  VALUES (NEW.`id`, NEW.`error_type`, NEW.`error_message`);
END;--> statement-breakpoint
CREATE TRIGGER `bugs_search_update` AFTER UPDATE OF `error_type`, `error_message` ON `bugs`
BEGIN
  INSERT INTO `bug_search` (`bug_search`, `rowid`, `error_type`, `error_message`)
  VALUES ('delete', OLD.`id`, OLD.`error_type`, OLD.`error_message`);
  INSERT INTO `bug_search` (`rowid`, `error_type`, `error_message`)
  VALUES (NEW.`id`, NEW.`error_type`, NEW.`error_message`);
END;--> statement-breakpoint
CREATE TRIGGER `bugs_search_delete` AFTER DELETE ON `bugs`
BEGIN
  INSERT INTO `bug_search` (`bug_search`, `rowid`, `error_type`, `error_message`)
  VALUES ('delete', OLD.`id`, OLD.`error_type`, OLD.`error_message`);
END;--> statement-breakpoint
-- Status counts per project and source (the dashboard's totals and project table) read this
-- index alone. It replaces bugs_lease, which ingestion already rewrote on every report (the
-- upsert sets status), so it adds no work per report; the lease sweep still finds its rows by
-- status.
DROP INDEX `bugs_lease`;--> statement-breakpoint
CREATE INDEX `bugs_status` ON `bugs` (`status`,`project_id`,`source`,`lease_expires_at`);--> statement-breakpoint
-- New bugs per day for a project or source read the index alone; first_seen never changes
-- after the insert, so ingestion only pays for it when it creates a bug.
DROP INDEX `bugs_first_seen`;--> statement-breakpoint
CREATE INDEX `bugs_first_seen` ON `bugs` (`first_seen`,`project_id`,`source`);--> statement-breakpoint
-- Mean time to fix: only merged bugs, set by the lifecycle, never by ingestion.
CREATE INDEX `bugs_merged_at` ON `bugs` (`merged_at`,`first_seen`,`project_id`,`source`)
WHERE `merged_at` IS NOT NULL;--> statement-breakpoint
-- Fixes and failures per day: transitions only. A new bug's first row (from_status NULL),
-- written by ingestion, is not in it.
CREATE INDEX `status_history_transitions` ON `status_history` (`at`,`to_status`,`bug_id`)
WHERE `from_status` IS NOT NULL;
