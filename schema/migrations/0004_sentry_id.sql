ALTER TABLE `projects` ADD `sentry_id` integer;--> statement-breakpoint
-- Hand-written below drizzle-kit's output: existing projects are numbered in creation order.
UPDATE `projects` SET `sentry_id` = `numbered`.`n`
FROM (SELECT `id`, row_number() OVER (ORDER BY `created_at`, `id`) AS `n` FROM `projects`) AS `numbered`
WHERE `numbered`.`id` = `projects`.`id`;--> statement-breakpoint
CREATE UNIQUE INDEX `projects_sentry_id_unique` ON `projects` (`sentry_id`);--> statement-breakpoint
-- Every insert site (the ingest batch's raw UPSERT, upsertProject, tests) gets a number without
-- naming the column. Writers are serialised by SQLite, so max + 1 cannot be taken twice; the
-- unique index would refuse it if it were. An upsert that updates an existing row inserts
-- nothing and fires nothing.
CREATE TRIGGER `projects_sentry_id_assign` AFTER INSERT ON `projects`
FOR EACH ROW WHEN NEW.`sentry_id` IS NULL
BEGIN
  UPDATE `projects` SET `sentry_id` = (SELECT coalesce(max(`sentry_id`), 0) + 1 FROM `projects`)
  WHERE `id` = NEW.`id`;
END;--> statement-breakpoint
-- A DSN in a deployed app points at this number: it never changes once set.
CREATE TRIGGER `projects_sentry_id_stable` BEFORE UPDATE OF `sentry_id` ON `projects`
FOR EACH ROW WHEN OLD.`sentry_id` IS NOT NULL AND NEW.`sentry_id` IS NOT OLD.`sentry_id`
BEGIN
  SELECT RAISE(ABORT, 'projects.sentry_id is stable once assigned');
END;
