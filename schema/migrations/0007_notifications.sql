CREATE TABLE `notifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`bug_id` integer NOT NULL,
	`project_id` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`created_at` text NOT NULL,
	`read_at` text
);
--> statement-breakpoint
CREATE INDEX `notifications_read` ON `notifications` (`read_at`,`id`);--> statement-breakpoint
CREATE INDEX `notifications_created` ON `notifications` (`created_at`);--> statement-breakpoint
-- Hand-written: every row queued in the alert outbox gets its message-centre row in the same
-- statement, whichever writer queued it (the ingest batch's raw INSERT … SELECT, status
-- changes, the sweep's reminders), and whatever targets the project has. The text is a
-- snapshot of the bug at that moment; the titles match the alert messages' (render/text.ts).
CREATE TRIGGER `alert_outbox_notify` AFTER INSERT ON `alert_outbox`
FOR EACH ROW
BEGIN
  INSERT INTO `notifications` (`kind`, `bug_id`, `project_id`, `title`, `body`, `created_at`)
  SELECT NEW.`kind`, NEW.`bug_id`, NEW.`project_id`,
    CASE NEW.`kind`
      WHEN 'new_bug' THEN 'New bug'
      WHEN 'regression' THEN 'Regression'
      WHEN 'failed' THEN 'Fix failed'
      WHEN 'pr_opened' THEN 'Fix ready for review'
      WHEN 'merged' THEN 'Fix merged'
      WHEN 'reminder' THEN 'Still waiting for review'
      WHEN 'recurring' THEN 'Still occurring'
      ELSE NEW.`kind`
    END || ' #' || `b`.`id` || ': ' || substr(`b`.`error_type`, 1, 200),
    substr(
      CASE WHEN NEW.`kind` = 'failed' THEN coalesce((
        SELECT `h`.`note` || char(10) FROM `status_history` `h`
        WHERE `h`.`bug_id` = `b`.`id` AND `h`.`to_status` = 'FAILED' AND `h`.`note` IS NOT NULL
        ORDER BY `h`.`id` DESC LIMIT 1), '') ELSE '' END || `b`.`error_message`,
      1, 1000),
    NEW.`created_at`
  FROM `bugs` `b` WHERE `b`.`id` = NEW.`bug_id`;
END;
