-- Hand-written (drizzle-kit does not model triggers).
--
-- The bug list keeps its totals between requests (services/bugs.ts, Kept) while
-- bug_list_version.version and the search index's mark stay the same. These triggers move the
-- version inside any write that could change a kept total other than by adding bugs: a bug
-- deleted, or a change to a field a filter or `q` reads. Added bugs are counted on top of a
-- kept total by id (ids only grow; a deleted bug moves the version). A report that only
-- deduplicates (its count, last seen, version, commit) leaves everything kept as it is.
CREATE TABLE `bug_list_version` (
  `id` integer PRIMARY KEY NOT NULL CHECK (`id` = 1),
  `version` integer NOT NULL
);--> statement-breakpoint
INSERT INTO `bug_list_version` (`id`, `version`) VALUES (1, 0);--> statement-breakpoint
CREATE TRIGGER `bugs_list_version_update`
AFTER UPDATE OF `id`, `project_id`, `status`, `source`, `level`, `environment`, `error_type`, `error_message` ON `bugs`
WHEN OLD.`id` IS NOT NEW.`id` OR OLD.`project_id` IS NOT NEW.`project_id` OR OLD.`status` IS NOT NEW.`status`
  OR OLD.`source` IS NOT NEW.`source` OR OLD.`level` IS NOT NEW.`level`
  OR OLD.`environment` IS NOT NEW.`environment` OR OLD.`error_type` IS NOT NEW.`error_type`
  OR OLD.`error_message` IS NOT NEW.`error_message`
BEGIN
  UPDATE `bug_list_version` SET `version` = `version` + 1;
END;--> statement-breakpoint
CREATE TRIGGER `bugs_list_version_delete` AFTER DELETE ON `bugs`
BEGIN
  UPDATE `bug_list_version` SET `version` = `version` + 1;
END;
