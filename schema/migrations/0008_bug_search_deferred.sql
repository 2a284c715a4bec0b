-- Hand-written (drizzle-kit does not model virtual tables or triggers).
--
-- New bugs are indexed for `q` after their write instead of inside it: FTS5 writes a segment
-- per transaction, so indexing in the trigger cost every ingest batch that created a bug
-- (insert-only ingest fell by a third). bug_search_state.indexed_through is the highest bug
-- id in bug_search; bugs above it are found by LIKE until services/search-index.ts indexes
-- them (shortly after the report on Node, after the response on the Worker, and in every
-- sweep). Bug ids only grow (no AUTOINCREMENT, but bugs are never deleted and SQLite writes
-- one transaction at a time), so "above the mark" is exactly "not yet indexed".
CREATE TABLE `bug_search_state` (
  `id` integer PRIMARY KEY NOT NULL CHECK (`id` = 1),
  `indexed_through` integer NOT NULL
);--> statement-breakpoint
-- Until now the insert trigger indexed every bug.
INSERT INTO `bug_search_state` (`id`, `indexed_through`) SELECT 1, coalesce(max(`id`), 0) FROM `bugs`;--> statement-breakpoint
DROP TRIGGER `bugs_search_insert`;--> statement-breakpoint
-- A bug not indexed yet has no row to delete: its current text is what the indexer will take.
DROP TRIGGER `bugs_search_update`;--> statement-breakpoint
CREATE TRIGGER `bugs_search_update` AFTER UPDATE OF `error_type`, `error_message` ON `bugs`
WHEN OLD.`id` <= (SELECT `indexed_through` FROM `bug_search_state`)
BEGIN
  INSERT INTO `bug_search` (`bug_search`, `rowid`, `error_type`, `error_message`)
  VALUES ('delete', OLD.`id`, OLD.`error_type`, OLD.`error_message`);
  INSERT INTO `bug_search` (`rowid`, `error_type`, `error_message`)
  VALUES (NEW.`id`, NEW.`error_type`, NEW.`error_message`);
END;--> statement-breakpoint
DROP TRIGGER `bugs_search_delete`;--> statement-breakpoint
CREATE TRIGGER `bugs_search_delete` AFTER DELETE ON `bugs`
WHEN OLD.`id` <= (SELECT `indexed_through` FROM `bug_search_state`)
BEGIN
  INSERT INTO `bug_search` (`bug_search`, `rowid`, `error_type`, `error_message`)
  VALUES ('delete', OLD.`id`, OLD.`error_type`, OLD.`error_message`);
END;
