ALTER TABLE `projects` ADD `review_settings` text;--> statement-breakpoint
CREATE TABLE `bug_activity` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`bug_id` integer NOT NULL,
	`kind` text NOT NULL,
	`actor` text NOT NULL,
	`body` text,
	`data` text DEFAULT '{}' NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `bug_activity_bug` ON `bug_activity` (`bug_id`,`id`);
